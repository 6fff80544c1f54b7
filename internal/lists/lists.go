// Package lists manages mailing lists and their members (docs/mailgun-contract.md §5):
// account-level, region-bound records in the regional store.
//
// Invariants: list and member addresses are stored lower case; a member's
// vars is always a JSON object (mailgun-go sends the literal string
// "null" for none); access_level is readonly (default), members or
// everyone, reply_preference list (default) or sender. Sending to a list
// is package send's (fan-out in the accept transaction); unsubscribing
// through %mailing_list_unsubscribe_url% is tracking's, through
// Unsubscribe here.
//
// Failure rules: client mistakes are *fault.Error values with Mailgun's
// texts — NotFound "Mailing list X not found", "Member x of mailing list y not
// found", Invalid for bad input and duplicates ("Address already exists 'x'").
// A request that fails writes nothing; bulk uploads are all-or-nothing per
// request, except large CSV uploads, which run in the background in
// chunks (each chunk durable on its own) and report progress by task id.
package lists

import (
	"context"
	"errors"
	"log/slog"
	netmail "net/mail"
	"strings"
	"sync"
	"time"

	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/obs"
	"github.com/salvo-email/salvo/internal/store"
)

// Service manages lists.
type Service struct {
	Store store.ListStore
	Now   func() time.Time
	Log   *slog.Logger
	// Metrics runs background uploads, counting their panics.
	Metrics *obs.Metrics

	tasks  sync.Map // task id → *Task
	wg     sync.WaitGroup
	closed chan struct{}
	once   sync.Once
}

// ListInput is a create or update of a list; nil fields are left as they
// are on update (defaults on create).
type ListInput struct {
	Address, Name, Description, AccessLevel, ReplyPreference *string
	// Owner is the account a new list belongs to ("" for the primary
	// account, else a subaccount's id); updates never change it.
	Owner string
}

// ListNotFound is the 404 of a missing list.
func ListNotFound(address string) error {
	return fault.NotFoundf("Mailing list %s not found", address)
}

// ParseAddress reads an address that may carry a display name
// ("Devs <devs@example.com>") and returns it lower case with the name.
func ParseAddress(s, what string) (addr, name string, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", "", fault.Invalidf("Missing mandatory parameter: %s", what)
	}
	a, perr := netmail.ParseAddress(s)
	if perr != nil || !strings.Contains(a.Address, "@") || strings.ContainsAny(a.Address, " \t\r\n<>") {
		return "", "", fault.Invalidf("'%s' parameter is not a valid address: %q", what, s)
	}
	return strings.ToLower(a.Address), a.Name, nil
}

func checkAccess(v string) error {
	switch v {
	case store.AccessReadonly, store.AccessMembers, store.AccessEveryone:
		return nil
	}
	return fault.Invalidf("Invalid access level '%s'. It can be any of: 'readonly', 'members', 'everyone'.", v)
}

func checkReply(v string) error {
	switch v {
	case store.ReplyList, store.ReplySender:
		return nil
	}
	return fault.Invalidf("Invalid reply preference '%s'. It can be any of: 'sender', 'list'", v)
}

// apply sets in's fields on l and checks them.
func apply(l *store.MailingList, in ListInput) error {
	if in.Address != nil {
		addr, name, err := ParseAddress(*in.Address, "address")
		if err != nil {
			return err
		}
		l.Address = addr
		if in.Name == nil && name != "" {
			l.Name = name
		}
	}
	if in.Name != nil {
		l.Name = *in.Name
	}
	if in.Description != nil {
		l.Description = *in.Description
	}
	if in.AccessLevel != nil {
		l.AccessLevel = strings.ToLower(strings.TrimSpace(*in.AccessLevel))
	}
	if in.ReplyPreference != nil {
		l.ReplyPreference = strings.ToLower(strings.TrimSpace(*in.ReplyPreference))
	}
	if err := checkAccess(l.AccessLevel); err != nil {
		return err
	}
	return checkReply(l.ReplyPreference)
}

// Create stores a new list.
func (s *Service) Create(ctx context.Context, in ListInput) (store.MailingList, error) {
	if in.Address == nil {
		return store.MailingList{}, fault.Invalidf("Missing mandatory parameter: address")
	}
	l := store.MailingList{AccessLevel: store.AccessReadonly, ReplyPreference: store.ReplyList,
		CreatedAt: s.Now().UTC().Truncate(time.Second), AccountID: in.Owner}
	if err := apply(&l, in); err != nil {
		return store.MailingList{}, err
	}
	err := s.Store.CreateList(ctx, l)
	if errors.Is(err, store.ErrConflict) {
		return store.MailingList{}, fault.Invalidf("Mailing list %s already exists", l.Address)
	}
	return l, err
}

// Get returns a list with its member count.
func (s *Service) Get(ctx context.Context, address string) (store.MailingList, error) {
	addr := strings.ToLower(strings.TrimSpace(address))
	l, err := s.Store.List(ctx, addr)
	if errors.Is(err, store.ErrNotFound) {
		return l, ListNotFound(addr)
	}
	return l, err
}

// Update changes a list; a new address moves its members with it.
func (s *Service) Update(ctx context.Context, address string, in ListInput) (store.MailingList, error) {
	l, err := s.Get(ctx, address)
	if err != nil {
		return l, err
	}
	old := l.Address
	if err := apply(&l, in); err != nil {
		return l, err
	}
	err = s.Store.UpdateList(ctx, old, l)
	switch {
	case errors.Is(err, store.ErrConflict):
		return l, fault.Invalidf("Mailing list %s already exists", l.Address)
	case errors.Is(err, store.ErrNotFound):
		return l, ListNotFound(old)
	case err != nil:
		return l, err
	}
	return s.Get(ctx, l.Address)
}

// Delete removes a list and its members.
func (s *Service) Delete(ctx context.Context, address string) (string, error) {
	addr := strings.ToLower(strings.TrimSpace(address))
	err := s.Store.DeleteList(ctx, addr)
	if errors.Is(err, store.ErrNotFound) {
		return addr, ListNotFound(addr)
	}
	return addr, err
}

// Page returns a pivot page of lists.
func (s *Service) Page(ctx context.Context, q store.PivotQuery) ([]store.MailingList, error) {
	if q.Pivot != "" {
		q.Pivot = strings.ToLower(q.Pivot)
	}
	return s.Store.ListsPage(ctx, q)
}

// Offset returns skip/limit lists with the total.
func (s *Service) Offset(ctx context.Context, skip, limit int) ([]store.MailingList, int, error) {
	return s.Store.ListsOffset(ctx, skip, limit)
}

// AccountPage is Page for the lists owner owns.
func (s *Service) AccountPage(ctx context.Context, owner string, q store.PivotQuery) ([]store.MailingList, error) {
	if q.Pivot != "" {
		q.Pivot = strings.ToLower(q.Pivot)
	}
	return s.Store.AccountListsPage(ctx, owner, q)
}

// AccountOffset is Offset for the lists owner owns.
func (s *Service) AccountOffset(ctx context.Context, owner string, skip, limit int) ([]store.MailingList, int, error) {
	return s.Store.AccountListsOffset(ctx, owner, skip, limit)
}

// Unsubscribe sets a member's subscribed to false; the member stays
// (docs/mailgun-contract.md §5.3). It is the hook tracking's
// %mailing_list_unsubscribe_url% calls.
func (s *Service) Unsubscribe(ctx context.Context, list, address string) error {
	f := false
	_, err := s.UpdateMember(ctx, list, address, MemberInput{Subscribed: &f})
	return err
}

func memberNotFound(list, addr string) error {
	return fault.NotFoundf("Member %s of mailing list %s not found", addr, list)
}
