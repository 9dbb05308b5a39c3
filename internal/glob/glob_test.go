package glob

import "testing"

func TestMatch(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		p, s string
		want bool
	}{
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"*", "anything", true},
		{"fin-*", "fin-fs-01", true},
		{"fin-*", "xfin-fs-01", false},
		{"*-01", "web-01", true},
		{"web-0?", "web-01", true},
		{"web-0?", "web-011", false},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXbYY", false},
		{"*.xlsx", "Q3 forecast.xlsx", true},
		{"??", "文件", true},
		{"**x", "abx", true},
	} {
		if got := Match(tc.p, tc.s); got != tc.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tc.p, tc.s, got, tc.want)
		}
	}
}
