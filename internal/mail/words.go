package mail

import (
	"fmt"
	"mime"
	"strings"
)

// DecodeWords undoes the RFC 2047 encoded words of a header value (§2;
// the white space between adjacent words is dropped, RFC 2047 §6.2). nodemailer
// encodes any header holding '{' or '"', so an X-Mailgun-Variables of
// {"src":"smtp"} arrives as =?UTF-8?Q?=7B=22src=22=3A=22smtp=22=7D?=.
// UTF-8, ISO-8859-1 and US-ASCII words are read; another charset is an
// error naming it. A value without "=?" is returned as it is.
func DecodeWords(v string) (string, error) {
	if !strings.Contains(v, "=?") {
		return v, nil
	}
	var d mime.WordDecoder
	out, err := d.DecodeHeader(v)
	if err != nil {
		return "", fmt.Errorf("cannot decode its RFC 2047 encoded words: %w", err)
	}
	return out, nil
}
