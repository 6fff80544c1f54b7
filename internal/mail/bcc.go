package mail

import "bytes"

// StripBcc removes the Bcc fields from raw's top-level header. Bcc
// recipients travel in the envelope only; RFC 5322 §3.6.3 lets the
// sender remove the field so that no recipient sees them. Everything else
// is kept byte for byte.
func StripBcc(raw []byte) []byte {
	end := len(raw)
	if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 {
		end = i + 2
	} else if i := bytes.Index(raw, []byte("\n\n")); i >= 0 {
		end = i + 1
	}
	head := raw[:end]
	if !bytes.Contains(bytes.ToLower(head), []byte("bcc:")) {
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
			continue // a folded continuation of the Bcc field
		}
		skipping = len(line) >= 4 && bytes.EqualFold(line[:4], []byte("bcc:"))
		if !skipping {
			out = append(out, line...)
		}
	}
	return append(out, raw[end:]...)
}
