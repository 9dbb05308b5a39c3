// Package authn signs users in with Microsoft Entra ID and keeps their VB365
// operator token on the server.
//
// Sign-in is the OpenID Connect authorization code flow with PKCE (S256).
// Begin seals a login transaction (state, nonce, PKCE verifier, the validated
// return-to path) into a short-lived cookie of its own, so that visitors
// who are not signed in leave nothing on the server; Finish checks the state
// before any code is redeemed, verifies the ID token (issuer pinned to the
// tenant, audience, signature, expiry, nonce, tenant), exchanges the Entra
// access token for a VB365 operator token and renews the session id.
//
// The session record (scs) holds who signed in and is written once. The
// tokens, sealed, and the idle deadline live in the session's Record, which
// every replica of the portal reads and which changes on its own: the
// Authenticator is the TokenSource for VB365 calls; it refreshes the
// operator token before it expires, falls back to an Entra refresh and a
// new exchange when VB365 refuses the refresh, and when that fails too it
// ends the session so the user signs in again (ErrReauthenticate).
// Concurrent requests that need a new token, on one replica or several,
// share one renewal: the one that claims the Record's version renews it.
//
// Tokens never leave the server: the browser holds only the opaque session
// cookie. The package knows nothing of HTTP routing or HTML.
package authn
