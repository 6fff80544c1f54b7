package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/salvo-email/salvo/internal/testutil"
)

// What the authorization matrix puts in {address} and {tag}.
const (
	matrixAddress = "nobody@example.com"
	matrixTag     = "matrix"
)

// seedRoute creates what a route of pattern acts on in domain, so that the
// primary key's DELETE finds it, and returns a query string the route
// needs ("" for none): matrixAddress on every suppression list, and a tag
// made by sending a test-mode message with it.
func seedRoute(t *testing.T, ta *testutil.TestApp, pattern, domain string) string {
	t.Helper()
	if strings.Contains(pattern, "{address}") {
		for _, list := range []string{"bounces", "unsubscribes", "complaints", "whitelists"} {
			ta.Call(t, http.MethodPost, "/v3/"+domain+"/"+list, ta.Key,
				testutil.Form(url.Values{"address": {matrixAddress}})).Want(t, http.StatusOK)
		}
	}
	if !strings.Contains(pattern, "{tag}") && !strings.HasSuffix(pattern, "/tag") && !strings.HasSuffix(pattern, "/tag/stats") {
		return ""
	}
	ta.Call(t, http.MethodPost, "/v3/"+domain+"/messages", ta.Key, testutil.Form(url.Values{
		"from": {"a@" + domain}, "to": {"b@example.com"}, "subject": {"s"}, "text": {"t"},
		"o:tag": {matrixTag}, "o:testmode": {"yes"}})).Want(t, http.StatusOK)
	if strings.Contains(pattern, "{tag}") {
		return ""
	}
	return "?tag=" + matrixTag
}
