package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/openrestore/portal/restore"
	"github.com/openrestore/portal/store"
	"github.com/openrestore/portal/templates"
	"github.com/openrestore/portal/veeamapi"
)

const (
	restoresPageSize = 25
	// restoreEventsShown caps the per-item results a progress page lists;
	// the counts always cover every item.
	restoreEventsShown = 500
)

var workloadLabels = map[string]string{"exchange": "Exchange", "onedrive": "OneDrive", "sharepoint": "SharePoint", "teams": "Teams",
	"vbazure": "Azure backup users", azureWorkload: "Azure VMs"}

// record finds the user's restore with the id in the path.
func (h *Handler) record(c *echo.Context) (restore.Record, error) {
	id := c.Param("id")
	u := userFrom(c)
	if !sessionIDPattern.MatchString(id) {
		return restore.Record{}, notFoundOrNotYours(fmt.Errorf("restore %q: not an id", id))
	}
	rec, err := h.store.Get(c.Request().Context(), u.TenantID, u.OID, id)
	if errors.Is(err, store.ErrNotFound) {
		h.log.WarnContext(c.Request().Context(), "authz_fail", "resource", "restore", "oid", u.OID)
		return rec, notFoundOrNotYours(err)
	}
	return rec, err
}

// restorePage handles GET /restores/:id: a restore's progress, which htmx
// refreshes every two seconds until it has finished.
func (h *Handler) restorePage(c *echo.Context) error {
	rec, err := h.record(c)
	if err != nil {
		return err
	}
	v, err := h.progress(c, rec)
	if err != nil {
		return err
	}
	if rec.Done() { // seen to end here: no notice of it elsewhere
		if err := h.store.Noticed(c.Request().Context(), rec.TenantID, rec.UserOID, rec.ID); err != nil {
			h.log.WarnContext(c.Request().Context(), "restore_noticed_failed", "restore", rec.ID, "error", err)
		}
	}
	if isPartial(c) && c.Request().Header.Get("HX-Target") == templates.RestoreProgressID {
		return render(c, http.StatusOK, templates.RestoreProgress(v))
	}
	m := h.meta(c, v.Title)
	m.Nav = "restores"
	return render(c, http.StatusOK, templates.RestorePage(m, v))
}

// restoreTitle names a restore: "Restore of 3 items from Adele Vance".
func restoreTitle(r restore.Record) string {
	return "Restore of " + countLabel(r.ItemCount) + " from " + r.Source
}

// progress is a restore's page: what the portal recorded, and while it runs
// or for its details, what the backup server says item by item. Its end is
// the watcher's to record, never the page's.
func (h *Handler) progress(c *echo.Context, rec restore.Record) (templates.RestoreProgressView, error) {
	ctx := c.Request().Context()
	loc := h.zone(c)
	v := templates.RestoreProgressView{
		URL: "/restores/" + url.PathEscape(rec.ID), Title: restoreTitle(rec),
		Source: rec.Source, Target: rec.Target, Options: rec.Options, Reason: rec.Reason,
		Started: rec.Requested.In(loc).Format("Monday 2 January 2006, 15:04:05 MST"), StartedISO: rec.Requested.Format(time.RFC3339),
		PointLabel: rec.PointTime.In(loc).Format("Monday 2 January 2006, 15:04 MST"),
	}
	v.Status, v.StatusTone = recordStatus(rec)
	v.Running = !rec.Done()
	v.Counts = templates.ProgressCountsView{Total: rec.ItemCount, Restored: rec.Restored, Skipped: rec.Skipped, Failed: rec.Failed,
		Done: rec.Restored + rec.Skipped + rec.Failed}
	if rec.Detail != "" {
		v.Notice = rec.Detail
	}
	if rec.SessionID == "" {
		return v, nil // never started, or not known to have started
	}
	if rec.Workload == azureWorkload {
		return v, h.azureProgressView(ctx, rec, &v)
	}
	op := h.operator()
	var (
		st     *veeamapi.Statistics
		events *veeamapi.Page[veeamapi.RestoreSessionEvent]
		errs   [2]error
		wg     sync.WaitGroup
	)
	wg.Go(func() { st, errs[0] = op.RestoreSessionStatistics(ctx, rec.SessionID) })
	wg.Go(func() {
		events, errs[1] = op.RestoreSessionEvents(ctx, rec.SessionID, veeamapi.PageOptions{Limit: restoreEventsShown})
	})
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		if !errors.Is(err, veeamapi.ErrNotFound) && !errors.Is(err, veeamapi.ErrForbidden) {
			return v, err
		}
		// VB365 keeps restore sessions for a while only; the portal's record remains.
		v.Notice = strings.TrimSpace(v.Notice + " The backup server no longer has the details of this restore; this is what the portal recorded.")
		return v, nil
	}
	if !rec.Done() {
		v.Counts = templates.ProgressCountsView{Total: int(st.Total), Restored: int(st.Restored), Skipped: int(st.Skipped),
			Failed: int(st.Failed), Done: int(st.Restored + st.Skipped + st.Failed)}
		if rec.State == restore.Running {
			v.Status = fmt.Sprintf("Restoring… %s of %s done", thousands(v.Counts.Done), thousands(v.Counts.Total))
		}
	}
	for _, e := range events.Results {
		if e.ItemName == "" {
			continue
		}
		r := templates.RestoreItemView{Name: e.ItemName, Message: e.Message}
		r.Status, r.Tone = itemResult(e.Status)
		if e.EndTime != nil {
			r.When = e.EndTime.In(loc).Format("15:04:05")
		}
		v.Items = append(v.Items, r)
	}
	if _, more := events.Next(); more {
		v.Notice = fmt.Sprintf("The first %s events are listed; the counts cover every item.", thousands(restoreEventsShown))
	}
	if len(v.Items) == 0 { // a server that reports failures only as messages
		for _, e := range st.Errors {
			v.Items = append(v.Items, templates.RestoreItemView{Name: e, Status: "Failed", Tone: "bad"})
		}
	}
	return v, nil
}

// recordStatus says where a restore stands, and its tone.
func recordStatus(r restore.Record) (string, string) {
	switch r.State {
	case restore.Pending:
		return "Starting…", "running"
	case restore.Running:
		return "Restoring…", "running"
	case restore.Refused:
		if r.Detail == "" {
			return "Not started", "bad"
		}
		return "Not started: " + strings.ToLower(r.Detail[:1]) + r.Detail[1:], "bad"
	case restore.Unconfirmed:
		return "Not confirmed: the portal stopped before the backup server answered", "warn"
	}
	switch {
	case r.Result == restore.Success && r.Restored == 0 && r.Skipped > 0 && r.Failed == 0:
		return "Finished: nothing needed restoring (see each item below)", "warn"
	case r.Result == restore.Success && r.Failed > 0:
		return fmt.Sprintf("Finished with problems: %s restored, %s failed", thousands(r.Restored), thousands(r.Failed)), "warn"
	case r.Result == restore.Success && r.Skipped > 0:
		return fmt.Sprintf("Finished: %s restored, %s skipped", thousands(r.Restored), thousands(r.Skipped)), "ok"
	}
	switch r.Result {
	case restore.Success:
		return "Finished", "ok"
	case restore.Warning:
		return "Finished with problems: some items were not restored", "warn"
	case restore.Failed:
		return "Failed: nothing was restored", "bad"
	case restore.Stopped:
		return "Stopped before every item was done", "warn"
	}
	return "Ended; how is not known", "warn"
}

func itemResult(status string) (string, string) {
	switch status {
	case "Success":
		return "Restored", "ok"
	case "Skipped":
		return "Skipped", "warn"
	case "Warning":
		return "Restored with warnings", "warn"
	case "Failed":
		return "Failed", "bad"
	case "Cancelled":
		return "Cancelled", "bad"
	case "Running":
		return "In progress", "running"
	}
	return status, "warn"
}

// restoresPage handles GET /restores[?offset=]: the user's restores,
// newest first, as the watcher last recorded them.
func (h *Handler) restoresPage(c *echo.Context) error {
	ctx := c.Request().Context()
	offset, err := parseOffset(c.QueryParam("offset"))
	if err != nil {
		return err
	}
	u := userFrom(c)
	loc := h.zone(c)
	q := c.QueryParam
	v := templates.RestoresView{Workload: q("workload"), Status: q("status"), Whose: q("whose"), From: q("from"), To: q("to"),
		TimeZone: loc.String(),
		Workloads: []templates.Option{{Value: "", Label: "All"}, {Value: "exchange", Label: "Exchange"}, {Value: "onedrive", Label: "OneDrive"},
			{Value: "sharepoint", Label: "SharePoint"}, {Value: "teams", Label: "Teams"},
			{Value: azureWorkload, Label: "Azure VMs"}},
		Statuses: []templates.Option{{Value: "", Label: "All"}, {Value: store.StatusRunning, Label: "In progress"},
			{Value: store.StatusSucceeded, Label: "Finished"}, {Value: store.StatusProblems, Label: "With problems"}},
		Whoses: []templates.Option{{Value: "", Label: "Everyone's"}, {Value: "own", Label: "My own data"}, {Value: "others", Label: "Restores I ran for others"}},
	}
	m := h.meta(c, "My restores")
	m.Nav = "restores"
	f, params, err := restoreFilter(q, loc)
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			return err
		}
		v.Error = e.Message
		return render(c, e.Status, templates.RestoresPage(m, v))
	}
	v.Filtered = len(params) > 0
	recs, more, err := h.store.List(ctx, u.TenantID, u.OID, f, offset, restoresPageSize)
	if err != nil {
		return err
	}
	for _, rec := range recs {
		row := templates.RestoreRow{
			URL: "/restores/" + url.PathEscape(rec.ID), Started: rec.Requested.In(loc).Format("Mon 2 Jan 2006, 15:04"),
			StartedISO: rec.Requested.Format(time.RFC3339), Workload: workloadLabels[rec.Workload], Source: rec.Source,
			Items: rec.ItemCount, Target: rec.Target, Reason: rec.Reason, ForOthers: rec.ForOthers && rec.Workload != azureWorkload,
		}
		row.Status, row.Tone = recordStatus(rec)
		v.Rows = append(v.Rows, row)
	}
	page := func(o int) string {
		p := url.Values{}
		for k, vs := range params {
			p[k] = vs
		}
		if o > 0 {
			p.Set("offset", strconv.Itoa(o))
		}
		if len(p) == 0 {
			return "/restores"
		}
		return "/restores?" + p.Encode()
	}
	if offset > 0 {
		v.PrevURL = page(max(offset-restoresPageSize, 0))
	}
	if more {
		v.NextURL = page(offset + len(recs))
	}
	return render(c, http.StatusOK, templates.RestoresPage(m, v))
}

// stopPolling is htmx's status for "answered; stop polling".
const stopPolling = 286

// notices handles GET /notices, which every page polls while the user has
// restores running: a notice for each restore of the last day that the
// watcher found ended and the user has not seen end (on its own page, or
// in an earlier notice). With nothing running, polling stops.
func (h *Handler) notices(c *echo.Context) error {
	ctx := c.Request().Context()
	u := userFrom(c)
	// Running first: a restore that ends between the two reads is then
	// still running here, and its notice comes with the next poll, rather
	// than the polling stopping before it.
	running, _, err := h.store.List(ctx, u.TenantID, u.OID, store.Filter{Status: store.StatusRunning}, 0, 1)
	if err != nil {
		return err
	}
	ended, err := h.store.Notices(ctx, u.TenantID, u.OID, h.cfg.Now().Add(-24*time.Hour), 5)
	if err != nil {
		return err
	}
	code := http.StatusOK
	if len(running) == 0 {
		code = stopPolling
	}
	if len(ended) == 0 {
		if code == stopPolling {
			return c.NoContent(stopPolling)
		}
		return c.NoContent(http.StatusNoContent)
	}
	out := make([]templates.Notice, len(ended))
	for i, rec := range ended {
		status, tone := recordStatus(rec)
		out[i] = templates.Notice{URL: "/restores/" + url.PathEscape(rec.ID), Tone: tone,
			Text: fmt.Sprintf("Your restore of %s from %s: %s.", countLabel(rec.ItemCount), rec.Source, strings.ToLower(status))}
	}
	return render(c, code, templates.Notices(out))
}

// restoreFilter reads the list's filters (days in the user's zone) and the
// query parameters that carry them to the next page.
func restoreFilter(q func(string) string, loc *time.Location) (store.Filter, url.Values, error) {
	f := store.Filter{Workload: q("workload"), Status: q("status"), Whose: q("whose")}
	params := url.Values{}
	if _, ok := workloadLabels[f.Workload]; f.Workload != "" && !ok {
		return f, nil, badRequest("Choose a workload from the list.")
	}
	switch f.Status {
	case "", store.StatusRunning, store.StatusSucceeded, store.StatusProblems:
	default:
		return f, nil, badRequest("Choose a status from the list.")
	}
	switch f.Whose {
	case "", "own", "others":
	default:
		return f, nil, badRequest("Choose whose data from the list.")
	}
	for _, k := range []string{"workload", "status", "whose"} {
		if x := q(k); x != "" {
			params.Set(k, x)
		}
	}
	var err error
	if f.From, f.To, err = dayRange(q, loc); err != nil {
		return f, nil, err
	}
	for _, k := range []string{"from", "to"} {
		if x := q(k); x != "" {
			params.Set(k, x)
		}
	}
	return f, params, nil
}
