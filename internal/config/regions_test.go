package config

import (
	"strings"
	"testing"
)

func TestForRegion(t *testing.T) {
	t.Parallel()
	base := Default()
	base.HTTPAddr = "127.0.0.1:8080"
	base.AllRegions = true
	if err := base.Validate(); err != nil {
		t.Fatal(err)
	}
	us, err := base.ForRegion(RegionUS)
	if err != nil {
		t.Fatal(err)
	}
	eu, err := base.ForRegion(RegionEU)
	if err != nil {
		t.Fatal(err)
	}
	if us.HTTPAddr != "127.0.0.1:8080" || eu.HTTPAddr != "127.0.0.1:8081" || us.SMTP.SubmissionAddr != "127.0.0.1:2587" ||
		eu.SMTP.SubmissionAddr != "127.0.0.1:2588" || eu.SMTP.SubmissionTLSAddr != "127.0.0.1:2466" || eu.SMTP.MXAddr != "127.0.0.1:2526" {
		t.Errorf("listeners us %s %s eu %s %s %s %s", us.HTTPAddr, us.SMTP.SubmissionAddr, eu.HTTPAddr, eu.SMTP.SubmissionAddr, eu.SMTP.SubmissionTLSAddr, eu.SMTP.MXAddr)
	}
	if us.Region != "us" || eu.Region != "eu" || us.AllRegions || eu.AllRegions {
		t.Errorf("regions %q %q", us.Region, eu.Region)
	}
	if strings.Join(eu.MXHosts, ",") != "mxa.eu.salvo.localhost,mxb.eu.salvo.localhost" || eu.SMTPHost != "smtp.eu.salvo.localhost" ||
		eu.TrackingHost != "eu.salvo.localhost" || eu.SPFInclude != "spf.eu.salvo.localhost" {
		t.Errorf("eu hosts %v %s %s %s", eu.MXHosts, eu.SMTPHost, eu.TrackingHost, eu.SPFInclude)
	}
	if us.SMTPHost != "smtp.salvo.localhost" || us.DataDir != eu.DataDir {
		t.Errorf("us smtp host %s; data dirs %s %s", us.SMTPHost, us.DataDir, eu.DataDir)
	}

	custom := base
	custom.SMTPHost = "smtp.example.com"
	if eu, _ := custom.ForRegion(RegionEU); eu.SMTPHost != "smtp.example.com" {
		t.Errorf("a configured host must be kept, got %s", eu.SMTPHost)
	}
	for _, bad := range []func(*Config){
		func(c *Config) { c.DatabaseURL = "postgres://x" },
		func(c *Config) { c.PublicURL = "http://mail.example.com" },
		func(c *Config) { c.HTTPAddr = "127.0.0.1:0" },
	} {
		c := base
		bad(&c)
		if _, err := c.ForRegion(RegionEU); err == nil || !strings.Contains(err.Error(), "all-regions") {
			t.Errorf("want an --all-regions error, got %v", err)
		}
	}
}
