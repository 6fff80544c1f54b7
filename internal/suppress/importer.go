package suppress

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/obs"
	"github.com/salvo-email/salvo/internal/secret"
	"github.com/salvo-email/salvo/internal/startstop"
	"github.com/salvo-email/salvo/internal/store"
)

// Importer adds CSV files of suppressions in the background (docs/mailgun-contract.md
// docs/mailgun-contract.md §4.2 "import"). An upload is stored whole with its import record, then a
// worker of any node claims it with a lease and adds it in batches, each
// batch written with the import's progress in one transaction. A worker
// that dies leaves its lease to run out; the next claimer goes on from the
// last batch written (adding a record twice is harmless: adds are upserts,
// but a complaint's count may then be one too high).
type Importer struct {
	Store   store.SuppressionStore
	Now     func() time.Time
	Log     *slog.Logger
	Metrics *obs.Metrics
	// Lease is how long a claim lasts without progress (1 minute if zero).
	Lease time.Duration
	// Poll is how often workers look for imports left by others.
	Poll time.Duration

	owner  string
	poller startstop.Poller
}

// importBatch is how many rows one transaction adds.
const importBatch = 500

// csvColumns are the columns each list's CSV may have (docs/mailgun-contract.md §4.2–4.5).
var csvColumns = map[string][]string{
	store.Bounces:      {"address", "code", "error", "created_at"},
	store.Unsubscribes: {"address", "tags", "tag", "created_at"},
	store.Complaints:   {"address", "created_at"},
	store.Allowlist:    {"address", "domain", "reason"},
}

// Submit checks an uploaded CSV's header and stores it for import.
func (im *Importer) Submit(ctx context.Context, domain, list string, data []byte) (store.Import, error) {
	if _, err := readHeader(csv.NewReader(bytes.NewReader(data)), list); err != nil {
		return store.Import{}, err
	}
	now := im.Now().UTC().Truncate(time.Microsecond)
	rec := store.Import{ID: secret.Token(12), Domain: domain, List: list, State: store.ImportPending, Data: data,
		CreatedAt: now, UpdatedAt: now}
	if err := im.Store.CreateImport(ctx, rec); err != nil {
		return store.Import{}, err
	}
	im.Wake()
	rec.Data = nil
	return rec, nil
}

// readHeader reads the header row and returns each known column's index.
func readHeader(r *csv.Reader, list string) (map[string]int, error) {
	head, err := r.Read()
	if err != nil {
		return nil, fault.Invalidf("while reading csv header: %v", err)
	}
	cols := map[string]int{}
	for i, h := range head {
		name := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if !slices.Contains(csvColumns[list], name) {
			return nil, fault.Invalidf("while reading csv header: unknown column %q; %s files have columns %s",
				h, list, strings.Join(csvColumns[list], ","))
		}
		cols[name] = i
	}
	_, hasAddr := cols["address"]
	_, hasDomain := cols["domain"]
	if !hasAddr && !(list == store.Allowlist && hasDomain) {
		return nil, fault.Invalidf("while reading csv header: the address column is missing")
	}
	return cols, nil
}

// Wake makes a worker look for imports now.
func (im *Importer) Wake() { im.poller.Wake() }

// Start runs the worker.
func (im *Importer) Start() {
	if !im.poller.StartInit() {
		return
	}
	if im.Lease == 0 {
		im.Lease = time.Minute
	}
	if im.Poll == 0 {
		im.Poll = 10 * time.Second
	}
	im.owner = secret.Token(8)
	im.Metrics.Go(im.Log, "suppression imports", func() { im.poller.Run(im.Poll, im.tick) })
}

// Stop ends the worker after its current batch; an import in progress is
// finished by whoever claims it next.
func (im *Importer) Stop(ctx context.Context) error { return im.poller.Stop(ctx) }

func (im *Importer) tick() {
	for im.runOne() {
	}
}

// runOne claims and runs one import; false when there was none (or the
// worker is stopping).
func (im *Importer) runOne() bool {
	if im.poller.Stopping() {
		return false
	}
	ctx := context.Background()
	now := im.Now()
	rec, err := im.Store.ClaimImport(ctx, im.owner, now, now.Add(im.Lease))
	if err != nil {
		im.Log.Error("claim suppression import", "err", err)
		return false
	}
	if rec == nil {
		return false
	}
	if err := im.run(ctx, rec); err != nil && !errors.Is(err, store.ErrNotFound) {
		im.Log.Error("suppression import", "id", rec.ID, "domain", rec.Domain, "err", err)
	}
	return true
}

// run adds the rows of rec after those already handled.
func (im *Importer) run(ctx context.Context, rec *store.Import) error {
	r := csv.NewReader(bytes.NewReader(rec.Data))
	r.FieldsPerRecord = -1
	cols, err := readHeader(r, rec.List)
	if err != nil {
		return im.finish(ctx, rec, rec.Rows, err.Error())
	}
	row := 0
	step := im.step(rec, row)
	for {
		if im.poller.Stopping() {
			return nil // the lease runs out and another claim goes on
		}
		fields, err := r.Read()
		if err == io.EOF {
			break
		}
		row++
		if row <= rec.Rows {
			continue
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return im.finish(ctx, rec, row, err.Error())
			}
			failRow(step, row, err.Error())
		} else if s, err := Record(rec.Domain, rec.List, inputOf(fields, cols), im.Now()); err != nil {
			failRow(step, row, errorText(err))
		} else {
			step.Records = append(step.Records, s)
		}
		if step.Rows = row; len(step.Records)+step.Failed >= importBatch {
			if err := im.Store.StepImport(ctx, *step); err != nil {
				return err
			}
			step = im.step(rec, row)
		}
	}
	step.Finish = store.ImportDone
	return im.Store.StepImport(ctx, *step)
}

func (im *Importer) step(rec *store.Import, rows int) *store.ImportStep {
	now := im.Now()
	return &store.ImportStep{ID: rec.ID, Owner: im.owner, Rows: rows, Lease: now.Add(im.Lease), Now: now}
}

func (im *Importer) finish(ctx context.Context, rec *store.Import, rows int, msg string) error {
	s := im.step(rec, rows)
	s.Finish, s.Message = store.ImportFailed, msg
	return im.Store.StepImport(ctx, *s)
}

func errorText(err error) string {
	if f, ok := fault.As(err); ok {
		return f.Message
	}
	return err.Error()
}

func inputOf(fields []string, cols map[string]int) Input {
	get := func(name string) string {
		if i, ok := cols[name]; ok && i < len(fields) {
			return fields[i]
		}
		return ""
	}
	in := Input{Address: get("address"), Code: get("code"), Error: get("error"), CreatedAt: get("created_at"),
		Domain: get("domain"), Reason: get("reason"), Tag: get("tag")}
	if t := get("tags"); t != "" {
		in.Tags = strings.Split(t, ",")
	}
	return in
}

// Status is an import as the API shows it (beyond Mailgun).
type Status struct {
	ID        string              `json:"id"`
	List      string              `json:"list"`
	State     string              `json:"state"`
	Rows      int                 `json:"rows_processed"`
	Added     int                 `json:"added"`
	Failed    int                 `json:"failed"`
	Errors    []store.ImportError `json:"errors"`
	Message   string              `json:"message,omitempty"`
	CreatedAt mgapi.Time          `json:"created_at"`
	UpdatedAt mgapi.Time          `json:"updated_at"`
}

// StatusOf is rec's Status.
func StatusOf(rec store.Import) Status {
	errs := rec.Errors
	if errs == nil {
		errs = []store.ImportError{}
	}
	return Status{ID: rec.ID, List: rec.List, State: rec.State, Rows: rec.Rows, Added: rec.Added, Failed: rec.Failed,
		Errors: errs, Message: rec.Message, CreatedAt: mgapi.Time(rec.CreatedAt), UpdatedAt: mgapi.Time(rec.UpdatedAt)}
}

// failRow records a refused row of s.
func failRow(s *store.ImportStep, row int, msg string) {
	s.Failed++
	if len(s.Errors) < store.MaxImportErrors {
		s.Errors = append(s.Errors, store.ImportError{Row: row, Message: msg})
	}
}
