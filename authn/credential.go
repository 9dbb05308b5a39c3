package authn

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // Entra's x5t header is a SHA-1 thumbprint by definition
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"
)

// Credential proves the application to Entra's token endpoint: its client
// secret, or a certificate whose private key signs a client assertion
// (private_key_jwt), which Microsoft recommends over secrets.
type Credential struct {
	Secret      string
	Certificate *x509.Certificate
	Key         crypto.Signer
}

// clientAssertionType is the client_assertion_type of private_key_jwt.
const clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// credential is the application's credential now: Config.Credential's
// (read again as its files change), or the configured secret.
func (a *Authenticator) credential() (Credential, error) {
	if a.cfg.Credential != nil {
		return a.cfg.Credential()
	}
	return Credential{Secret: a.cfg.ClientSecret}, nil
}

// authenticateClient adds the application's credential to a token request.
func (a *Authenticator) authenticateClient(form map[string][]string, p *provider) error {
	c, err := a.credential()
	if err != nil {
		return err
	}
	if c.Certificate == nil {
		form["client_secret"] = []string{c.Secret}
		return nil
	}
	assertion, err := clientAssertion(c, p.clientID, p.oauth.Endpoint.TokenURL, a.cfg.Now())
	if err != nil {
		return err
	}
	form["client_assertion_type"] = []string{clientAssertionType}
	form["client_assertion"] = []string{assertion}
	return nil
}

// exchangeOptions are the credential's parameters of a code redemption,
// and the oauth2 configuration to redeem it with.
func (a *Authenticator) exchangeConfig(p *provider) (oauth2.Config, []oauth2.AuthCodeOption, error) {
	conf := p.oauth
	c, err := a.credential()
	if err != nil {
		return conf, nil, err
	}
	if c.Certificate == nil {
		conf.ClientSecret = c.Secret
		return conf, nil, nil
	}
	conf.ClientSecret = ""
	assertion, err := clientAssertion(c, p.clientID, conf.Endpoint.TokenURL, a.cfg.Now())
	if err != nil {
		return conf, nil, err
	}
	return conf, []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("client_assertion_type", clientAssertionType),
		oauth2.SetAuthURLParam("client_assertion", assertion)}, nil
}

// clientAssertion is the signed JWT of private_key_jwt, as Entra wants it:
// RS256 (PS256 with an RSA key is also taken; RS256 is what every tenant
// takes), the certificate's thumbprints in x5t and x5t#S256, the token
// endpoint as audience, the application as issuer and subject, a unique
// id, ten minutes of validity.
func clientAssertion(c Credential, clientID, tokenURL string, now time.Time) (string, error) {
	if _, ok := c.Key.Public().(*rsa.PublicKey); !ok {
		return "", errors.New("the certificate's key must be RSA")
	}
	sha1Sum := sha1.Sum(c.Certificate.Raw) //nolint:gosec
	sha256Sum := sha256.Sum256(c.Certificate.Raw)
	opts := (&jose.SignerOptions{}).WithType("JWT").
		WithHeader("x5t", base64.RawURLEncoding.EncodeToString(sha1Sum[:])).
		WithHeader("x5t#S256", base64.RawURLEncoding.EncodeToString(sha256Sum[:]))
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: c.Key}, opts)
	if err != nil {
		return "", err
	}
	claims := jwt.Claims{
		Issuer: clientID, Subject: clientID, Audience: jwt.Audience{tokenURL}, ID: randomToken(16),
		NotBefore: jwt.NewNumericDate(now), IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(10 * time.Minute)),
	}
	return jwt.Signed(signer).Claims(claims).Serialize()
}
