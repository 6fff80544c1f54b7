package api

import (
	"encoding/json"
	"strings"

	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/mail"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/msgmeta"
	"github.com/salvo-email/salvo/internal/send"
)

// Variable headers a sender may set with h:. X-Mailgun-Variables holds
// custom data (what mailgun-go's AddTemplateVariable sends): its members
// become v:* variables. X-Mailgun-Template-Variables holds template data
// only, like t:variables (docs/mailgun-contract.md §2.2, §2.3).
const (
	varsHeader         = "X-Mailgun-Variables"
	templateVarsHeader = "X-Mailgun-Template-Variables"
)

// takeJSONHeader removes the h: header name from sub when its value is a
// JSON object and returns the object; a value that is not one stays a
// plain header.
func takeJSONHeader(sub *send.Submission, name string) map[string]any {
	var out map[string]any
	kept := sub.Headers[:0]
	for _, h := range sub.Headers {
		if strings.EqualFold(h.Name, name) {
			var obj map[string]any
			// RFC 2047 encoded words are undone first, as on the relay.
			v, err := mail.DecodeWords(h.Value)
			if err == nil && json.Unmarshal([]byte(v), &obj) == nil && obj != nil {
				if out == nil {
					out = map[string]any{}
				}
				for k, v := range obj {
					out[k] = v
				}
				continue
			}
		}
		kept = append(kept, h)
	}
	sub.Headers = kept
	return out
}

// templateVariables folds X-Mailgun-Variables into sub.Vars (v:* given
// explicitly win) and returns the Handlebars data of a template send:
// v:* values, overridden by X-Mailgun-Template-Variables, overridden by
// t:variables (reference: t:variables wins on conflict).
func templateVariables(p *mgapi.Params, sub *send.Submission) (map[string]any, error) {
	data := map[string]any{}
	for k, v := range takeJSONHeader(sub, varsHeader) {
		if _, given := sub.Vars[k]; given {
			continue
		}
		data[k] = v
		if s, ok := v.(string); ok {
			sub.Vars[k] = s
		} else {
			b, _ := json.Marshal(v)
			sub.Vars[k] = string(b)
		}
	}
	for k, v := range sub.Vars {
		data[k] = msgmeta.DecodeVar(v)
	}
	for k, v := range takeJSONHeader(sub, templateVarsHeader) {
		data[k] = v
	}
	if raw := p.Raw("t:variables"); strings.TrimSpace(raw) != "" {
		var tv map[string]any
		if err := json.Unmarshal([]byte(raw), &tv); err != nil {
			return nil, fault.Invalidf("'t:variables' parameter is not a valid JSON object")
		}
		for k, v := range tv {
			data[k] = v
		}
	}
	return data, nil
}

// templateRef reads the template parameters of a send: nil without
// `template`.
func templateRef(p *mgapi.Params, sub *send.Submission) (*send.TemplateRef, error) {
	data, err := templateVariables(p, sub)
	if err != nil {
		return nil, err
	}
	name := p.Get("template")
	if name == "" {
		for _, opt := range []string{"t:version", "t:text", "t:variables"} {
			if p.Get(opt) != "" {
				return nil, fault.Invalidf("'%s' needs the 'template' parameter", opt)
			}
		}
		return nil, nil
	}
	text, err := p.Bool("t:text", false)
	if err != nil {
		return nil, err
	}
	return &send.TemplateRef{Name: name, Version: p.Get("t:version"), Text: text, Variables: data}, nil
}

// knownTemplateOptions are the t: options Mailgun documents; others are
// ignored and named in the response's ignored-parameters header.
var knownTemplateOptions = map[string]bool{"t:version": true, "t:text": true, "t:variables": true}
