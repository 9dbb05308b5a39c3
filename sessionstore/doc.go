// Package sessionstore is how the portal keeps what it holds for a user
// unreadable at rest: a codec that seals session data (and the watcher's
// token pairs) with AES-256-GCM under keys read from a file, the current
// key first, so that keys can be rotated. Where sealed data is stored is
// the store's business (store/sqlite).
package sessionstore
