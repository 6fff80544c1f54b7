package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	usagedetails "github.com/salvo-email/salvo/internal/usage"
)

// usageCmd prints the account's usage details for a month: messages
// accepted, delivered and failed, per domain and in all (global data, the
// same from every region's nodes).
func usageCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	var month string
	var asJSON bool
	cfg, _, code, ok := parseConfig(command{name: "usage", synopsis: "usage [--month 2006-01] [--json] [flags]", settings: globalSettings,
		extra: func(fs *flag.FlagSet) {
			fs.StringVar(&month, "month", usagedetails.MonthOf(time.Now()), "month to show, as 2006-01")
			fs.BoolVar(&asJSON, "json", false, "print JSON like GET /v1/usage")
		}}, args, stdout, stderr, getenv)
	if !ok {
		return code
	}
	g, ok := openGlobal(ctx, &cfg, "usage", stderr)
	if !ok {
		return 1
	}
	defer g.Close()
	s, err := usagedetails.Read(ctx, g, month)
	if err != nil {
		fmt.Fprintln(stderr, "salvo usage:", err)
		return 1
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(s)
		return 0
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "DOMAIN\tREGION\tACCEPTED\tDELIVERED\tFAILED\t\n")
	for _, d := range s.Domains {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t\n", d.Domain, d.Region, d.Accepted, d.Delivered, d.Failed)
	}
	fmt.Fprintf(tw, "all (%s)\t\t%d\t%d\t%d\t\n", s.Month, s.Accepted, s.Delivered, s.Failed)
	_ = tw.Flush()
	return 0
}
