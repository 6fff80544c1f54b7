package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestAcceptedIsReadable: what the accept path lets through reads back
// through the storage API (never a 500), and what cannot be stored
// sensibly is refused at accept with a 400.
func TestAcceptedIsReadable(t *testing.T) {
	t.Parallel()
	e := startSendEnv(t, sendEnvOptions{})
	base := url.Values{"from": {"sender@" + testDomain}, "to": {"ann@dest.example"}, "text": {"hi"}}
	cases := map[string]reqBody{}
	long := cloneValues(base)
	long.Set("subject", strings.Repeat("s", 1<<20))
	cases["1 MB subject"] = formBody(long)
	big := cloneValues(base)
	big.Set("subject", strings.Repeat("s", 200<<10)) // under the 256 KB header bound
	cases["200 KB subject"] = formBody(big)
	mime := "From: sender@" + testDomain + "\r\nTo: ann@dest.example\r\nSubject: x\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nunterminated"
	cases["unterminated multipart"] = multipartBody(url.Values{"to": {"ann@dest.example"}}, upload{"message", "m.eml", []byte(mime)})
	for name, body := range cases {
		path := "/v3/" + testDomain + "/messages"
		if strings.Contains(name, "multipart") {
			path += ".mime"
		}
		status, resp := e.call(http.MethodPost, path, body)
		if name == "1 MB subject" {
			if status != http.StatusBadRequest || !strings.Contains(string(resp), "message headers are too large") {
				t.Fatalf("%s: accept answered %d %s, want 400", name, status, resp)
			}
			continue
		}
		if status != http.StatusOK {
			t.Fatalf("%s: accept answered %d %s", name, status, resp)
		}
		var r struct{ ID string }
		_ = json.Unmarshal(resp, &r)
		u := e.storageURL(r.ID)
		if st, b := e.call(http.MethodGet, u, reqBody{}); st != http.StatusOK {
			t.Errorf("%s: accepted, then storage answered %d %s", name, st, b)
		}
		if st, b := e.call(http.MethodGet, u, reqBody{}, "Accept", "message/rfc2822"); st != http.StatusOK {
			t.Errorf("%s: accepted, then raw storage answered %d %.200s", name, st, b)
		}
	}
}

func cloneValues(v url.Values) url.Values {
	c := url.Values{}
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}

// TestAcceptRefusesWhatCannotBeDelivered: recipients with address literals
// or invalid domain labels, and a recipient variable with a line break
// that a header uses, are refused at accept with a 400 (before, they were
// accepted and failed at delivery); nothing is stored.
func TestAcceptRefusesWhatCannotBeDelivered(t *testing.T) {
	t.Parallel()
	e := startSendEnv(t, sendEnvOptions{})
	base := func() url.Values {
		return url.Values{"from": {"sender@" + testDomain}, "subject": {"Hi"}, "text": {"hi"}}
	}
	cases := map[string]url.Values{}
	for _, to := range []string{"r@[127.0.0.1]", "r@-bad-.com", "r@bad..com", "r@" + strings.Repeat("a", 64) + ".com"} {
		v := base()
		v.Set("to", to)
		cases["to "+to] = v
	}
	crlf := base()
	crlf.Set("to", "ann@dest.example")
	crlf.Set("subject", "Hello %recipient.name%")
	crlf.Set("recipient-variables", `{"ann@dest.example": {"name": "Ann\r\nBcc: evil@else.example"}}`)
	cases["line break in a header variable"] = crlf
	for name, v := range cases {
		status, body := e.call(http.MethodPost, "/v3/"+testDomain+"/messages", formBody(v))
		if status != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", name, status, body)
		}
	}
	// A line break in a variable used only in the body is fine, and an
	// internationalised domain is a domain.
	ok := base()
	ok.Set("to", "ann@dest.example")
	ok.Add("to", "bo@bücher.example")
	ok.Set("text", "Dear %recipient.name%")
	ok.Set("recipient-variables", `{"ann@dest.example": {"name": "Ann\nSmith"}, "bo@bücher.example": {"name": "Bo"}}`)
	if status, body := e.call(http.MethodPost, "/v3/"+testDomain+"/messages", formBody(ok)); status != http.StatusOK {
		t.Fatalf("body-only line break: %d %s", status, body)
	}
	e.waitEvents("accepted", 2)
	if n := len(e.storeEvents("accepted")); n != 2 {
		t.Fatalf("%d accepted events, want only the good message's 2", n)
	}
}

// TestHeaderTooLargeIsJSON: a request whose header is over 1 MB gets 431
// in Mailgun's JSON error shape, not net/http's text/plain one.
func TestHeaderTooLargeIsJSON(t *testing.T) {
	t.Parallel()
	e := startSendEnv(t, sendEnvOptions{})
	req, _ := http.NewRequest(http.MethodGet, e.app.URL+"/v3/domains", nil)
	req.SetBasicAuth("api", e.app.Key)
	req.Header.Set("X-Big", strings.Repeat("b", 1200<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m struct{ Message string }
	err = json.NewDecoder(resp.Body).Decode(&m)
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge || resp.Header.Get("Content-Type") != "application/json" ||
		err != nil || !strings.Contains(m.Message, "too large") {
		t.Fatalf("431 answer: %d %q %+v %v", resp.StatusCode, resp.Header.Get("Content-Type"), m, err)
	}
}
