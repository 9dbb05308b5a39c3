// Package audit is the portal's audit trail, as data: every restore,
// download and export a user attempted, with who did it, for whom, what,
// with which options and reason, and how it ended — refusals and failures
// included — and the CSV an auditor downloads. A restore leaves several
// events: its intent, the backup server's answer, and its end, all with the
// restore's id. The trail is append-only; the store keeps it so (see
// store). Tokens are never recorded.
package audit

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Outcomes.
const (
	Requested   = "requested"   // the portal is about to ask the backup server to restore
	Started     = "started"     // the backup server accepted a restore; its end comes later
	Succeeded   = "succeeded"   // a download or export sent whole; a restore that ended well
	Warning     = "warning"     // a restore that ended with items not restored
	Failed      = "failed"      // the backup server or the network failed; a restore that failed
	Stopped     = "stopped"     // a restore stopped before every item was done
	Unconfirmed = "unconfirmed" // the portal stopped before the backup server answered
	Lost        = "lost"        // the backup server no longer knows how a restore ended
	Denied      = "denied"      // not in the user's scope, or not allowed by the backup server
	Refused     = "refused"     // the request was not valid
	Cancelled   = "cancelled"   // the browser went away during a download
)

// Outcomes lists every outcome, in the order an auditor's filter offers them.
var Outcomes = []string{Requested, Started, Succeeded, Warning, Failed, Stopped, Unconfirmed, Lost, Denied, Refused, Cancelled}

// Item is one thing acted on.
type Item struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Event is one audited step of an attempt.
type Event struct {
	ID        int64
	Time      time.Time
	TenantID  string
	ActorOID  string
	ActorUPN  string
	ActorName string
	Subject   string // on whose behalf: the mailbox, OneDrive or site
	SubjectID string
	Workload  string // exchange, onedrive, sharepoint, teams
	Action    string // restore, download, export
	Items     []Item
	ItemCount int
	Options   string
	Reason    string
	RestoreID string // the portal's restore, for every event of one restore
	SessionID string // the backup server's restore session of a restore
	Outcome   string
	Detail    string // why it was refused or failed
	// A restore's end: how many items were restored, skipped and failed.
	Restored, Skipped, Failed int
}

// MaxItems caps the items kept by name in one event; the count is always whole.
const MaxItems = 1000

// Filter narrows a search of the trail. Text fields match case-insensitively
// anywhere in the actor's name, account or id (Actor) or the subject's name
// or id (Subject); empty fields match everything.
type Filter struct {
	Actor    string
	Subject  string
	Workload string
	Outcome  string
	From, To time.Time // From inclusive, To exclusive; zero: open
	// Before and After page by key, at the same cost at any depth: only
	// events older than Before, or newer than After (the page still comes
	// newest first). Offset pages by counting, and costs more the deeper.
	Before, After *Cursor
	Offset        int
	Limit         int // 0: no limit
}

// Cursor is an event's place in the trail's order (newest first): its time
// and, among events of the same millisecond, its id.
type Cursor struct {
	At time.Time
	ID int64
}

// CursorOf is the place of an event.
func CursorOf(e Event) Cursor { return Cursor{At: e.Time, ID: e.ID} }

// String writes a cursor for a URL: milliseconds and id.
func (c Cursor) String() string { return fmt.Sprintf("%d.%d", c.At.UnixMilli(), c.ID) }

// ParseCursor reads what String wrote.
func ParseCursor(s string) (Cursor, error) {
	ms, id, ok := strings.Cut(s, ".")
	m, err1 := strconv.ParseInt(ms, 10, 64)
	n, err2 := strconv.ParseInt(id, 10, 64)
	if !ok || err1 != nil || err2 != nil || n < 0 {
		return Cursor{}, fmt.Errorf("audit: %q is not a place in the trail", s)
	}
	return Cursor{At: time.UnixMilli(m).UTC(), ID: n}, nil
}

// CSVHeader is the first row of an export.
var CSVHeader = []string{"time_utc", "actor_name", "actor_upn", "actor_oid", "tenant_id", "on_behalf_of", "on_behalf_of_id",
	"workload", "action", "item_count", "items", "options", "reason", "restore", "vb365_session", "outcome", "detail",
	"restored", "skipped", "failed"}

// CSVWriter writes events as CSV. Cells that a spreadsheet would take for a
// formula (starting with =, +, -, @, tab or carriage return) are prefixed
// with an apostrophe: backed-up names are hostile input.
type CSVWriter struct{ w *csv.Writer }

// NewCSVWriter writes the header row.
func NewCSVWriter(w io.Writer) (*CSVWriter, error) {
	c := &CSVWriter{w: csv.NewWriter(w)}
	return c, c.w.Write(CSVHeader)
}

// Write writes one event.
func (c *CSVWriter) Write(e Event) error {
	names := make([]string, len(e.Items))
	for i, it := range e.Items {
		names[i] = it.Name
	}
	row := []string{e.Time.UTC().Format(time.RFC3339), e.ActorName, e.ActorUPN, e.ActorOID, e.TenantID, e.Subject, e.SubjectID,
		e.Workload, e.Action, fmt.Sprint(max(e.ItemCount, len(e.Items))), strings.Join(names, "; "), e.Options, e.Reason, e.RestoreID,
		e.SessionID, e.Outcome, e.Detail, counted(e, e.Restored), counted(e, e.Skipped), counted(e, e.Failed)}
	for i, cell := range row {
		if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
			row[i] = "'" + cell
		}
	}
	return c.w.Write(row)
}

// Flush writes what is buffered.
func (c *CSVWriter) Flush() error { c.w.Flush(); return c.w.Error() }

// counted is a count of a restore's end, empty for other events.
func counted(e Event, n int) string {
	switch e.Outcome {
	case Succeeded, Warning, Failed, Stopped:
		if e.Action == "restore" && e.SessionID != "" {
			return fmt.Sprint(n)
		}
	}
	return ""
}
