package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/openrestore/portal/authn"
	"github.com/openrestore/portal/templates"
	"github.com/openrestore/portal/veeamapi"
)

func TestScopeView(t *testing.T) {
	t.Parallel()
	me := &authn.User{OID: "me"}
	str := func(s string) *string { return &s }
	selfOnly := &veeamapi.EffectiveScope{
		Users: []veeamapi.ScopeItem{{Type: veeamapi.ScopeUser, ID: "me", User: &veeamapi.ScopeUserInfo{DisplayName: "Adele Vance", Name: "adele@x"}}},
		Teams: []veeamapi.ScopeItem{{Type: veeamapi.ScopeTeam, ID: "t", Team: &veeamapi.ScopeTeamInfo{DisplayName: "Retail", Mail: "retail@x"}}},
	}
	v := scopeView(selfOnly, me)
	if !v.OnlySelf || len(v.Users) != 0 || len(v.Teams) != 1 {
		t.Errorf("end user scope = %+v", v)
	}

	helpdesk := &veeamapi.EffectiveScope{
		Users: []veeamapi.ScopeItem{
			{Type: veeamapi.ScopeGroup, ID: "g", User: &veeamapi.ScopeUserInfo{DisplayName: "Sales", Name: "sales@x"}},
			{Type: veeamapi.ScopeUser, ID: "u", User: &veeamapi.ScopeUserInfo{DisplayName: "Megan Bowen", Name: "megan@x"}},
			{Type: veeamapi.ScopeUser, ID: "me", User: &veeamapi.ScopeUserInfo{DisplayName: "Lee Gu", Name: "lee@x"}},
		},
		Sites: []veeamapi.ScopeItem{{Type: veeamapi.ScopeSite, ID: "s", Site: &veeamapi.ScopeSiteInfo{Title: "Sales", URL: str("https://x/sites/sales")}}},
	}
	v = scopeView(helpdesk, me)
	want := templates.ScopeView{
		Users:  []templates.ScopeEntry{{Name: "Megan Bowen", Detail: "megan@x"}, {Name: "Lee Gu", Detail: "you"}},
		Groups: []templates.ScopeEntry{{Name: "Sales", Detail: "sales@x"}},
		Sites:  []templates.ScopeEntry{{Name: "Sales", Detail: "https://x/sites/sales"}},
	}
	if diff := cmp.Diff(want, v); diff != "" {
		t.Errorf("helpdesk scope (-want +got):\n%s", diff)
	}

	var many veeamapi.EffectiveScope
	for i := range 40 {
		many.Users = append(many.Users, veeamapi.ScopeItem{Type: veeamapi.ScopeUser, ID: fmt.Sprint(i), User: &veeamapi.ScopeUserInfo{DisplayName: fmt.Sprint(i)}})
	}
	v = scopeView(&many, me)
	if len(v.Users) != scopeShown || v.MoreUsers != 40-scopeShown {
		t.Errorf("40 users: %d shown, %d more", len(v.Users), v.MoreUsers)
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err    error
		status int
	}{
		{&veeamapi.Error{StatusCode: 404, Code: "ResourceNotFound"}, 404},
		{&veeamapi.Error{StatusCode: 403, Code: "ResourceAccessDenied"}, 404},
		{&veeamapi.Error{StatusCode: 500}, 502},
		{&veeamapi.Error{StatusCode: 409, Code: "OperationConflict"}, 409},
		{fmt.Errorf("x: %w", veeamapi.ErrUnavailable), 502},
		{fmt.Errorf("x: %w", authn.ErrUnavailable), 502},
		{&authn.LoginError{Reason: authn.ReasonBadState, Status: 400, Err: errors.New("x")}, 400},
		{&authn.LoginError{Reason: authn.ReasonNotPermitted, Status: 403, Err: errors.New("x")}, 403},
		{badRequest("no"), 400},
		{errors.New("boom"), 500},
	}
	for _, tt := range tests {
		if got := classify(tt.err); got.Status != tt.status || got.Message == "" || got.Title == "" {
			t.Errorf("classify(%v) = %d %q", tt.err, got.Status, got.Title)
		}
	}
	for _, err := range []error{authn.ErrNoSession, authn.ErrReauthenticate, fmt.Errorf("x: %w", authn.ErrSessionExpired), signInRequired{errors.New("x")}} {
		if !needsSignIn(err) {
			t.Errorf("needsSignIn(%v) = false", err)
		}
	}
}

func TestClientIP(t *testing.T) {
	t.Parallel()
	h := &Handler{cfg: Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}}
	tests := []struct {
		remote, xff, want string
	}{
		{"203.0.113.7:5000", "", "203.0.113.7"},
		{"203.0.113.7:5000", "198.51.100.1", "203.0.113.7"}, // an untrusted peer cannot claim another address
		{"10.1.2.3:5000", "198.51.100.1", "198.51.100.1"},
		{"10.1.2.3:5000", "6.6.6.6, 198.51.100.1, 10.9.9.9", "198.51.100.1"},
		{"10.1.2.3:5000", "garbage", "10.1.2.3"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = tt.remote
		if tt.xff != "" {
			r.Header.Set("X-Forwarded-For", tt.xff)
		}
		if got := h.clientIP(r); got != tt.want {
			t.Errorf("clientIP(%s, %q) = %s, want %s", tt.remote, tt.xff, got, tt.want)
		}
	}
}

func TestValidZoneName(t *testing.T) {
	t.Parallel()
	for name, ok := range map[string]bool{
		"Europe/Berlin": true, "America/Argentina/Buenos_Aires": true, "Etc/GMT+5": true, "UTC": true,
		"": false, "Local": false, "../etc/passwd": false, "/etc/localtime": false, "Europe/Berlin\x00": false,
	} {
		if validZoneName(name) != ok {
			t.Errorf("validZoneName(%q) = %v", name, !ok)
		}
	}
}

func TestBackgroundPolls(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		method, hx, trigger string
		want                bool
	}{
		{"GET", "true", "notices", true},
		{"GET", "true", "list-runs", true},
		{"GET", "true", "restore-progress", true},
		{"GET", "true", "item-list", false}, // a click
		{"GET", "", "notices", false},
		{"POST", "true", "notices", false},
	} {
		r := httptest.NewRequest(c.method, "/notices", nil)
		if c.hx != "" {
			r.Header.Set("HX-Request", c.hx)
		}
		r.Header.Set("HX-Trigger", c.trigger)
		if got := backgroundPoll(r); got != c.want {
			t.Errorf("%+v: %v", c, got)
		}
	}
}
