// Package veeamapi is a typed client for the Veeam Backup for Microsoft 365
// REST API v8, as a restore operator uses it.
//
// A Client holds the connection to one VB365 server. It obtains operator
// tokens (POST /v8/token with grant_type=operator, always with
// disable_antiforgery_token=true, since the tokens stay on the portal's
// server), refreshes and revokes them. Operator returns a view of the API
// that authenticates each call with a TokenSource, so that every call made for
// a user carries that user's own token; a 401 makes it ask the source for a
// fresh token once and try again.
//
// Every call has a deadline. Idempotent requests are retried at most twice on
// network errors, 429 and 502-504, honouring Retry-After; POSTs never are.
// Failures come back as *Error, which matches the sentinel errors (ErrNotFound,
// ErrForbidden, ErrUnavailable, ...) with errors.Is; the server's message is
// kept for logs, never for users. The client never logs and never reads the
// environment.
package veeamapi
