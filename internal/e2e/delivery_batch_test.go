package e2e

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message"
	gomail "github.com/emersion/go-message/mail"
	"github.com/mailgun/mailgun-go/v4"
	"github.com/mailgun/mailgun-go/v4/events"

	"github.com/salvo-email/salvo/internal/config"
	"github.com/salvo-email/salvo/internal/testutil"
)

// TestDeliveryConnectionReuse: messages due together for one destination
// share one SMTP connection.
func TestDeliveryConnectionReuse(t *testing.T) {
	t.Parallel()
	forEachStore(t, "reuse.test", func(t *testing.T, e *deliveryEnv, mx *testutil.FakeMX) {
		const n = 20
		due := e.Clock.Now().Add(time.Minute)
		ids := map[string]bool{}
		for i := range n {
			m := e.message(fmt.Sprintf("user%d@reuse.test", i))
			m.SetDeliveryTime(due)
			ids[e.send(m)] = true
		}
		e.advance(time.Minute)
		got := mx.WaitRecipients(t, n, waitTimeout)
		seen := map[string]bool{}
		for _, r := range got {
			h := headerOf(t, r.Data)
			id, _ := h.MessageID()
			seen[id] = true
		}
		if len(got) != n || len(seen) != n {
			t.Fatalf("received %d messages, %d distinct, want %d", len(got), len(seen), n)
		}
		for id := range ids {
			if !seen[id] {
				t.Errorf("message %s not received", id)
			}
		}
		if s := mx.Sessions(); s > 2 {
			t.Fatalf("%d messages took %d connections", n, s)
		}
	})
}

// TestDeliveryPerDestinationLimit: the engine never holds more connections
// to one destination than PerDestination, and uses them in parallel when
// allowed. 250 recipients make three connections' worth of jobs.
func TestDeliveryPerDestinationLimit(t *testing.T) {
	t.Parallel()
	for _, limit := range []int{1, 3} {
		t.Run(fmt.Sprintf("limit%d", limit), func(t *testing.T) {
			t.Parallel()
			e, mx := startEnvMX(t, envOptions{configure: func(c *config.Config) { c.PerDestination = limit }}, "limit.test")
			if limit > 1 {
				// Hold every message until a second connection is open, so
				// parallel connections are seen whatever the timing.
				mx.SetDataHook(func() {
					for deadline := time.Now().Add(waitTimeout); e.Net.MaxOpen(mx) < 2 && time.Now().Before(deadline); {
						time.Sleep(5 * time.Millisecond)
					}
				})
			}
			const n = 250
			var rcpts []string
			for i := range n {
				rcpts = append(rcpts, fmt.Sprintf("u%03d@limit.test", i))
			}
			e.send(e.message(rcpts...))
			got := mx.WaitRecipients(t, n, waitTimeout)
			seen := map[string]int{}
			for _, r := range got {
				for _, to := range r.To {
					seen[to]++
				}
			}
			if len(seen) != n {
				t.Fatalf("%d distinct recipients received, want %d", len(seen), n)
			}
			if open := e.Net.MaxOpen(mx); open > limit || (limit > 1 && open < 2) {
				t.Fatalf("at most %d connections were open at once, limit %d", open, limit)
			}
			if s := mx.Sessions(); s < 3 {
				t.Fatalf("%d recipients went over %d connections, want one per 100", n, s)
			}
		})
	}
}

// TestDeliveryOneSignaturePerRendering: a message to several recipients
// of one destination is signed once (every copy carries the same bytes and
// one DKIM signature) and goes over one connection, one transaction per
// recipient, each with its own bounce address as MAIL FROM (VERP, so a
// bounce that comes back names its recipient); another destination gets
// its own.
func TestDeliveryOneSignaturePerRendering(t *testing.T) {
	t.Parallel()
	e := startEnv(t, envOptions{})
	mx := testutil.StartFakeMX(t, testutil.MXOptions{})
	other := testutil.StartFakeMX(t, testutil.MXOptions{})
	e.addMX("many.test", mx)
	e.addMX("other.test", other)
	rcpts := []string{"a@many.test", "b@many.test", "c@many.test", "d@many.test", "e@many.test"}
	id := e.send(e.message(append(rcpts, "f@other.test")...))
	o := e.waitOutcomes(id, 6)
	if len(o.Delivered) != 6 {
		t.Fatalf("outcomes = %s", o)
	}
	got := mx.Messages()
	if len(got) != len(rcpts) || mx.Sessions() != 1 {
		t.Fatalf("many.test received %d transactions over %d sessions, want %d over 1", len(got), mx.Sessions(), len(rcpts))
	}
	senders := map[string]string{}
	for i, m := range got {
		if len(m.To) != 1 || m.To[0] != rcpts[i] || !bytes.Equal(m.Data, got[0].Data) {
			t.Fatalf("transaction %d: to %v, same bytes %v", i, m.To, bytes.Equal(m.Data, got[0].Data))
		}
		if !strings.HasPrefix(m.From, "bounce+") || senders[m.From] != "" {
			t.Fatalf("transaction %d: MAIL FROM %q (seen for %q)", i, m.From, senders[m.From])
		}
		senders[m.From] = m.To[0]
	}
	for _, d := range o.Delivered {
		if want := d.Recipient; senders[d.Envelope.Sender] != want && d.Recipient != "f@other.test" {
			t.Fatalf("delivered event of %s shows envelope sender %q", want, d.Envelope.Sender)
		}
	}
	if n := bytes.Count(got[0].Data, []byte("DKIM-Signature:")); n != 1 {
		t.Fatalf("%d DKIM signatures", n)
	}
	checkDKIM(t, e, got[0].Data)
	if o := other.Messages(); len(o) != 1 || len(o[0].To) != 1 {
		t.Fatalf("other.test received %+v", o)
	}
}

// TestDeliveryBatchPersonalised: recipient-variables give each recipient
// its own copy: To shows only that recipient and %recipient.x% is
// substituted, each copy signed.
func TestDeliveryBatchPersonalised(t *testing.T) {
	t.Parallel()
	e, mx := startEnvMX(t, envOptions{}, "batch.test")
	const n = 1000
	m := mailgun.NewMessage("Sender <sender@"+senderDomain+">", "Hello %recipient.name%", "")
	m.SetHTML("<p>Your code is %recipient.code%, %recipient%</p>")
	for i := range n {
		if err := m.AddRecipientAndVariables(batchRcpt(i), map[string]any{"name": fmt.Sprintf("Name %d", i), "code": i * 7}); err != nil {
			t.Fatal(err)
		}
	}
	id := e.send(m)
	got := mx.WaitRecipients(t, n, 3*waitTimeout)
	if len(got) != n {
		t.Fatalf("%d transactions, want one per recipient", len(got))
	}
	bodies := map[string]bool{}
	for k, r := range got {
		if len(r.To) != 1 {
			t.Fatalf("a batch copy went to %v", r.To)
		}
		rcpt := r.To[0]
		var i int
		if _, err := fmt.Sscanf(rcpt, "r%04d@batch.test", &i); err != nil {
			t.Fatalf("unexpected recipient %q", rcpt)
		}
		h, body := readText(t, r.Data)
		to, err := h.AddressList("To")
		if err != nil || len(to) != 1 || to[0].Address != rcpt {
			t.Fatalf("copy for %s has To %v (%v)", rcpt, to, err)
		}
		if subj, _ := h.Subject(); subj != fmt.Sprintf("Hello Name %d", i) {
			t.Fatalf("copy for %s has Subject %q", rcpt, subj)
		}
		if want := fmt.Sprintf("<p>Your code is %d, %s</p>", i*7, rcpt); strings.TrimSpace(body) != want {
			t.Fatalf("copy for %s has body %q, want %q", rcpt, body, want)
		}
		bodies[string(r.Data)] = true
		if k%250 == 0 {
			checkDKIM(t, e, r.Data)
		}
	}
	if len(bodies) != n {
		t.Fatalf("%d distinct copies, want %d", len(bodies), n)
	}
	// Each copy's events show its own To, as the copy does.
	e.waitOutcomes(id, n)
	counted := 0
	for _, ev := range e.events(id) {
		var rcpt, to string
		switch ev := ev.(type) {
		case *events.Accepted:
			rcpt, to = ev.Recipient, ev.Message.Headers.To
		case *events.Delivered:
			rcpt, to = ev.Recipient, ev.Message.Headers.To
		default:
			continue
		}
		counted++
		if to != rcpt {
			t.Fatalf("the %s event of %s has To %.80q", ev.GetName(), rcpt, to)
		}
	}
	if counted != 2*n {
		t.Errorf("%d accepted and delivered events, want %d", counted, 2*n)
	}
}

func batchRcpt(i int) string { return fmt.Sprintf("r%04d@batch.test", i) }

// headerOf parses a received message's header.
func headerOf(t *testing.T, raw []byte) gomail.Header {
	t.Helper()
	h, _ := readText(t, raw)
	return h
}

// readText parses a single-part message: its header and decoded body.
func readText(t *testing.T, raw []byte) (gomail.Header, string) {
	t.Helper()
	ent, err := message.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse received message: %v", err)
	}
	if ent.MultipartReader() != nil {
		return gomail.Header{Header: ent.Header}, ""
	}
	body, err := io.ReadAll(ent.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return gomail.Header{Header: ent.Header}, string(body)
}
