package api

import (
	"net/http"
	"strings"

	"github.com/salvo-email/salvo/internal/auth"
	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/store"
	"github.com/salvo-email/salvo/internal/webhooks"
)

// webhooksRoutes registers the webhook endpoints (docs/mailgun-contract.md §8.2, docs/mailgun-contract.md §8.3) and the
// attempts views (beyond Mailgun). Validation errors are 400 with
// Mailgun's capitalised {"Reason": …}; an unset kind or URL is 404
// {"Description": "Webhook not found"} (docs/mailgun-contract.md §16).
func (s *Server) webhooksRoutes() {
	const get, post, put, del = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete
	const v3, v4 = "/v3/domains/{domain}/webhooks", "/v4/domains/{domain}/webhooks"
	s.handle(get, v3, auth.Account, s.listWebhooks)
	s.handle(post, v3, auth.Account, s.createWebhook)
	s.handle(get, v3+"/{kind}", auth.Account, s.getWebhook)
	s.handle(put, v3+"/{kind}", auth.Account, s.updateWebhook)
	s.handle(del, v3+"/{kind}", auth.Account, s.deleteWebhook)
	s.handle(get, v3+"/{kind}/attempts", auth.Account, s.webhookAttempts)

	s.handle(get, v4, auth.Account, s.listWebhooks)
	s.handle(post, v4, auth.Account, s.addWebhookURL)
	s.handle(put, v4, auth.Account, s.setWebhookURL)
	s.handle(del, v4, auth.Account, s.removeWebhookURLs)
	s.handle(get, v4+"/attempts", auth.Account, s.webhookAttempts)
}

// missing is the 400 of an absent parameter, in the text Mailgun answers
// for a missing id.
func missing(name string) error { return fault.Invalidf("Missing parameter '%s'", name) }

// listOf returns a parameter's values, trimmed, without empty ones.
func listOf(p *mgapi.Params, name string) []string {
	var out []string
	for _, v := range p.All(name) {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func webhookList(set store.WebhookSet) mgapi.WebhookList {
	out := mgapi.WebhookList{Webhooks: map[string]mgapi.WebhookURLs{}}
	for k, urls := range set {
		out.Webhooks[k] = mgapi.WebhookURLs{URLs: urls}
	}
	return out
}

// editWebhooks applies edit to the request's domain.
func (s *Server) editWebhooks(c *Ctx, edit func(store.WebhookSet) (store.WebhookSet, error)) (store.WebhookSet, error) {
	return s.Regional.UpdateWebhooks(c.R.Context(), c.Domain.Name, s.Now(), edit)
}

func (s *Server) listWebhooks(c *Ctx) (any, error) {
	c.P.Accept("limit") // mailgun.js may send limit
	set, err := s.Regional.Webhooks(c.R.Context(), c.Domain.Name)
	if err != nil {
		return nil, err
	}
	return webhookList(set), nil
}

func (s *Server) getWebhook(c *Ctx) (any, error) {
	c.P.Accept()
	set, err := s.Regional.Webhooks(c.R.Context(), c.Domain.Name)
	if err != nil {
		return nil, err
	}
	urls := set[c.Var("kind")]
	if len(urls) == 0 {
		return nil, webhooks.ErrNotFound
	}
	return mgapi.WebhookOne{Webhook: mgapi.WebhookURLs{URLs: urls}}, nil
}

func (s *Server) createWebhook(c *Ctx) (any, error) {
	c.P.Accept("id", "url")
	kind, urls := c.P.Get("id"), listOf(c.P, "url")
	if kind == "" {
		return nil, missing("id")
	}
	if len(urls) == 0 {
		return nil, missing("url")
	}
	if err := s.checkEgress("Reason", urls...); err != nil {
		return nil, err
	}
	set, err := s.editWebhooks(c, func(cur store.WebhookSet) (store.WebhookSet, error) {
		return webhooks.Create(cur, kind, urls)
	})
	if err != nil {
		return nil, err
	}
	return mgapi.WebhookOne{Message: "Webhook has been created", Webhook: mgapi.WebhookURLs{URLs: set[kind]}}, nil
}

func (s *Server) updateWebhook(c *Ctx) (any, error) {
	c.P.Accept("url")
	kind, urls := c.Var("kind"), listOf(c.P, "url")
	if len(urls) == 0 {
		return nil, missing("url")
	}
	if err := s.checkEgress("Reason", urls...); err != nil {
		return nil, err
	}
	set, err := s.editWebhooks(c, func(cur store.WebhookSet) (store.WebhookSet, error) {
		return webhooks.Update(cur, kind, urls)
	})
	if err != nil {
		return nil, err
	}
	return mgapi.WebhookOne{Message: "Webhook has been updated", Webhook: mgapi.WebhookURLs{URLs: set[kind]}}, nil
}

func (s *Server) deleteWebhook(c *Ctx) (any, error) {
	c.P.Accept()
	kind := c.Var("kind")
	var removed []string
	_, err := s.editWebhooks(c, func(cur store.WebhookSet) (store.WebhookSet, error) {
		removed = cur[kind]
		return webhooks.Delete(cur, kind)
	})
	if err != nil {
		return nil, err
	}
	return mgapi.WebhookOne{Message: "Webhook has been deleted", Webhook: mgapi.WebhookURLs{URLs: removed}}, nil
}

// v4 (docs/mailgun-contract.md §8.3): one URL, several kinds.

// v4Edit runs a v4 POST or PUT: edit applied to the url and event_types
// given, answered with the whole set.
func (s *Server) v4Edit(c *Ctx, edit func(store.WebhookSet, string, []string) (store.WebhookSet, error)) (any, error) {
	c.P.Accept("url", "event_types")
	u, kinds := c.P.Get("url"), listOf(c.P, "event_types")
	if u == "" {
		return nil, missing("url")
	}
	if len(kinds) == 0 {
		return nil, missing("event_types")
	}
	if err := s.checkEgress("Reason", u); err != nil {
		return nil, err
	}
	set, err := s.editWebhooks(c, func(cur store.WebhookSet) (store.WebhookSet, error) { return edit(cur, u, kinds) })
	if err != nil {
		return nil, err
	}
	return webhookList(set), nil
}

func (s *Server) addWebhookURL(c *Ctx) (any, error) { return s.v4Edit(c, webhooks.AddURL) }

func (s *Server) setWebhookURL(c *Ctx) (any, error) { return s.v4Edit(c, webhooks.SetURL) }

func (s *Server) removeWebhookURLs(c *Ctx) (any, error) {
	c.P.Accept("url")
	var urls []string // url=a,b and url=a&url=b
	for _, v := range listOf(c.P, "url") {
		for _, u := range strings.Split(v, ",") {
			if u = strings.TrimSpace(u); u != "" {
				urls = append(urls, u)
			}
		}
	}
	if len(urls) == 0 {
		// The OpenAPI sample of this 400 is {"Field": "url"}.
		return nil, &fault.Error{Kind: fault.Invalid, Key: "Reason", Message: "Missing parameter 'url'",
			Extra: map[string]any{"Field": "url"}}
	}
	set, err := s.editWebhooks(c, func(cur store.WebhookSet) (store.WebhookSet, error) {
		return webhooks.RemoveURLs(cur, urls)
	})
	if err != nil {
		return nil, err
	}
	return webhookList(set), nil
}

// webhookAttempts shows how deliveries to each URL go (beyond Mailgun):
// for /v3/…/webhooks/{kind}/attempts the URLs of that kind and their
// retries of it, for /v4/…/webhooks/attempts every URL and retry.
func (s *Server) webhookAttempts(c *Ctx) (any, error) {
	c.P.Accept()
	return webhooks.Attempts(c.R.Context(), s.Regional, c.Domain.Name, c.Var("kind"))
}

// checkEgress refuses URLs whose literal address this node may not reach
// (package egress: link-local, its own listeners and databases, the
// operator's --outbound-deny), with the error key of the endpoint's shape.
func (s *Server) checkEgress(key string, urls ...string) error {
	if s.Egress == nil {
		return nil
	}
	for _, u := range urls {
		if err := s.Egress.CheckURL(u); err != nil {
			e := fault.Invalidf("%s is not an allowed url: %v", u, err)
			e.Key = key
			return e
		}
	}
	return nil
}
