package mgapi

// Validation is the answer of GET/POST /v4/address/validate
// (docs/mailgun-contract.md §13.3; mailgun-go's mtypes.ValidateEmailResponse). did_you_mean and
// root_address are left out when there is nothing to say; engagement is
// never given (Salvo has no engagement data).
type Validation struct {
	Address             string   `json:"address"`
	DidYouMean          string   `json:"did_you_mean,omitempty"`
	IsDisposableAddress bool     `json:"is_disposable_address"`
	IsRoleAddress       bool     `json:"is_role_address"`
	Reason              []string `json:"reason"`
	Result              string   `json:"result"`
	Risk                string   `json:"risk"`
}

// ValidationV3 is the legacy GET /v3/address/validate answer (mailgun-go
// v3 EmailVerification): one reason string, is_valid for the syntax, and
// mailbox_verification, which is always "unknown" here (no SMTP probing).
type ValidationV3 struct {
	Address             string      `json:"address"`
	DidYouMean          string      `json:"did_you_mean,omitempty"`
	IsDisposableAddress bool        `json:"is_disposable_address"`
	IsRoleAddress       bool        `json:"is_role_address"`
	IsValid             bool        `json:"is_valid"`
	MailboxVerification string      `json:"mailbox_verification"`
	Parts               AddressPart `json:"parts"`
	Reason              string      `json:"reason"`
}

// AddressPart is the v3 answer's split of the address.
type AddressPart struct {
	DisplayName string `json:"display_name"`
	Domain      string `json:"domain"`
	LocalPart   string `json:"local_part"`
}
