package handlers

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/openrestore/portal/audit"
	"github.com/openrestore/portal/authn"
	"github.com/openrestore/portal/restore"
	"github.com/openrestore/portal/store"
	"github.com/openrestore/portal/vbazure"
	"github.com/openrestore/portal/veeamapi"
)

// The one restore pipeline. Every restore the portal starts — from a
// workload's wizard or from the restore list — is a restorePlan, and
// startRestores is the only place plans become restores: it writes the
// intents to My restores and the audit trail before the backup server is
// asked, asks it once per plan (never retrying), and records what it
// answered. The watcher (watcher.go) then follows each restore to its end.

// restorePlan is one restore a workload has worked out: what the records
// and the trail say, and the backup server's call that starts it.
type restorePlan struct {
	record restore.Record // Workload, Source, SourceID, ItemCount, Target, Options, Reason, ForOthers, PointTime
	items  []audit.Item
	start  func(ctx context.Context) (sessionID string, err error)
}

// errSubmittedBefore means the submission's restores were started by an
// earlier submit of the same form: nothing new was started.
var errSubmittedBefore = errors.New("handlers: submitted before")

// startRestores starts the plans of one submission (a form's one-time key).
// It returns the restores' records as they stand after the backup server's
// answers; a plan the server refused is a Refused record, and the first
// refusal is also the error. A submission that was started before starts
// nothing again: its records and errSubmittedBefore come back.
func (h *Handler) startRestores(c *echo.Context, submission string, plans []restorePlan) ([]restore.Record, error) {
	ctx := c.Request().Context()
	u := userFrom(c)
	if earlier, err := h.store.Submitted(ctx, u.TenantID, u.OID, submission); err != nil || len(earlier) > 0 {
		if err != nil {
			return nil, err
		}
		return earlier, errSubmittedBefore
	}
	// Whatever happens from here happens whole: a browser that goes away
	// does not cancel a restore half-way through being recorded.
	ctx = context.WithoutCancel(ctx)
	grantID, err := h.grantFor(ctx, u, plans)
	if err != nil {
		for _, p := range plans {
			ev := h.restoreEvent(u, p, audit.Failed)
			ev.Detail = "the portal could not get a token to follow the restore with: " + classify(err).Title
			h.appendAudit(ctx, ev)
		}
		return nil, err
	}
	now := h.cfg.Now()
	records := make([]restore.Record, len(plans))
	intents := make([]audit.Event, len(plans))
	for i, p := range plans {
		r := p.record
		r.ID, r.Submission, r.Part = newID(), submission, i
		r.TenantID, r.UserOID, r.UserUPN, r.UserName = u.TenantID, u.OID, u.UPN, u.Name
		r.State, r.Requested, r.GrantID, r.Items = restore.Pending, now, grantID, p.items
		records[i] = r
		intents[i] = h.recordEvent(r, audit.Requested)
	}
	if err := h.store.Intend(ctx, records, h.replica, now.Add(restore.IntentLease), intents); err != nil {
		h.releaseGrant(ctx, grantID)
		if errors.Is(err, store.ErrSubmitted) { // a twin submit won the race
			earlier, err := h.store.Submitted(ctx, u.TenantID, u.OID, submission)
			if err != nil {
				return nil, err
			}
			return earlier, errSubmittedBefore
		}
		return nil, fmt.Errorf("record the restore's intent: %w", err)
	}
	var first error
	for i, p := range plans {
		r := &records[i]
		sessionID, err := p.start(ctx)
		at := h.cfg.Now()
		if err != nil {
			r.State, r.Ended, r.Detail = restore.Refused, at, refusalDetail(err)
			ev := h.recordEvent(*r, outcomeOf(err))
			ev.Detail = r.Detail
			if serr := h.store.Refuse(ctx, r.ID, at, r.Detail, ev); serr != nil {
				h.log.ErrorContext(ctx, "restore_record_failed", "restore", r.ID, "error", serr)
			}
			h.log.WarnContext(ctx, "restore_refused", "restore", r.ID, "workload", r.Workload, "oid", u.OID, "error", err)
			h.metrics.RestoreEnded(r.Workload, ev.Outcome)
			first = cmpErr(first, restoreRefused(err))
			continue
		}
		r.State, r.SessionID, r.Started = restore.Running, sessionID, at
		if serr := h.store.Start(ctx, r.ID, sessionID, at, at.Add(restore.CheckEvery(0)), h.recordEvent(*r, audit.Started)); serr != nil {
			// The restore runs; the record stays an intent that the watcher
			// will mark unconfirmed. Say so rather than pretend it failed.
			h.log.ErrorContext(ctx, "restore_record_failed", "restore", r.ID, "restore_session", sessionID, "error", serr)
			first = cmpErr(first, &Error{Status: http.StatusInternalServerError, Title: "The restore started, but the portal could not record it", Err: serr,
				Message: "The backup server is restoring. The portal could not note it in “My restores”; tell your helpdesk."})
			continue
		}
		h.metrics.RestoreStarted(r.Workload)
		h.log.InfoContext(ctx, "restore_started", "restore", r.ID, "restore_session", sessionID, "workload", r.Workload,
			"source", r.SourceID, "items", r.ItemCount, "oid", u.OID)
	}
	h.releaseIfUnused(ctx, grantID)
	return records, first
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// refusalDetail says in a line why the backup server did not start a
// restore, in the words the user is told (never the server's own message).
func refusalDetail(err error) string {
	return classify(restoreRefused(err)).Title
}

// outcomeOf is the trail's outcome of a restore the backup server did not start.
func outcomeOf(err error) string {
	if s := classify(err).Status; s == http.StatusNotFound || s == http.StatusForbidden {
		return audit.Denied
	}
	return audit.Failed
}

// restoreRefused explains a restore the backup server refused as a bad
// request; other errors go on to the error handler as they are.
func restoreRefused(err error) error {
	var p *vbazure.Problem
	if errors.As(err, &p) || errors.Is(err, vbazure.ErrUnavailable) {
		return azureRestoreRefused(err)
	}
	if errors.Is(err, veeamapi.ErrBadRequest) {
		return &Error{Status: http.StatusBadGateway, Title: "The backup server refused this restore", Err: err,
			Message: "Nothing was restored. Check the options and try again; if it goes on, tell your helpdesk."}
	}
	return err
}

// recordEvent is the trail's event of a step of a recorded restore.
func (h *Handler) recordEvent(r restore.Record, outcome string) audit.Event {
	return audit.Event{Time: h.cfg.Now().UTC(), TenantID: r.TenantID, ActorOID: r.UserOID, ActorUPN: r.UserUPN, ActorName: r.UserName,
		Subject: r.Source, SubjectID: r.SourceID, Workload: r.Workload, Action: "restore", Items: r.Items, ItemCount: r.ItemCount,
		Options: r.Target + "; " + r.Options, Reason: r.Reason, RestoreID: r.ID, SessionID: r.SessionID, Outcome: outcome}
}

// restoreEvent is the trail's event of a plan that never became a record.
func (h *Handler) restoreEvent(u *authn.User, p restorePlan, outcome string) audit.Event {
	r := p.record
	r.TenantID, r.UserOID, r.UserUPN, r.UserName, r.Items = u.TenantID, u.OID, u.UPN, u.Name, p.items
	return h.recordEvent(r, outcome)
}

// appendAudit is how the handlers write an event that goes with no change
// of a restore: downloads, exports, refused forms.
func (h *Handler) appendAudit(ctx context.Context, e audit.Event) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := h.store.Append(ctx, e); err != nil {
		h.log.ErrorContext(ctx, "audit_write_failed", "action", e.Action, "workload", e.Workload, "outcome", e.Outcome,
			"restore", e.RestoreID, "oid", e.ActorOID, "error", err)
	}
}

// newID is a random id in the shape of a UUID (version 4).
func newID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// grantPair is a watcher's VB365 token pair, as sealed in the store.
type grantPair struct {
	Access  string    `json:"access"`
	Refresh string    `json:"refresh"`
	Expiry  time.Time `json:"expiry"`
}

// grantPurpose is what grants are sealed for.
const grantPurpose = "restore-watch-grant"

// grantFor gets the watcher a VB365 grant when a plan restores from VB365;
// Azure VMs' restores are followed with the portal's service account.
func (h *Handler) grantFor(ctx context.Context, u *authn.User, plans []restorePlan) (string, error) {
	for _, p := range plans {
		if p.record.Workload != azureWorkload {
			return h.newGrant(ctx, u)
		}
	}
	return "", nil
}

// newGrant gets a token pair for the watcher to follow the user's restores
// with, and keeps it sealed.
func (h *Handler) newGrant(ctx context.Context, u *authn.User) (string, error) {
	g, err := h.auth.DetachedGrant(ctx)
	if err != nil {
		return "", err
	}
	sealed, err := h.sealGrant(grantPair{Access: g.AccessToken, Refresh: g.RefreshToken, Expiry: g.Expiry})
	if err != nil {
		return "", err
	}
	id := newID()
	if err := h.store.PutGrant(ctx, store.Grant{ID: id, TenantID: u.TenantID, UserOID: u.OID, Sealed: sealed, Updated: h.cfg.Now()}); err != nil {
		h.veeam.Logout(ctx, g.AccessToken)
		return "", err
	}
	return id, nil
}

func (h *Handler) sealGrant(p grantPair) ([]byte, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	return h.sealer.Seal(b, grantPurpose)
}

func (h *Handler) openGrant(sealed []byte) (grantPair, error) {
	var p grantPair
	b, err := h.sealer.Open(sealed, grantPurpose)
	if err != nil {
		return p, err
	}
	return p, json.Unmarshal(b, &p)
}

// releaseIfUnused revokes and forgets a grant no pending or running restore needs.
func (h *Handler) releaseIfUnused(ctx context.Context, grantID string) {
	if n, err := h.store.Watched(ctx, grantID); err != nil || n > 0 {
		return
	}
	h.releaseGrant(ctx, grantID)
}

// releaseGrant revokes a grant at the backup server (best effort) and forgets it.
func (h *Handler) releaseGrant(ctx context.Context, grantID string) {
	g, err := h.store.Grant(ctx, grantID)
	if errors.Is(err, store.ErrNotFound) {
		return
	}
	if err == nil {
		if p, err := h.openGrant(g.Sealed); err == nil && h.cfg.Now().Before(p.Expiry) {
			lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			if err := h.veeam.Logout(lctx, p.Access); err != nil {
				h.log.WarnContext(ctx, "watch_grant_logout_failed", "error", err)
			}
			cancel()
		}
	}
	if err := h.store.DeleteGrant(ctx, grantID); err != nil {
		h.log.WarnContext(ctx, "watch_grant_delete_failed", "error", err)
	}
}
