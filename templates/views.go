// Package templates renders the portal's pages with templ. Components take
// view structs that handlers build from API types; formatting (dates in the
// user's time zone, labels, escaped paths) happens in that conversion, so the
// templates only loop and branch over ready values.
package templates

import (
	"context"
	"io"
	"strconv"

	"github.com/a-h/templ"
)

// Ids of the regions htmx swaps; handlers use the same constants.
const (
	AlertsID        = "alerts"
	RestorePointsID = "restore-points"
	RootListID      = "root-list"
)

// Meta is what every page's layout needs.
type Meta struct {
	Title string
	// User is the signed-in user, nil on public pages.
	User *UserView
	// HXHeaders is the JSON object htmx sends as headers (the CSRF token), empty when signed out.
	HXHeaders string
	// CSRFToken is the hidden form field value for plain form posts.
	CSRFToken string
	// Demo shows the DEMO banner.
	Demo bool
	// Nav names the current section ("home"), for aria-current.
	Nav string
	// TimeZone is the zone dates are shown in; TimeZoneAuto says it follows the browser.
	TimeZone     string
	TimeZoneAuto bool
	// Wide lets the page use the whole window (the mailbox's three panes).
	Wide bool
	// Acting is whose data a helpdesk user has chosen to restore, or nil.
	Acting *ActingView
	// Assets maps a static file ("css/app.css") to its versioned URL.
	Assets func(name string) string
	// Azure: the portal serves Veeam Backup for Microsoft Azure too.
	Azure bool
	// AzureVMs: it restores Azure VMs' files too.
	AzureVMs bool
}

// UserView is the signed-in user as the header shows them.
type UserView struct {
	Name string
	UPN  string
	// Auditor: the user may read the audit trail.
	Auditor bool
	// Admin: the user administers the portal (Azure backup users).
	Admin bool
}

// ErrorView is an error page or alert.
type ErrorView struct {
	Status    int
	Title     string
	Message   string
	RequestID string
	// RetryURL offers "Try again" (a GET of the page that failed).
	RetryURL string
	// SignInURL offers "Sign in again".
	SignInURL string
	// BackURL leads back to where the user was.
	BackURL string
}

// LandingView is the public start page.
type LandingView struct {
	SignInURL string
	SignedOut bool
	Demo      bool
}

// u sanitizes a path or URL for an attribute that templ does not treat as a
// URL itself (hx-get, hx-post): javascript: and other schemes become harmless.
func u(s string) string { return string(templ.URL(s)) }

func count(n int) string { return strconv.Itoa(n) }

// icon shows the icon of an item or folder kind, drawn by the stylesheet
// (app.css, .i-*) so that a page of a hundred rows does not carry a
// hundred drawings; it is decoration, hidden from screen readers. A kind
// without an icon of its own shows the mail icon. Each icon's markup is
// made once.
func icon(kind string) templ.Component {
	if c, ok := icons[kind]; ok {
		return c
	}
	return icons["mail"]
}

// icons are the icons by kind; several kinds share one.
var icons = func() map[string]templ.Component {
	m := map[string]templ.Component{}
	for _, ic := range []struct {
		class string
		kinds []string
	}{
		{"meeting", []string{"meeting", "calendar"}},
		{"contact", []string{"contact", "contacts"}},
		{"task", []string{"task", "tasks"}},
		{"note", []string{"note", "notes"}},
		{"folder", []string{"folder", "library"}},
		{"list", []string{"list", "item"}},
		{"site", []string{"site"}},
		{"word", []string{"word"}},
		{"excel", []string{"excel"}},
		{"powerpoint", []string{"powerpoint"}},
		{"pdf", []string{"pdf"}},
		{"text", []string{"text"}},
		{"file", []string{"file"}},
		{"image", []string{"image"}},
		{"archive", []string{"archive"}},
		{"video", []string{"video"}},
		{"clip", []string{"clip"}},
		{"mail", []string{"mail"}},
	} {
		markup := `<span class="icon i-` + ic.class + `" aria-hidden="true"></span>`
		c := templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
			_, err := io.WriteString(w, markup)
			return err
		})
		for _, k := range ic.kinds {
			m[k] = c
		}
	}
	return m
}()
