package mgapi

// WebhookURLs is one webhook kind's URLs (docs/mailgun-contract.md §8.2). Both SDKs also accept a
// legacy single "url"; Salvo always answers with the list.
type WebhookURLs struct {
	URLs []string `json:"urls"`
}

// WebhookList is GET /v3/domains/{d}/webhooks and every /v4 answer: the
// domain's webhooks by kind.
type WebhookList struct {
	Webhooks map[string]WebhookURLs `json:"webhooks"`
}

// WebhookOne is GET/POST/PUT/DELETE /v3/domains/{d}/webhooks[/{name}].
type WebhookOne struct {
	Message string      `json:"message,omitempty"`
	Webhook WebhookURLs `json:"webhook"`
}

// WebhookAttempts is GET /v3/domains/{d}/webhooks/{name}/attempts and GET
// /v4/domains/{d}/webhooks/attempts (beyond Mailgun): how each URL's
// deliveries are going.
type WebhookAttempts struct {
	URLs []WebhookURLState `json:"urls"`
}

// WebhookURLState is one URL's pipeline. Dates are RFC 2822; absent until
// something happened.
type WebhookURLState struct {
	URL        string   `json:"url"`
	EventTypes []string `json:"event_types"`
	// Posted counts POSTs answered 2xx, Failures other attempts, Dropped
	// events given up (406, delivered events, or past the 8 hours).
	Posted        int64  `json:"posted"`
	Failures      int64  `json:"failures"`
	Dropped       int64  `json:"dropped"`
	LastAttemptAt *Time  `json:"last_attempt_at,omitempty"`
	LastStatus    int    `json:"last_status"`
	LastError     string `json:"last_error"`
	// Retrying lists the events waiting for another POST, the 100 due
	// first.
	Retrying []WebhookRetry `json:"retrying"`
}

// WebhookRetry is an event waiting for another POST.
type WebhookRetry struct {
	EventID        string `json:"event_id"`
	EventType      string `json:"event_type"` // the webhook kind: permanent_fail, …
	Attempts       int    `json:"attempts"`
	FirstAttemptAt Time   `json:"first_attempt_at"`
	LastAttemptAt  *Time  `json:"last_attempt_at,omitempty"`
	LastStatus     int    `json:"last_status"`
	LastError      string `json:"last_error"`
	NextAttemptAt  Time   `json:"next_attempt_at"`
}

// WebhookTest is PUT /v3/domains/{d}/webhooks/{name}/test: what the URL
// answered the sample event (code 0: no answer; message says why).
type WebhookTest struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}
