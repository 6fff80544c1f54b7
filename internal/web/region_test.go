package web_test

import (
	"strings"
	"testing"

	"github.com/salvo-email/salvo/internal/config"
)

// TestRegionHeader: the header shows the region served and links to the
// other region's dashboard only when one is configured.
func TestRegionHeader(t *testing.T) {
	t.Parallel()
	eu := startDash(t, dashOptions{configure: func(c *config.Config) {
		c.Region, c.OtherRegionURL = "eu", "http://us.example.test:8080"
	}})
	c := eu.client(t)
	c.login(testEmail, testPassword)
	p := c.get("/dashboard/domains")
	if !strings.Contains(p.Body, `Region <strong>EU</strong>`) ||
		!strings.Contains(p.Body, `id="other-region" href="http://us.example.test:8080/dashboard/"`) {
		t.Errorf("EU header lacks its region or the link to the US dashboard:\n%s", p.Body)
	}

	us := startDash(t, dashOptions{})
	c = us.client(t)
	c.login(testEmail, testPassword)
	if p := c.get("/dashboard/domains"); !strings.Contains(p.Body, `Region <strong>US</strong>`) || strings.Contains(p.Body, `id="other-region"`) {
		t.Errorf("US header without another region configured:\n%s", p.Body)
	}
}
