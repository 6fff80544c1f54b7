package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/config"
	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/send"
	"github.com/salvo-email/salvo/internal/store"
)

// memberCSV is a members.csv of n members m00000@fan.test…; every tenth
// is unsubscribed. Each has a name "First<i> Last<i>" and vars {"id": i}.
func memberCSV(n int) string {
	var b strings.Builder
	b.WriteString("address,name,vars,subscribed\n")
	for i := range n {
		fmt.Fprintf(&b, "m%05d@fan.test,First%d Last%d,\"{\"\"id\"\": %d}\",%v\n", i, i, i, i, i%10 != 0)
	}
	return b.String()
}

// waitTask polls a background upload until it is done.
func waitTask(t *testing.T, e *sendEnv, list, id string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var task struct{ Status string }
		e.getJSON("/v3/lists/"+list+"/tasks/"+id, &task)
		switch {
		case task.Status == "done":
			return
		case strings.HasPrefix(task.Status, "failed"):
			t.Fatalf("upload task %s: %s", id, task.Status)
		case time.Now().After(deadline):
			t.Fatalf("upload task %s still %q", id, task.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkCopies checks each received copy of a list send: one per
// subscribed member, personalised with its name and vars, To still the
// list, Reply-To the list.
func checkCopies(t *testing.T, e *sendEnv, list string, n, want int) {
	t.Helper()
	got := e.mx.WaitRecipients(t, want, 3*time.Minute)
	seen := map[string]bool{}
	for _, r := range got {
		if len(r.To) != 1 {
			t.Fatalf("a copy went to %v", r.To)
		}
		rcpt := r.To[0]
		var i int
		if _, err := fmt.Sscanf(rcpt, "m%05d@fan.test", &i); err != nil || i >= n {
			t.Fatalf("copy for unexpected recipient %q", rcpt)
		}
		if i%10 == 0 {
			t.Fatalf("unsubscribed member %s got a copy", rcpt)
		}
		if seen[rcpt] {
			t.Fatalf("%s got two copies", rcpt)
		}
		seen[rcpt] = true
		_, body := readText(t, r.Data)
		wantBody := fmt.Sprintf("Dear First%d Last%d (%s), id=%d, to First%d Last%d <%s>", i, i, rcpt, i, i, i, rcpt)
		if strings.TrimSpace(body) != wantBody {
			t.Fatalf("%s body %q, want %q", rcpt, body, wantBody)
		}
		if s := header(r.Data, "Subject"); s != fmt.Sprintf("Hi First%d", i) {
			t.Fatalf("%s subject %q", rcpt, s)
		}
		if to, rt := header(r.Data, "To"), header(r.Data, "Reply-To"); strings.Trim(to, "<>") != list || rt != list {
			t.Fatalf("%s To %q Reply-To %q, want the list", rcpt, to, rt)
		}
	}
	if len(seen) != want {
		t.Fatalf("%d distinct recipients, want %d", len(seen), want)
	}
	if acc := len(e.storeEvents("accepted")); acc != want {
		t.Fatalf("%d accepted events, want one per subscribed member (%d)", acc, want)
	}
}

func listSend(list string) url.Values {
	return url.Values{"from": {"Boss <boss@" + testDomain + ">"}, "to": {list},
		"subject": {"Hi %recipient_fname%"},
		"text":    {"Dear %recipient_name% (%recipient_email%), id=%recipient.id%, to %recipient%"},
		// Signing every copy would only slow the test down.
		"o:dkim": {"no"}}
}

// TestListFanOut10000: a list of 10,000 members uploaded as CSV (in the
// background) receives one personalised copy per subscribed member and
// none for the unsubscribed tenth, from one accept. It runs on both stores,
// except under -race, where the embedded SQLite is too slow for 10,000
// deliveries in a bounded time: there it runs on PostgreSQL (whose work is
// not instrumented) and TestListFanOutRules covers SQLite.
//
// It is deliberately not parallel with the package's other tests: its load
// (10,000 deliveries, a minute under -race) starved timing-bound
// neighbours such as TestCrashSafety. Its two stores still run in
// parallel with each other.
func TestListFanOut10000(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 deliveries")
	}
	onBothStores(t, func(t *testing.T, pg bool) {
		if raceEnabled && !pg {
			t.Skip("10,000 deliveries on the embedded SQLite take minutes under -race; see TestListFanOutRules")
		}
		fanOut10000(t, pg)
	})
}

func fanOut10000(t *testing.T, pg bool) {
	const n, list = 10000, "all@fan.test"
	// Every personalised copy is its own SMTP transaction whose outcome
	// is committed before the connection's next one: more connections
	// share each commit.
	e := startSendEnv(t, sendEnvOptions{postgres: pg, configure: func(c *config.Config) { c.PerDestination = 32 }})
	status, body := e.call(http.MethodPost, "/v3/lists", formBody(url.Values{"address": {list},
		"access_level": {"everyone"}}))
	if status != http.StatusOK {
		t.Fatalf("create list = %d %s", status, body)
	}
	up := uploadCSV(t, e, list, memberCSV(n), nil)
	id, _ := up["task-id"].(string)
	if id == "" || up["message"] != "Mailing list upload started in background" {
		t.Fatalf("members.csv = %v", up)
	}
	waitTask(t, e, list, id)
	var l struct {
		List struct {
			MembersCount int `json:"members_count"`
		}
	}
	e.getJSON("/v3/lists/"+list, &l)
	if l.List.MembersCount != n {
		t.Fatalf("members_count = %d after the upload", l.List.MembersCount)
	}
	e.send(listSend(list))
	checkCopies(t, e, list, n, n-n/10)
}

// TestListFanOutRules: on both stores, a send to a list and a direct
// recipient reaches each address once; access_level applies to
// unauthenticated submissions (the inbound MX's hook); readonly lists
// keep Reply-To off.
func TestListFanOutRules(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, pg bool) {
		e := startSendEnv(t, sendEnvOptions{postgres: pg})
		const list = "small@fan.test"
		for _, v := range []url.Values{{"address": {list}, "access_level": {"members"}}, {"address": {"ro@fan.test"}}} {
			if status, body := e.call(http.MethodPost, "/v3/lists", formBody(v)); status != http.StatusOK {
				t.Fatalf("create list = %d %s", status, body)
			}
		}
		if r := uploadCSV(t, e, list, memberCSV(30), nil); r["task-id"] != nil {
			t.Fatalf("a small upload went to the background: %v", r)
		}
		uploadCSV(t, e, "ro@fan.test", "m00001@fan.test\nm00002@fan.test\n", nil)
		v := listSend(list)
		v.Add("cc", "m00001@fan.test") // also a member: one copy
		e.send(v)
		checkCopies(t, e, list, 30, 27)

		ctx := context.Background()
		sub := func(from, to string) *send.Submission {
			return &send.Submission{Domain: e.domain(), Method: "smtp", From: from, To: []string{to}, Subject: "s",
				Text: "t", Unauthenticated: true, Options: send.Options{TestMode: true}}
		}
		if _, err := e.app.Send.Send(ctx, sub("m00003@fan.test", "ro@fan.test")); fault.KindOf(err) != fault.Forbidden {
			t.Fatalf("unauthenticated post to a readonly list: %v", err)
		}
		if _, err := e.app.Send.Send(ctx, sub("stranger@else.test", list)); fault.KindOf(err) != fault.Forbidden {
			t.Fatalf("a stranger's post to a members list: %v", err)
		}
		if _, err := e.app.Send.Send(ctx, sub("m00010@fan.test", list)); fault.KindOf(err) != fault.Forbidden {
			t.Fatalf("an unsubscribed member's post to a members list: %v", err)
		}
		if _, err := e.app.Send.Send(ctx, sub("First3 <M00003@fan.test>", list)); err != nil {
			t.Fatalf("a member's post to a members list: %v", err)
		}
		// Without placeholders every copy is the same bytes (signed once),
		// each member's in its own transaction with its own bounce address.
		e.send(url.Values{"from": {"boss@" + testDomain}, "to": {"ro@fan.test"}, "subject": {"ro"}, "text": {"x"}})
		got := e.mx.WaitRecipients(t, 27+2, waitTimeout)
		if len(got) != 29 || !bytes.Equal(got[27].Data, got[28].Data) || got[27].From == got[28].From {
			t.Fatalf("the plain list send arrived as %d messages, the last to %v", len(got)-27, got[len(got)-1].To)
		}
		if rt := header(got[27].Data, "Reply-To"); rt != "" {
			t.Fatalf("a readonly list's copy has Reply-To %q", rt)
		}
	})
}

// domain is the env's sending domain record.
func (e *sendEnv) domain() store.Domain {
	e.t.Helper()
	d, err := e.app.Regional.Domain(context.Background(), testDomain)
	if err != nil {
		e.t.Fatal(err)
	}
	return d
}
