package inbound

import (
	"bytes"
	"encoding/json"
	"mime"
	"mime/multipart"
	"strconv"
	"testing"
)

// FuzzParseInbound: any bytes an MX may receive are parsed and turned
// into a route POST without panicking; the POST is well-formed multipart
// whose attachment-count matches its files and whose message-headers is
// a JSON array of pairs.
func FuzzParseInbound(f *testing.F) {
	for _, s := range []string{
		"Subject: hi\r\n\r\nbody\r\n",
		"From: a@b.c\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nhello\r\n" +
			"--x\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"a \\\"q\\\".pdf\"\r\n" +
			"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--x--\r\n",
		"Content-Type: text/html; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n<p>caf=E9</p>\r\n",
		"Content-Type: multipart/alternative; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nOn Mon X wrote:\r\n> q\r\n--b",
		"Subject: =?utf-8?q?=C3=BC?=\r\nX-Bad\r\n\r\n",
		"\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, err := parse(raw)
		if err != nil {
			return
		}
		for _, withFiles := range []bool{true, false} {
			body, ct, err := parsedForm(p, "r@x.test", "s@y.test", "https://h/m", withFiles).encode()
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			checkForm(t, body, ct, len(p.Files), withFiles)
		}
		if _, _, err := mimeForm(raw, p, "r@x.test", "s@y.test").encode(); err != nil {
			t.Fatalf("encode mime form: %v", err)
		}
	})
}

func checkForm(t *testing.T, body []byte, ct string, files int, withFiles bool) {
	_, params, err := mime.ParseMediaType(ct)
	if err != nil {
		t.Fatalf("Content-Type %q: %v", ct, err)
	}
	form, err := multipart.NewReader(bytes.NewReader(body), params["boundary"]).ReadForm(64 << 20)
	if err != nil {
		t.Fatalf("the POST does not read back: %v", err)
	}
	defer form.RemoveAll()
	if got := form.Value["attachment-count"]; len(got) != 1 || got[0] != strconv.Itoa(files) {
		t.Fatalf("attachment-count %v, want %d", got, files)
	}
	if withFiles && len(form.File) != files {
		t.Fatalf("%d file parts, want %d", len(form.File), files)
	}
	var headers [][]string
	if err := json.Unmarshal([]byte(form.Value["message-headers"][0]), &headers); err != nil {
		t.Fatalf("message-headers: %v", err)
	}
	for _, h := range headers {
		if len(h) != 2 {
			t.Fatalf("message-headers entry %v is not a pair", h)
		}
	}
	for _, name := range []string{"timestamp", "token", "signature"} {
		if len(form.Value[name]) != 0 {
			t.Fatalf("a message header became the %s field", name)
		}
	}
}
