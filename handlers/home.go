package handlers

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"github.com/labstack/echo/v5"

	"github.com/openrestore/portal/authn"
	"github.com/openrestore/portal/templates"
	"github.com/openrestore/portal/veeamapi"
)

// home handles GET /: the landing page for visitors; for a signed-in user,
// who they are, what they may restore and the restore points of a workload
// (?workload=&month=&day=). An htmx request gets the restore points region only.
func (h *Handler) home(c *echo.Context) error {
	ctx := c.Request().Context()
	u, err := h.auth.User(ctx)
	if err != nil {
		if isPartial(c) || c.Request().URL.RawQuery != "" {
			return signInRequired{err} // a deep link: sign in, then land on it
		}
		return h.landing(c, false)
	}
	h.setUser(c, u)
	loc := h.zone(c)
	pq, err := parsePointsQuery(c.QueryParams(), loc)
	if err != nil {
		return err
	}
	if pq.azure && isPartial(c) {
		return render(c, http.StatusOK, templates.AzureVMsRegion(h.azureVMsView(c)))
	}
	op := h.operator()
	if isPartial(c) {
		points, err := op.RestorePoints(ctx, veeamapi.RestorePointsOptions{})
		if err != nil {
			return err
		}
		v := buildPointsView(points, pq, loc)
		v.CSRFToken = h.csrfToken(ctx)
		v.Workloads = h.withAzureTab(c, v.Workloads, false)
		return render(c, http.StatusOK, templates.RestorePoints(v))
	}
	info, err := h.fetchHome(ctx, op)
	if err != nil {
		return err
	}
	v := templates.HomeView{
		Name: u.Name, UPN: u.UPN, BackupAccount: info.me.Name, IsOperator: info.operator.IsOperator,
		Scope:  scopeView(info.scope, u),
		Points: buildPointsView(info.points, pq, loc),
	}
	v.Points.CSRFToken = h.csrfToken(ctx)
	v.Points.Workloads = h.withAzureTab(c, v.Points.Workloads, false)
	if pq.azure {
		av := h.azureVMsView(c)
		v.Azure = &av
	}
	p := h.prefs(c)
	v.TimeZone = templates.TimeZoneView{Zone: zoneName(p), Auto: p.AutoZone, Choices: timeZoneChoices, CSRFToken: v.Points.CSRFToken}
	return render(c, http.StatusOK, templates.HomePage(h.meta(c, "Home"), v))
}

type homeInfo struct {
	me       *veeamapi.LoggedInUser
	operator *veeamapi.OperatorInfo
	scope    *veeamapi.EffectiveScope
	points   []veeamapi.RestorePoint
}

// fetchHome asks VB365 for the start page's four answers at once.
func (h *Handler) fetchHome(ctx context.Context, op *veeamapi.Operator) (homeInfo, error) {
	var (
		info homeInfo
		wg   sync.WaitGroup
		errs [4]error
	)
	wg.Go(func() { info.me, errs[0] = op.LoggedInUser(ctx) })
	wg.Go(func() { info.operator, errs[1] = op.OperatorInfo(ctx) })
	wg.Go(func() { info.scope, errs[2] = op.EffectiveScope(ctx) })
	wg.Go(func() { info.points, errs[3] = op.RestorePoints(ctx, veeamapi.RestorePointsOptions{}) })
	wg.Wait()
	return info, errors.Join(errs[:]...)
}

func (h *Handler) landing(c *echo.Context, signedOut bool) error {
	v := templates.LandingView{SignInURL: "/auth/login", SignedOut: signedOut, Demo: h.cfg.Demo}
	return render(c, http.StatusOK, templates.LandingPage(h.meta(c, "Sign in"), v))
}

// signedOut handles GET /signed-out, where Entra returns the browser after sign-out.
func (h *Handler) signedOut(c *echo.Context) error {
	return h.landing(c, true)
}

// scopeShown is how many objects of each kind the start page lists.
const scopeShown = 25

// scopeView summarises the effective scope. The user's own entry is marked;
// an end user's scope is only themself, said in words.
func scopeView(s *veeamapi.EffectiveScope, me *authn.User) templates.ScopeView {
	var v templates.ScopeView
	var users, groups, sites, teams []templates.ScopeEntry
	for _, it := range s.Users {
		name, detail := it.ID, ""
		if it.User != nil {
			name, detail = it.User.DisplayName, it.User.Name
		}
		if it.Type == veeamapi.ScopeGroup {
			groups = append(groups, templates.ScopeEntry{Name: name, Detail: detail})
			continue
		}
		if it.ID == me.OID {
			detail = "you"
		}
		users = append(users, templates.ScopeEntry{Name: name, Detail: detail})
	}
	for _, it := range s.Sites {
		e := templates.ScopeEntry{Name: it.ID}
		if it.Site != nil {
			e.Name = it.Site.Title
			if it.Site.URL != nil {
				e.Detail = *it.Site.URL
			}
		}
		sites = append(sites, e)
	}
	for _, it := range s.Teams {
		e := templates.ScopeEntry{Name: it.ID}
		if it.Team != nil {
			e.Name, e.Detail = it.Team.DisplayName, it.Team.Mail
		}
		teams = append(teams, e)
	}
	v.OnlySelf = len(groups) == 0 && len(sites) == 0 && len(users) == 1 && users[0].Detail == "you"
	if v.OnlySelf {
		users = nil
	}
	v.Users, v.MoreUsers = cap25(users)
	v.Groups, v.MoreGroups = cap25(groups)
	v.Sites, v.MoreSites = cap25(sites)
	v.Teams, v.MoreTeams = cap25(teams)
	return v
}

func cap25(e []templates.ScopeEntry) ([]templates.ScopeEntry, int) {
	if len(e) <= scopeShown {
		return e, 0
	}
	return e[:scopeShown], len(e) - scopeShown
}
