package fakeveeam_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/openrestore/portal/demotenant"
	"github.com/openrestore/portal/fakeentra"
	"github.com/openrestore/portal/fakeveeam"
	"github.com/openrestore/portal/internal/spectest"
)

const (
	adele  = "AdeleV@contoso.onmicrosoft.com"
	megan  = "MeganB@contoso.onmicrosoft.com"
	lee    = "LeeG@contoso.onmicrosoft.com"
	nestor = "NestorW@contoso.onmicrosoft.com"
	patti  = "PattiF@contoso.onmicrosoft.com"
)

type fixture struct {
	t     *testing.T
	entra *fakeentra.Server
	veeam *fakeveeam.Server
	http  *http.Client // checks requests and responses against the spec
	bad   *http.Client // for malformed requests: checks the responses only
	clock *clock
}

// clock is a settable clock shared by both fakes.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func setup(t *testing.T, opts fakeveeam.Options) *fixture {
	t.Helper()
	spec := spectest.Load(t)
	clk := &clock{now: time.Date(2026, 11, 20, 15, 4, 5, 0, time.UTC)}
	entra, err := fakeentra.Start("127.0.0.1:0", fakeentra.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { entra.Close() })
	opts.EntraAuthority = entra.Authority()
	if opts.Now == nil {
		opts.Now = clk.Now
	}
	veeam, err := fakeveeam.Start("127.0.0.1:0", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { veeam.Close() })
	return &fixture{t: t, entra: entra, veeam: veeam, clock: clk,
		http: &http.Client{Transport: spec.Transport(t, nil), Timeout: time.Minute},
		bad:  &http.Client{Transport: spec.ResponseTransport(t, nil), Timeout: time.Minute}}
}

type tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int    `json:"expires_in"`
	UserName     string `json:"userName"`
}

// grant asks for an operator token for upn and returns the status and body.
func (f *fixture) grant(upn string, form url.Values) (int, []byte) {
	f.t.Helper()
	assertion, err := f.entra.AccessTokenFor(upn)
	if err != nil {
		f.t.Fatal(err)
	}
	u, _ := demotenant.Contoso().User(upn)
	base := url.Values{
		"grant_type": {"operator"}, "client_id": {u.OID + "." + demotenant.TenantID},
		"assertion": {assertion}, "disable_antiforgery_token": {"true"},
	}
	for k, v := range form {
		base[k] = v
	}
	return f.post("/v8/token", "", "application/x-www-form-urlencoded", []byte(base.Encode()))
}

func (f *fixture) login(upn string) tokens {
	f.t.Helper()
	status, body := f.grant(upn, nil)
	if status != http.StatusOK {
		f.t.Fatalf("operator grant for %s: %d %s", upn, status, body)
	}
	var tok tokens
	if err := json.Unmarshal(body, &tok); err != nil {
		f.t.Fatal(err)
	}
	return tok
}

func (f *fixture) do(method, path, token, contentType string, body []byte) (int, []byte) {
	f.t.Helper()
	return f.send(f.http, method, path, token, contentType, body)
}

// malformed sends a request that breaks the spec on purpose.
func (f *fixture) malformed(method, path, token, contentType string, body []byte) (int, []byte) {
	f.t.Helper()
	return f.send(f.bad, method, path, token, contentType, body)
}

func (f *fixture) send(c *http.Client, method, path, token, contentType string, body []byte) (int, []byte) {
	f.t.Helper()
	req, err := http.NewRequest(method, f.veeam.URL()+path, bytes.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatalf("%s %s: reading the answer: %v", method, path, err)
	}
	return resp.StatusCode, b
}

func (f *fixture) get(path, token string) (int, []byte) { return f.do("GET", path, token, "", nil) }

func (f *fixture) post(path, token, contentType string, body []byte) (int, []byte) {
	return f.do("POST", path, token, contentType, body)
}

func (f *fixture) getJSON(path, token string, v any) {
	f.t.Helper()
	status, body := f.get(path, token)
	if status != http.StatusOK {
		f.t.Fatalf("GET %s: %d %s", path, status, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		f.t.Fatal(err)
	}
}

type session struct {
	ID        string `json:"id"`
	Type      string `json:"type"`
	State     string `json:"state"`
	ScopeName string `json:"scopeName"`
}

func (f *fixture) explore(token string, body any) (int, session) {
	f.t.Helper()
	b, _ := json.Marshal(body)
	status, resp := f.post("/v8/Organization/OperatorExplore", token, "application/json", b)
	var s session
	if status == http.StatusCreated {
		json.Unmarshal(resp, &s)
	}
	return status, s
}

// listAll pages through a listing one item per page, following _links.next.
func (f *fixture) listAll(path, token, field string) []string {
	f.t.Helper()
	var names []string
	next := path + "?limit=1"
	for pages := 0; next != ""; pages++ {
		if pages > 100 {
			f.t.Fatal("paging does not end")
		}
		var p struct {
			Results []map[string]any                 `json:"results"`
			Links   map[string]struct{ Href string } `json:"_links"`
		}
		f.getJSON(next, token, &p)
		for _, r := range p.Results {
			names = append(names, fmt.Sprint(r[field]))
		}
		next = p.Links["next"].Href
	}
	return names
}

func TestRestorePortalSettingsIsAnonymous(t *testing.T) {
	t.Parallel()
	f := setup(t, fakeveeam.Options{})
	var s struct {
		ApplicationID    string `json:"applicationId"`
		MSALAuthorityURI string `json:"msalAuthorityUri"`
		IsEnabled        bool   `json:"isEnabled"`
	}
	f.getJSON("/v8/RestorePortalSettings", "", &s)
	if s.ApplicationID != demotenant.ApplicationID || s.MSALAuthorityURI != f.entra.Authority() || !s.IsEnabled {
		t.Errorf("settings = %+v", s)
	}
}

func TestOperatorGrant(t *testing.T) {
	t.Parallel()
	f := setup(t, fakeveeam.Options{})
	tok := f.login(adele)
	if tok.ExpiresIn != 3600 || tok.UserName != adele || tok.RefreshToken == "" {
		t.Errorf("token response = %+v", tok)
	}
	var me struct{ ID, Name string }
	f.getJSON("/v8/Organization/LoggedInUser", tok.AccessToken, &me)
	if me.ID != demotenant.ID("user", adele) || me.Name != adele {
		t.Errorf("LoggedInUser = %+v", me)
	}

	u, _ := demotenant.Contoso().User(megan)
	refusals := []struct {
		name   string
		tamper fakeentra.Tamper
		form   url.Values
	}{
		{"another tenant's issuer", fakeentra.TamperIssuer, nil},
		{"another audience", fakeentra.TamperAudience, nil},
		{"two audiences", fakeentra.TamperExtraAudience, nil},
		{"expired", fakeentra.TamperExpired, nil},
		{"unsigned", fakeentra.TamperAlgNone, nil},
		{"hmac with the public key", fakeentra.TamperHS256, nil},
		{"unknown key", fakeentra.TamperUnknownKey, nil},
		{"bad signature", fakeentra.TamperSignature, nil},
		{"another tenant", fakeentra.TamperTenant, nil},
		{"client_id of someone else", "", url.Values{"client_id": {u.OID + "." + demotenant.TenantID}}},
		{"client_id without tenant", "", url.Values{"client_id": {demotenant.ID("user", adele)}}},
		{"no assertion", "", url.Values{"assertion": {""}}},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			f.entra.TamperNextAccessToken(tt.tamper)
			status, body := f.grant(adele, tt.form)
			if status != http.StatusBadRequest {
				t.Errorf("status %d (%s), want 400", status, body)
			}
		})
	}
}

func TestOAuthStyleTokenErrors(t *testing.T) {
	t.Parallel()
	f := setup(t, fakeveeam.Options{OAuthTokenErrors: true})
	f.entra.TamperNextAccessToken(fakeentra.TamperExpired)
	status, body := f.grant(adele, nil)
	var e struct{ Error string }
	json.Unmarshal(body, &e)
	if status != http.StatusBadRequest || e.Error != "invalid_grant" {
		t.Errorf("got %d %s, want 400 invalid_grant", status, body)
	}
}

func TestTokenLifecycle(t *testing.T) {
	t.Parallel()
	f := setup(t, fakeveeam.Options{TokenLifetime: 10 * time.Minute})
	tok := f.login(megan)
	refresh := func(rt string) (int, tokens) {
		status, body := f.post("/v8/token", "", "application/x-www-form-urlencoded",
			[]byte(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}.Encode()))
		var out tokens
		json.Unmarshal(body, &out)
		return status, out
	}

	f.clock.Advance(11 * time.Minute)
	if status, _ := f.get("/v8/Organization/LoggedInUser", tok.AccessToken); status != http.StatusUnauthorized {
		t.Errorf("expired token: status %d, want 401", status)
	}
	status, fresh := refresh(tok.RefreshToken)
	if status != http.StatusOK {
		t.Fatalf("refresh: %d", status)
	}
	if status, _ := refresh(tok.RefreshToken); status != http.StatusBadRequest {
		t.Errorf("reused refresh token: status %d, want 400", status)
	}
	if status, _ := f.get("/v8/Organization/LoggedInUser", fresh.AccessToken); status != http.StatusOK {
		t.Errorf("refreshed token: status %d", status)
	}
	if n := f.veeam.TokenRequests("refresh_token"); n != 2 {
		t.Errorf("refresh requests = %d, want 2", n)
	}

	// Logout revokes the whole family, including the refresh token.
	if status, _ := f.post("/v8/token/logout", fresh.AccessToken, "", nil); status != http.StatusNoContent {
		t.Fatalf("logout: %d", status)
	}
	if status, _ := f.get("/v8/Organization/LoggedInUser", fresh.AccessToken); status != http.StatusUnauthorized {
		t.Errorf("after logout: status %d, want 401", status)
	}
	if status, _ := refresh(fresh.RefreshToken); status != http.StatusBadRequest {
		t.Errorf("refresh after logout: status %d, want 400", status)
	}
	if !f.veeam.LoggedOut(demotenant.ID("user", megan)) {
		t.Error("LoggedOut = false")
	}
}

func TestAntiforgeryUnlessDisabled(t *testing.T) {
	t.Parallel()
	f := setup(t, fakeveeam.Options{})
	status, body := f.grant(adele, url.Values{"disable_antiforgery_token": {"false"}})
	if status != http.StatusOK {
		t.Fatalf("grant: %d", status)
	}
	var tok tokens
	json.Unmarshal(body, &tok)
	if status, _ := f.get("/v8/Organization/LoggedInUser", tok.AccessToken); status != http.StatusBadRequest {
		t.Errorf("call without the antiforgery token: status %d, want 400", status)
	}
}

type scopeJSON struct {
	Users []struct {
		Type string
		ID   string
		User struct{ DisplayName string }
	}
	Sites []struct {
		Site struct{ Title string }
	}
	Teams []struct {
		Team struct{ DisplayName string }
	}
}

func (s scopeJSON) names() (users, groups, sites, teams []string) {
	for _, u := range s.Users {
		if u.Type == "Group" {
			groups = append(groups, u.User.DisplayName)
		} else {
			users = append(users, u.User.DisplayName)
		}
	}
	for _, x := range s.Sites {
		sites = append(sites, x.Site.Title)
	}
	for _, x := range s.Teams {
		teams = append(teams, x.Team.DisplayName)
	}
	return
}

func TestEffectiveScope(t *testing.T) {
	t.Parallel()
	f := setup(t, fakeveeam.Options{})
	everyone := func(except ...string) []string {
		var out []string
		for _, u := range demotenant.Contoso().Users {
			if !slices.Contains(except, u.DisplayName) {
				out = append(out, u.DisplayName)
			}
		}
		slices.Sort(out)
		return out
	}
	tests := []struct {
		upn                         string
		operator                    bool
		users, groups, sites, teams []string
	}{
		{adele, false, []string{"Adele Vance"}, nil, nil, []string{"Contoso Launch 2024", "Mark 8 Project Team", "Retail"}},
		{lee, true,
			[]string{"Alex Wilber", "Isaiah Langer", "Lee Gu", "Megan Bowen", "Miriam Graham"}, []string{"Sales"},
			[]string{"Sales and Marketing", "Sales Proposals", "Proposals Archive"}, []string{"Sales and Marketing"}},
		{nestor, true, everyone("Patti Fernandez"), []string{"Engineering", "Finance", "Legal", "Retail", "Sales", "Web team"},
			[]string{"Contoso Intranet", "Legal", "Mark 8 Project Team", "Retail", "Sales and Marketing", "Sales Proposals", "Proposals Archive"},
			[]string{"Contoso Launch 2024", "Legal Hold", "Mark 8 Project Team", "Retail", "Sales and Marketing"}},
	}
	for _, tt := range tests {
		t.Run(tt.upn, func(t *testing.T) {
			tok := f.login(tt.upn)
			var info struct{ IsOperator bool }
			f.getJSON("/v8/Organization/LoggedInUser/OperatorInfo", tok.AccessToken, &info)
			if info.IsOperator != tt.operator {
				t.Errorf("isOperator = %v", info.IsOperator)
			}
			var sc scopeJSON
			f.getJSON("/v8/Organization/LoggedInUser/EffectiveScope", tok.AccessToken, &sc)
			users, groups, sites, teams := sc.names()
			if diff := cmp.Diff(tt.users, users); diff != "" {
				t.Errorf("users (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.groups, groups); diff != "" {
				t.Errorf("groups (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.sites, sites); diff != "" {
				t.Errorf("sites (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.teams, teams); diff != "" {
				t.Errorf("teams (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRestorePoints(t *testing.T) {
	t.Parallel()
	f := setup(t, fakeveeam.Options{})
	tok := f.login(adele)
	var points []struct {
		ID                                            string
		BackupTime                                    time.Time
		IsExchange, IsOneDrive, IsSharePoint, IsTeams bool
	}
	f.getJSON("/v8/Organization/LoggedInUser/RestorePoints", tok.AccessToken, &points)
	now := f.clock.Now()
	counts := map[string]int{}
	days := map[string]bool{}
	for i, p := range points {
		if p.BackupTime.After(now) || p.BackupTime.Before(now.Add(-30*24*time.Hour)) {
			t.Errorf("point %s at %s is outside the last 30 days", p.ID, p.BackupTime)
		}
		if i > 0 && p.BackupTime.Before(points[i-1].BackupTime) {
			t.Error("points are not in time order")
		}
		for name, on := range map[string]bool{"exchange": p.IsExchange, "onedrive": p.IsOneDrive, "sharepoint": p.IsSharePoint, "teams": p.IsTeams} {
			if on {
				counts[name]++
			}
		}
		days[p.BackupTime.Format("2006-01-02")] = true
	}
	for _, w := range []string{"exchange", "onedrive", "sharepoint", "teams"} {
		if counts[w] < 25 {
			t.Errorf("%s has %d points over 30 days", w, counts[w])
		}
	}
	if len(days) < 29 {
		t.Errorf("points on %d days", len(days))
	}
	// Another user's object is out of Adele's scope.
	if status, _ := f.get("/v8/Organization/LoggedInUser/RestorePoints?rbacItem="+demotenant.ID("user", megan), tok.AccessToken); status != http.StatusForbidden {
		t.Errorf("rbacItem out of scope: status %d, want 403", status)
	}
}

func TestExploreShowsOnlyWhatIsInScope(t *testing.T) {
	t.Parallel()
	f := setup(t, fakeveeam.Options{})
	sales := demotenant.ID("group", "Sales")
	tests := []struct {
		name  string
		upn   string
		body  map[string]any
		path  string
		field string
		want  []string
	}{
		{"end user mail", adele, map[string]any{"type": "Vex"}, "organization/mailboxes", "name",
			[]string{"Adele Vance", "In-Place Archive - Adele Vance"}},
		{"end user onedrive", adele, map[string]any{"type": "Veod"}, "Organization/OneDrives", "name", []string{"Adele Vance"}},
		{"end user teams", adele, map[string]any{"type": "Vet"}, "organization/teams", "displayName",
			[]string{"Contoso Launch 2024", "Mark 8 Project Team", "Retail"}},
		{"helpdesk mail", lee, map[string]any{"type": "Vex"}, "organization/mailboxes", "name",
			[]string{"Alex Wilber", "Isaiah Langer", "Lee Gu", "Megan Bowen", "In-Place Archive - Megan Bowen", "Miriam Graham", "In-Place Archive - Miriam Graham"}},
		{"helpdesk mail for the Sales group", lee, map[string]any{"type": "Vex", "scope": map[string]any{"type": "Group", "id": sales}},
			"organization/mailboxes", "name",
			[]string{"Alex Wilber", "Isaiah Langer", "Megan Bowen", "In-Place Archive - Megan Bowen", "Miriam Graham", "In-Place Archive - Miriam Graham"}},
		{"helpdesk sites", lee, map[string]any{"type": "Vesp"}, "Organization/Sites", "name",
			[]string{"Sales and Marketing", "Sales Proposals", "Proposals Archive"}},
		{"helpdesk top-level sites", lee, map[string]any{"type": "Vesp"}, "Organization/Sites?parentId=root", "name",
			[]string{"Sales and Marketing", "Sales Proposals"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := f.login(tt.upn)
			status, s := f.explore(tok.AccessToken, tt.body)
			if status != http.StatusCreated || s.State != "Working" {
				t.Fatalf("explore: %d %+v", status, s)
			}
			path, query, _ := strings.Cut(tt.path, "?")
			var got []string
			if query != "" {
				var p struct{ Results []map[string]any }
				f.getJSON("/v8/RestoreSessions/"+s.ID+"/"+path+"?"+query, tok.AccessToken, &p)
				for _, r := range p.Results {
					got = append(got, fmt.Sprint(r[tt.field]))
				}
			} else {
				got = f.listAll("/v8/RestoreSessions/"+s.ID+"/"+path, tok.AccessToken, tt.field)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("listing (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExploreRefusesOutOfScope(t *testing.T) {
	t.Parallel()
	f := setup(t, fakeveeam.Options{})
	tests := []struct {
		upn   string
		scope map[string]any
	}{
		{adele, map[string]any{"type": "User", "id": demotenant.ID("user", megan)}},
		{lee, map[string]any{"type": "User", "id": demotenant.ID("user", adele)}},
		{lee, map[string]any{"type": "Site", "id": demotenant.ID("site", "https://contoso.sharepoint.com/sites/Legal")}},
		{nestor, map[string]any{"type": "User", "id": demotenant.ID("user", patti)}},
		{nestor, map[string]any{"type": "User", "id": "not-a-user"}},
	}
	for _, tt := range tests {
		tok := f.login(tt.upn)
		if status, _ := f.explore(tok.AccessToken, map[string]any{"type": "Vex", "scope": tt.scope}); status != http.StatusForbidden {
			t.Errorf("%s exploring %v: status %d, want 403", tt.upn, tt.scope, status)
		}
	}
}

func TestExploreValidation(t *testing.T) {
	t.Parallel()
	f := setup(t, fakeveeam.Options{})
	tok := f.login(adele)
	for _, body := range []string{
		`{}`,
		`{"type": "Vxx"}`,
		`{"type": "Vex", "dateTime": "2020-01-01T00:00:00Z"}`,
		`{"type": "Vex"`,
	} {
		if status, _ := f.malformed("POST", "/v8/Organization/OperatorExplore", tok.AccessToken, "application/json", []byte(body)); status != http.StatusBadRequest {
			t.Errorf("explore %s: status %d, want 400", body, status)
		}
	}
}

func TestExplorePicksThePointAtOrBefore(t *testing.T) {
	t.Parallel()
	f := setup(t, fakeveeam.Options{})
	tok := f.login(adele)
	var points []struct {
		BackupTime time.Time
		IsExchange bool
	}
	f.getJSON("/v8/Organization/LoggedInUser/RestorePoints", tok.AccessToken, &points)
	var mail []time.Time
	for _, p := range points {
		if p.IsExchange {
			mail = append(mail, p.BackupTime)
		}
	}
	want := mail[len(mail)-5]
	status, s := f.explore(tok.AccessToken, map[string]any{"type": "Vex", "dateTime": want.Add(time.Minute)})
	if status != http.StatusCreated {
		t.Fatalf("explore: %d", status)
	}
	got := f.veeam.RestoreSessions(demotenant.ID("user", adele))
	if len(got) != 1 || !got[0].PointTime.Equal(want) || got[0].ID != s.ID {
		t.Errorf("sessions = %+v, want one at %s", got, want)
	}
}

func TestRestoreSessionLifecycle(t *testing.T) {
	t.Parallel()
	f := setup(t, fakeveeam.Options{SessionIdleTimeout: 30 * time.Minute, TokenLifetime: 4 * time.Hour})
	tok := f.login(adele)
	other := f.login(megan)
	_, s := f.explore(tok.AccessToken, map[string]any{"type": "Vex", "reason": "lost mail"})
	path := "/v8/RestoreSessions/" + s.ID

	if status, _ := f.get(path, other.AccessToken); status != http.StatusNotFound {
		t.Errorf("another user's session: status %d, want 404", status)
	}
	if status, _ := f.get(path+"/Organization/OneDrives", tok.AccessToken); status != http.StatusBadRequest {
		t.Errorf("OneDrives in an Exchange session: status %d, want 400", status)
	}
	if status, _ := f.malformed("GET", "/v8/RestoreSessions/not-a-uuid", tok.AccessToken, "", nil); status != http.StatusBadRequest {
		t.Errorf("malformed id: status %d, want 400", status)
	}

	// Use keeps it alive; idleness stops it.
	f.clock.Advance(20 * time.Minute)
	f.getJSON(path, tok.AccessToken, &s)
	f.clock.Advance(20 * time.Minute)
	f.getJSON(path, tok.AccessToken, &s)
	if s.State != "Working" {
		t.Fatalf("state after use = %s", s.State)
	}
	f.clock.Advance(31 * time.Minute)
	f.getJSON(path, tok.AccessToken, &s)
	if s.State != "Stopped" {
		t.Errorf("state after 31 idle minutes = %s, want Stopped", s.State)
	}
	if status, _ := f.get(path+"/organization/mailboxes", tok.AccessToken); status != http.StatusConflict {
		t.Errorf("listing in a stopped session: status %d, want 409", status)
	}

	_, s2 := f.explore(tok.AccessToken, map[string]any{"type": "Vet"})
	if status, _ := f.post("/v8/RestoreSessions/"+s2.ID+"/Stop", tok.AccessToken, "", nil); status != http.StatusNoContent {
		t.Errorf("stop: %d", status)
	}
	var events struct {
		Results []struct{ Title, Status string }
	}
	f.getJSON("/v8/RestoreSessions/"+s2.ID+"/Events", tok.AccessToken, &events)
	if len(events.Results) != 2 || events.Results[1].Title != "Restore session stopped" {
		t.Errorf("events = %+v", events.Results)
	}
}

func TestPagingParameters(t *testing.T) {
	t.Parallel()
	f := setup(t, fakeveeam.Options{})
	tok := f.login(nestor)
	_, s := f.explore(tok.AccessToken, map[string]any{"type": "Vex"})
	for _, q := range []string{"limit=0", "limit=10001", "offset=-1", "limit=abc"} {
		if status, _ := f.malformed("GET", "/v8/RestoreSessions/"+s.ID+"/organization/mailboxes?"+q, tok.AccessToken, "", nil); status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", q, status)
		}
	}
	all := f.listAll("/v8/RestoreSessions/"+s.ID+"/organization/mailboxes", tok.AccessToken, "name")
	if len(all) != 15+4 { // everyone but Patti, plus four archives
		t.Errorf("Nestor sees %d mailboxes: %v", len(all), all)
	}
	var p struct {
		Results []any
		Links   map[string]struct{ Href string } `json:"_links"`
	}
	f.getJSON("/v8/RestoreSessions/"+s.ID+"/organization/mailboxes?offset=100&limit=10", tok.AccessToken, &p)
	if len(p.Results) != 0 || p.Links["next"].Href != "" {
		t.Errorf("past the end: %d results, next %q", len(p.Results), p.Links["next"].Href)
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	f := setup(t, fakeveeam.Options{})
	tok := f.login(adele)
	remove := f.veeam.Inject(fakeveeam.Fault{Path: "/v8/Organization/LoggedInUser", Status: 503, ErrorCode: "ProxyOffline", Times: 1})
	if status, _ := f.get("/v8/Organization/LoggedInUser", tok.AccessToken); status != 503 {
		t.Errorf("injected 503: got %d", status)
	}
	if status, _ := f.get("/v8/Organization/LoggedInUser", tok.AccessToken); status != 200 {
		t.Errorf("after Times ran out: got %d", status)
	}
	remove()

	f.veeam.Inject(fakeveeam.Fault{Method: "GET", Path: "/v8/Organization/LoggedInUser/EffectiveScope", Reset: true})
	if _, err := http.Get(f.veeam.URL() + "/v8/Organization/LoggedInUser/EffectiveScope"); err == nil {
		t.Error("reset: the request succeeded")
	}
	f.veeam.ClearFaults()

	f.veeam.Inject(fakeveeam.Fault{Path: "/v8/Organization/LoggedInUser/OperatorInfo", Hang: true})
	c := &http.Client{Timeout: 200 * time.Millisecond}
	if _, err := c.Get(f.veeam.URL() + "/v8/Organization/LoggedInUser/OperatorInfo"); err == nil {
		t.Error("hang: the request succeeded")
	}
	f.veeam.ClearFaults()

	// Every request is logged with the operator whose token came with it.
	reqs := f.veeam.Requests()
	var adeles int
	for _, r := range reqs {
		if r.User == demotenant.ID("user", adele) {
			adeles++
		}
	}
	if adeles < 2 {
		t.Errorf("requests attributed to Adele: %d", adeles)
	}
}

// TestOperatorGrantTakesEitherTokenVersion: VB365 takes the access tokens
// of an application whose registration asks for version 1.0 tokens
// (Entra's default) as well as 2.0 ones, each with its own issuer and
// audience.
func TestOperatorGrantTakesEitherTokenVersion(t *testing.T) {
	t.Parallel()
	for _, version := range []int{1, 2} {
		entra, err := fakeentra.Start("127.0.0.1:0", fakeentra.Options{AccessTokenVersion: version})
		if err != nil {
			t.Fatal(err)
		}
		defer entra.Close()
		veeam, err := fakeveeam.Start("127.0.0.1:0", fakeveeam.Options{EntraAuthority: entra.Authority()})
		if err != nil {
			t.Fatal(err)
		}
		defer veeam.Close()
		assertion, err := entra.AccessTokenFor(adele)
		if err != nil {
			t.Fatal(err)
		}
		u, _ := demotenant.Contoso().User(adele)
		form := url.Values{"grant_type": {"operator"}, "client_id": {u.OID + "." + demotenant.TenantID},
			"assertion": {assertion}, "disable_antiforgery_token": {"true"}}
		resp, err := http.PostForm(veeam.URL()+"/v8/token", form)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("a version %d token: %d %s", version, resp.StatusCode, body)
		}
		// A token of the other issuer's keys is refused, whatever its version.
		other, _ := fakeentra.Start("127.0.0.1:0", fakeentra.Options{AccessTokenVersion: version})
		defer other.Close()
		forged, _ := other.AccessTokenFor(adele)
		form.Set("assertion", forged)
		resp, err = http.PostForm(veeam.URL()+"/v8/token", form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Errorf("a version %d token signed by other keys was taken", version)
		}
	}
}
