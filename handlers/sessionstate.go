package handlers

import (
	"encoding/json"

	"github.com/openrestore/portal/internal/jsonread"

	"github.com/labstack/echo/v5"

	"github.com/openrestore/portal/store"
)

// What a signed-in session holds besides its sign-in, each in rows of its
// own (see store.SessionState): two tabs changing them at once both count.
const (
	openedSet         = "opened_restore_sessions" // keyed by restore session id
	restoreListSet    = "restore_list"            // keyed by group and item
	actingForValue    = "acting_for"
	restoreListForm   = "restore_list_form" // a refused submit's form, until the page shows it
	restoreListRunKey = "restore_list_run"  // the last submit's runs
)

// sessionEntries reads a set of the signed-in session as values of T;
// entries that do not read as T are left out.
func sessionEntries[T any](c *echo.Context, st store.SessionState, set string) ([]T, error) {
	es, err := st.Entries(c.Request().Context(), userFrom(c).SID, set)
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(es))
	for _, e := range es {
		var v T
		if jsonread.Unmarshal(e.Value, &v) == nil {
			out = append(out, v)
		}
	}
	return out, nil
}

// entry makes a set's entry of v.
func (h *Handler) entry(key string, v any) store.Entry {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain data is kept
	}
	return store.Entry{Key: key, Value: b, Added: h.cfg.Now().UTC()}
}

// sessionValue reads a named value of the signed-in session into v, and
// reports whether there was one.
func (h *Handler) sessionValue(c *echo.Context, name string, v any) (bool, error) {
	b, err := h.store.Value(c.Request().Context(), userFrom(c).SID, name)
	if err != nil || b == nil {
		return false, err
	}
	return jsonread.Unmarshal(b, v) == nil, nil
}

// takeSessionValue is sessionValue that removes the value: one request gets it.
func (h *Handler) takeSessionValue(c *echo.Context, name string, v any) (bool, error) {
	b, err := h.store.TakeValue(c.Request().Context(), userFrom(c).SID, name)
	if err != nil || b == nil {
		return false, err
	}
	return jsonread.Unmarshal(b, v) == nil, nil
}

// setSessionValue stores v under name; nil removes it.
func (h *Handler) setSessionValue(c *echo.Context, name string, v any) error {
	var b []byte
	if v != nil {
		var err error
		if b, err = json.Marshal(v); err != nil {
			return err
		}
	}
	return h.store.SetValue(c.Request().Context(), userFrom(c).SID, name, b)
}
