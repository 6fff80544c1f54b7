package mgapi

// Credential is one SMTP credential in GET /v3/domains/{d}/credentials
// (docs/mailgun-contract.md §12.1). size_bytes is always null (no mailboxes here).
type Credential struct {
	Login     string `json:"login"`
	Mailbox   string `json:"mailbox"`
	CreatedAt Time   `json:"created_at"`
	SizeBytes *int   `json:"size_bytes"`
}

// CredentialsPage is GET /v3/domains/{d}/credentials.
type CredentialsPage struct {
	TotalCount int          `json:"total_count"`
	Items      []Credential `json:"items"`
}

// CredentialsCreated is POST /v3/domains/{d}/credentials. When passwords
// were generated they are returned once, by login, with a note.
type CredentialsCreated struct {
	Message     string            `json:"message"`
	Note        string            `json:"note,omitempty"`
	Credentials map[string]string `json:"credentials,omitempty"`
}

// CredentialDeleted is DELETE /v3/domains/{d}/credentials/{login}.
type CredentialDeleted struct {
	Message string `json:"message"`
	Spec    string `json:"spec"`
}

// CredentialsDeleted is DELETE /v3/domains/{d}/credentials.
type CredentialsDeleted struct {
	Message string `json:"message"`
	Count   int    `json:"count"`
}

// Route is a route object (docs/mailgun-contract.md §6.1); priority is a number, as
// mailgun-go decodes it.
type Route struct {
	ID          string   `json:"id"`
	Priority    int      `json:"priority"`
	Description string   `json:"description"`
	Expression  string   `json:"expression"`
	Actions     []string `json:"actions"`
	CreatedAt   Time     `json:"created_at"`
}

// RoutesPage is GET /v3/routes.
type RoutesPage struct {
	TotalCount int     `json:"total_count"`
	Items      []Route `json:"items"`
}

// RouteEnvelope is GET /v3/routes/{id}, GET /v3/routes/match and POST
// /v3/routes ({"message", "route"}).
type RouteEnvelope struct {
	Message string `json:"message,omitempty"`
	Route   Route  `json:"route"`
}

// RouteUpdated is PUT /v3/routes/{id}: mailgun-go decodes the route from
// the top level while Mailgun's OpenAPI shows {"message", "route"}; both
// are given.
type RouteUpdated struct {
	Route
	Message string `json:"message"`
	Inner   Route  `json:"route"`
}

// RouteDeleted is DELETE /v3/routes/{id}.
type RouteDeleted struct {
	Message string `json:"message"`
	ID      string `json:"id"`
}
