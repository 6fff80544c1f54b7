package bounce

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// crlf turns the LF test messages into the CRLF form they arrive in.
func crlf(s string) []byte { return []byte(strings.ReplaceAll(s, "\n", "\r\n")) }

// checkInvariants holds for every report Parse returns, whatever the input.
func checkInvariants(t *testing.T, r *Report) {
	t.Helper()
	if r == nil {
		t.Fatal("Parse returned nil")
	}
	if r.Kind < None || r.Kind > AutoReply {
		t.Fatalf("kind %d out of range", r.Kind)
	}
	if len(r.Recipients) > maxRecipients || len(r.RcptTo) > maxRecipients {
		t.Fatalf("%d recipients, %d rcpt-to: over the bound", len(r.Recipients), len(r.RcptTo))
	}
	for _, rc := range r.Recipients {
		if len(rc.Diagnostic) > maxDiagnostic || strings.ContainsAny(rc.Diagnostic, "\r\n") {
			t.Fatalf("diagnostic not one bounded line: %q", rc.Diagnostic)
		}
		if rc.Hard != isHard(rc.Status, rc.Code) {
			t.Fatalf("hard=%t for status %q code %d", rc.Hard, rc.Status, rc.Code)
		}
		if rc.Status != "" && !statusRE.MatchString(rc.Status) {
			t.Fatalf("status %q is not an enhanced status code", rc.Status)
		}
	}
}

const dsnTwoRecipients = `From: MAILER-DAEMON@mx.example.net (Mail Delivery System)
To: bounce+abc@send.example.com
Subject: Undelivered Mail Returned to Sender
Auto-Submitted: auto-generated
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="BOUND"

--BOUND
Content-Type: text/plain

This is the mail system at host mx.example.net.

--BOUND
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net
Arrival-Date: Mon, 7 Dec 2026 10:00:00 +0000

Final-Recipient: rfc822; Gone@Example.ORG
Original-Recipient: rfc822;gone@example.org
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx1.example.org
Diagnostic-Code: smtp; 550 5.1.1 <gone@example.org>: Recipient address
    rejected: User unknown in virtual mailbox table
Final-Recipient: rfc822; full@example.org
Action: failed
Status: 4.2.2
Diagnostic-Code: smtp; 452 4.2.2 Mailbox full

--BOUND
Content-Type: message/rfc822

Return-Path: <bounce+abc@send.example.com>
Message-ID: <m1@send.example.com>
From: Shop <news@send.example.com>
To: gone@example.org, full@example.org
Subject: Hello

Hi.
--BOUND--
`

func TestParseDSN(t *testing.T) {
	t.Parallel()
	r := Parse(crlf(dsnTwoRecipients))
	checkInvariants(t, r)
	if r.Kind != Failed || r.Format != "dsn" || r.ReportingMTA != "mx.example.net" {
		t.Fatalf("kind %s format %q reporting-mta %q", r.Kind, r.Format, r.ReportingMTA)
	}
	if len(r.Recipients) != 2 {
		t.Fatalf("recipients %+v, want 2 (the second group has no blank line before it)", r.Recipients)
	}
	gone, full := r.Recipients[0], r.Recipients[1]
	want := Recipient{Final: "Gone@example.org", Original: "gone@example.org", Action: "failed", Status: "5.1.1", Code: 550,
		Diagnostic: "550 5.1.1 <gone@example.org>: Recipient address rejected: User unknown in virtual mailbox table",
		RemoteMTA:  "mx1.example.org", Hard: true, Category: CategoryUnknownUser}
	if gone != want {
		t.Errorf("first recipient\n got %+v\nwant %+v", gone, want)
	}
	if gone.Severity() != "permanent" {
		t.Errorf("severity %q", gone.Severity())
	}
	if full.Final != "full@example.org" || full.Hard || full.Code != 452 || full.Status != "4.2.2" || full.Severity() != "temporary" ||
		full.Category != CategoryMailboxFull {
		t.Errorf("second recipient (failed with 4.x.x is soft): %+v", full)
	}
	wantOrig := Original{MessageID: "m1@send.example.com", ReturnPath: "bounce+abc@send.example.com",
		From: "Shop <news@send.example.com>", To: "gone@example.org, full@example.org", Subject: "Hello"}
	if r.Original != wantOrig {
		t.Errorf("original %+v, want %+v", r.Original, wantOrig)
	}
}

func TestParseDSNVariants(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, raw string
		kind      Kind
		final     string
		status    string
		hard      bool
	}{
		{"delayed", `From: MAILER-DAEMON@a.example
Content-Type: multipart/report; report-type=delivery-status; boundary=b

--b
Content-Type: message/delivery-status

Reporting-MTA: dns; a.example

Final-Recipient: rfc822; slow@b.example
Action: delayed
Status: 4.4.1
Will-Retry-Until: Tue, 8 Dec 2026 10:00:00 +0000
--b--
`, Delayed, "slow@b.example", "4.4.1", false},
		{"report-type missing, multipart/mixed, no Action", `From: postmaster@a.example
Content-Type: multipart/mixed; boundary="x"

--x
Content-Type: text/plain

Delivery failed.
--x
Content-Type: message/delivery-status

Final-Recipient: RFC822; <nobody@b.example>
Status: 5.0.0
Diagnostic-Code: SMTP; 550 5.1.1 no such user
--x--
`, Failed, "nobody@b.example", "5.1.1", true},
		{"RFC 6533 global delivery status", `From: MAILER-DAEMON@a.example
Content-Type: multipart/report; report-type=global-delivery-status; boundary=g

--g
Content-Type: message/global-delivery-status

Reporting-MTA: dns; a.example

Final-Recipient: utf-8; josé@b.example
Action: failed
Status: 5.1.1
--g--
`, Failed, "josé@b.example", "5.1.1", true},
		{"fields inline in a text part", `From: postmaster@a.example
Subject: Delivery Status Notification (Failure)
Content-Type: text/plain

Final-Recipient: rfc822;x@b.example
Action: failed
Status: 5.2.1
`, Failed, "x@b.example", "5.2.1", true},
		{"Amazon SES field order: Action first", `From: postmaster@a.example
Content-Type: multipart/report; report-type=delivery-status; boundary=s

--s
Content-Type: message/delivery-status

Reporting-MTA: dns; inbound-smtp.us-west-2.amazonaws.com

Action: failed
Final-Recipient: rfc822; nobody@b.example
Original-Recipient: rfc822; nobody@b.example
Diagnostic-Code: smtp; 550 5.1.1 Mailbox does not exist
Status: 5.1.1
--s--
`, Failed, "nobody@b.example", "5.1.1", true},
		{"relayed", `Content-Type: multipart/report; report-type=delivery-status; boundary=r

--r
Content-Type: message/delivery-status

Reporting-MTA: dns; a.example

Final-Recipient: rfc822; fwd@b.example
Action: relayed
Status: 2.0.0
--r--
`, Delayed, "fwd@b.example", "2.0.0", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := Parse([]byte(c.raw))
			checkInvariants(t, r)
			if r.Kind != c.kind || len(r.Recipients) != 1 {
				t.Fatalf("kind %s, recipients %+v; want %s with one recipient", r.Kind, r.Recipients, c.kind)
			}
			rc := r.Recipients[0]
			if rc.Final != c.final || rc.Status != c.status || rc.Hard != c.hard {
				t.Errorf("got %+v; want final %q status %q hard %t", rc, c.final, c.status, c.hard)
			}
		})
	}
}

const arfAbuse = `From: feedback@fbl.example.net
To: fbl@send.example.com
Subject: FW: Hello
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="part"

--part
Content-Type: text/plain

This is an email abuse report.
--part
Content-Type: message/feedback-report

Feedback-Type: %s
User-Agent: SomeGenerator/1.0
Version: 1
Original-Mail-From: <bounce+tok@send.example.com>
Original-Rcpt-To: <reader@example.net>
Arrival-Date: Mon, 7 Dec 2026 10:00:00 +0000
Source-IP: 192.0.2.1

--part
Content-Type: text/rfc822-headers

Return-Path: <bounce+tok@send.example.com>
From: Shop <news@send.example.com>
To: reader@example.net
Subject: Hello
Message-ID: <m2@send.example.com>
--part--
`

func TestParseARF(t *testing.T) {
	t.Parallel()
	for typ, kind := range map[string]Kind{"abuse": Complaint, "Fraud": Complaint, "not-spam": Feedback, "virus": Feedback} {
		r := Parse(crlf(fmt.Sprintf(arfAbuse, typ)))
		checkInvariants(t, r)
		if r.Kind != kind || r.Format != "arf" || r.FeedbackType != strings.ToLower(typ) {
			t.Errorf("%s: kind %s format %q type %q; want %s", typ, r.Kind, r.Format, r.FeedbackType, kind)
		}
		if r.OriginalMailFrom != "bounce+tok@send.example.com" || r.OriginalRcptTo != "reader@example.net" ||
			len(r.RcptTo) != 1 || r.Original.MessageID != "m2@send.example.com" ||
			r.Original.ReturnPath != "bounce+tok@send.example.com" || r.Original.To != "reader@example.net" {
			t.Errorf("%s: report %+v", typ, r)
		}
	}
}

func TestParseAutoReply(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"Auto-Submitted": "From: bob@example.net\nAuto-Submitted: auto-replied\nSubject: Re: Hello\n\nI am away. 550 reasons.\n",
		"X-Autoreply":    "From: bob@example.net\nX-Autoreply: yes\nSubject: Re: Hello\n\nAway.\n",
		"X-Autorespond":  "From: bob@example.net\nX-Autorespond: 1\nSubject: Re: Hello\n\nAway.\n",
		"Precedence":     "From: bob@example.net\nPrecedence: auto_reply\nSubject: Re: Hello\n\nAway.\n",
		"out of office":  "From: bob@example.net\nSubject: Out of Office: Hello\n\nBack on Monday.\n",
		"encoded":        "From: bob@example.net\nSubject: =?UTF-8?Q?Automatische_Antwort:_Hallo?=\n\nBin weg.\n",
		"vacation":       "From: bob@example.net\nSubject: Vacation reply\n\nOn holiday; mail to gone@example.net is not delivered until I return.\n",
	}
	for name, raw := range cases {
		r := Parse([]byte(raw))
		checkInvariants(t, r)
		if r.Kind != AutoReply || r.Format != "autoreply" || len(r.Recipients) != 0 {
			t.Errorf("%s: kind %s format %q recipients %v; want autoreply", name, r.Kind, r.Format, r.Recipients)
		}
	}
	// An auto-generated (or even auto-replied, as Exim and Postfix mark
	// theirs) DSN is still a DSN.
	raw := strings.Replace(dsnTwoRecipients, "Auto-Submitted: auto-generated", "Auto-Submitted: auto-replied", 1)
	if r := Parse([]byte(raw)); r.Kind != Failed {
		t.Errorf("auto-replied DSN: kind %s, want failed", r.Kind)
	}
}

func TestParseText(t *testing.T) {
	t.Parallel()
	qmail := `From: MAILER-DAEMON@mx.example.net
To: bounce+abc@send.example.com
Subject: failure notice

Hi. This is the qmail-send program at mx.example.net.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<gone@example.org>:
192.0.2.1 does not like recipient.
Remote host said: 550 5.1.1 unknown user
Giving up on 192.0.2.1.

<later@example.org>:
Connected to 192.0.2.2 but sender was rejected.
Remote host said: 451 try again later

--- Below this line is a copy of the message.

Return-Path: <bounce+abc@send.example.com>
Message-ID: <m3@send.example.com>
To: gone@example.org
Subject: Hi

body
`
	r := Parse([]byte(qmail))
	checkInvariants(t, r)
	if r.Kind != Failed || r.Format != "text" || len(r.Recipients) != 2 {
		t.Fatalf("kind %s format %q recipients %+v", r.Kind, r.Format, r.Recipients)
	}
	if rc := r.Recipients[0]; rc.Final != "gone@example.org" || rc.Code != 550 || rc.Status != "5.1.1" || !rc.Hard {
		t.Errorf("first: %+v", rc)
	}
	if rc := r.Recipients[1]; rc.Final != "later@example.org" || rc.Code != 451 || rc.Hard {
		t.Errorf("second: %+v", rc)
	}
	if r.Original.MessageID != "m3@send.example.com" || r.Original.ReturnPath != "bounce+abc@send.example.com" {
		t.Errorf("original from the quoted headers: %+v", r.Original)
	}

	noAddress := "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\nSubject: Mail delivery failed\n\n" +
		"Your message could not be delivered.\nhost said: 554 5.7.1 rejected as spam\n"
	r = Parse([]byte(noAddress))
	checkInvariants(t, r)
	if r.Kind != Failed || len(r.Recipients) != 1 || r.Recipients[0].Final != "" || r.Recipients[0].Status != "5.7.1" ||
		r.Recipients[0].Category != CategorySpamBlock {
		t.Errorf("bounce naming no address: %+v", r)
	}
}

// TestParseNotABounce: messages that say nothing usable, or are ordinary
// mail, are None — even when they mention a 5xx code.
func TestParseNotABounce(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"empty":          "",
		"garbage":        "\x00\x01\xff\xfe not mail at all",
		"headers only":   "Subject: hi\n",
		"ordinary":       "From: ann@example.net\nTo: bob@example.com\nSubject: Lunch\n\nRoom 550 at 12:30? Bring ann@example.net's notes.\n",
		"ordinary quote": "From: ann@example.net\nSubject: Re: ticket\n\nThe server said 550 5.1.1 when I wrote to carl@example.org, odd.\n",
		"daemon, no code": "From: MAILER-DAEMON@mx.example.net\nSubject: Warning\n\n" +
			"Something is wrong with your message to x@example.org.\n",
		"4xx only, no retry or give-up words": "From: MAILER-DAEMON@mx.example.net\nSubject: note\n\n" +
			"x@example.org said 421 busy\n",
		"unterminated multipart": "Content-Type: multipart/report; boundary=zz\n\n--zz\nContent-Type: message/delivery-status\n\n",
	}
	for name, raw := range cases {
		r := Parse([]byte(raw))
		checkInvariants(t, r)
		if r.Kind != None {
			t.Errorf("%s: kind %s format %q recipients %+v; want none", name, r.Kind, r.Format, r.Recipients)
		}
	}
}

// TestParseBounded: Parse reads at most MaxInput bytes, so a report that
// starts beyond it is not seen, and huge or deeply nested input is quick.
func TestParseBounded(t *testing.T) {
	t.Parallel()
	pad := "X-Pad: " + strings.Repeat("a", 70) + "\n"
	late := strings.Repeat(pad, MaxInput/len(pad)+1) + dsnTwoRecipients[strings.Index(dsnTwoRecipients, "Content-Type: multipart/report"):]
	start := time.Now()
	if r := Parse([]byte(late)); r.Kind != None {
		t.Errorf("a report past MaxInput was read: %s", r.Kind)
	}
	var nested bytes.Buffer
	for i := range 5000 {
		fmt.Fprintf(&nested, "Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n", i, i)
	}
	nested.WriteString("Content-Type: message/delivery-status\n\nFinal-Recipient: rfc822; deep@example.org\nAction: failed\nStatus: 5.1.1\n")
	r := Parse(nested.Bytes())
	checkInvariants(t, r)
	if r.Kind != None {
		t.Errorf("a report nested %d deep was read: %s", 5000, r.Kind)
	}
	// Every line a recipient with a class-4 code: pairing them must stay
	// linear (it once took three minutes).
	var rcpts strings.Builder
	rcpts.WriteString("From: MAILER-DAEMON@mx.example.net\nSubject: failure notice\n\n")
	for i := 0; rcpts.Len() < MaxInput; i++ {
		fmt.Fprintf(&rcpts, "u%d@example.org 450 busy\n", i)
	}
	checkInvariants(t, Parse([]byte(rcpts.String())))
	many := "Content-Type: multipart/mixed; boundary=m\n\n" + strings.Repeat("--m\nContent-Type: text/plain\n\nx\n", 100000) + "--m--\n"
	checkInvariants(t, Parse([]byte(many)))
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("bounded inputs took %s", d)
	}
}

func TestDiagnosticBounded(t *testing.T) {
	t.Parallel()
	long := "Content-Type: multipart/report; report-type=delivery-status; boundary=q\n\n--q\nContent-Type: message/delivery-status\n\n" +
		"Final-Recipient: rfc822; a@example.org\nAction: failed\nStatus: 5.0.0\nDiagnostic-Code: smtp; 550 " +
		strings.Repeat("é", 600) + "\n\tmore\n--q--\n"
	r := Parse([]byte(long))
	checkInvariants(t, r)
	if len(r.Recipients) != 1 || !strings.HasPrefix(r.Recipients[0].Diagnostic, "550 éé") || r.Recipients[0].Code != 550 {
		t.Fatalf("recipients %+v", r.Recipients)
	}
}

func TestCategorize(t *testing.T) {
	t.Parallel()
	cases := []struct {
		rc   Recipient
		want string
	}{
		{Recipient{Action: "failed", Status: "5.1.1"}, CategoryUnknownUser},
		{Recipient{Action: "failed", Status: "5.0.0", Diagnostic: "550 No such user here"}, CategoryUnknownUser},
		{Recipient{Action: "failed", Status: "5.2.2"}, CategoryMailboxFull},
		{Recipient{Action: "failed", Status: "4.2.0", Diagnostic: "452 Mailbox is full"}, CategoryMailboxFull},
		{Recipient{Action: "failed", Status: "5.2.1", Diagnostic: "account disabled"}, CategoryMailboxDisabled},
		{Recipient{Action: "failed", Status: "5.4.4"}, CategoryUnknownDomain},
		{Recipient{Action: "failed", Status: "5.7.1", Diagnostic: "554 listed at zen.spamhaus.org"}, CategorySpamBlock},
		{Recipient{Action: "failed", Status: "5.7.26", Diagnostic: "DMARC policy"}, CategoryPolicy},
		{Recipient{Action: "failed", Status: "4.4.7"}, CategoryExpired},
		{Recipient{Action: "failed", Status: "5.3.4"}, CategoryMessage},
		{Recipient{Action: "failed", Status: "5.0.0"}, ""},
		{Recipient{Action: "delivered", Status: "2.0.0"}, ""},
	}
	for _, c := range cases {
		if got := Categorize(c.rc); got != c.want {
			t.Errorf("Categorize(%+v) = %q, want %q", c.rc, got, c.want)
		}
	}
}

// TestParseExchangeBrokenPartHeader: Office 365 writes part headers with
// lines that are neither fields nor continuations; go-message stops at
// them, and the delivery-status part after them must still be read.
func TestParseExchangeBrokenPartHeader(t *testing.T) {
	t.Parallel()
	raw := `From: postmaster@outlook.example
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

Delivery has failed to these recipients or groups.
--B
Content-Type: message/delivery-status
X-Microsoft-Antispam-Message-Info:
XW0i+vGr98fR0H6N7ELZO09EwBcQq/HZi5UI2Nh7U1NT7S79GidnW3GK==

Reporting-MTA: dns;mail.protection.outlook.example

Final-Recipient: rfc822;gone@example.jp
Action: failed
Status: 5.1.10
Diagnostic-Code: smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound
--B--
`
	r := Parse([]byte(raw))
	checkInvariants(t, r)
	if r.Kind != Failed || r.Format != "dsn" || r.ReportingMTA != "mail.protection.outlook.example" || len(r.Recipients) != 1 ||
		r.Recipients[0].Status != "5.1.10" || r.Recipients[0].Category != CategoryUnknownUser {
		t.Fatalf("report %+v", r)
	}
}

func TestParseSESComplaint(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join("testdata", "sisimai", "lhost-amazonses-11.eml"))
	if err != nil {
		t.Fatal(err)
	}
	r := Parse(raw)
	checkInvariants(t, r)
	want := Original{From: "kijitora@neko.example.jp", To: "complaint@simulator.amazonses.com", Subject: "Nyaan"}
	if r.Kind != Complaint || r.Format != "ses" || r.FeedbackType != "abuse" || r.OriginalMailFrom != "kijitora@neko.example.jp" ||
		r.OriginalRcptTo != "complaint@simulator.amazonses.com" || r.Original != want {
		t.Fatalf("report %+v", r)
	}
}

// TestParseJMRP: Microsoft's junk-mail reports carry no feedback-report
// part; the enclosed message names the recipient who complained.
func TestParseJMRP(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join("testdata", "sisimai", "arf-23.eml"))
	if err != nil {
		t.Fatal(err)
	}
	r := Parse(raw)
	checkInvariants(t, r)
	if r.Kind != Complaint || r.Format != "jmrp" || r.FeedbackType != "abuse" || r.OriginalRcptTo != "kijitora@example.com" ||
		r.Original.From != "Neko <sironeko@example.com>" {
		t.Fatalf("report %+v", r)
	}
	// The same report from anyone but Microsoft is not taken for one.
	forged := bytes.Replace(raw, []byte("From: <staff@hotmail.com>"), []byte("From: <staff@example.org>"), 1)
	if r := Parse(forged); r.Kind == Complaint {
		t.Errorf("a JMRP-shaped message from example.org was read as a complaint: %+v", r)
	}
}

// TestParseTextWithoutCode: a notice from a mailer daemon that gives no
// code counts only where its words are explicit.
func TestParseTextWithoutCode(t *testing.T) {
	t.Parallel()
	head := "From: Mail Delivery System <Mailer-Daemon@mx.example.net>\nTo: bounce+t@send.example.com\nSubject: Mail delivery failed\n\n"
	cases := []struct {
		name, body string
		kind       Kind
		status     string
		action     string
	}{
		{"explicit permanent", "This is a permanent error. The following address(es) failed:\n\n  a@example.org\n    all relevant MX records point to non-existent hosts\n",
			Failed, "5.0.0", "failed"},
		{"no such mailbox", "Unknown user: a@example.org\n", Failed, "5.1.1", "failed"},
		{"retry timeout", "This is a permanent error. The following address(es) failed:\n\n  a@example.org\n    retry timeout exceeded\n",
			Failed, "4.4.7", "failed"},
		{"connection failure", "Delivery to the following recipient failed permanently:\n\n     a@example.org\n\n" +
			"Technical details of permanent failure:\nThe recipient server did not accept our requests to connect.\n", Failed, "4.4.1", "failed"},
		{"delay warning", "Delivery to the following recipient has been delayed:\n\n     a@example.org\n\nMessage will be retried for 2 more day(s)\n",
			Delayed, "", "delayed"},
	}
	for _, c := range cases {
		r := Parse([]byte(head + c.body))
		checkInvariants(t, r)
		if r.Kind != c.kind || len(r.Recipients) != 1 {
			t.Errorf("%s: kind %s recipients %+v; want %s", c.name, r.Kind, r.Recipients, c.kind)
			continue
		}
		if rc := r.Recipients[0]; rc.Final != "a@example.org" || rc.Status != c.status || rc.Action != c.action {
			t.Errorf("%s: %+v; want status %q action %q", c.name, rc, c.status, c.action)
		}
	}
}
