package sqlstore

import "context"

// Hooks for the group commit tests (package sqlstore_test).

// InTx runs fn through the committers, as every store write does.
func (db *DB) InTx(ctx context.Context, fn func(*Tx) error) error { return db.inTx(ctx, fn) }

// Committers is how many committer goroutines run.
func (db *DB) Committers() int { return db.committer.n }

// Waiting is how many writes wait for a committer to take them.
func (db *DB) Waiting() int { return len(db.committer.reqs) }
