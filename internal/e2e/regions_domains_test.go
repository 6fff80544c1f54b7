package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/salvo-email/salvo/internal/config"
	"github.com/salvo-email/salvo/internal/secret"
	"github.com/salvo-email/salvo/internal/testutil"
)

// twoRegions starts a US and an EU node sharing one global store (the
// embedded one in a shared data dir, or one PostgreSQL schema) with a
// regional store each, one primary key and one sealing secret.
func twoRegions(t *testing.T, postgres bool, configure ...func(*config.Config)) (us, eu *testutil.TestApp) {
	t.Helper()
	key, sealing, dir := "key-"+secret.Token(16), secret.Token(16), t.TempDir()
	global := ""
	if postgres {
		global = testutil.PostgresMigrated(t, "global")
	}
	start := func(region string) *testutil.TestApp {
		return testutil.StartApp(t, testutil.AppOptions{Postgres: postgres, Configure: func(c *config.Config) {
			c.Region, c.APIKey, c.Secret = region, key, sealing
			for _, f := range configure {
				f(c)
			}
			if postgres {
				c.GlobalDatabaseURL = global
			} else {
				c.DataDir = dir
			}
		}})
	}
	return start("us"), start("eu")
}

// TestDomainNamesAreGlobal: a domain belongs to the region whose API
// created it; its name is taken in every region; the other region's API
// neither lists it nor answers for it.
func TestDomainNamesAreGlobal(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, postgres bool) {
		us, eu := twoRegions(t, postgres)
		createDomain(t, eu, "eu-only.example.com")
		createDomain(t, us, "us-only.example.com")

		us.Call(t, http.MethodPost, "/v3/domains", us.Key, testutil.Form(url.Values{"name": {"eu-only.example.com"}})).
			WantMessage(t, http.StatusBadRequest, "Domain eu-only.example.com already exists in the EU region; manage it through that region's API (this node serves US)")
		eu.Call(t, http.MethodPost, "/v4/domains", eu.Key, testutil.Form(url.Values{"name": {"US-ONLY.example.com"}})).
			WantMessage(t, http.StatusBadRequest, "Domain us-only.example.com already exists in the US region; manage it through that region's API (this node serves EU)")

		us.Call(t, http.MethodGet, "/v3/domains/eu-only.example.com", us.Key, testutil.NoBody).
			WantMessage(t, http.StatusNotFound, "Domain not found")
		eu.Call(t, http.MethodGet, "/v3/domains/eu-only.example.com", eu.Key, testutil.NoBody).Want(t, http.StatusOK)

		for _, c := range []struct {
			app  *testutil.TestApp
			want string
		}{{us, "us-only.example.com"}, {eu, "eu-only.example.com"}} {
			var list struct {
				TotalCount int `json:"total_count"`
				Items      []struct {
					Name   string `json:"name"`
					Region string `json:"region"`
				} `json:"items"`
			}
			r := c.app.Call(t, http.MethodGet, "/v3/domains", c.app.Key, testutil.NoBody).Want(t, http.StatusOK)
			if err := json.Unmarshal([]byte(r.Body), &list); err != nil {
				t.Fatal(err)
			}
			if list.TotalCount != 1 || len(list.Items) != 1 || list.Items[0].Name != c.want || list.Items[0].Region != c.app.Cfg.Region {
				t.Errorf("%s lists %s, want only %s", c.app.Cfg.Region, r.Body, c.want)
			}
		}

		// Deleting it in its region frees the name everywhere; the other
		// region cannot delete it.
		us.Call(t, http.MethodDelete, "/v3/domains/eu-only.example.com", us.Key, testutil.NoBody).Want(t, http.StatusNotFound)
		eu.Call(t, http.MethodDelete, "/v3/domains/eu-only.example.com", eu.Key, testutil.NoBody).Want(t, http.StatusOK)
		createDomain(t, us, "eu-only.example.com")
	})
}
