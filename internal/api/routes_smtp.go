package api

import (
	"net/http"

	"github.com/salvo-email/salvo/internal/auth"
)

// smtpRoutes registers the SMTP services' endpoints: a domain's SMTP
// credentials (docs/mailgun-contract.md §12.1) and the account's inbound routes (§6.1).
// Both are region-bound: this node serves its own region's.
func (s *Server) smtpRoutes() {
	const get, post, put, del = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete
	s.handle(get, "/v3/domains/{domain}/credentials", auth.Account, s.listCredentials)
	s.handle(post, "/v3/domains/{domain}/credentials", auth.Account, s.createCredentials)
	s.handle(del, "/v3/domains/{domain}/credentials", auth.Account, s.deleteAllCredentials)
	s.handle(put, "/v3/domains/{domain}/credentials/{login}", auth.Account, s.changeCredentialPassword)
	s.handle(del, "/v3/domains/{domain}/credentials/{login}", auth.Account, s.deleteCredential)

	s.handle(get, "/v3/routes", auth.Account, s.listRoutes)
	s.handle(post, "/v3/routes", auth.Account, s.createRoute)
	s.handle(get, "/v3/routes/match", auth.Account, s.matchRoute)
	s.handle(get, "/v3/routes/{route}", auth.Account, s.getRoute)
	s.handle(put, "/v3/routes/{route}", auth.Account, s.updateRoute)
	s.handle(del, "/v3/routes/{route}", auth.Account, s.deleteRoute)
}
