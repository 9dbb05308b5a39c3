package handlers

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/openrestore/portal/audit"
	"github.com/openrestore/portal/restore"
	"github.com/openrestore/portal/store"
	"github.com/openrestore/portal/templates"
)

// The restore list gathers items from any mailbox, OneDrive or site of any
// open restore session; one submit starts the restores they need, one per
// workload and owner (a site's documents and list items take one each).
const (
	maxListItems = 1000
	maxListAdd   = 200
)

// listEntry is one item on the list.
type listEntry struct {
	Workload  string    `json:"w"`
	Session   string    `json:"s"`
	Owner     string    `json:"o"` // the mailbox, OneDrive or site id
	OwnerName string    `json:"on"`
	Key       string    `json:"k"` // as the owner's lists carry it
	Name      string    `json:"n"`
	PointTime time.Time `json:"p"`
	Others    bool      `json:"x"` // someone else's data
}

func (e listEntry) group() string {
	sum := sha256.Sum256([]byte(e.Workload + "\x00" + e.Session + "\x00" + e.Owner))
	return hex.EncodeToString(sum[:6])
}

// id is the entry's key on the list, as the list page's forms name it.
func (e listEntry) id() string { return e.group() + ":" + e.Key }

func (h *Handler) restoreList(c *echo.Context) ([]listEntry, error) {
	return sessionEntries[listEntry](c, h.store, restoreListSet)
}

// removeFromListByID removes entries by id; nil removes them all.
func (h *Handler) removeFromListByID(c *echo.Context, ids []string) error {
	return h.store.RemoveEntries(c.Request().Context(), userFrom(c).SID, restoreListSet, ids)
}

// addToList adds the entries the list does not hold yet: all of them, or
// none when they would overfill it.
func (h *Handler) addToList(c *echo.Context, add []listEntry) error {
	ctx := c.Request().Context()
	entries := make([]store.Entry, len(add))
	for i, e := range add {
		entries[i] = h.entry(e.id(), e)
	}
	added, err := h.store.AddEntries(ctx, userFrom(c).SID, restoreListSet, entries, maxListItems, false)
	if errors.Is(err, store.ErrFull) {
		return &Error{Status: http.StatusUnprocessableEntity, Title: "The restore list is full",
			Message: fmt.Sprintf("It holds at most %s items. Restore them, or remove some, before adding more.", thousands(maxListItems))}
	}
	if err != nil {
		return err
	}
	h.log.InfoContext(ctx, "restore_list_added", "items", added, "oid", userFrom(c).OID)
	return seeOther(c, "/restore-list?added="+fmt.Sprint(added))
}

func listKeys(form url.Values) ([]string, error) {
	keys := form["item"]
	if len(keys) == 0 {
		return nil, &Error{Status: http.StatusBadRequest, Title: "Nothing selected",
			Message: "Tick the items to add to the restore list first."}
	}
	if len(keys) > maxListAdd {
		return nil, badRequest(fmt.Sprintf("Add at most %d items at once.", maxListAdd))
	}
	return keys, nil
}

// listGroup is the entries of one workload and owner in one restore session.
type listGroup struct {
	id      string
	entries []listEntry
}

func groupList(list []listEntry) []*listGroup {
	var out []*listGroup
	byID := map[string]*listGroup{}
	for _, e := range list {
		g, ok := byID[e.group()]
		if !ok {
			g = &listGroup{id: e.group()}
			byID[g.id] = g
			out = append(out, g)
		}
		g.entries = append(g.entries, e)
	}
	return out
}

// listRun is what one group's part of a submit became: its restores, or
// why it did not start.
type listRun struct {
	Label    string   `json:"l"`
	Restores []string `json:"r,omitempty"`
	Error    string   `json:"e,omitempty"`
	Items    int      `json:"n"`
}

// listSubmit is the last submit of the list: its key and its runs.
type listSubmit struct {
	Submission string    `json:"s"`
	Runs       []listRun `json:"r"`
}

// listForm is the list page's choices, as typed.
type listForm struct {
	Reason   string                `json:"r"`
	Options  map[string]url.Values `json:"o"` // per group
	Problems map[string]string     `json:"p"` // field id → what to change
}

// restoreListPage handles GET /restore-list: the list by workload and owner,
// with each group's options, one reason and one submit; and the last run.
func (h *Handler) restoreListPage(c *echo.Context) error {
	ctx := c.Request().Context()
	var f listForm
	if _, err := h.takeSessionValue(c, restoreListForm, &f); err != nil {
		return err
	}
	loc := h.zone(c)
	list, err := h.restoreList(c)
	if err != nil {
		return err
	}
	v := templates.RestoreListView{CSRFToken: h.csrfToken(ctx), Reason: templates.ReasonView{Value: f.Reason, Error: f.Problems["reason"]},
		Submission: newID()}
	switch n := c.QueryParam("added"); {
	case n == "0":
		v.Added = "Those items are on the restore list already."
	case n != "":
		v.Added = "Added to the restore list."
	}
	for _, g := range groupList(list) {
		e := g.entries[0]
		gv := templates.ListGroupView{ID: g.id, Workload: workloadLabels[e.Workload], Owner: e.OwnerName,
			Point: e.PointTime.In(loc).Format("Mon 2 Jan 2006, 15:04"), SharePoint: e.Workload == "sharepoint",
			OneDrive: e.Workload == "onedrive", Exchange: e.Workload == "exchange", AzureVM: e.Workload == azureWorkload, Others: e.Others && e.Workload != azureWorkload,
			Missing: true, Changed: true, Error: f.Problems["which-"+g.id]}
		if o := f.Options[g.id]; o != nil {
			gv.Missing, gv.Changed = o.Get("missing") == "1", o.Get("changed") == "1"
			gv.Overwrite = o.Get("action") == "overwrite" || o.Get("conflict") == "overwrite"
		}
		for _, x := range g.entries {
			gv.Items = append(gv.Items, templates.ListItemView{Name: x.Name, Value: g.id + ":" + x.Key})
		}
		v.Groups = append(v.Groups, gv)
		v.Count += len(g.entries)
		v.Reason.Required = v.Reason.Required || h.cfg.RestoreReason.ReasonRequired(e.Others)
	}
	for _, id := range slices.Sorted(maps.Keys(f.Problems)) {
		v.Problems = append(v.Problems, templates.Problem{Field: id, Text: f.Problems[id]})
	}
	v.CountLabel = countLabel(v.Count)
	if v.Runs, v.Running, err = h.listRuns(c); err != nil {
		return err
	}
	m := h.meta(c, "Restore list")
	m.Nav = "list"
	return render(c, http.StatusOK, templates.RestoreListPage(m, v))
}

// removeFromList handles POST /restore-list/remove: the ticked items, or all.
func (h *Handler) removeFromList(c *echo.Context) error {
	form, err := postForm(c)
	if err != nil {
		return err
	}
	ids := form["remove"]
	switch {
	case form.Get("all") == "1":
		ids = nil
	case len(ids) == 0:
		return seeOther(c, "/restore-list")
	case len(ids) > maxListItems:
		return badRequest(fmt.Sprintf("Remove at most %s items at once.", thousands(maxListItems)))
	}
	if err := h.removeFromListByID(c, ids); err != nil {
		return err
	}
	return seeOther(c, "/restore-list")
}

// listGroupForm maps a group's options on the list page to its workload
// wizard's fields: back where they were, the restore point's version.
func listGroupForm(workload string, form url.Values, id string) url.Values {
	o := url.Values{"target": {"original"}, "versions": {"last"}, "last": {"merge"}, "permissions": {"1"},
		"missing": {form.Get("missing_" + id)}, "changed": {form.Get("changed_" + id)}, "action": {form.Get("action_" + id)}}
	if workload == "onedrive" && o.Get("action") == "" {
		o.Set("action", "keep")
	}
	if workload == azureWorkload {
		o = url.Values{"target": {"original"}, "conflict": {"keep"}}
		if form.Get("action_"+id) == "overwrite" {
			o.Set("conflict", "overwrite")
		}
	}
	return o
}

// listPlan is a group's restores, ready for the pipeline.
type listPlan struct {
	group *listGroup
	label string
	plans []restorePlan
	err   error // the group could not be prepared
}

// runRestoreList handles POST /restore-list/run: one restore per group
// (two for a site's documents and list items), all through the one
// pipeline under the form's one-time key. Groups that started leave the
// list; a group that did not stays, with why, so that submitting again
// retries only what failed. A form with problems comes back with them.
func (h *Handler) runRestoreList(c *echo.Context) error {
	form, err := postForm(c)
	if err != nil {
		return err
	}
	submission := form.Get("submission")
	if !sessionIDPattern.MatchString(submission) {
		return badRequest("The form is not one of the portal's: reload the restore list and submit it again.")
	}
	list, err := h.restoreList(c)
	if err != nil {
		return err
	}
	groups := groupList(list)
	if len(groups) == 0 {
		return seeOther(c, "/restore-list")
	}
	f := listForm{Reason: strings.TrimSpace(form.Get("reason")), Options: map[string]url.Values{}, Problems: map[string]string{}}
	var prepared []*listPlan
	forOthers := false
	type optioned struct {
		w    *wizard
		opts restoreOptions
	}
	ready := map[*listPlan]optioned{}
	for _, g := range groups {
		e := g.entries[0]
		lp := &listPlan{group: g, label: workloadLabels[e.Workload] + ": " + e.OwnerName}
		prepared = append(prepared, lp)
		o := listGroupForm(e.Workload, form, g.id)
		f.Options[g.id] = o
		forOthers = forOthers || e.Others
		w, err := h.prepareGroup(c, g)
		if err != nil {
			lp.err = err
			continue
		}
		opts := w.options(o, false)
		if p := opts.problems()["which"]; p != "" {
			f.Problems["which-"+g.id] = lp.label + ": " + p
		}
		ready[lp] = optioned{w, opts}
	}
	if p := reasonProblem(f.Reason, h.cfg.RestoreReason.ReasonRequired(forOthers)); p != "" {
		f.Problems["reason"] = p
	}
	if len(f.Problems) > 0 {
		if err := h.setSessionValue(c, restoreListForm, f); err != nil {
			return err
		}
		return seeOther(c, "/restore-list")
	}
	var plans []restorePlan
	for _, lp := range prepared {
		if r, ok := ready[lp]; ok {
			lp.plans = r.opts.plans(r.w, f.Reason)
			plans = append(plans, lp.plans...)
		}
	}
	var records []restore.Record
	if len(plans) > 0 {
		records, err = h.startRestores(c, submission, plans)
		switch {
		case errors.Is(err, errSubmittedBefore):
			return seeOther(c, "/restore-list")
		case err != nil && len(records) == 0:
			return err
		}
	}
	var runs []listRun
	started := []string{} // not nil: nil would remove every entry
	next := 0
	for _, lp := range prepared {
		run := listRun{Label: lp.label, Items: len(lp.group.entries)}
		if lp.err != nil {
			ce := classify(lp.err)
			run.Error = strings.TrimSpace(ce.Title + ". " + ce.Message)
			h.auditListGroup(c, lp, f.Reason, ce)
		}
		for range lp.plans {
			r := records[next]
			next++
			run.Restores = append(run.Restores, r.ID)
			if r.State != restore.Running {
				run.Error = r.Detail + "."
			}
		}
		if run.Error == "" {
			for _, e := range lp.group.entries {
				started = append(started, e.id())
			}
		}
		runs = append(runs, run)
	}
	// Only what started leaves the list: what another tab added meanwhile stays.
	if err := errors.Join(h.removeFromListByID(c, started),
		h.setSessionValue(c, restoreListRunKey, listSubmit{Submission: submission, Runs: runs})); err != nil {
		h.log.ErrorContext(c.Request().Context(), "restore_list_unsaved", "error", err)
	}
	return seeOther(c, "/restore-list")
}

// auditListGroup records a group that could not be prepared.
func (h *Handler) auditListGroup(c *echo.Context, lp *listPlan, reason string, ce *Error) {
	u := userFrom(c)
	e := lp.group.entries[0]
	ev := audit.Event{Time: h.cfg.Now().UTC(), TenantID: u.TenantID, ActorOID: u.OID, ActorUPN: u.UPN, ActorName: u.Name,
		Subject: e.OwnerName, SubjectID: e.Owner, Workload: e.Workload, Action: "restore", Reason: reason,
		Outcome: audit.Failed, Detail: strings.TrimSpace(ce.Title + ": " + ce.Message)}
	if ce.Status == http.StatusNotFound || ce.Status == http.StatusForbidden {
		ev.Outcome = audit.Denied
	}
	for _, x := range lp.group.entries {
		ev.Items = append(ev.Items, audit.Item{ID: x.Key, Name: x.Name})
	}
	h.appendAudit(c.Request().Context(), ev)
}

// listRuns shows the last submit's restores as they stand, and whether any
// still runs.
func (h *Handler) listRuns(c *echo.Context) ([]templates.ListRunView, bool, error) {
	ctx := c.Request().Context()
	var last listSubmit
	if _, err := h.sessionValue(c, restoreListRunKey, &last); err != nil {
		return nil, false, err
	}
	u := userFrom(c)
	running := false
	views := make([]templates.ListRunView, len(last.Runs))
	for i, r := range last.Runs {
		v := templates.ListRunView{Label: r.Label, Items: r.Items, Error: r.Error, Status: "Not started", Tone: "bad"}
		for j, id := range r.Restores {
			rec, err := h.store.Get(ctx, u.TenantID, u.OID, id)
			if err != nil {
				v.Status, v.Tone = "Status unavailable", "warn"
				continue
			}
			if j == 0 {
				v.URL = "/restores/" + url.PathEscape(id)
				v.Status, v.Tone = recordStatus(rec)
			}
			if !rec.Done() {
				running = true
				v.Status, v.Tone = "In progress", "running"
			}
		}
		views[i] = v
	}
	return views, running, nil
}

// restoreListRuns handles GET /restore-list/runs: the last submit's
// progress, which the page polls until every restore has ended.
func (h *Handler) restoreListRuns(c *echo.Context) error {
	runs, running, err := h.listRuns(c)
	if err != nil {
		return err
	}
	code := http.StatusOK
	if !running {
		code = stopPolling
	}
	return render(c, code, templates.ListRuns(runs, running))
}
