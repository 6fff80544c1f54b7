// Package exports writes a list endpoint's records as CSV in the
// background (/v3/exports, which mailgun-go calls; Mailgun does not
// document it).
//
// Create checks the URL names a list Salvo can export (a domain's
// bounces, unsubscribes, complaints or allowlist in this region) and stores
// a queued export. A worker of any node claims it with a lease, reads the
// list in pages and stores the CSV with the state "complete" in one write;
// a worker that dies leaves its lease to run out and the export is claimed
// again from the start. Exports are kept 24 hours (Mailgun lists those of
// the past 24 hours), then deleted.
//
// The CSV is downloaded through a link that Salvo signs (HMAC-SHA256 under
// a key derived from the deployment's secret, over the export id and the
// expiry) and serves itself without an API key: Link makes it, Verify
// checks it in constant time.
package exports

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/obs"
	"github.com/salvo-email/salvo/internal/secret"
	"github.com/salvo-email/salvo/internal/startstop"
	"github.com/salvo-email/salvo/internal/store"
)

// Store is what exports need of the regional store.
type Store interface {
	store.ExportStore
	Domain(ctx context.Context, name string) (store.Domain, error)
	Suppressions(ctx context.Context, q store.SuppressionQuery) ([]store.Suppression, error)
}

// Service creates, runs and serves exports.
type Service struct {
	Store   Store
	Now     func() time.Time
	Log     *slog.Logger
	Metrics *obs.Metrics
	// Key signs download links (derive it from the secret).
	Key []byte
	// PublicURL is the node's external base URL, for links.
	PublicURL string
	// LinkTTL is how long a download link works (1 hour if zero).
	LinkTTL time.Duration
	// Lease is how long a claim lasts (1 minute if zero); Poll is how
	// often the worker looks for exports left by others (10 s if zero).
	Lease, Poll time.Duration

	owner  string
	poller startstop.Poller
}

// Retention is how long an export is listed and kept.
const Retention = 24 * time.Hour

// pageSize is how many records one read of the list returns.
const pageSize = 1000

// lists are the list endpoints that can be exported.
var lists = map[string]bool{store.Bounces: true, store.Unsubscribes: true, store.Complaints: true, store.Allowlist: true}

// ParseURL reads the list endpoint an export names: a path such as
// "/v3/mg.example.com/bounces" or a whole URL with it (any host; the query
// is ignored). It returns the domain and the list.
func ParseURL(raw string) (domain, list string, err error) {
	u, perr := url.Parse(strings.TrimSpace(raw))
	if perr != nil || raw == "" {
		return "", "", fault.Invalidf("'url' parameter must be the URL of a list endpoint, such as /v3/<domain>/bounces")
	}
	segs := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(segs) == 3 && segs[0] == "v3" && segs[1] != "" && lists[segs[2]] {
		return strings.ToLower(segs[1]), segs[2], nil
	}
	return "", "", fault.Invalidf("'url' parameter %q is not a list Salvo can export; exports cover /v3/<domain>/bounces, "+
		"/v3/<domain>/unsubscribes, /v3/<domain>/complaints and /v3/<domain>/whitelists", raw)
}

// Create queues an export of the list raw names.
func (s *Service) Create(ctx context.Context, raw string) (store.Export, error) {
	domain, list, err := ParseURL(raw)
	if err != nil {
		return store.Export{}, err
	}
	if _, err := s.Store.Domain(ctx, domain); errors.Is(err, store.ErrNotFound) {
		return store.Export{}, fault.NotFoundf("Domain not found: %s", domain)
	} else if err != nil {
		return store.Export{}, err
	}
	now := s.Now().UTC().Truncate(time.Microsecond)
	e := store.Export{ID: secret.Token(12), URL: raw, Domain: domain, List: list, State: store.ExportQueued,
		CreatedAt: now, UpdatedAt: now}
	if err := s.Store.CreateExport(ctx, e); err != nil {
		return store.Export{}, err
	}
	s.Wake()
	return e, nil
}

// List returns the exports of the past 24 hours, newest first.
func (s *Service) List(ctx context.Context, url string) ([]store.Export, error) {
	return s.Store.Exports(ctx, url, s.Now().Add(-Retention), 1000)
}

// Link returns a signed download link of an export.
func (s *Service) Link(id string) string {
	ttl := s.LinkTTL
	if ttl == 0 {
		ttl = time.Hour
	}
	expires := strconv.FormatInt(s.Now().Add(ttl).Unix(), 10)
	return strings.TrimSuffix(s.PublicURL, "/") + "/v3/exports/" + url.PathEscape(id) + "/download?expires=" + expires +
		"&signature=" + s.sign(id, expires)
}

func (s *Service) sign(id, expires string) string {
	mac := hmac.New(sha256.New, s.Key)
	mac.Write([]byte(id + "\x00" + expires))
	return hex.EncodeToString(mac.Sum(nil))
}

// errBadLink is every refusal of a download link: a 404 that does not say
// which part was wrong.
var errBadLink = fault.NotFoundf("Export not found, or its download link is not valid or has expired")

// Download returns a complete export's CSV if the link's signature is
// right and it has not expired.
func (s *Service) Download(ctx context.Context, id, expires, signature string) (store.Export, error) {
	exp, err := strconv.ParseInt(expires, 10, 64)
	if err != nil || !hmac.Equal([]byte(signature), []byte(s.sign(id, expires))) || s.Now().Unix() > exp {
		return store.Export{}, errBadLink
	}
	e, err := s.Store.Export(ctx, id, true)
	if errors.Is(err, store.ErrNotFound) || (err == nil && e.State != store.ExportComplete) {
		return store.Export{}, errBadLink
	}
	return e, err
}

// Wake makes the worker look for exports now.
func (s *Service) Wake() { s.poller.Wake() }

// Start runs the worker.
func (s *Service) Start() {
	if !s.poller.StartInit() {
		return
	}
	if s.Lease == 0 {
		s.Lease = time.Minute
	}
	if s.Poll == 0 {
		s.Poll = 10 * time.Second
	}
	s.owner = secret.Token(8)
	s.Metrics.Go(s.Log, "exports", func() { s.poller.Run(s.Poll, s.tick) })
}

// Stop ends the worker; an export in progress is claimed again by the
// next worker once its lease has run out.
func (s *Service) Stop(ctx context.Context) error { return s.poller.Stop(ctx) }

func (s *Service) tick() {
	if err := s.Store.DeleteExports(context.Background(), s.Now().Add(-Retention)); err != nil {
		s.Log.Warn("deleting old exports", "err", err)
	}
	for s.runOne() {
	}
}

// runOne claims and runs one export; false when there was none.
func (s *Service) runOne() bool {
	if s.poller.Stopping() {
		return false
	}
	ctx := context.Background()
	now := s.Now()
	e, err := s.Store.ClaimExport(ctx, s.owner, now, now.Add(s.Lease))
	if err != nil {
		s.Log.Warn("claiming an export", "err", err)
		return false
	}
	if e == nil {
		return false
	}
	data, rows, err := s.write(ctx, *e)
	e.State, e.Data, e.Rows, e.Owner, e.UpdatedAt = store.ExportComplete, data, rows, s.owner, s.Now()
	if err != nil {
		s.Log.Warn("export failed", "export", e.ID, "domain", e.Domain, "list", e.List, "err", err)
		e.State, e.Data, e.Message = store.ExportFailed, nil, "the export could not be written: "+err.Error()
	}
	if err := s.Store.FinishExport(ctx, *e); err != nil {
		s.Log.Warn("finishing an export", "export", e.ID, "err", err)
	}
	return true
}

// columns are each list's CSV header, the suppression import's columns
// (so an export can be imported again) plus a complaint's count.
var columns = map[string][]string{
	store.Bounces:      {"address", "code", "error", "created_at"},
	store.Unsubscribes: {"address", "tags", "created_at"},
	store.Complaints:   {"address", "count", "created_at"},
	store.Allowlist:    {"address", "domain", "reason"},
}

// write reads the whole list and returns its CSV and row count.
func (s *Service) write(ctx context.Context, e store.Export) ([]byte, int, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	cols, ok := columns[e.List]
	if !ok {
		return nil, 0, fmt.Errorf("unknown list %q", e.List)
	}
	if err := w.Write(cols); err != nil {
		return nil, 0, err
	}
	rows, after := 0, ""
	for {
		page, err := s.Store.Suppressions(ctx, store.SuppressionQuery{Domain: e.Domain, List: e.List, After: after, Limit: pageSize})
		if err != nil {
			return nil, 0, err
		}
		for _, r := range page {
			if err := w.Write(record(e.List, r)); err != nil {
				return nil, 0, err
			}
		}
		rows += len(page)
		if len(page) < pageSize {
			break
		}
		after = page[len(page)-1].Address
	}
	w.Flush()
	return buf.Bytes(), rows, w.Error()
}

func record(list string, r store.Suppression) []string {
	created := mgapi.FormatDate(r.CreatedAt)
	switch list {
	case store.Bounces:
		return []string{r.Address, r.Code, r.Error, created}
	case store.Unsubscribes:
		return []string{r.Address, strings.Join(r.Tags, ","), created}
	case store.Complaints:
		return []string{r.Address, strconv.Itoa(r.Count), created}
	}
	if r.Type == "domain" {
		return []string{"", r.Address, r.Reason}
	}
	return []string{r.Address, "", r.Reason}
}
