package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v5"

	"github.com/openrestore/portal/audit"
	"github.com/openrestore/portal/store"
	"github.com/openrestore/portal/templates"
	"github.com/openrestore/portal/vbazure"
)

// A file-level restore session, once open: its progress while the worker
// starts, then its files by folder, a page at a time, and searches, whose
// pages the portal keeps (VBAzure drops a page when it serves the next).

// flrPageSize is how many items a page of files shows: VBAzure's default.
const flrPageSize = 200

// flrSessionPage handles GET /azure/flr/:flr: a starting session's
// progress (which htmx polls), or where an ended one ended; a ready one
// goes on to its files.
func (h *Handler) flrSessionPage(c *echo.Context) error {
	s, vm, _, err := h.mySession(c)
	if err != nil {
		return err
	}
	v, ready, err := h.flrProgress(c, s, vm)
	if err != nil {
		return err
	}
	if ready {
		to := browseURL(s.ID, "", 0)
		if isPartial(c) {
			c.Response().Header().Set("HX-Redirect", to)
			return c.NoContent(http.StatusOK)
		}
		return c.Redirect(http.StatusSeeOther, to)
	}
	if isPartial(c) && c.Request().Header.Get("HX-Target") == templates.FLRStatusID {
		return render(c, http.StatusOK, templates.FLRStatus(v))
	}
	return render(c, http.StatusOK, templates.FLRSessionPage(h.meta(c, v.Heading), v))
}

// flrProgress asks VBAzure how a session is doing and records what
// changed: ready, or failed with the log's reason.
func (h *Handler) flrProgress(c *echo.Context, s store.FLRSession, vm azVM) (templates.FLRSessionView, bool, error) {
	ctx := c.Request().Context()
	loc := h.zone(c)
	v := templates.FLRSessionView{BackURL: vmURL(vm.ID), VMName: vm.Name, Point: pointLabel(s.PointTime, loc), PollURL: flrURL(s.ID)}
	switch s.State {
	case store.FLRReady:
		return v, true, nil
	case store.FLRStarting:
	default:
		v.Heading, v.Status, v.Tone = "This session has ended", "Ended", "warn"
		v.Problem = s.Detail + " Open the restore point again from the VM's page if you need it."
		if s.State == store.FLRFailed {
			v.Heading, v.Status, v.Tone, v.Problem = "This session did not start", "Failed", "bad", s.Detail
		}
		return v, false, nil
	}
	j, err := h.vms.JobSession(ctx, s.ID)
	if err != nil && !errors.Is(err, vbazure.ErrNotFound) {
		return v, false, azureVMError(err)
	}
	if err == nil && j.Ready() {
		if err := h.store.MoveFLRSession(ctx, s.ID, []string{store.FLRStarting}, store.FLRReady, "", h.cfg.Now()); err != nil &&
			!errors.Is(err, store.ErrChanged) {
			return v, false, err
		}
		h.touchFLR(ctx, s.ID) // its idle time starts when it can be used
		return v, true, nil
	}
	log, lerr := h.vms.JobLog(ctx, s.ID)
	if lerr != nil && !errors.Is(lerr, vbazure.ErrNotFound) {
		return v, false, azureVMError(lerr)
	}
	if err == nil && j.Running() {
		v.Heading, v.Status, v.Tone, v.Starting = "Opening the restore point", "Starting the worker…", "running", true
		v.Elapsed = elapsedLabel(h.cfg.Now().Sub(s.Opened))
		for _, l := range log {
			v.Log = append(v.Log, l.LogTime.In(loc).Format("15:04:05")+" "+l.Message)
		}
		return v, false, nil
	}
	why := "Veeam Backup for Microsoft Azure ended the session before it was ready."
	for i := len(log) - 1; i >= 0; i-- {
		if log[i].Status == "Error" {
			why = log[i].Message
			break
		}
	}
	if err := h.store.MoveFLRSession(ctx, s.ID, []string{store.FLRStarting}, store.FLRFailed, why, h.cfg.Now()); err != nil &&
		!errors.Is(err, store.ErrChanged) {
		return v, false, err
	}
	u := userFrom(c)
	h.appendAudit(ctx, audit.Event{Time: h.cfg.Now().UTC(), TenantID: u.TenantID, ActorOID: u.OID, ActorUPN: u.UPN, ActorName: u.Name,
		Subject: vm.Name, SubjectID: vm.ID, Workload: azureWorkload, Action: "open", Outcome: audit.Failed, SessionID: s.ID, Detail: why})
	h.azureCache.drop("history\x00" + strings.ToLower(vm.ID))
	v.Heading, v.Status, v.Tone, v.Problem = "This session did not start", "Failed", "bad", why
	return v, false, nil
}

// elapsedLabel writes a short duration for people: 1 min 20 s.
func elapsedLabel(d time.Duration) string {
	d = d.Round(time.Second)
	if d < time.Minute {
		return fmt.Sprintf("%d s", int(d/time.Second))
	}
	return fmt.Sprintf("%d min %d s", int(d/time.Minute), int(d/time.Second)%60)
}

// readySession is the person's session of the path, ready to browse: a
// starting one sends the browser to its progress; an ended one is an error.
func (h *Handler) readySession(c *echo.Context) (store.FLRSession, azVM, error) {
	s, vm, _, err := h.mySession(c)
	if err != nil {
		return s, vm, err
	}
	switch s.State {
	case store.FLRReady:
		return s, vm, nil
	case store.FLRStarting:
		return s, vm, redirectTo(flrURL(s.ID))
	}
	return s, vm, sessionEnded(s, vm)
}

// sessionFolder is the ready session of the path and the folder of the
// query's path (the top when there is none).
func (h *Handler) sessionFolder(c *echo.Context) (store.FLRSession, azVM, string, error) {
	s, vm, err := h.readySession(c)
	if err != nil {
		return s, vm, "", err
	}
	path, err := flrPath(c.QueryParam("path"), s.Windows)
	return s, vm, path, err
}

// redirectTo sends the browser elsewhere from deep inside a handler.
type redirectTo string

func (r redirectTo) Error() string { return "redirect to " + string(r) }

func sessionEnded(s store.FLRSession, vm azVM) *Error {
	return &Error{Status: http.StatusGone, Title: "This file-level restore session has ended", BackURL: vmURL(vm.ID),
		Message: strings.TrimSpace(s.Detail + " Open the restore point again from the VM's page to go on.")}
}

// flrCall runs a call of an open session: one VBAzure no longer knows has
// ended (recorded so); any call counts as use.
func (h *Handler) flrCall(c *echo.Context, s store.FLRSession, vm azVM, call func(ctx context.Context) error) error {
	ctx := c.Request().Context()
	err := call(ctx)
	if errors.Is(err, vbazure.ErrNotFound) && !h.stillRunning(ctx, s) {
		s.Detail = "Veeam Backup for Microsoft Azure ended it (it stops sessions nobody uses)."
		return sessionEnded(s, vm)
	}
	if err == nil {
		h.touchFLR(ctx, s.ID)
	}
	return err
}

func (h *Handler) touchFLR(ctx context.Context, id string) {
	if err := h.store.TouchFLRSession(ctx, id, h.cfg.Now()); err != nil {
		h.log.WarnContext(ctx, "flr_touch_failed", "flr_session", id, "error", err)
	}
}

// browseURL is a folder's page of a session ("": the top).
func browseURL(id, path string, offset int) string {
	q := url.Values{}
	if path != "" {
		q.Set("path", path)
	}
	if offset > 0 {
		q.Set("offset", strconv.Itoa(offset))
	}
	u := flrURL(id) + "/browse"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// maxFLRPath bounds a path in a request.
const maxFLRPath = 4096

// flrPath reads a path of the session's VM from a request: absolute,
// bounded, without control characters but the ones Linux names allow.
func flrPath(raw string, windows bool) (string, error) {
	if raw == "" {
		return vbazure.RootPath(windows), nil
	}
	bad := len(raw) > maxFLRPath || !utf8.ValidString(raw) || strings.ContainsRune(raw, 0)
	if windows {
		ok := raw == `\` || (len(raw) >= 3 && raw[1] == ':' && (raw[2] == '\\' || raw[2] == '/') &&
			(raw[0]|0x20 >= 'a' && raw[0]|0x20 <= 'z'))
		bad = bad || !ok || strings.ContainsFunc(raw, isControl)
	} else {
		bad = bad || !strings.HasPrefix(raw, "/")
	}
	if bad {
		return "", badRequest("The link's folder is not a full path of the VM.")
	}
	return raw, nil
}

// flrFrame is what every page of a session shows around its files.
func (h *Handler) flrFrame(c *echo.Context, s store.FLRSession, vm azVM, path, query string, below bool) templates.FLRFrame {
	ctx := c.Request().Context()
	f := templates.FLRFrame{VMName: vm.Name, VMURL: vmURL(vm.ID), PointLabel: pointLabel(s.PointTime, h.zone(c)), BrowseURL: browseURL(s.ID, "", 0),
		StopAction: flrURL(s.ID) + "/stop", IdleLabel: h.idleLabel(), CSRFToken: h.csrfToken(ctx),
		Search: templates.FLRSearchForm{Action: flrURL(s.ID) + "/search", Path: path, Query: query, Below: below}}
	warnings, err := cached(h.azureCache, "flrlog\x00"+s.ID, func() ([]string, error) {
		log, err := h.vms.JobLog(ctx, s.ID)
		var out []string
		for _, l := range log {
			if l.Status == "Warning" {
				out = append(out, l.Message)
			}
		}
		return out, err
	})
	if err != nil {
		h.log.WarnContext(ctx, "flr_log_failed", "flr_session", s.ID, "error", err)
	}
	f.Warnings = warnings
	return f
}

// flrRows lays out a session's items in the person's zone.
func flrRows(s store.FLRSession, items []vbazure.FLRItem, loc *time.Location) []templates.FLRItemRow {
	rows := make([]templates.FLRItemRow, len(items))
	for i, it := range items {
		p := it.Path(s.Windows)
		r := templates.FLRItemRow{Key: key(p), Name: it.Name, Where: it.ItemPath, Folder: it.Folder(),
			Modified: it.Modified.In(loc).Format("2 Jan 2006, 15:04"), ModifiedISO: it.Modified.UTC().Format(time.RFC3339)}
		if r.Folder {
			r.URL, r.Size = browseURL(s.ID, p, 0), ""
		} else {
			r.Size = humanSize(it.Size)
		}
		rows[i] = r
	}
	return rows
}

// flrBrowsePage handles GET /azure/flr/:flr/browse?path=&offset=: a page
// of a folder of the restore point, the folders above, and paging to the
// folder's last item however many it holds.
func (h *Handler) flrBrowsePage(c *echo.Context) error {
	s, vm, path, err := h.sessionFolder(c)
	if err != nil {
		return err
	}
	offset, err := parseOffset(c.QueryParam("offset"))
	if err != nil {
		return err
	}
	var page *vbazure.Page[vbazure.FLRItem]
	err = h.flrCall(c, s, vm, func(ctx context.Context) error {
		var err error
		page, err = h.vms.Browse(ctx, s.ID, path, offset, flrPageSize)
		return err
	})
	if errors.Is(err, vbazure.ErrNotFound) || errors.Is(err, vbazure.ErrInvalid) {
		return &Error{Status: http.StatusNotFound, Title: "No such folder in this restore point", Err: err, BackURL: browseURL(s.ID, "", 0),
			Message: "The restore point has no folder at that path. Start again from the top."}
	}
	if err != nil {
		return azureVMError(err)
	}
	v := templates.FLRBrowseView{Frame: h.flrFrame(c, s, vm, path, "", true), Path: path, Items: flrRows(s, page.Results, h.zone(c)),
		Back: browseURL(s.ID, path, offset), Restore: flrURL(s.ID) + "/restore/new", List: flrURL(s.ID) + "/restore-list"}
	root := "Volumes"
	if !s.Windows {
		root = "/"
	}
	v.Crumbs = append(v.Crumbs, templates.Crumb{Name: root, URL: browseURL(s.ID, "", 0)})
	names, paths := vbazure.SplitPath(s.Windows, path)
	for i := range names {
		v.Crumbs = append(v.Crumbs, templates.Crumb{Name: names[i], URL: browseURL(s.ID, paths[i], 0)})
	}
	if n := len(page.Results); n > 0 {
		v.Range = fmt.Sprintf("%s–%s of %s", thousands(offset+1), thousands(offset+n), thousands(page.TotalCount))
	}
	if offset > 0 {
		v.PrevURL = browseURL(s.ID, path, max(0, offset-flrPageSize))
	}
	if next := offset + len(page.Results); next < page.TotalCount && len(page.Results) > 0 {
		v.NextURL = browseURL(s.ID, path, next)
		v.LastURL = browseURL(s.ID, path, (page.TotalCount-1)/flrPageSize*flrPageSize)
	}
	return render(c, http.StatusOK, templates.FLRBrowsePage(h.meta(c, vm.Name+": "+path), v))
}

// flrSearch is a search of a session as the portal keeps it: VBAzure
// serves one page at a time and drops it for the next, so the pages
// fetched are kept among the session's values (one value each).
type flrSearch struct {
	ID       string `json:"id"`
	Path     string `json:"path"`
	Query    string `json:"q"`
	Below    bool   `json:"below"`
	Advanced int    `json:"advanced"` // nextPage calls made
	Fetched  int    `json:"fetched"`  // pages kept
	Done     bool   `json:"done"`     // the last page is kept
}

func searchValue(flrID string) string { return "flr_search_" + strings.ToLower(flrID) }

func searchPageValue(flrID string, n int) string { return searchValue(flrID) + "_" + strconv.Itoa(n) }

// searchURL is a page of a search.
func searchURL(id, path, query string, below bool, page int) string {
	q := url.Values{"path": {path}, "q": {query}}
	if below {
		q.Set("below", "1")
	}
	if page > 1 {
		q.Set("page", strconv.Itoa(page))
	}
	return flrURL(id) + "/search?" + q.Encode()
}

// maxSearchPattern bounds what people search for.
const maxSearchPattern = 200

// flrSearchPage handles GET /azure/flr/:flr/search?path=&q=&below=&page=:
// a page of a search of the folder (and those below).
func (h *Handler) flrSearchPage(c *echo.Context) error {
	s, vm, path, err := h.sessionFolder(c)
	if err != nil {
		return err
	}
	query, below := strings.TrimSpace(c.QueryParam("q")), c.QueryParam("below") == "1"
	page := 1
	if p := c.QueryParam("page"); p != "" {
		if page, err = strconv.Atoi(p); err != nil || page < 1 || page > 10_000 {
			return badRequest("The page in the link is not valid.")
		}
	}
	v := templates.FLRSearchView{Frame: h.flrFrame(c, s, vm, path, query, below), Back: searchURL(s.ID, path, query, below, page),
		Restore: flrURL(s.ID) + "/restore/new", List: flrURL(s.ID) + "/restore-list",
		Heading: fmt.Sprintf("Names matching “%s” in %s", query, path), PollURL: searchURL(s.ID, path, query, below, page)}
	switch n := utf8.RuneCountInString(query); {
	case n == 0:
		v.Frame.Search.Error = "Type part of a name, or a pattern such as *.conf."
	case n > maxSearchPattern:
		v.Frame.Search.Error = fmt.Sprintf("Search for at most %d characters.", maxSearchPattern)
	case strings.ContainsFunc(query, isControl):
		v.Frame.Search.Error = "The search cannot contain control characters."
	}
	if v.Frame.Search.Error != "" {
		return render(c, http.StatusBadRequest, templates.FLRSearchPage(h.meta(c, "Search "+vm.Name), v))
	}
	items, more, err := h.flrSearchResults(c, s, vm, flrSearch{Path: path, Query: query, Below: below}, page)
	var to redirectTo
	if errors.As(err, &to) {
		return seeOther(c, string(to))
	}
	if err != nil {
		return azureVMError(err)
	}
	if items == nil {
		v.Searching = true
	} else {
		v.Items = flrRows(s, items, h.zone(c))
		if len(items) > 0 {
			first := (page-1)*flrPageSize + 1
			v.Range = fmt.Sprintf("%s–%s", thousands(first), thousands(first+len(items)-1))
		}
		if page > 1 {
			v.PrevURL = searchURL(s.ID, path, query, below, page-1)
		}
		if more {
			v.NextURL = searchURL(s.ID, path, query, below, page+1)
		}
	}
	if isPartial(c) && c.Request().Header.Get("HX-Target") == templates.FLRSearchID {
		return render(c, http.StatusOK, templates.FLRSearchResults(v))
	}
	return render(c, http.StatusOK, templates.FLRSearchPage(h.meta(c, "Search "+vm.Name), v))
}

// flrSearchResults returns page n of the search want (1-based): its items, nil
// while VBAzure prepares it, and whether more pages follow. Pages are
// fetched in order, each once: a later one redirects to the next to fetch.
func (h *Handler) flrSearchResults(c *echo.Context, s store.FLRSession, vm azVM, want flrSearch, n int) ([]vbazure.FLRItem, bool, error) {
	ctx := c.Request().Context()
	sid := userFrom(c).SID
	raw, err := h.store.Value(ctx, sid, searchValue(s.ID))
	if err != nil {
		return nil, false, err
	}
	var st flrSearch
	if raw == nil || json.Unmarshal(raw, &st) != nil || st.Path != want.Path || st.Query != want.Query || st.Below != want.Below {
		if st.ID != "" {
			if err := h.vms.StopSearch(ctx, s.ID, st.ID); err != nil {
				h.log.InfoContext(ctx, "flr_search_stop_failed", "error", err)
			}
		}
		st = want
		err := h.flrCall(c, s, vm, func(ctx context.Context) error {
			var err error
			st.ID, err = h.vms.StartSearch(ctx, s.ID, vbazure.Search{Path: want.Path, Pattern: want.Query, Traverse: want.Below, Limit: flrPageSize})
			return err
		})
		if errors.Is(err, vbazure.ErrInvalid) || errors.Is(err, vbazure.ErrNotFound) {
			return nil, false, &Error{Status: http.StatusBadRequest, Title: "The search was refused", Err: err, BackURL: browseURL(s.ID, want.Path, 0),
				Message: "Veeam Backup for Microsoft Azure could not search that folder for that name. Check the folder, and try a simpler pattern."}
		}
		if err != nil {
			return nil, false, err
		}
		if raw, err = h.swapSearch(ctx, sid, s.ID, raw, st); err != nil {
			return nil, false, err
		}
	}
	if n <= st.Fetched {
		var items []vbazure.FLRItem
		b, err := h.store.Value(ctx, sid, searchPageValue(s.ID, n))
		if err != nil || json.Unmarshal(b, &items) != nil {
			return nil, false, errors.Join(err, fmt.Errorf("handlers: page %d of a search is unreadable", n))
		}
		return append([]vbazure.FLRItem{}, items...), n < st.Fetched || !st.Done, nil
	}
	if st.Done || n > st.Fetched+1 {
		last := st.Fetched + 1
		if st.Done {
			last = st.Fetched
		}
		return nil, false, redirectTo(searchURL(s.ID, want.Path, want.Query, want.Below, max(1, last)))
	}
	if st.Advanced < st.Fetched {
		if err := h.flrCall(c, s, vm, func(ctx context.Context) error { return h.vms.SearchNextPage(ctx, s.ID, st.ID) }); err != nil {
			return nil, false, err
		}
		st.Advanced++
		if raw, err = h.swapSearch(ctx, sid, s.ID, raw, st); err != nil {
			return nil, false, err
		}
	}
	var res *vbazure.SearchPage
	if err := h.flrCall(c, s, vm, func(ctx context.Context) error {
		var err error
		res, err = h.vms.SearchResults(ctx, s.ID, st.ID)
		return err
	}); err != nil {
		return nil, false, err
	}
	switch {
	case res.State == "NoData" && n > 1: // the page before was the last
		st.Done = true
		if _, err := h.swapSearch(ctx, sid, s.ID, raw, st); err != nil {
			return nil, false, err
		}
		return nil, false, redirectTo(searchURL(s.ID, want.Path, want.Query, want.Below, n-1))
	case res.State == "Ready" || res.State == "NoData":
		if res.Results == nil {
			res.Results = []vbazure.FLRItem{}
		}
		b, err := json.Marshal(res.Results)
		if err != nil {
			return nil, false, err
		}
		if err := h.store.SetValue(ctx, sid, searchPageValue(s.ID, n), b); err != nil {
			return nil, false, err
		}
		st.Fetched, st.Done = n, len(res.Results) < flrPageSize
	default:
		return nil, false, nil // preparing: the page polls
	}
	if _, err := h.swapSearch(ctx, sid, s.ID, raw, st); err != nil {
		return nil, false, err
	}
	return append([]vbazure.FLRItem{}, res.Results...), !st.Done, nil
}

// swapSearch stores a search's new state over the one read (old), and
// returns it as stored; another tab that changed it first wins, and this
// request's page polls again.
func (h *Handler) swapSearch(ctx context.Context, sid, flrID string, old []byte, st flrSearch) ([]byte, error) {
	b, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	ok, err := h.store.SwapValue(ctx, sid, searchValue(flrID), old, b)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, redirectTo(searchURL(flrID, st.Path, st.Query, st.Below, max(1, st.Fetched)))
	}
	return b, nil
}

// stopFLRPage handles POST /azure/flr/:flr/stop: the person is done with it.
func (h *Handler) stopFLRPage(c *echo.Context) error {
	s, vm, _, err := h.mySession(c)
	if err != nil {
		return err
	}
	u := userFrom(c)
	if busy, err := h.restoring(c.Request().Context(), s); err != nil || busy {
		return cmpErr(err, &Error{Status: http.StatusConflict, Title: "A restore of this session is still running", BackURL: vmURL(vm.ID),
			Message: "Stopping the session now would cut it short. Stop it once the restore has ended (My restores shows when); it stops by itself after " +
				h.idleLabel() + " without use."})
	}
	if err := h.stopFLR(c.Request().Context(), s, "Stopped by "+u.Name+".", u.OID, u.UPN, u.Name); err != nil {
		return azureVMError(err)
	}
	if err := h.setSessionValue(c, azureVMFlash, "The session of the restore point of "+pointLabel(s.PointTime, h.zone(c))+" is stopped: its worker is gone."); err != nil {
		return err
	}
	return seeOther(c, vmURL(vm.ID))
}
