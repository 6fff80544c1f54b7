package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestClientsRelayEncodedMailgunHeaders submits through the SMTP relay a
// message whose X-Mailgun-* headers are RFC 2047 encoded words, as
// nodemailer writes any header holding '{' or '"' (issue 22, defect 4).
// The relay decodes them before parsing: the variables reach the events,
// the tags are the decoded text, and none of the headers is delivered.
func TestClientsRelayEncodedMailgunHeaders(t *testing.T) {
	t.Parallel()
	e := startRelayEnv(t, false, nil)
	c := relayClient(t, e)
	raw := "From: app@" + testDomain + "\r\nTo: rcpt@dest.example\r\nSubject: encoded\r\n" +
		// nodemailer's own spelling of {"src":"smtp"}.
		"X-Mailgun-Variables: =?UTF-8?Q?=7B=22src=22=3A=22smtp=22=7D?=\r\n" +
		// A long value folded into two encoded words (RFC 2047 §6.2: the
		// white space between them goes).
		"X-Mailgun-Variables: =?UTF-8?B?eyJvcmRlciI6IHsiaWQiOiA0?=\r\n =?UTF-8?B?MiwgInRvdGFsIjogIjkuOTkifX0=?=\r\n" +
		"X-Mailgun-Tag: =?UTF-8?Q?Spring_=22Sale=22?=\r\n" +
		"X-Mailgun-Track-Opens: =?us-ascii?Q?no?=\r\n" +
		"\r\nhello\r\n"
	if _, err := submit(c, "app@"+testDomain, []string{"rcpt@dest.example"}, raw); err != nil {
		t.Fatalf("relay refused encoded X-Mailgun-* headers: %v", err)
	}
	got := e.mx.WaitRecipients(t, 1, 20*time.Second)[0].Data
	for _, name := range []string{"X-Mailgun-Tag", "X-Mailgun-Track-Opens"} {
		if v := header(got, name); v != "" {
			t.Errorf("delivered copy still has %s: %q", name, v)
		}
	}
	evs := e.waitEvents("delivered", 1)
	var ev struct {
		Tags          []string       `json:"tags"`
		UserVariables map[string]any `json:"user-variables"`
	}
	if err := json.Unmarshal(evs[0].Data, &ev); err != nil {
		t.Fatal(err)
	}
	order, _ := ev.UserVariables["order"].(map[string]any)
	if ev.UserVariables["src"] != "smtp" || order["id"] != float64(42) || order["total"] != "9.99" {
		t.Errorf("user-variables = %v, want src smtp and order {id 42, total 9.99}", ev.UserVariables)
	}
	if strings.Join(ev.Tags, ",") != `spring "sale"` {
		t.Errorf(`tags = %q, want [spring "sale"]`, ev.Tags)
	}

	t.Run("an encoded word of an unknown charset is refused with its reason", func(t *testing.T) {
		bad := strings.Replace(raw, "=?UTF-8?Q?Spring_=22Sale=22?=", "=?x-klingon?Q?qapla?=", 1)
		_, err := submit(c, "app@"+testDomain, []string{"rcpt@dest.example"}, bad)
		wantSMTPError(t, "unknown charset", err, 550, "5.6.0", "X-Mailgun-Tag: cannot decode its RFC 2047 encoded words")
	})
}

// TestClientsEncodedVariablesParameter: an h:X-Mailgun-Variables form
// value in RFC 2047 encoded words (a client passing on a header it read)
// is decoded like the relay's header: its members become user-variables.
func TestClientsEncodedVariablesParameter(t *testing.T) {
	t.Parallel()
	e := startSendEnv(t, sendEnvOptions{})
	e.send(url.Values{"from": {"sender@" + testDomain}, "to": {"rcpt@dest.example"}, "subject": {"s"}, "text": {"x"},
		"o:testmode": {"yes"}, "h:X-Mailgun-Variables": {"=?UTF-8?Q?=7B=22src=22=3A=22http=22=7D?="}})
	evs := e.waitEvents("accepted", 1)
	var ev struct {
		UserVariables map[string]any `json:"user-variables"`
	}
	if err := json.Unmarshal(evs[0].Data, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.UserVariables["src"] != "http" {
		t.Errorf("user-variables = %v, want src http", ev.UserVariables)
	}
}

// TestClientsMIMEUploadMailgunHeaders: /messages.mime reads the X-Mailgun-*
// headers of the uploaded message as the relay does, RFC 2047 words
// decoded, and removes them; the request's own parameters win.
func TestClientsMIMEUploadMailgunHeaders(t *testing.T) {
	t.Parallel()
	e := startSendEnv(t, sendEnvOptions{})
	raw := "From: app@" + testDomain + "\r\nTo: rcpt@dest.example\r\nSubject: mime\r\n" +
		"X-Mailgun-Variables: =?UTF-8?Q?=7B=22src=22=3A=22mime=22=2C=22who=22=3A=22header=22=7D?=\r\n" +
		"X-Mailgun-Tag: =?UTF-8?Q?from_header?=\r\n" +
		"\r\nhello\r\n"
	status, body := e.call(http.MethodPost, "/v3/"+testDomain+"/messages.mime", multipartBody(
		url.Values{"to": {"rcpt@dest.example"}, "v:who": {"param"}},
		upload{field: "message", name: "message.mime", data: []byte(raw)}))
	if status != http.StatusOK {
		t.Fatalf("messages.mime = %d %s", status, body)
	}
	got := e.mx.WaitRecipients(t, 1, 20*time.Second)[0].Data
	if v := header(got, "X-Mailgun-Tag") + header(got, "X-Mailgun-Variables"); v != "" {
		t.Errorf("delivered copy keeps X-Mailgun-* headers: %q", v)
	}
	evs := e.waitEvents("delivered", 1)
	var ev struct {
		Tags          []string       `json:"tags"`
		UserVariables map[string]any `json:"user-variables"`
	}
	if err := json.Unmarshal(evs[0].Data, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.UserVariables["src"] != "mime" || ev.UserVariables["who"] != "param" || strings.Join(ev.Tags, ",") != "from header" {
		t.Errorf("tags %q, user-variables %v; want [from header], src mime and who param (the parameter wins)", ev.Tags, ev.UserVariables)
	}
	status, body = e.call(http.MethodPost, "/v3/"+testDomain+"/messages.mime", multipartBody(
		url.Values{"to": {"rcpt@dest.example"}},
		upload{field: "message", name: "message.mime", data: []byte(strings.Replace(raw, "X-Mailgun-Tag:", "X-Mailgun-Track-Opens: perhaps\r\nX-Mailgun-Tag:", 1))}))
	if status != http.StatusBadRequest || !strings.Contains(string(body), "X-Mailgun-Track-Opens must be yes or no") {
		t.Errorf("bad X-Mailgun-Track-Opens = %d %s, want 400 naming it", status, body)
	}
}
