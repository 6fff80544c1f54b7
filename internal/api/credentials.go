package api

import (
	"fmt"
	"strings"

	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/mgapi"
)

// skipLimit reads skip and limit (default def) for the skip/limit lists;
// a limit over max is refused with tooMany, Mailgun's text for the list,
// or a generic range error when it has none.
func skipLimit(p *mgapi.Params, def, max int, tooMany string) (int, int, error) {
	skip, err := p.Int("skip", 0, 0, 1<<31-1)
	if err != nil {
		return 0, 0, err
	}
	if tooMany == "" {
		limit, err := p.Int("limit", def, 1, max)
		return skip, limit, err
	}
	limit, err := p.Int("limit", def, 1, 1<<31-1)
	if err != nil {
		return 0, 0, err
	}
	if limit > max {
		return 0, 0, fault.Invalidf("%s", tooMany)
	}
	return skip, limit, nil
}

// listCredentials is GET /v3/domains/{d}/credentials (docs/mailgun-contract.md §12.1).
func (s *Server) listCredentials(c *Ctx) (any, error) {
	c.P.Accept("skip", "limit")
	skip, limit, err := skipLimit(c.P, 100, 1000, "Limit parameter can't be larger than 1000")
	if err != nil {
		return nil, err
	}
	cs, total, err := s.Regional.Credentials(c.R.Context(), c.Domain.Name, skip, limit)
	if err != nil {
		return nil, err
	}
	out := mgapi.CredentialsPage{TotalCount: total, Items: make([]mgapi.Credential, 0, len(cs))}
	for _, cr := range cs {
		out.Items = append(out.Items, mgapi.Credential{Login: cr.Login, Mailbox: cr.Login, CreatedAt: mgapi.Time(cr.CreatedAt)})
	}
	return out, nil
}

// createCredentials is POST /v3/domains/{d}/credentials: one or several
// logins (repeated, or comma-separated), each a local part or a full
// address of the domain, with a password or generated ones.
func (s *Server) createCredentials(c *Ctx) (any, error) {
	c.P.Accept("login", "password", "mailbox", "system")
	var logins []string
	for _, v := range c.P.All("login") {
		for _, l := range strings.Split(v, ",") {
			if l = strings.TrimSpace(l); l != "" {
				logins = append(logins, l)
			}
		}
	}
	if len(logins) == 0 {
		return nil, fault.Invalidf("Parameter 'login' is missing")
	}
	if m := c.P.Get("mailbox"); m != "" && len(logins) == 1 && !strings.EqualFold(m, logins[0]) {
		// mailbox names the mailbox a login opens; here every login is its own.
		return nil, fault.Invalidf("'mailbox' must be the login itself: this server has no shared mailboxes")
	}
	created, generated, err := s.Credentials.Create(c.R.Context(), c.Domain.Name, logins, c.P.Raw("password"))
	if err != nil {
		return nil, err
	}
	out := mgapi.CredentialsCreated{Message: fmt.Sprintf("Created %d credentials pair(s)", len(created))}
	if len(generated) > 0 {
		out.Note = "The passwords below were generated and are shown only once; store them now."
		out.Credentials = generated
	}
	return out, nil
}

// changeCredentialPassword is PUT /v3/domains/{d}/credentials/{login}.
func (s *Server) changeCredentialPassword(c *Ctx) (any, error) {
	c.P.Accept("password")
	if c.P.Raw("password") == "" {
		return nil, fault.Invalidf("Parameter 'password' is missing")
	}
	if err := s.Credentials.ChangePassword(c.R.Context(), c.Domain.Name, c.Var("login"), c.P.Raw("password")); err != nil {
		return nil, err
	}
	return mgapi.Message{Message: "Password changed"}, nil
}

// deleteCredential is DELETE /v3/domains/{d}/credentials/{login}.
func (s *Server) deleteCredential(c *Ctx) (any, error) {
	c.P.Accept()
	login, err := s.Credentials.Delete(c.R.Context(), c.Domain.Name, c.Var("login"))
	if err != nil {
		return nil, err
	}
	return mgapi.CredentialDeleted{Message: "Credentials have been deleted", Spec: login}, nil
}

// deleteAllCredentials is DELETE /v3/domains/{d}/credentials: every
// credential but the system postmaster.
func (s *Server) deleteAllCredentials(c *Ctx) (any, error) {
	c.P.Accept()
	n, err := s.Credentials.DeleteAll(c.R.Context(), c.Domain.Name)
	if err != nil {
		return nil, err
	}
	return mgapi.CredentialsDeleted{Message: "All domain credentials have been deleted", Count: n}, nil
}
