package app

import (
	"context"
	"crypto/subtle"
	"fmt"
	"io"

	"github.com/salvo-email/salvo/internal/auth"
	"github.com/salvo-email/salvo/internal/store"
)

// reportAPIKey says what became of --api-key (SALVO_API_KEY), which only
// creates the primary key of an empty store. When the store's primary key
// is that key, one log line confirms it. When it is another one (the
// variable was set after the first start, or the key was rotated since),
// requests with the configured key would all get 401: the log and stderr
// say so loudly, and how to get a working key. Salvo still starts, since
// a rotation in the dashboard must not make the next restart fail.
func (a *App) reportAPIKey(ctx context.Context) error {
	if a.Cfg.APIKey == "" {
		return nil
	}
	keys, err := a.Global.Keys(ctx, store.KeyFilter{})
	if err != nil {
		return fmt.Errorf("check --api-key: %w", err)
	}
	want := auth.Hash(a.Cfg.APIKey)
	for _, k := range keys {
		if k.Primary && subtle.ConstantTimeCompare(k.Hash, want) == 1 {
			a.Log.Info("primary API key: the one set in SALVO_API_KEY (--api-key)")
			return nil
		}
	}
	a.Log.Warn("SALVO_API_KEY (--api-key) is NOT this store's primary API key and is ignored: it only creates the key "+
		"on the first start of an empty store. Requests with it get 401. Use the primary key (dashboard: Account Settings > "+
		"API Keys), or rotate it there and put the new key in SALVO_API_KEY, or unset SALVO_API_KEY.", "store", a.globalStoreName())
	printKeyMismatch(a.seams.Stderr, a.globalStoreName())
	return nil
}

// globalStoreName names the global store for people: its folder, or
// "PostgreSQL" (a URL may hold a password).
func (a *App) globalStoreName() string {
	if a.Cfg.GlobalDatabaseURL != "" {
		return "the global PostgreSQL database (--global-database-url)"
	}
	return "data dir " + a.Cfg.DataDir
}

func printKeyMismatch(w io.Writer, where string) {
	line := "=========================================================================="
	fmt.Fprintf(w, "\n%s\n  WARNING: SALVO_API_KEY (--api-key) is not the primary API key of this store\n"+
		"  (%s), which was created before with another key. It is ignored:\n"+
		"  requests with it are refused with 401 \"Invalid private key\".\n\n"+
		"  Either use the store's primary key (dashboard: Account Settings > API Keys),\n"+
		"  or rotate it there and set SALVO_API_KEY to the new key, or unset SALVO_API_KEY,\n"+
		"  or start over with an empty --data-dir (SALVO_DATA_DIR) to create the key you chose.\n%s\n\n",
		line, where, line)
}

// captureNote is the first-start banner's word on capture mode: whether
// it is on, and how to turn it on or off.
func captureNote(publicURL string, capture bool) string {
	if capture {
		return "  Capture mode is ON (--capture, SALVO_CAPTURE=true): every message is kept in the\n" +
			"  dashboard's Inbox (" + publicURL + "/dashboard/inbox) and nothing is delivered.\n" +
			"  Start without it to deliver for real.\n"
	}
	return "  Capture mode is OFF: messages go to the recipients' mail servers (or --smarthost).\n" +
		"  To keep every message in the dashboard's Inbox instead, so nothing leaves this\n" +
		"  machine, start with SALVO_CAPTURE=true (or --capture).\n"
}
