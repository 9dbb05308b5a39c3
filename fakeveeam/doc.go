// Package fakeveeam is an in-memory Veeam Backup for Microsoft 365 REST API v8
// server for tests and the demo stack, seeded with the Contoso organisation.
//
// It reads the official OpenAPI document independently of the portal's client
// (it imports no client code), and its tests validate every response against
// that document. Paths are matched exactly as the document spells them,
// including its mixed casing (/organization/mailboxes, /Organization/OneDrives).
//
// It behaves like a real server where the portal can tell the difference:
// operator tokens are granted only for Entra access tokens whose signature,
// issuer, audience, expiry and scope check out and whose client_id is
// <oid>.<tid>; tokens expire and refresh tokens are single-use; restore
// sessions belong to the operator who opened them and stop when idle; every
// endpoint enforces the caller's restore-operator scope; listings page with
// offset, limit and relative _links. Latency and failures can be injected per
// request (status codes, hangs, connection resets, garbage bodies).
//
// Where the public material leaves a behaviour open, the fake takes the most
// plausible reading and says so in a comment citing api-notes §10.
package fakeveeam
