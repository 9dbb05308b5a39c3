package handlers

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/openrestore/portal/audit"
	"github.com/openrestore/portal/authn"
	"github.com/openrestore/portal/templates"
	"github.com/openrestore/portal/veeamapi"
)

// auditKey is where a request's audit entry lives in the Echo context.
const auditKey = "audit-entry"

// auditEntry is what a restore, download or export request records once it
// has ended. Handlers fill in what they learn on the way (whose data, which
// items, the options, the VB365 session); the middleware records it however
// the request ends.
type auditEntry struct {
	audit.Event
	skip bool // not an attempt: the wizard was shown again to be completed
}

// auditOf returns the request's audit entry; outside an audited route, one
// that is never recorded.
func auditOf(c *echo.Context) *auditEntry {
	if e, ok := c.Get(auditKey).(*auditEntry); ok {
		return e
	}
	return &auditEntry{skip: true}
}

// audited records every request of a route in the audit trail exactly once,
// whether it succeeded, was refused or denied, failed upstream, panicked or
// lost its browser midway. The record is written with a context of its own:
// a browser that disconnects does not cancel it.
// Downloads and exports are rate-limited inside it, so that a refused one
// is audited as refused.
func (h *Handler) audited(action, workload string) echo.MiddlewareFunc {
	limit := func(next echo.HandlerFunc) echo.HandlerFunc { return next }
	if action == "download" || action == "export" {
		limit = h.limited("download", h.cfg.Limits.Download, byPerson)
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		next = limit(next)
		return func(c *echo.Context) (err error) {
			e := &auditEntry{Event: audit.Event{Action: action, Workload: workload}}
			c.Set(auditKey, e)
			defer func() {
				p := recover()
				if !e.skip {
					h.recordAudit(c, e, err, p != nil)
				}
				if p != nil {
					panic(p)
				}
			}()
			return next(c)
		}
	}
}

// subjectParams are the path parameters naming whose data a route acts on.
var subjectParams = []string{"mb", "owner"}

func (h *Handler) recordAudit(c *echo.Context, e *auditEntry, err error, panicked bool) {
	u := userFrom(c)
	e.Time = h.cfg.Now().UTC()
	e.TenantID, e.ActorOID, e.ActorUPN, e.ActorName = u.TenantID, u.OID, u.UPN, u.Name
	if e.SubjectID == "" {
		for _, p := range subjectParams {
			if v := c.Param(p); v != "" {
				if raw, uerr := unkey(v); uerr == nil && p == "owner" {
					v = raw
				}
				e.SubjectID = v
			}
		}
	}
	switch {
	case e.Outcome != "":
	case panicked:
		e.Outcome, e.Detail = audit.Failed, "the transfer broke off"
	case err != nil:
		ce := classify(err)
		status, message := ce.Status, ce.Title
		if ce.Message != "" {
			message = ce.Title + ": " + ce.Message
		}
		if needsSignIn(err) {
			status, message = http.StatusUnauthorized, "sign-in required"
		}
		switch {
		case status == http.StatusNotFound || status == http.StatusForbidden:
			e.Outcome = audit.Denied
		case status >= 400 && status < 500:
			e.Outcome = audit.Refused
		default:
			e.Outcome = audit.Failed
		}
		if message == "" {
			message = http.StatusText(status)
		}
		e.Detail = message
	default:
		e.Outcome = audit.Succeeded
	}
	if e.Action == "download" || e.Action == "export" {
		h.metrics.Download(e.Workload, e.Action, e.Outcome)
	}
	h.appendAudit(c.Request().Context(), e.Event)
}

// auditItems pairs ids with the names known for the first of them.
func auditItems(ids, names []string) []audit.Item {
	out := make([]audit.Item, len(ids))
	for i, id := range ids {
		out[i].ID = id
		if i < len(names) {
			out[i].Name = names[i]
		}
	}
	return out
}

// isAuditor reports whether the user may read the audit trail: one of their
// Entra app roles or groups is among the configured auditors.
func (h *Handler) isAuditor(c *echo.Context) bool { return hasRoleOrGroup(userFrom(c), h.cfg.Auditors) }

// hasRoleOrGroup reports whether one of the user's Entra app roles or
// groups is among wanted.
func hasRoleOrGroup(u *authn.User, wanted []string) bool {
	for _, a := range wanted {
		for _, have := range append(append([]string{}, u.Roles...), u.Groups...) {
			if strings.EqualFold(a, have) {
				return true
			}
		}
	}
	return false
}

// auditMailbox names the mailbox a request acts on.
func (h *Handler) auditMailbox(c *echo.Context, ref mailboxRef) {
	ae := auditOf(c)
	ae.SubjectID = ref.mailbox
	if mb, err := h.cachedMailbox(c.Request().Context(), userFrom(c).OID, ref); err == nil {
		ae.Subject = mailboxLabel(mb)
	}
}

// auditDocs names the OneDrive or site a request acts on.
func (h *Handler) auditDocs(c *echo.Context, ref docsRef) {
	ae := auditOf(c)
	ae.SubjectID = ref.id
	if title, _, err := h.docsTitle(c.Request().Context(), ref); err == nil {
		ae.Subject = title
	}
}

// auditDocItems lists documents for the trail.
func auditDocItems(docs []veeamapi.Doc) []audit.Item {
	out := make([]audit.Item, len(docs))
	for i := range docs {
		out[i] = audit.Item{ID: docs[i].ID, Name: docTitle(&docs[i])}
	}
	return out
}

const auditPageSize = 50

var auditOutcomeLabels = map[string]string{
	audit.Started: "Started", audit.Succeeded: "Succeeded", audit.Failed: "Failed", audit.Denied: "Denied",
	audit.Refused: "Refused", audit.Cancelled: "Cancelled",
}

// auditActionLabels say what an administration action was; restores,
// downloads and exports are their own words.
var auditActionLabels = map[string]string{
	"connect": "sign-in", "user-add": "user added", "user-change": "user changed", "user-password": "password reset",
	"user-remove": "user removed", "user-mfa-off": "MFA turned off", "own-mfa": "own MFA", "own-password": "own password changed",
}

func auditActionLabel(action string) string {
	if l, ok := auditActionLabels[action]; ok {
		return l
	}
	return action
}

var auditTones = map[string]string{
	audit.Started: "running", audit.Succeeded: "ok", audit.Failed: "bad", audit.Denied: "bad", audit.Refused: "warn", audit.Cancelled: "warn",
}

// requireAuditor refuses users who are not auditors.
func (h *Handler) requireAuditor(c *echo.Context) error {
	if h.isAuditor(c) {
		return nil
	}
	h.log.WarnContext(c.Request().Context(), "authz_fail", "resource", "audit", "oid", userFrom(c).OID)
	return &Error{Status: http.StatusForbidden, Title: "Only auditors can read the audit trail",
		Message: "Your account is not in the group or app role the portal's administrators chose for auditors. Ask them if you need access."}
}

// auditFilter reads the page's filters; days are in the user's zone.
func auditFilter(q func(string) string, loc *time.Location) (audit.Filter, error) {
	f := audit.Filter{Actor: strings.TrimSpace(q("actor")), Subject: strings.TrimSpace(q("subject")),
		Workload: q("workload"), Outcome: q("outcome")}
	if len(f.Actor) > 256 || len(f.Subject) > 256 {
		return f, badRequest("A filter is longer than 256 characters.")
	}
	if _, ok := workloadLabels[f.Workload]; f.Workload != "" && !ok {
		return f, badRequest("Choose a workload from the list.")
	}
	if _, ok := auditOutcomeLabels[f.Outcome]; f.Outcome != "" && !ok {
		return f, badRequest("Choose an outcome from the list.")
	}
	var err error
	f.From, f.To, err = dayRange(q, loc)
	return f, err
}

// auditPage handles GET /audit: the trail, filtered, fifty events a page.
func (h *Handler) auditPage(c *echo.Context) error {
	if err := h.requireAuditor(c); err != nil {
		return err
	}
	ctx, loc := c.Request().Context(), h.zone(c)
	q := c.QueryParam
	v := templates.AuditView{Actor: q("actor"), Subject: q("subject"), Workload: q("workload"), Outcome: q("outcome"),
		From: q("from"), To: q("to"), TimeZone: loc.String(),
		Workloads: []templates.Option{{Value: "", Label: "All"}}, Outcomes: []templates.Option{{Value: "", Label: "All"}}}
	workloads := []string{"exchange", "onedrive", "sharepoint", "teams"}
	if h.azure != nil {
		workloads = append(workloads, "vbazure")
	}
	for _, w := range workloads {
		v.Workloads = append(v.Workloads, templates.Option{Value: w, Label: workloadLabels[w]})
	}
	for _, o := range []string{audit.Started, audit.Succeeded, audit.Failed, audit.Denied, audit.Refused, audit.Cancelled} {
		v.Outcomes = append(v.Outcomes, templates.Option{Value: o, Label: auditOutcomeLabels[o]})
	}
	params := url.Values{}
	for _, k := range []string{"actor", "subject", "workload", "outcome", "from", "to"} {
		if x := q(k); x != "" {
			params.Set(k, x)
		}
	}
	v.CSVURL = "/audit.csv?" + params.Encode()
	m := h.meta(c, "Audit trail")
	m.Nav, m.Wide = "audit", true
	f, err := auditFilter(q, loc)
	pg, perr := auditPaging(q)
	if err == nil {
		err = perr
	}
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			return err
		}
		v.Error = e.Message
		return render(c, e.Status, templates.AuditPage(m, v))
	}
	total, err := h.store.Count(ctx, f)
	if err != nil {
		return err
	}
	// One event more than a page says whether there is more that way.
	f.Before, f.After, f.Offset, f.Limit = pg.before, pg.after, pg.offset, auditPageSize+1
	var events []audit.Event
	if err := h.store.Find(ctx, f, func(e audit.Event) error { events = append(events, e); return nil }); err != nil {
		return err
	}
	newer, older := pg.offset > 0 || pg.before != nil, pg.after != nil
	if len(events) > auditPageSize {
		if pg.after != nil {
			events, newer = events[1:], true // the extra one is the newest
		} else {
			events, older = events[:auditPageSize], true
		}
	}
	for _, e := range events {
		v.Rows = append(v.Rows, auditRow(e, loc))
	}
	switch {
	case total == 0:
		v.Summary = "Nothing matches these filters."
	case pg.before == nil && pg.after == nil:
		v.Summary = fmt.Sprintf("Events %s to %s of %s.", thousands(pg.offset+1), thousands(pg.offset+len(v.Rows)), thousands(total))
	case len(v.Rows) > 0:
		v.Summary = fmt.Sprintf("%s events of %s, from %s back to %s.", thousands(len(v.Rows)), thousands(total), v.Rows[0].When, v.Rows[len(v.Rows)-1].When)
	}
	// Paging by key: each page costs the same, however deep.
	if newer && len(events) > 0 {
		p := maps.Clone(params)
		p.Set("after", audit.CursorOf(events[0]).String())
		v.PrevURL = "/audit?" + p.Encode()
	}
	if older && len(events) > 0 {
		p := maps.Clone(params)
		p.Set("before", audit.CursorOf(events[len(events)-1]).String())
		v.NextURL = "/audit?" + p.Encode()
	}
	return render(c, http.StatusOK, templates.AuditPage(m, v))
}

// auditPaging is where in the trail a page starts: before or after an
// event (paging by key), or, for links made before, an offset.
type auditPage struct {
	before, after *audit.Cursor
	offset        int
}

func auditPaging(q func(string) string) (auditPage, error) {
	var pg auditPage
	for _, p := range []struct {
		name string
		into **audit.Cursor
	}{{"before", &pg.before}, {"after", &pg.after}} {
		if raw := q(p.name); raw != "" {
			c, err := audit.ParseCursor(raw)
			if err != nil {
				return pg, badRequest("That page of the audit trail does not exist. Go back to its first page.")
			}
			*p.into = &c
		}
	}
	if pg.before != nil && pg.after != nil {
		return pg, badRequest("That page of the audit trail does not exist. Go back to its first page.")
	}
	if pg.before == nil && pg.after == nil {
		n, err := parseOffset(q("offset"))
		pg.offset = n
		return pg, err
	}
	return pg, nil
}

// auditRow is how the page shows an event.
func auditRow(e audit.Event, loc *time.Location) templates.AuditRow {
	names := make([]string, 0, 3)
	for _, it := range e.Items {
		if len(names) == 3 {
			break
		}
		if it.Name != "" {
			names = append(names, it.Name)
		}
	}
	items := countLabel(e.ItemCount)
	if len(names) > 0 {
		items += ": " + strings.Join(names, ", ")
		if e.ItemCount > len(names) {
			items += "…"
		}
	}
	return templates.AuditRow{
		When: e.Time.In(loc).Format("Mon 2 Jan 2006, 15:04:05"), WhenISO: e.Time.UTC().Format(time.RFC3339),
		Actor: e.ActorName, ActorUPN: e.ActorUPN, Subject: e.Subject, Workload: workloadLabels[e.Workload], Action: auditActionLabel(e.Action),
		Items: items, Options: e.Options, Reason: e.Reason, SessionID: e.SessionID,
		Outcome: auditOutcomeLabels[e.Outcome], Tone: auditTones[e.Outcome], Detail: e.Detail,
	}
}

// auditCSV handles GET /audit.csv: every event matching the filters, as CSV, streamed.
func (h *Handler) auditCSV(c *echo.Context) error {
	if err := h.requireAuditor(c); err != nil {
		return err
	}
	f, err := auditFilter(c.QueryParam, h.zone(c))
	if err != nil {
		return err
	}
	w := c.Response()
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", contentDisposition("audit-"+h.cfg.Now().UTC().Format("2006-01-02")+".csv"))
	w.Header().Set("Content-Security-Policy", "default-src 'none'; sandbox")
	w.Header().Set("Cache-Control", "no-store")
	cw, err := audit.NewCSVWriter(streamed(w))
	if err != nil {
		return err
	}
	h.log.InfoContext(c.Request().Context(), "audit_exported", "oid", userFrom(c).OID)
	if err := h.store.Find(c.Request().Context(), f, cw.Write); err != nil {
		h.log.ErrorContext(c.Request().Context(), "audit_export_failed", "error", err)
		panic(http.ErrAbortHandler) // the header is out; break the transfer rather than end it as if whole
	}
	return cw.Flush()
}
