package mgapi

// MailingList is a list object (docs/mailgun-contract.md §5.1).
type MailingList struct {
	Address         string `json:"address"`
	Name            string `json:"name"`
	Description     string `json:"description"`
	AccessLevel     string `json:"access_level"`
	ReplyPreference string `json:"reply_preference"`
	CreatedAt       Time   `json:"created_at"`
	MembersCount    int    `json:"members_count"`
}

// ListResponse is the `list` envelope of list reads and writes; TaskID is
// set when a bulk upload continues in the background.
type ListResponse struct {
	Message string      `json:"message,omitempty"`
	List    MailingList `json:"list"`
	TaskID  string      `json:"task-id,omitempty"`
}

// ListDeleted is DELETE /v3/lists/{address}.
type ListDeleted struct {
	Address string `json:"address"`
	Message string `json:"message"`
}

// MailingListPage is GET /v3/lists/pages.
type MailingListPage struct {
	Items  []MailingList `json:"items"`
	Paging Paging        `json:"paging"`
}

// ListOffsetPage is GET /v3/lists.
type ListOffsetPage struct {
	TotalCount int           `json:"total_count"`
	Items      []MailingList `json:"items"`
}

// Member is a list member: vars a JSON object, subscribed a JSON boolean
// (mailgun-go fails on "yes").
type Member struct {
	Address    string         `json:"address"`
	Name       string         `json:"name"`
	Vars       map[string]any `json:"vars"`
	Subscribed bool           `json:"subscribed"`
}

// MemberResponse is the `member` envelope.
type MemberResponse struct {
	Member  Member `json:"member"`
	Message string `json:"message,omitempty"`
}

// MemberDeleted is DELETE …/members/{m}.
type MemberDeleted struct {
	Member struct {
		Address string `json:"address"`
	} `json:"member"`
	Message string `json:"message"`
}

// MemberPage is GET …/members/pages.
type MemberPage struct {
	Items  []Member `json:"items"`
	Paging Paging   `json:"paging"`
}

// MemberOffsetPage is GET …/members.
type MemberOffsetPage struct {
	TotalCount int      `json:"total_count"`
	Items      []Member `json:"items"`
}
