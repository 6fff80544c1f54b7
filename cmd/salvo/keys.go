package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/salvo-email/salvo/internal/app"
	"github.com/salvo-email/salvo/internal/auth"
	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/store"
)

const keysUsage = `Usage:
  salvo keys list   [--kind user|domain|web] [--domain NAME] [--json]
  salvo keys create --role admin|developer|basic|support|sending [--domain NAME] [--description TEXT] [--expiration SECONDS]
  salvo keys revoke KEY_ID

The keys live in the global store named by --data-dir / --global-database-url
(the same settings as "salvo serve"); run "salvo keys <command> --help" for all flags.
A created key's secret is printed once and cannot be shown again.
`

func keysCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 || args[0] == "--help" || args[0] == "-h" || args[0] == "help" {
		fmt.Fprint(stdout, keysUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	sub := args[0]
	var kind, domain, role, description, format string
	var expiration int
	var asJSON bool
	extra := func(fs *flag.FlagSet) {
		switch sub {
		case "list":
			fs.StringVar(&kind, "kind", "", "only keys of this kind: user, domain or web")
			fs.StringVar(&domain, "domain", "", "only sending keys of this domain")
			fs.BoolVar(&asJSON, "json", false, "print JSON like GET /v1/keys")
		case "create":
			fs.StringVar(&role, "role", "", "admin, developer, basic, support, or sending (with --domain)")
			fs.StringVar(&domain, "domain", "", "domain of a sending key")
			fs.StringVar(&description, "description", "", "what the key is for")
			fs.IntVar(&expiration, "expiration", 0, "seconds until the key expires (0: never)")
			fs.StringVar(&format, "kind", "", "user, domain or web (default: domain for role sending, else user)")
		}
	}
	synopsis := map[string]string{"list": "keys list [flags]", "create": "keys create --role ROLE [flags]", "revoke": "keys revoke [flags] KEY_ID"}[sub]
	if synopsis == "" {
		fmt.Fprintf(stderr, "salvo keys: unknown command %q\n\n%s", sub, keysUsage)
		return 2
	}
	cfg, fs, code, ok := parseConfig(command{name: "keys " + sub, synopsis: synopsis, settings: keysSettings, extra: extra},
		args[1:], stdout, stderr, getenv)
	if !ok {
		return code
	}
	g, ok := openGlobal(ctx, &cfg, "keys "+sub, stderr)
	if !ok {
		return 1
	}
	defer g.Close()
	box, err := app.OpenBox(ctx, &cfg, g)
	if err != nil {
		fmt.Fprintln(stderr, "salvo keys:", err)
		return 1
	}
	keys := &auth.Keys{Global: g, Box: box, Now: time.Now}
	if _, err := keys.Account(ctx); errors.Is(err, store.ErrNotFound) {
		fmt.Fprintln(stderr, `salvo keys: this store has no account yet; run "salvo serve" once to create it`)
		return 1
	}
	switch sub {
	case "list":
		err = keysList(ctx, keys, stdout, kind, domain, asJSON)
	case "create":
		err = keysCreate(ctx, keys, stdout, auth.KeyRequest{Role: role, Kind: format, DomainName: domain,
			Description: description, Expiration: time.Duration(expiration) * time.Second, Requestor: "salvo keys"})
	case "revoke":
		if fs.NArg() != 1 {
			fmt.Fprint(stderr, "salvo keys revoke: give exactly one KEY_ID\n")
			return 2
		}
		if err = keys.Revoke(ctx, fs.Arg(0)); err == nil {
			fmt.Fprintf(stdout, "key %s revoked\n", fs.Arg(0))
		}
	}
	if err != nil {
		if f, ok := fault.As(err); ok {
			fmt.Fprintln(stderr, "salvo keys:", asFlags.Replace(f.Message))
			return 1
		}
		fmt.Fprintln(stderr, "salvo keys:", err)
		return 1
	}
	return 0
}

// asFlags names the API's parameters in the service's messages by the
// flags that set them here.
var asFlags = strings.NewReplacer(
	"Missing mandatory parameter: domain_name", "a sending key needs --domain NAME",
	"domain_name is only", "--domain is only",
	"Missing mandatory parameter: role", "missing --role (admin, developer, basic, support or sending)",
	"`role` param", "--role", "`kind` param", "--kind",
	"role `sending` needs kind `domain`", "--role sending needs --kind domain (the default for it)")

func keysList(ctx context.Context, keys *auth.Keys, w io.Writer, kind, domain string, asJSON bool) error {
	list, err := keys.List(ctx, store.KeyFilter{Kind: kind, DomainName: domain})
	if err != nil {
		return err
	}
	if asJSON {
		out := mgapi.KeyList{TotalCount: len(list), Items: []mgapi.Key{}}
		for _, k := range list {
			out.Items = append(out.Items, auth.KeyShape(k))
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tROLE\tDOMAIN\tCREATED\tEXPIRES\tDESCRIPTION")
	for _, k := range list {
		exp := "never"
		if !k.ExpiresAt.IsZero() {
			exp = k.ExpiresAt.Format(time.RFC3339)
		}
		desc := k.Description
		if k.Primary {
			desc += " (primary)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Kind, k.Role, dash(k.DomainName),
			k.CreatedAt.Format(time.RFC3339), exp, desc)
	}
	return tw.Flush()
}

func keysCreate(ctx context.Context, keys *auth.Keys, w io.Writer, req auth.KeyRequest) error {
	k, secretValue, err := keys.Create(ctx, req)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "created key %s (kind %s, role %s%s)\n\n  %s\n\nThis secret is shown only now; store it safely.\n",
		k.ID, k.Kind, k.Role, map[bool]string{true: ", domain " + k.DomainName, false: ""}[k.DomainName != ""], secretValue)
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
