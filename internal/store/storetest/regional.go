package storetest

import (
	"fmt"
	"testing"

	"github.com/salvo-email/salvo/internal/store"
)

var regionalTests = []regionalTest{
	{"DomainRoundTrip", testDomainRoundTrip},
	{"DomainZeroValues", testDomainZeroValues},
	{"DomainConflict", testDomainConflict},
	{"DomainNotFound", testDomainNotFound},
	{"Postmaster", testPostmaster},
	{"Domains", testDomains},
	{"UpdateDomain", testUpdateDomain},
	{"DeleteDomain", testDeleteDomain},
}

// fullDomain is a domain with every field set.
func fullDomain(name string) store.Domain {
	return store.Domain{
		ID: "id-" + name, Name: name, State: store.DomainUnverified, Type: "custom", SpamAction: "tag",
		Wildcard: true, RequireTLS: true, SkipVerification: true, WebScheme: "https", WebPrefix: "email",
		DKIMSelector: "salvo", DKIMKeyBits: 2048, DKIMPrivate: []byte("sealed pem\x00\xff"), DKIMPublic: "MIIBIjANBgkq",
		ForceDKIMAuthority: true, UseAutomaticSenderSecurity: true, EncryptIncomingMessage: true,
		MessageTTL: 259200, ArchiveTo: "https://archive.example.com/hook", IPs: "192.0.2.1,192.0.2.2",
		PoolID: "pool-1", MailFromHost: "bounce." + name,
		DNSChecks: []store.DNSCheck{
			{Record: "spf", Name: name, Value: "v=spf1 include:spf.salvo.localhost ~all", Valid: "valid", Cached: []string{"v=spf1 -all"}, CheckedAt: at(2)},
			{Record: "mx", Name: name, Value: "mxa.salvo.localhost", Valid: "unknown"},
		},
		Tracking: store.Tracking{Click: true, ClickHTMLOnly: true, Open: true, OpenTop: true, Unsubscribe: true,
			HTMLFooter: store.DefaultHTMLFooter, TextFooter: "\n\nBye: <%unsubscribe_url%>\n\n"},
		CreatedAt: at(1), UpdatedAt: at(2), AccountID: "sub-1",
	}
}

// postmaster is the first SMTP credential of a domain.
func postmaster(domain string) *store.Credential {
	return &store.Credential{Domain: domain, Login: "postmaster@" + domain, Hash: []byte("$2a$04$hash"), CreatedAt: at(1)}
}

func createDomain(t *testing.T, r store.Regional, d store.Domain, pm *store.Credential) {
	t.Helper()
	mustOK(t, r.CreateDomain(ctx, d, pm), "CreateDomain "+d.Name)
}

// mustDomain fails t unless Domain returns want.
func mustDomain(t *testing.T, r store.Regional, want store.Domain) {
	t.Helper()
	got, err := r.Domain(ctx, want.Name)
	mustOK(t, err, "Domain "+want.Name)
	mustEqual(t, "Domain "+want.Name, want, got)
}

func mustNoDomain(t *testing.T, r store.Regional, name string) {
	t.Helper()
	_, err := r.Domain(ctx, name)
	mustIs(t, err, store.ErrNotFound, "Domain "+name)
}

// mustPage fails t unless Domains(skip, limit) returns want and total.
func mustPage(t *testing.T, r store.Regional, skip, limit, total int, want ...store.Domain) {
	t.Helper()
	what := fmt.Sprintf("Domains(%d, %d)", skip, limit)
	got, n, err := r.Domains(ctx, skip, limit)
	mustOK(t, err, what)
	if n != total {
		t.Fatalf("%s: total = %d, want %d", what, n, total)
	}
	mustEqual(t, what, want, got)
}

func testDomainRoundTrip(t *testing.T, r store.Regional) {
	d := fullDomain("mg.example.com")
	requireAllSet(t, d)
	createDomain(t, r, d, nil)
	mustDomain(t, r, d)
}

// testDomainZeroValues checks that a domain with nothing but a name and an
// ID comes back so (zero times zero, no DNS checks).
func testDomainZeroValues(t *testing.T, r store.Regional) {
	d := store.Domain{ID: "d1", Name: "mg.example.com"}
	createDomain(t, r, d, nil)
	mustDomain(t, r, d)
}

func testDomainConflict(t *testing.T, r store.Regional) {
	d := fullDomain("mg.example.com")
	createDomain(t, r, d, nil)
	dup := fullDomain("mg.example.com")
	dup.ID, dup.State = "other-id", store.DomainActive
	mustIs(t, r.CreateDomain(ctx, dup, nil), store.ErrConflict, "CreateDomain of an existing name")
	mustDomain(t, r, d)
}

func testDomainNotFound(t *testing.T, r store.Regional) {
	createDomain(t, r, fullDomain("a.com"), nil)
	mustNoDomain(t, r, "b.com")
	mustIs(t, r.UpdateDomain(ctx, fullDomain("b.com")), store.ErrNotFound, "UpdateDomain of an unknown name")
	mustIs(t, r.DeleteDomain(ctx, "b.com"), store.ErrNotFound, "DeleteDomain of an unknown name")
	mustPage(t, r, 0, 10, 1, fullDomain("a.com"))
}

// testPostmaster checks that CreateDomain stores the postmaster credential
// with the domain, atomically. Regional has no credential reader yet; a
// login is unique, so a second domain claiming the same login shows whether
// the first one's credential is stored.
func testPostmaster(t *testing.T, r store.Regional) {
	a, b := fullDomain("a.com"), fullDomain("b.com")
	createDomain(t, r, a, postmaster("a.com"))
	mustDomain(t, r, a)

	mustIs(t, r.CreateDomain(ctx, b, postmaster("a.com")), store.ErrConflict, "CreateDomain with a used login")
	mustNoDomain(t, r, "b.com") // the domain row was rolled back with the credential
	createDomain(t, r, b, postmaster("b.com"))
	mustPage(t, r, 0, 10, 2, a, b)
}

func testDomains(t *testing.T, r store.Regional) {
	mustPage(t, r, 0, 10, 0)
	names := []string{"d.com", "b.com", "e.com", "a.com", "c.com"}
	for i, name := range names {
		d := fullDomain(name)
		d.CreatedAt = at(i) // creation order differs from name order
		createDomain(t, r, d, nil)
	}
	byName := make([]store.Domain, 0, len(names))
	for _, name := range []string{"a.com", "b.com", "c.com", "d.com", "e.com"} {
		got, err := r.Domain(ctx, name)
		mustOK(t, err, "Domain")
		byName = append(byName, got)
	}
	mustPage(t, r, 0, 10, 5, byName...)
	mustPage(t, r, 0, 2, 5, byName[:2]...)
	mustPage(t, r, 1, 2, 5, byName[1:3]...)
	mustPage(t, r, 3, 10, 5, byName[3:]...)
	mustPage(t, r, 5, 10, 5)
	mustPage(t, r, 100, 10, 5)
}

func testUpdateDomain(t *testing.T, r store.Regional) {
	d := fullDomain("mg.example.com")
	createDomain(t, r, d, nil)
	u := store.Domain{
		ID: d.ID, Name: d.Name, State: store.DomainActive, Type: "sandbox", SpamAction: "block",
		WebScheme: "http", WebPrefix: "track", DKIMSelector: "s2", DKIMKeyBits: 1024,
		DKIMPrivate: []byte("another sealed pem"), DKIMPublic: "MIGfMA0G",
		MessageTTL: 3600, ArchiveTo: "https://other.example.com/", IPs: "198.51.100.7", PoolID: "pool-2",
		MailFromHost: "mail.mg.example.com",
		DNSChecks: []store.DNSCheck{
			{Record: "dkim", Name: "s2._domainkey.mg.example.com", Value: "k=rsa; p=MIGfMA0G", Valid: "invalid", Cached: []string{}, CheckedAt: at(59)},
			{Record: "spf", Name: "mg.example.com", Value: "v=spf1 ~all", Valid: "valid", Cached: []string{"a", "b"}},
			{Record: "tracking", Name: "track.mg.example.com", Value: "salvo.localhost", Valid: "valid"},
		},
		CreatedAt: d.CreatedAt, UpdatedAt: at(60), AccountID: d.AccountID,
	}
	// Booleans go from true to false here; the name, ID, owner and
	// creation time never change.
	requireAllChanged(t, d, u, "Name", "ID", "CreatedAt", "AccountID")
	mustOK(t, r.UpdateDomain(ctx, u), "UpdateDomain")
	mustDomain(t, r, u)

	// And back, so that every boolean is seen going both ways.
	d.UpdatedAt = at(61)
	mustOK(t, r.UpdateDomain(ctx, d), "UpdateDomain back")
	mustDomain(t, r, d)
}

func testDeleteDomain(t *testing.T, r store.Regional) {
	a, b := fullDomain("a.com"), fullDomain("b.com")
	createDomain(t, r, a, postmaster("a.com"))
	createDomain(t, r, b, postmaster("b.com"))

	mustOK(t, r.DeleteDomain(ctx, "a.com"), "DeleteDomain")
	mustNoDomain(t, r, "a.com")
	mustPage(t, r, 0, 10, 1, b)
	mustIs(t, r.DeleteDomain(ctx, "a.com"), store.ErrNotFound, "second DeleteDomain")

	// The credentials went with the domain: it can be created again with
	// the same postmaster. The other domain's credential is still there.
	createDomain(t, r, a, postmaster("a.com"))
	c := fullDomain("c.com")
	mustIs(t, r.CreateDomain(ctx, c, postmaster("b.com")), store.ErrConflict, "CreateDomain with the other domain's login")
	mustNoDomain(t, r, "c.com")
}
