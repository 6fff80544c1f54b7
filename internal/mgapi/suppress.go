package mgapi

import "time"

// Suppression list items (docs/mailgun-contract.md §4). A bounce's code is a string
// (mailgun-go fails on a number); the allowlist writes createdAt in camel
// case.
type (
	Bounce struct {
		Address   string `json:"address"`
		Code      string `json:"code"`
		Error     string `json:"error"`
		CreatedAt Time   `json:"created_at"`
	}
	Unsubscribe struct {
		Address   string   `json:"address"`
		Tags      []string `json:"tags"`
		CreatedAt Time     `json:"created_at"`
	}
	Complaint struct {
		Address   string `json:"address"`
		Count     int    `json:"count"`
		CreatedAt Time   `json:"created_at"`
	}
	AllowEntry struct {
		Value     string `json:"value"`
		Reason    string `json:"reason"`
		Type      string `json:"type"`
		CreatedAt Time   `json:"createdAt"`
	}
)

// ListPage is a page of a suppression list or of tags: items and absolute
// links with page= and a pivot.
type ListPage struct {
	Items  any    `json:"items"`
	Paging Paging `json:"paging"`
}

// AddressMessage is the reply of writes about one address.
type AddressMessage struct {
	Message string `json:"message"`
	Address string `json:"address"`
}

// ValueMessage is the reply of allowlist writes.
type ValueMessage struct {
	Message string `json:"message"`
	Type    string `json:"type,omitempty"`
	Value   string `json:"value"`
}

// ImportAccepted is the reply of a CSV upload; id and status_url go beyond
// Mailgun, for following the import.
type ImportAccepted struct {
	Message   string `json:"message"`
	ID        string `json:"id"`
	StatusURL string `json:"status_url"`
}

// Tag is a tag (docs/mailgun-contract.md §10.1); first-seen and last-seen are RFC 3339, as
// mailgun-go's *time.Time needs.
type Tag struct {
	Tag         string     `json:"tag"`
	Description string     `json:"description"`
	FirstSeen   *time.Time `json:"first-seen,omitempty"`
	LastSeen    *time.Time `json:"last-seen,omitempty"`
}

// TagLimits is GET /v3/domains/{d}/limits/tag.
type TagLimits struct {
	ID    string `json:"id"`
	Limit int    `json:"limit"`
	Count int    `json:"count"`
}
