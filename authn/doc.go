// Package authn signs users in with Microsoft Entra ID and keeps their VB365
// operator token on the server.
//
// Sign-in is the OpenID Connect authorization code flow with PKCE (S256).
// Begin keeps a login transaction (state, nonce, PKCE verifier, the validated
// return-to path) in the server-side session; Finish checks the state before
// any code is redeemed, verifies the ID token (issuer pinned to the tenant,
// audience, signature, expiry, nonce, tenant), exchanges the Entra access
// token for a VB365 operator token and renews the session id.
//
// Afterwards the Authenticator is the TokenSource for VB365 calls: it refreshes
// the operator token before it expires, falls back to an Entra refresh and a
// new exchange when VB365 refuses the refresh, and when that fails too it ends
// the session so the user signs in again (ErrReauthenticate). Concurrent
// requests that need a new token share one renewal.
//
// Tokens never leave the server: the browser holds only the opaque session
// cookie. The package knows nothing of HTTP routing or HTML.
package authn
