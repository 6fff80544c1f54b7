// Package storetest is the behaviour suite that every implementation of
// store.Global and store.Regional must pass, in the manner of River's
// riverdrivertest: the dialect packages' tests call Run (and RunMigrations,
// and RunNodes for several store instances on one database) on fresh, empty
// databases of their own.
//
// Invariants the suite holds implementations to: records come back exactly
// as they were stored (whole structs are compared, so a column that is not
// written or read fails), times come back in UTC at microsecond precision
// with the zero time kept zero, a missing record is store.ErrNotFound and a
// uniqueness clash store.ErrConflict (checked with errors.Is, so wrapping is
// allowed), and multi-record writes are atomic.
//
// Every subtest runs in parallel on stores of its own (STYLE.md 12).
package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/store"
	"github.com/salvo-email/salvo/internal/store/sqlstore"
)

// OpenFunc returns a fresh, empty global and regional store for t, closed
// when t ends.
type OpenFunc func(t *testing.T) (store.Global, store.Regional)

// Opener opens the same database each time it is called. The dialect
// packages' tests give one for a fresh database to Stores and
// RunMigrations.
type Opener func(ctx context.Context) (*sqlstore.DB, error)

// Stores returns an OpenFunc that opens two fresh databases of fresh and
// migrates them as a global and a regional store.
func Stores(fresh func(t *testing.T) Opener) OpenFunc {
	return KindStores(func(t *testing.T, _ string) Opener { return fresh(t) })
}

// KindStores returns an OpenFunc that opens a global and a regional store
// on the databases of fresh(t, "global") and fresh(t, "regional"), which
// may be empty or already migrated as that kind (and empty of data): a
// dialect's tests may keep a pool of migrated databases.
func KindStores(fresh func(t *testing.T, kind string) Opener) OpenFunc {
	return func(t *testing.T) (store.Global, store.Regional) {
		t.Helper()
		g, err := sqlstore.OpenGlobal(ctx, openDB(t, fresh(t, "global")))
		mustOK(t, err, "OpenGlobal")
		r, err := sqlstore.OpenRegional(ctx, openDB(t, fresh(t, "regional")))
		mustOK(t, err, "OpenRegional")
		return g, r
	}
}

// Run runs the suite; each subtest calls open for stores of its own.
func Run(t *testing.T, open OpenFunc) {
	t.Helper()
	for _, tc := range append(globalTests[:len(globalTests):len(globalTests)], subaccountTests...) {
		t.Run("Global/"+tc.name, func(t *testing.T) {
			t.Parallel()
			g, _ := open(t)
			tc.fn(t, g)
		})
	}
	for _, topic := range []struct {
		name  string
		tests []regionalTest
	}{
		{"Regional", regionalTests},
		{"Messages", messageTests},
		{"Queue", queueTests},
		{"Events", eventTests},
		{"Webhooks", webhookTests},
		{"Suppressions", suppressionTests}, {"Stats", statsTests},
		{"SMTP", smtpTests},
		{"Templates", templateTests}, {"Lists", listTests}, {"IPPools", ipPoolTests},
		{"Exports", exportTests}, {"Envelopes", envelopeTests},
		{"Accounts", accountTests},
	} {
		for _, tc := range topic.tests {
			t.Run(topic.name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				_, r := open(t)
				tc.fn(t, r)
			})
		}
	}
}

// regionalTest is one test of a regional store.
type regionalTest struct {
	name string
	fn   func(*testing.T, store.Regional)
}

// ctx is the context of every store call; the suite has no deadlines of its
// own (go test -timeout bounds it).
var ctx = context.Background()

// t0 is the base of fixture times: UTC, microsecond precision.
var t0 = time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC)

// at returns t0 plus n seconds, so fixtures get distinct, ordered times.
func at(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }

// hash is a fixture key hash, unique per seed.
func hash(seed string) []byte {
	h := sha256.Sum256([]byte(seed))
	return h[:]
}

// mustOK fails t at once when err is not nil.
func mustOK(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// mustIs fails t unless err matches target (a store sentinel).
func mustIs(t *testing.T, err, target error, what string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}

// mustEqual fails t when got differs from want in any field (see diff).
func mustEqual(t *testing.T, what string, want, got any) {
	t.Helper()
	if d := diff(want, got); d != "" {
		t.Fatalf("%s differs from what was stored:\n%s", what, d)
	}
}

// requireAllSet fails t when a fixture leaves a field (other than those
// named in except) at its zero value: a round trip of such a fixture would
// not notice a column that is never stored.
func requireAllSet(t *testing.T, v any, except ...string) {
	t.Helper()
	rv := reflect.ValueOf(v)
	for i := 0; i < rv.NumField(); i++ {
		name := rv.Type().Field(i).Name
		if rv.Field(i).IsZero() && !contains(except, name) {
			t.Fatalf("fixture %T leaves %s zero; give it a value so the round trip covers it", v, name)
		}
	}
}

// requireAllChanged fails t when after has a field (other than those named
// in except) equal to before's, so an update test covers every column.
func requireAllChanged(t *testing.T, before, after any, except ...string) {
	t.Helper()
	b, a := reflect.ValueOf(before), reflect.ValueOf(after)
	for i := 0; i < b.NumField(); i++ {
		name := b.Type().Field(i).Name
		if reflect.DeepEqual(b.Field(i).Interface(), a.Field(i).Interface()) && !contains(except, name) {
			t.Fatalf("update fixture leaves %T.%s unchanged; change it so the test covers it", before, name)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

var timeType = reflect.TypeOf(time.Time{})

// diff reports, one line per field, how got differs from want; "" when they
// are equal. Times are equal when they are the same instant and got is in
// UTC; a nil and an empty slice are equal.
func diff(want, got any) string {
	var b strings.Builder
	diffValue(&b, fmt.Sprintf("%T", want), reflect.ValueOf(want), reflect.ValueOf(got))
	return b.String()
}

func diffValue(b *strings.Builder, path string, w, g reflect.Value) {
	switch {
	case w.Type() != g.Type():
		fmt.Fprintf(b, "%s: want type %s, got %s\n", path, w.Type(), g.Type())
	case w.Type() == timeType:
		wt, gt := w.Interface().(time.Time), g.Interface().(time.Time)
		if !wt.Equal(gt) || gt.Location() != time.UTC {
			fmt.Fprintf(b, "%s: want %s, got %s\n", path, wt.Format(time.RFC3339Nano), gt.Format(time.RFC3339Nano))
		}
	case w.Kind() == reflect.Struct:
		for i := 0; i < w.NumField(); i++ {
			diffValue(b, path+"."+w.Type().Field(i).Name, w.Field(i), g.Field(i))
		}
	case w.Kind() == reflect.Slice && w.Type().Elem().Kind() == reflect.Uint8:
		if !bytes.Equal(w.Bytes(), g.Bytes()) {
			fmt.Fprintf(b, "%s: want %x, got %x\n", path, w.Bytes(), g.Bytes())
		}
	case w.Kind() == reflect.Slice:
		if w.Len() != g.Len() {
			fmt.Fprintf(b, "%s: want %d elements %+v, got %d %+v\n", path, w.Len(), w.Interface(), g.Len(), g.Interface())
			return
		}
		for i := 0; i < w.Len(); i++ {
			diffValue(b, fmt.Sprintf("%s[%d]", path, i), w.Index(i), g.Index(i))
		}
	case !reflect.DeepEqual(w.Interface(), g.Interface()):
		fmt.Fprintf(b, "%s: want %#v, got %#v\n", path, w.Interface(), g.Interface())
	}
}
