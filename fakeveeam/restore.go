package fakeveeam

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// restoreJob is an operatorRestore in progress: its targets finish one after
// another, RestoreItemDuration apart, and each changes production when it
// does. Progress is computed from the clock whenever anyone looks, so tests
// with a fake clock see exactly the state they expect. What a target does to
// production is the workload's: work.
type restoreJob struct {
	point   time.Time
	targets []restoreTarget
	work    jobWork
}

// jobWork is what a restore does in one workload.
type jobWork interface {
	// lock holds the workload's production state while targets apply.
	lock() (unlock func())
	// apply restores one target; it may set t.target, where it went.
	apply(s *Server, job *restoreJob, t *restoreTarget) (status, message string, created bool)
	// details are the per-object results of RESTRestoreSessionStatistics.
	details(job *restoreJob, working bool) []restoreDetails
}

// restoreTarget is one object of a restore and how it went.
type restoreTarget struct {
	at      time.Time // when it finishes
	done    bool
	status  string // Success, Skipped, Failed
	message string
	created bool // a new object in production, rather than one written over

	name, itemType string // for events and statistics
	source, target string // paths
	size           int64

	item    *mailItem // Exchange
	version int       // of item or doc
	doc     *docNode  // OneDrive, SharePoint
	teams   *teamTarget
	teamsID string
}

// mailWork is an Exchange restore.
type mailWork struct {
	mailbox *mailboxData
	anchor  time.Time
	opts    exchangeRestoreOptions
	folder  *mailFolder // the new folder, when restoring to one
}

func (w *mailWork) lock() func() {
	prod := w.mailbox.production(w.anchor)
	prod.mu.Lock()
	return prod.mu.Unlock
}

// exchangeRestoreOptions is RESTOperatorRestoreOptions.
type exchangeRestoreOptions struct {
	ChangedItems         bool   `json:"changedItems"`
	DeletedItems         bool   `json:"deletedItems"`
	MarkRestoredAsUnread bool   `json:"markRestoredAsUnread"`
	Folder               string `json:"folder"`
	Items                []struct {
		ID string `json:"id"`
	} `json:"items"`
	Reason string `json:"reason"`
}

// operatorRestore starts restoring items of a mailbox to production. It
// answers at once with the restore session's id; the work goes on after.
func (s *Server) operatorRestore(w http.ResponseWriter, r *http.Request, rs *restoreSession, m *mailboxData, c *caller) {
	var opts exchangeRestoreOptions
	if err := json.NewDecoder(r.Body).Decode(&opts); err != nil {
		badRequest(w, "The request body is not a valid RESTOperatorRestoreOptions object.")
		return
	}
	if len(opts.Items) == 0 {
		badRequest(w, "Specify the items to restore.")
		return
	}
	if opts.Folder != "" && (len(opts.Folder) > 255 || strings.ContainsAny(opts.Folder, `\/`)) {
		badRequest(w, "The folder name is not valid: use at most 255 characters and no slashes.")
		return
	}
	s.mu.Lock()
	point, showDeleted := rs.point.BackupTime, rs.showDeleted
	s.mu.Unlock()
	work := &mailWork{mailbox: m, anchor: s.mail.anchor, opts: opts}
	var targets []restoreTarget
	seen := map[string]bool{}
	for _, ref := range opts.Items {
		it, ver, ok := m.lookup(ref.ID, point, showDeleted)
		if !ok {
			notFound(w, fmt.Sprintf("Item %s was not found in the restore point.", ref.ID))
			return
		}
		if seen[ref.ID] {
			continue
		}
		seen[ref.ID] = true
		source := ""
		if folder := m.folder[it.folderAt(point)]; folder != nil {
			source = folder.path
		}
		targets = append(targets, restoreTarget{item: it, version: ver, name: it.versions[ver].fields.Subject,
			itemType: it.kind.String(), source: source, target: source, size: itemSize(it, ver)})
	}
	target := "the original location"
	if opts.Folder != "" {
		target = "the folder " + opts.Folder
	}
	s.startRestore(w, rs, c, "Vex", m.name(), fmt.Sprintf("%s (%s)", m.name(), m.owner.UPN), target, opts.Reason, point, targets, work)
}

// startRestore creates the restore session of an operatorRestore and answers
// with its id; the targets then finish one by one.
func (s *Server) startRestore(w http.ResponseWriter, rs *restoreSession, c *caller, typ, scopeName, what, target, reason string,
	point time.Time, targets []restoreTarget, work jobWork) {
	now := s.opts.Now()
	for i := range targets {
		targets[i].at = now.Add(time.Duration(i+1) * s.opts.RestoreItemDuration)
	}
	job := &restoreJob{point: point, targets: targets, work: work}
	u, _ := s.dir.user(c.oid)
	restore := &restoreSession{
		id: newID(), typ: typ, owner: c.oid, created: now, state: "Working", result: "Success",
		name:        fmt.Sprintf("Restore of %d items from %s", len(targets), scopeName),
		initiatedBy: u.UPN, scopeName: scopeName, clientHost: rs.clientHost, reason: reason, eTag: 1,
		point: rs.point, lastUsed: now, job: job,
	}
	restore.addEvent(now, "Running", "Restore started",
		fmt.Sprintf("Restoring %d items of %s from the restore point of %s to %s.", len(targets), what,
			point.UTC().Format(time.RFC3339), target))
	restore.events[0].Type = "Restore"
	s.mu.Lock()
	s.sessions[restore.id] = restore
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"sessionId": restore.id})
}

// lookup finds an item of the restore point by id; "<id>.<n>" names version n
// of a changed item (listed with showAllVersions).
func (m *mailboxData) lookup(id string, point time.Time, showDeleted bool) (*mailItem, int, bool) {
	base, ver := id, -1
	if i := strings.LastIndex(id, "."); i > 0 {
		var n int
		if _, err := fmt.Sscanf(id[i+1:], "%d", &n); err == nil {
			base, ver = id[:i], n
		}
	}
	it, ok := m.item[base]
	if !ok || !it.existsAt(point, showDeleted) {
		return nil, 0, false
	}
	if ver < 0 {
		return it, it.versionAt(point), true
	}
	if ver >= len(it.versions) || it.versions[ver].since.After(point) {
		return nil, 0, false
	}
	return it, ver, true
}

// advanceAll moves every restore job on to the present. Call with s.mu held.
func (s *Server) advanceAll() {
	now := s.opts.Now()
	for _, rs := range s.sessions {
		if rs.job != nil {
			s.advance(rs, now)
		}
	}
}

// advance applies the targets of a restore that have finished by now. Call with s.mu held.
func (s *Server) advance(rs *restoreSession, now time.Time) {
	job := rs.job
	if rs.state != "Working" {
		return
	}
	unlock := job.work.lock()
	defer unlock()
	for i := range job.targets {
		t := &job.targets[i]
		if t.done || t.at.After(now) {
			continue
		}
		t.done = true
		t.status, t.message, t.created = job.work.apply(s, job, t)
		rs.addEvent(t.at, t.status, "Restoring item", t.message)
		ev := &rs.events[len(rs.events)-1]
		ev.Type, ev.ItemName, ev.ItemType, ev.Source, ev.Target = "Restore", t.name, t.itemType, t.source, t.target
		ev.ItemSizeBytes = t.size
	}
	for _, t := range job.targets {
		if !t.done {
			return
		}
	}
	end := job.targets[len(job.targets)-1].at
	rs.state, rs.end = "Stopped", &end
	restored, failed, skipped := job.counts()
	switch {
	case failed == len(job.targets):
		rs.result = "Failed"
	case failed > 0:
		rs.result = "Warning"
	}
	rs.eTag++
	rs.addEvent(end, rs.result, "Restore finished",
		fmt.Sprintf("%d items restored, %d skipped, %d failed.", restored, skipped, failed))
	rs.events[len(rs.events)-1].Type = "Restore"
	rs.events[0].Status = rs.result
	rs.events[0].EndTime = &end
}

func (job *restoreJob) counts() (restored, failed, skipped int) {
	for _, t := range job.targets {
		switch t.status {
		case "Success":
			restored++
		case "Failed":
			failed++
		case "Skipped":
			skipped++
		}
	}
	return
}

// failing reports whether the test asked this target's restore to fail, and the message then.
func (s *Server) failing(name string) (string, bool) {
	for _, sub := range s.failingNames {
		if strings.Contains(name, sub) {
			return "The item could not be written: the destination is over its storage quota.", true
		}
	}
	return "", false
}

// apply writes one item into production and says how it went. The
// semantics: to a new folder, every item is copied there; to the original
// location, a missing item comes back where it was if "missing items" was
// chosen, a changed one gets its earlier version back if "changed items" was
// chosen, and an unchanged one is left alone. Call with the production locked.
func (w *mailWork) apply(s *Server, job *restoreJob, t *restoreTarget) (status, message string, created bool) {
	if msg, fail := s.failing(t.name); fail {
		return "Failed", msg, false
	}
	prod := w.mailbox.production(w.anchor)
	unread := w.opts.MarkRestoredAsUnread
	if w.opts.Folder != "" {
		if w.folder == nil {
			w.folder = prod.topFolder(w.mailbox, w.opts.Folder)
		}
		t.target = w.folder.path
		prod.copies++
		id := ewsID("AAMkAGI2C", w.mailbox.id, "copy", fmt.Sprint(prod.copies))
		prod.items[id] = &prodItem{id: id, source: t.item, version: t.version, folder: w.folder.id, unread: unread, restored: true, copyOf: t.item.id}
		return "Success", "Restored a copy to " + w.folder.path + ".", true
	}
	original := t.item.folderAt(job.point)
	live, exists := prod.items[t.item.id]
	switch {
	case !exists && !w.opts.DeletedItems:
		return "Skipped", "The item is missing from the mailbox, and “restore missing items” was not chosen.", false
	case !exists:
		prod.items[t.item.id] = &prodItem{id: t.item.id, source: t.item, version: t.version, folder: original, unread: unread, restored: true}
		return "Success", "Restored the missing item to " + prod.folders[original].path + ".", true
	case live.version != t.version && !w.opts.ChangedItems:
		return "Skipped", "The item has changed since the restore point, and “restore changed items” was not chosen.", false
	case live.version != t.version:
		live.version, live.restored = t.version, true
		if unread {
			live.unread = true
		}
		return "Success", "Restored the version of the restore point.", false
	}
	return "Skipped", "The item is the same in the mailbox as in the restore point.", false
}

// details are the per-mailbox counts (RESTBulkMailboxItemRestoreDetails).
func (w *mailWork) details(job *restoreJob, working bool) []restoreDetails {
	var created, merged int64
	for _, t := range job.targets {
		switch {
		case t.status == "Success" && t.created:
			created++
		case t.status == "Success":
			merged++
		}
	}
	_, failed, skipped := job.counts()
	status := "Success"
	switch {
	case working:
		status = "Warning" // the schema has no "in progress"; counts still grow
	case failed > 0:
		status = "Failed"
	}
	m := w.mailbox
	return []restoreDetails{{
		ID: m.id, ItemRestoreDetailsType: "BulkMailbox", Name: m.name(), ItemType: "ExchangeMailbox",
		Status: status, Warnings: []string{}, MailboxEmail: m.owner.UPN, MailboxIsArchive: m.archive,
		Created: created, Merged: merged, Failed: int64(failed), Skipped: int64(skipped),
	}}
}

// statistics is RESTRestoreSessionStatistics.
type statistics struct {
	TotalItemsCount    int64            `json:"totalItemsCount"`
	RestoredItemsCount int64            `json:"restoredItemsCount"`
	FailedItemsCount   int64            `json:"failedItemsCount"`
	SkippedItemsCount  int64            `json:"skippedItemsCount"`
	Warnings           []string         `json:"warnings"`
	Errors             []string         `json:"errors"`
	Items              []restoreDetails `json:"items"`
}

// restoreDetails is RESTItemRestoreDetailsComposed: per mailbox counts
// (BulkMailbox), per OneDrive with its items (BulkOneDrive), or one item (Item).
type restoreDetails struct {
	ID                     string           `json:"id"`
	ItemRestoreDetailsType string           `json:"itemRestoreDetailsType"`
	Name                   string           `json:"name"`
	Title                  string           `json:"title,omitempty"`
	Error                  string           `json:"error,omitempty"`
	Path                   string           `json:"path,omitempty"`
	ItemType               string           `json:"itemType"`
	Status                 string           `json:"status"`
	Warnings               []string         `json:"warnings"`
	MailboxEmail           string           `json:"mailboxEmail,omitempty"`
	MailboxIsArchive       bool             `json:"mailboxIsArchive,omitempty"`
	MailboxIsPublic        bool             `json:"mailboxIsPublic,omitempty"`
	Created                int64            `json:"createdMailboxItemsCount,omitempty"`
	Merged                 int64            `json:"mergedMailboxItemsCount,omitempty"`
	Failed                 int64            `json:"failedMailboxItemsCount,omitempty"`
	Skipped                int64            `json:"skippedMailboxItemsCount,omitempty"`
	ChildItems             []restoreDetails `json:"childItems,omitempty"`
	OneDriveWebID          string           `json:"oneDriveWebId,omitempty"`
	OneDriveSiteID         string           `json:"oneDriveSiteId,omitempty"`
	OneDriveURL            string           `json:"oneDriveUrl,omitempty"`
}

func (s *Server) sessionStatistics(w http.ResponseWriter, r *http.Request, c *caller) {
	rs, ok := s.session(w, r, c)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := statistics{Warnings: []string{}, Errors: []string{}, Items: []restoreDetails{}}
	if job := rs.job; job != nil {
		s.advance(rs, s.opts.Now())
		st.TotalItemsCount = int64(len(job.targets))
		for _, t := range job.targets {
			if t.status == "Failed" {
				st.Errors = append(st.Errors, t.name+": "+t.message)
			}
		}
		restored, failed, skipped := job.counts()
		st.RestoredItemsCount, st.FailedItemsCount, st.SkippedItemsCount = int64(restored), int64(failed), int64(skipped)
		unlock := job.work.lock()
		st.Items = append(st.Items, job.work.details(job, rs.state == "Working")...)
		unlock()
	}
	writeJSON(w, http.StatusOK, st)
}

// itemDetails is RESTItemRestoreDetails for one target.
func itemDetails(t restoreTarget, id, itemType string) restoreDetails {
	status := t.status
	if !t.done {
		status = "Warning" // not finished yet; the schema has no "in progress"
	}
	d := restoreDetails{ID: id, ItemRestoreDetailsType: "Item", Name: t.name, Title: t.name, ItemType: itemType,
		Status: status, Path: t.source, Warnings: []string{}}
	if t.status == "Failed" {
		d.Error = t.message
	}
	return d
}
