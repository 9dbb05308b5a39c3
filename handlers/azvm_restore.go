package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v5"

	"github.com/openrestore/portal/audit"
	"github.com/openrestore/portal/restore"
	"github.com/openrestore/portal/store"
	"github.com/openrestore/portal/templates"
	"github.com/openrestore/portal/vbazure"
)

// Restores of an Azure VM's files go through the one restore pipeline
// like every other: the wizard (flrKind), the restore list, My restores,
// the notices and the trail. The record's session id is the FLR session's
// and the restore task's, "flr/task", which the watcher asks VBAzure about.

// maxFLRItems is the most items one restore takes.
const maxFLRItems = 500

// flrKind is the restore wizard of a ready FLR session.
type flrKind struct {
	h   *Handler
	s   store.FLRSession
	vm  azVM
	loc *time.Location
}

// flrKindOf reads the route's session.
func (h *Handler) flrKindOf(c *echo.Context) (restoreKind, error) {
	s, vm, err := h.readySession(c)
	if err != nil {
		return nil, err
	}
	return flrKind{h: h, s: s, vm: vm, loc: h.zone(c)}, nil
}

func (k flrKind) base() string     { return flrURL(k.s.ID) }
func (k flrKind) workload() string { return azureWorkload }
func (k flrKind) subject() string  { return k.vm.ID }

// choose reads the ticked files and folders (their paths, encoded).
func (k flrKind) choose(form url.Values) (url.Values, error) {
	items := form["item"]
	if len(items) == 0 {
		return nil, &Error{Status: http.StatusBadRequest, Title: "Nothing selected", Message: "Tick the files and folders to restore first."}
	}
	if len(items) > maxFLRItems {
		return nil, badRequest(fmt.Sprintf("Restore at most %d items at once.", maxFLRItems))
	}
	for _, it := range items {
		if _, err := k.path(it); err != nil {
			return nil, err
		}
	}
	return url.Values{"item": items}, nil
}

// path decodes a ticked item's path and checks it is one of the VM's, and
// not a whole volume.
func (k flrKind) path(encoded string) (string, error) {
	p, err := unkey(encoded)
	if err == nil {
		p, err = flrPath(p, k.s.Windows)
	}
	if err != nil {
		return "", badRequest("The form names an item the portal does not know.")
	}
	if names, _ := vbazure.SplitPath(k.s.Windows, p); len(names) == 0 || (k.s.Windows && len(names) == 1) {
		return "", badRequest("A whole volume cannot be restored: choose its files and folders.")
	}
	return p, nil
}

// prepare checks that VBAzure still runs the session, and lays out what
// the restore acts on.
func (k flrKind) prepare(c *echo.Context, chosen url.Values) (*wizard, error) {
	ctx := c.Request().Context()
	var paths []string
	for _, it := range chosen["item"] {
		p, err := k.path(it)
		if err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	if !k.h.stillRunning(ctx, k.s) {
		k.s.Detail = "Veeam Backup for Microsoft Azure ended it."
		return nil, sessionEnded(k.s, k.vm)
	}
	w := &wizard{subject: k.vm.Name, subjectID: k.vm.ID, backLabel: "Back to the files", count: len(paths), forOthers: true,
		pointTime: k.s.PointTime,
		heading:   "Restore " + countLabel(len(paths)) + " to " + k.vm.Name,
		intro:     "From the restore point of " + pointLabel(k.s.PointTime, k.loc) + ". Folders are restored with everything in them.",
		notes:     []string{downloadNote}}
	w.preview, w.more = previewOf(paths)
	for _, p := range paths {
		if len(w.items) < audit.MaxItems {
			w.items = append(w.items, audit.Item{ID: p, Name: p})
		}
	}
	w.options = func(form url.Values, first bool) restoreOptions {
		o := azureOptions{k: k, paths: paths, toFolder: form.Get("target") == "folder", folder: strings.TrimSpace(form.Get("folder")),
			overwrite: form.Get("conflict") == "overwrite"}
		if first {
			o.toFolder, o.overwrite = false, false
		}
		return o
	}
	return w, nil
}

// azureOptions is what the wizard's fields chose.
type azureOptions struct {
	k         flrKind
	paths     []string
	toFolder  bool
	folder    string
	overwrite bool
}

func (o azureOptions) example() string {
	if o.k.s.Windows {
		return `D:\Restored`
	}
	return "/root/restored"
}

func (o azureOptions) problems() map[string]string {
	p := map[string]string{}
	if !o.toFolder {
		return p
	}
	if o.folder == "" {
		p["folder"] = "Give the folder to restore into, as a full path such as " + o.example() + "."
	} else if _, err := flrPath(o.folder, o.k.s.Windows); err != nil || utf8.RuneCountInString(o.folder) > 1024 {
		p["folder"] = "Give a full path of the VM, such as " + o.example() + "."
	}
	return p
}

func (o azureOptions) describe() (target, options string) {
	target = "Back where they were on " + o.k.vm.Name
	if o.toFolder {
		target = "Into " + o.folder + " on " + o.k.vm.Name
	}
	options = "keep both (the restored copies are named RESTORED-…)"
	if o.overwrite {
		options = "overwrite what is there"
	}
	return target, options
}

func (o azureOptions) fields(problems map[string]string) templ.Component {
	return templates.AzureRestoreFields(templates.AzureRestoreFieldsView{ToFolder: o.toFolder, Folder: o.folder, Example: o.example(),
		Overwrite: o.overwrite, Errors: problems})
}

func (o azureOptions) plans(w *wizard, reason string) []restorePlan {
	target, options := o.describe()
	r := vbazure.FileRestore{ItemPaths: o.paths, Type: vbazure.Keep}
	if o.overwrite {
		r.Type = vbazure.Overwrite
	}
	if o.toFolder {
		r.AlternativePath = o.folder
	}
	h, s := o.k.h, o.k.s
	return []restorePlan{w.plan(azureWorkload, target, options, reason, len(o.paths), w.items, func(ctx context.Context) (string, error) {
		task, err := h.vms.RestoreFiles(ctx, s.ID, r)
		if err != nil {
			return "", err
		}
		h.touchFLR(ctx, s.ID)
		return s.ID + "/" + task, nil
	})}
}

// azureRestoreRefused explains what VBAzure said when it did not start a
// restore, in the person's terms.
func azureRestoreRefused(err error) error {
	var p *vbazure.Problem
	if !errors.As(err, &p) {
		return azureVMError(err)
	}
	switch {
	case p.Status == http.StatusInternalServerError && strings.Contains(strings.ToLower(p.Detail), "does not exist"):
		return &Error{Status: http.StatusBadGateway, Title: "A folder these items were in is gone from the VM", Err: err,
			Message: "Veeam Backup for Microsoft Azure said: " + p.Detail + " Nothing was restored. Restore them into another folder of the VM instead."}
	case errors.Is(err, vbazure.ErrInvalid):
		return &Error{Status: http.StatusBadGateway, Title: "Veeam Backup for Microsoft Azure refused this restore", Err: err,
			Message: "It said: " + problemText(p) + " Nothing was restored."}
	}
	return azureVMError(err)
}

// addFLRToList handles POST /azure/flr/:flr/restore-list: the ticked files
// and folders wait on the restore list with the other workloads' items.
func (h *Handler) addFLRToList(c *echo.Context) error {
	k, err := h.flrKindOf(c)
	if err != nil {
		return err
	}
	fk := k.(flrKind)
	form, err := postForm(c)
	if err != nil {
		return err
	}
	keys, err := listKeys(form)
	if err != nil {
		return err
	}
	entries := make([]listEntry, len(keys))
	for i, it := range keys {
		p, err := fk.path(it)
		if err != nil {
			return err
		}
		entries[i] = listEntry{Workload: azureWorkload, Session: fk.s.ID, Owner: fk.vm.ID, OwnerName: fk.vm.Name, Key: it, Name: p,
			PointTime: fk.s.PointTime, Others: true}
	}
	h.touchFLR(c.Request().Context(), fk.s.ID)
	return h.addToList(c, entries)
}

// flrListKind is the wizard of a restore list's group of VM files: the
// session must still be the person's, and ready.
func (h *Handler) flrListKind(c *echo.Context, e listEntry) (restoreKind, error) {
	u := userFrom(c)
	s, err := h.store.FLRSession(c.Request().Context(), e.Session)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (s.UserOID != u.OID || s.TenantID != u.TenantID)) {
		return nil, notFoundOrNotYours(err)
	}
	if err != nil {
		return nil, err
	}
	vm, _, err := h.myVM(c, s.VMID)
	if err != nil {
		return nil, err
	}
	if s.State != store.FLRReady {
		return nil, &Error{Status: http.StatusGone, Title: "The file-level restore session has ended",
			Message: "Open the restore point of " + vm.Name + " again, and add these items again."}
	}
	return flrKind{h: h, s: s, vm: vm, loc: h.zone(c)}, nil
}

// azureRestoreProgress asks VBAzure how a restore is going, item by item.
func (h *Handler) azureRestoreProgress(ctx context.Context, sessionID string) (restore.Progress, []vbazure.RestoreItem, error) {
	flrID, task, ok := strings.Cut(sessionID, "/")
	if h.vms == nil {
		return restore.Progress{}, nil, fmt.Errorf("handlers: Azure VM restores are no longer configured: %w", vbazure.ErrUnavailable)
	}
	if !ok {
		return restore.Progress{}, nil, fmt.Errorf("handlers: %q is not an Azure restore's session: %w", sessionID, vbazure.ErrNotFound)
	}
	items, err := h.vms.RestoreStatus(ctx, flrID, task)
	if err != nil {
		return restore.Progress{}, nil, err
	}
	p := restore.Progress{Total: len(items)}
	warned := false
	for _, it := range items {
		switch it.Status {
		case "Running":
			p.Working = true
		case "Success":
			p.Restored++
		case "Warning":
			p.Restored++
			warned = true
		case "Failed":
			p.Failed++
		}
	}
	switch {
	case p.Failed == 0 && !warned:
		p.Result = string(restore.Success)
	case p.Restored == 0:
		p.Result = string(restore.Failed)
	default:
		p.Result = string(restore.Warning)
	}
	return p, items, nil
}

// flrProblemsShown caps the items whose log a progress page reads.
const flrProblemsShown = 25

// azureProgressView shows an Azure restore item by item, with what the
// log says of the ones that did not succeed.
func (h *Handler) azureProgressView(ctx context.Context, rec restore.Record, v *templates.RestoreProgressView) error {
	p, items, err := h.azureRestoreProgress(ctx, rec.SessionID)
	if errors.Is(err, vbazure.ErrNotFound) {
		v.Notice = strings.TrimSpace(v.Notice + " The file-level restore session has ended, so Veeam Backup for Microsoft Azure no longer has each item's result; this is what the portal recorded.")
		return nil
	}
	if err != nil {
		return azureVMError(err)
	}
	if !rec.Done() {
		v.Counts = templates.ProgressCountsView{Total: p.Total, Restored: p.Restored, Failed: p.Failed, Done: p.Restored + p.Failed}
		if rec.State == restore.Running {
			v.Status = fmt.Sprintf("Restoring… %s of %s done", thousands(v.Counts.Done), thousands(v.Counts.Total))
		}
	}
	flrID, task, _ := strings.Cut(rec.SessionID, "/")
	problems := 0
	for _, it := range items {
		r := templates.RestoreItemView{Name: it.Path}
		r.Status, r.Tone = itemResult(it.Status)
		if it.Status == "Warning" || it.Status == "Failed" || it.Status == "Cancelled" {
			if problems < flrProblemsShown {
				if logs, err := h.vms.RestoreLogs(ctx, flrID, task, it.Path, 20); err == nil {
					for _, l := range logs {
						if l.Status == "Error" || l.Status == "Warning" || l.Status == "Cancelled" {
							r.Message = strings.TrimSpace(r.Message + " " + l.Message)
						}
					}
				}
			}
			problems++
		} else if it.Status == "Success" && len(items) <= flrProblemsShown {
			if logs, err := h.vms.RestoreLogs(ctx, flrID, task, it.Path, 5); err == nil && len(logs) > 0 {
				r.Message = logs[len(logs)-1].Message
			}
		}
		v.Items = append(v.Items, r)
	}
	return nil
}
