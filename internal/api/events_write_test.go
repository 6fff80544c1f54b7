package api

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/events"
	"github.com/salvo-email/salvo/internal/mgapi"
)

// TestEventsPageWrite: the events page written without the encoder is
// byte for byte what writeJSON writes, for events whose JSON holds what
// the encoder could treat differently (HTML characters, U+2028, escapes).
func TestEventsPageWrite(t *testing.T) {
	t.Parallel()
	mi := &events.MessageInfo{Domain: "a&b.com", StorageKey: "k", StorageURL: "https://x/k?a=1&b=<2>", MessageID: "m@a.com",
		From: "Ünï <s@a.com>", To: strings.Repeat("r@x.com, ", 100), Subject: "a <b> & \"c\" \u2028 \\ \t",
		Tags: []string{"<t>"}, UserVariables: map[string]any{"v": "x\u2029y", "n": 1e21}, Method: "http", Sender: "s@a.com"}
	at := time.Unix(1700000000, 0)
	for _, items := range [][]json.RawMessage{nil, {}, {
		json.RawMessage(events.NewAccepted(mi, "r@x.com", nil, at).Data),
		json.RawMessage(events.NewDelivered(mi, "r@x.com", nil, mgapi.DeliveryStatus{Code: 250, Message: "<ok> &"}, at).Data),
	}} {
		if items == nil {
			items = []json.RawMessage{}
		}
		p := eventsPage{Items: items, Paging: mgapi.Paging{First: "https://h/v3/a&b/events/x<y>", Last: "l", Next: "n", Previous: "p"}}
		want, got := httptest.NewRecorder(), httptest.NewRecorder()
		writeJSON(want, 200, p)
		p.write(got)
		if got.Body.String() != want.Body.String() || got.Code != want.Code ||
			got.Header().Get("Content-Type") != want.Header().Get("Content-Type") {
			t.Fatalf("wrote %d %q\n%s\nwant %d %q\n%s", got.Code, got.Header(), got.Body, want.Code, want.Header(), want.Body)
		}
	}
}
