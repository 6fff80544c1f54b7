package e2e

import (
	"bufio"
	"bytes"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/testutil"
)

// FuzzSMTPSession plays a whole client side of an SMTP session, as bytes,
// against a running node's MX and submission relay (as mox's FuzzServer
// does): whatever a client sends, the server answers with well-formed
// replies or closes the connection, never panics (the node counts
// recovered panics and the test fails on any), and keeps serving the next
// client.
func FuzzSMTPSession(f *testing.F) {
	ta := testutil.StartApp(f, testutil.AppOptions{})
	createDomain(f, ta, testDomainFuzz)
	seeds := []string{
		"EHLO c.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<x@" + testDomainFuzz + ">\r\nDATA\r\nSubject: hi\r\n\r\nbody\r\n.\r\nQUIT\r\n",
		"HELO c\r\nMAIL FROM:<>\r\nRCPT TO:<bounce+aaaa@" + testDomainFuzz + ">\r\nRCPT TO:<fbl@" + testDomainFuzz + ">\r\nDATA\r\n.\r\nRSET\r\nNOOP\r\nQUIT\r\n",
		"EHLO c\r\nAUTH PLAIN AGFAYgBj\r\nAUTH LOGIN\r\nYQ==\r\nYg==\r\nMAIL FROM:<a@" + testDomainFuzz + "> SIZE=99999999999999999999\r\n",
		"EHLO c\r\nSTARTTLS\r\n\x16\x03\x01\x00\x05hello",
		"EHLO c\r\nMAIL FROM:<a@b> BODY=BINARYMIME SMTPUTF8\r\nRCPT TO:<é@" + testDomainFuzz + "> NOTIFY=SUCCESS ORCPT=rfc822;x\r\nBDAT 5 LAST\r\nhello",
		strings.Repeat("A", 5000) + "\r\n" + "VRFY x\r\nEXPN y\r\nHELP\r\n\x00\xff\r\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, input []byte, relay bool) {
		addr := ta.MXAddr()
		if relay {
			addr = ta.SubmissionAddr()
		}
		playSMTP(t, addr, input)
		// The server still greets the next client.
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatalf("next client cannot connect: %v", err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "220") {
			t.Fatalf("next client's greeting %q, %v", line, err)
		}
	})
}

const testDomainFuzz = "fuzz.example.com"

// playSMTP sends input line by line after the greeting and checks that
// every reply line the server sends is a well-formed SMTP reply.
func playSMTP(t *testing.T, addr string, input []byte) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	done := make(chan []byte, 1)
	go func() {
		var all bytes.Buffer
		_, _ = all.ReadFrom(c)
		done <- all.Bytes()
	}()
	_, _ = c.Write(input)
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
	out := <-done
	for _, line := range strings.Split(strings.TrimSuffix(string(out), "\r\n"), "\r\n") {
		if line == "" {
			continue
		}
		if len(line) < 3 || line[0] < '2' || line[0] > '5' || (len(line) > 3 && line[3] != ' ' && line[3] != '-') {
			if !strings.HasPrefix(string(out), "\x15") { // a TLS alert after STARTTLS is not a reply line
				t.Fatalf("malformed reply line %q in %q", line, out)
			}
		}
	}
}
