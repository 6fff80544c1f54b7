package auth

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/store"
)

// OnBehalfOfHeader is the request header with which a parent account's key
// acts inside one of its subaccounts (docs/mailgun-contract.md §1.3, §13.4).
const OnBehalfOfHeader = "X-Mailgun-On-Behalf-Of"

// Tenant is the account a request acts in: the installation's primary
// account or one of its subaccounts. Everything account-scoped a request
// reads or writes belongs to its scope; domain-scoped data belongs to the
// scope that owns the domain.
type Tenant struct {
	// AccountID is the account's id as the global store keeps it on keys
	// and domain names: the primary account's own id, or the subaccount's.
	AccountID string
	// Sub is the subaccount acted in; nil for the primary account.
	Sub *store.Subaccount
	// OnBehalf is set when a parent's key switched into Sub by header.
	OnBehalf bool
}

// Owner is the owner value of the scope's regional rows
// (store.Domain.AccountID and its kin): "" for the primary account.
func (s Tenant) Owner() string {
	if s.Sub == nil {
		return ""
	}
	return s.Sub.ID
}

// Primary reports whether the scope is the primary (parent) account.
func (s Tenant) Primary() bool { return s.Sub == nil }

// Disabled reports whether the scope is a disabled subaccount: it keeps
// its data and may read it, but may not send.
func (s Tenant) Disabled() bool {
	return s.Sub != nil && s.Sub.Status != store.SubaccountOpen
}

// Owns reports whether a regional row with owner value owner belongs to
// the scope.
func (s Tenant) Owns(owner string) bool { return owner == s.Owner() }

// ErrSubaccountDisabled is what a disabled subaccount's sends get (HTTP
// 403; SMTP refuses with a 5xx naming it).
var ErrSubaccountDisabled = &fault.Error{Kind: fault.Forbidden,
	Message: "Forbidden: the subaccount is disabled and cannot send; its parent account can enable it again"}

// primaryCache keeps the primary account's id, which never changes once
// the store is bootstrapped.
type primaryCache struct {
	mu sync.Mutex
	id string
}

// PrimaryAccountID returns the id of the installation's account.
func (a *Authenticator) PrimaryAccountID(ctx context.Context) (string, error) {
	a.primary.mu.Lock()
	defer a.primary.mu.Unlock()
	if a.primary.id != "" {
		return a.primary.id, nil
	}
	acct, err := a.Global.Account(ctx)
	if err != nil {
		return "", err
	}
	a.primary.id = acct.ID
	return acct.ID, nil
}

// Tenant decides which account a request with key k acts in. onBehalfOf is
// the X-Mailgun-On-Behalf-Of header ("" when absent). A subaccount's own
// keys always act in their subaccount (the header may only repeat its
// id); a parent's account key acts in the subaccount the header names;
// a sending key, of any account, may not use the header at all.
func (a *Authenticator) Tenant(ctx context.Context, k store.Key, onBehalfOf string) (Tenant, error) {
	onBehalfOf = strings.TrimSpace(onBehalfOf)
	if onBehalfOf != "" && (k.Role == store.RoleSending || k.Kind == store.KindDomain) {
		return Tenant{}, &fault.Error{Kind: fault.Forbidden,
			Message: "Forbidden: a sending key cannot act on behalf of a subaccount (" + OnBehalfOfHeader + "); use the subaccount's own sending key or a parent account key"}
	}
	primary, err := a.PrimaryAccountID(ctx)
	if err != nil {
		return Tenant{}, err
	}
	if k.AccountID != "" && k.AccountID != primary {
		sub, err := a.subaccount(ctx, k.AccountID)
		if errors.Is(err, store.ErrNotFound) {
			return Tenant{}, ErrInvalid // a key whose account is gone
		}
		if err != nil {
			return Tenant{}, err
		}
		if onBehalfOf != "" && onBehalfOf != sub.ID {
			return Tenant{}, &fault.Error{Kind: fault.Forbidden,
				Message: "Forbidden: a subaccount's key cannot act on behalf of another account (" + OnBehalfOfHeader + ")"}
		}
		return Tenant{AccountID: sub.ID, Sub: &sub}, nil
	}
	if onBehalfOf == "" {
		return Tenant{AccountID: primary}, nil
	}
	sub, err := a.subaccount(ctx, onBehalfOf)
	if errors.Is(err, store.ErrNotFound) {
		return Tenant{}, &fault.Error{Kind: fault.Forbidden,
			Message: "Forbidden: " + OnBehalfOfHeader + " names no subaccount of this account"}
	}
	if err != nil {
		return Tenant{}, err
	}
	return Tenant{AccountID: sub.ID, Sub: &sub, OnBehalf: true}, nil
}

func (a *Authenticator) subaccount(ctx context.Context, id string) (store.Subaccount, error) {
	if id == "" || len(id) > 64 {
		return store.Subaccount{}, store.ErrNotFound
	}
	return a.Global.Subaccount(ctx, id)
}
