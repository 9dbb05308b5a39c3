package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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
	"github.com/openrestore/portal/templates"
)

// The restore list gathers items from any mailbox, OneDrive or site of any
// open restore session; one submit starts the restores they need, one per
// workload and owner (a site's documents and list items take one each).
const (
	restoreListKey    = "restore_list"
	restoreListRunKey = "restore_list_run"
	maxListItems      = 1000
	maxListAdd        = 200
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

func (h *Handler) restoreList(ctx context.Context) []listEntry {
	var out []listEntry
	if b := h.sessions.GetBytes(ctx, restoreListKey); len(b) > 0 {
		json.Unmarshal(b, &out)
	}
	return out
}

func (h *Handler) saveRestoreList(ctx context.Context, list []listEntry) {
	if len(list) == 0 {
		h.sessions.Remove(ctx, restoreListKey)
		return
	}
	b, _ := json.Marshal(list)
	h.sessions.Put(ctx, restoreListKey, b)
}

// addToList appends entries the list does not hold yet.
func (h *Handler) addToList(c *echo.Context, add []listEntry) error {
	ctx := c.Request().Context()
	list := h.restoreList(ctx)
	added := 0
	for _, e := range add {
		if slices.ContainsFunc(list, func(x listEntry) bool { return x.group() == e.group() && x.Key == e.Key }) {
			continue
		}
		if len(list) >= maxListItems {
			return &Error{Status: http.StatusUnprocessableEntity, Title: "The restore list is full",
				Message: fmt.Sprintf("It holds %s items, the most it can. Restore them, or remove some, before adding more.", thousands(maxListItems))}
		}
		list = append(list, e)
		added++
	}
	h.saveRestoreList(ctx, list)
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

// restoreListFormKey keeps a refused submit's form until the page shows it.
const restoreListFormKey = "restore_list_form"

// restoreListPage handles GET /restore-list: the list by workload and owner,
// with each group's options, one reason and one submit; and the last run.
func (h *Handler) restoreListPage(c *echo.Context) error {
	ctx := c.Request().Context()
	var f listForm
	if b := h.sessions.PopBytes(ctx, restoreListFormKey); len(b) > 0 {
		json.Unmarshal(b, &f)
	}
	loc := h.zone(c)
	list := h.restoreList(ctx)
	v := templates.RestoreListView{CSRFToken: h.auth.CSRFToken(ctx), Reason: templates.ReasonView{Value: f.Reason, Error: f.Problems["reason"]},
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
			OneDrive: e.Workload == "onedrive", Exchange: e.Workload == "exchange", Others: e.Others,
			Missing: true, Changed: true, Error: f.Problems["which-"+g.id]}
		if o := f.Options[g.id]; o != nil {
			gv.Missing, gv.Changed, gv.Overwrite = o.Get("missing") == "1", o.Get("changed") == "1", o.Get("action") == "overwrite"
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
	v.Runs, v.Running = h.listRuns(c)
	m := h.meta(c, "Restore list")
	m.Nav = "list"
	return render(c, http.StatusOK, templates.RestoreListPage(m, v))
}

// removeFromList handles POST /restore-list/remove: the ticked items, or all.
func (h *Handler) removeFromList(c *echo.Context) error {
	ctx := c.Request().Context()
	form, err := postForm(c)
	if err != nil {
		return err
	}
	if form.Get("all") == "1" {
		h.saveRestoreList(ctx, nil)
		return seeOther(c, "/restore-list")
	}
	drop := map[string]bool{}
	for _, v := range form["remove"] {
		drop[v] = true
	}
	list := slices.DeleteFunc(h.restoreList(ctx), func(e listEntry) bool { return drop[e.group()+":"+e.Key] })
	h.saveRestoreList(ctx, list)
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
	ctx := c.Request().Context()
	form, err := postForm(c)
	if err != nil {
		return err
	}
	submission := form.Get("submission")
	if !sessionIDPattern.MatchString(submission) {
		return badRequest("The form is not one of the portal's: reload the restore list and submit it again.")
	}
	groups := groupList(h.restoreList(ctx))
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
		b, _ := json.Marshal(f)
		h.sessions.Put(ctx, restoreListFormKey, b)
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
	var keep []listEntry
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
		if run.Error != "" {
			keep = append(keep, lp.group.entries...)
		}
		runs = append(runs, run)
	}
	h.saveRestoreList(ctx, keep)
	b, _ := json.Marshal(listSubmit{Submission: submission, Runs: runs})
	h.sessions.Put(ctx, restoreListRunKey, b)
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
func (h *Handler) listRuns(c *echo.Context) ([]templates.ListRunView, bool) {
	ctx := c.Request().Context()
	var last listSubmit
	if b := h.sessions.GetBytes(ctx, restoreListRunKey); len(b) > 0 {
		json.Unmarshal(b, &last)
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
	return views, running
}

// restoreListRuns handles GET /restore-list/runs: the last submit's
// progress, which the page polls until every restore has ended.
func (h *Handler) restoreListRuns(c *echo.Context) error {
	runs, running := h.listRuns(c)
	code := http.StatusOK
	if !running {
		code = stopPolling
	}
	return render(c, code, templates.ListRuns(runs, running))
}
