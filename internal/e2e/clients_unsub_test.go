package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/store"
)

// ghostListUnsubRE is the List-Unsubscribe a Ghost newsletter copy must
// carry once %recipient.list_unsubscribe% and %tag_unsubscribe_email% are
// filled: Ghost's own link, then a mailto: URI (RFC 2369 §2) of Salvo's.
var ghostListUnsubRE = regexp.MustCompile(`^<(https://blog\.example/unsubscribe/\?uuid=[a-z0-9]+)>, <mailto:(u\+[a-z2-7]+@[a-z0-9.]+)>$`)

// TestClientsGhostTagUnsubscribeEmail sends a batch as Ghost's Mailgun
// client does (issue 22, defect 2): h:List-Unsubscribe is
// "<%recipient.list_unsubscribe%>, <%tag_unsubscribe_email%>". Each copy
// gets its own link and its own mailto: address; mail to one recipient's
// address (the MX's unsubscribe-by-mail path) unsubscribes that recipient
// from the message's tags only.
func TestClientsGhostTagUnsubscribeEmail(t *testing.T) {
	t.Parallel()
	e := startSendEnv(t, sendEnvOptions{})
	rv, _ := json.Marshal(map[string]any{
		"ann@example.org": map[string]string{"uuid": "a1", "list_unsubscribe": "https://blog.example/unsubscribe/?uuid=a1"},
		"bob@example.org": map[string]string{"uuid": "b2", "list_unsubscribe": "https://blog.example/unsubscribe/?uuid=b2"},
	})
	e.send(url.Values{"from": {"news@" + testDomain}, "to": {"ann@example.org", "bob@example.org"},
		"subject": {"Post"}, "html": {"<p>Hello %recipient.uuid%</p>"}, "recipient-variables": {string(rv)},
		"o:tag": {"bulk-email", "ghost-email"}, "o:tracking-opens": {"true"},
		"h:List-Unsubscribe":      {"<%recipient.list_unsubscribe%>, <%tag_unsubscribe_email%>"},
		"h:List-Unsubscribe-Post": {"List-Unsubscribe=One-Click"}})
	addrs := map[string]string{}
	for _, m := range e.mx.WaitRecipients(t, 2, 20*time.Second) {
		lu := header(m.Data, "List-Unsubscribe")
		got := ghostListUnsubRE.FindStringSubmatch(lu)
		if got == nil || got[1] != "https://blog.example/unsubscribe/?uuid="+map[string]string{"ann@example.org": "a1", "bob@example.org": "b2"}[m.To[0]] {
			t.Fatalf("copy for %s: List-Unsubscribe %q, want Ghost's link then a mailto: URI", m.To, lu)
		}
		addrs[m.To[0]] = got[2]
	}
	if addrs["ann@example.org"] == addrs["bob@example.org"] {
		t.Fatalf("both copies carry the same unsubscribe address %s", addrs["ann@example.org"])
	}

	c := dialSMTP(t, e.app.MXAddr(), "plain")
	defer c.Close()
	if _, err := submit(c, "ann@example.org", []string{addrs["ann@example.org"]}, "Subject: unsubscribe\r\n\r\nplease\r\n"); err != nil {
		t.Fatalf("mail to %s: %v", addrs["ann@example.org"], err)
	}
	s, err := e.app.Regional.Suppression(context.Background(), testDomain, store.Unsubscribes, "ann@example.org")
	if err != nil || strings.Join(s.Tags, ",") != "bulk-email,ghost-email" {
		t.Fatalf("ann's unsubscribe = %+v, %v; want the message's tags bulk-email and ghost-email", s, err)
	}
	if _, err := e.app.Regional.Suppression(context.Background(), testDomain, store.Unsubscribes, "bob@example.org"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("bob is unsubscribed too (%v); only ann mailed her address", err)
	}
	evs := e.storeEvents("unsubscribed")
	if len(evs) != 1 || evs[0].Recipient != "ann@example.org" {
		t.Errorf("unsubscribed events = %+v, want one for ann", evs)
	}
}
