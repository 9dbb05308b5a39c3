package main

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/openrestore/portal/authn"
)

// credentials is the Entra application's credential, read from its files
// again whenever they change: a renewed client secret or certificate takes
// effect without a restart.
type credentials struct {
	secret            string // from the environment: fixed
	secretFile        string
	certFile, keyFile string
	mu                sync.Mutex
	stamp             string
	current           authn.Credential
}

// Current returns the credential, reading the files again if they changed.
func (c *credentials) Current() (authn.Credential, error) {
	if c.secretFile == "" && c.certFile == "" {
		return authn.Credential{Secret: c.secret}, nil
	}
	stamp, err := fileStamp(c.secretFile, c.certFile, c.keyFile)
	if err != nil {
		return authn.Credential{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if stamp == c.stamp {
		return c.current, nil
	}
	cred, err := c.read()
	if err != nil {
		return authn.Credential{}, err
	}
	c.stamp, c.current = stamp, cred
	return cred, nil
}

func (c *credentials) read() (authn.Credential, error) {
	if c.certFile == "" {
		b, err := os.ReadFile(c.secretFile)
		if err != nil {
			return authn.Credential{}, err
		}
		secret := strings.TrimSpace(string(b))
		if secret == "" {
			return authn.Credential{}, fmt.Errorf("%s is empty", c.secretFile)
		}
		return authn.Credential{Secret: secret}, nil
	}
	cert, key, err := readCertificate(c.certFile, c.keyFile)
	return authn.Credential{Certificate: cert, Key: key}, err
}

// fileStamp says when and how the files last changed.
func fileStamp(files ...string) (string, error) {
	var b strings.Builder
	for _, f := range files {
		if f == "" {
			continue
		}
		st, err := os.Stat(f)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "%s:%d:%d;", f, st.ModTime().UnixNano(), st.Size())
	}
	return b.String(), nil
}

// readCertificate reads a PEM certificate and its PEM private key (PKCS #8,
// PKCS #1 or EC; Entra's client assertions need RSA). The key may be in the
// certificate's file.
func readCertificate(certFile, keyFile string) (*x509.Certificate, crypto.Signer, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, nil, err
	}
	keyPEM := certPEM
	if keyFile != "" {
		if keyPEM, err = os.ReadFile(keyFile); err != nil {
			return nil, nil, err
		}
	}
	var cert *x509.Certificate
	for rest := certPEM; ; {
		var blk *pem.Block
		if blk, rest = pem.Decode(rest); blk == nil {
			break
		}
		if blk.Type == "CERTIFICATE" {
			if cert, err = x509.ParseCertificate(blk.Bytes); err != nil {
				return nil, nil, fmt.Errorf("%s: %w", certFile, err)
			}
			break
		}
	}
	if cert == nil {
		return nil, nil, fmt.Errorf("%s holds no PEM certificate", certFile)
	}
	var key crypto.Signer
	for rest := keyPEM; key == nil; {
		var blk *pem.Block
		if blk, rest = pem.Decode(rest); blk == nil {
			break
		}
		var k any
		switch blk.Type {
		case "PRIVATE KEY":
			k, err = x509.ParsePKCS8PrivateKey(blk.Bytes)
		case "RSA PRIVATE KEY":
			k, err = x509.ParsePKCS1PrivateKey(blk.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("the private key: %w", err)
		}
		key, _ = k.(crypto.Signer)
	}
	if key == nil {
		return nil, nil, errors.New("no PEM private key (PKCS #8 or RSA) found for the certificate")
	}
	if !publicKeysEqual(cert.PublicKey, key.Public()) {
		return nil, nil, errors.New("the private key is not the certificate's")
	}
	return cert, key, nil
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	ea, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && ea.Equal(b)
}
