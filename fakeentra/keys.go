package fakeentra

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"slices"
)

// Tamper names a way to mint the next token wrongly, for tests that prove a
// relying party refuses it.
type Tamper string

// The ways a token can be minted wrongly.
const (
	TamperNone          Tamper = ""
	TamperIssuer        Tamper = "issuer"         // iss is another tenant's issuer
	TamperAudience      Tamper = "audience"       // aud is another application
	TamperExtraAudience Tamper = "extra-audience" // aud lists a second application too
	TamperExpired       Tamper = "expired"        // exp is in the past
	TamperNotYetValid   Tamper = "not-yet-valid"  // nbf and iat are in the future
	TamperAlgNone       Tamper = "alg-none"       // unsigned, alg=none
	TamperHS256         Tamper = "hs256"          // HMAC-signed with the RSA public key as the secret
	TamperUnknownKey    Tamper = "unknown-kid"    // signed by a key the JWKS does not publish
	TamperSignature     Tamper = "bad-signature"  // the signature does not match
	TamperNoNonce       Tamper = "no-nonce"       // the nonce claim is missing
	TamperNonce         Tamper = "wrong-nonce"    // the nonce claim differs from the request's
	TamperTenant        Tamper = "wrong-tenant"   // tid names another tenant
)

// TamperNextIDToken makes the next ID token this issuer mints wrong in the given way.
func (s *Server) TamperNextIDToken(t Tamper) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tamperID = t
}

// TamperNextAccessToken makes the next access token this issuer mints wrong in the given way.
func (s *Server) TamperNextAccessToken(t Tamper) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tamperAccess = t
}

const otherTenant = "0e1d2c3b-4a59-4687-9a0b-1c2d3e4f5a6b"

// applyClaimTamper changes claims for the tampers that concern claims.
func (s *Server) applyClaimTamper(t Tamper, claims map[string]any) {
	now := s.opts.Now().Unix()
	switch t {
	case TamperIssuer:
		claims["iss"] = s.opts.BaseURL + "/" + otherTenant + "/v2.0"
		claims["tid"] = otherTenant
	case TamperAudience:
		claims["aud"] = "00000000-1111-2222-3333-444444444444"
	case TamperExtraAudience:
		claims["aud"] = []string{claims["aud"].(string), "00000000-1111-2222-3333-444444444444"}
	case TamperExpired:
		claims["iat"], claims["nbf"], claims["exp"] = now-7200, now-7200, now-3600
	case TamperNotYetValid:
		claims["iat"], claims["nbf"], claims["exp"] = now+3600, now+3600, now+7200
	case TamperNoNonce:
		delete(claims, "nonce")
	case TamperNonce:
		claims["nonce"] = randomString(16)
	case TamperTenant:
		claims["tid"] = otherTenant
	}
}

// sign mints a JWT for claims, applying t.
func (s *Server) sign(claims map[string]any, t Tamper) (string, error) {
	s.applyClaimTamper(t, claims)
	s.mu.Lock()
	key, kid := s.key, s.kid
	s.mu.Unlock()
	header := map[string]any{"typ": "JWT", "alg": "RS256", "kid": kid}
	switch t {
	case TamperAlgNone:
		header = map[string]any{"typ": "JWT", "alg": "none"}
	case TamperHS256:
		header["alg"] = "HS256"
	case TamperUnknownKey:
		header["kid"] = randomString(16)
		other, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return "", err
		}
		key = other
	}
	h, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	p, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signingInput := b64(h) + "." + b64(p)
	var sig []byte
	switch t {
	case TamperAlgNone:
		sig = nil
	case TamperHS256:
		pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
		if err != nil {
			return "", err
		}
		mac := hmac.New(sha256.New, pub)
		mac.Write([]byte(signingInput))
		sig = mac.Sum(nil)
	default:
		digest := sha256.Sum256([]byte(signingInput))
		sig, err = rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
		if err != nil {
			return "", err
		}
		if t == TamperSignature {
			sig[len(sig)/2] ^= 0xff
		}
	}
	return signingInput + "." + b64(sig), nil
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func (s *Server) jwks(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	keys := []map[string]any{jwk(s.kid, &s.key.PublicKey, s.Issuer())}
	kids := make([]string, 0, len(s.retiredKeys))
	for kid := range s.retiredKeys {
		kids = append(kids, kid)
	}
	slices.Sort(kids)
	for _, kid := range kids {
		keys = append(keys, jwk(kid, &s.retiredKeys[kid].PublicKey, s.Issuer()))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"keys": keys})
}

func jwk(kid string, pub *rsa.PublicKey, issuer string) map[string]any {
	return map[string]any{
		"kty":    "RSA",
		"use":    "sig",
		"kid":    kid,
		"n":      b64(pub.N.Bytes()),
		"e":      b64(big.NewInt(int64(pub.E)).Bytes()),
		"issuer": issuer,
	}
}
