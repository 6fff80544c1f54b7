package mgapi_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mailgun/mailgun-go/v4"

	"github.com/salvo-email/salvo/internal/mgapi"
)

func TestParseDate(t *testing.T) {
	t.Parallel()
	utc := func(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
	}
	base := utc(2011, time.October, 13, 18, 2, 0, 0)
	cases := []struct {
		in   string
		want time.Time
	}{
		{"Thu, 13 Oct 2011 18:02:00 GMT", base},
		{"Thu, 13 Oct 2011 18:02:00 +0000", base},
		{"Thu, 13 Oct 2011 18:02:00 -0000", base},
		{"13 Oct 2011 18:02:00 +0000", base},                                        // no weekday
		{"Thu, 13 Oct 2011 18:02 GMT", base},                                        // no seconds
		{"Thu,13 Oct 2011 18:02:00 UT", base},                                       // no space after the comma
		{"  Thu, 13 Oct 2011 18:02:00 UTC  ", base},                                 // surrounding blanks
		{"Thu, 13 Oct 2011 18:02:00 Z", base},                                       // military Z
		{"Thu, 13 oct 2011 18:02:00 gmt", base},                                     // any case
		{"Thu, 13 Oct 2011 18:02:00 +0000 (UTC)", base},                             // trailing comment
		{"Thu, 13 Oct 2011 20:02:00 +0200", base},                                   // numeric offsets
		{"Thu, 13 Oct 2011 12:32:00 -0530", base},                                   // half hours
		{"Mon, 2 Jan 2006 15:04:05 -0700", utc(2006, time.January, 2, 22, 4, 5, 0)}, // mailgun-go's input layout
		{"Mon, 02 Jan 2006 15:04:05 -0700", utc(2006, time.January, 2, 22, 4, 5, 0)},
		{"2 Jan 06 15:04:05 +0000", utc(2006, time.January, 2, 15, 4, 5, 0)}, // obsolete two-digit year
		{"Sat, 31 Dec 2016 23:59:60 +0000", utc(2016, time.December, 31, 23, 59, 59, 0)},
		{"Thu, 29 Feb 2024 00:00:00 +0000", utc(2024, time.February, 29, 0, 0, 0, 0)},
		// RFC 2822 §4.3 obsolete US zones, at their fixed offsets.
		{"Thu, 13 Oct 2011 13:02:00 EST", base},
		{"Thu, 13 Oct 2011 14:02:00 EDT", base},
		{"Thu, 13 Oct 2011 12:02:00 CST", base},
		{"Thu, 13 Oct 2011 13:02:00 CDT", base},
		{"Thu, 13 Oct 2011 11:02:00 MST", base},
		{"Thu, 13 Oct 2011 12:02:00 MDT", base},
		{"Thu, 13 Oct 2011 10:02:00 PST", base},
		{"Thu, 13 Oct 2011 11:02:00 PDT", base},
		// Epoch seconds, whole and fractional (events use microseconds).
		{"1318528920", base},
		{"1529692198.641821", utc(2018, time.June, 22, 18, 29, 58, 641821000)},
		{"0", time.Unix(0, 0).UTC()},
		// RFC 3339.
		{"2011-10-13T18:02:00Z", base},
		{"2011-10-13T20:02:00+02:00", base},
		{"2023-01-02T02:14:27.5Z", utc(2023, time.January, 2, 2, 14, 27, 500000000)},
	}
	for _, c := range cases {
		got, err := mgapi.ParseDate(c.in)
		if err != nil {
			t.Errorf("ParseDate(%q): %v", c.in, err)
			continue
		}
		if !got.Equal(c.want) {
			t.Errorf("ParseDate(%q) = %v, want %v", c.in, got.UTC(), c.want)
		}
	}
}

func TestParseDateRefusals(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, reason string }{
		{"", "empty"},
		{"   ", "empty"},
		{"Thu, 13 Oct 2011 18:02:00 CET", `time zone "CET" is ambiguous`},
		{"Thu, 13 Oct 2011 18:02:00 IST", `time zone "IST" is ambiguous`},
		{"Thu, 13 Oct 2011 18:02:00 HLC", `time zone "HLC" is ambiguous`},
		{"Thu, 13 Oct 2011 18:02:00", ""},             // no zone
		{"yesterday", ""},                             // garbage
		{"Thu, 13 Oct 2011 18:02:00 +0000 +0000", ""}, // too many fields
		{"Fri, 30 Feb 2024 10:00:00 +0000", "no such day"},
		{"Thu, 29 Feb 2023 10:00:00 +0000", "no such day"},
		{"Thu, 00 Oct 2011 18:02:00 +0000", "no such day"},
		{"Thu, 123 Oct 2011 18:02:00 +0000", "bad day"},
		{"Thu, 13 Okt 2011 18:02:00 +0000", "bad month"},
		{"Thu, 13 Oct 20111 18:02:00 +0000", "bad year"},
		{"Thu, 13 Oct 2011 24:00:00 +0000", "bad time"},
		{"Thu, 13 Oct 2011 18:2:00 +0000", "bad time"},
		{"Thu, 13 Oct 2011 18:02:00 +00", `bad offset`},
		{"Thu, 13 Oct 2011 18:02:00 +0099", `bad offset`},
		{"Thu, 13 Oct 2011 18:02:00 +-100", `bad offset`},
		{"Thu, +3 Oct 2011 18:02:00 +0000", "bad day"},
		{"Thu, 13 Oct +011 18:02:00 +0000", "bad year"},
		{"Thu, 13 Oct 2011 +1:02:00 +0000", "bad time"},
		{"-5", ""},    // no negative epochs
		{"NaN", ""},   // not a number either
		{"1e400", ""}, // out of range
		{"2011-13-45T00:00:00Z", ""},
	}
	for _, c := range cases {
		got, err := mgapi.ParseDate(c.in)
		var de *mgapi.DateError
		if !errors.As(err, &de) {
			t.Errorf("ParseDate(%q) = %v, %v; want a *DateError", c.in, got, err)
			continue
		}
		if de.Value != c.in || !strings.Contains(err.Error(), c.reason) || !strings.Contains(err.Error(), "is not an RFC-2822 compliant date") {
			t.Errorf("ParseDate(%q) error %q, want it to name the value and %q", c.in, err, c.reason)
		}
	}
}

func TestFormatDate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   time.Time
		want string
	}{
		{time.Date(2026, time.January, 3, 4, 5, 6, 0, time.UTC), "Sat, 03 Jan 2026 04:05:06 +0000"},
		{time.Date(2026, time.January, 3, 4, 5, 6, 999, time.FixedZone("", 2*3600)), "Sat, 03 Jan 2026 02:05:06 +0000"},
		{time.Date(2025, time.December, 31, 23, 30, 0, 0, time.FixedZone("", -3600)), "Thu, 01 Jan 2026 00:30:00 +0000"},
		{time.Date(2011, time.October, 13, 18, 2, 0, 0, time.UTC), "Thu, 13 Oct 2011 18:02:00 +0000"},
	}
	for _, c := range cases {
		if got := mgapi.FormatDate(c.in); got != c.want {
			t.Errorf("FormatDate(%v) = %q, want %q", c.in, got, c.want)
		}
		back, err := mgapi.ParseDate(mgapi.FormatDate(c.in))
		if err != nil || !back.Equal(c.in.Truncate(time.Second)) {
			t.Errorf("ParseDate(FormatDate(%v)) = %v, %v", c.in, back, err)
		}
	}
}

// TestTimeDecodesInMailgunGo: every date Salvo writes must decode with
// mailgun-go's RFC2822Time, which fails the whole response otherwise.
func TestTimeDecodesInMailgunGo(t *testing.T) {
	t.Parallel()
	for _, in := range []time.Time{
		time.Date(2026, time.February, 1, 0, 0, 0, 0, time.UTC), // single-digit day
		time.Date(1999, time.December, 31, 23, 59, 59, 0, time.FixedZone("", -8*3600)),
		time.Unix(0, 0),
		{}, // zero time still writes a valid date
	} {
		b, err := json.Marshal(struct {
			CreatedAt mgapi.Time `json:"created_at"`
		}{mgapi.Time(in)})
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			CreatedAt mailgun.RFC2822Time `json:"created_at"`
		}
		if err := json.Unmarshal(b, &got); err != nil {
			t.Errorf("mailgun-go cannot decode %s: %v", b, err)
			continue
		}
		if !time.Time(got.CreatedAt).Equal(in.Truncate(time.Second)) {
			t.Errorf("%s decoded by mailgun-go as %v, want %v", b, time.Time(got.CreatedAt), in)
		}
		var back mgapi.Time
		if err := json.Unmarshal(b[len(`{"created_at":`):len(b)-1], &back); err != nil || !time.Time(back).Equal(in.Truncate(time.Second)) {
			t.Errorf("mgapi.Time round trip of %s = %v, %v", b, time.Time(back), err)
		}
	}
	// And what mailgun-go writes, Salvo reads.
	b, err := json.Marshal(mailgun.RFC2822Time(time.Date(2026, time.March, 4, 5, 6, 7, 0, time.UTC)))
	if err != nil {
		t.Fatal(err)
	}
	var back mgapi.Time
	if err := json.Unmarshal(b, &back); err != nil || !time.Time(back).Equal(time.Date(2026, time.March, 4, 5, 6, 7, 0, time.UTC)) {
		t.Errorf("mgapi.Time of mailgun-go's %s = %v, %v", b, time.Time(back), err)
	}
}

func TestISOTime(t *testing.T) {
	t.Parallel()
	in := time.Date(2026, time.January, 23, 12, 16, 0, 0, time.FixedZone("", 2*3600))
	b, err := json.Marshal(mgapi.ISOTime(in))
	if err != nil || string(b) != `"2026-01-23T10:16:00"` {
		t.Fatalf("ISOTime = %s, %v; want UTC without a zone", b, err)
	}
	var back mgapi.ISOTime
	if err := json.Unmarshal(b, &back); err != nil || !time.Time(back).Equal(in) {
		t.Errorf("ISOTime round trip = %v, %v", time.Time(back), err)
	}
	if err := json.Unmarshal([]byte(`"2026-01-23 10:16:00"`), &back); err == nil {
		t.Error("ISOTime accepted a space instead of T")
	}
}
