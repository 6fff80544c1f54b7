package api

import (
	"net/http"
	"strings"

	"github.com/salvo-email/salvo/internal/auth"
	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/webhooks"
)

// PUT /v3/domains/{domain}/webhooks/{kind}/test (mailgun.js's
// webhooks.test, docs/mailgun-contract.md §8.2): posts a signed sample event of kind to
// url, or to the kind's first URL when none is given, and answers what
// the URL answered as {"code": status, "message": body}: code is 0 when
// it did not answer, and message then says why. The URL must pass the
// egress policy like any webhook URL; nothing is stored or retried.

func (s *Server) webhookTestRoutes() {
	s.handle(http.MethodPut, "/v3/domains/{domain}/webhooks/{kind}/test", auth.Account, s.testWebhook)
}

func (s *Server) testWebhook(c *Ctx) (any, error) {
	c.P.Accept("url")
	kind := c.Var("kind")
	if !webhooks.ValidKind(kind) {
		return nil, webhooks.ErrNotFound
	}
	url := strings.TrimSpace(c.P.Get("url"))
	if url == "" {
		set, err := s.Regional.Webhooks(c.R.Context(), c.Domain.Name)
		if err != nil {
			return nil, err
		}
		if len(set[kind]) == 0 {
			return nil, webhooks.ErrNotFound
		}
		url = set[kind][0]
	}
	if err := webhooks.ValidateURL(url); err != nil {
		return nil, err
	}
	if err := s.checkEgress("Reason", url); err != nil {
		return nil, err
	}
	if s.WebhookTester == nil {
		return nil, fault.Unavailablef("Webhook tests are not set up on this node")
	}
	res, err := s.WebhookTester.Test(c.R.Context(), c.Domain.Name, kind, url)
	if err != nil {
		return nil, err
	}
	return mgapi.WebhookTest{Code: res.Status, Message: res.Message}, nil
}
