package tracking

import (
	"strings"

	"github.com/salvo-email/salvo/internal/mgapi"
)

// ClientInfo describes the reader's client from its User-Agent, in
// Mailgun's terms (docs/mailgun-contract.md §3.4): client-type browser, mobile browser,
// email client, robot or unknown; device-type desktop, mobile, tablet or
// unknown; bot gmail (Gmail's image proxy), generic (crawlers, scripts)
// or "". It is a small table of well-known tokens, not a full parser.
func ClientInfo(ua string) mgapi.ClientInfo {
	ci := mgapi.ClientInfo{UserAgent: ua, ClientType: "unknown", ClientOS: "unknown", DeviceType: "unknown", ClientName: "unknown"}
	if ua == "" {
		return ci
	}
	l := strings.ToLower(ua)
	has := func(s ...string) bool {
		for _, x := range s {
			if strings.Contains(l, x) {
				return true
			}
		}
		return false
	}
	switch {
	case has("googleimageproxy"):
		ci.Bot, ci.ClientType, ci.ClientName = "gmail", "email client", "Gmail"
	case has("bot", "crawler", "spider", "curl/", "wget/", "python-requests", "go-http-client", "headlesschrome", "preview"):
		ci.Bot, ci.ClientType = "generic", "robot"
	}
	switch {
	case has("windows"):
		ci.ClientOS = "Windows"
	case has("iphone", "ipad", "ipod"):
		ci.ClientOS = "iOS"
	case has("android"):
		ci.ClientOS = "Android"
	case has("mac os x", "macintosh"):
		ci.ClientOS = "OS X"
	case has("cros"):
		ci.ClientOS = "Chrome OS"
	case has("linux"):
		ci.ClientOS = "Linux"
	}
	switch {
	case has("ipad", "tablet") || has("android") && !has("mobile"):
		ci.DeviceType = "tablet"
	case has("mobile", "iphone", "ipod"):
		ci.DeviceType = "mobile"
	case ci.ClientOS != "unknown":
		ci.DeviceType = "desktop"
	}
	name, mailClient := "", false
	switch {
	case has("thunderbird"):
		name, mailClient = "Thunderbird", true
	case has("microsoft outlook", "ms-office", "outlook"):
		name, mailClient = "Outlook", true
	case has("edg/", "edge/"):
		name = "Edge"
	case has("opr/", "opera"):
		name = "Opera"
	case has("firefox/"):
		name = "Firefox"
	case has("chromium/"):
		name = "Chromium"
	case has("chrome/", "crios/"):
		name = "Chrome"
	case has("safari/"):
		name = "Safari"
		if ci.DeviceType == "mobile" || ci.DeviceType == "tablet" {
			name = "Mobile Safari"
		}
	case has("applewebkit") && has("mac os x"):
		// Apple Mail loads images with WebKit's UA and no Safari token.
		name, mailClient = "Apple Mail", true
	}
	if name != "" {
		ci.ClientName = name
	}
	switch {
	case ci.ClientType != "unknown":
	case mailClient:
		ci.ClientType = "email client"
	case name != "" && (ci.DeviceType == "mobile" || ci.DeviceType == "tablet"):
		ci.ClientType = "mobile browser"
	case name != "":
		ci.ClientType = "browser"
	}
	return ci
}
