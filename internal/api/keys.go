package api

import (
	"time"

	"github.com/salvo-email/salvo/internal/auth"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/store"
)

func (s *Server) listKeys(c *Ctx) (any, error) {
	c.P.Accept("kind", "domain_name")
	keys, err := s.Keys.List(c.R.Context(), store.KeyFilter{Kind: c.P.Get("kind"), DomainName: c.P.Get("domain_name"),
		AccountID: c.Tenant.AccountID})
	if err != nil {
		return nil, err
	}
	out := mgapi.KeyList{TotalCount: len(keys), Items: make([]mgapi.Key, 0, len(keys))}
	for _, k := range keys {
		out.Items = append(out.Items, auth.KeyShape(k))
	}
	return out, nil
}

func (s *Server) createKey(c *Ctx) (any, error) {
	c.P.Accept("role", "kind", "domain_name", "description", "expiration", "user_id", "user_name", "email")
	exp, err := c.P.Int("expiration", 0, 1, 10*365*24*3600)
	if err != nil {
		return nil, err
	}
	requestor := c.P.Get("email")
	if requestor == "" {
		requestor = c.Key.ID // who created it: the key used
	}
	k, secretValue, err := s.Keys.Create(c.R.Context(), auth.KeyRequest{
		Role: c.P.Get("role"), Kind: c.P.Get("kind"), DomainName: c.P.Get("domain_name"),
		Description: c.P.Raw("description"), Expiration: time.Duration(exp) * time.Second,
		Requestor: requestor, UserName: c.P.Get("user_name"), AccountID: c.Tenant.AccountID,
	})
	if err != nil {
		return nil, err
	}
	out := auth.KeyShape(k)
	out.Secret = secretValue
	return mgapi.KeyCreated{Message: "great success", Key: out}, nil
}

func (s *Server) deleteKey(c *Ctx) (any, error) {
	c.P.Accept()
	if err := s.Keys.RevokeIn(c.R.Context(), c.Tenant.AccountID, c.Var("id")); err != nil {
		return nil, err
	}
	return mgapi.Message{Message: "key deleted"}, nil
}
