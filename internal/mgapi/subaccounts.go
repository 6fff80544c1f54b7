package mgapi

// Subaccount is one subaccount (docs/mailgun-contract.md §13.4): mailgun-go decodes id,
// name and status; mailgun.js also reads the dates.
type Subaccount struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Status    string `json:"status"`
	CreatedAt Time   `json:"created_at"`
	UpdatedAt Time   `json:"updated_at"`
}

// SubaccountEnvelope is the answer of create, get, enable and disable.
type SubaccountEnvelope struct {
	Subaccount Subaccount `json:"subaccount"`
}

// SubaccountList is GET /v5/accounts/subaccounts.
type SubaccountList struct {
	Subaccounts []Subaccount `json:"subaccounts"`
	Total       int          `json:"total"`
}
