package handlers

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNeutraliseBidi(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want string }{
		{`<td>plain</td>`, `<td>plain</td>`},
		{"<td>Invoice \u202Efdp.exe.xlsx</td>", `<td>Invoice [U+202E]fdp.exe.xlsx</td>`},
		{"<a title=\"x\u2066y\u2069\" href=\"/f\">\u200Fz\u061C</a>", `<a title="x[U+2066]y[U+2069]" href="/f">[U+200F]z[U+061C]</a>`},
		{"<input type=\"hidden\" name=\"item\" value=\"C:\\\u202Etxt.sh\"><p>\u202A</p>", "<input type=\"hidden\" name=\"item\" value=\"C:\\\u202Etxt.sh\"><p>[U+202A]</p>"},
		{"<textarea name=\"reason\">\u202Bmine</textarea>\u202B", "<textarea name=\"reason\">\u202Bmine</textarea>[U+202B]"},
		{"<td>Ünïcödé 文件 \u2067📊</td>", `<td>Ünïcödé 文件 [U+2067]📊</td>`},
	} {
		if got := string(neutraliseBidi([]byte(c.in))); got != c.want {
			t.Errorf("%q:\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}

// FuzzNeutraliseBidi: in text, every bidi control becomes its visible
// [U+XXXX] and everything else is kept as it was.
func FuzzNeutraliseBidi(f *testing.F) {
	for _, s := range []string{"a\u202Eb", "\u2066\u2069", "\xe2\x80", "plain", "文件 \u061C"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if strings.ContainsAny(in, "<>\"") || !utf8.ValidString(in) {
			return // markup is the table's; here, text
		}
		var want strings.Builder
		for _, r := range in {
			if isBidiControl(r) {
				fmt.Fprintf(&want, "[U+%04X]", r)
			} else {
				want.WriteRune(r)
			}
		}
		if got := string(neutraliseBidi([]byte("<p>" + in + "</p>"))); got != "<p>"+want.String()+"</p>" {
			t.Fatalf("%q became %q", in, got)
		}
	})
}

// FuzzNeutraliseBidiAsByRune: on any page, markup and invalid UTF-8
// included, neutraliseBidi does what the plain rune-by-rune walk does.
func FuzzNeutraliseBidiAsByRune(f *testing.F) {
	for _, s := range []string{"<p>a\u202Eb</p>", "<input value=\"\u2066\">\u2069", "<textarea>\u202E</textarea>\u202E", "<a title=\"\u200F\">\u061C", "\xe2\x80\xaa<", "<TEXTAREA>x\u202A</TEXTAREA><b value=\"\u202B"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if got, want := neutraliseBidi([]byte(in)), neutraliseBidiByRune([]byte(in)); !bytes.Equal(got, want) {
			t.Fatalf("%q became %q; rune by rune, %q", in, got, want)
		}
	})
}

// neutraliseBidiByRune is neutraliseBidi as it was first written, rune by
// rune through the whole page: the reference the faster one is held to.
// It rewrites the bidi controls in a rendered page's text and
// attributes as a visible [U+202E]. Form values (value attributes and
// textareas) keep them, so that what a form sends back (a file's path, the
// reason a user typed) is what it received.
func neutraliseBidiByRune(page []byte) []byte {
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
