package web

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/store"
	"github.com/salvo-email/salvo/internal/webhooks"
)

// Domain Settings → Webhooks: a domain's URLs per event type (at most
// webhooks.MaxURLs each), added, replaced and deleted through the same
// edits as the webhook API (webhooks.AddURL, Replace, Delete inside
// store.UpdateWebhooks), and how deliveries to each URL go, from the same
// attempts view as GET /v4/domains/{domain}/webhooks/attempts.

func webhooksPath(name string) string { return domainPath(name) + "/settings/webhooks" }

func (s *Server) webhooksRoutes() {
	base := domainsPath + "/{name}/settings/webhooks"
	s.page("GET "+base, s.webhooksPage)
	s.form("POST "+base, s.addWebhook)
	s.form("POST "+base+"/replace", s.replaceWebhook)
	s.form("POST "+base+"/delete", s.deleteWebhook)
	s.form("POST "+base+"/test", s.testWebhook)
	s.call("POST "+base+"/signing-key", s.revealSigningKey)
}

// kindLabels say what sets each webhook kind off.
var kindLabels = map[string]string{
	"accepted": "Accepted", "delivered": "Delivered", "opened": "Opened", "clicked": "Clicked",
	"unsubscribed": "Unsubscribed", "complained": "Spam complaints",
	"permanent_fail": "Permanent failure", "temporary_fail": "Temporary failure",
}

// webhookKind is one event type's row.
type webhookKind struct {
	Kind, Label string
	URLs        []string
	Full        bool // it has MaxURLs already
}

// urlState is one URL's deliveries as the page shows them.
type urlState struct {
	URL                       string
	EventTypes                []string
	Posted, Failures, Dropped int64
	LastAttemptAt             time.Time
	LastStatus                int
	LastError                 string // beyond the status
	Retrying                  []retryRow
}

type retryRow struct {
	EventID, EventType string
	Attempts           int
	LastStatus         int
	LastError          string
	NextAttemptAt      time.Time
}

// webhooksData is the Webhooks tab.
type webhooksData struct {
	domainData
	Kinds    []webhookKind
	Attempts []urlState
	MaxURLs  int
	Now      time.Time
	// CanTest: the Test buttons work (a tester is set up).
	CanTest bool
	// SigningKey is the account's HTTP webhook signing key, only in the
	// answer to the eye icon without JavaScript.
	SigningKey string
}

func (s *Server) webhooksPage(rq *request) error { return s.webhooksPageWith(rq, "") }

// webhooksPageWith shows the tab, with the signing key when it is not "".
func (s *Server) webhooksPageWith(rq *request, signingKey string) error {
	dd, err := s.domainData(rq, "webhooks")
	if err != nil {
		return err
	}
	ctx := rq.r.Context()
	set, err := s.Regional.Webhooks(ctx, dd.Domain.Name)
	if err != nil {
		return err
	}
	d := webhooksData{domainData: dd, MaxURLs: webhooks.MaxURLs, Now: s.Now().UTC(), CanTest: s.WebhookTester != nil,
		SigningKey: signingKey}
	for _, k := range webhooks.Kinds {
		d.Kinds = append(d.Kinds, webhookKind{Kind: k, Label: kindLabels[k], URLs: set[k], Full: len(set[k]) >= webhooks.MaxURLs})
	}
	att, err := webhooks.Attempts(ctx, s.Regional, dd.Domain.Name, "")
	if err != nil {
		return err
	}
	for _, u := range att.URLs {
		d.Attempts = append(d.Attempts, urlStateOf(u))
	}
	return s.show(rq, "webhooks", dd.Domain.Name+": Webhooks", "domains", d)
}

func urlStateOf(u mgapi.WebhookURLState) urlState {
	st := urlState{URL: u.URL, EventTypes: u.EventTypes, Posted: u.Posted, Failures: u.Failures, Dropped: u.Dropped,
		LastAttemptAt: timeOf(u.LastAttemptAt), LastStatus: u.LastStatus, LastError: errorDetail(u.LastStatus, u.LastError)}
	for _, r := range u.Retrying {
		st.Retrying = append(st.Retrying, retryRow{EventID: r.EventID, EventType: r.EventType, Attempts: r.Attempts,
			LastStatus: r.LastStatus, LastError: errorDetail(r.LastStatus, r.LastError), NextAttemptAt: time.Time(r.NextAttemptAt)})
	}
	return st
}

// errorDetail is an attempt's error without the status the page shows
// beside it: "HTTP 503: busy" is "busy".
func errorDetail(status int, msg string) string {
	if status == 0 {
		return msg
	}
	rest, _ := strings.CutPrefix(msg, "HTTP "+strconv.Itoa(status))
	return strings.TrimPrefix(rest, ": ")
}

func timeOf(t *mgapi.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return time.Time(*t)
}

// webhookForm is what the tab's forms send: an event type, a URL and,
// to replace it, the new URL.
type webhookForm struct {
	Kind, URL, NewURL string
}

// editWebhooks reads the form and applies edit to the domain's webhooks.
func (s *Server) editWebhooks(rq *request, done string, edit func(store.WebhookSet, webhookForm) (store.WebhookSet, error)) (result, error) {
	d, err := s.domainData(rq, "")
	if err != nil {
		return result{}, err
	}
	res := result{To: webhooksPath(d.Domain.Name)}
	f := webhookForm{Kind: rq.r.PostFormValue("kind"), URL: strings.TrimSpace(rq.r.PostFormValue("url")),
		NewURL: strings.TrimSpace(rq.r.PostFormValue("new_url"))}
	if !webhooks.ValidKind(f.Kind) {
		return res, fault.Invalidf("Choose an event type.")
	}
	if f.URL == "" {
		return res, fault.Invalidf("Enter the URL to post events to.")
	}
	if s.Egress != nil {
		for _, u := range []string{f.URL, f.NewURL} {
			if err := s.Egress.CheckURL(u); u != "" && err != nil {
				return res, fault.Invalidf("%s is not an allowed URL: %v", u, err)
			}
		}
	}
	_, err = s.Regional.UpdateWebhooks(rq.r.Context(), d.Domain.Name, s.Now(), func(set store.WebhookSet) (store.WebhookSet, error) {
		return edit(set, f)
	})
	if err != nil {
		return res, err
	}
	s.Log.Info("webhooks changed", "domain", d.Domain.Name, "kind", f.Kind, "user_id", rq.ses.User.ID)
	res.Flash.Notice = done
	return res, nil
}

func (s *Server) addWebhook(rq *request) (result, error) {
	return s.editWebhooks(rq, "Webhook URL added.", func(set store.WebhookSet, f webhookForm) (store.WebhookSet, error) {
		return webhooks.AddURL(set, f.URL, []string{f.Kind})
	})
}

// replaceWebhook puts a new URL in place of one of a kind's.
func (s *Server) replaceWebhook(rq *request) (result, error) {
	return s.editWebhooks(rq, "Webhook URL replaced.", func(set store.WebhookSet, f webhookForm) (store.WebhookSet, error) {
		i := slices.Index(set[f.Kind], f.URL)
		if i < 0 {
			return nil, webhooks.ErrNotFound
		}
		if f.NewURL == "" {
			return nil, fault.Invalidf("Enter the new URL.")
		}
		urls := slices.Clone(set[f.Kind])
		urls[i] = f.NewURL
		return webhooks.Replace(set, f.Kind, urls)
	})
}

// deleteWebhook removes one URL of a kind (and the kind with its last URL).
func (s *Server) deleteWebhook(rq *request) (result, error) {
	return s.editWebhooks(rq, "Webhook URL deleted.", func(set store.WebhookSet, f webhookForm) (store.WebhookSet, error) {
		urls := slices.DeleteFunc(slices.Clone(set[f.Kind]), func(u string) bool { return u == f.URL })
		switch {
		case len(urls) == len(set[f.Kind]):
			return nil, webhooks.ErrNotFound
		case len(urls) == 0:
			return webhooks.Delete(set, f.Kind)
		}
		return webhooks.Replace(set, f.Kind, urls)
	})
}

// testWebhook posts a signed sample event of a kind to one of its URLs,
// as PUT /v3/domains/{d}/webhooks/{kind}/test does, and says what the URL
// answered.
func (s *Server) testWebhook(rq *request) (result, error) {
	d, err := s.domainData(rq, "")
	if err != nil {
		return result{}, err
	}
	res := result{To: webhooksPath(d.Domain.Name)}
	kind, u := rq.r.PostFormValue("kind"), strings.TrimSpace(rq.r.PostFormValue("url"))
	if !webhooks.ValidKind(kind) {
		return res, fault.Invalidf("Choose an event type.")
	}
	if err := webhooks.ValidateURL(u); err != nil {
		return res, err
	}
	if s.Egress != nil {
		if err := s.Egress.CheckURL(u); err != nil {
			return res, fault.Invalidf("%s is not an allowed URL: %v", u, err)
		}
	}
	if s.WebhookTester == nil {
		return res, fault.Invalidf("Webhook tests are not set up on this node.")
	}
	tr, err := s.WebhookTester.Test(rq.r.Context(), d.Domain.Name, kind, u)
	if err != nil {
		return res, err
	}
	s.Log.Info("webhook tested", "domain", d.Domain.Name, "kind", kind, "status", tr.Status, "user_id", rq.ses.User.ID)
	switch {
	case tr.Status == 0:
		res.Flash.Error = "A sample " + kind + " event was posted to " + u + ": no answer (" + tr.Message + ")."
	case tr.Status >= 200 && tr.Status < 300:
		res.Flash.Notice = "A sample " + kind + " event was posted to " + u + ": it answered HTTP " + strconv.Itoa(tr.Status) + " (" + tr.Message + ")."
	default:
		res.Flash.Error = "A sample " + kind + " event was posted to " + u + ": it answered HTTP " + strconv.Itoa(tr.Status) + " (" + tr.Message + "), so real events would be retried."
	}
	return res, nil
}

// revealSigningKey answers the eye icon of the signing key: JSON for the
// page's script, else the tab with the key shown.
func (s *Server) revealSigningKey(rq *request) error {
	key, err := s.Keys.SigningKey(rq.r.Context())
	if err != nil {
		return err
	}
	s.Log.Info("webhook signing key revealed", "user_id", rq.ses.User.ID)
	if strings.Contains(rq.r.Header.Get("Accept"), "application/json") {
		rq.w.Header().Set("Content-Type", "application/json; charset=utf-8")
		return json.NewEncoder(rq.w).Encode(map[string]string{"key": key})
	}
	return s.webhooksPageWith(rq, key)
}
