package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/salvo-email/salvo/internal/fault"
)

// setRetryAfter sends f's RetryAfter, when it has one, in whole seconds
// rounded up.
func setRetryAfter(h http.Header, f *fault.Error) {
	if f.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(int((f.RetryAfter+time.Second-1)/time.Second)))
	}
}
