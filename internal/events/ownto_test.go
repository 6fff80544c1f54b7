package events

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/mgapi"
)

// TestOwnTo: with OwnTo every kind of event names only its recipient in
// message.headers.to; without it the message's To is kept.
func TestOwnTo(t *testing.T) {
	t.Parallel()
	mi := &MessageInfo{Domain: "mg.example.com", To: "<a@x.example>, <b@x.example>", MessageID: "m@x"}
	now := time.Now()
	for _, own := range []bool{false, true} {
		mi.OwnTo = own
		want := mi.To
		if own {
			want = "b@x.example"
		}
		for _, e := range []struct {
			name string
			data []byte
		}{
			{"accepted", NewAccepted(mi, "b@x.example", nil, now).Data},
			{"opened", NewEngagement(mi, Opened, "b@x.example", Engagement{}, now).Data},
		} {
			var ev mgapi.Event
			if err := json.Unmarshal(e.data, &ev); err != nil {
				t.Fatal(err)
			}
			if ev.Message.Headers.To != want {
				t.Errorf("OwnTo %v, %s: to = %q, want %q", own, e.name, ev.Message.Headers.To, want)
			}
		}
	}
}
