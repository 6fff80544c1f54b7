// Package wire is the deprecated home of Mailgun's shapes and of the API's
// error type. The shapes, dates and request parameters moved to package
// mgapi and the error vocabulary to package fault; what is left here
// are aliases, so that code written against wire still builds, and Error,
// which the API's error writer still understands (and every other edge
// through fault.As, by its Fault method).
//
// Deprecated: new code uses mgapi and fault; scripts/unwire.sh rewrites
// old uses. No package outside internal/api may import this one
// (internal/app's TestImportRule).
package wire

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/salvo-email/salvo/internal/fault"
)

// Error is an API error with an HTTP status.
//
// Deprecated: return a *fault.Error (fault.Invalidf, fault.NotFoundf,
// fault.New(kind, ...)); the API's error writer maps its Kind to the status.
type Error struct {
	Status  int
	Message string
	// Key is the JSON key of the message: "message" (default) or "Reason"
	// (the webhook endpoints' capitalised form).
	Key string
	// Plain writes Message as text/plain instead of JSON.
	Plain bool
	// Extra keys written beside the message.
	Extra map[string]any
	// Header values to set (Retry-After).
	Header http.Header
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s", e.Status, e.Message) }

// Fault is e in the fault vocabulary, so that edges which know only
// package fault (SMTP, the dashboard) understand it: the status becomes
// its Kind (KindOf), Retry-After becomes RetryAfter.
func (e *Error) Fault() *fault.Error {
	f := &fault.Error{Kind: KindOf(e.Status), Message: e.Message, Key: e.Key, Extra: e.Extra}
	if s, err := strconv.Atoi(e.Header.Get("Retry-After")); err == nil {
		f.RetryAfter = time.Duration(s) * time.Second
	}
	return f
}

// KindOf is the fault kind of an HTTP status: the inverse of the API's
// mapping, for the statuses Salvo answers (any other 4xx is Invalid, any
// other 5xx Internal).
func KindOf(status int) fault.Kind {
	switch status {
	case http.StatusBadRequest:
		return fault.Invalid
	case http.StatusUnauthorized:
		return fault.Unauthorized
	case http.StatusForbidden:
		return fault.Forbidden
	case http.StatusNotFound:
		return fault.NotFound
	case http.StatusConflict:
		return fault.Conflict
	case http.StatusRequestEntityTooLarge:
		return fault.TooLarge
	case http.StatusTooManyRequests:
		return fault.TooMany
	case http.StatusServiceUnavailable:
		return fault.Unavailable
	}
	if status >= 400 && status < 500 {
		return fault.Invalid
	}
	return fault.Internal
}

// Errorf makes an Error with a formatted message.
//
// Deprecated: use fault.New(kind, ...) or the kind's constructor
// (http.StatusConflict → fault.Conflictf, …).
func Errorf(status int, format string, args ...any) *Error {
	return &Error{Status: status, Message: fmt.Sprintf(format, args...)}
}

// BadRequest is a 400 with the given message.
//
// Deprecated: use fault.Invalidf.
func BadRequest(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, format, args...)
}

// NotFound is a 404 with the given message.
//
// Deprecated: use fault.NotFoundf.
func NotFound(format string, args ...any) *Error {
	return Errorf(http.StatusNotFound, format, args...)
}
