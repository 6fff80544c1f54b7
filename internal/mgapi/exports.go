package mgapi

// Export is one export of GET /v3/exports and GET /v3/exports/{id}
// (mailgun-go's Export): status is queued, processing, complete or failed.
type Export struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	URL    string `json:"url"`
}

// ExportList is GET /v3/exports.
type ExportList struct {
	Items []Export `json:"items"`
}

// ExportCreated is the answer of POST /v3/exports: Mailgun's message and,
// beyond it, the export (mailgun-go reads neither).
type ExportCreated struct {
	Message string `json:"message"`
	Export
}
