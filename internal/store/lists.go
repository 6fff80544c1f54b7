package store

import (
	"context"
	"time"
)

// Mailing list access levels and reply preferences (docs/mailgun-contract.md §5.1).
const (
	AccessReadonly = "readonly"
	AccessMembers  = "members"
	AccessEveryone = "everyone"

	ReplyList   = "list"
	ReplySender = "sender"
)

// MailingList is an account-level, region-bound mailing list. Address is
// lower case and unique in the region.
type MailingList struct {
	Address         string
	Name            string
	Description     string
	AccessLevel     string
	ReplyPreference string
	CreatedAt       time.Time
	// MembersCount is computed on read; writes ignore it.
	MembersCount int
	// AccountID owns the list: "" for the primary account, else a
	// subaccount's id. Addresses stay unique across accounts (they are
	// mail addresses); UpdateList never changes the owner.
	AccountID string
}

// Member is one address of a list. Address is lower case and unique in
// the list; Vars is the member's JSON object (never nil when read).
type Member struct {
	List       string
	Address    string
	Name       string
	Vars       map[string]any
	Subscribed bool
}

// MemberFilter narrows member listings; nil Subscribed matches both.
type MemberFilter struct {
	Subscribed *bool
}

// ListStore is the regional store's part for mailing lists.
type ListStore interface {
	// CreateList stores l; ErrConflict when the address exists.
	CreateList(ctx context.Context, l MailingList) error
	List(ctx context.Context, address string) (MailingList, error)
	// ListsByAddress returns the lists whose address is in addresses (others are
	// left out), for recognising list recipients of a send in one query.
	ListsByAddress(ctx context.Context, addresses []string) ([]MailingList, error)
	// ListsPage is the pivot-paged listing, ListsOffset the skip/limit one
	// with the total count.
	ListsPage(ctx context.Context, q PivotQuery) ([]MailingList, error)
	ListsOffset(ctx context.Context, skip, limit int) ([]MailingList, int, error)
	// AccountListsPage and AccountListsOffset are the same for the lists
	// owned by account only.
	AccountListsPage(ctx context.Context, account string, q PivotQuery) ([]MailingList, error)
	AccountListsOffset(ctx context.Context, account string, skip, limit int) ([]MailingList, int, error)
	// UpdateList stores l (every field but CreatedAt) under the list named
	// address; when l.Address differs, the list and its members move to it
	// (ErrConflict when taken).
	UpdateList(ctx context.Context, address string, l MailingList) error
	// DeleteList removes the list and its members.
	DeleteList(ctx context.Context, address string) error

	// AddMember stores m; with upsert an existing member is replaced,
	// without it ErrConflict. ErrNotFound when the list does not exist.
	AddMember(ctx context.Context, m Member, upsert bool) error
	// AddMembers stores many members in one transaction (bulk uploads):
	// with upsert existing ones are replaced, without it they are left as
	// they are. It returns how many were written.
	AddMembers(ctx context.Context, list string, ms []Member, upsert bool) (int, error)
	Member(ctx context.Context, list, address string) (Member, error)
	MembersPage(ctx context.Context, list string, f MemberFilter, q PivotQuery) ([]Member, error)
	MembersOffset(ctx context.Context, list string, f MemberFilter, skip, limit int) ([]Member, int, error)
	// UpdateMember stores m under the member named address (which m may
	// rename; ErrConflict when taken).
	UpdateMember(ctx context.Context, address string, m Member) error
	DeleteMember(ctx context.Context, list, address string) error
	// SubscribedMembers returns the list's subscribed members in address
	// order after the address after ("" for the start), at most limit.
	SubscribedMembers(ctx context.Context, list, after string, limit int) ([]Member, error)
}
