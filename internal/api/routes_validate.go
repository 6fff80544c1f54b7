package api

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/salvo-email/salvo/internal/auth"
	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/validate"
)

// validateRoutes: single address validation (docs/mailgun-contract.md §13.3), answered
// locally by package validate: syntax, lists and DNS, never an SMTP probe.
// Mailgun allows it to the account's private keys; here every key of the
// account (not a domain sending key), a basic key only by GET.
func (s *Server) validateRoutes() {
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		s.handle(m, "/v4/address/validate", auth.Account, s.validateV4)
		s.handle(m, "/v3/address/validate", auth.Account, s.validateV3)
	}
}

// validateParams reads address and provider_lookup (default true);
// mailbox_verification (mailgun-go sends it when asked) is accepted and
// has no effect: mailboxes are never probed.
func (s *Server) validateParams(c *Ctx) (addr string, lookup bool, err error) {
	c.P.Accept("address", "provider_lookup", "mailbox_verification")
	addr, err = c.P.Required("address")
	if err != nil {
		return "", false, err
	}
	if utf8.RuneCountInString(addr) > validate.MaxInput {
		return "", false, fault.Invalidf("'address' parameter must be at most %d characters", validate.MaxInput)
	}
	if _, err := c.P.Bool("mailbox_verification", false); err != nil {
		return "", false, err
	}
	lookup, err = c.P.Bool("provider_lookup", true)
	return addr, lookup, err
}

// validation reads the parameters, checks the address and names the
// mailbox provider in a header (beyond Mailgun, whose answer has no field
// for it); the v4 and v3 handlers shape the verdict.
func (s *Server) validation(c *Ctx) (validate.Verdict, error) {
	addr, lookup, err := s.validateParams(c)
	if err != nil {
		return validate.Verdict{}, err
	}
	if s.Validator == nil {
		return validate.Verdict{}, fault.Unavailablef("address validation is not configured on this node")
	}
	vd, err := s.Validator.Check(c.R.Context(), addr, lookup)
	if err != nil {
		return validate.Verdict{}, err
	}
	if vd.Provider != "" {
		c.W.Header().Set("X-Salvo-Mailbox-Provider", vd.Provider)
	}
	return vd, nil
}

func (s *Server) validateV4(c *Ctx) (any, error) {
	vd, err := s.validation(c)
	if err != nil {
		return nil, err
	}
	return mgapi.Validation{Address: vd.Address, DidYouMean: vd.DidYouMean, IsDisposableAddress: vd.Disposable,
		IsRoleAddress: vd.Role, Reason: vd.Reasons, Result: vd.Result, Risk: vd.Risk}, nil
}

func (s *Server) validateV3(c *Ctx) (any, error) {
	vd, err := s.validation(c)
	if err != nil {
		return nil, err
	}
	out := mgapi.ValidationV3{Address: vd.Address, DidYouMean: vd.DidYouMean, IsDisposableAddress: vd.Disposable,
		IsRoleAddress: vd.Role, IsValid: vd.Valid && vd.Result != validate.Undeliverable,
		MailboxVerification: "unknown", Reason: strings.Join(vd.Reasons, "; ")}
	if vd.Valid {
		out.Parts = mgapi.AddressPart{LocalPart: vd.Parts.Local, Domain: vd.Parts.Domain}
	}
	return out, nil
}
