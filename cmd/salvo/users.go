package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/salvo-email/salvo/internal/auth"
	"github.com/salvo-email/salvo/internal/config"
	"github.com/salvo-email/salvo/internal/fault"
)

const usersUsage = `Usage:
  salvo users create --email ADDRESS [--name NAME] [--password-file FILE]
  salvo users list
  salvo users passwd EMAIL [--password-file FILE]
  salvo users delete EMAIL

Users log in to the dashboard (/dashboard/) with their email and password.
The password is read from --password-file, or else from standard input
(asked for twice, without echo, on a terminal); it is never a flag value.
passwd gives a user a new password and logs out every session of theirs.
delete removes a user and logs them out; the last user is never deleted,
so someone can always log in.
The users live in the global store named by --data-dir /
--global-database-url, the same settings as "salvo serve".
`

func usersCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	return usersMain(ctx, args, stdin, stdout, stderr, getenv, 0)
}

// usersMain is usersCmd with a bcrypt cost (0: auth.PasswordCost); tests
// lower it.
func usersMain(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string, cost int) int {
	if len(args) == 0 || args[0] == "--help" || args[0] == "-h" || args[0] == "help" {
		fmt.Fprint(stdout, usersUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	sub, rest := args[0], args[1:]
	var req auth.NewUser
	var passwordFile string
	extra := func(fs *flag.FlagSet) {
		if sub == "create" {
			fs.StringVar(&req.Email, "email", "", "the user's email address; they log in with it")
			fs.StringVar(&req.Name, "name", "", "the user's name (optional)")
		}
		if sub == "create" || sub == "passwd" {
			fs.StringVar(&passwordFile, "password-file", "", "file whose first line is the password (default: read standard input)")
		}
	}
	synopsis := map[string]string{"create": "users create --email ADDRESS [flags]", "list": "users list [flags]",
		"passwd": "users passwd EMAIL [flags]", "delete": "users delete EMAIL [flags]"}[sub]
	if synopsis == "" {
		fmt.Fprintf(stderr, "salvo users: unknown command %q\n\n%s", sub, usersUsage)
		return 2
	}
	settings := globalSettings
	if sub == "create" { // the dashboard's address, as salvo serve has it
		settings = append(slices.Clone(globalSettings), "public-url", "http-addr")
	}
	// passwd and delete name the user: before the flags or after them.
	var email string
	byEmail := sub == "passwd" || sub == "delete"
	if byEmail && len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		email, rest = rest[0], rest[1:]
	}
	cfg, fs, code, ok := parseConfig(command{name: "users " + sub, synopsis: synopsis, settings: settings, extra: extra},
		rest, stdout, stderr, getenv)
	if !ok {
		return code
	}
	if byEmail && email == "" && fs.NArg() > 0 {
		email = fs.Arg(0)
		_ = fs.Parse(fs.Args()[1:])
	}
	if byEmail && email == "" {
		fmt.Fprintf(stderr, "salvo users %s: the user's email is required: salvo %s\n", sub, synopsis)
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "salvo users %s: unexpected argument %q (the password is never an argument)\n", sub, fs.Arg(0))
		return 2
	}
	g, ok := openGlobal(ctx, &cfg, "users "+sub, stderr)
	if !ok {
		return 1
	}
	defer g.Close()
	users := &auth.Users{Global: g, Now: time.Now, BcryptCost: cost}
	var err error
	switch sub {
	case "list":
		err = usersList(ctx, users, stdout)
	case "passwd":
		err = usersPasswd(ctx, users, email, passwordFile, stdin, stdout, stderr)
	case "delete":
		err = usersDelete(ctx, users, email, stdout)
	default:
		err = usersCreate(ctx, users, req, passwordFile, dashboardURL(cfg), stdin, stdout, stderr)
	}
	if err != nil {
		if f, ok := fault.As(err); ok {
			err = errors.New(f.Message)
		}
		fmt.Fprintln(stderr, "salvo users:", err)
		return 1
	}
	return 0
}

func usersCreate(ctx context.Context, users *auth.Users, req auth.NewUser, passwordFile, dashboard string, stdin io.Reader, stdout, stderr io.Writer) error {
	if req.Email == "" {
		return errors.New("--email is required")
	}
	var err error
	if req.Password, err = readPassword(passwordFile, stdin, stderr); err != nil {
		return err
	}
	u, err := users.Create(ctx, req)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created user %s (id %s); they can log in at %s\n", u.Email, u.ID, dashboard)
	return nil
}

func usersPasswd(ctx context.Context, users *auth.Users, email, passwordFile string, stdin io.Reader, stdout, stderr io.Writer) error {
	u, err := users.ByEmail(ctx, email)
	if err != nil {
		return err
	}
	password, err := readPassword(passwordFile, stdin, stderr)
	if err != nil {
		return err
	}
	if err := users.SetPassword(ctx, u.ID, password, nil); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "changed the password of %s; their sessions were logged out\n", u.Email)
	return nil
}

func usersDelete(ctx context.Context, users *auth.Users, email string, stdout io.Writer) error {
	u, err := users.ByEmail(ctx, email)
	if err != nil {
		return err
	}
	if err := users.Delete(ctx, u.ID); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "deleted user %s; their sessions were logged out\n", u.Email)
	return nil
}

// dashboardURL is where the dashboard of a node with cfg is.
func dashboardURL(cfg config.Config) string {
	base := cfg.PublicURL
	if base == "" {
		base = config.URLOf(cfg.HTTPAddr)
	}
	return strings.TrimSuffix(base, "/") + "/dashboard/"
}

// readPassword reads the password from a file, a terminal (twice, without
// echo) or piped standard input: the first line, without its line end.
func readPassword(file string, stdin io.Reader, stderr io.Writer) (string, error) {
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return "", fmt.Errorf("--password-file: %w", err)
		}
		defer f.Close()
		return firstLine(f)
	}
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return promptPassword(int(f.Fd()), stderr)
	}
	return firstLine(stdin)
}

func firstLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("no password given: pipe it to standard input or use --password-file")
	}
	return line, nil
}

func promptPassword(fd int, stderr io.Writer) (string, error) {
	var answers [2]string
	for i, prompt := range []string{"Password: ", "Password again: "} {
		fmt.Fprint(stderr, prompt)
		b, err := term.ReadPassword(fd)
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		answers[i] = string(b)
	}
	if answers[0] != answers[1] {
		return "", errors.New("the two passwords differ")
	}
	return answers[0], nil
}

func usersList(ctx context.Context, users *auth.Users, w io.Writer) error {
	list, err := users.List(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EMAIL\tNAME\tCREATED\tID")
	for _, u := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Email, dash(u.Name), u.CreatedAt.Format(time.RFC3339), u.ID)
	}
	return tw.Flush()
}
