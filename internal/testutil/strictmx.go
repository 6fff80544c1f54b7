package testutil

import (
	"bufio"
	"net"
	"strings"
	"sync"
	"testing"
)

// StrictMX is a small hand-written SMTP server on 127.0.0.1 that behaves
// like the strict servers Salvo meets in the wild (Python's smtpd
// catcher, some appliances): no extension but 8BITMIME, no STARTTLS, and a repeated EHLO/HELO answered "503 Duplicate
// HELO/EHLO". Its replies to the greeting, EHLO and MAIL can be set to
// refuse the session, and it can drop the connection after the greeting.
type StrictMX struct {
	Addr string

	ln       net.Listener
	mu       sync.Mutex
	opts     StrictOptions
	received []Received
	hellos   []int // hello commands per session
}

// StrictOptions shape a StrictMX's answers; empty strings mean the
// ordinary answer.
type StrictOptions struct {
	Greeting string // e.g. "554 5.7.1 Go away"
	Ehlo     string // reply to the first EHLO, e.g. "550 5.7.1 Not you"
	Mail     string // reply to MAIL FROM
	Drop     bool   // close the connection right after the greeting
}

// StartStrictMX starts a server that stops when t ends.
func StartStrictMX(t testing.TB, o StrictOptions) *StrictMX {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := &StrictMX{Addr: ln.Addr().String(), ln: ln, opts: o}
	t.Cleanup(func() { ln.Close() })
	go m.serve()
	return m
}

// Set changes the answers for the sessions that start from now on.
func (m *StrictMX) Set(o StrictOptions) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.opts = o
}

// Messages returns what was accepted so far.
func (m *StrictMX) Messages() []Received {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Received(nil), m.received...)
}

// Hellos returns, per session so far, how many EHLO/HELO commands the
// client sent.
func (m *StrictMX) Hellos() []int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]int(nil), m.hellos...)
}

func (m *StrictMX) serve() {
	for {
		c, err := m.ln.Accept()
		if err != nil {
			return
		}
		m.mu.Lock()
		o := m.opts
		m.hellos = append(m.hellos, 0)
		session := len(m.hellos) - 1
		m.mu.Unlock()
		go m.session(c, o, session)
	}
}

func (m *StrictMX) session(c net.Conn, o StrictOptions, session int) {
	defer c.Close()
	r := bufio.NewReader(c)
	say := func(line string) { _, _ = c.Write([]byte(line + "\r\n")) }
	if o.Greeting != "" {
		say(o.Greeting)
		if !strings.HasPrefix(o.Greeting, "2") {
			return
		}
	} else {
		say("220 strict.test ESMTP")
	}
	if o.Drop {
		return
	}
	helloed := false
	var cur Received
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb := strings.ToUpper(strings.SplitN(line, " ", 2)[0])
		upper := strings.ToUpper(line)
		switch verb {
		case "EHLO", "HELO":
			m.mu.Lock()
			m.hellos[session]++
			m.mu.Unlock()
			switch {
			case helloed:
				say("503 Duplicate HELO/EHLO")
			case o.Ehlo != "":
				say(o.Ehlo)
			case verb == "EHLO":
				helloed = true
				say("250-strict.test\r\n250 8BITMIME")
			default:
				helloed = true
				say("250 strict.test")
			}
		case "MAIL":
			if !helloed {
				say("503 Error: send HELO first")
				continue
			}
			if o.Mail != "" {
				say(o.Mail)
				continue
			}
			cur = Received{From: addrOf(line[len("MAIL FROM:"):])}
			say("250 OK")
		case "RCPT":
			if !strings.HasPrefix(upper, "RCPT TO:") {
				say("501 Syntax")
				continue
			}
			cur.To = append(cur.To, addrOf(line[len("RCPT TO:"):]))
			say("250 OK")
		case "DATA":
			if len(cur.To) == 0 {
				say("503 Error: need RCPT command")
				continue
			}
			say("354 End data with <CR><LF>.<CR><LF>")
			var data strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" || l == ".\n" {
					break
				}
				data.WriteString(strings.TrimPrefix(l, "."))
			}
			cur.Data = []byte(data.String())
			m.mu.Lock()
			m.received = append(m.received, cur)
			m.mu.Unlock()
			cur = Received{}
			say("250 OK")
		case "RSET":
			cur = Received{}
			say("250 OK")
		case "NOOP":
			say("250 OK")
		case "QUIT":
			say("221 Bye")
			return
		default:
			say("500 Error: command not recognized")
		}
	}
}

// addrOf is the address of a MAIL FROM or RCPT TO argument, parameters
// dropped.
func addrOf(arg string) string {
	arg = strings.TrimSpace(arg)
	if i := strings.IndexByte(arg, '>'); strings.HasPrefix(arg, "<") && i > 0 {
		return arg[1:i]
	}
	return strings.SplitN(arg, " ", 2)[0]
}
