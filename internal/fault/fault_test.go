package fault_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/fault"
)

// legacy is an error type of another package that can say its fault
// (a Faulter).
type legacy struct{ status int }

func (l *legacy) Error() string { return fmt.Sprint(l.status) }
func (l *legacy) Fault() *fault.Error {
	if l.status == 404 {
		return fault.NotFoundf("gone")
	}
	return nil
}

func TestAsAndKindOf(t *testing.T) {
	t.Parallel()
	e := fault.Conflictf("domain %s exists", "a.example")
	wrapped := fmt.Errorf("create: %w", e)
	if f, ok := fault.As(wrapped); !ok || f != e || f.Message != "domain a.example exists" {
		t.Errorf("As(wrapped) = %v, %v; want the fault itself", f, ok)
	}
	if k := fault.KindOf(wrapped); k != fault.Conflict {
		t.Errorf("KindOf(wrapped) = %v", k)
	}
	if f, ok := fault.As(errors.New("disk full")); ok || f != nil || fault.KindOf(errors.New("x")) != fault.Internal {
		t.Errorf("a plain error is a fault: %v", f)
	}
	if fault.KindOf(nil) != fault.Internal {
		t.Error("KindOf(nil) is not Internal")
	}
	if f, ok := fault.As(fmt.Errorf("x: %w", &legacy{404})); !ok || f.Kind != fault.NotFound {
		t.Errorf("a Faulter's fault was not found: %v %v", f, ok)
	}
	if _, ok := fault.As(&legacy{500}); ok {
		t.Error("a Faulter without a fault counted as one")
	}
}

func TestKinds(t *testing.T) {
	t.Parallel()
	ctors := map[fault.Kind]func(string, ...any) *fault.Error{
		fault.Invalid: fault.Invalidf, fault.NotFound: fault.NotFoundf, fault.Conflict: fault.Conflictf,
		fault.Forbidden: fault.Forbiddenf, fault.Unauthorized: fault.Unauthorizedf, fault.TooLarge: fault.TooLargef,
		fault.TooMany: fault.TooManyf, fault.Unavailable: fault.Unavailablef,
	}
	for k, ctor := range ctors {
		e := ctor("n=%d", 7)
		if e.Kind != k || e.Message != "n=7" {
			t.Errorf("%v constructor made %+v", k, e)
		}
		want := k != fault.Unavailable
		if k.Client() != want {
			t.Errorf("%v.Client() = %v, want %v", k, k.Client(), want)
		}
	}
	if fault.Internal.Client() {
		t.Error("Internal is the client's doing")
	}
	if s := fault.Kind(99).String(); s != "kind(99)" {
		t.Errorf("unknown kind prints %q", s)
	}
	e := fault.TooManyf("slow down")
	e.RetryAfter = 3 * time.Second
	if e.Error() != "too many: slow down" {
		t.Errorf("Error() = %q", e.Error())
	}
}
