package web_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/domains"
	"github.com/salvo-email/salvo/internal/store"
)

var (
	suppRowRE = regexp.MustCompile(`<tr class="supp" data-address="([^"]+)"`)
	linkRE    = regexp.MustCompile(`<a href="([^"]+)" id="page-([a-z]+)">`)
)

// listPage is a list page as the tests read it: its addresses and its
// paging links by name (first, prev, next, last).
type listPage struct {
	rows  []string
	links map[string]string
}

func (c *client) listPage(path string) listPage {
	c.t.Helper()
	p := c.get(path)
	if p.StatusCode != http.StatusOK {
		c.t.Fatalf("GET %s: %d\n%s", path, p.StatusCode, p.Body)
	}
	lp := listPage{links: map[string]string{}}
	for _, m := range suppRowRE.FindAllStringSubmatch(p.Body, -1) {
		lp.rows = append(lp.rows, m[1])
	}
	for _, m := range linkRE.FindAllStringSubmatch(p.Body, -1) {
		lp.links[m[2]] = html.UnescapeString(m[1])
	}
	return lp
}

func (lp listPage) span() string {
	if len(lp.rows) == 0 {
		return "none"
	}
	return fmt.Sprintf("%s..%s (%d)", lp.rows[0], lp.rows[len(lp.rows)-1], len(lp.rows))
}

func (lp listPage) has() string {
	var out []string
	for _, n := range []string{"first", "prev", "next", "last"} {
		if lp.links[n] != "" {
			out = append(out, n)
		}
	}
	return strings.Join(out, ",")
}

// withDomain is a dashboard with testDomain and a logged-in client.
func withDomain(t *testing.T) (*dash, *client, string) {
	t.Helper()
	d := startDash(t, dashOptions{})
	if _, err := d.Domains.Create(context.Background(), domains.CreateRequest{Name: testDomain}); err != nil {
		t.Fatal(err)
	}
	c := d.client(t)
	return d, c, c.login(testEmail, testPassword)
}

// TestSuppressionsPaging walks 120 bounces 50 at a time both ways and
// searches them by prefix.
func TestSuppressionsPaging(t *testing.T) {
	t.Parallel()
	d, c, _ := withDomain(t)
	var recs []store.Suppression
	for i := 0; i < 120; i++ {
		recs = append(recs, store.Suppression{Domain: testDomain, List: store.Bounces, Address: fmt.Sprintf("a%03d@dest.example", i),
			Code: "550", CreatedAt: time.Now().UTC().Truncate(time.Microsecond)})
	}
	if err := d.Regional.PutSuppressions(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	base := "/dashboard/suppressions/" + testDomain + "/bounces"
	steps := []struct{ name, span, links string }{
		{"", "a000@dest.example..a049@dest.example (50)", "next,last"},
		{"next", "a050@dest.example..a099@dest.example (50)", "first,prev,next,last"},
		{"next", "a100@dest.example..a119@dest.example (20)", "first,prev"},
		{"prev", "a050@dest.example..a099@dest.example (50)", "first,prev,next,last"},
		{"last", "a070@dest.example..a119@dest.example (50)", "first,prev"},
		{"prev", "a020@dest.example..a069@dest.example (50)", "first,prev,next,last"},
		{"prev", "a000@dest.example..a019@dest.example (20)", "next,last"},
		{"next", "a020@dest.example..a069@dest.example (50)", "first,prev,next,last"},
		{"first", "a000@dest.example..a049@dest.example (50)", "next,last"},
	}
	lp := c.listPage(base)
	for i, s := range steps {
		if s.name != "" {
			if lp.links[s.name] == "" {
				t.Fatalf("step %d: no %s link", i, s.name)
			}
			lp = c.listPage(lp.links[s.name])
		}
		if lp.span() != s.span || lp.has() != s.links {
			t.Fatalf("step %d (%s): rows %s, links %s; want %s, %s", i, s.name, lp.span(), lp.has(), s.span, s.links)
		}
	}
	lp = c.listPage(base + "?term=A11")
	if lp.span() != "a110@dest.example..a119@dest.example (10)" || lp.has() != "" {
		t.Fatalf("search a11: %s, links %s", lp.span(), lp.has())
	}
	lp = c.listPage(base + "?term=a0")
	if lp.span() != "a000@dest.example..a049@dest.example (50)" || lp.has() != "next,last" {
		t.Fatalf("search a0: %s, links %s", lp.span(), lp.has())
	}
	if next := c.listPage(lp.links["next"]); next.span() != "a050@dest.example..a099@dest.example (50)" ||
		!strings.Contains(lp.links["next"], "term=a0") || next.has() != "first,prev" {
		t.Fatalf("search a0, next page: %s, links %s", next.span(), next.has())
	}
}

// flashError returns the error message of the page a form went back to.
func (c *client) flashError(p page) string {
	c.t.Helper()
	if p.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("form answered %d, want 303\n%s", p.StatusCode, p.Body)
	}
	next := c.get(p.Header.Get("Location"))
	m := regexp.MustCompile(`id="form-error">([^<]*)<`).FindStringSubmatch(next.Body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// TestSuppressionForms adds records of each list through their forms,
// refuses bad ones with their reason, and deletes one and all.
func TestSuppressionForms(t *testing.T) {
	t.Parallel()
	d, c, tok := withDomain(t)
	ctx := context.Background()
	base := "/dashboard/suppressions/" + testDomain + "/"
	post := func(path string, v url.Values) string {
		v.Set("csrf", tok)
		return c.flashError(c.post(base+path, v))
	}
	refusals := []struct {
		path string
		form url.Values
		want string
	}{
		{"bounces", url.Values{"address": {"not an address"}}, `"not an address" is not a valid address`},
		{"bounces", url.Values{"address": {"x@dest.example"}, "code": {"55x"}}, `'code' parameter must be an SMTP reply code, not "55x"`},
		{"allowlist", url.Values{"address": {"nodot"}}, `"nodot" is not a valid domain`},
		{"bounces/delete", url.Values{"address": {"nobody@dest.example"}}, "nobody@dest.example is not in Bounces (or no longer)."},
		{"unsubscribes/delete", url.Values{"address": {"nobody@dest.example"}, "tag": {"x"}}, "nobody@dest.example is not in Unsubscribes (or no longer)."},
		{"complaints/clear", url.Values{"confirm": {"yes"}}, "Type the domain's name, " + testDomain + ", to confirm."},
		{"complaints/import", url.Values{}, "Choose a CSV file to import."},
	}
	for _, r := range refusals {
		if got := post(r.path, r.form); got != r.want {
			t.Errorf("POST %s %v: error %q, want %q", r.path, r.form, got, r.want)
		}
	}
	for _, a := range []struct {
		path string
		form url.Values
	}{
		{"bounces", url.Values{"address": {"B@Dest.Example"}}},
		{"unsubscribes", url.Values{"address": {"u@dest.example"}, "tags": {"news, promo ,"}}},
		{"complaints", url.Values{"address": {"c@dest.example"}}},
		{"allowlist", url.Values{"address": {"Partner.Example"}, "reason": {"our partner"}}},
		{"allowlist", url.Values{"address": {"vip@dest.example"}}},
	} {
		if got := post(a.path, a.form); got != "" {
			t.Errorf("POST %s %v refused: %s", a.path, a.form, got)
		}
	}
	got := map[string]string{}
	for _, list := range []string{store.Bounces, store.Unsubscribes, store.Complaints, store.Allowlist} {
		recs, err := d.Regional.Suppressions(ctx, store.SuppressionQuery{Domain: testDomain, List: list, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			got[list] += fmt.Sprintf("%s code=%s tags=%v count=%d type=%s reason=%s;", r.Address, r.Code, r.Tags, r.Count, r.Type, r.Reason)
		}
	}
	want := map[string]string{
		store.Bounces:      "b@dest.example code=550 tags=[] count=0 type= reason=;",
		store.Unsubscribes: "u@dest.example code= tags=[news promo] count=0 type= reason=;",
		store.Complaints:   "c@dest.example code= tags=[] count=1 type= reason=;",
		store.Allowlist:    "partner.example code= tags=[] count=0 type=domain reason=our partner;vip@dest.example code= tags=[] count=0 type=address reason=;",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("stored:\n%v\nwant\n%v", got, want)
	}
	if got := post("complaints/clear", url.Values{"confirm": {strings.ToUpper(testDomain)}}); got != "" {
		t.Errorf("clear with the domain's name: %s", got)
	}
	if recs, _ := d.Regional.Suppressions(ctx, store.SuppressionQuery{Domain: testDomain, List: store.Complaints, Limit: 10}); len(recs) != 0 {
		t.Errorf("complaints after clear: %v", recs)
	}
	if recs, _ := d.Regional.Suppressions(ctx, store.SuppressionQuery{Domain: testDomain, List: store.Bounces, Limit: 10}); len(recs) != 1 {
		t.Errorf("clearing complaints changed bounces: %v", recs)
	}
}

// TestSuppressionImportRefusals: a file whose header does not fit the
// list is refused at once; a body over the limit is a 413; a domain not in
// this region is a 404.
func TestSuppressionImportRefusals(t *testing.T) {
	t.Parallel()
	d, c, tok := withDomain(t)
	base := "/dashboard/suppressions/" + testDomain + "/bounces"
	p := c.upload(base+"/import", url.Values{"csrf": {tok}}, "address,tags\na@dest.example,x\n")
	if got := c.flashError(p); !strings.Contains(got, `unknown column "tags"`) {
		t.Errorf("bad header: %q", got)
	}
	big := "address\n" + strings.Repeat("someone@dest.example\n", (26<<20)/21)
	if p := c.upload(base+"/import", url.Values{"csrf": {tok}}, big); p.StatusCode != http.StatusRequestEntityTooLarge ||
		!strings.Contains(p.Body, "larger than") {
		t.Errorf("26 MB upload: %d", p.StatusCode)
	}
	if imps, err := d.Regional.Imports(context.Background(), testDomain, 10); err != nil || len(imps) != 0 {
		t.Errorf("imports after refusals: %v, %v", imps, err)
	}
	if p := c.get("/dashboard/suppressions/other.example.com/bounces"); p.StatusCode != http.StatusNotFound {
		t.Errorf("list of an unknown domain: %d", p.StatusCode)
	}
	if p := c.get(base + "/imports/nope"); p.StatusCode != http.StatusNotFound {
		t.Errorf("unknown import: %d", p.StatusCode)
	}
	// The index goes to the first domain's bounces, or the one chosen.
	if p := c.get("/dashboard/suppressions?domain=" + testDomain + "&list=allowlist"); p.Header.Get("Location") != "/dashboard/suppressions/"+testDomain+"/allowlist" {
		t.Errorf("index with a domain and list: %d %s", p.StatusCode, p.Header.Get("Location"))
	}
	if p := c.get("/dashboard/suppressions"); p.Header.Get("Location") != base {
		t.Errorf("index: %d %s", p.StatusCode, p.Header.Get("Location"))
	}
}
