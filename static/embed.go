// Package static holds the portal's stylesheets and scripts, embedded in the
// binary: the portal's own files and htmx, vendored from npm at the version
// recorded in vendor.txt. No file is loaded from a CDN.
package static

import "embed"

// FS holds css/ and js/, each file also precompressed (name.gz, name.br).
//
//go:embed css js
var FS embed.FS

//go:generate go run gen.go
