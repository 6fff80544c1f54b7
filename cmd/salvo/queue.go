package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/salvo-email/salvo/internal/delivery"
	"github.com/salvo-email/salvo/internal/mgapi"
)

// queueCmd prints what waits in this region's delivery queue, per
// destination, and one message's recipients and history.
func queueCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	var domain, messageID string
	var asJSON bool
	cfg, _, code, ok := parseConfig(command{name: "queue", synopsis: "queue [--domain NAME [--message-id ID]] [--json] [flags]",
		settings: regionalSettings, extra: func(fs *flag.FlagSet) {
			fs.StringVar(&domain, "domain", "", "only this sending domain")
			fs.StringVar(&messageID, "message-id", "", "show this message's recipients and history (needs --domain)")
			fs.BoolVar(&asJSON, "json", false, "print JSON like GET /v3/{domain}/queue")
		}}, args, stdout, stderr, getenv)
	if !ok {
		return code
	}
	if messageID != "" && domain == "" {
		fmt.Fprintln(stderr, "salvo queue: --message-id needs --domain")
		return 2
	}
	r, ok := openRegional(ctx, &cfg, "queue", stderr)
	if !ok {
		return 1
	}
	defer r.Close()
	st, err := delivery.QueueStatus(ctx, r, strings.ToLower(domain), strings.Trim(messageID, "<>"), time.Now())
	if err != nil {
		fmt.Fprintln(stderr, "salvo queue:", err)
		return 1
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(st)
		return 0
	}
	printQueue(stdout, st)
	return 0
}

func printQueue(w io.Writer, st mgapi.QueueStatus) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DESTINATION\tWAITING\tDUE\tIN FLIGHT\tNEXT ATTEMPT\tLAST ERROR")
	for _, d := range st.Destinations {
		next := "-"
		if d.NextAttemptAt != nil {
			next = time.Time(*d.NextAttemptAt).Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%s\n", d.Destination, d.Waiting, d.Due, d.InFlight, next, dash(d.LastError))
	}
	_ = tw.Flush()
	if len(st.Destinations) == 0 {
		fmt.Fprintln(w, "(the queue is empty)")
	}
	m := st.Message
	if m == nil {
		return
	}
	fmt.Fprintf(w, "\nmessage <%s>\n", m.MessageID)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "WAITING RECIPIENT\tATTEMPTS\tNEXT ATTEMPT\tLAST ERROR")
	for _, r := range m.Waiting {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", r.Recipient, r.Attempts, time.Time(r.NextAttemptAt).Format(time.RFC3339), dash(r.LastError))
	}
	_ = tw.Flush()
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nTIME\tEVENT\tRECIPIENT\tATTEMPT\tCODE\tREPLY")
	for _, h := range m.History {
		ev := h.Event
		if h.Severity != "" {
			ev += " (" + h.Severity + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\n", time.Time(h.Time).Format(time.RFC3339), ev, h.Recipient, h.Attempt, h.Code, dash(h.Reply))
	}
	_ = tw.Flush()
}
