package handlers

import (
	"context"
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
	"github.com/openrestore/portal/store"
	"github.com/openrestore/portal/templates"
	"github.com/openrestore/portal/vbazure"
)

// azureTab is the start page's workload key of the Azure VMs.
const azureTab = "azure"

// downloadNote says where people look for a download.
const downloadNote = "Veeam Backup for Microsoft Azure cannot hand files to the portal: its REST API has no download. Restore them onto the VM, or into another folder of it, and copy them from there."

// withAzureTab adds the Azure VMs tab for people who may restore any VM.
func (h *Handler) withAzureTab(c *echo.Context, tabs []templates.WorkloadTab, current bool) []templates.WorkloadTab {
	if !h.hasAzureVMs(c) {
		return tabs
	}
	return append(tabs, templates.WorkloadTab{Key: azureTab, Label: "Azure VMs", URL: "/?workload=" + azureTab, Current: current})
}

// azureVMsView is the Azure VMs tab: the person's VMs.
func (h *Handler) azureVMsView(c *echo.Context) templates.AzureVMsView {
	var v templates.AzureVMsView
	for _, w := range workloads {
		v.Workloads = append(v.Workloads, templates.WorkloadTab{Key: w.key, Label: w.label, URL: "/?workload=" + w.key})
	}
	v.Workloads = h.withAzureTab(c, v.Workloads, true)
	if h.vms == nil {
		return v
	}
	vms, inv, err := h.myVMs(c)
	if err != nil {
		h.log.WarnContext(c.Request().Context(), "azure_vms_failed", "error", err)
		v.Error = classify(azureVMError(err)).Title + ". Try again in a minute."
		return v
	}
	loc := h.zone(c)
	for _, vm := range vms {
		row := templates.AzureVMRow{URL: "/azure/vms/" + url.PathEscape(vm.ID), Name: vm.Name, OS: vm.OSType, Region: vm.RegionDisplayName,
			ResourceGroup: vm.ResourceGroupName, Subscription: inv.subscription(vm.SubscriptionID)}
		if !vm.LastBackup.IsZero() {
			row.LastBackup, row.LastBackupISO = vm.LastBackup.In(loc).Format("Mon 2 Jan 2006, 15:04 MST"), vm.LastBackup.UTC().Format(time.RFC3339)
		}
		if vm.IsDeleted {
			row.Notes = append(row.Notes, "Deleted from Azure: its files cannot be restored onto it.")
		} else if len(vmBlockers(vm, inv)) > 0 {
			row.Notes = append(row.Notes, "Files cannot be restored onto it: see why on its page.")
		}
		v.VMs = append(v.VMs, row)
	}
	return v
}

// pointLabel writes a restore point's time for people.
func pointLabel(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("Monday 2 January 2006, 15:04 MST")
}

// vmURL is a VM's page.
func vmURL(id string) string { return "/azure/vms/" + url.PathEscape(id) }

// azureVMPage handles GET /azure/vms/:vm[?month=&day=]: the VM, what stops
// restores of its files, and its restore points by day. htmx gets the
// points region.
func (h *Handler) azureVMPage(c *echo.Context) error {
	ctx := c.Request().Context()
	vm, inv, err := h.myVM(c, c.Param("vm"))
	if err != nil {
		return err
	}
	loc := h.zone(c)
	pq, err := parsePointsQuery(c.QueryParams(), loc)
	if err != nil {
		return err
	}
	points, err := h.vmPoints(ctx, vm.ID)
	if err != nil {
		return azureVMError(err)
	}
	v := h.vmPointsView(c, vm, points, pq, loc)
	if isPartial(c) {
		return render(c, http.StatusOK, templates.AzureVMPoints(v))
	}
	v.Facts = []templates.Fact{{Term: "Operating system", Desc: vm.OSType}, {Term: "Region", Desc: vm.RegionDisplayName},
		{Term: "Resource group", Desc: vm.ResourceGroupName}, {Term: "Subscription", Desc: inv.subscription(vm.SubscriptionID)},
		{Term: "Size", Desc: fmt.Sprintf("%s, %d GB of disks", vm.VMSize, vm.TotalSizeInGB)}}
	v.Blockers = vmBlockers(vm, inv)
	switch last, err := h.lastSession(ctx, vm.ID); {
	case err != nil:
		h.log.WarnContext(ctx, "azure_vm_history_failed", "error", err)
	case last.text != "" && last.failed:
		v.Warnings = append(v.Warnings, fmt.Sprintf("The last file-level restore of this VM, on %s, failed: %s", last.at.In(loc).Format("2 January 2006"), last.text))
	case last.text != "":
		v.Warnings = append(v.Warnings, fmt.Sprintf("The last file-level restore of this VM, on %s, warned: %s", last.at.In(loc).Format("2 January 2006"), last.text))
	}
	v.DownloadNote = downloadNote
	if _, err := h.takeSessionValue(c, azureVMFlash, &v.Flash); err != nil {
		return err
	}
	u := userFrom(c)
	open, err := h.store.FLRSessions(ctx, store.FLRFilter{Open: true})
	if err != nil {
		return err
	}
	for _, s := range open {
		if s.UserOID == u.OID && s.TenantID == u.TenantID && strings.EqualFold(s.VMID, vm.ID) {
			v.Sessions = append(v.Sessions, h.flrRow(s, loc, false))
		}
	}
	return render(c, http.StatusOK, templates.AzureVMPage(h.meta(c, vm.Name), v))
}

// azureVMFlash is a sentence the VM page shows once.
const azureVMFlash = "azure_vm_flash"

// vmPointsView lays out a VM's points: usable ones link to opening them,
// the others say why not; administrators may bring archived ones back.
func (h *Handler) vmPointsView(c *echo.Context, vm azVM, points []vbazure.RestorePoint, pq pointsQuery, loc *time.Location) templates.AzureVMView {
	v := templates.AzureVMView{Name: vm.Name, CSRFToken: h.csrfToken(c.Request().Context())}
	if len(points) == 0 {
		v.Empty = true
		return v
	}
	sorted := slices.Clone(points)
	slices.SortFunc(sorted, func(a, b vbazure.RestorePoint) int { return a.PointInTime.Compare(b.PointInTime) })
	times := make([]time.Time, len(sorted))
	for i, p := range sorted {
		times[i] = p.PointInTime
	}
	base := vmURL(vm.ID)
	cal := buildCalendar(times, pq.month, pq.day, loc, func(month time.Time, day string) string {
		q := url.Values{"month": {month.Format("2006-01")}}
		if day != "" {
			q.Set("day", day)
		}
		return base + "?" + q.Encode()
	})
	v.Calendar = cal.view
	pv := func(p vbazure.RestorePoint) templates.AzurePointView {
		t := p.PointInTime.In(loc)
		out := templates.AzurePointView{Time: t.Format("15:04"), Label: pointLabel(p.PointInTime, loc), DateTime: p.PointInTime.UTC().Format(time.RFC3339)}
		switch {
		case p.Corrupted():
			out.Note = "Corrupted: it cannot be restored from."
		case p.Archived() && p.DataRetrievalStatus == "Retrieving":
			out.Note = "In the archive tier; its data is being retrieved."
		case p.Archived() && !p.Readable():
			out.Note = "In the archive tier: its data must be retrieved first, which takes hours and costs money."
			if h.isAdmin(c) {
				out.RetrieveURL = base + "/points/" + url.PathEscape(p.ID) + "/retrieve"
			} else {
				out.Note += " Ask the portal's administrators."
			}
		}
		if p.Readable() && len(vmBlockersQuick(vm)) == 0 {
			out.OpenURL = base + "/points/" + url.PathEscape(p.ID)
			if p.Archived() && p.RetrievedUntil != nil {
				out.Note = "Retrieved from the archive until " + p.RetrievedUntil.In(loc).Format("2 January 2006") + "."
			}
		}
		return out
	}
	for i := len(sorted) - 1; i >= 0; i-- { // the latest that can be opened
		if sorted[i].Readable() || i == 0 {
			latest := pv(sorted[i])
			v.Latest = &latest
			break
		}
	}
	if cal.selected != "" {
		day := &templates.AzureDayView{Heading: pq.day.Format("Monday 2 January 2006")}
		for _, i := range cal.byDay[cal.selected] {
			day.Points = append(day.Points, pv(sorted[i]))
		}
		if len(day.Points) == 0 {
			day.Heading += ": no restore points"
		}
		v.Day = day
	}
	return v
}

// vmBlockersQuick is what stops restores of a VM that the VM itself says:
// deleted, an unknown system, Arm.
func vmBlockersQuick(vm azVM) []string {
	return vmBlockers(vm, &vmInventory{accounts: []vbazure.ServiceAccount{{Purposes: []string{vbazure.PurposeVMRestore},
		SubscriptionIDs: []string{vm.SubscriptionID}}}})
}

// openPoint reads the VM and point of an open or retrieve request.
func (h *Handler) openPoint(c *echo.Context) (azVM, *vmInventory, vbazure.RestorePoint, error) {
	vm, inv, err := h.myVM(c, c.Param("vm"))
	if err != nil {
		return vm, nil, vbazure.RestorePoint{}, err
	}
	p, err := h.vmPoint(c.Request().Context(), vm, c.Param("point"))
	return vm, inv, p, azureVMError(err)
}

// idleLabel is how long an unused session lasts, for people.
func (h *Handler) idleLabel() string {
	d := h.cfg.FLRIdle
	if d%time.Hour == 0 {
		return plural(int(d/time.Hour), "hour")
	}
	return plural(int(d.Round(time.Minute)/time.Minute), "minute")
}

// openFLRPage handles GET /azure/vms/:vm/points/:point: what opening the
// point means, the reason field, and the person's open session of it.
func (h *Handler) openFLRPage(c *echo.Context) error {
	vm, _, p, err := h.openPoint(c)
	if err != nil {
		return err
	}
	return h.renderOpen(c, vm, p, "", nil, http.StatusOK)
}

func (h *Handler) renderOpen(c *echo.Context, vm azVM, p vbazure.RestorePoint, reason string, problems map[string]string, status int) error {
	ctx := c.Request().Context()
	u := userFrom(c)
	loc := h.zone(c)
	v := templates.FLROpenView{BackURL: vmURL(vm.ID), VMName: vm.Name, PointLabel: pointLabel(p.PointInTime, loc),
		Action: vmURL(vm.ID) + "/points/" + url.PathEscape(p.ID), IdleLabel: h.idleLabel(), CSRFToken: h.csrfToken(ctx),
		Reason: templates.ReasonView{Value: reason, Required: h.cfg.RestoreReason.ReasonRequired(true), Error: problems["reason"]}}
	for _, k := range slices.Sorted(maps.Keys(problems)) {
		v.Problems = append(v.Problems, templates.Problem{Field: k, Text: problems[k]})
	}
	if s, err := h.store.ReusableFLRSession(ctx, u.TenantID, u.OID, p.ID); err == nil {
		v.Existing = flrURL(s.ID)
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return render(c, status, templates.FLROpenPage(h.meta(c, "Open "+vm.Name), v))
}

// flrURL is an FLR session's page.
func flrURL(id string) string { return "/azure/flr/" + url.PathEscape(id) }

// openingLock is how long a request opening a point holds it against
// another request of the same person opening it at once.
const openingLock = 2 * time.Minute

// openFLR handles POST /azure/vms/:vm/points/:point: the person's open
// session of the point, or a new one. A worker costs money: two clicks,
// or two tabs, open one session.
func (h *Handler) openFLR(c *echo.Context) error {
	ctx := c.Request().Context()
	vm, inv, p, err := h.openPoint(c)
	if err != nil {
		return err
	}
	form, err := postForm(c)
	if err != nil {
		return err
	}
	reason := strings.TrimSpace(form.Get("reason"))
	if msg := reasonProblem(reason, h.cfg.RestoreReason.ReasonRequired(true)); msg != "" {
		return h.renderOpen(c, vm, p, reason, map[string]string{"reason": msg}, http.StatusUnprocessableEntity)
	}
	if b := vmBlockers(vm, inv); len(b) > 0 {
		return &Error{Status: http.StatusConflict, Title: "Files of this VM cannot be restored", Message: b[0], BackURL: vmURL(vm.ID)}
	}
	if !p.Readable() {
		return &Error{Status: http.StatusConflict, Title: "This restore point cannot be opened", BackURL: vmURL(vm.ID),
			Message: "It is corrupted, or in the archive tier without its data retrieved. Choose another restore point."}
	}
	release, err := h.lockOpening(c, p.ID)
	if err != nil {
		return err
	}
	defer release()
	u := userFrom(c)
	if s, err := h.store.ReusableFLRSession(ctx, u.TenantID, u.OID, p.ID); err == nil {
		if h.stillRunning(ctx, s) {
			h.touchFLR(ctx, s.ID)
			return seeOther(c, flrURL(s.ID))
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	s, err := h.startFLR(c, vm, inv, p, reason)
	if err != nil {
		return err
	}
	return seeOther(c, flrURL(s.ID))
}

// lockOpening keeps other requests of the person from opening the point
// at the same time; release lets go.
func (h *Handler) lockOpening(c *echo.Context, pointID string) (func(), error) {
	ctx := c.Request().Context()
	sid := userFrom(c).SID
	name := "flr_opening_" + strings.ToLower(pointID)
	now := h.cfg.Now()
	held, err := h.store.Value(ctx, sid, name)
	if err != nil {
		return nil, err
	}
	if held != nil {
		if t, err := time.Parse(time.RFC3339Nano, string(held)); err == nil && now.Sub(t) < openingLock {
			return nil, &Error{Status: http.StatusConflict, Title: "This restore point is being opened", BackURL: c.Request().URL.Path,
				Message: "Another tab of yours is opening it. Wait a moment and reload this page: it will lead you to the open session."}
		}
	}
	ok, err := h.store.SwapValue(ctx, sid, name, held, []byte(now.UTC().Format(time.RFC3339Nano)))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, &Error{Status: http.StatusConflict, Title: "This restore point is being opened", BackURL: c.Request().URL.Path,
			Message: "Another tab of yours is opening it. Wait a moment and reload this page: it will lead you to the open session."}
	}
	return func() {
		if err := h.store.SetValue(context.WithoutCancel(ctx), sid, name, nil); err != nil {
			h.log.WarnContext(ctx, "flr_opening_unlock_failed", "error", err)
		}
	}, nil
}

// stillRunning asks VBAzure whether a session the store holds open still
// runs; one that ended is recorded as stopped.
func (h *Handler) stillRunning(ctx context.Context, s store.FLRSession) bool {
	j, err := h.vms.JobSession(ctx, s.ID)
	if err == nil && j.Running() {
		return true
	}
	if err != nil && !errors.Is(err, vbazure.ErrNotFound) {
		return true // it may well run: do not start a second worker
	}
	h.flrEnded(ctx, s, "Veeam Backup for Microsoft Azure ended it.")
	return false
}

// maxFLRReason is the longest reason VBAzure is sent.
const maxFLRReason = 500

// startFLR asks VBAzure for a session of the point and records it, with
// the audit event. A session that cannot be recorded is stopped at once:
// a worker nobody knows of would run until VBAzure's own timeout.
func (h *Handler) startFLR(c *echo.Context, vm azVM, inv *vmInventory, p vbazure.RestorePoint, reason string) (store.FLRSession, error) {
	ctx := context.WithoutCancel(c.Request().Context())
	u := userFrom(c)
	account, _ := inv.restoreAccount(vm)
	said := fmt.Sprintf("Opened for %s (%s) through the restore portal", u.Name, u.UPN)
	if reason != "" {
		said += ": " + reason
	}
	if r := []rune(said); len(r) > maxFLRReason {
		said = string(r[:maxFLRReason-1]) + "…"
	}
	ev := audit.Event{Time: h.cfg.Now().UTC(), TenantID: u.TenantID, ActorOID: u.OID, ActorUPN: u.UPN, ActorName: u.Name,
		Subject: vm.Name, SubjectID: vm.ID, Workload: azureWorkload, Action: "open", Reason: reason,
		Options: "restore point of " + p.PointInTime.UTC().Format("2006-01-02 15:04 UTC")}
	j, err := h.vms.StartFileRestore(ctx, p.ID, vbazure.FileRestoreOptions{Reason: said, ServiceAccountID: account.AccountID, ToOriginal: true})
	if err != nil {
		ev.Outcome, ev.Detail = audit.Failed, classify(flrRefused(err)).Title
		h.appendAudit(ctx, ev)
		h.log.WarnContext(ctx, "flr_start_failed", "vm", vm.ID, "oid", u.OID, "error", err)
		return store.FLRSession{}, flrRefused(err)
	}
	now := h.cfg.Now()
	s := store.FLRSession{ID: j.ID, TenantID: u.TenantID, UserOID: u.OID, UserUPN: u.UPN, UserName: u.Name, SID: u.SID, VMID: vm.ID,
		VMName: vm.Name, Windows: vm.Windows(), PointID: p.ID, PointTime: p.PointInTime, Reason: reason, State: store.FLRStarting,
		Opened: now, LastUsed: now}
	if err := h.store.PutFLRSession(ctx, s); err != nil {
		if serr := h.vms.StopJobSession(ctx, j.ID); serr != nil {
			h.log.ErrorContext(ctx, "flr_orphan", "flr_session", j.ID, "error", serr)
		}
		return s, err
	}
	ev.Outcome, ev.SessionID = audit.Started, j.ID
	h.appendAudit(ctx, ev)
	h.log.InfoContext(ctx, "flr_opened", "flr_session", j.ID, "vm", vm.ID, "oid", u.OID)
	return s, nil
}

// flrRefused explains what VBAzure refused when asked for a session.
func flrRefused(err error) error {
	var p *vbazure.Problem
	if errors.Is(err, vbazure.ErrInvalid) && errors.As(err, &p) {
		return &Error{Status: http.StatusBadGateway, Title: "Veeam Backup for Microsoft Azure refused to open this restore point", Err: err,
			Message: "It said: " + problemText(p) + " Nothing was started."}
	}
	return azureVMError(err)
}

// problemText is what a VBAzure problem says, in one sentence or a few.
func problemText(p *vbazure.Problem) string {
	if p.Detail != "" {
		return p.Detail
	}
	var out []string
	for _, msgs := range p.Errors {
		out = append(out, msgs...)
	}
	slices.Sort(out)
	if len(out) == 0 {
		return p.Title
	}
	return strings.Join(out, " ")
}

// retrievePoint handles POST /azure/vms/:vm/points/:point/retrieve, for
// administrators: the archived point's data comes back for a week.
func (h *Handler) retrievePoint(c *echo.Context) error {
	if !h.isAdmin(c) {
		h.log.WarnContext(c.Request().Context(), "authz_fail", "resource", "azure_retrieve", "oid", userFrom(c).OID)
		return &Error{Status: http.StatusForbidden, Title: "Only the portal's administrators retrieve archived restore points",
			Message: "Retrieving a restore point from the archive tier takes hours and costs money. Ask them."}
	}
	vm, _, p, err := h.openPoint(c)
	if err != nil {
		return err
	}
	ctx := context.WithoutCancel(c.Request().Context())
	u := userFrom(c)
	ev := audit.Event{Time: h.cfg.Now().UTC(), TenantID: u.TenantID, ActorOID: u.OID, ActorUPN: u.UPN, ActorName: u.Name,
		Subject: vm.Name, SubjectID: vm.ID, Workload: azureWorkload, Action: "retrieve",
		Options: "restore point of " + p.PointInTime.UTC().Format("2006-01-02 15:04 UTC") + "; normal priority; kept 7 days"}
	j, err := h.vms.RetrieveData(ctx, p.ID, vbazure.Retrieval{Priority: "Normal", DaysToKeep: 7})
	if err != nil {
		ev.Outcome, ev.Detail = audit.Failed, classify(flrRefused(err)).Title
		h.appendAudit(ctx, ev)
		return flrRefused(err)
	}
	ev.Outcome, ev.SessionID = audit.Started, j.ID
	h.appendAudit(ctx, ev)
	h.azureCache.drop("points\x00" + strings.ToLower(vm.ID)) // show it retrieving
	if err := h.setSessionValue(c, azureVMFlash, "The restore point of "+pointLabel(p.PointInTime, h.zone(c))+
		" is being retrieved from the archive tier; it can be opened once that is done (hours at normal priority)."); err != nil {
		return err
	}
	return seeOther(c, vmURL(vm.ID))
}
