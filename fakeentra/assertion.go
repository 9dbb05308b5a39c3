package fakeentra

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // x5t is a SHA-1 thumbprint by definition
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// clientAssertionType is the client_assertion_type of private_key_jwt.
const clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// AddClientCertificate registers a certificate whose private key may sign
// the application's client assertions (private_key_jwt), as uploading it
// under Certificates & secrets does.
func (s *Server) AddClientCertificate(cert *x509.Certificate) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.certs = append(s.certs, cert)
}

// assertionError is why a client assertion is refused, with its AADSTS code.
type assertionError struct {
	code int
	msg  string
}

func (e *assertionError) Error() string { return e.msg }

// checkAssertion verifies a client assertion as Entra does: signed (RS256
// or PS256) by a registered certificate named by its x5t#S256 or x5t
// thumbprint, for this token endpoint, by and about the application, in
// its validity, and used once.
func (s *Server) checkAssertion(raw, clientID string, now time.Time) error {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return &assertionError{50027, "JWT token is invalid or malformed."}
	}
	var header struct {
		Alg     string `json:"alg"`
		X5t     string `json:"x5t"`
		X5tS256 string `json:"x5t#S256"`
	}
	var claims struct {
		Aud any    `json:"aud"`
		Iss string `json:"iss"`
		Sub string `json:"sub"`
		Jti string `json:"jti"`
		Exp int64  `json:"exp"`
		Nbf int64  `json:"nbf"`
	}
	if decodeSegment(parts[0], &header) != nil || decodeSegment(parts[1], &claims) != nil {
		return &assertionError{50027, "JWT token is invalid or malformed."}
	}
	cert := s.certByThumbprint(header.X5t, header.X5tS256)
	if cert == nil {
		return &assertionError{700027, "The certificate with identifier used to sign the client assertion is not registered on application."}
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if !ok || err != nil {
		return &assertionError{700027, "Client assertion failed signature validation."}
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	switch header.Alg {
	case "RS256":
		err = rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig)
	case "PS256":
		err = rsa.VerifyPSS(pub, crypto.SHA256, digest[:], sig, nil)
	default:
		err = errors.New("alg")
	}
	if err != nil {
		return &assertionError{700027, "Client assertion failed signature validation."}
	}
	tokenURL := s.Authority() + "/oauth2/v2.0/token"
	switch {
	case !audienceIs(claims.Aud, tokenURL):
		return &assertionError{700212, "No matching federated identity record found for presented assertion audience."}
	case claims.Iss != clientID || claims.Sub != clientID:
		return &assertionError{700021, "Client assertion application identifier doesn't match 'client_id' parameter."}
	case claims.Exp == 0 || !now.Before(time.Unix(claims.Exp, 0)):
		return &assertionError{700024, "Client assertion is not within its valid time range."}
	case claims.Nbf > 0 && now.Add(5*time.Minute).Before(time.Unix(claims.Nbf, 0)):
		return &assertionError{700024, "Client assertion is not within its valid time range."}
	case claims.Jti == "":
		return &assertionError{50027, "JWT token is invalid or malformed: no jti."}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.usedJTIs[claims.Jti] {
		return &assertionError{500132, "The assertion is not within its valid time range or was already used."}
	}
	s.usedJTIs[claims.Jti] = true
	return nil
}

func (s *Server) certByThumbprint(x5t, x5tS256 string) *x509.Certificate {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.certs {
		s1 := sha1.Sum(c.Raw) //nolint:gosec
		s256 := sha256.Sum256(c.Raw)
		if (x5tS256 != "" && x5tS256 == base64.RawURLEncoding.EncodeToString(s256[:])) ||
			(x5t != "" && x5t == base64.RawURLEncoding.EncodeToString(s1[:])) {
			return c
		}
	}
	return nil
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func audienceIs(aud any, want string) bool {
	switch a := aud.(type) {
	case string:
		return a == want
	case []any:
		return len(a) == 1 && a[0] == want
	}
	return false
}

// RemoveClientCertificates unregisters every certificate: assertions
// signed with them are refused from now on.
func (s *Server) RemoveClientCertificates() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.certs = nil
}
