package mgapi

// Key is an item of GET /v1/keys (docs/mailgun-contract.md §1.3). Dates are ISO-8601
// without a zone; domain_name is null for keys that are not domain keys.
type Key struct {
	ID             string   `json:"id"`
	Description    string   `json:"description"`
	Kind           string   `json:"kind"`
	Role           string   `json:"role"`
	CreatedAt      ISOTime  `json:"created_at"`
	UpdatedAt      ISOTime  `json:"updated_at"`
	ExpiresAt      *ISOTime `json:"expires_at,omitempty"`
	IsDisabled     bool     `json:"is_disabled"`
	DisabledReason string   `json:"disabled_reason,omitempty"`
	DomainName     *string  `json:"domain_name"`
	Requestor      string   `json:"requestor"`
	UserName       string   `json:"user_name"`
	// Secret is present only in the response that created the key.
	Secret string `json:"secret,omitempty"`
}

// KeyList is GET /v1/keys.
type KeyList struct {
	TotalCount int   `json:"total_count"`
	Items      []Key `json:"items"`
}

// KeyCreated is POST /v1/keys.
type KeyCreated struct {
	Message string `json:"message"`
	Key     Key    `json:"key"`
}

// Domain is the domain object (union of the v3 and v4 shapes, docs/mailgun-contract.md §11.1).
type Domain struct {
	ID                         string `json:"id"`
	Name                       string `json:"name"`
	State                      string `json:"state"`
	Type                       string `json:"type"`
	CreatedAt                  Time   `json:"created_at"`
	SMTPLogin                  string `json:"smtp_login"`
	SpamAction                 string `json:"spam_action"`
	Wildcard                   bool   `json:"wildcard"`
	RequireTLS                 bool   `json:"require_tls"`
	SkipVerification           bool   `json:"skip_verification"`
	IsDisabled                 bool   `json:"is_disabled"`
	WebPrefix                  string `json:"web_prefix"`
	WebScheme                  string `json:"web_scheme"`
	TrackingHost               string `json:"tracking_host"`
	DKIMHost                   string `json:"dkim_host"`
	MailFromHost               string `json:"mailfrom_host"`
	UseAutomaticSenderSecurity bool   `json:"use_automatic_sender_security"`
	EncryptIncomingMessage     bool   `json:"encrypt_incoming_message"`
	MessageTTL                 int    `json:"message_ttl"`
	ArchiveTo                  string `json:"archive_to,omitempty"`
	Region                     string `json:"region"`
}

// DNSRecord is a record of sending_dns_records / receiving_dns_records.
// priority is a string (mailgun-go fails on a number) and only on MX.
type DNSRecord struct {
	RecordType string   `json:"record_type"`
	Name       string   `json:"name"`
	Value      string   `json:"value"`
	Priority   string   `json:"priority,omitempty"`
	Valid      string   `json:"valid"`
	Cached     []string `json:"cached"`
	IsActive   bool     `json:"is_active"`
}

// DomainResponse is GET/POST/PUT of one domain.
type DomainResponse struct {
	Message   string      `json:"message,omitempty"`
	Domain    Domain      `json:"domain"`
	Receiving []DNSRecord `json:"receiving_dns_records"`
	Sending   []DNSRecord `json:"sending_dns_records"`
}

// DomainList is GET /v3|v4/domains.
type DomainList struct {
	TotalCount int      `json:"total_count"`
	Items      []Domain `json:"items"`
}

// Connection is GET /v3/domains/{d}/connection.
type Connection struct {
	Connection ConnectionSettings `json:"connection"`
}

// ConnectionSettings are a domain's delivery TLS settings.
type ConnectionSettings struct {
	RequireTLS       bool `json:"require_tls"`
	SkipVerification bool `json:"skip_verification"`
}

// ConnectionUpdated is PUT /v3/domains/{d}/connection (hyphenated echo keys).
type ConnectionUpdated struct {
	Message          string `json:"message"`
	RequireTLS       bool   `json:"require-tls"`
	SkipVerification bool   `json:"skip-verification"`
}

// Message is the `{"message": "..."}` body of most successful writes.
type Message struct {
	Message string `json:"message"`
}
