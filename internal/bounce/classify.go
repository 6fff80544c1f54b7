package bounce

import (
	"regexp"
	"strings"
)

// Categories Categorize assigns: a coarse cause of a failure, for
// operators and for grouping bounces the way Mailgun's bounce
// classification does. They are Salvo's names, not Mailgun's.
const (
	CategoryUnknownUser     = "unknown-user"     // the mailbox does not exist (X.1.1, "user unknown")
	CategoryMailboxFull     = "mailbox-full"     // over quota (X.2.2)
	CategoryMailboxDisabled = "mailbox-disabled" // exists but does not accept mail (X.2.1)
	CategoryUnknownDomain   = "unknown-domain"   // the domain has no mail host (X.1.2, X.4.4)
	CategorySpamBlock       = "spam-block"       // refused as spam or for the sender's reputation
	CategoryPolicy          = "policy"           // refused by other policy (X.7.x)
	CategoryExpired         = "expired"          // gave up after retrying (X.4.7)
	CategoryMessage         = "message"          // the message itself: size, content, syntax (X.3.4, X.6.x)
)

var (
	unknownUserText = regexp.MustCompile(`(?i)user unknown|unknown user|no such (user|mailbox|recipient)|does not exist|doesn't exist|not exist|invalid (recipient|mailbox|address)|recipient (address )?rejected: (user|undeliverable)|mailbox (not found|unavailable)|unknown recipient|address rejected|not a valid|no mailbox|account (has been )?(removed|deleted)|user not found|unrouteable address|disabled address`)
	fullText        = regexp.MustCompile(`(?i)mailbox (is )?full|over ?quota|quota exceeded|exceeded (the )?(storage|quota)|insufficient (system )?storage|mailbox size limit`)
	disabledText    = regexp.MustCompile(`(?i)disabled|inactive|suspended|deactivated|expired account|account (is )?locked`)
	domainText      = regexp.MustCompile(`(?i)host (or domain name )?not found|domain (not found|does not exist)|no mx|name service error|unrouteable mail domain|host unknown|unknown host`)
	spamText        = regexp.MustCompile(`(?i)spam|blacklist|blocklist|block list|black list|\brbl\b|spamhaus|reputation|blocked|junk|dnsbl|listed`)
	expiredText     = regexp.MustCompile(`(?i)too long|for a long time|expired|retry time|timeout|timed out|retry timeout`)
)

// Categorize gives the coarse cause of a recipient's failure from its
// enhanced status (RFC 3463 §3.3-§3.9) and diagnostic text; "" when the
// report does not say, or when the recipient did not fail.
func Categorize(r Recipient) string {
	if r.Action != "" && r.Action != "failed" && r.Action != "delayed" {
		return ""
	}
	sub := ""
	if len(r.Status) > 2 {
		sub = r.Status[2:]
	}
	d := r.Diagnostic
	switch {
	case sub == "2.2" || fullText.MatchString(d):
		return CategoryMailboxFull
	case sub == "1.1" || sub == "1.10" || unknownUserText.MatchString(d) && !strings.HasPrefix(sub, "7."):
		return CategoryUnknownUser
	case sub == "1.2" || sub == "4.4" || domainText.MatchString(d):
		return CategoryUnknownDomain
	case sub == "2.1" || disabledText.MatchString(d) && !spamText.MatchString(d):
		return CategoryMailboxDisabled
	case spamText.MatchString(d) || sub == "7.1" && strings.Contains(strings.ToLower(d), "block"):
		return CategorySpamBlock
	case strings.HasPrefix(sub, "7."):
		return CategoryPolicy
	case sub == "4.7" || expiredText.MatchString(d):
		return CategoryExpired
	case sub == "3.4" || sub == "2.3" || strings.HasPrefix(sub, "6."):
		return CategoryMessage
	}
	return ""
}
