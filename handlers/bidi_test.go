package handlers

import (
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
