package send

import (
	"context"
	"strings"

	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/mail"
	"github.com/salvo-email/salvo/internal/msgmeta"
	"github.com/salvo-email/salvo/internal/store"
)

// memberBatch is how many members one read of a list's fan-out takes.
const memberBatch = 5000

// fanout is what a submission's mailing-list recipients expand to: every
// subscribed member of each list, with its personalisation. A nil fanout
// expands nothing.
type fanout struct {
	listAddrs map[string]bool             // lower-case list addresses
	members   map[string]msgmeta.Personal // lower-case member address → personalisation
	order     []string                    // member addresses, in list then address order
	names     []string                    // list addresses, in recipient order
}

// fanOut finds the mailing lists among sub's recipients (docs/mailgun-contract.md §5.3)
// and reads their subscribed members. Lists enforce their access_level on
// unauthenticated submissions (readonly: refused; members: only a
// subscribed member may post; everyone: anyone), and reply_preference
// "list" (not on readonly lists) sets Reply-To to the list unless the
// message has one. This is the hook the SMTP relay (authenticated) and the
// inbound MX (Unauthenticated, Poster set) reach lists through: they call
// Send with the list address among the recipients.
func (s *Service) fanOut(ctx context.Context, sub *Submission) (*fanout, error) {
	if s.Lists == nil {
		return nil, nil
	}
	addrs := candidateAddresses(sub)
	if len(addrs) == 0 {
		return nil, nil
	}
	lists, err := s.Lists.ListsByAddress(ctx, addrs)
	if err != nil || len(lists) == 0 {
		return nil, err
	}
	byAddr := map[string]store.MailingList{}
	for _, l := range lists {
		byAddr[l.Address] = l
	}
	f := &fanout{listAddrs: map[string]bool{}, members: map[string]msgmeta.Personal{}}
	replyTo := ""
	for _, a := range addrs {
		l, ok := byAddr[a]
		if !ok || f.listAddrs[a] || l.AccountID != sub.Domain.AccountID {
			continue // another account's list is an address like any other
		}
		if err := s.mayPost(ctx, sub, l); err != nil {
			return nil, err
		}
		f.listAddrs[a] = true
		f.names = append(f.names, l.Address)
		if replyTo == "" && l.ReplyPreference == store.ReplyList && l.AccessLevel != store.AccessReadonly {
			replyTo = l.Address
		}
		if err := f.readMembers(ctx, s.Lists, l.Address); err != nil {
			return nil, err
		}
	}
	return f, setReplyTo(sub, replyTo)
}

// candidateAddresses are the lower-case addresses of sub's recipients.
func candidateAddresses(sub *Submission) []string {
	var out []string
	for _, field := range [][]string{sub.To, sub.Cc, sub.Bcc} {
		list, err := mail.ParseAddressList(field)
		if err != nil {
			continue // recipients() reports it
		}
		for _, a := range list {
			out = append(out, strings.ToLower(a.Address))
		}
	}
	return out
}

func (f *fanout) readMembers(ctx context.Context, ls store.ListStore, list string) error {
	for after := ""; ; {
		ms, err := ls.SubscribedMembers(ctx, list, after, memberBatch)
		if err != nil {
			return err
		}
		for _, m := range ms {
			k := strings.ToLower(m.Address)
			if _, dup := f.members[k]; !dup {
				f.members[k] = msgmeta.Personal{Vars: m.Vars, Name: m.Name, List: list}
				f.order = append(f.order, m.Address)
			}
		}
		if len(ms) < memberBatch {
			return nil
		}
		after = ms[len(ms)-1].Address
	}
}

// mayPost applies l's access_level to sub.
func (s *Service) mayPost(ctx context.Context, sub *Submission, l store.MailingList) error {
	if !sub.Unauthenticated || l.AccessLevel == store.AccessEveryone {
		return nil
	}
	refused := &fault.Error{Kind: fault.Forbidden,
		Message: "Mailing list " + l.Address + " accepts posts only from authenticated senders"}
	if l.AccessLevel != store.AccessMembers {
		return refused
	}
	poster := sub.Poster
	if poster == "" {
		if a, err := mail.ParseAddressList([]string{sub.From}); err == nil && len(a) == 1 {
			poster = a[0].Address
		}
	}
	m, err := s.Lists.Member(ctx, l.Address, strings.ToLower(poster))
	if err != nil || !m.Subscribed {
		refused.Message = "Mailing list " + l.Address + " accepts posts only from its members"
		return refused
	}
	return nil
}

func setReplyTo(sub *Submission, addr string) error {
	if addr == "" {
		return nil
	}
	if sub.MIME != nil {
		raw, err := mail.AddHeaderIfMissing(sub.MIME, "Reply-To", addr)
		if err != nil {
			return fault.Invalidf("message is not a valid MIME message: %v", err)
		}
		sub.MIME = raw
		return nil
	}
	if !hasHeader(sub.Headers, "Reply-To") {
		sub.Headers = append(sub.Headers, mail.Header{Name: "Reply-To", Value: addr})
	}
	return nil
}

// expand replaces list addresses among rcpts by the lists' members, each
// address once.
func (f *fanout) expand(rcpts []string) []string {
	if f == nil {
		return rcpts
	}
	out := make([]string, 0, len(rcpts)+len(f.order))
	seen := make(map[string]bool, len(rcpts)+len(f.order))
	for _, r := range rcpts {
		k := strings.ToLower(r)
		if !f.listAddrs[k] && !seen[k] {
			seen[k] = true
			out = append(out, r)
		}
	}
	for _, m := range f.order {
		if k := strings.ToLower(m); !seen[k] {
			seen[k] = true
			out = append(out, m)
		}
	}
	return out
}

func (f *fanout) lists() []string {
	if f == nil {
		return nil
	}
	return f.names
}

// personal is recipient r's personalisation: a member's (with any
// recipient-variables given for it winning over its vars), else its
// recipient-variables.
func (f *fanout) personal(r string, vars map[string]any) msgmeta.Personal {
	if f == nil {
		return msgmeta.Personal{Vars: vars}
	}
	p, ok := f.members[strings.ToLower(r)]
	if !ok {
		return msgmeta.Personal{Vars: vars}
	}
	if len(vars) > 0 {
		merged := make(map[string]any, len(p.Vars)+len(vars))
		for k, v := range p.Vars {
			merged[k] = v
		}
		for k, v := range vars {
			merged[k] = v
		}
		p.Vars = merged
	}
	return p
}
