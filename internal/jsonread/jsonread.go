// Package jsonread decodes JSON as encoding/json does, in less than half
// the time: with github.com/go-json-experiment/json (what encoding/json/v2
// is while it needs GOEXPERIMENT), in one pass, with unknown members
// skipped without a copy. The options keep what encoding/json accepts:
// names in any case, a repeated name (the last wins) and invalid UTF-8
// (read as U+FFFD), which a backed-up name may hold.
package jsonread

import (
	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Unmarshal decodes b into v, as encoding/json.Unmarshal does.
func Unmarshal(b []byte, v any) error { return jsonv2.Unmarshal(b, v, options) }

var options = jsonv2.JoinOptions(jsonv2.MatchCaseInsensitiveNames(true),
	jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
