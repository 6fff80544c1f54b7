package sqlite

import (
	"context"

	"github.com/salvo-email/salvo/internal/store/sqlstore"
)

// OpenWALBound is Open with the WAL bounded at walBound bytes instead of
// walRestartBytes, so that a test sees several restarts without writing
// gigabytes.
func OpenWALBound(ctx context.Context, path string, walBound int64) (*sqlstore.DB, error) {
	return open(ctx, path, walBound)
}
