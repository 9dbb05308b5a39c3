package handlers

import (
	"bytes"
	"fmt"
	"unicode/utf8"
)

// bidiControls are the Unicode characters that reorder the text around
// them: the embeddings and overrides (U+202A-U+202E), the isolates
// (U+2066-U+2069) and the marks (U+200E, U+200F, U+061C). In a backed-up
// name, "Invoice \u202Efdp.exe.xlsx" shows as a PDF; shown neutralised
// it cannot pose as one.
func isBidiControl(r rune) bool {
	return r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069 || r == 0x200E || r == 0x200F || r == 0x061C
}

// neutraliseBidi rewrites the bidi controls in a rendered page's text and
// attributes as a visible [U+202E]. Form values (value attributes and
// textareas) keep them, so that what a form sends back (a file's path, the
// reason a user typed) is what it received.
func neutraliseBidi(page []byte) []byte {
	if !hasBidi(page) {
		return page
	}
	out := make([]byte, 0, len(page)+64)
	inTag, inValue, inTextarea := false, false, false
	for i := 0; i < len(page); {
		c := page[i]
		switch {
		case inValue:
			if c == '"' {
				inValue = false
			}
		case inTag && c == '>':
			inTag = false
		case inTag && c == '"' && hasSuffixFold(page[:i], ` value=`):
			inValue = true
		case !inTag && c == '<':
			inTag = true
			switch {
			case hasPrefixFold(page[i:], "<textarea"):
				inTextarea = true
			case hasPrefixFold(page[i:], "</textarea"):
				inTextarea = false
			}
		case c >= utf8.RuneSelf && (inTag || !inTextarea):
			if r, size := utf8.DecodeRune(page[i:]); isBidiControl(r) {
				out = fmt.Appendf(out, "[U+%04X]", r)
				i += size
				continue
			}
		}
		out = append(out, c)
		i++
	}
	return out
}

// hasBidi looks for a bidi control at each byte that can start one (0xE2
// and 0xD8, see isBidiControl), not at every rune: pages hold other
// characters starting 0xE2 (dashes, arrows, ellipses) but rarely many.
func hasBidi(b []byte) bool {
	for _, lead := range []byte{0xE2, 0xD8} {
		for rest := b; ; {
			i := bytes.IndexByte(rest, lead)
			if i < 0 {
				break
			}
			if r, _ := utf8.DecodeRune(rest[i:]); isBidiControl(r) {
				return true
			}
			rest = rest[i+1:]
		}
	}
	return false
}

func hasPrefixFold(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && bytes.EqualFold(b[:len(prefix)], []byte(prefix))
}

func hasSuffixFold(b []byte, suffix string) bool {
	return len(b) >= len(suffix) && bytes.EqualFold(b[len(b)-len(suffix):], []byte(suffix))
}
