package bounce

import (
	"regexp"
	"strings"
)

// autoReplySubject matches the subjects vacation and out-of-office
// responders use (English, German, French, Spanish, Italian, Dutch).
var autoReplySubject = regexp.MustCompile(`(?i)^\s*(auto(matic|matische)?[ -]?(reply|response|respons|answer|antwort|réponse|risposta|respuesta)|out of (the )?office|vacation|away from|away until|abwesenheit|réponse automatique|respuesta automática|risposta automatica|afwezig|automatisch antwoord|ooo\b|on leave|on vacation)`)

// isAutoReply reports whether the message is an automatic reply by its
// header: RFC 3834 §5 Auto-Submitted: auto-replied, the non-standard
// X-Autoreply / X-Autorespond / Precedence: auto_reply that responders
// set, or a vacation or out-of-office subject.
func isAutoReply(m *msg) bool {
	if strings.HasPrefix(strings.ToLower(m.top.get("auto-submitted")), "auto-replied") {
		return true
	}
	if m.top.get("x-autoreply") != "" || m.top.get("x-autorespond") != "" || m.top.get("x-autoresponder") != "" {
		return true
	}
	if strings.EqualFold(strings.TrimSpace(m.top.get("precedence")), "auto_reply") {
		return true
	}
	return autoReplySubject.MatchString(m.subject)
}
