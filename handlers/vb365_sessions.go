package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/openrestore/portal/store"
	"github.com/openrestore/portal/templates"
	"github.com/openrestore/portal/veeamapi"
)

const (
	maxRestoreSessions = 50
	rootPageSize       = 50
	maxOffset          = 1_000_000
)

var (
	sessionIDPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	pointIDPattern   = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)
)

// openedSession is a VB365 restore session this browser session opened. The
// list is the portal's own record of what is the user's: a session id that is
// not in it is "not found" before VB365 is even asked, and sign-out stops them all.
type openedSession struct {
	ID        string    `json:"id"`
	Workload  string    `json:"workload"`
	PointID   string    `json:"point"`
	PointTime time.Time `json:"point_time"`
	ScopeName string    `json:"scope,omitempty"`
	// ScopeID is the object the session is narrowed to ("" for the whole scope).
	ScopeID string `json:"scope_id,omitempty"`
}

// openedSessions lists the restore sessions this browser session opened,
// oldest first: the latest maxRestoreSessions of them.
func (h *Handler) openedSessions(c *echo.Context) ([]openedSession, error) {
	return sessionEntries[openedSession](c, h.store, openedSet)
}

// opened returns the restore session with this id, if this browser
// session opened it.
func (h *Handler) opened(c *echo.Context, id string) (openedSession, bool, error) {
	list, err := h.openedSessions(c)
	if err != nil {
		return openedSession{}, false, err
	}
	o, ok := findOpened(list, func(o openedSession) bool { return o.ID == id })
	return o, ok, nil
}

// addOpened records a restore session this browser session opened; the
// oldest beyond maxRestoreSessions are forgotten.
func (h *Handler) addOpened(c *echo.Context, o openedSession) error {
	_, err := h.store.AddEntries(c.Request().Context(), userFrom(c).SID, openedSet, []store.Entry{h.entry(o.ID, o)}, maxRestoreSessions, true)
	return err
}

func findOpened(list []openedSession, match func(openedSession) bool) (openedSession, bool) {
	for i := len(list) - 1; i >= 0; i-- {
		if match(list[i]) {
			return list[i], true
		}
	}
	return openedSession{}, false
}

// explore handles POST /explore (workload, point): it reuses the user's
// working restore session for that point, or opens one, and shows its root.
func (h *Handler) explore(c *echo.Context) error {
	ctx := c.Request().Context()
	w, ok := workloadByKey(c.FormValue("workload"))
	pointID := c.FormValue("point")
	if !ok || (pointID != "latest" && !pointIDPattern.MatchString(pointID)) {
		return badRequest("Choose a workload and a restore point on the start page.")
	}
	op := h.operator()
	points, err := op.RestorePoints(ctx, veeamapi.RestorePointsOptions{})
	if err != nil {
		return err
	}
	p, ok := findPoint(points, w, pointID)
	if !ok {
		return &Error{Status: http.StatusNotFound, Title: "That restore point is no longer available",
			Message: "It may have passed its retention. Choose another one on the start page."}
	}
	opened, err := h.openedSessions(c)
	if err != nil {
		return err
	}
	acting, err := h.actingFor(c)
	if err != nil {
		return err
	}
	scopeID := ""
	opts := veeamapi.ExploreOptions{Type: w.api, DateTime: &p.BackupTime, RepositoryID: p.RepositoryID}
	if acting != nil {
		scopeID = acting.ID
		opts.Scope = &veeamapi.ScopeItem{Type: acting.Type, ID: acting.ID}
	}
	if prev, ok := findOpened(opened, func(o openedSession) bool {
		return o.Workload == w.key && o.PointID == p.ID && o.ScopeID == scopeID
	}); ok {
		s, err := op.RestoreSession(ctx, prev.ID)
		switch {
		case err == nil && s.State == veeamapi.SessionWorking:
			return seeOther(c, "/sessions/"+url.PathEscape(prev.ID))
		case err != nil && !errors.Is(err, veeamapi.ErrNotFound):
			return err
		}
	}
	s, err := op.Explore(ctx, opts)
	if err != nil {
		if acting != nil && (errors.Is(err, veeamapi.ErrForbidden) || errors.Is(err, veeamapi.ErrNotFound)) {
			return &Error{Status: http.StatusForbidden, Title: "That is no longer in your scope", Err: err,
				Message: "The backup server did not let you open " + acting.Name + "'s data. Go back to your own data, or choose again."}
		}
		return fmt.Errorf("open a %s restore session: %w", w.label, err)
	}
	if err := h.addOpened(c, openedSession{ID: s.ID, Workload: w.key, PointID: p.ID, PointTime: p.BackupTime,
		ScopeName: s.ScopeName, ScopeID: scopeID}); err != nil {
		return err
	}
	h.log.InfoContext(ctx, "restore_session_opened", "restore_session", s.ID, "workload", w.key, "point", p.ID,
		"oid", userFrom(c).OID)
	return seeOther(c, "/sessions/"+url.PathEscape(s.ID))
}

// session handles GET /sessions/:id[?offset=]: a restore session and a page
// of its workload's root (mailboxes, OneDrives, sites or teams).
func (h *Handler) session(c *echo.Context) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	entry, ok, err := h.opened(c, id)
	if err != nil {
		return err
	}
	if !sessionIDPattern.MatchString(id) || !ok {
		h.log.WarnContext(ctx, "authz_fail", "resource", "restore_session", "oid", userFrom(c).OID)
		return notFoundOrNotYours(fmt.Errorf("restore session %q is not one this session opened", id))
	}
	offset, err := parseOffset(c.QueryParam("offset"))
	if err != nil {
		return err
	}
	w, _ := workloadByKey(entry.Workload)
	op := h.operator()
	s, err := op.RestoreSession(ctx, id)
	if err != nil {
		return err
	}
	loc := h.zone(c)
	pt := entry.PointTime.In(loc)
	v := templates.SessionView{
		WorkloadLabel: w.label, Workload: w.key, PointID: entry.PointID, ScopeName: s.ScopeName,
		PointLabel: pt.Format("Monday 2 January 2006, 15:04 MST"), PointDateTime: entry.PointTime.UTC().Format(time.RFC3339),
		CSRFToken: h.csrfToken(ctx),
	}
	if s.State != veeamapi.SessionWorking {
		v.Stopped = true
	} else {
		v.List, err = h.rootList(ctx, op, w, id, offset)
		if errors.Is(err, veeamapi.ErrConflict) {
			v.Stopped, err = true, nil // stopped between the two calls
		}
		if err != nil {
			return err
		}
	}
	if isPartial(c) && !v.Stopped {
		return render(c, http.StatusOK, templates.RootList(v.List))
	}
	return render(c, http.StatusOK, templates.SessionPage(h.meta(c, w.label+" restore"), v))
}

func parseOffset(raw string) (int, error) {
	if raw == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 0 || n > maxOffset {
		return 0, badRequest("The page in the link is not valid.")
	}
	return n, nil
}

// rootList fetches a page of the workload's root in the session.
func (h *Handler) rootList(ctx context.Context, op *veeamapi.Operator, w workload, id string, offset int) (templates.RootListView, error) {
	page := veeamapi.PageOptions{Offset: offset, Limit: rootPageSize}
	var (
		v    templates.RootListView
		more bool
		err  error
	)
	switch w.api {
	case veeamapi.Exchange:
		v = templates.RootListView{Caption: "Mailboxes", NameHeader: "Mailbox", Address: "Address",
			EmptyText: "There are no mailboxes in your scope in this restore point."}
		more, err = fillRows(&v, fetch(op.Mailboxes(ctx, id, page)), func(m veeamapi.Mailbox) templates.RootRow {
			r := templates.RootRow{Name: m.Name, Address: m.Email,
				URL: "/sessions/" + url.PathEscape(id) + "/mailboxes/" + url.PathEscape(m.ID)}
			if m.IsArchive {
				r.Badges = append(r.Badges, "Archive")
			}
			if m.IsPublic {
				r.Badges = append(r.Badges, "Public folder")
			}
			return r
		})
	case veeamapi.OneDrive:
		v = templates.RootListView{Caption: "OneDrives", NameHeader: "Owner", Address: "Address",
			EmptyText: "There are no OneDrives in your scope in this restore point."}
		more, err = fillRows(&v, fetch(op.OneDrives(ctx, id, page)), func(d veeamapi.OneDriveInfo) templates.RootRow {
			return templates.RootRow{Name: d.Name, Address: d.URL, URL: "/sessions/" + url.PathEscape(id) + "/onedrives/" + key(d.ID)}
		})
	case veeamapi.SharePoint:
		v = templates.RootListView{Caption: "SharePoint sites", NameHeader: "Site", Address: "Address",
			EmptyText: "There are no SharePoint sites in your scope in this restore point."}
		more, err = fillRows(&v, fetch(op.Sites(ctx, id, veeamapi.SitesOptions{PageOptions: page})), func(s veeamapi.Site) templates.RootRow {
			return templates.RootRow{Name: s.Name, Address: s.URL, URL: "/sessions/" + url.PathEscape(id) + "/sites/" + key(s.ID)}
		})
	case veeamapi.Teams:
		v = templates.RootListView{Caption: "Teams", NameHeader: "Team", Address: "Address",
			EmptyText: "There are no teams in your scope in this restore point."}
		more, err = fillRows(&v, fetch(op.Teams(ctx, id, veeamapi.TeamsOptions{PageOptions: page})), func(t veeamapi.Team) templates.RootRow {
			r := templates.RootRow{Name: t.DisplayName, Detail: t.Description, Address: t.GroupEmail,
				URL: "/sessions/" + url.PathEscape(id) + "/teams/" + key(t.ID)}
			if t.Privacy != "" && t.Privacy != "Public" {
				r.Badges = append(r.Badges, t.Privacy)
			}
			if t.IsArchived {
				r.Badges = append(r.Badges, "Archived")
			}
			return r
		})
	}
	if err != nil {
		return v, err
	}
	if w.api == veeamapi.Teams {
		v.Description = "Open a team to browse, search, restore and export its channels, posts, files and tabs."
	}
	v.Pager = pager("/sessions/"+url.PathEscape(id), offset, len(v.Rows), more)
	return v, nil
}

// fetched is a page, or why there is none.
type fetched[T any] struct {
	page *veeamapi.Page[T]
	err  error
}

func fetch[T any](p *veeamapi.Page[T], err error) fetched[T] { return fetched[T]{p, err} }

// fillRows turns a page into the view's rows and reports whether more follow.
func fillRows[T any](v *templates.RootListView, f fetched[T], row func(T) templates.RootRow) (more bool, err error) {
	if f.err != nil {
		return false, f.err
	}
	for _, x := range f.page.Results {
		v.Rows = append(v.Rows, row(x))
	}
	_, more = f.page.Next()
	return more, nil
}

// pager links the neighbouring pages of a list shown page by page.
func pager(base string, offset, n int, more bool) templates.PagerView {
	var p templates.PagerView
	if offset > 0 {
		p.PrevURL = base + "?offset=" + strconv.Itoa(max(0, offset-rootPageSize))
		if offset <= rootPageSize {
			p.PrevURL = base
		}
	}
	if more {
		p.NextURL = base + "?offset=" + strconv.Itoa(offset+n)
	}
	if n > 0 && (offset > 0 || more) {
		p.Summary = fmt.Sprintf("Items %d to %d", offset+1, offset+n)
	}
	return p
}

// stopOpenedSessions stops the restore sessions this browser session opened,
// at once and best effort: sign-out must not hang on a slow backup server.
func (h *Handler) stopOpenedSessions(c *echo.Context) {
	opened, err := h.openedSessions(c)
	if err != nil || len(opened) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request().Context()), 5*time.Second)
	defer cancel()
	op := h.operator()
	var wg sync.WaitGroup
	for _, o := range opened {
		wg.Go(func() {
			if err := op.StopRestoreSession(ctx, o.ID); err != nil && !errors.Is(err, veeamapi.ErrNotFound) {
				h.log.WarnContext(ctx, "restore_session_stop_failed", "restore_session", o.ID, "error", err)
			}
		})
	}
	wg.Wait()
}
