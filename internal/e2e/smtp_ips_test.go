package e2e

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/salvo-email/salvo/internal/config"
)

// TestRelaySendingIPHeaders: X-Mailgun-Sending-Ip and -Pool over SMTP
// submission choose the source address as o:sending-ip(-pool) do; the
// node binds it with a real net.Dialer (no dial seam here: the smarthost
// is the fake MX on loopback) and the headers are removed. An address that
// is not one of the node's is refused at DATA.
func TestRelaySendingIPHeaders(t *testing.T) {
	t.Parallel()
	e := startRelayEnv(t, false, func(c *config.Config) {
		c.SourceIPs = srcA + "=" + ehloA + "," + srcB + "=" + ehloB
	})
	from := "app@" + testDomain
	id := relaySubmit(t, e, []string{"ip@example.org"}, rfcMessage(from, "ip@example.org", "ip", "body",
		"X-Mailgun-Sending-Ip: "+srcB))
	got := waitReceived(t, e, 1)[0]
	if got.RemoteIP != srcB || got.Helo != ehloB {
		t.Fatalf("X-Mailgun-Sending-Ip %s: the MX saw %s saying EHLO %s", srcB, got.RemoteIP, got.Helo)
	}
	if strings.Contains(strings.ToLower(string(got.Data)), "x-mailgun-sending-ip") {
		t.Errorf("X-Mailgun-Sending-Ip was delivered:\n%s", got.Data)
	}
	if o := metaOf(t, e, id).Options; o.SendingIP != srcB {
		t.Errorf("stored options %+v: want sending IP %s", o, srcB)
	}
	evs := e.events(url.Values{"event": {"delivered"}, "message-id": {id}})
	if len(evs) != 1 || evs[0].Envelope == nil || evs[0].Envelope.SendingIP != srcB {
		t.Errorf("delivered events %+v: want envelope.sending-ip %s", evs, srcB)
	}

	_, err := submit(relayClient(t, e), from, []string{"ip@example.org"}, rfcMessage(from, "ip@example.org", "ip", "body",
		"X-Mailgun-Sending-Ip: 192.0.2.44"))
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code/100 != 5 || !strings.Contains(se.Message, "192.0.2.44") {
		t.Fatalf("a foreign X-Mailgun-Sending-Ip: %v, want a 5xx naming the address", err)
	}
	_, err = submit(relayClient(t, e), from, []string{"ip@example.org"}, rfcMessage(from, "ip@example.org", "ip", "body",
		"X-Mailgun-Sending-Ip-Pool: no-such-pool"))
	if !errors.As(err, &se) || se.Code/100 != 5 || !strings.Contains(se.Message, "no-such-pool") {
		t.Fatalf("an unknown X-Mailgun-Sending-Ip-Pool: %v, want a 5xx naming the pool", err)
	}
}
