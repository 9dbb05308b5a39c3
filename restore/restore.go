// Package restore is what the portal knows about a restore, with no I/O:
// the record that is written before the backup server is asked (the
// intent) and completed when it answers and when the restore ends, the
// reason policy, and the rules the watcher follows to learn how each
// restore ended.
//
// A restore goes Pending → Running → Ended, or Pending → Refused (the
// backup server did not start it), or Pending → Unconfirmed (the portal
// stopped before the backup server answered, so nobody knows whether it
// started).
package restore

import (
	"fmt"
	"time"

	"github.com/openrestore/portal/audit"
)

// State is where a restore is in its life.
type State string

// The states.
const (
	Pending     State = "pending"
	Running     State = "running"
	Ended       State = "ended"
	Refused     State = "refused"
	Unconfirmed State = "unconfirmed"
)

// Result is how a restore that ran ended.
type Result string

// The results. Success, Warning and Failed are VB365's own; Stopped means
// it was stopped before every item was done; Unknown means the backup
// server no longer knows the restore.
const (
	Success Result = "Success"
	Warning Result = "Warning"
	Failed  Result = "Failed"
	Stopped Result = "Stopped"
	Unknown Result = "Unknown"
)

// Record is one restore: what was asked, for whom, and how it went.
type Record struct {
	ID string // the portal's id, in the restore's address
	// Submission is the one-time key of the form that asked for it, and
	// Part its place among the restores that form started (a site's
	// documents and list items are two).
	Submission string
	Part       int

	TenantID string
	UserOID  string
	UserUPN  string
	UserName string

	Workload  string // exchange, onedrive, sharepoint, teams
	Source    string // whose data, as shown: the mailbox's name
	SourceID  string
	Items     []audit.Item // the first of them by name; ItemCount counts every one
	ItemCount int
	Target    string // "Original location", or where to
	Options   string // a readable summary of the options chosen
	Reason    string
	// ForOthers: the data was not the user's own.
	ForOthers bool
	PointTime time.Time

	State     State
	SessionID string // the backup server's restore session, once it accepted
	Requested time.Time
	Started   time.Time // when the backup server accepted it
	Ended     time.Time // when it ended, or was found refused or unconfirmed
	Result    Result
	Restored  int
	Skipped   int
	Failed    int
	Detail    string // why it was refused, or what the end means
	// GrantID is the token pair the watcher asks the backup server with.
	GrantID string
}

// Done reports whether the record will not change any more.
func (r Record) Done() bool { return r.State == Ended || r.State == Refused || r.State == Unconfirmed }

// Problems reports whether the restore did not do all it was asked: it
// did not start, may not have, or ended with failures or warnings.
func (r Record) Problems() bool {
	switch r.State {
	case Refused, Unconfirmed:
		return true
	case Ended:
		return r.Result != Success || r.Failed > 0
	}
	return false
}

// Policy says when a restore needs a reason.
type Policy string

// The policies.
const (
	Optional Policy = "optional" // a reason may be given
	Required Policy = "required" // always
	Others   Policy = "others"   // when the data is not the user's own
)

// ParsePolicy reads PORTAL_RESTORE_REASON: always (or required), others,
// never (or optional).
func ParsePolicy(s string) (Policy, error) {
	switch s {
	case "", "optional", "never":
		return Optional, nil
	case "required", "always":
		return Required, nil
	case "others":
		return Others, nil
	}
	return "", fmt.Errorf("%q must be always, others or never", s)
}

// ReasonRequired applies the policy to a restore of someone else's data
// (forOthers) or of the user's own.
func (p Policy) ReasonRequired(forOthers bool) bool {
	return p == Required || (p == Others && forOthers)
}

// MaxReason is the longest reason, in characters.
const MaxReason = 500
