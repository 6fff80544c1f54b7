//go:build race

package e2e

// raceEnabled reports a -race build: the embedded SQLite (C translated to
// Go) runs tens of times slower under the race detector, so the heaviest
// tests pick their stores by it.
const raceEnabled = true
