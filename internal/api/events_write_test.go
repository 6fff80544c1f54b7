package api

import (
	"encoding/json"
	"net/http/httptest"
	"strconv"
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
		if cl := got.Header().Get("Content-Length"); cl != strconv.Itoa(got.Body.Len()) {
			t.Errorf("Content-Length %q for a body of %d bytes", cl, got.Body.Len())
		}
		// The same page split as the store returns it for the API: each
		// item without its message-level members, put back as written.
		split := eventsPage{Paging: p.Paging}
		for i, it := range items {
			if i == 0 {
				split.Items, split.parts = append(split.Items, it), append(split.parts, events.Part{At: -1})
				continue // one item stored whole
			}
			cut := strings.Index(string(it), `,"message":`)
			end := strings.Index(string(it), `,"delivery-status":`)
			if cut < 0 || end < cut {
				t.Fatalf("item %d has no message members to cut: %s", i, it)
			}
			rest := append(append([]byte{}, it[:cut]...), it[end:]...)
			split.Items = append(split.Items, rest)
			split.parts = append(split.parts, events.Part{Part: string(it[cut:end]), At: cut})
		}
		sgot := httptest.NewRecorder()
		split.write(sgot)
		if sgot.Body.String() != want.Body.String() || sgot.Header().Get("Content-Length") != strconv.Itoa(want.Body.Len()) {
			t.Fatalf("split page wrote (Content-Length %s)\n%s\nwant\n%s", sgot.Header().Get("Content-Length"), sgot.Body, want.Body)
		}
	}
}
