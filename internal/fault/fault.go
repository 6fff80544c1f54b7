// Package fault is the error vocabulary of Salvo's use cases: an error a
// client caused, or one the client should be told about, carries a Kind
// (what went wrong, in words no protocol owns) and the message Mailgun
// shows for it. It imports only the standard library.
//
// Use cases return *Error; each edge turns the Kind into its protocol's
// answer in one place: the HTTP API's error writer (package api) maps
// Invalid to 400, NotFound to 404 and so on, the dashboard (package web)
// renders its error page with the same statuses, and the SMTP edges
// (submission, inbound) map TooLarge to 552 5.3.4 and every other client
// kind to a permanent 5xx reply (RFC 5321 §4.2.1, RFC 3463 codes). The
// model is mox's webapi.Error{Code}, mapped to HTTP in webapisrv.
//
// Invariant: the Message is what the client reads, word for word (Mailgun's
// text where Mailgun has one); it never holds secrets. Errors without a
// Kind (store failures, I/O) are not faults: edges answer them as internal
// or temporary failures and log them.
package fault

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Kind says what kind of failure an Error is. The zero Kind is Internal.
type Kind int

// The kinds. Each edge maps every one of them; a new Kind needs a case in
// the API's error writer, the dashboard's and the SMTP edges'.
const (
	// Internal is a failure of ours the client cannot fix (HTTP 500).
	Internal Kind = iota
	// Invalid is a malformed or refused request: a bad parameter, a
	// missing field, an address that does not parse (HTTP 400).
	Invalid
	// Unauthorized is missing or wrong credentials (HTTP 401).
	Unauthorized
	// Forbidden is a request the caller may not make, or a limit of the
	// account that refuses it (HTTP 403).
	Forbidden
	// NotFound is a thing that does not exist (HTTP 404).
	NotFound
	// Conflict is a thing that already exists, or a state that forbids
	// the change (HTTP 409).
	Conflict
	// TooLarge is a message or request over a size limit (HTTP 413,
	// SMTP 552).
	TooLarge
	// TooMany is a rate limit; RetryAfter says when to try again (HTTP
	// 429).
	TooMany
	// Unavailable is a service that cannot answer now; the same request
	// may work later (HTTP 503).
	Unavailable
)

var kindNames = [...]string{"internal", "invalid", "unauthorized", "forbidden", "not found", "conflict",
	"too large", "too many", "unavailable"}

func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Client reports whether k is the client's doing (everything but Internal
// and Unavailable): an SMTP edge answers it with a permanent reply.
func (k Kind) Client() bool { return k != Internal && k != Unavailable }

// HTTPStatus is the status Mailgun answers for a fault of kind k; both
// HTTP edges (the API's one error writer and the dashboard's error page)
// use it, the SMTP edges have their own mapping.
func (k Kind) HTTPStatus() int {
	switch k {
	case Invalid:
		return http.StatusBadRequest
	case Unauthorized:
		return http.StatusUnauthorized
	case Forbidden:
		return http.StatusForbidden
	case NotFound:
		return http.StatusNotFound
	case Conflict:
		return http.StatusConflict
	case TooLarge:
		return http.StatusRequestEntityTooLarge
	case TooMany:
		return http.StatusTooManyRequests
	case Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// Error is a failure to tell the client about.
type Error struct {
	Kind    Kind
	Message string
	// Key is the JSON key Mailgun puts the message under: "" for
	// "message", or "Reason" and "Description" (the webhook endpoints).
	Key string
	// Extra keys written beside the message in Mailgun's JSON body.
	Extra map[string]any
	// RetryAfter, when set, says how long the client should wait (the
	// HTTP edges send it as Retry-After).
	RetryAfter time.Duration
}

func (e *Error) Error() string { return e.Kind.String() + ": " + e.Message }

// Fault returns e itself: *Error is a Faulter.
func (e *Error) Fault() *Error { return e }

// Faulter is an error that can say which fault it is. An error type of
// another package may implement it so that every edge understands it
// through As.
type Faulter interface {
	error
	Fault() *Error
}

// As returns the fault in err's chain: an *Error or any Faulter.
func As(err error) (*Error, bool) {
	var f Faulter
	if errors.As(err, &f) {
		if e := f.Fault(); e != nil {
			return e, true
		}
	}
	return nil, false
}

// KindOf returns the Kind of err's fault, or Internal when err is not one.
func KindOf(err error) Kind {
	if e, ok := As(err); ok {
		return e.Kind
	}
	return Internal
}

// New makes an Error of kind k with a formatted message.
func New(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

// Invalidf is a client mistake (HTTP 400).
func Invalidf(format string, args ...any) *Error { return New(Invalid, format, args...) }

// NotFoundf is a thing that does not exist (HTTP 404).
func NotFoundf(format string, args ...any) *Error { return New(NotFound, format, args...) }

// Conflictf is a thing that exists already (HTTP 409).
func Conflictf(format string, args ...any) *Error { return New(Conflict, format, args...) }

// Forbiddenf is a refusal (HTTP 403).
func Forbiddenf(format string, args ...any) *Error { return New(Forbidden, format, args...) }

// Unauthorizedf is a credentials failure (HTTP 401).
func Unauthorizedf(format string, args ...any) *Error { return New(Unauthorized, format, args...) }

// TooLargef is a size limit (HTTP 413, SMTP 552).
func TooLargef(format string, args ...any) *Error { return New(TooLarge, format, args...) }

// TooManyf is a rate limit (HTTP 429); set RetryAfter on the result.
func TooManyf(format string, args ...any) *Error { return New(TooMany, format, args...) }

// Unavailablef is a service that cannot answer now (HTTP 503).
func Unavailablef(format string, args ...any) *Error { return New(Unavailable, format, args...) }
