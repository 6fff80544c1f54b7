//go:build !race

package e2e

// raceEnabled reports a -race build (see race_on_test.go).
const raceEnabled = false
