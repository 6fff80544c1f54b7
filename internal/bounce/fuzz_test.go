package bounce

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds Parse arbitrary input, seeded with the real bounces in
// testdata and the hand-written reports of the unit tests. Parse must not
// panic, and every report must keep the invariants of checkInvariants.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "sisimai", "*.eml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		raw, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add([]byte(dsnTwoRecipients))
	f.Add(crlf(fmt.Sprintf(arfAbuse, "abuse")))
	f.Add([]byte("Content-Type: multipart/report; boundary=a\n\n--a\nContent-Type: message/delivery-status\n\nAction: failed\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		checkInvariants(t, Parse(raw))
	})
}
