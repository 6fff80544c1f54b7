package wire

import (
	"fmt"
	"net/http"
)

// Error is an API error with Mailgun's status and body. Handlers return it;
// the one error writer in package api turns it into a response.
type Error struct {
	Status  int
	Message string
	// Key is the JSON key of the message: "message" (default) or "Reason"
	// (the webhook endpoints' capitalised form).
	Key string
	// Plain writes Message as text/plain instead of JSON (401 "Forbidden" on
	// the send endpoints).
	Plain bool
	// Extra keys written beside the message.
	Extra map[string]any
	// Header values to set (Retry-After).
	Header http.Header
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s", e.Status, e.Message) }

// Errorf makes an Error with a formatted message.
func Errorf(status int, format string, args ...any) *Error {
	return &Error{Status: status, Message: fmt.Sprintf(format, args...)}
}

// BadRequest is a 400 with the given message.
func BadRequest(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, format, args...)
}

// NotFound is a 404 with the given message.
func NotFound(format string, args ...any) *Error {
	return Errorf(http.StatusNotFound, format, args...)
}

// Message is the `{"message": "..."}` body of most successful writes.
type Message struct {
	Message string `json:"message"`
}
