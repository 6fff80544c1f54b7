package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mailgun/mailgun-go/v4"

	"github.com/salvo-email/salvo/internal/testutil"
	"github.com/salvo-email/salvo/internal/webhooks"
)

// TestSigningKey: the account's HTTP signing key is created once, stays the
// same until regenerated, and signatures made with it verify with
// mailgun-go's VerifyWebhookSignature.
func TestSigningKey(t *testing.T) {
	t.Parallel()
	ta := testutil.StartApp(t, testutil.AppOptions{})
	type keyJSON struct {
		Message string `json:"message"`
		Key     string `json:"http_signing_key"`
	}
	get := func() keyJSON {
		var k keyJSON
		r := ta.Call(t, http.MethodGet, "/v5/accounts/http_signing_key", ta.Key, testutil.NoBody).Want(t, http.StatusOK)
		if err := json.Unmarshal([]byte(r.Body), &k); err != nil || len(k.Key) < 20 {
			t.Fatalf("signing key %s: %v", r.Body, err)
		}
		return k
	}
	first := get()
	if again := get(); again.Key != first.Key {
		t.Fatalf("signing key changed between reads: %q then %q", first.Key, again.Key)
	}
	var regen keyJSON
	r := ta.Call(t, http.MethodPost, "/v5/accounts/http_signing_key", ta.Key, testutil.NoBody).Want(t, http.StatusOK)
	if err := json.Unmarshal([]byte(r.Body), &regen); err != nil || regen.Message != "regenerated HTTP signing key for account" || regen.Key == first.Key {
		t.Fatalf("regenerate: %s", r.Body)
	}
	if now := get(); now.Key != regen.Key {
		t.Fatalf("after regenerate GET says %q, want %q", now.Key, regen.Key)
	}

	mg := mailgun.NewMailgun("example.com", ta.Key)
	mg.SetWebhookSigningKey(regen.Key)
	sig := webhooks.Sign([]byte(regen.Key), time.Now())
	ok, err := mg.VerifyWebhookSignature(mailgun.Signature{TimeStamp: sig.Timestamp, Token: sig.Token, Signature: sig.Signature})
	if err != nil || !ok {
		t.Fatalf("mailgun-go does not verify our signature: %v %v", ok, err)
	}
	last := "0" // a changed last character: the token ends in 0 one time in 16
	if strings.HasSuffix(sig.Token, last) {
		last = "1"
	}
	sig.Token = sig.Token[:len(sig.Token)-1] + last
	if ok, _ := mg.VerifyWebhookSignature(mailgun.Signature{TimeStamp: sig.Timestamp, Token: sig.Token, Signature: sig.Signature}); ok || webhooks.Verify([]byte(regen.Key), sig) {
		t.Fatal("a tampered token still verifies")
	}
}
