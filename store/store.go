// Package store is the portal's storage boundary: sessions and what each
// signed-in session holds (its tokens, restore list, opened restore
// sessions), people's preferences, restores (My restores and what the
// watcher follows), the audit trail, restore wizards' drafts and the tokens
// restores are watched with. sqlite is the embedded implementation and
// postgres the one several replicas share; storetest is the conformance
// suite both pass.
//
// What several requests of one user change lives in rows changed one at a
// time, never in one record rewritten whole by every request: two tabs
// adding to the restore list at once both add.
//
// Every change of a restore and the audit event that tells of it are
// written together, so the trail never lacks an event of a recorded change
// and never tells of one that was not recorded.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/openrestore/portal/audit"
	"github.com/openrestore/portal/restore"
	"github.com/openrestore/portal/vmaccess"
)

// Errors.
var (
	// ErrNotFound: no such record, or not this user's.
	ErrNotFound = errors.New("store: not found")
	// ErrSubmitted: a restore of this submission exists already.
	ErrSubmitted = errors.New("store: already submitted")
	// ErrChanged: the record is no longer in the state the change expects.
	ErrChanged = errors.New("store: changed meanwhile")
	// ErrFull: a session's set holds as many entries as it may.
	ErrFull = errors.New("store: full")
)

// Store is everything the portal keeps.
type Store interface {
	Restores
	Trail
	Drafts
	Grants
	SignIns
	SessionState
	Preferences
	AzureVMs
	RateLimits
	// Sessions is the scs store of the portal's sessions.
	Sessions() scs.CtxStore
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	// Alone reports whether no other replica of the portal is alive.
	Alone(ctx context.Context) (bool, error)
	// Close stops background work and closes the database.
	Close() error
}

// Restores keeps the restores users started.
type Restores interface {
	// Intend records restores before the backup server is asked to start
	// them, as Pending, held by owner until lease, each with its audit
	// event, in one transaction. When a restore of the submission exists,
	// it records nothing and returns ErrSubmitted.
	Intend(ctx context.Context, rs []restore.Record, owner string, lease time.Time, events []audit.Event) error
	// Start records that the backup server accepted a pending (or
	// unconfirmed) restore: Running, with its restore session, to be
	// looked at by the watcher at next.
	Start(ctx context.Context, id, sessionID string, at, next time.Time, ev audit.Event) error
	// Refuse records that the backup server did not start a pending restore.
	Refuse(ctx context.Context, id string, at time.Time, detail string, ev audit.Event) error
	// End records how a running restore ended, once: a restore that has
	// ended already is left as it is, and ErrChanged returned.
	End(ctx context.Context, r restore.Record, ev audit.Event) error
	// Unconfirm records that a pending restore's intent lease ran out.
	Unconfirm(ctx context.Context, id string, at time.Time, detail string, ev audit.Event) error
	// Get returns the user's restore with this id.
	Get(ctx context.Context, tenantID, userOID, id string) (restore.Record, error)
	// Submitted returns the user's restores of a submission, by part.
	Submitted(ctx context.Context, tenantID, userOID, submission string) ([]restore.Record, error)
	// List returns a page of the user's restores matching f, newest
	// first, and whether more follow.
	List(ctx context.Context, tenantID, userOID string, f Filter, offset, limit int) ([]restore.Record, bool, error)
	// Due claims for owner, until lease, up to limit restores that need
	// the watcher at now: running ones whose next look is due, and
	// pending ones whose intent lease ran out; a restore held by another
	// owner whose lease has not run out is left alone.
	Due(ctx context.Context, owner string, now, lease time.Time, limit int) ([]restore.Record, error)
	// Looked records when the watcher should look at a running restore
	// again and lets go of it.
	Looked(ctx context.Context, id string, next time.Time) error
	// Release lets go of every running restore owner holds, for another
	// replica (or the next start) to take over at once.
	Release(ctx context.Context, owner string) error
	// Watched counts the restores, pending or running, watched with a grant.
	Watched(ctx context.Context, grantID string) (int, error)
	// Notices returns, and marks as told, up to limit of the user's
	// restores requested since that have ended (or turned out unconfirmed)
	// and that the user has not been told of.
	Notices(ctx context.Context, tenantID, userOID string, since time.Time, limit int) ([]restore.Record, error)
	// Noticed marks a restore the user has seen end.
	Noticed(ctx context.Context, tenantID, userOID, id string) error
}

// Statuses a list can be filtered by.
const (
	StatusRunning   = "running"   // not known to have ended
	StatusSucceeded = "succeeded" // ended, every item restored or skipped
	StatusProblems  = "problems"  // not started, not confirmed, or ended with a warning, a failure or failed items
)

// Filter narrows a user's list; zero fields match everything.
type Filter struct {
	Workload string
	Status   string
	Whose    string    // "own", "others" or ""
	From, To time.Time // requested in [From, To)
}

// Trail is the audit trail: append-only.
type Trail interface {
	// Append records an event.
	Append(ctx context.Context, e audit.Event) error
	// Count returns how many events match.
	Count(ctx context.Context, f audit.Filter) (int, error)
	// Find calls fn with each matching event, newest first.
	Find(ctx context.Context, f audit.Filter, fn func(audit.Event) error) error
}

// Draft is a restore wizard between its steps: what was chosen on a list,
// and what the user typed in the wizard, kept server-side so that the
// wizard is a page of its own (reached with GET, so Back never resubmits)
// and its key a one-time submission key.
type Draft struct {
	Key      string
	TenantID string
	UserOID  string
	// Path is the wizard's address; a draft is only used there.
	Path      string
	Selection map[string][]string
	Form      map[string][]string // as typed; nil until first submitted
	Problems  map[string]string   // field name → what to change; "" for the form as a whole
	Created   time.Time
	Expires   time.Time
}

// Drafts keeps wizards' drafts.
type Drafts interface {
	// PutDraft saves a draft, replacing one with the same key of the same user.
	PutDraft(ctx context.Context, d Draft) error
	// Draft returns the user's unexpired draft with this key.
	Draft(ctx context.Context, tenantID, userOID, key string, now time.Time) (Draft, error)
}

// Grant is a VB365 token pair the watcher looks at a user's restores
// with, sealed: only the portal's session keys open it.
type Grant struct {
	ID       string
	TenantID string
	UserOID  string
	Sealed   []byte
	Updated  time.Time
}

// Grants keeps the watcher's grants.
type Grants interface {
	PutGrant(ctx context.Context, g Grant) error
	Grant(ctx context.Context, id string) (Grant, error)
	// ReplaceGrant stores a refreshed pair, unless another replica
	// replaced it since it was read (ErrChanged).
	ReplaceGrant(ctx context.Context, g Grant, was []byte) error
	DeleteGrant(ctx context.Context, id string) error
}

// SignIn is a signed-in browser session as every replica sees it: whose it
// is, its tokens (sealed) and until when it lasts. Version counts the
// token changes, so that a change based on stale tokens is refused.
type SignIn struct {
	SID      string
	TenantID string
	UserOID  string
	Sealed   []byte
	Version  int64
	// Expires is when the session ends unless used (the idle timeout, never
	// later than Ends); Ends is the end of its absolute lifetime.
	Expires time.Time
	Ends    time.Time
	// RenewingUntil: a replica is renewing the tokens until then.
	RenewingUntil time.Time
}

// SignIns keeps the signed-in sessions. What a session holds besides
// (SessionState) goes when it ends.
type SignIns interface {
	CreateSignIn(ctx context.Context, s SignIn) error
	// SignIn returns a session that has not expired at now.
	SignIn(ctx context.Context, sid string, now time.Time) (SignIn, error)
	// TouchSignIn moves a session's expiry (never past its end).
	TouchSignIn(ctx context.Context, sid string, expires time.Time) error
	// ClaimRenewal marks the session's tokens of this version as being
	// renewed, until until, unless another claim that has not run out holds
	// them or they changed: false then.
	ClaimRenewal(ctx context.Context, sid string, version int64, until, now time.Time) (bool, error)
	// ReplaceTokens stores renewed tokens over this version (ErrChanged if
	// they are no longer it) and lets go of the claim.
	ReplaceTokens(ctx context.Context, sid string, version int64, sealed []byte) error
	// ReleaseRenewal lets go of a claim without changing the tokens.
	ReleaseRenewal(ctx context.Context, sid string, version int64) error
	// EndSignIn removes a session and everything it holds.
	EndSignIn(ctx context.Context, sid string) error
}

// Entry is one member of a session's set: an item on the restore list, a
// restore session it opened. Value is the caller's, opaque here.
type Entry struct {
	Key   string
	Value []byte
	Added time.Time
}

// SessionState is what a signed-in session holds, in rows of their own.
// Sets are named collections of entries, each added or removed on its own;
// values are named single values. Both go with the session.
type SessionState interface {
	// AddEntries adds the entries a set does not hold yet (by key), in
	// order, and returns how many it added. A set may hold limit entries:
	// beyond, the oldest make room when evict is set, else nothing is
	// added and ErrFull returned.
	AddEntries(ctx context.Context, sid, set string, es []Entry, limit int, evict bool) (int, error)
	// Entries returns a set's entries, oldest first.
	Entries(ctx context.Context, sid, set string) ([]Entry, error)
	// RemoveEntries removes entries of a set by key; nil keys remove them all.
	RemoveEntries(ctx context.Context, sid, set string, keys []string) error
	// SetValue stores a named value; nil removes it.
	SetValue(ctx context.Context, sid, name string, v []byte) error
	// Value returns a named value, nil when there is none.
	Value(ctx context.Context, sid, name string) ([]byte, error)
	// TakeValue returns a named value and removes it, at once: of two
	// requests taking it, one gets it.
	TakeValue(ctx context.Context, sid, name string) ([]byte, error)
	// SwapValue replaces a named value that is still old with v (a nil old:
	// sets it when there is none), and reports whether it did: of two
	// requests replacing it at once, one does.
	SwapValue(ctx context.Context, sid, name string, old, v []byte) (bool, error)
}

// Preference is a person's display settings. They belong to the person
// (tenant and object id), not to a session: they survive signing out.
type Preference struct {
	// TimeZone is an IANA zone name; "" for UTC.
	TimeZone string
	// AutoZone: the zone follows the browser's.
	AutoZone bool
	// Language is a BCP 47 tag; "" to follow the browser.
	Language string
	Updated  time.Time
}

// Preferences keeps people's preferences.
type Preferences interface {
	// Preference returns a person's preferences, ErrNotFound when they
	// never set any.
	Preference(ctx context.Context, tenantID, userOID string) (Preference, error)
	SetPreference(ctx context.Context, tenantID, userOID string, p Preference) error
}

// FLR session states: starting until its worker is ready, ready, then
// stopping (the portal asked VBAzure to stop it) and stopped; failed when
// it never became ready.
const (
	FLRStarting = "starting"
	FLRReady    = "ready"
	FLRStopping = "stopping"
	FLRStopped  = "stopped"
	FLRFailed   = "failed"
)

// FLRSession is a file-level restore session of an Azure VM's restore
// point that someone opened through the portal: VBAzure runs a worker VM
// for it, which costs money until it is stopped.
type FLRSession struct {
	ID       string // VBAzure's job session id
	TenantID string
	UserOID  string
	UserUPN  string
	UserName string
	// SID is the signed-in session it was opened in: it stops at sign-out.
	SID       string
	VMID      string
	VMName    string
	Windows   bool
	PointID   string
	PointTime time.Time
	Reason    string
	State     string
	// Detail says why it failed or stopped.
	Detail   string
	Opened   time.Time
	LastUsed time.Time
	Ended    time.Time
}

// Open reports whether VBAzure may still be running it.
func (s FLRSession) Open() bool {
	return s.State == FLRStarting || s.State == FLRReady || s.State == FLRStopping
}

// FLRFilter narrows a list of FLR sessions; zero fields match everything.
type FLRFilter struct {
	// Open keeps those VBAzure may still be running.
	Open bool
	SID  string
	// UsedBefore keeps those last used before it.
	UsedBefore time.Time
}

// AzureVMs keeps who may restore which Azure VM (the rules), and the
// file-level restore sessions people opened.
type AzureVMs interface {
	// VMRules returns a tenant's rules.
	VMRules(ctx context.Context, tenantID string) ([]vmaccess.Rule, error)
	// PutVMRule adds a rule, or replaces the one with its id, with the
	// audit event that tells of it.
	PutVMRule(ctx context.Context, tenantID string, r vmaccess.Rule, ev audit.Event) error
	// DeleteVMRule removes a rule (ErrNotFound: there is none), with its event.
	DeleteVMRule(ctx context.Context, tenantID, id string, ev audit.Event) error
	// ReplaceFileRules makes the rules from the deployment's file these,
	// with ev, and reports whether anything changed (ev is written only then).
	ReplaceFileRules(ctx context.Context, tenantID string, rules []vmaccess.Rule, ev audit.Event) (bool, error)

	// PutFLRSession records a session VBAzure started.
	PutFLRSession(ctx context.Context, s FLRSession) error
	// FLRSession returns a session.
	FLRSession(ctx context.Context, id string) (FLRSession, error)
	// ReusableFLRSession returns the person's newest starting or ready
	// session of a restore point (ErrNotFound when there is none).
	ReusableFLRSession(ctx context.Context, tenantID, userOID, pointID string) (FLRSession, error)
	// FLRSessions lists sessions, newest first.
	FLRSessions(ctx context.Context, f FLRFilter) ([]FLRSession, error)
	// MoveFLRSession moves a session in one of the states from to state
	// to, with detail; a session that ends (failed, stopped) ends at at.
	// ErrChanged: it was in none of them (another request moved it).
	MoveFLRSession(ctx context.Context, id string, from []string, to, detail string, at time.Time) error
	// TouchFLRSession records that the session was used at at.
	TouchFLRSession(ctx context.Context, id string, at time.Time) error
}

// RateLimits counts requests for the rate limits, across replicas.
type RateLimits interface {
	// Hit counts one request under key in the window starting at window
	// and lasting period, and returns the window's count, this one included.
	Hit(ctx context.Context, key string, window time.Time, period time.Duration) (int, error)
}
