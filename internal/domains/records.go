package domains

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/salvo-email/salvo/internal/dkim"
	"github.com/salvo-email/salvo/internal/dns"
	"github.com/salvo-email/salvo/internal/store"
)

// Record is one DNS record a domain owner must publish, with what the last
// verification found.
type Record struct {
	Sending  bool   // sending (SPF, DKIM, tracking) or receiving (MX)
	Check    string // spf, dkim, tracking, mx
	Type     string // TXT, CNAME, MX
	Name     string
	Value    string
	Priority string // MX only
	Valid    string // valid, invalid, unknown
	Cached   []string
	// CheckedAt is when Cached was looked up (zero: never).
	CheckedAt time.Time
}

// Validity values.
const (
	Valid   = "valid"
	Invalid = "invalid"
	Unknown = "unknown"
)

// Records returns the records d needs, built from this region's host names,
// with the validity of d's last verification.
func (s *Service) Records(d store.Domain) []Record {
	recs := []Record{
		{Sending: true, Check: "spf", Type: "TXT", Name: d.Name, Value: "v=spf1 include:" + s.Settings.SPFInclude + " ~all"},
		{Sending: true, Check: "dkim", Type: "TXT", Name: dkim.RecordName(d.DKIMSelector, d.Name), Value: dkim.RecordValue(d.DKIMPublic)},
		{Sending: true, Check: "tracking", Type: "CNAME", Name: d.WebPrefix + "." + d.Name, Value: s.Settings.TrackingHost},
	}
	for _, mx := range s.Settings.MXHosts {
		recs = append(recs, Record{Check: "mx", Type: "MX", Name: d.Name, Value: mx, Priority: "10"})
	}
	for i := range recs {
		recs[i].Valid, recs[i].Cached = Unknown, []string{}
		for _, c := range d.DNSChecks {
			if c.Record == recs[i].Check && c.Name == recs[i].Name && c.Value == recs[i].Value {
				recs[i].Valid, recs[i].CheckedAt = c.Valid, c.CheckedAt
				if c.Cached != nil {
					recs[i].Cached = c.Cached
				}
			}
		}
	}
	return recs
}

// Verify looks every record up, stores the results and sets the domain
// active when its SPF and DKIM records are in place (unverified otherwise).
func (s *Service) Verify(ctx context.Context, name string) (store.Domain, error) {
	d, err := s.Get(ctx, name)
	if err != nil {
		return d, err
	}
	recs := s.Records(d)
	checks := make([]store.DNSCheck, 0, len(recs))
	now := s.Now().UTC()
	sendingOK := true
	for _, r := range recs {
		valid, cached := s.check(ctx, d, r)
		if r.Check == "spf" || r.Check == "dkim" {
			sendingOK = sendingOK && valid == Valid
		}
		checks = append(checks, store.DNSCheck{Record: r.Check, Name: r.Name, Value: r.Value, Valid: valid, Cached: cached, CheckedAt: now})
	}
	d.DNSChecks = checks
	if d.State != store.DomainDisabled {
		d.State = store.DomainUnverified
		if sendingOK {
			d.State = store.DomainActive
		}
	}
	d.UpdatedAt = now
	return d, s.Regional.UpdateDomain(ctx, d)
}

// check looks one record up. A lookup that fails for a reason other than
// "no such record" leaves the record unknown rather than invalid.
func (s *Service) check(ctx context.Context, d store.Domain, r Record) (string, []string) {
	verdict := func(found []string, err error, match func(string) bool) (string, []string) {
		if err != nil {
			if errors.Is(err, dns.ErrNoRecords) {
				return Invalid, []string{}
			}
			return Unknown, []string{}
		}
		for _, f := range found {
			if match(f) {
				return Valid, found
			}
		}
		return Invalid, found
	}
	switch r.Check {
	case "spf":
		txt, err := s.DNS.LookupTXT(ctx, r.Name)
		var spf []string
		for _, t := range txt {
			if strings.HasPrefix(strings.ToLower(t), "v=spf1") {
				spf = append(spf, t)
			}
		}
		if err == nil && len(spf) == 0 {
			err = dns.ErrNoRecords
		}
		return verdict(spf, err, func(t string) bool {
			return containsFold(strings.Fields(t), "include:"+s.Settings.SPFInclude)
		})
	case "dkim":
		txt, err := s.DNS.LookupTXT(ctx, r.Name)
		return verdict(txt, err, func(t string) bool { return dkim.RecordMatches(t, d.DKIMPublic) })
	case "tracking":
		target, err := s.DNS.LookupCNAME(ctx, r.Name)
		return verdict([]string{target}, err, func(t string) bool { return sameHost(t, r.Value) })
	case "mx":
		mxs, err := s.DNS.LookupMX(ctx, r.Name)
		hosts := make([]string, 0, len(mxs))
		for _, mx := range mxs {
			hosts = append(hosts, strings.TrimSuffix(mx.Host, "."))
		}
		return verdict(hosts, err, func(h string) bool { return sameHost(h, r.Value) })
	}
	return Unknown, []string{}
}

func sameHost(a, b string) bool {
	return strings.EqualFold(strings.TrimSuffix(a, "."), strings.TrimSuffix(b, "."))
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
