package mgapi

// Template is a stored template (docs/mailgun-contract.md §13.2); dates are camelCase
// createdAt in RFC 2822. Version is the active (or just written) version.
type Template struct {
	Name        string           `json:"name"`
	Description string           `json:"description"`
	CreatedAt   Time             `json:"createdAt"`
	CreatedBy   string           `json:"createdBy"`
	ID          string           `json:"id"`
	Version     *TemplateVersion `json:"version,omitempty"`
}

// TemplateVersion is one version; Template is its content.
type TemplateVersion struct {
	Tag       string            `json:"tag"`
	Template  string            `json:"template,omitempty"`
	Engine    string            `json:"engine"`
	CreatedAt Time              `json:"createdAt"`
	Comment   string            `json:"comment"`
	Active    bool              `json:"active"`
	ID        string            `json:"id"`
	Headers   map[string]string `json:"headers,omitempty"`
}

// TemplateResponse is the envelope of template writes and reads.
type TemplateResponse struct {
	Message  string   `json:"message,omitempty"`
	Template Template `json:"template"`
}

// TemplateList is GET /v3/{d}/templates.
type TemplateList struct {
	Items  []Template `json:"items"`
	Paging Paging     `json:"paging"`
}

// TemplateWithVersions is the template of a versions listing.
type TemplateWithVersions struct {
	Template
	Versions []TemplateVersion `json:"versions"`
}

// TemplateVersionList is GET /v3/{d}/templates/{name}/versions.
type TemplateVersionList struct {
	Template TemplateWithVersions `json:"template"`
	Paging   Paging               `json:"paging"`
}

// TemplateVersionCopied is PUT …/versions/{tag}/copy/{new}.
type TemplateVersionCopied struct {
	Message  string          `json:"message"`
	Version  TemplateVersion `json:"version"`
	Template Template        `json:"template"`
}
