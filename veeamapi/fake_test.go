package veeamapi_test

import (
	"context"
	"errors"
	"testing"

	"github.com/openrestore/portal/demotenant"
	"github.com/openrestore/portal/fakeentra"
	"github.com/openrestore/portal/fakeveeam"
	"github.com/openrestore/portal/internal/spectest"
	"github.com/openrestore/portal/veeamapi"
)

// tokenHolder is the simplest TokenSource: one pair, refreshed through a Refresher.
type tokenHolder struct {
	tok *veeamapi.Token
	r   *veeamapi.Refresher
}

func (h *tokenHolder) Token(context.Context) (string, error) { return h.tok.AccessToken, nil }

func (h *tokenHolder) Refresh(ctx context.Context, _ string) (string, error) {
	tok, err := h.r.Refresh(ctx, h.tok.RefreshToken)
	if err != nil {
		return "", err
	}
	h.tok = tok
	return tok.AccessToken, nil
}

// TestAgainstTheFakeServer runs the client against fakeveeam, with every
// exchange checked against the OpenAPI document: the two independent readings
// of the spec have to agree with it and with each other.
func TestAgainstTheFakeServer(t *testing.T) {
	spec := spectest.Load(t)
	entra, err := fakeentra.Start("127.0.0.1:0", fakeentra.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer entra.Close()
	veeam, err := fakeveeam.Start("127.0.0.1:0", fakeveeam.Options{EntraAuthority: entra.Authority()})
	if err != nil {
		t.Fatal(err)
	}
	defer veeam.Close()
	c, err := veeamapi.New(veeam.URL(), veeamapi.WithTransport(spec.Transport(t, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()

	settings, err := c.RestorePortalSettings(ctx)
	if err != nil || settings.ApplicationID != demotenant.ApplicationID || settings.MSALAuthorityURI != entra.Authority() {
		t.Fatalf("settings = %+v, %v", settings, err)
	}
	lee, _ := demotenant.Contoso().User("LeeG@contoso.onmicrosoft.com")
	assertion, err := entra.AccessTokenFor(lee.UPN)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.OperatorToken(ctx, lee.OID, demotenant.TenantID, assertion)
	if err != nil {
		t.Fatal(err)
	}
	holder := &tokenHolder{tok: tok, r: veeamapi.NewRefresher(c)}
	op := c.Operator(holder)

	info, err := op.OperatorInfo(ctx)
	if err != nil || !info.IsOperator {
		t.Fatalf("operator info = %+v, %v", info, err)
	}
	scope, err := op.EffectiveScope(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var group *veeamapi.ScopeItem
	for i, it := range scope.Users {
		if it.Type == veeamapi.ScopeGroup {
			group = &scope.Users[i]
		}
	}
	if group == nil || len(scope.Sites) != 3 {
		t.Fatalf("scope = %+v", scope)
	}
	points, err := op.RestorePoints(ctx, veeamapi.RestorePointsOptions{ScopeItemID: group.ID})
	if err != nil || len(points) == 0 {
		t.Fatalf("points: %d, %v", len(points), err)
	}
	var mail veeamapi.RestorePoint
	for _, p := range points {
		if p.Covers(veeamapi.Exchange) {
			mail = p
		}
	}
	sess, err := op.Explore(ctx, veeamapi.ExploreOptions{
		Type: veeamapi.Exchange, DateTime: &mail.BackupTime, RepositoryID: mail.RepositoryID,
		Scope: &veeamapi.ScopeItem{Type: veeamapi.ScopeGroup, ID: group.ID},
	})
	if err != nil || sess.State != veeamapi.SessionWorking {
		t.Fatalf("explore = %+v, %v", sess, err)
	}
	var names []string
	for opts := (veeamapi.PageOptions{Limit: 2}); ; {
		p, err := op.Mailboxes(ctx, sess.ID, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range p.Results {
			names = append(names, m.Name)
		}
		next, ok := p.Next()
		if !ok {
			break
		}
		opts = next
	}
	if len(names) != 6 {
		t.Errorf("Sales mailboxes = %v", names)
	}
	if _, err := op.OneDrives(ctx, sess.ID, veeamapi.PageOptions{}); !errors.Is(err, veeamapi.ErrBadRequest) {
		t.Errorf("OneDrives in an Exchange session: %v", err)
	}

	// The token expires early on the server: the next call refreshes once and goes on.
	veeam.ExpireAccessTokens()
	if _, err := op.RestoreSession(ctx, sess.ID); err != nil {
		t.Fatalf("after server-side expiry: %v", err)
	}
	if n := veeam.TokenRequests("refresh_token"); n != 1 {
		t.Errorf("refreshes = %d, want 1", n)
	}
	if err := op.StopRestoreSession(ctx, sess.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := op.Mailboxes(ctx, sess.ID, veeamapi.PageOptions{}); !errors.Is(err, veeamapi.ErrConflict) {
		t.Errorf("listing a stopped session: %v", err)
	}
	events, err := op.RestoreSessionEvents(ctx, sess.ID, veeamapi.PageOptions{})
	if err != nil || len(events.Results) != 2 {
		t.Errorf("events = %+v, %v", events, err)
	}
	if err := c.Logout(ctx, holder.tok.AccessToken); err != nil {
		t.Fatal(err)
	}
	if _, err := op.LoggedInUser(ctx); !errors.Is(err, veeamapi.ErrGrantRejected) {
		t.Errorf("after logout: %v", err)
	}
}
