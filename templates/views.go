// Package templates renders the portal's pages with templ. Components take
// view structs that handlers build from API types; formatting (dates in the
// user's time zone, labels, escaped paths) happens in that conversion, so the
// templates only loop and branch over ready values.
package templates

import (
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
