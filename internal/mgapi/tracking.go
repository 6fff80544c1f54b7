package mgapi

// Tracking is GET /v3/domains/{d}/tracking (docs/mailgun-contract.md §9). Active is always
// a JSON boolean: mailgun-go's TrackingStatus.Active is a bool, so click
// tracking in "htmlonly" mode is reported as true (and as htmlonly in
// HTMLOnly, which the SDKs ignore).
type Tracking struct {
	Tracking TrackingSettings `json:"tracking"`
}

// TrackingSettings are a domain's tracking settings.
type TrackingSettings struct {
	Open        OpenTracking        `json:"open"`
	Click       ClickTracking       `json:"click"`
	Unsubscribe UnsubscribeTracking `json:"unsubscribe"`
	WebScheme   string              `json:"web_scheme"`
}

// OpenTracking is the open part of TrackingSettings.
type OpenTracking struct {
	Active        bool `json:"active"`
	PlaceAtTheTop bool `json:"place_at_the_top"`
}

// ClickTracking is the click part of TrackingSettings.
type ClickTracking struct {
	Active   bool `json:"active"`
	HTMLOnly bool `json:"htmlonly,omitempty"`
}

// UnsubscribeTracking is the unsubscribe part of TrackingSettings.
type UnsubscribeTracking struct {
	Active     bool   `json:"active"`
	HTMLFooter string `json:"html_footer"`
	TextFooter string `json:"text_footer"`
}

// TrackingUpdated is the reply of PUT /v3/domains/{d}/tracking/{kind}:
// the message and the one part that changed.
type TrackingUpdated struct {
	Message     string               `json:"message"`
	Open        *OpenTracking        `json:"open,omitempty"`
	Click       *ClickTracking       `json:"click,omitempty"`
	Unsubscribe *UnsubscribeTracking `json:"unsubscribe,omitempty"`
}
