package tlspolicy

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Modes of an MTA-STS policy (RFC 8461 §5).
const (
	ModeEnforce = "enforce"
	ModeTesting = "testing"
	ModeNone    = "none"
)

// maxMaxAge is the largest max_age a policy may give (RFC 8461 §3.2: 31557600 s, a year).
const maxMaxAge = 31557600

// Policy is a domain's MTA-STS policy (RFC 8461 §3.2) as fetched.
type Policy struct {
	Mode   string
	MX     []string // patterns: "mx.example.com" or "*.example.com"
	MaxAge time.Duration
	// ID is the id of the TXT record that announced it (RFC 8461 §3.1);
	// Expires is when the cached copy ends (fetched + max_age).
	ID      string
	Expires time.Time
}

// ParsePolicy parses a policy body (RFC 8461 §3.2): "key: value" lines
// ending in CRLF or LF. version (STSv1), mode and max_age are required,
// mx at least once unless the mode is none; unknown keys are ignored, as
// the RFC asks; a repeated key other than mx keeps its first value.
func ParsePolicy(body []byte) (Policy, error) {
	var p Policy
	seen := map[string]bool{}
	for _, line := range strings.Split(string(body), "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			return Policy{}, fmt.Errorf("mta-sts policy: line %q is not key: value", line)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if k == "mx" {
			if v == "" {
				return Policy{}, errors.New("mta-sts policy: empty mx")
			}
			p.MX = append(p.MX, strings.ToLower(strings.TrimSuffix(v, ".")))
			continue
		}
		if seen[k] {
			continue
		}
		seen[k] = true
		switch k {
		case "version":
			if v != "STSv1" {
				return Policy{}, fmt.Errorf("mta-sts policy: version %q, want STSv1", v)
			}
		case "mode":
			switch v {
			case ModeEnforce, ModeTesting, ModeNone:
				p.Mode = v
			default:
				return Policy{}, fmt.Errorf("mta-sts policy: unknown mode %q", v)
			}
		case "max_age":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 || n > maxMaxAge || len(v) > 10 {
				return Policy{}, fmt.Errorf("mta-sts policy: max_age %q is not 0..%d", v, maxMaxAge)
			}
			p.MaxAge = time.Duration(n) * time.Second
		}
	}
	switch {
	case !seen["version"]:
		return Policy{}, errors.New("mta-sts policy: no version")
	case p.Mode == "":
		return Policy{}, errors.New("mta-sts policy: no mode")
	case !seen["max_age"]:
		return Policy{}, errors.New("mta-sts policy: no max_age")
	case len(p.MX) == 0 && p.Mode != ModeNone:
		return Policy{}, errors.New("mta-sts policy: no mx")
	}
	return p, nil
}

// Matches reports whether host is one of the policy's MX patterns (RFC
// 8461 §4.1): an exact name, or "*.suffix" standing for exactly one
// label before suffix. Case and a trailing dot do not matter.
func (p *Policy) Matches(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, pat := range p.MX {
		if suffix, ok := strings.CutPrefix(pat, "*."); ok {
			label, rest, found := strings.Cut(host, ".")
			if found && label != "" && rest == suffix {
				return true
			}
			continue
		}
		if host == pat {
			return true
		}
	}
	return false
}

// ParseRecord parses the TXT record of _mta-sts.<domain> (RFC 8461 §3.1):
// "v=STSv1; id=<1-32 letters and digits>;" with optional whitespace
// around fields; v must come first; other fields are ignored.
func ParseRecord(txt string) (id string, err error) {
	fields := strings.Split(txt, ";")
	for i, f := range fields {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return "", fmt.Errorf("mta-sts record: field %q is not key=value", f)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if i == 0 {
			if k != "v" || v != "STSv1" {
				return "", fmt.Errorf("mta-sts record %q does not start with v=STSv1", txt)
			}
			continue
		}
		if k == "id" && id == "" {
			if len(v) < 1 || len(v) > 32 || strings.IndexFunc(v, func(r rune) bool {
				return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
			}) >= 0 {
				return "", fmt.Errorf("mta-sts record: bad id %q", v)
			}
			id = v
		}
	}
	if id == "" {
		return "", fmt.Errorf("mta-sts record %q has no id", txt)
	}
	return id, nil
}

// pickRecord chooses the MTA-STS record among a name's TXT strings (RFC
// 8461 §3.1): those not starting with "v=STSv1" are discarded, and
// anything but exactly one left means the domain has no MTA-STS.
func pickRecord(txts []string) (string, error) {
	var recs []string
	for _, t := range txts {
		if strings.HasPrefix(strings.TrimSpace(t), "v=STSv1") {
			recs = append(recs, t)
		}
	}
	if len(recs) != 1 {
		return "", fmt.Errorf("%w: %d v=STSv1 records", errNoRecord, len(recs))
	}
	return ParseRecord(recs[0])
}

var errNoRecord = errors.New("no MTA-STS record")
