package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/secret"
	"github.com/salvo-email/salvo/internal/store"
)

// primaryPurpose binds the primary key's sealed copy to its use.
const primaryPurpose = "primary-api-key"

// MaxKeys is the account's key limit (Mailgun answers 403 past its own).
const MaxKeys = 1000

// Keys manages the account and its API keys (global data).
type Keys struct {
	Global store.Global
	Box    *secret.Box
	Now    func() time.Time
}

// Bootstrap makes sure the store has an account and a primary key. On an
// empty store it creates them with configured as the key, or a random key
// when configured is empty; generated is that random key (to be shown once)
// and is empty otherwise.
func (s *Keys) Bootstrap(ctx context.Context, configured string) (generated string, err error) {
	if _, err := s.Account(ctx); err == nil {
		return "", nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	now := s.Now().UTC()
	value, id := configured, ""
	if value == "" {
		value, id = NewKey()
	} else {
		_, id = NewKey()
	}
	acct := store.Account{ID: secret.Token(12), Name: "Salvo", CreatedAt: now}
	k := store.Key{
		ID: id, Kind: store.KindUser, Role: store.RoleAdmin, Description: "Primary account API key",
		Hash: Hash(value), Sealed: s.Box.Seal(primaryPurpose, []byte(value)),
		CreatedAt: now, UpdatedAt: now,
	}
	created, err := s.Global.Bootstrap(ctx, acct, k)
	if err != nil || !created || configured != "" {
		return "", err
	}
	return value, nil
}

// Account returns the installation's account.
func (s *Keys) Account(ctx context.Context) (store.Account, error) {
	return s.Global.Account(ctx)
}

// RevealPrimary opens the sealed copy of the primary key.
func (s *Keys) RevealPrimary(ctx context.Context) (string, error) {
	keys, err := s.Global.Keys(ctx, store.KeyFilter{})
	if err != nil {
		return "", err
	}
	for _, k := range keys {
		if k.Primary {
			v, err := s.Box.Open(primaryPurpose, k.Sealed)
			if err != nil {
				return "", fmt.Errorf("reveal primary key: %w", err)
			}
			return string(v), nil
		}
	}
	return "", store.ErrNotFound
}

// RotatePrimary replaces the primary key with a new random one and returns it.
func (s *Keys) RotatePrimary(ctx context.Context) (string, error) {
	acct, err := s.Account(ctx)
	if err != nil {
		return "", err
	}
	value, id := NewKey()
	now := s.Now().UTC()
	k := store.Key{
		ID: id, AccountID: acct.ID, Kind: store.KindUser, Role: store.RoleAdmin,
		Description: "Primary account API key", Hash: Hash(value),
		Sealed: s.Box.Seal(primaryPurpose, []byte(value)), CreatedAt: now, UpdatedAt: now,
	}
	return value, s.Global.ReplacePrimaryKey(ctx, k)
}

// KeyRequest is what POST /v1/keys and `salvo keys create` ask for.
type KeyRequest struct {
	Role        string
	Kind        string
	DomainName  string
	Description string
	Expiration  time.Duration // 0: never
	Requestor   string
	UserName    string
	// AccountID is the account the key is for: a subaccount's id, or
	// empty for the primary account.
	AccountID string
}

var roles = []string{store.RoleAdmin, store.RoleBasic, store.RoleSending, store.RoleDeveloper, store.RoleSupport}

// ValidKind checks a kind filter or field (empty is allowed).
func ValidKind(kind string) error {
	switch kind {
	case "", store.KindDomain, store.KindUser, store.KindWeb:
		return nil
	}
	return fault.Invalidf("expected `kind` param to be one of [domain user web] or absent")
}

// Create makes a key and returns it with its secret, which is never
// available again.
func (s *Keys) Create(ctx context.Context, req KeyRequest) (store.Key, string, error) {
	if req.Kind == "" {
		req.Kind = store.KindUser
		if req.Role == store.RoleSending {
			req.Kind = store.KindDomain
		}
	}
	if err := ValidKind(req.Kind); err != nil {
		return store.Key{}, "", err
	}
	if req.Role == "" {
		return store.Key{}, "", fault.Invalidf("Missing mandatory parameter: role")
	}
	if !contains(roles, req.Role) {
		return store.Key{}, "", fault.Invalidf("expected `role` param to be one of [%s]", strings.Join(roles, " "))
	}
	if (req.Kind == store.KindDomain) != (req.Role == store.RoleSending) {
		return store.Key{}, "", fault.Invalidf("a key of kind `domain` must have role `sending`, and role `sending` needs kind `domain`")
	}
	req.DomainName = strings.ToLower(strings.TrimSpace(req.DomainName))
	if req.Kind == store.KindDomain {
		if req.DomainName == "" {
			return store.Key{}, "", fault.Invalidf("Missing mandatory parameter: domain_name")
		}
		dn, err := s.Global.DomainName(ctx, req.DomainName)
		if errors.Is(err, store.ErrNotFound) || (err == nil && req.AccountID != "" && dn.AccountID != req.AccountID) {
			return store.Key{}, "", fault.NotFoundf("Domain not found: %s", req.DomainName)
		} else if err != nil {
			return store.Key{}, "", err
		}
	} else if req.DomainName != "" {
		return store.Key{}, "", fault.Invalidf("domain_name is only for keys of kind `domain`")
	}
	if req.Kind == store.KindWeb && (req.Expiration == 0 || req.Expiration > 24*time.Hour) {
		req.Expiration = 24 * time.Hour // web keys live at most a day
	}
	if len(req.Description) > 1024 {
		return store.Key{}, "", fault.Invalidf("description is longer than 1024 characters")
	}
	n, err := s.Global.CountKeys(ctx)
	if err != nil {
		return store.Key{}, "", err
	}
	if n >= MaxKeys {
		return store.Key{}, "", &fault.Error{Kind: fault.Forbidden, Message: "could not create key, account limit reached"}
	}
	accountID := req.AccountID
	if accountID == "" {
		acct, err := s.Account(ctx)
		if err != nil {
			return store.Key{}, "", err
		}
		accountID = acct.ID
	}
	value, id := NewKey()
	now := s.Now().UTC()
	k := store.Key{
		ID: id, AccountID: accountID, Kind: req.Kind, Role: req.Role, DomainName: req.DomainName,
		Description: req.Description, Hash: Hash(value), Requestor: req.Requestor, UserName: req.UserName,
		CreatedAt: now, UpdatedAt: now,
	}
	if req.Expiration > 0 {
		k.ExpiresAt = now.Add(req.Expiration)
	}
	if err := s.Global.CreateKey(ctx, k); err != nil {
		return store.Key{}, "", err
	}
	return k, value, nil
}

// List returns keys matching f.
func (s *Keys) List(ctx context.Context, f store.KeyFilter) ([]store.Key, error) {
	if err := ValidKind(f.Kind); err != nil {
		return nil, err
	}
	f.DomainName = strings.ToLower(strings.TrimSpace(f.DomainName))
	return s.Global.Keys(ctx, f)
}

// Revoke deletes a key. The primary key can only be rotated, so that the
// account always keeps one key that can manage it.
func (s *Keys) Revoke(ctx context.Context, id string) error {
	return s.RevokeIn(ctx, "", id)
}

// RevokeIn is Revoke for a key of the account accountID only (any
// account's when empty): another account's key is not found.
func (s *Keys) RevokeIn(ctx context.Context, accountID, id string) error {
	k, err := s.Global.Key(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && accountID != "" && k.AccountID != accountID) {
		return fault.NotFoundf("no key matching id")
	}
	if err != nil {
		return err
	}
	if k.Primary {
		return fault.Invalidf("the primary key cannot be deleted; rotate it instead")
	}
	if err := s.Global.DeleteKey(ctx, id); errors.Is(err, store.ErrNotFound) {
		return fault.NotFoundf("no key matching id")
	} else if err != nil {
		return err
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// signingPurpose binds the sealed webhook signing key to its use.
const signingPurpose = "http-signing-key"

// signingMeta is where the sealed signing key lives in the global store.
const signingMeta = "http_signing_key"

// SigningKey returns the account's HTTP webhook signing key (docs/mailgun-contract.md
// docs/mailgun-contract.md §8.4), creating it on first use. It is global data, sealed at rest.
func (s *Keys) SigningKey(ctx context.Context) (string, error) {
	stored, err := s.Global.Meta(ctx, signingMeta)
	if errors.Is(err, store.ErrNotFound) {
		fresh := s.sealSigningKey("key-" + secret.Token(16))
		if stored, err = s.Global.PutMetaIfAbsent(ctx, signingMeta, fresh); err != nil {
			return "", err
		}
	} else if err != nil {
		return "", err
	}
	return s.openSigningKey(stored)
}

// RegenerateSigningKey replaces the signing key and returns the new one.
func (s *Keys) RegenerateSigningKey(ctx context.Context) (string, error) {
	value := "key-" + secret.Token(16)
	if err := s.Global.PutMeta(ctx, signingMeta, s.sealSigningKey(value)); err != nil {
		return "", err
	}
	return value, nil
}

func (s *Keys) sealSigningKey(v string) string {
	return base64.StdEncoding.EncodeToString(s.Box.Seal(signingPurpose, []byte(v)))
}

func (s *Keys) openSigningKey(stored string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(stored)
	if err != nil {
		return "", fmt.Errorf("signing key: %w", err)
	}
	v, err := s.Box.Open(signingPurpose, raw)
	if err != nil {
		return "", fmt.Errorf("signing key: %w", err)
	}
	return string(v), nil
}
