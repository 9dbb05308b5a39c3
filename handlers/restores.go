package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/openrestore/portal/history"
	"github.com/openrestore/portal/templates"
	"github.com/openrestore/portal/veeamapi"
)

const (
	restoresPageSize = 25
	// restoreEventsShown caps the per-item results a progress page lists;
	// the counts always cover every item.
	restoreEventsShown = 500
)

var workloadLabels = map[string]string{"exchange": "Exchange", "onedrive": "OneDrive", "sharepoint": "SharePoint", "teams": "Teams"}

// record finds the user's restore with the id in the path.
func (h *Handler) record(c *echo.Context) (history.Record, error) {
	id := c.Param("id")
	u := userFrom(c)
	if !sessionIDPattern.MatchString(id) {
		return history.Record{}, notFoundOrNotYours(fmt.Errorf("restore %q: not an id", id))
	}
	rec, err := h.history.Get(c.Request().Context(), u.TenantID, u.OID, id)
	if errors.Is(err, history.ErrNotFound) {
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
	if isPartial(c) && c.Request().Header.Get("HX-Target") == templates.RestoreProgressID {
		return render(c, http.StatusOK, templates.RestoreProgress(v))
	}
	m := h.meta(c, v.Title)
	m.Nav = "restores"
	return render(c, http.StatusOK, templates.RestorePage(m, v))
}

// progress asks VB365 how the restore is going, and records its end once.
func (h *Handler) progress(c *echo.Context, rec history.Record) (templates.RestoreProgressView, error) {
	ctx := c.Request().Context()
	loc := h.zone(c)
	v := templates.RestoreProgressView{
		URL: "/restores/" + url.PathEscape(rec.ID), Title: "Restore of " + countLabel(rec.Items) + " from " + rec.Source,
		Source: rec.Source, Target: rec.Target, Options: rec.Options, Reason: rec.Reason,
		Started: rec.Started.In(loc).Format("Monday 2 January 2006, 15:04:05 MST"), StartedISO: rec.Started.Format(time.RFC3339),
		PointLabel: rec.PointTime.In(loc).Format("Monday 2 January 2006, 15:04 MST"), Total: rec.Items,
	}
	op := h.operator()
	var (
		s      *veeamapi.RestoreSession
		st     *veeamapi.Statistics
		events *veeamapi.Page[veeamapi.RestoreSessionEvent]
		errs   [3]error
		wg     sync.WaitGroup
	)
	wg.Go(func() { s, errs[0] = op.RestoreSession(ctx, rec.ID) })
	wg.Go(func() { st, errs[1] = op.RestoreSessionStatistics(ctx, rec.ID) })
	wg.Go(func() {
		events, errs[2] = op.RestoreSessionEvents(ctx, rec.ID, veeamapi.PageOptions{Limit: restoreEventsShown})
	})
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		if !errors.Is(err, veeamapi.ErrNotFound) {
			return v, err
		}
		// VB365 keeps restore sessions for a while only; the portal's record remains.
		v.Notice = "The backup server no longer has the details of this restore; this is what the portal recorded."
		v.Status, v.StatusTone = finishedStatus(rec.Result, rec.Finished != nil, rec.Restored, rec.Skipped)
		v.Restored, v.Skipped, v.Failed, v.Done = rec.Restored, rec.Skipped, rec.Failed, rec.Restored+rec.Skipped+rec.Failed
		return v, nil
	}
	v.Total = int(st.Total)
	v.Restored, v.Skipped, v.Failed = int(st.Restored), int(st.Skipped), int(st.Failed)
	v.Done = v.Restored + v.Skipped + v.Failed
	v.Running = s.State == veeamapi.SessionWorking
	if v.Running {
		v.Status, v.StatusTone = fmt.Sprintf("Restoring… %s of %s done", thousands(v.Done), thousands(v.Total)), "running"
	} else {
		v.Status, v.StatusTone = finishedStatus(s.Result, true, v.Restored, v.Skipped)
		if rec.Finished == nil {
			h.recordEnd(ctx, rec, s, st)
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

// finishedStatus says how a restore ended.
func finishedStatus(result string, finished bool, restored, skipped int) (string, string) {
	if !finished {
		return "Status unknown", "warn"
	}
	switch {
	case result == "Success" && restored == 0 && skipped > 0:
		return "Finished: nothing needed restoring (see each item below)", "warn"
	case result == "Success" && skipped > 0:
		return fmt.Sprintf("Finished: %s restored, %s skipped", thousands(restored), thousands(skipped)), "ok"
	}
	switch result {
	case "Success":
		return "Finished", "ok"
	case "Warning":
		return "Finished with problems: some items were not restored", "warn"
	case "Failed":
		return "Failed: nothing was restored", "bad"
	}
	return "Finished (" + result + ")", "warn"
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

// restoresPage handles GET /restores[?offset=]: the user's restores, newest
// first, with the live status of those still running.
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
			{Value: "sharepoint", Label: "SharePoint"}, {Value: "teams", Label: "Teams"}},
		Statuses: []templates.Option{{Value: "", Label: "All"}, {Value: history.StatusRunning, Label: "In progress"},
			{Value: history.StatusSucceeded, Label: "Finished"}, {Value: history.StatusProblems, Label: "With problems"}},
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
	recs, more, err := h.history.List(ctx, u.TenantID, u.OID, f, offset, restoresPageSize)
	if err != nil {
		return err
	}
	rows := make([]templates.RestoreRow, len(recs))
	op := h.operator()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i, rec := range recs {
		rows[i] = templates.RestoreRow{
			URL: "/restores/" + url.PathEscape(rec.ID), Started: rec.Started.In(loc).Format("Mon 2 Jan 2006, 15:04"),
			StartedISO: rec.Started.Format(time.RFC3339), Workload: workloadLabels[rec.Workload], Source: rec.Source,
			Items: rec.Items, Target: rec.Target, Reason: rec.Reason, ForOthers: rec.ForOthers,
		}
		if rec.Finished != nil {
			rows[i].Status, rows[i].Tone = finishedStatus(rec.Result, true, rec.Restored, rec.Skipped)
			continue
		}
		rows[i].Status, rows[i].Tone = "Running", "running"
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			s, err := op.RestoreSession(ctx, rec.ID)
			switch {
			case errors.Is(err, veeamapi.ErrNotFound):
				rows[i].Status, rows[i].Tone = finishedStatus("", false, 0, 0)
			case err != nil:
				rows[i].Status, rows[i].Tone = "Status unavailable", "warn"
			case s.State != veeamapi.SessionWorking:
				restored, skipped := h.finish(ctx, op, rec, s)
				rows[i].Status, rows[i].Tone = finishedStatus(s.Result, true, restored, skipped)
			}
		})
	}
	wg.Wait()
	v.Rows = rows
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

// finish records the end of a restore that the list found stopped, with its
// counts, and returns them.
func (h *Handler) finish(ctx context.Context, op *veeamapi.Operator, rec history.Record, s *veeamapi.RestoreSession) (restored, skipped int) {
	st, err := op.RestoreSessionStatistics(ctx, rec.ID)
	if err != nil {
		h.log.WarnContext(ctx, "restore_statistics_failed", "restore_session", rec.ID, "error", err)
		return 1, 0 // unknown; say "Finished" without counts
	}
	h.recordEnd(ctx, rec, s, st)
	return int(st.Restored), int(st.Skipped)
}

// recordEnd writes how a restore ended into its record, once.
func (h *Handler) recordEnd(ctx context.Context, rec history.Record, s *veeamapi.RestoreSession, st *veeamapi.Statistics) (first bool) {
	end := h.cfg.Now().UTC()
	if s.EndTime != nil {
		end = *s.EndTime
	}
	restored, skipped, failed := int(st.Restored), int(st.Skipped), int(st.Failed)
	first, err := h.history.Finish(context.WithoutCancel(ctx), rec.ID, end, s.Result, restored, skipped, failed)
	if err != nil {
		h.log.ErrorContext(ctx, "restore_history_failed", "restore_session", rec.ID, "error", err)
	}
	if !first {
		return false
	}
	h.log.InfoContext(ctx, "restore_finished", "restore_session", rec.ID, "result", s.Result,
		"restored", restored, "skipped", skipped, "failed", failed, "oid", rec.UserOID)
	return true
}

// stopPolling is htmx's status for "answered; stop polling".
const stopPolling = 286

// notices handles GET /notices, which every page polls while the user has
// restores running: a notice for each that has ended since it was last
// looked at (its progress page, My restores or an earlier notice would have
// recorded the end). With nothing running, polling stops.
func (h *Handler) notices(c *echo.Context) error {
	ctx := c.Request().Context()
	u := userFrom(c)
	running, _, err := h.history.List(ctx, u.TenantID, u.OID,
		history.Filter{Status: history.StatusRunning, From: h.cfg.Now().Add(-24 * time.Hour)}, 0, 5)
	if err != nil {
		return err
	}
	if len(running) == 0 {
		return c.NoContent(stopPolling)
	}
	op := h.operator()
	var out []templates.Notice
	still := 0
	for _, rec := range running {
		s, err := op.RestoreSession(ctx, rec.ID)
		if err != nil || s.State == veeamapi.SessionWorking {
			still++
			continue
		}
		st, err := op.RestoreSessionStatistics(ctx, rec.ID)
		if err != nil {
			still++
			continue
		}
		if !h.recordEnd(ctx, rec, s, st) {
			continue
		}
		status, tone := finishedStatus(s.Result, true, int(st.Restored), int(st.Skipped))
		out = append(out, templates.Notice{URL: "/restores/" + url.PathEscape(rec.ID), Tone: tone,
			Text: fmt.Sprintf("Your restore of %s from %s: %s.", countLabel(rec.Items), rec.Source, strings.ToLower(status))})
	}
	code := http.StatusOK
	if still == 0 {
		code = stopPolling
	}
	if len(out) == 0 {
		if code == stopPolling {
			return c.NoContent(stopPolling)
		}
		return c.NoContent(http.StatusNoContent)
	}
	return render(c, code, templates.Notices(out))
}

// restoreFilter reads the list's filters (days in the user's zone) and the
// query parameters that carry them to the next page.
func restoreFilter(q func(string) string, loc *time.Location) (history.Filter, url.Values, error) {
	f := history.Filter{Workload: q("workload"), Status: q("status"), Whose: q("whose")}
	params := url.Values{}
	if _, ok := workloadLabels[f.Workload]; f.Workload != "" && !ok {
		return f, nil, badRequest("Choose a workload from the list.")
	}
	switch f.Status {
	case "", history.StatusRunning, history.StatusSucceeded, history.StatusProblems:
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
