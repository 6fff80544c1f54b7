package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"

	"github.com/salvo-email/salvo/internal/config"
)

// command describes a subcommand's flags for parseConfig.
type command struct {
	name     string // "keys create": how the user typed it
	synopsis string // the usage line after "salvo "
	// settings are the configuration flags (each with a SALVO_* twin) the
	// command takes; nil means all of them (serve).
	settings []string
	// extra registers the command's own flags (no environment twins).
	extra func(*flag.FlagSet)
}

// Settings of the commands that read a store.
var (
	globalSettings   = []string{"data-dir", "global-database-url"}
	keysSettings     = []string{"data-dir", "global-database-url", "secret"}
	regionalSettings = []string{"data-dir", "database-url", "region"}
)

// parseConfig parses the settings of a command. It returns ok=false with an
// exit code when the command should stop (help shown or bad input).
// --help prints, on stdout, the command's own flags and then its settings,
// in one style for every command.
func parseConfig(c command, args []string, stdout, stderr io.Writer, getenv func(string) string) (config.Config, *flag.FlagSet, int, bool) {
	cfg := config.Default()
	fs := flag.NewFlagSet("salvo "+c.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	all := flag.NewFlagSet("", flag.ContinueOnError)
	config.Register(all, &cfg)
	all.VisitAll(func(f *flag.Flag) {
		if c.settings == nil || slices.Contains(c.settings, f.Name) {
			fs.Var(f.Value, f.Name, f.Usage)
		}
	})
	if err := config.ApplyEnv(fs, getenv); err != nil {
		fmt.Fprintln(stderr, "salvo:", err)
		return cfg, fs, 2, false
	}
	isSetting := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) { isSetting[f.Name] = true })
	if c.extra != nil {
		c.extra(fs)
	}
	// flag.Parse prints a parse error and then calls Usage on the output
	// (stderr); help is printed below instead, once, on stdout.
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printHelp(stdout, c.synopsis, fs, isSetting)
			return cfg, fs, 0, false
		}
		fmt.Fprintf(stderr, "Run \"salvo %s --help\" for the flags.\n", c.name)
		return cfg, fs, 2, false
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "salvo: invalid configuration:\n%v\n", err)
		return cfg, fs, 2, false
	}
	return cfg, fs, 0, true
}

// printHelp prints a command's usage: its own flags, then its settings
// with their environment twins.
func printHelp(w io.Writer, synopsis string, fs *flag.FlagSet, isSetting map[string]bool) {
	fmt.Fprintf(w, "Usage: salvo %s\n", synopsis)
	var own, settings []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) {
		if isSetting[f.Name] {
			settings = append(settings, f)
		} else {
			own = append(own, f)
		}
	})
	if len(own) > 0 {
		fmt.Fprintf(w, "\nFlags:\n")
		for _, f := range own {
			printFlag(w, f, "")
		}
	}
	if len(settings) > 0 {
		fmt.Fprintf(w, "\nSettings (each also read from its environment variable):\n")
		for _, f := range settings {
			printFlag(w, f, config.EnvName(f.Name)+", ")
		}
	}
}

func printFlag(w io.Writer, f *flag.Flag, env string) {
	def := f.DefValue
	if def == "" {
		def = `""`
	}
	if f.Name == "api-key" || f.Name == "secret" {
		def = "(secret)"
	}
	fmt.Fprintf(w, "  --%s  (%sdefault %s)\n      %s\n", f.Name, env, def, f.Usage)
}
