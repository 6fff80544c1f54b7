package e2e

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mailgun/mailgun-go/v4"

	"github.com/salvo-email/salvo/internal/testutil"
)

// TestExportsThroughSDK drives mailgun-go's CreateExport, ListExports,
// GetExport and GetExportLink against a node (SQLite and PostgreSQL), then
// downloads the CSV through the signed link with no API key and checks it
// holds the bounces, more than one page of them (the worker reads 1,000 a
// page). A tampered link is refused.
func TestExportsThroughSDK(t *testing.T) {
	t.Parallel()
	for _, pg := range []bool{false, true} {
		t.Run(map[bool]string{false: "sqlite", true: "postgres"}[pg], func(t *testing.T) {
			t.Parallel()
			ta := testutil.StartApp(t, testutil.AppOptions{Postgres: pg})
			const domain = "exports.example.com"
			createDomain(t, ta, domain)
			ctx := context.Background()
			mg := mailgun.NewMailgun(domain, ta.Key)
			mg.SetAPIBase(ta.URL + "/v3")
			// GetExportLink sets CheckRedirect on the client it uses: give it its own.
			mg.SetClient(&http.Client{Timeout: 30 * time.Second})

			const n = 1203
			var bounces []mailgun.Bounce
			for i := range n {
				bounces = append(bounces, mailgun.Bounce{Address: fmt.Sprintf("user%04d@dest.example", i), Code: "550",
					Error: "no such user, \"quoted\""})
			}
			for i := 0; i < n; i += 1000 {
				if err := mg.AddBounces(ctx, bounces[i:min(i+1000, n)]); err != nil {
					t.Fatalf("AddBounces: %v", err)
				}
			}
			path := "/v3/" + domain + "/bounces"
			if err := mg.CreateExport(ctx, path); err != nil {
				t.Fatalf("CreateExport: %v", err)
			}
			if err := mg.CreateExport(ctx, "/v3/"+domain+"/unsubscribes"); err != nil {
				t.Fatalf("CreateExport(unsubscribes): %v", err)
			}
			list, err := mg.ListExports(ctx, path)
			if err != nil || len(list) != 1 || list[0].URL != path || list[0].ID == "" {
				t.Fatalf("ListExports(%s) = %+v, %v; want the one export", path, list, err)
			}
			if all, err := mg.ListExports(ctx, ""); err != nil || len(all) != 2 {
				t.Fatalf("ListExports() = %+v, %v; want both", all, err)
			}
			id := list[0].ID
			var got mailgun.Export
			testutil.WaitFor(t, 30*time.Second, func() bool {
				got, err = mg.GetExport(ctx, id)
				return err == nil && got.Status == "complete"
			}, func() string { return fmt.Sprintf("GetExport = %+v, %v", got, err) })
			if got.ID != id || got.URL != path {
				t.Fatalf("GetExport = %+v", got)
			}

			link, err := mg.GetExportLink(ctx, id)
			if err != nil || !strings.HasPrefix(link, ta.URL+"/v3/exports/"+id+"/download?") {
				t.Fatalf("GetExportLink = %q, %v", link, err)
			}
			resp, err := http.Get(link) // no key: the link is the credential
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
				t.Fatalf("download = %d %s %.200s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
			rows, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
			if err != nil {
				t.Fatalf("CSV: %v", err)
			}
			if len(rows) != n+1 || strings.Join(rows[0], ",") != "address,code,error,created_at" {
				t.Fatalf("CSV has %d rows, header %v; want %d and address,code,error,created_at", len(rows), rows[0], n+1)
			}
			for i, r := range rows[1:] {
				if r[0] != bounces[i].Address || r[1] != "550" || r[2] != bounces[i].Error {
					t.Fatalf("row %d = %v, want %s", i+1, r, bounces[i].Address)
				}
				if _, err := time.Parse("Mon, 02 Jan 2006 15:04:05 -0700", r[3]); err != nil {
					t.Fatalf("row %d created_at: %v", i+1, err)
				}
			}

			u, _ := url.Parse(link)
			q := u.Query()
			q.Set("signature", strings.Repeat("0", 64))
			u.RawQuery = q.Encode()
			testutil.Call(t, http.MethodGet, "", u.String(), "", testutil.NoBody).
				WantMessage(t, http.StatusNotFound, "Export not found, or its download link is not valid or has expired")
			u, _ = url.Parse(link) // the right signature, a later expiry
			q = u.Query()
			q.Set("expires", "99999999999")
			u.RawQuery = q.Encode()
			testutil.Call(t, http.MethodGet, "", u.String(), "", testutil.NoBody).Want(t, http.StatusNotFound)

			// Client mistakes.
			ta.Call(t, http.MethodPost, "/v3/exports", ta.Key, testutil.Form(url.Values{"url": {"/v3/" + domain + "/events"}})).
				Want(t, http.StatusBadRequest)
			ta.Call(t, http.MethodPost, "/v3/exports", ta.Key, testutil.Form(url.Values{"url": {"/v3/nowhere.example/bounces"}})).
				WantMessage(t, http.StatusNotFound, "Domain not found: nowhere.example")
			ta.Call(t, http.MethodPost, "/v3/exports", ta.Key, testutil.NoBody).
				WantMessage(t, http.StatusBadRequest, "Missing mandatory parameter: url")
			ta.Call(t, http.MethodGet, "/v3/exports/nope", ta.Key, testutil.NoBody).WantMessage(t, http.StatusNotFound, "export not found")
		})
	}
}

// TestExportsSubaccountIsolation: an export names a domain's list, so it
// belongs to that domain's account. A subaccount (its own key, or the
// parent acting on its behalf) may not export the parent's list, does not
// see the parent's exports and cannot read one by id; the parent without
// the header does not see the subaccount's.
func TestExportsSubaccountIsolation(t *testing.T) {
	t.Parallel()
	ta := testutil.StartApp(t, testutil.AppOptions{})
	const parentDomain, subDomain = "parent-exports.example.com", "sub-exports.example.com"
	createDomain(t, ta, parentDomain)
	sub := createSubaccount(t, ta, "exports tenant")
	subKey := subaccountKey(t, ta, sub, "admin")
	createDomain(t, as(ta, subKey), subDomain)

	var parentExport, subExport struct {
		ID string `json:"id"`
	}
	ta.Call(t, http.MethodPost, "/v3/exports", ta.Key, testutil.Form(url.Values{"url": {"/v3/" + parentDomain + "/bounces"}})).
		Want(t, http.StatusOK).Decode(t, &parentExport)
	ta.Call(t, http.MethodPost, "/v3/exports", subKey, testutil.Form(url.Values{"url": {"/v3/" + subDomain + "/bounces"}})).
		Want(t, http.StatusOK).Decode(t, &subExport)
	if parentExport.ID == "" || subExport.ID == "" {
		t.Fatalf("export ids %q, %q", parentExport.ID, subExport.ID)
	}

	listed := func(key, onBehalf string) []string {
		var out struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
		}
		ta.Call(t, http.MethodGet, "/v3/exports", key, behalf(testutil.NoBody, onBehalf)).Want(t, http.StatusOK).Decode(t, &out)
		var ids []string
		for _, it := range out.Items {
			ids = append(ids, it.ID)
		}
		return ids
	}
	for _, c := range []struct {
		name, key, behalf string
		own, other        string
		otherDomain       string
	}{
		{"subaccount key", subKey, "", subExport.ID, parentExport.ID, parentDomain},
		{"parent on behalf", ta.Key, sub, subExport.ID, parentExport.ID, parentDomain},
		{"parent", ta.Key, "", parentExport.ID, subExport.ID, subDomain},
	} {
		ids := listed(c.key, c.behalf)
		if len(ids) != 1 || ids[0] != c.own {
			t.Errorf("%s: GET /v3/exports = %v, want only %s", c.name, ids, c.own)
		}
		ta.Call(t, http.MethodGet, "/v3/exports/"+c.other, c.key, behalf(testutil.NoBody, c.behalf)).
			WantMessage(t, http.StatusNotFound, "export not found")
		ta.Call(t, http.MethodGet, "/v3/exports/"+c.other+"/download_url", c.key, behalf(testutil.NoBody, c.behalf)).
			Want(t, http.StatusNotFound)
		ta.Call(t, http.MethodPost, "/v3/exports", c.key, behalf(testutil.Form(url.Values{"url": {"/v3/" + c.otherDomain + "/bounces"}}), c.behalf)).
			WantMessage(t, http.StatusNotFound, "Domain not found: "+c.otherDomain)
		ta.Call(t, http.MethodGet, "/v3/exports/"+c.own, c.key, behalf(testutil.NoBody, c.behalf)).Want(t, http.StatusOK)
	}
}
