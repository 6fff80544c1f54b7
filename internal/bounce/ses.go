package bounce

import (
	"encoding/json"
	"strings"
)

// sesNotice is the part of an Amazon SES notification (as SES mails it to
// an email subscription of its SNS topic) that says what happened.
type sesNotice struct {
	NotificationType string `json:"notificationType"`
	EventType        string `json:"eventType"`
	Bounce           struct {
		BounceType        string `json:"bounceType"`
		ReportingMTA      string `json:"reportingMTA"`
		BouncedRecipients []struct {
			EmailAddress   string `json:"emailAddress"`
			Action         string `json:"action"`
			Status         string `json:"status"`
			DiagnosticCode string `json:"diagnosticCode"`
		} `json:"bouncedRecipients"`
	} `json:"bounce"`
	Complaint struct {
		FeedbackType         string `json:"complaintFeedbackType"`
		ComplainedRecipients []struct {
			EmailAddress string `json:"emailAddress"`
		} `json:"complainedRecipients"`
	} `json:"complaint"`
	Delivery struct {
		Recipients   []string `json:"recipients"`
		SMTPResponse string   `json:"smtpResponse"`
		ReportingMTA string   `json:"reportingMTA"`
	} `json:"delivery"`
	Mail struct {
		Source    string `json:"source"`
		MessageID string `json:"messageId"`
		Headers   []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"headers"`
		CommonHeaders struct {
			MessageID string   `json:"messageId"`
			From      []string `json:"from"`
			To        []string `json:"to"`
			Subject   string   `json:"subject"`
		} `json:"commonHeaders"`
	} `json:"mail"`
}

// fromSESJSON reads a text part that is an SES notification; nil if none is.
func fromSESJSON(m *msg) *Report {
	for _, t := range m.texts {
		i := strings.IndexByte(t, '{')
		if i < 0 || !strings.Contains(t, "Type\"") {
			continue
		}
		var n sesNotice
		if json.NewDecoder(strings.NewReader(t[i:])).Decode(&n) != nil {
			// Mail gateways fold long lines; undo that and try once more.
			unfolded := strings.NewReplacer("\r\n ", "", "\n ", "").Replace(t[i:])
			if json.NewDecoder(strings.NewReader(unfolded)).Decode(&n) != nil {
				continue
			}
		}
		if r := n.report(); r != nil {
			return r
		}
	}
	return nil
}

func (n *sesNotice) report() *Report {
	typ := n.NotificationType
	if typ == "" {
		typ = n.EventType
	}
	r := &Report{Format: "ses"}
	switch typ {
	case "Bounce":
		r.Kind, r.ReportingMTA = Failed, stripType(n.Bounce.ReportingMTA)
		for _, b := range n.Bounce.BouncedRecipients {
			rc := Recipient{Final: normAddr(b.EmailAddress), Action: strings.ToLower(b.Action), Status: findStatus(b.Status),
				Diagnostic: oneLine(stripType(b.DiagnosticCode))}
			rc.Code = findCode(rc.Diagnostic)
			if rc.Status == "" && rc.Code == 0 && n.Bounce.BounceType == "Permanent" {
				rc.Status = "5.0.0"
			}
			if rc.Action == "" {
				rc.Action = "failed"
			}
			r.Recipients = append(r.Recipients, rc)
		}
	case "Complaint":
		r.Kind, r.Format, r.FeedbackType = Complaint, "ses", strings.ToLower(n.Complaint.FeedbackType)
		if r.FeedbackType == "" {
			r.FeedbackType = "abuse"
		}
		if r.FeedbackType != "abuse" && r.FeedbackType != "fraud" {
			r.Kind = Feedback
		}
		r.OriginalMailFrom = n.Mail.Source
		if len(n.Complaint.ComplainedRecipients) > 0 {
			r.OriginalRcptTo = normAddr(n.Complaint.ComplainedRecipients[0].EmailAddress)
		}
		for _, c := range n.Complaint.ComplainedRecipients {
			r.RcptTo = append(r.RcptTo, normAddr(c.EmailAddress))
		}
	case "Delivery":
		r.Kind, r.ReportingMTA = Delayed, n.Delivery.ReportingMTA
		for _, a := range n.Delivery.Recipients {
			rc := Recipient{Final: normAddr(a), Action: "delivered", Diagnostic: oneLine(n.Delivery.SMTPResponse)}
			rc.Code, rc.Status = findCode(rc.Diagnostic), findStatus(rc.Diagnostic)
			r.Recipients = append(r.Recipients, rc)
		}
	default:
		return nil
	}
	if len(r.Recipients) > maxRecipients {
		r.Recipients = r.Recipients[:maxRecipients]
	}
	r.Original = n.original()
	return r
}

// original gives the sent message's headers as SES lists them (its
// "headers" array, else its "commonHeaders").
func (n *sesNotice) original() Original {
	h := header{}
	for _, f := range n.Mail.Headers {
		k := strings.ToLower(f.Name)
		h[k] = append(h[k], f.Value)
	}
	o := originalOf(h)
	ch := n.Mail.CommonHeaders
	if o.MessageID == "" {
		o.MessageID = strings.Trim(ch.MessageID, "<>")
	}
	if o.From == "" {
		o.From = strings.Join(ch.From, ", ")
	}
	if o.To == "" {
		o.To = strings.Join(ch.To, ", ")
	}
	if o.Subject == "" {
		o.Subject = ch.Subject
	}
	return o
}
