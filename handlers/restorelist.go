package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v5"

	"github.com/openrestore/portal/audit"
	"github.com/openrestore/portal/history"
	"github.com/openrestore/portal/templates"
	"github.com/openrestore/portal/veeamapi"
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

// addMailToList handles POST …/mailboxes/:mb/restore-list: the ticked items.
func (h *Handler) addMailToList(c *echo.Context) error {
	ref, err := h.mailboxRef(c)
	if err != nil {
		return err
	}
	form, err := postForm(c)
	if err != nil {
		return err
	}
	keys, err := listKeys(form)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	mb, err := h.cachedMailbox(ctx, userFrom(c).OID, ref)
	if err != nil {
		return err
	}
	entries := make([]listEntry, len(keys))
	errs := make([]error, len(keys))
	op := h.operator()
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, k := range keys {
		id, err := unkey(k)
		if err != nil {
			return badRequest("The form names an item the portal does not know.")
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			it, err := op.Item(ctx, ref.session.ID, ref.mailbox, id)
			if err != nil {
				errs[i] = err
				return
			}
			entries[i] = listEntry{Workload: "exchange", Session: ref.session.ID, Owner: ref.mailbox, OwnerName: mailboxLabel(mb),
				Key: k, Name: itemTitle(it), PointTime: ref.session.PointTime, Others: !ownMailbox(c, mb)}
		})
	}
	wg.Wait()
	if err := firstError(errs...); err != nil {
		return err
	}
	return h.addToList(c, entries)
}

// addDocsToList handles POST …/onedrives|sites/:owner/restore-list.
func (h *Handler) addDocsToList(workload string) echo.HandlerFunc {
	return func(c *echo.Context) error {
		ref, err := h.docsRef(c, workload)
		if err != nil {
			return err
		}
		form, err := postForm(c)
		if err != nil {
			return err
		}
		keys, err := listKeys(form)
		if err != nil {
			return err
		}
		sel, err := readDocSelection(url.Values{"item": keys}, h.zone(c), ref.sharePoint())
		if err != nil {
			return err
		}
		ctx := c.Request().Context()
		title, subtitle, err := h.docsTitle(ctx, ref)
		if err != nil {
			return err
		}
		docs, err := h.resolveDocs(ctx, ref, sel)
		if err != nil {
			return err
		}
		entries := make([]listEntry, len(docs))
		for i := range docs {
			entries[i] = listEntry{Workload: workload, Session: ref.session.ID, Owner: ref.id, OwnerName: title, Key: sel.keys[i],
				Name: docTitle(&docs[i]), PointTime: ref.session.PointTime, Others: ref.sharePoint() || !ownOneDrive(subtitle, userFrom(c).UPN)}
			if docs[i].IsFolder {
				entries[i].Name += " (folder)"
			}
		}
		return h.addToList(c, entries)
	}
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

// listRun is the outcome of one group's restore, shown after a submit.
type listRun struct {
	Label     string `json:"l"`
	RestoreID string `json:"r,omitempty"`
	Error     string `json:"e,omitempty"`
	Items     int    `json:"n"`
}

// restoreListPage handles GET /restore-list: the list by workload and owner,
// with each group's options, one reason and one submit; and the last run.
func (h *Handler) restoreListPage(c *echo.Context) error {
	return h.renderRestoreList(c, http.StatusOK, listForm{}, nil)
}

// listForm is the list page's choices.
type listForm struct {
	reason  string
	options map[string]url.Values // per group
}

func (h *Handler) renderRestoreList(c *echo.Context, status int, f listForm, problems []string) error {
	ctx := c.Request().Context()
	loc := h.zone(c)
	list := h.restoreList(ctx)
	v := templates.RestoreListView{CSRFToken: h.auth.CSRFToken(ctx), Reason: f.reason, Errors: problems}
	if n := c.QueryParam("added"); n != "" && status == http.StatusOK {
		v.Added = "Added to the restore list."
		if n == "0" {
			v.Added = "Those items are on the restore list already."
		}
	}
	for _, g := range groupList(list) {
		e := g.entries[0]
		gv := templates.ListGroupView{ID: g.id, Workload: workloadLabels[e.Workload], Owner: e.OwnerName,
			Point: e.PointTime.In(loc).Format("Mon 2 Jan 2006, 15:04"), SharePoint: e.Workload == "sharepoint",
			OneDrive: e.Workload == "onedrive", Exchange: e.Workload == "exchange", Others: e.Others}
		o := f.options[g.id]
		gv.Missing, gv.Changed, gv.Overwrite = true, true, false
		if o != nil {
			gv.Missing, gv.Changed, gv.Overwrite = o.Get("missing") == "1", o.Get("changed") == "1", o.Get("action") == "overwrite"
		}
		for _, x := range g.entries {
			gv.Items = append(gv.Items, templates.ListItemView{Name: x.Name, Value: g.id + ":" + x.Key})
		}
		v.Groups = append(v.Groups, gv)
		v.Count += len(g.entries)
		v.ReasonRequired = v.ReasonRequired || h.cfg.RestoreReason == "required" || (h.cfg.RestoreReason == "others" && e.Others)
	}
	v.CountLabel = countLabel(v.Count)
	runs, ids := h.listRuns(c)
	v.Running = h.runStatuses(c, runs, ids)
	v.Runs = runs
	m := h.meta(c, "Restore list")
	m.Nav = "list"
	return render(c, status, templates.RestoreListPage(m, v))
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

// runRestoreList handles POST /restore-list/run: one restore per group, each
// recorded in My restores and the audit trail. Groups that started leave
// the list; a group that failed stays, with why, so that trying again
// resubmits only what failed.
func (h *Handler) runRestoreList(c *echo.Context) error {
	ctx := c.Request().Context()
	form, err := postForm(c)
	if err != nil {
		return err
	}
	list := h.restoreList(ctx)
	groups := groupList(list)
	if len(groups) == 0 {
		return seeOther(c, "/restore-list")
	}
	f := listForm{reason: strings.TrimSpace(form.Get("reason")), options: map[string]url.Values{}}
	var problems []string
	reasonNeeded := false
	for _, g := range groups {
		o := url.Values{"missing": {form.Get("missing_" + g.id)}, "changed": {form.Get("changed_" + g.id)}, "action": {form.Get("action_" + g.id)}}
		f.options[g.id] = o
		e := g.entries[0]
		if e.Workload != "onedrive" && o.Get("missing") != "1" && o.Get("changed") != "1" {
			problems = append(problems, fmt.Sprintf("%s, %s: choose “missing items”, “changed items” or both.", workloadLabels[e.Workload], e.OwnerName))
		}
		reasonNeeded = reasonNeeded || h.cfg.RestoreReason == "required" || (h.cfg.RestoreReason == "others" && e.Others)
	}
	switch {
	case reasonNeeded && f.reason == "":
		problems = append(problems, "Give a reason: a restore of someone else's data needs one.")
	case utf8.RuneCountInString(f.reason) > maxReasonLength:
		problems = append(problems, fmt.Sprintf("The reason is longer than %d characters.", maxReasonLength))
	}
	if len(problems) > 0 {
		return h.renderRestoreList(c, http.StatusUnprocessableEntity, f, problems)
	}
	var runs []listRun
	var keep []listEntry
	for _, g := range groups {
		run := h.runGroup(c, g, f.options[g.id], f.reason)
		runs = append(runs, run)
		if run.Error != "" {
			keep = append(keep, g.entries...)
		}
	}
	h.saveRestoreList(ctx, keep)
	b, _ := json.Marshal(runs)
	h.sessions.Put(ctx, restoreListRunKey, b)
	return seeOther(c, "/restore-list")
}

// runGroup starts the restore of one group and audits it.
func (h *Handler) runGroup(c *echo.Context, g *listGroup, o url.Values, reason string) listRun {
	ctx := c.Request().Context()
	e := g.entries[0]
	run := listRun{Label: workloadLabels[e.Workload] + ": " + e.OwnerName, Items: len(g.entries)}
	u := userFrom(c)
	ev := audit.Event{Time: h.cfg.Now().UTC(), TenantID: u.TenantID, ActorOID: u.OID, ActorUPN: u.UPN, ActorName: u.Name,
		Subject: e.OwnerName, SubjectID: e.Owner, Workload: e.Workload, Action: "restore", Reason: reason}
	for _, x := range g.entries {
		ev.Items = append(ev.Items, audit.Item{ID: x.Key, Name: x.Name})
	}
	fail := func(err error) listRun {
		ce := classify(err)
		run.Error = ce.Title
		if ce.Message != "" {
			run.Error += ": " + ce.Message
		}
		ev.Outcome, ev.Detail = audit.Failed, run.Error
		if ce.Status == http.StatusNotFound || ce.Status == http.StatusForbidden {
			ev.Outcome = audit.Denied
		}
		return run
	}
	defer func() {
		if h.audit == nil {
			return
		}
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := h.audit.Append(actx, ev); err != nil {
			h.log.ErrorContext(ctx, "audit_write_failed", "action", "restore", "oid", u.OID, "error", err)
		}
	}()
	session, ok := findOpened(h.openedSessions(ctx), func(s openedSession) bool { return s.ID == e.Session })
	if !ok {
		return fail(&Error{Status: http.StatusNotFound, Title: "The restore session has ended",
			Message: "Open the restore point again, and add these items again."})
	}
	var keys []string
	for _, x := range g.entries {
		keys = append(keys, x.Key)
	}
	if e.Workload == "teams" {
		td := h.operator().TeamData(session.ID, e.Owner)
		var files []veeamapi.TeamsFile
		for _, k := range keys {
			raw, err := unkey(k)
			if err != nil {
				return fail(err)
			}
			ch, id, _ := strings.Cut(raw, "\x00")
			f, err := td.File(ctx, ch, id)
			if err != nil {
				return fail(err)
			}
			files = append(files, *f)
		}
		f := teamRestoreForm{missing: o.Get("missing") == "1", changed: o.Get("changed") == "1", reason: reason}
		ev.Options = f.options("files", "")
		id, err := td.RestoreFiles(context.WithoutCancel(ctx), files, false, f.changed, f.missing, reason)
		if err != nil {
			return fail(err)
		}
		run.RestoreID, ev.SessionID, ev.Outcome = id, id, audit.Started
		rec := history.Record{ID: id, Workload: "teams", Source: e.OwnerName, SourceID: e.Owner, Items: len(files),
			Target: "Original location", Options: ev.Options, Reason: reason, ForOthers: true, PointTime: e.PointTime}
		if err := h.recordRestore(c, rec); err != nil {
			return fail(err) // started, but not in My restores: the group stays for the helpdesk to see
		}
		return run
	}
	if e.Workload == "exchange" {
		ref := mailboxRef{session: session, mailbox: e.Owner,
			base: "/sessions/" + url.PathEscape(session.ID) + "/mailboxes/" + url.PathEscape(e.Owner)}
		mb, err := h.cachedMailbox(ctx, u.OID, ref)
		if err != nil {
			return fail(err)
		}
		ids := make([]string, len(keys))
		for i, k := range keys {
			if ids[i], err = unkey(k); err != nil {
				return fail(err)
			}
		}
		f := restoreForm{missing: o.Get("missing") == "1", changed: o.Get("changed") == "1", reason: reason}
		ev.Options = f.target() + "; " + f.options()
		id, err := h.launchMailRestore(c, ref, mb, ids, f)
		if id != "" {
			run.RestoreID, ev.SessionID, ev.Outcome = id, id, audit.Started
		}
		if err != nil {
			return fail(err)
		}
		return run
	}
	segment, docs := "/onedrives/", h.operator().OneDriveDocs(session.ID, e.Owner)
	if e.Workload == "sharepoint" {
		segment, docs = "/sites/", h.operator().SiteDocs(session.ID, e.Owner)
	}
	ref := docsRef{session: session, workload: e.Workload, id: e.Owner, docs: docs, oid: u.OID,
		base: "/sessions/" + url.PathEscape(session.ID) + segment + key(e.Owner)}
	title, subtitle, err := h.docsTitle(ctx, ref)
	if err != nil {
		return fail(err)
	}
	sel, err := readDocSelection(url.Values{"item": keys}, h.zone(c), ref.sharePoint())
	if err != nil {
		return fail(err)
	}
	resolved, err := h.resolveDocs(ctx, ref, sel)
	if err != nil {
		return fail(err)
	}
	f := docRestoreForm{keep: o.Get("action") != "overwrite", missing: o.Get("missing") == "1", changed: o.Get("changed") == "1",
		merge: true, permissions: true, reason: reason}
	ev.Options = f.target(ref.sharePoint()) + "; " + f.options(ref.sharePoint())
	ids, err := h.launchDocRestores(c, ref, title, subtitle, resolved, f)
	if len(ids) > 0 {
		run.RestoreID, ev.SessionID, ev.Outcome = ids[0], strings.Join(ids, ","), audit.Started
	}
	if err != nil {
		return fail(err)
	}
	return run
}

// runStatuses fills in the live status of each run's restore, recording
// the end of those that have ended; it reports whether any still runs.
func (h *Handler) runStatuses(c *echo.Context, runs []templates.ListRunView, ids []string) bool {
	ctx := c.Request().Context()
	u := userFrom(c)
	op := h.operator()
	running := false
	for i, id := range ids {
		if id == "" {
			runs[i].Status, runs[i].Tone = "Not started", "bad"
			continue
		}
		rec, err := h.history.Get(ctx, u.TenantID, u.OID, id)
		if err != nil {
			runs[i].Status, runs[i].Tone = "Status unavailable", "warn"
			continue
		}
		if rec.Finished != nil {
			runs[i].Status, runs[i].Tone = finishedStatus(rec.Result, true, rec.Restored, rec.Skipped)
			continue
		}
		s, err := op.RestoreSession(ctx, id)
		switch {
		case err != nil:
			runs[i].Status, runs[i].Tone = "Status unavailable", "warn"
			running = true
		case s.State == veeamapi.SessionWorking:
			runs[i].Status, runs[i].Tone = "In progress", "running"
			running = true
		default:
			restored, skipped := h.finish(ctx, op, rec, s)
			runs[i].Status, runs[i].Tone = finishedStatus(s.Result, true, restored, skipped)
		}
	}
	return running
}

// listRuns reads the last submit's runs.
func (h *Handler) listRuns(c *echo.Context) ([]templates.ListRunView, []string) {
	var runs []listRun
	if b := h.sessions.GetBytes(c.Request().Context(), restoreListRunKey); len(b) > 0 {
		json.Unmarshal(b, &runs)
	}
	views := make([]templates.ListRunView, len(runs))
	ids := make([]string, len(runs))
	for i, r := range runs {
		views[i] = templates.ListRunView{Label: r.Label, Items: r.Items, Error: r.Error}
		if r.RestoreID != "" {
			views[i].URL = "/restores/" + url.PathEscape(r.RestoreID)
		}
		ids[i] = r.RestoreID
	}
	return views, ids
}

// restoreListRuns handles GET /restore-list/runs: the last submit's
// progress, which the page polls until every restore has ended.
func (h *Handler) restoreListRuns(c *echo.Context) error {
	runs, ids := h.listRuns(c)
	running := h.runStatuses(c, runs, ids)
	code := http.StatusOK
	if !running {
		code = stopPolling
	}
	return render(c, code, templates.ListRuns(runs, running))
}

// addTeamFilesToList handles POST …/teams/:team/c/:channel/restore-list: the ticked files.
func (h *Handler) addTeamFilesToList(c *echo.Context) error {
	ref, err := h.teamRef(c)
	if err != nil {
		return err
	}
	channel, err := h.pathKey(c, "channel")
	if err != nil {
		return err
	}
	form, err := postForm(c)
	if err != nil {
		return err
	}
	keys := form["file"]
	if len(keys) == 0 {
		return &Error{Status: http.StatusBadRequest, Title: "Nothing selected", Message: "Tick the files to add to the restore list first."}
	}
	if len(keys) > maxListAdd {
		return badRequest(fmt.Sprintf("Add at most %d items at once.", maxListAdd))
	}
	v, err := h.teamFrame(c, ref, channel)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	var entries []listEntry
	for _, k := range keys {
		id, err := unkey(k)
		if err != nil {
			return badRequest("The form names a file the portal does not know.")
		}
		f, err := ref.data.File(ctx, channel, id)
		if err != nil {
			return err
		}
		if f.IsFolder() {
			return badRequest("Choose files: folders are restored with their channel.")
		}
		entries = append(entries, listEntry{Workload: "teams", Session: ref.session.ID, Owner: ref.id, OwnerName: v.Name,
			Key: key(channel + "\x00" + id), Name: f.Name + " (" + v.Channel + ")", PointTime: ref.session.PointTime, Others: true})
	}
	return h.addToList(c, entries)
}
