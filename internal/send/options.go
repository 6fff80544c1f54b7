package send

import (
	"encoding/json"
	"strings"

	"github.com/salvo-email/salvo/internal/fault"
)

// NormalizeTags keeps the first three distinct tags, ASCII only, at most
// 128 characters, lower-cased (Mailgun compares them case-insensitively).
// Every edge (o:tag, X-Mailgun-Tag) goes through it.
func NormalizeTags(raw []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, t := range raw {
		var b strings.Builder
		for _, r := range t {
			if r < 0x80 {
				b.WriteRune(r)
			}
		}
		tag := strings.ToLower(strings.TrimSpace(b.String()))
		if len(tag) > 128 {
			tag = tag[:128]
		}
		if tag == "" || seen[tag] {
			continue
		}
		seen[tag] = true
		out = append(out, tag)
		if len(out) == 3 {
			break
		}
	}
	return out
}

// ParseRecipientVariables reads recipient-variables (or the SMTP relay's
// X-Mailgun-Recipient-Variables): a JSON object of objects, keyed by
// address (compared lower-case).
func ParseRecipientVariables(raw string) (map[string]map[string]any, error) {
	var in map[string]any
	if err := json.Unmarshal([]byte(raw), &in); err != nil {
		return nil, fault.Invalidf("'recipient-variables' parameter is not a valid JSON")
	}
	out := make(map[string]map[string]any, len(in))
	for addr, v := range in {
		vars, ok := v.(map[string]any)
		if !ok {
			return nil, fault.Invalidf("'recipient-variables' parameter is not a valid JSON: the value for %q must be an object", addr)
		}
		out[strings.ToLower(strings.TrimSpace(addr))] = vars
	}
	return out, nil
}
