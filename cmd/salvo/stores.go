package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/salvo-email/salvo/internal/app"
	"github.com/salvo-email/salvo/internal/config"
	"github.com/salvo-email/salvo/internal/store"
)

// Commands other than serve only read and change a store that "salvo
// serve" created: they never create one. Run from the wrong folder, an
// embedded store's files are missing; the command then says where it
// looked and exits 1, and creates nothing. Each command says on stderr
// which store it uses (stdout stays the command's output, e.g. JSON).

// existingStore names the store file a command would open, or says why it
// cannot: the embedded store's file does not exist. url is the
// PostgreSQL URL that replaces the file when set.
func existingStore(cfg *config.Config, file, url, urlFlag string) (string, error) {
	if url != "" {
		return "PostgreSQL (--" + urlFlag + ")", nil
	}
	path := cfg.SQLitePath(file)
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		dir, _ := filepath.Abs(cfg.DataDir)
		return "", fmt.Errorf("no Salvo store in %s (no %s): set --data-dir (SALVO_DATA_DIR) to the folder \"salvo serve\" uses, "+
			"or run this command where it runs; nothing was created", dir, filepath.Base(path))
	} else if err != nil {
		return "", fmt.Errorf("store %s: %w", path, err)
	}
	return path, nil
}

// openGlobal opens the existing global store for command name, printing
// which one on stderr, or prints why not.
func openGlobal(ctx context.Context, cfg *config.Config, name string, stderr io.Writer) (store.Global, bool) {
	where, err := existingStore(cfg, "global", cfg.GlobalDatabaseURL, "global-database-url")
	if err != nil {
		fmt.Fprintf(stderr, "salvo %s: %v\n", name, err)
		return nil, false
	}
	fmt.Fprintf(stderr, "salvo %s: global store %s\n", name, where)
	g, err := app.OpenGlobal(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "salvo %s: %v\n", name, err)
		return nil, false
	}
	return g, true
}

// openRegional is openGlobal for this region's store.
func openRegional(ctx context.Context, cfg *config.Config, name string, stderr io.Writer) (store.Regional, bool) {
	where, err := existingStore(cfg, "region-"+cfg.Region, cfg.DatabaseURL, "database-url")
	if err != nil {
		fmt.Fprintf(stderr, "salvo %s: %v\n", name, err)
		return nil, false
	}
	fmt.Fprintf(stderr, "salvo %s: %s store %s\n", name, cfg.Region, where)
	r, err := app.OpenRegional(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "salvo %s: %v\n", name, err)
		return nil, false
	}
	return r, true
}
