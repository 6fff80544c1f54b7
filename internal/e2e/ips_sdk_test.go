package e2e

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/mailgun/mailgun-go/v4"

	"github.com/salvo-email/salvo/internal/config"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/testutil"
)

// Source addresses of the IP tests: all of 127.0.0.0/8 is local on Linux,
// so the node can bind them and the fake MX sees them as the session's
// remote address.
const (
	srcA, ehloA = "127.0.0.2", "mta2.salvo.test"
	srcB, ehloB = "127.0.0.3", "mta3.salvo.test"
)

func startIPsEnv(t *testing.T, pg bool) (*deliveryEnv, *testutil.FakeMX) {
	t.Helper()
	return startEnvMX(t, envOptions{postgres: pg, configure: func(c *config.Config) {
		c.SourceIPs = srcA + "=" + ehloA + ", " + srcB + "=" + ehloB
	}}, "ips.example.net")
}

// TestIPsSDK: mailgun-go's IP calls against a node with two source
// addresses (ListIPs, GetIP, AddDomainIP, ListDomainIPs, DeleteDomainIP),
// and the address each delivery then leaves from, as the MX sees it.
func TestIPsSDK(t *testing.T) {
	t.Parallel()
	for _, pg := range []bool{false, true} {
		t.Run(map[bool]string{false: "sqlite", true: "postgres"}[pg], func(t *testing.T) {
			t.Parallel()
			e, mx := startIPsEnv(t, pg)
			ctx := context.Background()
			list, err := e.MG.ListIPs(ctx, true, true)
			if err != nil || len(list) != 2 || list[0].IP != srcA || list[1].IP != srcB {
				t.Fatalf("ListIPs = %+v, %v; want %s, %s", list, err, srcA, srcB)
			}
			ip, err := e.MG.GetIP(ctx, srcB)
			if err != nil || ip.IP != srcB || ip.RDNS != ehloB || !ip.Dedicated {
				t.Fatalf("GetIP(%s) = %+v, %v; want rdns %s, dedicated", srcB, ip, err, ehloB)
			}
			if _, err := e.MG.GetIP(ctx, "192.0.2.77"); mailgun.GetStatusFromErr(err) != http.StatusNotFound {
				t.Fatalf("GetIP of a foreign address: %v, want 404", err)
			}
			if err := e.MG.AddDomainIP(ctx, "192.0.2.77"); mailgun.GetStatusFromErr(err) != http.StatusBadRequest {
				t.Fatalf("AddDomainIP of a foreign address: %v, want 400", err)
			}
			if err := e.MG.AddDomainIP(ctx, srcB); err != nil {
				t.Fatalf("AddDomainIP: %v", err)
			}
			dl, err := e.MG.ListDomainIPs(ctx)
			if err != nil || len(dl) != 1 || dl[0].IP != srcB {
				t.Fatalf("ListDomainIPs = %+v, %v; want [%s]", dl, err, srcB)
			}

			// The domain's address, with its EHLO name.
			for range 2 {
				got, sendingIP := sendVia(t, e, mx, nil)
				wantSource(t, "domain IP", got, sendingIP, srcB, ehloB)
			}
			// o:sending-ip wins over the domain's address.
			got, sendingIP := sendVia(t, e, mx, url.Values{"o:sending-ip": {srcA}})
			wantSource(t, "o:sending-ip", got, sendingIP, srcA, ehloA)
			// Not one of the node's addresses: refused before anything is stored.
			r := e.App.Call(t, http.MethodPost, "/v3/"+senderDomain+"/messages", e.App.Key, testutil.Form(url.Values{
				"from": {"s@" + senderDomain}, "to": {"x@ips.example.net"}, "subject": {"s"}, "text": {"t"},
				"o:sending-ip": {"192.0.2.77"}}))
			r.Want(t, http.StatusBadRequest)

			if err := e.MG.DeleteDomainIP(ctx, srcB); err != nil {
				t.Fatalf("DeleteDomainIP: %v", err)
			}
			if err := e.MG.DeleteDomainIP(ctx, srcB); mailgun.GetStatusFromErr(err) != http.StatusNotFound {
				t.Fatalf("DeleteDomainIP again: %v, want 404", err)
			}
			if dl, err := e.MG.ListDomainIPs(ctx); err != nil || len(dl) != 0 {
				t.Fatalf("ListDomainIPs after delete = %+v, %v; want none", dl, err)
			}
			// No assignment: the node's addresses in rotation, a new
			// session each message here (one message per chunk).
			seen := map[string]bool{}
			for range 4 {
				got, sendingIP := sendVia(t, e, mx, nil)
				if got.RemoteIP != sendingIP {
					t.Fatalf("the MX saw %s but the event says sending-ip %s", got.RemoteIP, sendingIP)
				}
				seen[got.RemoteIP] = true
			}
			if !seen[srcA] || !seen[srcB] || len(seen) != 2 {
				t.Fatalf("rotation used %v, want both %s and %s", seen, srcA, srcB)
			}
		})
	}
}

// TestIPPools: pools through the API in Mailgun's shapes (what mailgun.js
// reads: ip_pools, details.linked_domains, pool_id), a domain linked to a
// pool sends from it, and o:sending-ip-pool picks a pool per message.
func TestIPPools(t *testing.T) {
	t.Parallel()
	e, mx := startIPsEnv(t, false)
	ta := e.App
	ta.Call(t, http.MethodPost, "/v3/ip_pools", ta.Key, testutil.Form(url.Values{"name": {"bad"}, "ips": {"192.0.2.9"}})).
		Want(t, http.StatusBadRequest)
	var a, b mgapi.IPPoolCreated
	ta.Call(t, http.MethodPost, "/v3/ip_pools", ta.Key, testutil.Form(url.Values{"name": {"alerts"}, "description": {"d"},
		"ips": {srcA}})).Want(t, http.StatusOK).Decode(t, &a)
	ta.Call(t, http.MethodPost, "/v3/ip_pools", ta.Key, testutil.Form(url.Values{"name": {"bulk"}})).Want(t, http.StatusOK).Decode(t, &b)
	if a.Message != "success" || a.PoolID == "" || b.PoolID == a.PoolID {
		t.Fatalf("created pools %+v, %+v", a, b)
	}
	// ips.json takes a JSON body, as mailgun.js's addIps sends it.
	ta.Call(t, http.MethodPost, "/v3/ip_pools/"+b.PoolID+"/ips.json", ta.Key, testutil.JSON(`{"ips": ["`+srcB+`"]}`)).
		Want(t, http.StatusOK)
	ta.Call(t, http.MethodPut, "/v3/ip_pools/"+b.PoolID+"/ips/192.0.2.9", ta.Key, testutil.NoBody).Want(t, http.StatusBadRequest)
	ta.Call(t, http.MethodPost, "/v3/domains/"+senderDomain+"/ips", ta.Key, testutil.Form(url.Values{"pool_id": {"nope"}})).
		Want(t, http.StatusBadRequest)
	ta.Call(t, http.MethodPost, "/v3/domains/"+senderDomain+"/ips", ta.Key, testutil.Form(url.Values{"pool_id": {a.PoolID}})).
		Want(t, http.StatusOK)

	var pools mgapi.IPPools
	ta.Call(t, http.MethodGet, "/v3/ip_pools", ta.Key, testutil.NoBody).Want(t, http.StatusOK).Decode(t, &pools)
	if len(pools.IPPools) != 2 || pools.Message != "success" || pools.IPPools[0].Name != "alerts" ||
		!pools.IPPools[0].IsLinked || !slices.Equal(pools.IPPools[0].IPs, []string{srcA}) ||
		pools.IPPools[1].IsLinked || !slices.Equal(pools.IPPools[1].IPs, []string{srcB}) {
		t.Fatalf("GET /v3/ip_pools = %+v", pools)
	}
	var det mgapi.IPPoolDetails
	ta.Call(t, http.MethodGet, "/v3/ip_pools/"+a.PoolID, ta.Key, testutil.NoBody).Want(t, http.StatusOK).Decode(t, &det)
	if !slices.Equal(det.Details.LinkedDomains, []string{senderDomain}) || det.Details.Description != "d" {
		t.Fatalf("GET /v3/ip_pools/{id} = %+v", det)
	}
	dl, err := e.MG.ListDomainIPs(context.Background())
	if err != nil || len(dl) != 1 || dl[0].IP != srcA {
		t.Fatalf("ListDomainIPs with a pool = %+v, %v; want [%s]", dl, err, srcA)
	}

	got, sendingIP := sendVia(t, e, mx, nil)
	wantSource(t, "domain pool", got, sendingIP, srcA, ehloA)
	got, sendingIP = sendVia(t, e, mx, url.Values{"o:sending-ip-pool": {b.PoolID}})
	wantSource(t, "o:sending-ip-pool", got, sendingIP, srcB, ehloB)
	ta.Call(t, http.MethodPost, "/v3/"+senderDomain+"/messages", ta.Key, testutil.Form(url.Values{
		"from": {"s@" + senderDomain}, "to": {"x@ips.example.net"}, "subject": {"s"}, "text": {"t"},
		"o:sending-ip-pool": {"no-such-pool"}})).Want(t, http.StatusBadRequest)

	// PATCH swaps the pool's address; the domain follows.
	ta.Call(t, http.MethodPatch, "/v3/ip_pools/"+a.PoolID, ta.Key, testutil.Form(url.Values{"add_ip": {srcB}, "remove_ip": {srcA}})).
		Want(t, http.StatusOK)
	got, sendingIP = sendVia(t, e, mx, nil)
	wantSource(t, "patched pool", got, sendingIP, srcB, ehloB)
	// mailgun.js's unlinkDomainPool and removeDomainPool paths.
	ta.Call(t, http.MethodDelete, "/v3/domains/"+senderDomain+"/pool/ip_pool?pool_id="+b.PoolID, ta.Key, testutil.NoBody).
		Want(t, http.StatusOK)
	if dl, err := e.MG.ListDomainIPs(context.Background()); err != nil || len(dl) != 1 || dl[0].IP != srcB {
		t.Fatalf("ListDomainIPs after switching to pool %s = %+v, %v; want [%s]", b.PoolID, dl, err, srcB)
	}
	ta.Call(t, http.MethodDelete, "/v3/domains/"+senderDomain+"/pool/all", ta.Key, testutil.NoBody).Want(t, http.StatusOK)
	if dl, err := e.MG.ListDomainIPs(context.Background()); err != nil || len(dl) != 0 {
		t.Fatalf("ListDomainIPs after pool/all = %+v, %v; want none", dl, err)
	}
	ta.Call(t, http.MethodPost, "/v3/domains/"+senderDomain+"/ips", ta.Key, testutil.Form(url.Values{"pool_id": {a.PoolID}})).
		Want(t, http.StatusOK)
	// Deleting a linked pool unlinks its domains.
	ta.Call(t, http.MethodDelete, "/v3/ip_pools/"+a.PoolID, ta.Key, testutil.NoBody).Want(t, http.StatusOK)
	ta.Call(t, http.MethodGet, "/v3/ip_pools/"+a.PoolID, ta.Key, testutil.NoBody).Want(t, http.StatusNotFound)
	if dl, err := e.MG.ListDomainIPs(context.Background()); err != nil || len(dl) != 0 {
		t.Fatalf("ListDomainIPs after the pool was deleted = %+v, %v; want none", dl, err)
	}
}

// sendVia sends one message through the HTTP API with extra form values,
// waits for its delivery and returns what the fake MX saw and the delivered
// event's envelope.sending-ip.
func sendVia(t *testing.T, e *deliveryEnv, mx *testutil.FakeMX, extra url.Values) (testutil.Received, string) {
	t.Helper()
	v := url.Values{"from": {"s@" + senderDomain}, "to": {"rcpt@ips.example.net"}, "subject": {"ips"}, "text": {"t"}}
	for k, vs := range extra {
		v[k] = vs
	}
	before := len(mx.Messages())
	var resp mgapi.SendResponse
	e.App.Call(t, http.MethodPost, "/v3/"+senderDomain+"/messages", e.App.Key, testutil.Form(v)).
		Want(t, http.StatusOK).Decode(t, &resp)
	d := e.waitDelivered(trimID(resp.ID), 1)
	got := mx.WaitRecipients(t, before+1, waitTimeout)
	return got[len(got)-1], d.Envelope.SendingIP
}

func wantSource(t *testing.T, what string, got testutil.Received, sendingIP, ip, ehlo string) {
	t.Helper()
	if got.RemoteIP != ip || got.Helo != ehlo || sendingIP != ip {
		t.Fatalf("%s: the MX saw %s saying EHLO %s, the event says sending-ip %q; want %s and %s",
			what, got.RemoteIP, got.Helo, sendingIP, ip, ehlo)
	}
}

func trimID(id string) string {
	if len(id) > 1 && id[0] == '<' {
		return id[1 : len(id)-1]
	}
	return id
}
