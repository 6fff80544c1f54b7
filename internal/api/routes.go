package api

import (
	"net/http"

	"github.com/salvo-email/salvo/internal/auth"
)

// routes registers every endpoint. The variables {domain} and {name} are
// reserved for domain names: serveRoute checks the domain lives in this
// region before anything else (else 404 "Domain not found: <d>" for
// {domain}, "Domain not found" for {name}, Mailgun's two texts). Name other
// variables after what they hold ({tag}, {address}, {id}, …). Paths are Mailgun's full versioned paths;
// endpoints that Mailgun serves under several versions are registered under
// each (docs/mailgun-contract.md §0.1, §17).
func (s *Server) routes() {
	const (
		get, post, put, del = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete
	)
	s.handle(get, "/healthz", auth.Public, s.healthz)
	s.handle(get, "/metrics", auth.Public, s.metrics)

	// API keys (docs/mailgun-contract.md §1.3).
	s.handle(get, "/v1/keys", auth.Admin, s.listKeys)
	s.handle(post, "/v1/keys", auth.Admin, s.createKey)
	s.handle(del, "/v1/keys/{id}", auth.Admin, s.deleteKey)

	// The account's HTTP webhook signing key (docs/mailgun-contract.md §8.5).
	s.handle(get, "/v5/accounts/http_signing_key", auth.Admin, s.getSigningKey)
	s.handle(post, "/v5/accounts/http_signing_key", auth.Admin, s.regenerateSigningKey)

	// Subaccounts (docs/mailgun-contract.md §13.4); X-Mailgun-On-Behalf-Of is handled by tenant.
	s.subaccountRoutes()

	// Domains (docs/mailgun-contract.md §11): mailgun-go uses /v3, mailgun.js /v4.
	for _, v := range []string{"/v3", "/v4"} {
		s.handle(get, v+"/domains", auth.Account, s.listDomains)
		s.handle(post, v+"/domains", auth.Account, s.createDomain)
		s.handle(get, v+"/domains/{name}", auth.Account, s.getDomain)
		s.handle(put, v+"/domains/{name}", auth.Account, s.updateDomain)
		s.handle(del, v+"/domains/{name}", auth.Account, s.deleteDomain)
		s.handle(put, v+"/domains/{name}/verify", auth.Account, s.verifyDomain)
	}
	s.handle(get, "/v3/domains/{name}/connection", auth.Account, s.getConnection)
	s.handle(put, "/v3/domains/{name}/connection", auth.Account, s.updateConnection)
	s.handle(put, "/v3/domains/{name}/dkim_selector", auth.Account, s.updateDKIMSelector)
	s.handle(put, "/v3/domains/{name}/web_prefix", auth.Account, s.updateWebPrefix)

	// Sending (docs/mailgun-contract.md §2).
	s.handle(post, "/v3/{domain}/messages", auth.Send, s.sendMessage)
	s.handle(post, "/v3/{domain}/messages.mime", auth.Send, s.sendMIME)

	// Events (docs/mailgun-contract.md §3) and the queue (beyond Mailgun: what waits and why).
	s.handle(get, "/v3/{domain}/events", auth.Account, s.listEvents)
	s.handle(get, "/v3/{domain}/events/{token}", auth.Account, s.eventsByToken)
	s.handle(get, "/v3/{domain}/queue", auth.Account, s.queueStatus)

	// Stored messages (docs/mailgun-contract.md §7).
	s.handle(get, "/v3/domains/{domain}/messages/{key}", auth.Account, s.getStoredMessage)
	s.handle(post, "/v3/domains/{domain}/messages/{key}", auth.Account, s.resendMessage)
	s.handle(get, "/v3/domains/{domain}/messages/{key}/attachments/{n}", auth.Account, s.getStoredAttachment)

	s.webhooksRoutes()
	s.webhookTestRoutes()
	s.usageRoutes()    // usage details (beyond Mailgun)
	s.suppressRoutes() // suppressions (docs/mailgun-contract.md §4)
	s.statsRoutes()    // tags, stats and metrics (docs/mailgun-contract.md §10)
	s.smtpRoutes()
	s.templatesRoutes()
	s.listsRoutes()
	s.trackingRoutes() // domain tracking settings (docs/mailgun-contract.md §9)
	s.ipsRoutes()      // source addresses, domain IPs, IP pools (docs/mailgun-contract.md §13.1, §11.4)
	s.validateRoutes() // address validation (docs/mailgun-contract.md §13.3)
	s.exportsRoutes()  // exports (docs/mailgun-contract.md §13.4)
	s.logsRoutes()     // the newer logs API (docs/mailgun-contract.md §3.5)
	s.queuesRoutes()   // sending queues and envelopes (docs/mailgun-contract.md §2.5)
}
