package vbazure

import (
	"strings"
	"testing"
)

func TestRules(t *testing.T) {
	t.Parallel()
	for name, ok := range map[string]bool{
		"nestor-wilke": true, "LeeG": true, "a_b-9": true, strings.Repeat("x", 32): true,
		"": false, strings.Repeat("x", 33): false, "a.b": false, "a b": false, "élan": false, "<script>": false,
	} {
		if got := NameProblem(name) == ""; got != ok {
			t.Errorf("name %q: ok=%v", name, got)
		}
	}
	for d, ok := range map[string]bool{
		"": true, "Night shift, first line.": true, "Équipe 2": true,
		"a; b": false, "<b>": false, strings.Repeat("x", 257): false,
	} {
		if got := DescriptionProblem(d) == ""; got != ok {
			t.Errorf("description %q: ok=%v", d, got)
		}
	}
	for p, want := range map[string]string{
		"Good-Pass-Word7": "", "Ab1-xyz": "at least 8", "lower-case-only7": "upper-case", "UPPER-CASE-ONLY7": "lower-case",
		"Only-Letters-Here": "digit", "Pass-1234-Word": "1234", "Pass-dcba-Word7": "dcba", "Pass-XYZA-Word7": "",
	} {
		got := PasswordProblem(p)
		if (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("password %q: %q, want %q", p, got, want)
		}
	}
}
