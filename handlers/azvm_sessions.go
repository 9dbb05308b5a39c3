package handlers

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/openrestore/portal/audit"
	"github.com/openrestore/portal/restore"
	"github.com/openrestore/portal/store"
	"github.com/openrestore/portal/templates"
	"github.com/openrestore/portal/vbazure"
)

// File-level restore sessions cost money: each runs a worker VM in Azure.
// The portal stops a session when its person says so, signs out (or their
// sign-in ends), when it has gone unused for Config.FLRIdle, and when the
// last replica shuts down; administrators see the open ones, those opened
// elsewhere too, and stop them. A session with a restore still running is
// left until the restore ends: stopping it would cut the restore short.

// flrRow shows a session in a list.
func (h *Handler) flrRow(s store.FLRSession, loc *time.Location, admin bool) templates.FLRSessionRow {
	r := templates.FLRSessionRow{Who: s.UserName + " (" + s.UserUPN + ")", VM: s.VMName, Point: pointLabel(s.PointTime, loc),
		Opened: s.Opened.In(loc).Format("2 Jan 15:04"), LastUsed: s.LastUsed.In(loc).Format("2 Jan 15:04"), State: flrStateLabel(s.State)}
	if admin {
		r.StopURL = "/admin/azure/sessions/" + s.ID + "/stop"
	} else {
		r.URL, r.StopURL = flrURL(s.ID), flrURL(s.ID)+"/stop"
	}
	return r
}

func flrStateLabel(state string) string {
	switch state {
	case store.FLRStarting:
		return "Starting"
	case store.FLRReady:
		return "Open"
	case store.FLRStopping:
		return "Stopping"
	case store.FLRFailed:
		return "Failed"
	}
	return "Stopped"
}

// stopFLR stops a session at VBAzure and records it, with the audit event
// of who stopped it (the portal itself when actorOID is ""). A session
// another request is stopping is left to it.
func (h *Handler) stopFLR(ctx context.Context, s store.FLRSession, detail, actorOID, actorUPN, actorName string) error {
	ctx = context.WithoutCancel(ctx)
	now := h.cfg.Now()
	err := h.store.MoveFLRSession(ctx, s.ID, []string{store.FLRStarting, store.FLRReady}, store.FLRStopping, detail, now)
	if errors.Is(err, store.ErrChanged) {
		if cur, gerr := h.store.FLRSession(ctx, s.ID); gerr != nil || cur.State != store.FLRStopping || now.Sub(cur.LastUsed) < time.Minute {
			return nil
		}
		err = nil // a stop that did not finish: try again
	}
	if err != nil {
		return err
	}
	if err := h.vms.StopJobSession(ctx, s.ID); err != nil && !errors.Is(err, vbazure.ErrInvalid) && !errors.Is(err, vbazure.ErrNotFound) {
		h.log.WarnContext(ctx, "flr_stop_failed", "flr_session", s.ID, "error", err)
		return err // it stays "stopping": the sweep tries again
	}
	if err := h.store.MoveFLRSession(ctx, s.ID, []string{store.FLRStopping}, store.FLRStopped, detail, h.cfg.Now()); err != nil &&
		!errors.Is(err, store.ErrChanged) {
		return err
	}
	if actorOID == "" {
		actorOID, actorName = "portal", "The restore portal"
	}
	h.appendAudit(ctx, audit.Event{Time: h.cfg.Now().UTC(), TenantID: s.TenantID, ActorOID: actorOID, ActorUPN: actorUPN, ActorName: actorName,
		Subject: s.VMName, SubjectID: s.VMID, Workload: azureWorkload, Action: "close", SessionID: s.ID, Outcome: audit.Succeeded,
		Options: "opened by " + s.UserName + " (" + s.UserUPN + ")", Detail: detail})
	h.log.InfoContext(ctx, "flr_stopped", "flr_session", s.ID, "why", detail)
	return nil
}

// flrEnded records that VBAzure ended a session by itself.
func (h *Handler) flrEnded(ctx context.Context, s store.FLRSession, detail string) {
	err := h.store.MoveFLRSession(ctx, s.ID, []string{store.FLRStarting, store.FLRReady, store.FLRStopping}, store.FLRStopped, detail, h.cfg.Now())
	if err != nil && !errors.Is(err, store.ErrChanged) {
		h.log.WarnContext(ctx, "flr_record_failed", "flr_session", s.ID, "error", err)
	}
}

// restoring reports whether a restore of the session is still running (or
// may be: one not yet known to have started counts).
func (h *Handler) restoring(ctx context.Context, s store.FLRSession) (bool, error) {
	recs, _, err := h.store.List(ctx, s.TenantID, s.UserOID, store.Filter{Workload: azureWorkload, Status: store.StatusRunning}, 0, 200)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(recs, func(r restore.Record) bool {
		return strings.HasPrefix(r.SessionID, s.ID+"/") || (r.SessionID == "" && strings.EqualFold(r.SourceID, s.VMID))
	}), nil
}

// stopSignedOut stops the sessions of the sign-in that ends, except those
// with a restore running, which the sweep stops once it has ended.
func (h *Handler) stopSignedOut(c *echo.Context) {
	if h.vms == nil {
		return
	}
	ctx := c.Request().Context()
	u := userFrom(c)
	open, err := h.store.FLRSessions(ctx, store.FLRFilter{Open: true, SID: u.SID})
	if err != nil {
		h.log.WarnContext(ctx, "flr_signout_failed", "error", err)
		return
	}
	for _, s := range open {
		if busy, err := h.restoring(ctx, s); err != nil || busy {
			continue
		}
		if err := h.stopFLR(ctx, s, "Stopped when "+u.Name+" signed out.", u.OID, u.UPN, u.Name); err != nil {
			h.log.WarnContext(ctx, "flr_signout_stop_failed", "flr_session", s.ID, "error", err)
		}
	}
}

// SweepFLR stops sessions that went unused, or whose person's sign-in
// ended, every tick until ctx is done; replicas share the work (a stop
// is claimed in the store).
func (h *Handler) SweepFLR(ctx context.Context, tick time.Duration) {
	if h.vms == nil {
		return
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		h.sweepFLR(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// startingTooLong is how long a session may start before the sweep asks
// VBAzure about it: a page nobody looks at does not.
const startingTooLong = 15 * time.Minute

func (h *Handler) sweepFLR(ctx context.Context) {
	open, err := h.store.FLRSessions(ctx, store.FLRFilter{Open: true})
	if err != nil {
		if ctx.Err() == nil {
			h.log.WarnContext(ctx, "flr_sweep_failed", "error", err)
		}
		return
	}
	now := h.cfg.Now()
	for _, s := range open {
		if ctx.Err() != nil {
			return
		}
		why := ""
		switch _, serr := h.store.SignIn(ctx, s.SID, now); {
		case s.State == store.FLRStopping && now.Sub(s.LastUsed) >= time.Minute:
			why = s.Detail
		case s.State == store.FLRStarting && now.Sub(s.Opened) > startingTooLong:
			if !h.stillRunning(ctx, s) {
				continue
			}
			why = "Stopped: it had not become ready after " + plural(int(startingTooLong/time.Minute), "minute") + "."
		case s.State == store.FLRReady && now.Sub(s.LastUsed) >= h.cfg.FLRIdle:
			why = "Stopped after " + h.idleLabel() + " without use."
		case errors.Is(serr, store.ErrNotFound):
			why = "Stopped: " + s.UserName + "'s sign-in to the portal ended."
		default:
			continue
		}
		if busy, err := h.restoring(ctx, s); err != nil || busy {
			continue
		}
		if err := h.stopFLR(ctx, s, why, "", "", ""); err != nil && ctx.Err() == nil {
			h.log.WarnContext(ctx, "flr_sweep_stop_failed", "flr_session", s.ID, "error", err)
		}
	}
}

// StopFLRAtShutdown stops the open sessions when this replica is the last
// one: a rolling restart leaves people's sessions to the replicas that
// stay. Sessions with a restore running are left; the next start's sweep
// stops them.
func (h *Handler) StopFLRAtShutdown(ctx context.Context) {
	if h.vms == nil {
		return
	}
	alone, err := h.store.Alone(ctx)
	if err != nil || !alone {
		return
	}
	open, err := h.store.FLRSessions(ctx, store.FLRFilter{Open: true})
	if err != nil {
		h.log.WarnContext(ctx, "flr_shutdown_failed", "error", err)
		return
	}
	for _, s := range open {
		if busy, err := h.restoring(ctx, s); err != nil || busy {
			continue
		}
		if err := h.stopFLR(ctx, s, "Stopped when the portal shut down.", "", "", ""); err != nil {
			h.log.WarnContext(ctx, "flr_shutdown_stop_failed", "flr_session", s.ID, "error", err)
		}
	}
}

// flrSessionsPage handles GET /admin/azure/sessions: the open sessions,
// the portal's and those VBAzure runs for others.
func (h *Handler) flrSessionsPage(c *echo.Context) error {
	ctx := c.Request().Context()
	loc := h.zone(c)
	v := templates.FLRSessionsView{IdleLabel: h.idleLabel(), CSRFToken: h.csrfToken(ctx)}
	if _, err := h.takeSessionValue(c, azureVMFlash, &v.Flash); err != nil {
		return err
	}
	open, err := h.store.FLRSessions(ctx, store.FLRFilter{Open: true})
	if err != nil {
		return err
	}
	ours := map[string]bool{}
	for _, s := range open {
		ours[strings.ToLower(s.ID)] = true
		v.Portal = append(v.Portal, h.flrRow(s, loc, true))
	}
	running, err := h.vms.JobSessions(ctx, vbazure.JobQuery{Types: []string{"FileLevelRestore"}, Statuses: []string{"Running"}})
	if err != nil {
		h.log.WarnContext(ctx, "flr_sessions_failed", "error", err)
		v.Error = classify(azureVMError(err)).Title + ": the sessions opened elsewhere are not listed."
	}
	for _, j := range running {
		if ours[strings.ToLower(j.ID)] {
			continue
		}
		r := templates.FLRSessionRow{Opened: j.ExecutionStartTime.In(loc).Format("2 Jan 15:04"), LastUsed: "unknown", State: "Open",
			StopURL: "/admin/azure/sessions/" + j.ID + "/stop"}
		if f := j.FileLevelRestore; f != nil {
			r.Who, r.VM = f.Initiator, f.VMName
			if f.PointTime != nil {
				r.Point = pointLabel(*f.PointTime, loc)
			}
		}
		v.Elsewhere = append(v.Elsewhere, r)
	}
	m := h.meta(c, "Open file-level restore sessions")
	m.Nav = "azure-vms"
	return render(c, http.StatusOK, templates.FLRSessionsPage(m, v))
}

// stopAnyFLR handles POST /admin/azure/sessions/:flr/stop: an
// administrator stops a session, the portal's or another one. Only
// file-level restore sessions are stopped here, never a backup.
func (h *Handler) stopAnyFLR(c *echo.Context) error {
	ctx := c.Request().Context()
	id := c.Param("flr")
	if !sessionIDPattern.MatchString(id) {
		return notFoundOrNotYours(errors.New("not a session id"))
	}
	u := userFrom(c)
	detail := "Stopped by " + u.Name + ", an administrator of the portal."
	s, err := h.store.FLRSession(ctx, id)
	switch {
	case err == nil && s.TenantID == u.TenantID:
		if err := h.stopFLR(ctx, s, detail, u.OID, u.UPN, u.Name); err != nil {
			return azureVMError(err)
		}
	case err == nil || errors.Is(err, store.ErrNotFound):
		j, err := h.vms.JobSession(ctx, id)
		if err != nil || j.Type != "FileLevelRestore" {
			return notFoundOrNotYours(errors.Join(err, errors.New("not a file-level restore session")))
		}
		if err := h.vms.StopJobSession(ctx, id); err != nil && !errors.Is(err, vbazure.ErrInvalid) {
			return azureVMError(err)
		}
		ev := audit.Event{Time: h.cfg.Now().UTC(), TenantID: u.TenantID, ActorOID: u.OID, ActorUPN: u.UPN, ActorName: u.Name,
			Workload: azureWorkload, Action: "close", SessionID: id, Outcome: audit.Succeeded, Detail: detail}
		if f := j.FileLevelRestore; f != nil {
			ev.Subject, ev.SubjectID, ev.Options = f.VMName, f.VMID, "opened by "+f.Initiator+" outside the portal"
		}
		h.appendAudit(ctx, ev)
	default:
		return err
	}
	if err := h.setSessionValue(c, azureVMFlash, "The session is stopped: its worker is gone."); err != nil {
		return err
	}
	return seeOther(c, "/admin/azure/sessions")
}
