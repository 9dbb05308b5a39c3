package handlers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/openrestore/portal/audit"
	"github.com/openrestore/portal/restore"
	"github.com/openrestore/portal/store"
	"github.com/openrestore/portal/vbazure"
	"github.com/openrestore/portal/veeamapi"
)

// The watcher follows every running restore to its end, whether anybody
// looks at it or not, and records the end once, in My restores and the
// audit trail. It also marks intents whose replica never told how the
// backup server answered as unconfirmed. It asks the backup server with
// the token pair the restore was started with (see newGrant), so it works
// after the user has signed out too. A portal that restarts picks up where
// it left off: what to look at is in the store, under leases.

// watchBatch is the most restores the watcher claims at a time.
const watchBatch = 50

// Watch follows restores until ctx is done, looking for due ones every
// tick; then it lets go of what it holds, for the next replica.
func (h *Handler) Watch(ctx context.Context, tick time.Duration) {
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		h.watchOnce(ctx)
		select {
		case <-ctx.Done():
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			if err := h.store.Release(rctx, h.replica); err != nil {
				h.log.WarnContext(rctx, "watch_release_failed", "error", err)
			}
			cancel()
			return
		case <-t.C:
		}
	}
}

// watchOnce looks at every restore that is due now.
func (h *Handler) watchOnce(ctx context.Context) {
	for {
		now := h.cfg.Now()
		due, err := h.store.Due(ctx, h.replica, now, now.Add(restore.WatchLease), watchBatch)
		if err != nil {
			if ctx.Err() == nil {
				h.log.ErrorContext(ctx, "watch_failed", "error", err)
			}
			return
		}
		var wg sync.WaitGroup
		sem := make(chan struct{}, 8)
		for _, r := range due {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				h.look(ctx, r)
			})
		}
		wg.Wait()
		if len(due) < watchBatch || ctx.Err() != nil {
			return
		}
	}
}

// look looks at one restore the watcher holds.
func (h *Handler) look(ctx context.Context, r restore.Record) {
	now := h.cfg.Now()
	if r.State == restore.Pending {
		detail := "The portal stopped before the backup server answered: the restore may or may not have started. Check in a minute whether the items are back before trying again."
		ev := h.recordEvent(r, audit.Unconfirmed)
		ev.Detail = detail
		if err := h.store.Unconfirm(ctx, r.ID, now, detail, ev); err != nil && !errors.Is(err, store.ErrChanged) {
			h.log.ErrorContext(ctx, "watch_failed", "restore", r.ID, "error", err)
			return
		}
		h.log.WarnContext(ctx, "restore_unconfirmed", "restore", r.ID, "workload", r.Workload, "oid", r.UserOID)
		h.releaseIfUnused(ctx, r.GrantID)
		return
	}
	var (
		p   restore.Progress
		end time.Time
		err error
	)
	if r.Workload == azureWorkload {
		p, _, err = h.azureRestoreProgress(ctx, r.SessionID)
	} else {
		p, end, err = progressOf(ctx, h.veeam.Operator(&grantTokens{h: h, id: r.GrantID}), r.SessionID)
	}
	switch {
	case errors.Is(err, veeamapi.ErrNotFound) || errors.Is(err, vbazure.ErrNotFound):
		h.ended(ctx, r, restore.Progress{}, restore.Unknown, now, "The backup server no longer knows this restore, so how it ended is not known.")
	case err != nil && now.Sub(r.Started) > restore.LostAfter:
		h.ended(ctx, r, restore.Progress{}, restore.Unknown, now, "The portal could not ask the backup server how this restore ended.")
	case err != nil:
		if ctx.Err() == nil {
			h.log.WarnContext(ctx, "watch_look_failed", "restore", r.ID, "restore_session", r.SessionID, "error", err)
		}
		h.lookAgain(ctx, r, now)
	case p.Working:
		h.lookAgain(ctx, r, now)
	default:
		h.ended(ctx, r, p, restore.ResultOf(p), end, "")
	}
}

// progressOf asks the backup server how a restore is going; for one that
// has ended, also when.
func progressOf(ctx context.Context, op *veeamapi.Operator, sessionID string) (restore.Progress, time.Time, error) {
	s, err := op.RestoreSession(ctx, sessionID)
	if err != nil {
		return restore.Progress{}, time.Time{}, err
	}
	if s.State == veeamapi.SessionWorking {
		return restore.Progress{Working: true}, time.Time{}, nil
	}
	st, err := op.RestoreSessionStatistics(ctx, sessionID)
	if err != nil {
		return restore.Progress{}, time.Time{}, err
	}
	var end time.Time
	if s.EndTime != nil {
		end = *s.EndTime
	}
	return restore.Progress{Result: s.Result, Total: int(st.Total), Restored: int(st.Restored), Skipped: int(st.Skipped),
		Failed: int(st.Failed)}, end, nil
}

func (h *Handler) lookAgain(ctx context.Context, r restore.Record, now time.Time) {
	if err := h.store.Looked(ctx, r.ID, now.Add(restore.CheckEvery(now.Sub(r.Started)))); err != nil && ctx.Err() == nil {
		h.log.ErrorContext(ctx, "watch_failed", "restore", r.ID, "error", err)
	}
}

// ended records how a restore ended, once, and lets go of its grant when
// nothing else needs it.
func (h *Handler) ended(ctx context.Context, r restore.Record, p restore.Progress, result restore.Result, at time.Time, detail string) {
	if at.IsZero() {
		at = h.cfg.Now()
	}
	r.Ended, r.Result, r.Detail = at.UTC(), result, detail
	r.Restored, r.Skipped, r.Failed = p.Restored, p.Skipped, p.Failed
	ev := h.recordEvent(r, endOutcome(result))
	ev.Restored, ev.Skipped, ev.Failed = p.Restored, p.Skipped, p.Failed
	ev.Detail = detail
	if detail == "" {
		ev.Detail = fmt.Sprintf("%d restored, %d skipped, %d failed", p.Restored, p.Skipped, p.Failed)
	}
	err := h.store.End(ctx, r, ev)
	switch {
	case errors.Is(err, store.ErrChanged):
		return // another look recorded it first
	case err != nil:
		h.log.ErrorContext(ctx, "watch_failed", "restore", r.ID, "error", err)
		return
	}
	if flrID, _, ok := strings.Cut(r.SessionID, "/"); ok && r.Workload == azureWorkload {
		h.touchFLR(ctx, flrID) // a restore is use: the session's idle time starts now
	}
	h.metrics.RestoreEnded(r.Workload, ev.Outcome)
	h.log.InfoContext(ctx, "restore_ended", "restore", r.ID, "restore_session", r.SessionID, "result", string(result),
		"restored", p.Restored, "skipped", p.Skipped, "failed", p.Failed, "oid", r.UserOID)
	h.releaseIfUnused(ctx, r.GrantID)
}

// endOutcome is the trail's outcome of a restore's end.
func endOutcome(r restore.Result) string {
	switch r {
	case restore.Success:
		return audit.Succeeded
	case restore.Warning:
		return audit.Warning
	case restore.Failed:
		return audit.Failed
	case restore.Stopped:
		return audit.Stopped
	}
	return audit.Lost
}

// grantTokens is a watcher's token pair as a veeamapi.TokenSource: it
// refreshes the pair when due and keeps the refreshed one, and when
// another replica refreshed it first, uses theirs.
type grantTokens struct {
	h  *Handler
	id string
}

func (g *grantTokens) Token(ctx context.Context) (string, error) { return g.token(ctx, "") }

func (g *grantTokens) Refresh(ctx context.Context, rejected string) (string, error) {
	return g.token(ctx, rejected)
}

// token returns a current access token: the stored one, unless it is due
// for renewal or is the one the server rejected.
func (g *grantTokens) token(ctx context.Context, rejected string) (string, error) {
	// Looks at several restores of one grant share one refresh.
	v, err, _ := g.h.grantFlight.Do(g.id+"\x00"+rejected, func() (any, error) { return g.fetch(ctx, rejected) })
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

func (g *grantTokens) fetch(ctx context.Context, rejected string) (string, error) {
	h := g.h
	for range 3 {
		stored, err := h.store.Grant(ctx, g.id)
		if err != nil {
			return "", err
		}
		p, err := h.openGrant(stored.Sealed)
		if err != nil {
			return "", err
		}
		now := h.cfg.Now()
		if p.Access != rejected && now.Before(p.Expiry.Add(-time.Minute)) {
			return p.Access, nil
		}
		tok, err := h.veeam.RefreshToken(ctx, p.Refresh)
		if err != nil {
			return "", err
		}
		sealed, err := h.sealGrant(grantPair{Access: tok.AccessToken, Refresh: tok.RefreshToken, Expiry: tok.Expiry})
		if err != nil {
			return "", err
		}
		err = h.store.ReplaceGrant(ctx, store.Grant{ID: g.id, Sealed: sealed, Updated: now}, stored.Sealed)
		if errors.Is(err, store.ErrChanged) {
			continue // another look refreshed it first: use theirs
		}
		if err != nil {
			return "", err
		}
		return tok.AccessToken, nil
	}
	return "", errors.New("handlers: the watcher's token kept changing")
}
