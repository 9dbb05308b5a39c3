// Package fakeentra is an OpenID Connect issuer shaped like Microsoft Entra ID
// v2.0, for tests and the demo stack.
//
// It serves one tenant at the tenant-specific paths Entra uses
// (<base>/<tid>/v2.0/.well-known/openid-configuration, <base>/<tid>/oauth2/v2.0/…,
// <base>/<tid>/discovery/v2.0/keys), shows an account picker instead of a
// password prompt, and issues RS256 ID tokens, access tokens and refresh tokens
// with Entra's claims. It refuses what Entra refuses: unknown clients, redirect
// URIs that are neither registered nor on a loopback host, authorization
// requests without a PKCE S256 challenge, wrong client secrets, wrong PKCE
// verifiers, expired or reused codes, and unknown or revoked refresh tokens.
// Errors carry Entra's AADSTS codes.
//
// Tests steer it through its Go API: they count token requests, revoke a
// user's refresh tokens, and have the next token minted wrongly (another
// issuer, audience or tenant, expired, unsigned, HMAC-signed, unknown key, bad
// signature, missing or wrong nonce) to prove that relying parties refuse it.
package fakeentra
