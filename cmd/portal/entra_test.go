package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openrestore/portal/demotenant"
	"github.com/openrestore/portal/fakeentra"
)

// entraDue is past the Entra access token's renewal (55 minutes into its
// hour); longIdle keeps sessions that long idle.
const entraDue = 56 * time.Minute

var longIdle = map[string]string{"PORTAL_IDLE_TIMEOUT": "2h"}

// TestBothAccessTokenVersions: an application whose registration asks for
// version 1.0 access tokens (Entra's default) works end to end, as one
// asking for 2.0 does: VB365 takes either.
func TestBothAccessTokenVersions(t *testing.T) {
	t.Parallel()
	for _, version := range []int{1, 2} {
		s := startStack(t, stackOptions{entra: fakeentra.Options{AccessTokenVersion: version}})
		b := s.signedIn(adele)
		sid, _ := b.explore("exchange")
		if m := b.openMailbox(sid, "Adele Vance"); len(rowsOf(t, m.page)) == 0 {
			t.Errorf("version %d: an empty Inbox", version)
		}
	}
}

// TestConsentRequired: when nobody consented to the application for her,
// Entra asks; declining ends at a page that says so, accepting signs her in.
func TestConsentRequired(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{})
	s.entra.Fail(fakeentra.Failure{ConsentRequired: true})
	b := s.browser()
	consent, auth := b.pickAccount(adele, "/restores")
	if consent.StatusCode != http.StatusOK || !strings.Contains(consent.body, "Permissions requested") {
		t.Fatalf("no consent page: %d", consent.StatusCode)
	}
	declined := b.submitEntraForm(consent, auth, url.Values{"consent": {"decline"}})
	page := b.get(declined.Header.Get("Location"))
	if page.StatusCode != http.StatusForbidden || !strings.Contains(page.doc(t).Find("main").Text(), "Sign-in was cancelled") {
		t.Errorf("declined consent: %d %s", page.StatusCode, page.doc(t).Find("main").Text())
	}
	consent, auth = b.pickAccount(adele, "/restores")
	accepted := b.submitEntraForm(consent, auth, url.Values{"consent": {"accept"}})
	back := b.get(accepted.Header.Get("Location"))
	if back.StatusCode != http.StatusSeeOther || back.Header.Get("Location") != "/restores" {
		t.Errorf("accepted consent: %d to %q", back.StatusCode, back.Header.Get("Location"))
	}
}

// TestClaimsChallenge: Entra refuses to renew her tokens until she signs
// in with multi-factor authentication (interaction_required with a claims
// challenge). Her next request sends her through sign-in with the
// challenge's claims, and back to the page.
func TestClaimsChallenge(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{env: longIdle})
	b := s.signedIn(adele)
	s.entra.Fail(fakeentra.Failure{InteractionRequired: true})
	s.clock.Advance(entraDue)
	r := b.get("/restores")
	loc, _ := url.Parse(r.Header.Get("Location"))
	if r.StatusCode != http.StatusSeeOther || loc.Path != "/auth/login" || loc.Query().Get("claims") != fakeentra.ClaimsChallenge {
		t.Fatalf("after the challenge: %d to %q", r.StatusCode, r.Header.Get("Location"))
	}
	chosen, auth := b.pickAccount(adele, r.Header.Get("Location"))
	if auth.Query().Get("claims") != fakeentra.ClaimsChallenge {
		t.Errorf("the sign-in does not ask for the challenge's claims: %s", auth.RawQuery)
	}
	back := b.get(chosen.Header.Get("Location"))
	if back.StatusCode != http.StatusSeeOther || back.Header.Get("Location") != "/restores" {
		t.Fatalf("the sign-in with the claims: %d to %q", back.StatusCode, back.Header.Get("Location"))
	}
	s.clock.Advance(entraDue) // the next renewal passes: the challenge is met
	if r := b.get("/restores"); r.StatusCode != http.StatusOK {
		t.Errorf("after the challenge was met: %d", r.StatusCode)
	}
	if !strings.Contains(s.logs.String(), `"entra_error":"interaction_required","error_codes":[50076]`) {
		t.Error("the refusal is not logged with its error and codes")
	}
}

// TestEntraFailuresAtSignIn: each failure Entra answers with has its own
// page and next step; the log keeps Entra's error, codes and ids, never a
// code or a token.
func TestEntraFailuresAtSignIn(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{env: longIdle})
	for _, c := range []struct {
		name    string
		failure fakeentra.Failure
		status  int
		title   string
		log     string
	}{
		{"expired secret", fakeentra.Failure{ExpiredSecret: true}, http.StatusBadGateway, "The portal's sign-in is not set up correctly", `"entra_error":"invalid_client","error_codes":[7000222]`},
		{"Entra unavailable", fakeentra.Failure{Unavailable: true}, http.StatusBadGateway, "Microsoft sign-in is having trouble", `"entra_error":"temporarily_unavailable","error_codes":[90033]`},
	} {
		s.entra.Fail(c.failure)
		b := s.browser()
		chosen, _ := b.pickAccount(adele, "/auth/login")
		page := b.get(chosen.Header.Get("Location"))
		d := page.doc(t)
		if page.StatusCode != c.status || d.Find("h1").Text() != c.title || !strings.Contains(d.Find("main").Text(), "trace ID") {
			t.Errorf("%s: %d %q %q", c.name, page.StatusCode, d.Find("h1").Text(), d.Find("main").Text())
		}
		if !strings.Contains(s.logs.String(), c.log) {
			t.Errorf("%s: the log lacks %s", c.name, c.log)
		}
	}
	s.entra.Fail(fakeentra.Failure{})
	// An expired secret must not sign people out: it is the portal's fault.
	b := s.signedIn(adele)
	s.entra.Fail(fakeentra.Failure{ExpiredSecret: true})
	s.clock.Advance(entraDue)
	if r := b.get("/restores"); r.StatusCode != http.StatusOK {
		t.Errorf("with the secret expired, a signed-in page: %d", r.StatusCode)
	}
	if !strings.Contains(s.logs.String(), `"msg":"entra_client_misconfigured"`) {
		t.Error("the expired secret is not logged for the administrators")
	}
	for _, code := range s.entra.IssuedTokens() {
		if strings.Contains(s.logs.String(), code) {
			t.Error("a code or token is in the log")
		}
	}
}

// TestDisabledUserIsSignedOut: an account an administrator disables in
// Entra loses the portal at its first request after the Entra token is
// due, within the hour, whatever VB365 says.
func TestDisabledUserIsSignedOut(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{env: longIdle})
	b := s.signedIn(adele)
	s.entra.DisableUser(demotenant.ID("user", adele))
	if r := b.get("/restores"); r.StatusCode != http.StatusOK {
		t.Fatalf("before the Entra token is due: %d", r.StatusCode)
	}
	s.clock.Advance(entraDue)
	if r := b.get("/restores"); r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/auth/login") {
		t.Errorf("a disabled account's next request: %d to %q", r.StatusCode, r.Header.Get("Location"))
	}
	chosen, _ := s.browser().pickAccount(adele, "/auth/login")
	if chosen.StatusCode != http.StatusBadRequest || !strings.Contains(chosen.body, "AADSTS50057") {
		t.Errorf("a disabled account signing in: %d", chosen.StatusCode)
	}
}

// TestKeyRotationDuringASession: Entra rolls its signing key over and then
// retires the old one; signed-in people carry on (their next Entra token
// is signed with the new key, and VB365 takes it), and people sign in.
func TestKeyRotationDuringASession(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{env: longIdle})
	b := s.signedIn(adele)
	if err := s.entra.RotateKeys(); err != nil {
		t.Fatal(err)
	}
	s.entra.RetireKeys()
	s.clock.Advance(entraDue)
	if r := b.get("/restores"); r.StatusCode != http.StatusOK {
		t.Errorf("after the rotation: %d", r.StatusCode)
	}
	other := s.signedIn(lee)
	if _, r := other.explore("exchange"); r.StatusCode != http.StatusOK {
		t.Errorf("a sign-in after the rotation, then VB365: %d", r.StatusCode)
	}
}

// TestGroupsOverage: an auditor by group who is in 250 groups gets no
// groups claim (the overage); the portal reads her groups from Microsoft
// Graph and she reads the audit trail.
func TestGroupsOverage(t *testing.T) {
	t.Parallel()
	const auditors = "5b7a1c9d-40aa-4c2e-9f3e-0b1c3f5e3c0a"
	groups := []string{auditors}
	for i := range 249 {
		groups = append(groups, fmt.Sprintf("00000000-0000-4000-8000-%012d", i))
	}
	joniOID := demotenant.ID("user", joni)
	users := []fakeentra.User{{OID: joniOID, Name: "Joni Sherman", UPN: joni, Groups: groups}}
	s := startStack(t, stackOptions{entra: fakeentra.Options{Users: users}, env: map[string]string{"PORTAL_AUDITORS": auditors}})
	b := s.signedIn(joni)
	if r := b.get("/audit"); r.StatusCode != http.StatusOK {
		t.Errorf("an auditor by group, in 250 groups: %d", r.StatusCode)
	}
	if !strings.Contains(s.logs.String(), `"msg":"groups_overage","oid":"`+joniOID+`","groups":250`) {
		t.Error("the overage is not logged")
	}
}

// TestSignOutSendsLogoutHint: sign-out tells Entra which account, so it
// signs that one out without its account picker.
func TestSignOutSendsLogoutHint(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{})
	b := s.signedIn(adele)
	r := b.post("/auth/logout", nil)
	loc, _ := url.Parse(r.Header.Get("Location"))
	if loc == nil || loc.Query().Get("logout_hint") == "" {
		t.Errorf("sign-out went to %q", r.Header.Get("Location"))
	}
}

// TestAuthorityAndAPIScopeSettings: an authority copied with its /v2.0 or
// a trailing slash is normalised; an API scope that is not one is refused.
func TestAuthorityAndAPIScopeSettings(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	env := map[string]string{"PORTAL_VEEAM_URL": "https://vb365.example.com:4443", "PORTAL_CLIENT_SECRET": "s", "PORTAL_DATA_DIR": t.TempDir(),
		"PORTAL_AUTHORITY": " https://Login.MicrosoftOnline.com/" + strings.ToUpper(demotenant.TenantID) + "/v2.0/ ", "PORTAL_API_SCOPE": "api://restore.contoso.com/access_as_user"}
	if err := run(t.Context(), []string{"-print-config"}, func(k string) string { return env[k] }, &out, time.Now); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "https://login.microsoftonline.com/"+demotenant.TenantID+"\n") {
		t.Errorf("the authority is not normalised:\n%s", out.String())
	}
	env["PORTAL_API_SCOPE"] = "access_as_user"
	if err := run(t.Context(), []string{"-print-config"}, func(k string) string { return env[k] }, &out, time.Now); err == nil ||
		!strings.Contains(err.Error(), "PORTAL_API_SCOPE") {
		t.Errorf("a bad API scope: %v", err)
	}
}

// writeCertificate writes a new self-signed certificate and its key as
// PEM files and returns the certificate.
func writeCertificate(t *testing.T, certFile, keyFile string) *x509.Certificate {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "restore-portal"},
		NotBefore: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return cert
}

// TestCertificateCredential: the portal signs in with a certificate
// (private_key_jwt) instead of a client secret, and a renewed certificate
// written over the old files is used without a restart.
func TestCertificateCredential(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "portal.crt"), filepath.Join(dir, "portal.key")
	cert := writeCertificate(t, certFile, keyFile)
	s := startStack(t, stackOptions{env: map[string]string{"PORTAL_CLIENT_SECRET": "", "PORTAL_IDLE_TIMEOUT": "2h",
		"PORTAL_CLIENT_CERT_FILE": certFile, "PORTAL_CLIENT_KEY_FILE": keyFile}})
	s.entra.AddClientCertificate(cert)
	b := s.signedIn(adele)
	if _, r := b.explore("exchange"); r.StatusCode != http.StatusOK {
		t.Fatalf("signed in with a certificate, then VB365: %d", r.StatusCode)
	}
	// The certificate is renewed: the new one registered, the old one removed.
	s.entra.RemoveClientCertificates()
	s.entra.AddClientCertificate(writeCertificate(t, certFile, keyFile))
	s.clock.Advance(entraDue) // the Entra tokens are renewed, with the new certificate
	if r := b.get("/restores"); r.StatusCode != http.StatusOK {
		t.Errorf("after the certificate was renewed: %d", r.StatusCode)
	}
	if strings.Contains(s.logs.String(), "invalid_client") {
		t.Error("Entra refused the portal's certificate")
	}
	// A key that is not the certificate's is refused at start.
	other := filepath.Join(dir, "other.key")
	writeCertificate(t, filepath.Join(dir, "other.crt"), other)
	var out strings.Builder
	env := map[string]string{"PORTAL_VEEAM_URL": "https://vb365.example.com:4443", "PORTAL_DATA_DIR": t.TempDir(),
		"PORTAL_CLIENT_CERT_FILE": certFile, "PORTAL_CLIENT_KEY_FILE": other}
	if err := run(t.Context(), []string{"-print-config"}, func(k string) string { return env[k] }, &out, time.Now); err == nil ||
		!strings.Contains(err.Error(), "not the certificate's") {
		t.Errorf("a mismatched key: %v", err)
	}
}

// TestClaimsChallengeAtTheDirectory: Entra wants multi-factor
// authentication before giving a token for Microsoft Graph: the people
// search sends the administrator through sign-in with the challenge's
// claims and back to the search.
func TestClaimsChallengeAtTheDirectory(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{})
	b := s.signedIn(nestor)
	b.connectAzure()
	s.entra.Fail(fakeentra.Failure{InteractionRequired: true})
	search := "/admin/azure/users/new?kind=entra&people=meg"
	r := b.get(search)
	loc, _ := url.Parse(r.Header.Get("Location"))
	if r.StatusCode != http.StatusSeeOther || loc.Path != "/auth/login" || loc.Query().Get("claims") != fakeentra.ClaimsChallenge ||
		loc.Query().Get("return_to") != search {
		t.Fatalf("the search under a claims challenge: %d to %q", r.StatusCode, r.Header.Get("Location"))
	}
	chosen, _ := b.pickAccount(nestor, r.Header.Get("Location"))
	if back := b.get(chosen.Header.Get("Location")); back.Header.Get("Location") != search {
		t.Fatalf("after signing in again: %d to %q", back.StatusCode, back.Header.Get("Location"))
	}
	s.clock.Advance(30 * time.Second) // a fresh MFA code: VBAzure refuses one used before
	b.connectAzure()                  // a new session: VBAzure's connection was the old one's
	if page := b.get(search); page.StatusCode != http.StatusOK || !strings.Contains(page.body, "Megan Bowen") {
		t.Errorf("the search after the challenge: %d", page.StatusCode)
	}
}
