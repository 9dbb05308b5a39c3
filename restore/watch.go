package restore

import "time"

// The watcher's rules. A portal replica holds a restore it watches under a
// lease; a replica that dies lets its leases run out, and another takes
// the restores over.
const (
	// IntentLease is how long a replica that wrote an intent has to tell
	// what the backup server answered: well beyond the deadline of the
	// call. An intent still pending after it is Unconfirmed.
	IntentLease = 2 * time.Minute
	// WatchLease is how long a replica holds a running restore between
	// two looks at it.
	WatchLease = 30 * time.Second
	// LostAfter is how long a watcher keeps trying a restore the backup
	// server cannot be asked about (it does not answer, or the watcher's
	// token was refused) before recording that its end is unknown.
	LostAfter = 24 * time.Hour
)

// CheckEvery is how long the watcher waits before it looks at a running
// restore again: often while it is young (most restores of a few items
// end within a minute), then less and less.
func CheckEvery(age time.Duration) time.Duration {
	switch {
	case age < 5*time.Second:
		return 500 * time.Millisecond
	case age < 30*time.Second:
		return time.Second
	case age < 5*time.Minute:
		return 5 * time.Second
	case age < time.Hour:
		return 30 * time.Second
	}
	return 2 * time.Minute
}

// Progress is what the backup server says of a restore.
type Progress struct {
	Working  bool   // VB365's state Working
	Result   string // VB365's result: Success, Warning, Failed
	Total    int
	Restored int
	Skipped  int
	Failed   int
}

// ResultOf says how a restore that is no longer working ended: as the
// backup server says, or Stopped when it stopped before every item was done.
func ResultOf(p Progress) Result {
	if p.Total > 0 && p.Restored+p.Skipped+p.Failed < p.Total {
		return Stopped
	}
	switch Result(p.Result) {
	case Success, Warning, Failed:
		return Result(p.Result)
	}
	return Unknown
}
