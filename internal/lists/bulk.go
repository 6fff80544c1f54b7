package lists

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"sync/atomic"

	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/secret"
	"github.com/salvo-email/salvo/internal/store"
)

// Bulk upload limits (docs/mailgun-contract.md §5.2).
const (
	MaxJSONMembers = 1000
	MaxCSVBytes    = 5 * 1024 * 1024
	// chunk is how many members one transaction of an upload writes; an
	// upload of more runs in the background.
	chunk = 1000
)

// Upload is the outcome of a bulk upload: done at once, or TaskID names
// the background task still writing.
type Upload struct {
	List   store.MailingList
	TaskID string
}

// Task is a background upload's progress.
type Task struct {
	ID        string `json:"task-id"`
	List      string `json:"list"`
	Total     int    `json:"total"`
	processed atomic.Int64
	status    atomic.Value // "running", "done", "failed: …"
}

// TaskView is what GET …/tasks/{id} shows.
type TaskView struct {
	ID        string `json:"task-id"`
	List      string `json:"list"`
	Status    string `json:"status"`
	Processed int    `json:"processed"`
	Total     int    `json:"total"`
}

// Task returns a background upload's progress.
func (s *Service) Task(id string) (TaskView, bool) {
	v, ok := s.tasks.Load(id)
	if !ok {
		return TaskView{}, false
	}
	t := v.(*Task)
	return TaskView{ID: t.ID, List: t.List, Status: t.status.Load().(string), Processed: int(t.processed.Load()), Total: t.Total}, true
}

// bulkMember is one entry of members.json: a string ("Bob <bob@x>") or an
// object whose vars may be an object or a JSON string and subscribed a
// boolean or yes/no.
type bulkMember struct {
	Address    string          `json:"address"`
	Name       *string         `json:"name"`
	Vars       json.RawMessage `json:"vars"`
	Subscribed json.RawMessage `json:"subscribed"`
}

// ParseJSONMembers reads the `members` parameter of members.json.
func ParseJSONMembers(raw string) ([]store.Member, error) {
	var entries []json.RawMessage
	if err := json.Unmarshal([]byte(raw), &entries); err != nil {
		return nil, fault.Invalidf("'members' parameter must be a JSON array of addresses or member objects")
	}
	if len(entries) > MaxJSONMembers {
		return nil, fault.Invalidf("'members' holds %d members; at most %d can be added in one request", len(entries), MaxJSONMembers)
	}
	out := make([]store.Member, 0, len(entries))
	for i, e := range entries {
		m, err := jsonMember(e)
		if err != nil {
			return nil, fault.Invalidf("'members' entry %d: %s", i, message(err))
		}
		out = append(out, m)
	}
	return out, nil
}

func message(err error) string {
	if f, ok := fault.As(err); ok {
		return f.Message
	}
	return err.Error()
}

func jsonMember(e json.RawMessage) (store.Member, error) {
	var s string
	if json.Unmarshal(e, &s) == nil {
		in := MemberInput{Address: &s}
		return newMember(in)
	}
	var b bulkMember
	if err := json.Unmarshal(e, &b); err != nil {
		return store.Member{}, fault.Invalidf("must be an address or an object")
	}
	in := MemberInput{Address: &b.Address, Name: b.Name}
	if len(b.Vars) > 0 && string(b.Vars) != "null" {
		vars := string(b.Vars)
		if b.Vars[0] == '"' {
			_ = json.Unmarshal(b.Vars, &vars)
		}
		in.Vars = &vars
	}
	if len(b.Subscribed) > 0 && string(b.Subscribed) != "null" {
		v, ok := jsonBool(b.Subscribed)
		if !ok {
			return store.Member{}, fault.Invalidf("subscribed must be true, false, yes or no")
		}
		in.Subscribed = &v
	}
	return newMember(in)
}

func jsonBool(raw json.RawMessage) (bool, bool) {
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return b, true
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return mgapi.ParseBool(s)
	}
	return false, false
}

func newMember(in MemberInput) (store.Member, error) {
	m := store.Member{Vars: map[string]any{}, Subscribed: true}
	err := applyMember(&m, in)
	return m, err
}

// ParseCSVMembers reads a members.csv upload: a header row naming the
// columns (address, name, vars, subscribed; only address is required),
// or, without one, the address in the first column and the name in the
// second. subscribed is the default of rows that do not say.
func ParseCSVMembers(r io.Reader, subscribed bool) ([]store.Member, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	rows, err := cr.ReadAll()
	if err != nil {
		return nil, fault.Invalidf("'members' is not a valid CSV file: %v", err)
	}
	cols := map[string]int{"address": 0, "name": 1}
	if len(rows) > 0 && headerRow(rows[0]) {
		cols = map[string]int{}
		for i, c := range rows[0] {
			cols[strings.ToLower(strings.TrimSpace(c))] = i
		}
		rows = rows[1:]
	}
	out := make([]store.Member, 0, len(rows))
	for n, row := range rows {
		cell := func(name string) *string {
			if i, ok := cols[name]; ok && i < len(row) {
				v := strings.TrimSpace(row[i])
				return &v
			}
			return nil
		}
		in := MemberInput{Address: cell("address"), Name: cell("name"), Vars: cell("vars"), Subscribed: &subscribed}
		if in.Address == nil || *in.Address == "" {
			continue // blank line
		}
		if v := cell("subscribed"); v != nil && *v != "" {
			b, ok := mgapi.ParseBool(*v)
			if !ok {
				return nil, fault.Invalidf("CSV row %d: subscribed must be yes, no, true or false", n+1)
			}
			in.Subscribed = &b
		}
		m, err := newMember(in)
		if err != nil {
			return nil, fault.Invalidf("CSV row %d: %s", n+1, message(err))
		}
		out = append(out, m)
	}
	return out, nil
}

func headerRow(row []string) bool {
	for _, c := range row {
		if strings.EqualFold(strings.TrimSpace(c), "address") {
			return true
		}
	}
	return false
}

// AddMembers writes a bulk upload: at once, in one transaction, when it
// fits one chunk; otherwise in the background, chunk by chunk, with a
// task to follow it by.
func (s *Service) AddMembers(ctx context.Context, list string, ms []store.Member, upsert bool) (Upload, error) {
	l, err := s.Get(ctx, list)
	if err != nil {
		return Upload{}, err
	}
	if len(ms) <= chunk {
		if _, err := s.Store.AddMembers(ctx, l.Address, ms, upsert); err != nil {
			return Upload{}, notFoundList(err, l.Address)
		}
		l, err = s.Get(ctx, l.Address)
		return Upload{List: l}, err
	}
	t := &Task{ID: secret.Token(12), List: l.Address, Total: len(ms)}
	t.status.Store("running")
	s.tasks.Store(t.ID, t)
	s.start()
	s.wg.Add(1)
	s.Metrics.Go(s.Log, "list upload", func() { s.upload(t, ms, upsert) })
	return Upload{List: l, TaskID: t.ID}, nil
}

func notFoundList(err error, list string) error {
	if errors.Is(err, store.ErrNotFound) {
		return ListNotFound(list)
	}
	return err
}

func (s *Service) start() {
	s.once.Do(func() { s.closed = make(chan struct{}) })
}

// upload writes ms chunk by chunk; Close stops it between chunks.
func (s *Service) upload(t *Task, ms []store.Member, upsert bool) {
	log := s.Log
	defer s.wg.Done()
	ended := false
	defer func() {
		if !ended { // a panic: Metrics.Go counts it
			t.status.Store("failed: internal error")
		}
	}()
	ctx := context.Background()
	for start := 0; start < len(ms); start += chunk {
		select {
		case <-s.closed:
			t.status.Store("failed: the server stopped; upload the rest again")
			ended = true
			return
		default:
		}
		part := ms[start:min(len(ms), start+chunk)]
		if _, err := s.Store.AddMembers(ctx, t.List, part, upsert); err != nil {
			t.status.Store("failed: " + err.Error())
			ended = true
			log.Error("list upload failed", "list", t.List, "task", t.ID, "processed", start, "err", err)
			return
		}
		t.processed.Add(int64(len(part)))
	}
	t.status.Store("done")
	ended = true
	log.Info("list upload done", "list", t.List, "task", t.ID, "members", len(ms))
}

// Close stops background uploads between chunks and waits for them.
func (s *Service) Close() {
	s.start()
	select {
	case <-s.closed:
	default:
		close(s.closed)
	}
	s.wg.Wait()
}
