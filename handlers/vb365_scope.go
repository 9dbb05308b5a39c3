package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v5"

	"github.com/openrestore/portal/templates"
	"github.com/openrestore/portal/veeamapi"
)

// actingFor is one object of the operator's effective scope chosen on the
// scope page: restore sessions opened while it is set are narrowed to it.
type actingFor struct {
	Type   veeamapi.ScopeItemType `json:"type"`
	ID     string                 `json:"id"`
	Name   string                 `json:"name"`
	Detail string                 `json:"detail,omitempty"`
}

// actingFor is whose data the signed-in helpdesk user is restoring, nil
// for everything they may restore.
func (h *Handler) actingFor(c *echo.Context) (*actingFor, error) {
	var a actingFor
	if ok, err := h.sessionValue(c, actingForValue, &a); !ok || a.ID == "" {
		return nil, err
	}
	return &a, nil
}

// scopeEntry is an object of the effective scope as the scope page lists it.
type scopeEntry struct {
	item         veeamapi.ScopeItem
	kind         string
	name, detail string
}

var scopeKinds = map[veeamapi.ScopeItemType]string{veeamapi.ScopeUser: "Person", veeamapi.ScopeGroup: "Group",
	veeamapi.ScopeSite: "SharePoint site", veeamapi.ScopeTeam: "Team"}

func scopeEntries(s *veeamapi.EffectiveScope) []scopeEntry {
	var out []scopeEntry
	add := func(it veeamapi.ScopeItem) {
		e := scopeEntry{item: it, kind: scopeKinds[it.Type], name: it.ID}
		switch {
		case it.User != nil:
			e.name, e.detail = it.User.DisplayName, it.User.Name
		case it.Group != nil:
			e.name = it.Group.DisplayName
			if it.Group.Name != nil {
				e.detail = *it.Group.Name
			}
		case it.Site != nil:
			e.name = it.Site.Title
			if it.Site.URL != nil {
				e.detail = *it.Site.URL
			}
		case it.Team != nil:
			e.name, e.detail = it.Team.DisplayName, it.Team.Mail
		}
		if it.Type == veeamapi.ScopeGroup && it.User != nil {
			e.kind = "Group"
		}
		out = append(out, e)
	}
	for _, it := range s.Users {
		add(it)
	}
	for _, it := range s.Sites {
		add(it)
	}
	for _, it := range s.Teams {
		add(it)
	}
	return out
}

const scopePageSize = 25

// scopePage handles GET /scope[?q=&offset=]: the objects of the user's
// effective scope, searchable by name and address, to restore for.
func (h *Handler) scopePage(c *echo.Context) error {
	ctx := c.Request().Context()
	offset, err := parseOffset(c.QueryParam("offset"))
	if err != nil {
		return err
	}
	q := strings.TrimSpace(c.QueryParam("q"))
	if len(q) > 256 {
		return badRequest("The search is longer than 256 characters.")
	}
	scope, err := h.operator().EffectiveScope(ctx)
	if err != nil {
		return err
	}
	me := userFrom(c)
	current, err := h.actingFor(c)
	if err != nil {
		return err
	}
	v := templates.ScopePageView{Query: q, CSRFToken: h.csrfToken(ctx)}
	all := scopeEntries(scope)
	// An end user's scope is themself (and the teams they belong to).
	v.OnlySelf = len(scope.Sites) == 0 && len(scope.Users) == 1 && scope.Users[0].ID == me.OID
	var hits []scopeEntry
	lq := strings.ToLower(q)
	for _, e := range all {
		if q == "" || strings.Contains(strings.ToLower(e.name), lq) || strings.Contains(strings.ToLower(e.detail), lq) {
			hits = append(hits, e)
		}
	}
	for i := offset; i < len(hits) && i < offset+scopePageSize; i++ {
		e := hits[i]
		row := templates.ScopeRow{Kind: e.kind, Name: e.name, Detail: e.detail, Type: string(e.item.Type), ID: e.item.ID,
			Self: e.item.ID == me.OID, Current: current != nil && current.ID == e.item.ID}
		v.Rows = append(v.Rows, row)
	}
	switch {
	case len(hits) == 0 && q != "":
		v.Summary = "Nothing in your scope matches “" + q + "”."
	case len(hits) > 0:
		v.Summary = fmt.Sprintf("%s to %s of %s.", thousands(offset+1), thousands(offset+len(v.Rows)), thousands(len(hits)))
	}
	page := func(o int) string {
		p := url.Values{"offset": {strconv.Itoa(o)}}
		if q != "" {
			p.Set("q", q)
		}
		return "/scope?" + p.Encode()
	}
	if offset > 0 {
		v.PrevURL = page(max(offset-scopePageSize, 0))
	}
	if offset+scopePageSize < len(hits) {
		v.NextURL = page(offset + scopePageSize)
	}
	m := h.meta(c, "Restore for someone else")
	m.Nav = "scope"
	return render(c, http.StatusOK, templates.ScopePage(m, v))
}

// chooseScope handles POST /scope (type, id): from now on, restore sessions
// open on that object only. Choosing oneself goes back to one's own data.
func (h *Handler) chooseScope(c *echo.Context) error {
	ctx := c.Request().Context()
	typ, id := veeamapi.ScopeItemType(c.FormValue("type")), c.FormValue("id")
	if _, ok := scopeKinds[typ]; !ok || id == "" || len(id) > 256 {
		return badRequest("Choose someone from the list.")
	}
	scope, err := h.operator().EffectiveScope(ctx)
	if err != nil {
		return err
	}
	for _, e := range scopeEntries(scope) {
		if e.item.Type != typ || e.item.ID != id {
			continue
		}
		var chosen any // choosing oneself is choosing nobody
		if id != userFrom(c).OID {
			chosen = actingFor{Type: typ, ID: id, Name: e.name, Detail: e.detail}
		}
		if err := h.setSessionValue(c, actingForValue, chosen); err != nil {
			return err
		}
		h.log.InfoContext(ctx, "scope_chosen", "type", string(typ), "scope_id", id, "oid", userFrom(c).OID)
		return seeOther(c, "/")
	}
	h.log.WarnContext(ctx, "authz_fail", "resource", "scope", "oid", userFrom(c).OID)
	return notFoundOrNotYours(fmt.Errorf("scope %s %q is not in the user's effective scope", typ, id))
}

// clearScope handles POST /scope/clear: back to everything the user may restore.
func (h *Handler) clearScope(c *echo.Context) error {
	if err := h.setSessionValue(c, actingForValue, nil); err != nil {
		return err
	}
	return seeOther(c, "/")
}
