package send

import (
	"regexp"
	"strings"

	"github.com/salvo-email/salvo/internal/fault"
)

// placeholders are the texts that make a copy differ per recipient:
// Mailgun's recipient variables, and the unsubscribe links tracking fills
// per recipient.
var placeholders = []string{"%recipient", "%unsubscribe_url%", "%tag_unsubscribe_url%",
	"%mailing_list_unsubscribe_url%", "%unsubscribe_email%", "%tag_unsubscribe_email%"}

// hasPlaceholders reports whether any text of sub may hold a
// per-recipient placeholder. An uploaded MIME message counts as having
// one: its encoded parts cannot be searched cheaply.
func hasPlaceholders(sub *Submission) bool {
	if sub.MIME != nil {
		return true
	}
	texts := []string{sub.From, sub.Subject, sub.Text, sub.HTML, sub.AMP}
	for _, h := range sub.Headers {
		texts = append(texts, h.Value)
	}
	for _, v := range sub.Vars {
		texts = append(texts, v)
	}
	for _, t := range texts {
		if !strings.Contains(t, "%") {
			continue
		}
		for _, p := range placeholders {
			if strings.Contains(t, p) {
				return true
			}
		}
	}
	return false
}

var headerVar = regexp.MustCompile(`%recipient\.([^%\s]+)%`)

// checkHeaderVars refuses recipient variables holding a line break that a
// header field uses (%recipient.x% in the subject, from or an h: header):
// the copy's header would be broken. Line breaks in variables used only in
// the body are fine.
func checkHeaderVars(sub *Submission) error {
	if len(sub.RecipientVar) == 0 {
		return nil
	}
	texts := []string{sub.From, sub.Subject}
	for _, h := range sub.Headers {
		texts = append(texts, h.Value)
	}
	used := map[string]bool{}
	for _, t := range texts {
		for _, m := range headerVar.FindAllStringSubmatch(t, -1) {
			used[m[1]] = true
		}
	}
	for addr, vars := range sub.RecipientVar {
		for name := range used {
			if v, ok := vars[name].(string); ok && strings.ContainsAny(v, "\r\n") {
				return fault.Invalidf("'recipient-variables' parameter: the value of %%recipient.%s%% for %s contains a line break, and a header uses it", name, addr)
			}
		}
	}
	return nil
}
