package auth

import (
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/store"
)

// KeyShape is the Mailgun form of a key (GET /v1/keys), never with its
// secret. The API and the `salvo keys` command print the same shape.
func KeyShape(k store.Key) mgapi.Key {
	out := mgapi.Key{
		ID: k.ID, Description: k.Description, Kind: k.Kind, Role: k.Role,
		CreatedAt: mgapi.ISOTime(k.CreatedAt), UpdatedAt: mgapi.ISOTime(k.UpdatedAt),
		IsDisabled: k.Disabled, DisabledReason: k.DisabledReason,
		Requestor: k.Requestor, UserName: k.UserName,
	}
	if !k.ExpiresAt.IsZero() {
		t := mgapi.ISOTime(k.ExpiresAt)
		out.ExpiresAt = &t
	}
	if k.DomainName != "" {
		d := k.DomainName
		out.DomainName = &d
	}
	return out
}
