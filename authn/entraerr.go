package authn

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// EntraError is an error Entra ID answered, at the callback or at its
// token endpoint: the OAuth error, its AADSTS codes, and the two ids
// Microsoft's support asks for. It never holds the description's free
// text, a token or a code.
type EntraError struct {
	Code          string // invalid_grant, interaction_required, consent_required, ...
	Codes         []int  // AADSTS numbers
	TraceID       string
	CorrelationID string
	// Claims is a claims challenge (JSON) Entra wants satisfied at the
	// next sign-in, as interaction_required may carry.
	Claims string
	Status int // the token endpoint's HTTP status; 0 at the callback
}

func (e *EntraError) Error() string {
	codes := make([]string, len(e.Codes))
	for i, c := range e.Codes {
		codes[i] = "AADSTS" + strconv.Itoa(c)
	}
	s := "entra: " + e.Code
	if len(codes) > 0 {
		s += " (" + strings.Join(codes, ", ") + ")"
	}
	return s
}

// logAttrs are what the logs keep of it.
func (e *EntraError) logAttrs() []any {
	return []any{"entra_error", e.Code, "error_codes", e.Codes, "trace_id", e.TraceID, "correlation_id", e.CorrelationID}
}

// has reports whether Entra gave one of these AADSTS codes.
func (e *EntraError) has(codes ...int) bool {
	return slices.ContainsFunc(e.Codes, func(c int) bool { return slices.Contains(codes, c) })
}

// Kinds of Entra errors, by what the person (or the administrator) can do.
const (
	entraReauthenticate = iota // sign in again: the grant expired, was revoked, or needs interaction
	entraConsent               // an administrator must consent to the application
	entraBlocked               // the account may not sign in: disabled, locked, blocked by policy
	entraMisconfigured         // the portal's registration is wrong: secret expired, unknown client, redirect URI
	entraUnavailable           // Entra is having trouble: try again later
	entraCancelled             // the person cancelled or declined
)

// kind says which of the kinds above the error is.
func (e *EntraError) kind() int {
	switch {
	case e.has(50057, 50053, 50055, 53003, 530032, 50034, 50126):
		return entraBlocked // disabled, locked, password expired, Conditional Access, unknown user
	case e.Code == "consent_required" || e.has(65001, 650052, 650056):
		return entraConsent
	case e.Code == "access_denied" || e.has(65004):
		return entraCancelled
	case e.Code == "invalid_client" || e.Code == "unauthorized_client" || e.Code == "invalid_scope" ||
		e.has(7000215, 7000222, 700016, 50011, 500011, 70011, 28000, 650053, 700027):
		return entraMisconfigured
	case e.Code == "server_error" || e.Code == "temporarily_unavailable" || e.Status >= 500:
		return entraUnavailable
	}
	return entraReauthenticate // invalid_grant, interaction_required, login_required, ...
}

// entraErrorFromBody reads the token endpoint's error answer.
func entraErrorFromBody(status int, body []byte) *EntraError {
	var b struct {
		Error         string `json:"error"`
		Description   string `json:"error_description"`
		Codes         []int  `json:"error_codes"`
		TraceID       string `json:"trace_id"`
		CorrelationID string `json:"correlation_id"`
		Claims        string `json:"claims"`
	}
	json.Unmarshal(body, &b)
	e := &EntraError{Code: b.Error, Codes: b.Codes, TraceID: b.TraceID, CorrelationID: b.CorrelationID, Claims: b.Claims, Status: status}
	if e.Code == "" {
		e.Code = fmt.Sprintf("http_%d", status)
	}
	if len(e.Codes) == 0 {
		e.Codes = aadstsCodes(b.Description)
	}
	if !validClaims(e.Claims) {
		e.Claims = ""
	}
	return e
}

var (
	aadstsPattern      = regexp.MustCompile(`AADSTS(\d{4,7})`)
	traceIDPattern     = regexp.MustCompile(`Trace ID: ([0-9a-fA-F-]{36})`)
	correlationPattern = regexp.MustCompile(`Correlation ID: ([0-9a-fA-F-]{36})`)
)

// entraErrorFromCallback reads the error Entra sent the browser back with.
func entraErrorFromCallback(q url.Values) *EntraError {
	desc := q.Get("error_description")
	e := &EntraError{Code: q.Get("error"), Codes: aadstsCodes(desc)}
	if m := traceIDPattern.FindStringSubmatch(desc); m != nil {
		e.TraceID = m[1]
	}
	if m := correlationPattern.FindStringSubmatch(desc); m != nil {
		e.CorrelationID = m[1]
	}
	if c := q.Get("claims"); validClaims(c) {
		e.Claims = c
	}
	return e
}

func aadstsCodes(desc string) []int {
	var out []int
	for _, m := range aadstsPattern.FindAllStringSubmatch(desc, 3) {
		if n, err := strconv.Atoi(m[1]); err == nil && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// maxClaims bounds a claims challenge carried through a sign-in.
const maxClaims = 2048

// validClaims reports whether c is a claims request the portal may pass
// back to Entra: a JSON object, not too long.
func validClaims(c string) bool {
	if c == "" || len(c) > maxClaims {
		return false
	}
	var v map[string]any
	return json.Unmarshal([]byte(c), &v) == nil
}
