package authn

import (
	"net/url"
	"path"
	"regexp"
	"strings"
)

// maxReturnTo bounds a return-to path.
const maxReturnTo = 2048

var (
	queryKey   = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)
	queryValue = regexp.MustCompile(`^[A-Za-z0-9 _.,:~*-]{0,256}$`)
)

// ValidReturnTo reports whether raw is a path on this site that a sign-in may
// return to, and returns it in canonical form. Anything else gives "/", false.
//
// Only a plain same-origin path is accepted: one leading slash, no backslash,
// no control or non-ASCII characters, no empty, "." or ".." segments (also
// after percent-decoding, so %2f%2e%2e does not sneak one in), no fragment,
// and a query of short plain parameters whose values hold no slash, colon-
// scheme or markup. Sign-in routes themselves are refused, so a return-to can
// never loop back into a login.
func ValidReturnTo(raw string) (string, bool) {
	const home = "/"
	if raw == "" || len(raw) > maxReturnTo || !strings.HasPrefix(raw, "/") ||
		strings.HasPrefix(raw, "//") || strings.ContainsAny(raw, `\#`) {
		return home, false
	}
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c <= 0x20 || c >= 0x7f {
			return home, false
		}
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || u.Fragment != "" {
		return home, false
	}
	p := u.Path
	if p != "/" {
		for _, seg := range strings.Split(strings.TrimPrefix(p, "/"), "/") {
			if seg == "" || seg == "." || seg == ".." {
				return home, false
			}
		}
		if path.Clean(p) != p {
			return home, false
		}
	}
	if strings.ContainsAny(p, "\\\x00") || strings.HasPrefix(p, "/auth/") || p == "/auth" {
		return home, false
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c == 0x7f {
			return home, false
		}
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return home, false
	}
	for k, vs := range q {
		if !queryKey.MatchString(k) || len(vs) != 1 || !queryValue.MatchString(vs[0]) {
			return home, false
		}
	}
	// Re-resolve against a stand-in origin: the result must stay on it.
	base := &url.URL{Scheme: "https", Host: "portal.invalid", Path: "/"}
	if r := base.ResolveReference(u); r.Host != base.Host || r.Scheme != base.Scheme {
		return home, false
	}
	out := u.EscapedPath()
	if len(q) > 0 {
		out += "?" + q.Encode()
	}
	if len(out) > maxReturnTo {
		return home, false // escaping lengthened it past the bound
	}
	return out, true
}
