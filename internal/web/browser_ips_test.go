package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/salvo-email/salvo/internal/config"
	"github.com/salvo-email/salvo/internal/domains"
	"github.com/salvo-email/salvo/internal/store"
)

// The node's source addresses in the IPs tests: all of 127.0.0.0/8 is
// local on Linux.
const (
	ipsSrcA, ipsEHLOA = "127.0.0.2", "mta2.salvo.test"
	ipsSrcB, ipsEHLOB = "127.0.0.3", "mta3.salvo.test"
)

// tick sets a checkbox (ids with dots cannot be CSS selectors).
func (b *tab) tick(id string, on bool) {
	b.t.Helper()
	if !eval[bool](b, `(() => { const el = document.getElementById(`+jsString(id)+`); if (!el) return false; el.checked = `+map[bool]string{true: "true", false: "false"}[on]+`; return true; })()`) {
		b.snap("tick")
		b.t.Fatalf("no checkbox %s", id)
	}
}

func (b *tab) checked(id string) bool {
	return eval[bool](b, `document.getElementById(`+jsString(id)+`).checked`)
}

// TestBrowserIPsAndPools follows Account Settings → IPs and pools: the
// node's addresses with their EHLO names, a pool created (and one refused
// without a name), a domain given a pool and an address of its own, a
// pool edited (an escaped name, its addresses changed), and a pool deleted
// with its linked domain moved to another pool; on a desktop and a phone.
func TestBrowserIPsAndPools(t *testing.T) {
	t.Parallel()
	d := startDash(t, dashOptions{configure: func(c *config.Config) {
		c.SourceIPs = ipsSrcA + "=" + ipsEHLOA + "," + ipsSrcB + "=" + ipsEHLOB
	}})
	ctx := context.Background()
	if _, err := d.Domains.Create(ctx, domains.CreateRequest{Name: testDomain}); err != nil {
		t.Fatal(err)
	}
	b := loggedIn(t, d, desktopW, desktopH)
	confirms := b.acceptDialogs()
	b.do("open IPs and pools", chromedp.Navigate(d.Base+"/dashboard/"), chromedp.WaitVisible(chromedp.ID("main")))
	b.do("follow the navigation", loads(chromedp.Click(chromedp.ID("nav-ips"))), chromedp.WaitVisible(chromedp.ID("sources")))
	rows := eval[[]string](b, `[...document.querySelectorAll("#sources tr.source")].map(tr => tr.querySelector(".ip").textContent + " " + tr.querySelector(".ehlo").textContent)`)
	if strings.Join(rows, "|") != ipsSrcA+" "+ipsEHLOA+"|"+ipsSrcB+" "+ipsEHLOB {
		t.Fatalf("sources = %q", rows)
	}
	if !b.exists("#no-pools") || !b.exists("#no-assigned") {
		t.Fatalf("a new node shows pools or assignments: %q", b.text("main"))
	}

	// A pool without a name is refused (the browser's required check
	// removed, so the server's is seen).
	eval[bool](b, `document.getElementById("pool-name").removeAttribute("required") || true`)
	b.fill(map[string]string{"pool-name": " ", "pool-description": "kept"})
	b.do("create a pool without a name", loads(chromedp.Click(chromedp.ID("pool-create"))), chromedp.WaitVisible(chromedp.ID("main")))
	if got := b.text("#form-error"); !strings.Contains(got, "name") {
		t.Errorf("error for a pool without a name = %q", got)
	}
	if got := eval[string](b, `document.getElementById("pool-description").value`); got != "kept" {
		t.Errorf("the description typed was not kept: %q", got)
	}

	b.fill(map[string]string{"pool-name": "Marketing", "pool-description": "newsletters"})
	b.tick("new-pool-ip-"+ipsSrcA, true)
	b.do("create Marketing", loads(chromedp.Click(chromedp.ID("pool-create"))), chromedp.WaitVisible(chromedp.CSS(".notice")))
	b.fill(map[string]string{"pool-name": "Transactional", "pool-description": ""})
	b.tick("new-pool-ip-"+ipsSrcB, true)
	b.do("create Transactional", loads(chromedp.Click(chromedp.ID("pool-create"))), chromedp.WaitVisible(chromedp.CSS(".notice")))
	pools, err := d.Regional.IPPools(ctx)
	if err != nil || len(pools) != 2 || pools[0].Name != "Marketing" || strings.Join(pools[0].IPs, ",") != ipsSrcA ||
		pools[0].Description != "newsletters" || pools[1].Name != "Transactional" || strings.Join(pools[1].IPs, ",") != ipsSrcB {
		t.Fatalf("stored pools = %+v, %v", pools, err)
	}
	marketing, transactional := pools[0].ID, pools[1].ID

	// The domain: Marketing's addresses plus 127.0.0.3 of its own.
	b.fill(map[string]string{"assign-domain-name": testDomain, "assign-pool": marketing})
	b.tick("assign-ip-"+ipsSrcB, true)
	b.do("assign the domain", loads(chromedp.Click(chromedp.ID("assign-save"))), chromedp.WaitVisible(chromedp.ID("assigned")))
	dom, err := d.Regional.Domain(ctx, testDomain)
	if err != nil || dom.PoolID != marketing || dom.IPs != ipsSrcB {
		t.Fatalf("domain after assignment: pool %q ips %q, %v", dom.PoolID, dom.IPs, err)
	}
	if got := b.text(`tr.assigned[data-domain="` + testDomain + `"]`); !strings.Contains(got, "Marketing") || !strings.Contains(got, ipsSrcB) {
		t.Errorf("assignment row = %q", got)
	}
	if got := b.text(`tr.pool[data-id="` + marketing + `"] .linked`); got != testDomain {
		t.Errorf("Marketing's linked domains = %q", got)
	}
	if got := b.text(`tr.source[data-ip="` + ipsSrcB + `"] .domains`); got != testDomain {
		t.Errorf("domains of %s = %q", ipsSrcB, got)
	}
	b.snap("ips-desktop")

	// The domain page says where the domain sends from and leads back to
	// the form, filled with the domain's current choice.
	b.do("open the domain", chromedp.Navigate(d.Base+"/dashboard/domains/"+testDomain), chromedp.WaitVisible(chromedp.ID("domain-ips")))
	if got := b.text("#domain-ips"); !strings.Contains(got, ipsSrcB+", "+ipsSrcA) || !strings.Contains(got, "pool Marketing") {
		t.Errorf("domain page's addresses = %q", got)
	}
	b.do("change from the domain page", loads(chromedp.Click(chromedp.ID("domain-ips-change"))), chromedp.WaitVisible(chromedp.ID("assign-domain")))
	if got := eval[string](b, `document.getElementById("assign-pool").value`); got != marketing {
		t.Errorf("the form's pool = %q, want Marketing", got)
	}
	if !b.checked("assign-ip-"+ipsSrcB) || b.checked("assign-ip-"+ipsSrcA) {
		t.Errorf("the form's ticks do not show the domain's own addresses")
	}

	// Edit Marketing: a name with markup (shown as text), the other address.
	b.do("edit Marketing", loads(chromedp.Click(chromedp.CSS(`tr.pool[data-id="`+marketing+`"] a.edit`))), chromedp.WaitVisible(chromedp.ID("edit-pool")))
	if !b.checked("edit-pool-ip-"+ipsSrcA) || b.checked("edit-pool-ip-"+ipsSrcB) {
		t.Errorf("edit form's ticks do not show the pool's addresses")
	}
	if got := b.text("#pool-domains"); got != testDomain {
		t.Errorf("linked domains on the pool page = %q", got)
	}
	b.fill(map[string]string{"pool-name": "Mkt <b>bold</b>"})
	b.tick("edit-pool-ip-"+ipsSrcA, false)
	b.tick("edit-pool-ip-"+ipsSrcB, true)
	b.do("save Marketing", loads(chromedp.Click(chromedp.ID("pool-save"))), chromedp.WaitVisible(chromedp.CSS(".notice")))
	p, err := d.Regional.IPPool(ctx, marketing)
	if err != nil || p.Name != "Mkt <b>bold</b>" || strings.Join(p.IPs, ",") != ipsSrcB || p.Description != "newsletters" {
		t.Fatalf("Marketing after edit = %+v, %v", p, err)
	}
	if got := b.text(`tr.pool[data-id="` + marketing + `"] .name`); !strings.Contains(got, "Mkt <b>bold</b>") || b.exists(`tr.pool b`) {
		t.Errorf("the pool's name is not shown escaped: %q", got)
	}

	// Delete it: the domain moves to Transactional.
	b.do("open Marketing again", chromedp.Navigate(d.Base+"/dashboard/ips/pools/"+marketing), chromedp.WaitVisible(chromedp.ID("delete-pool")))
	b.fill(map[string]string{"pool-replacement": "pool:" + transactional})
	b.do("delete Marketing", loads(chromedp.Click(chromedp.ID("delete-pool"))), chromedp.WaitVisible(chromedp.CSS(".notice")))
	if got := confirms(); len(got) != 1 || !strings.HasPrefix(got[0], "Delete IP pool Mkt <b>bold</b>?") {
		t.Errorf("confirmations = %q", got)
	}
	if got := b.text(".notice"); !strings.Contains(got, "Moved: "+testDomain) {
		t.Errorf("notice after delete = %q", got)
	}
	if _, err := d.Regional.IPPool(ctx, marketing); err != store.ErrNotFound {
		t.Errorf("Marketing after delete: %v", err)
	}
	if dom, err := d.Regional.Domain(ctx, testDomain); err != nil || dom.PoolID != transactional || dom.IPs != ipsSrcB {
		t.Errorf("domain after its pool's delete: pool %q ips %q, %v", dom.PoolID, dom.IPs, err)
	}
	// A pool that is gone is a 404 page, not a 500.
	b.do("open the deleted pool", chromedp.Navigate(d.Base+"/dashboard/ips/pools/"+marketing), chromedp.WaitVisible(chromedp.ID("main")))
	if got := b.text("main"); !strings.Contains(got, "IP pool not found") {
		t.Errorf("deleted pool page = %q", got)
	}

	b.do("phone", chromedp.EmulateViewport(phoneW, phoneH), chromedp.Navigate(d.Base+"/dashboard/ips"), chromedp.WaitVisible(chromedp.ID("sources")))
	phoneFits(b, "the IPs and pools page")
	b.snap("ips-phone")
	b.noConsoleErrors()
}

// TestBrowserIPsNoSources: without --source-ips the page says so and
// offers no addresses.
func TestBrowserIPsNoSources(t *testing.T) {
	t.Parallel()
	d := startDash(t, dashOptions{})
	b := loggedIn(t, d, phoneW, phoneH)
	b.do("open IPs and pools", chromedp.Navigate(d.Base+"/dashboard/ips"), chromedp.WaitVisible(chromedp.ID("no-sources")))
	if b.exists(`input[name="ip"]`) {
		t.Errorf("addresses offered without --source-ips")
	}
	phoneFits(b, "the IPs page without sources")
	b.noConsoleErrors()
}
