package mgapi

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// RFC2822 is how Mailgun writes dates: a two-digit day and a numeric offset.
// mailgun-go's decoder accepts only this layout and the GMT/UTC one, so the
// day is always zero-padded and the value is never empty.
const RFC2822 = "Mon, 02 Jan 2006 15:04:05 -0700"

// FormatDate writes t in UTC as RFC2822 ("Thu, 13 Oct 2011 18:02:00 +0000").
func FormatDate(t time.Time) string { return t.UTC().Format(RFC2822) }

// Time is a date written as RFC2822 in JSON.
type Time time.Time

// MarshalJSON writes the RFC2822 form.
func (t Time) MarshalJSON() ([]byte, error) {
	return []byte(strconv.Quote(FormatDate(time.Time(t)))), nil
}

// UnmarshalJSON reads any date ParseDate accepts.
func (t *Time) UnmarshalJSON(b []byte) error {
	s, err := strconv.Unquote(string(b))
	if err != nil {
		return err
	}
	v, err := ParseDate(s)
	if err != nil {
		return err
	}
	*t = Time(v)
	return nil
}

// ISOTime is the zone-less ISO-8601 form /v1/keys uses ("2006-01-02T15:04:05", UTC).
type ISOTime time.Time

// ISOLayout is ISOTime's layout.
const ISOLayout = "2006-01-02T15:04:05"

// MarshalJSON writes the ISO form in UTC.
func (t ISOTime) MarshalJSON() ([]byte, error) {
	return []byte(strconv.Quote(time.Time(t).UTC().Format(ISOLayout))), nil
}

// UnmarshalJSON reads the ISO form as UTC.
func (t *ISOTime) UnmarshalJSON(b []byte) error {
	s, err := strconv.Unquote(string(b))
	if err != nil {
		return err
	}
	v, err := time.ParseInLocation(ISOLayout, s, time.UTC)
	if err != nil {
		return err
	}
	*t = ISOTime(v)
	return nil
}

// DateError explains why a date was refused; its text is the API message.
type DateError struct {
	Value  string
	Reason string
}

func (e *DateError) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("%s is not an RFC-2822 compliant date: %s", e.Value, e.Reason)
	}
	return fmt.Sprintf("%s is not an RFC-2822 compliant date", e.Value)
}

// usZones are the only abbreviations RFC 2822 §4.3 defines (besides UT/GMT);
// their offsets are fixed by the RFC, so they are unambiguous.
var usZones = map[string]int{
	"EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
}

var months = map[string]time.Month{
	"jan": time.January, "feb": time.February, "mar": time.March, "apr": time.April,
	"may": time.May, "jun": time.June, "jul": time.July, "aug": time.August,
	"sep": time.September, "oct": time.October, "nov": time.November, "dec": time.December,
}

// ParseDate reads an input date the way Mailgun accepts them: RFC 2822
// (optional weekday, one- or two-digit day, seconds optional, numeric
// offset, GMT/UT/UTC/Z or one of RFC 2822's obsolete US zones), RFC 3339, or
// Unix epoch seconds (fractions allowed). Any other zone abbreviation (CET,
// IST, …) is refused: reading it as +0000 would silently shift the date.
func ParseDate(s string) (time.Time, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return time.Time{}, &DateError{Value: s, Reason: "empty"}
	}
	if t, ok := parseEpoch(in); ok {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, in); err == nil {
		return t, nil
	}
	return parseRFC2822(s, in)
}

func parseEpoch(s string) (time.Time, bool) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 253402300799 {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e6))*1e3).UTC(), true
}

func parseRFC2822(orig, s string) (time.Time, error) {
	fail := func(reason string) (time.Time, error) {
		return time.Time{}, &DateError{Value: orig, Reason: reason}
	}
	// Drop a trailing comment such as "(UTC)".
	if i := strings.IndexByte(s, '('); i > 0 && strings.HasSuffix(s, ")") {
		s = strings.TrimSpace(s[:i])
	}
	if i := strings.IndexByte(s, ','); i >= 0 {
		s = strings.TrimSpace(s[i+1:]) // weekday is informative only
	}
	f := strings.Fields(s)
	if len(f) != 5 {
		return fail("")
	}
	day, err := number(f[0])
	if err != nil || len(f[0]) > 2 {
		return fail("bad day")
	}
	mon, ok := months[strings.ToLower(f[1])]
	if !ok {
		return fail("bad month")
	}
	year, err := number(f[2])
	if err != nil {
		return fail("bad year")
	}
	switch len(f[2]) {
	case 2: // RFC 2822 §4.3 obsolete two-digit years
		if year < 50 {
			year += 2000
		} else {
			year += 1900
		}
	case 3:
		year += 1900
	case 4:
	default:
		return fail("bad year")
	}
	hms := strings.Split(f[3], ":")
	if len(hms) < 2 || len(hms) > 3 {
		return fail("bad time")
	}
	var clock [3]int
	for i, p := range hms {
		n, err := number(p)
		if err != nil || len(p) != 2 {
			return fail("bad time")
		}
		clock[i] = n
	}
	if clock[0] > 23 || clock[1] > 59 || clock[2] > 60 {
		return fail("bad time")
	}
	if clock[2] == 60 { // leap second
		clock[2] = 59
	}
	offset, err := parseZone(f[4])
	if err != nil {
		return time.Time{}, &DateError{Value: orig, Reason: err.Error()}
	}
	t := time.Date(year, mon, day, clock[0], clock[1], clock[2], 0, time.FixedZone("", offset))
	if t.Day() != day || t.Month() != mon {
		return fail("no such day")
	}
	return t, nil
}

// number reads an unsigned decimal field (strconv.Atoi alone also takes a sign).
func number(s string) (int, error) {
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return 0, strconv.ErrSyntax
	}
	return strconv.Atoi(s)
}

func parseZone(z string) (int, error) {
	if z[0] == '+' || z[0] == '-' {
		if len(z) != 5 {
			return 0, fmt.Errorf("bad offset %q", z)
		}
		h, err1 := number(z[1:3])
		m, err2 := number(z[3:5])
		if err1 != nil || err2 != nil || m > 59 {
			return 0, fmt.Errorf("bad offset %q", z)
		}
		off := h*3600 + m*60
		if z[0] == '-' {
			off = -off
		}
		return off, nil
	}
	u := strings.ToUpper(z)
	switch u {
	case "GMT", "UT", "UTC", "Z":
		return 0, nil
	}
	if h, ok := usZones[u]; ok {
		return h * 3600, nil
	}
	return 0, fmt.Errorf("time zone %q is ambiguous; use a numeric offset such as +0100, or GMT", z)
}
