package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/store"
)

// BenchmarkListFanOut measures a send to a list of 100,000 subscribed
// members: the time the API takes to accept it (expanding the list and
// writing one body, 100,000 jobs and accepted events in one transaction)
// and the time until the last copy reached the SMTP sink (a fake MX
// through SALVO_SMARTHOST), with the default delivery settings (8
// connections per destination). "personalised" uses the placeholders of
// docs/mailgun-contract.md §5.3, so every copy is rendered and signed on its own; "plain" has none,
// so one signed content goes out with many RCPTs a transaction. Run it
// once per store:
//
//	go test ./internal/e2e -run '^$' -bench ListFanOut -benchtime 1x
func BenchmarkListFanOut(b *testing.B) {
	const members = 100000
	for _, pg := range []bool{false, true} {
		b.Run(map[bool]string{false: "sqlite", true: "postgres"}[pg], func(b *testing.B) {
			e := startSendEnv(b, sendEnvOptions{postgres: pg})
			const list = "big@fan.test"
			ctx := context.Background()
			if err := e.app.Regional.CreateList(ctx, store.MailingList{Address: list, AccessLevel: store.AccessReadonly,
				ReplyPreference: store.ReplyList, CreatedAt: time.Now()}); err != nil {
				b.Fatal(err)
			}
			ms := make([]store.Member, 0, 5000)
			for i := range members {
				ms = append(ms, store.Member{Address: fmt.Sprintf("m%06d@fan.test", i), Name: fmt.Sprintf("First%d Last%d", i, i),
					Vars: map[string]any{"id": i}, Subscribed: true})
				if len(ms) == cap(ms) {
					if _, err := e.app.Regional.AddMembers(ctx, list, ms, false); err != nil {
						b.Fatal(err)
					}
					ms = ms[:0]
				}
			}
			for _, kind := range []string{"personalised", "plain"} {
				b.Run(kind, func(b *testing.B) {
					v := listSend(list)
					v.Del("o:dkim") // copies are signed, as in production
					if kind == "plain" {
						v.Set("subject", "News")
						v.Set("text", "The same text for every member.")
					}
					for n := 0; n < b.N; n++ {
						fanOutOnce(b, e, v, members)
					}
				})
			}
		})
	}
}

// fanOutOnce sends v to the list and reports the accept time and the time
// until the sink got every member.
func fanOutOnce(b *testing.B, e *sendEnv, v url.Values, members int) {
	base := e.mx.RecipientCount()
	start := time.Now()
	status, body := e.call(http.MethodPost, "/v3/"+testDomain+"/messages", formBody(v))
	accepted := time.Since(start)
	if status != http.StatusOK {
		b.Fatalf("send = %d %s", status, body)
	}
	e.mx.WaitRecipients(b, base+members, 30*time.Minute)
	delivered := time.Since(start)
	b.ReportMetric(accepted.Seconds(), "accept-s")
	b.ReportMetric(float64(members)/accepted.Seconds(), "accepted-members/s")
	b.ReportMetric(delivered.Seconds(), "delivered-s")
	b.ReportMetric(float64(members)/delivered.Seconds(), "delivered-members/s")
}
