package veeamapi

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/openrestore/portal/internal/rest"
)

func TestActionsKeepTheNames(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string][]string{
		`{"save":{"uri":"/v8/x/save","method":"POST"},"exportToPst":{"uri":"/v8/x/e","method":"POST"}}`: {"save", "exportToPst"},
		` { "a\"b" : [1, {"c": "}"}], "n": null , "t":true,"num":-1.5e3 } `:                             {`a"b`, "n", "t", "num"},
		`{}`:   {},
		`null`: nil,
	} {
		var a Actions
		if err := json.Unmarshal([]byte(raw), &a); err != nil {
			t.Errorf("%s: %v", raw, err)
			continue
		}
		if !slices.Equal(a, want) || (a == nil) != (want == nil) {
			t.Errorf("%s: %q, want %q", raw, a, want)
		}
	}
	var it Item
	if err := json.Unmarshal([]byte(`{"id":"x","_actions":{"save":{}}}`), &it); err != nil || !it.Can("save") || it.Can("exportToPst") {
		t.Errorf("item actions: %v %v", it.Actions, err)
	}
	var a Actions
	if err := json.Unmarshal([]byte(`[1]`), &a); err == nil {
		t.Error("an array was taken for _actions")
	}
}

// FuzzActions checks the key scanner against the standard decoder.
func FuzzActions(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `{"a\u0041":{"x":[1,"]"]},"b":"c"}`, `{"":null}`, ` {"k" : "v\\" } ", "z":{}}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		var m map[string]json.RawMessage
		if json.Unmarshal([]byte(raw), &m) != nil || m == nil {
			return
		}
		var a, viaClient Actions
		if err := json.Unmarshal([]byte(raw), &a); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		if err := rest.Decode([]byte(raw), &viaClient); err != nil || !slices.Equal(a, viaClient) {
			t.Fatalf("%s: the client's decoder reads %q (%v), encoding/json %q", raw, viaClient, err, a)
		}
		for _, k := range a {
			if _, ok := m[k]; !ok {
				t.Fatalf("%s: found %q, which is not a key", raw, k)
			}
		}
		for k := range m {
			if !a.Has(k) {
				t.Fatalf("%s: missed the key %q", raw, k)
			}
		}
	})
}
