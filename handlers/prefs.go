package handlers

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/openrestore/portal/authn"
	"github.com/openrestore/portal/store"
)

// prefsKey memoizes the signed-in person's preferences for a request.
const prefsKey = "prefs"

// defaultPrefs are a person's until they set any: times in UTC, following
// the browser's zone as soon as the page's script reports it.
var defaultPrefs = store.Preference{AutoZone: true}

// prefs reads the signed-in person's preferences, which are theirs
// wherever and however often they sign in; visitors get the defaults.
func (h *Handler) prefs(c *echo.Context) store.Preference {
	if p, ok := c.Get(prefsKey).(store.Preference); ok {
		return p
	}
	u := userFrom(c)
	if u == nil {
		return defaultPrefs
	}
	p, err := h.store.Preference(c.Request().Context(), u.TenantID, u.OID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		p = defaultPrefs
	case err != nil:
		h.log.WarnContext(c.Request().Context(), "preferences_unavailable", "error", err)
		return defaultPrefs
	}
	c.Set(prefsKey, p)
	return p
}

func (h *Handler) savePrefs(c *echo.Context, u *authn.User, p store.Preference) error {
	p.Updated = h.cfg.Now().UTC()
	if err := h.store.SetPreference(c.Request().Context(), u.TenantID, u.OID, p); err != nil {
		return err
	}
	c.Set(prefsKey, p)
	return nil
}

// followBrowserZone makes the browser's zone the person's, unless they
// chose one by hand.
func (h *Handler) followBrowserZone(c *echo.Context, u *authn.User, tz string) {
	p, err := h.store.Preference(c.Request().Context(), u.TenantID, u.OID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		p = defaultPrefs
	case err != nil:
		return
	}
	if p.AutoZone && p.TimeZone != tz {
		p.TimeZone = tz
		if err := h.savePrefs(c, u, p); err != nil {
			h.log.WarnContext(c.Request().Context(), "preferences_unsaved", "error", err)
		}
	}
}

// zone is the user's time zone.
func (h *Handler) zone(c *echo.Context) *time.Location {
	name := h.prefs(c).TimeZone
	if name == "" {
		return time.UTC
	}
	loc, err := h.loadZone(name)
	if err != nil {
		return time.UTC
	}
	return loc
}

// loadZone loads an IANA zone, caching it. Only names that look like zone
// names are tried, so user input never reaches the file system as a path.
func (h *Handler) loadZone(name string) (*time.Location, error) {
	if l, ok := h.zones.Load(name); ok {
		return l.(*time.Location), nil
	}
	if !validZoneName(name) {
		return nil, errUnknownZone
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, errUnknownZone
	}
	h.zones.Store(name, loc)
	return loc, nil
}

var errUnknownZone = badRequest("That time zone is unknown. Use a name such as Europe/Berlin or America/New_York.")

func validZoneName(name string) bool {
	if name == "" || len(name) > 64 || name == "Local" || strings.Contains(name, "..") || strings.HasPrefix(name, "/") {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/_+-", r)) {
			return false
		}
	}
	return true
}

// setTimeZone handles POST /preferences/timezone: the form on the start page,
// or the page script reporting the browser's zone (auto=1).
func (h *Handler) setTimeZone(c *echo.Context) error {
	name := strings.TrimSpace(c.FormValue("tz"))
	auto := c.FormValue("auto") == "1"
	p := h.prefs(c)
	switch {
	case name == "" && auto:
		// "Follow my browser" without a zone: the script sends it on the next page.
		p.AutoZone = true
	default:
		if _, err := h.loadZone(name); err != nil {
			return err
		}
		p.TimeZone, p.AutoZone = name, auto
	}
	if err := h.savePrefs(c, userFrom(c), p); err != nil {
		return err
	}
	if c.Request().Header.Get("X-CSRF-Token") != "" {
		return c.NoContent(http.StatusNoContent) // the page script reloads
	}
	return seeOther(c, "/")
}

// timeZoneChoices are offered in the preference form; any IANA name works.
var timeZoneChoices = []string{
	"UTC", "Europe/London", "Europe/Dublin", "Europe/Lisbon", "Europe/Paris", "Europe/Berlin", "Europe/Amsterdam",
	"Europe/Brussels", "Europe/Madrid", "Europe/Rome", "Europe/Zurich", "Europe/Vienna", "Europe/Stockholm",
	"Europe/Oslo", "Europe/Copenhagen", "Europe/Helsinki", "Europe/Warsaw", "Europe/Prague", "Europe/Athens",
	"Europe/Istanbul", "Europe/Kyiv", "Africa/Johannesburg", "Africa/Lagos", "Africa/Cairo", "Asia/Dubai",
	"Asia/Kolkata", "Asia/Singapore", "Asia/Shanghai", "Asia/Hong_Kong", "Asia/Tokyo", "Asia/Seoul",
	"Australia/Perth", "Australia/Sydney", "Pacific/Auckland", "America/Sao_Paulo", "America/Mexico_City",
	"America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Toronto",
	"America/Vancouver", "America/Anchorage", "Pacific/Honolulu",
}

// zoneName is the zone a person's times are shown in.
func zoneName(p store.Preference) string {
	if p.TimeZone == "" {
		return "UTC"
	}
	return p.TimeZone
}
