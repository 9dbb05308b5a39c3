package handlers

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v5"
)

const prefsKey = "prefs"

// preferences are the user's display settings, kept in the session.
type preferences struct {
	TimeZone string `json:"tz,omitempty"`
	// Auto: the zone follows the browser's (set by the page's script), rather than chosen by hand.
	Auto bool `json:"auto"`
}

func (p preferences) zoneName() string {
	if p.TimeZone == "" {
		return "UTC"
	}
	return p.TimeZone
}

// prefs reads the session's preferences; without any, times are in UTC and
// follow the browser as soon as the page's script reports its zone.
func (h *Handler) prefs(c *echo.Context) preferences {
	p := preferences{Auto: true}
	if b := h.sessions.GetBytes(c.Request().Context(), prefsKey); len(b) > 0 {
		json.Unmarshal(b, &p)
	}
	return p
}

func (h *Handler) savePrefs(c *echo.Context, p preferences) {
	b, _ := json.Marshal(p)
	h.sessions.Put(c.Request().Context(), prefsKey, b)
}

// zone is the user's time zone.
func (h *Handler) zone(c *echo.Context) *time.Location {
	loc, err := h.loadZone(h.prefs(c).zoneName())
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
		p.Auto = true
	default:
		if _, err := h.loadZone(name); err != nil {
			return err
		}
		p = preferences{TimeZone: name, Auto: auto}
	}
	h.savePrefs(c, p)
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
