package delivery

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/store"
)

// countingStore answers Domain and counts message reads.
type countingStore struct {
	store.Regional
	reads int
}

func (s *countingStore) Domain(_ context.Context, name string) (store.Domain, error) {
	return store.Domain{Name: name}, nil
}

func (s *countingStore) Message(_ context.Context, domain, key string) (store.Message, error) {
	s.reads++
	return store.Message{Key: key, Domain: domain, Body: []byte("from the store"), Meta: []byte(`{}`)}, nil
}

func (s *countingStore) Messages(context.Context, string, []string) ([]store.Message, error) {
	s.reads++
	return nil, errors.New("not in this test")
}

// TestAcceptedMessagesNeedNoRead: a message handed over at accept is
// delivered from memory, once; one not handed over, too big, or held past
// freshMaxAge is read from the store; a full hand-over refuses new
// messages rather than drop the oldest (the next to be delivered).
func TestAcceptedMessagesNeedNoRead(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	clock := now
	st := &countingStore{}
	e := New(Config{}, Deps{Store: st, Now: func() time.Time { return clock }})
	ctx := context.Background()
	msg := func(key string, size int) store.Message {
		return store.Message{Key: key, Domain: "a.example", Body: []byte(strings.Repeat("x", size)), Meta: []byte(`{}`)}
	}
	job := func(key string) store.Job { return store.Job{MessageKey: key, Domain: "a.example"} }
	load := func(key string) string {
		t.Helper()
		l, err := e.load(ctx, job(key))
		if err != nil {
			t.Fatalf("load %s: %v", key, err)
		}
		return string(l.msg.Body)
	}

	e.Accepted(msg("m1", 10))
	if got := load("m1"); got != strings.Repeat("x", 10) || st.reads != 0 {
		t.Fatalf("handed-over m1: body %q after %d store reads, want its body and none", got, st.reads)
	}
	if e.fresh.has("m1") {
		t.Fatal("m1 is still held after its delivery loaded it")
	}
	if got := load("m2"); got != "from the store" || st.reads != 1 {
		t.Fatalf("m2, not handed over: body %q after %d reads, want the store's", got, st.reads)
	}

	e.Accepted(msg("big", freshMaxSize+1))
	if e.fresh.has("big") {
		t.Fatal("a message over freshMaxSize is held")
	}

	e.Accepted(msg("old", 10))
	clock = clock.Add(freshMaxAge)
	e.Accepted(msg("new", 10))
	if e.fresh.has("old") || !e.fresh.has("new") {
		t.Fatalf("after freshMaxAge: old held %v, new held %v; want only new", e.fresh.has("old"), e.fresh.has("new"))
	}

	var keys []string
	for i := 0; e.fresh.size+freshMaxSize <= freshLimit; i++ {
		k := fmt.Sprint("fill", i)
		e.Accepted(msg(k, freshMaxSize))
		keys = append(keys, k)
	}
	e.Accepted(msg("late", freshMaxSize))
	if e.fresh.has("late") || !e.fresh.has(keys[0]) {
		t.Fatalf("when full: late held %v, first held %v; want the first kept and late refused", e.fresh.has("late"), e.fresh.has(keys[0]))
	}
	if e.fresh.size > freshLimit {
		t.Fatalf("%d bytes held, over the %d limit", e.fresh.size, freshLimit)
	}
}
