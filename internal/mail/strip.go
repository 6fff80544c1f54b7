package mail

import "bytes"

// StripBcc removes the Bcc fields from raw's top-level header. Bcc
// recipients travel in the envelope only; RFC 5322 §3.6.3 lets the
// sender remove the field so that no recipient sees them.
func StripBcc(raw []byte) []byte { return RemoveHeader(raw, "Bcc") }

// RemoveHeader removes every field called name (any case, with its folded
// continuation lines) from raw's top-level header. Everything else is kept
// byte for byte.
func RemoveHeader(raw []byte, name string) []byte {
	end := len(raw)
	if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 {
		end = i + 2
	} else if i := bytes.Index(raw, []byte("\n\n")); i >= 0 {
		end = i + 1
	}
	head := raw[:end]
	prefix := []byte(name + ":")
	if !bytes.Contains(bytes.ToLower(head), bytes.ToLower(prefix)) {
		return raw
	}
	out := make([]byte, 0, len(raw))
	skipping := false
	for len(head) > 0 {
		n := bytes.IndexByte(head, '\n') + 1
		if n == 0 {
			n = len(head)
		}
		line := head[:n]
		head = head[n:]
		if skipping && (line[0] == ' ' || line[0] == '\t') {
			continue // a folded continuation of the removed field
		}
		skipping = len(line) >= len(prefix) && bytes.EqualFold(line[:len(prefix)], prefix)
		if !skipping {
			out = append(out, line...)
		}
	}
	return append(out, raw[end:]...)
}
