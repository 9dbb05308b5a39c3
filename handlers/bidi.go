package handlers

import (
	"bytes"
	"fmt"
	"slices"
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
// reason a user typed) is what it received. It jumps from one byte that
// matters to the next (a tag's edges, a quote in a tag, a control) and
// copies what lies between whole: a page of 170 KB is read in a few
// microseconds when it holds no control, and little more when it does.
func neutraliseBidi(page []byte) []byte {
	controls := bidiControls(page)
	if len(controls) == 0 {
		return page
	}
	out := make([]byte, 0, len(page)+8*len(controls))
	copied := 0 // page[:copied] is in out
	neutralise := func(at int) int {
		r, size := utf8.DecodeRune(page[at:])
		out = append(out, page[copied:at]...)
		out = fmt.Appendf(out, "[U+%04X]", r)
		copied = at + size
		return copied
	}
	inTag, inValue, inTextarea := false, false, false
	next := 0 // controls[next] is the first control not passed yet
	for i := 0; i < len(page); {
		for next < len(controls) && controls[next] < i {
			next++
		}
		if next == len(controls) {
			break
		}
		switch {
		case inValue:
			j := bytes.IndexByte(page[i:], '"')
			if j < 0 {
				i = len(page)
				continue
			}
			i, inValue = i+j+1, false
		case inTag: // up to its end or a quote, whichever comes first
			end := len(page)
			if j := bytes.IndexByte(page[i:], '>'); j >= 0 {
				end = i + j
			}
			if j := bytes.IndexByte(page[i:end], '"'); j >= 0 {
				end = i + j
			}
			if controls[next] < end {
				i = neutralise(controls[next])
				continue
			}
			if i = end; i == len(page) {
				continue
			}
			if page[i] == '>' {
				inTag = false
			} else if hasSuffixFold(page[:i], ` value=`) {
				inValue = true
			}
			i++
		default: // text, up to the next tag
			end := len(page)
			if j := bytes.IndexByte(page[i:], '<'); j >= 0 {
				end = i + j
			}
			for ; next < len(controls) && controls[next] < end; next++ {
				if !inTextarea {
					neutralise(controls[next])
				}
			}
			if end == len(page) {
				i = end
				continue
			}
			inTag = true
			switch {
			case hasPrefixFold(page[end:], "<textarea"):
				inTextarea = true
			case hasPrefixFold(page[end:], "</textarea"):
				inTextarea = false
			}
			i = end + 1
		}
	}
	return append(out, page[copied:]...)
}

// bidiControls returns where the page's bidi controls start, looking only
// at the bytes that can start one (0xE2 and 0xD8, see isBidiControl): pages
// hold other characters starting 0xE2 (dashes, arrows, ellipses) but rarely
// many. It allocates nothing when there is none.
func bidiControls(b []byte) []int {
	var at []int
	for _, lead := range []byte{0xE2, 0xD8} {
		for i := 0; ; i++ {
			j := bytes.IndexByte(b[i:], lead)
			if j < 0 {
				break
			}
			i += j
			if r, _ := utf8.DecodeRune(b[i:]); isBidiControl(r) {
				at = append(at, i)
			}
		}
	}
	slices.Sort(at)
	return at
}

func hasPrefixFold(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && bytes.EqualFold(b[:len(prefix)], []byte(prefix))
}

func hasSuffixFold(b []byte, suffix string) bool {
	return len(b) >= len(suffix) && bytes.EqualFold(b[len(b)-len(suffix):], []byte(suffix))
}
