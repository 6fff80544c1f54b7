package api

import (
	"net/http"
	"regexp"

	"github.com/salvo-email/salvo/internal/auth"
	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/usage"
)

// usageRoutes: GET /v1/usage (beyond Mailgun) reads the account's usage
// details, the same in every region: global counters of messages
// accepted, delivered and failed per domain and month.
func (s *Server) usageRoutes() {
	s.handle(http.MethodGet, "/v1/usage", auth.Account, s.getUsage)
}

var monthRE = regexp.MustCompile(`^\d{4}-(0[1-9]|1[0-2])$`)

func (s *Server) getUsage(c *Ctx) (any, error) {
	c.P.Accept("month")
	month := c.P.Get("month")
	if month == "" {
		month = usage.MonthOf(s.Now())
	}
	if !monthRE.MatchString(month) {
		return nil, fault.Invalidf("'month' parameter must look like 2006-01, not %q", month)
	}
	if c.Tenant.Primary() {
		return usage.Read(c.R.Context(), s.Keys.Global, month)
	}
	return usage.ReadOf(c.R.Context(), s.Keys.Global, month, c.Tenant.AccountID)
}
