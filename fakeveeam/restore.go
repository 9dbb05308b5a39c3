package fakeveeam

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// restoreJob is an operatorRestore in progress: its items finish one after
// another, RestoreItemDuration apart, and each changes production when it does.
// Progress is computed from the clock whenever anyone looks, so tests with a
// fake clock see exactly the state they expect.
type restoreJob struct {
	mailbox *mailboxData
	point   time.Time
	opts    exchangeRestoreOptions
	targets []restoreTarget
	folder  *mailFolder // the new folder, when restoring to one
}

type restoreTarget struct {
	item    *mailItem
	version int
	at      time.Time // when it finishes
	done    bool
	status  string // Success, Skipped, Failed
	message string
	created bool // a new item in the mailbox, rather than one written over
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
	now := s.opts.Now()
	s.mu.Lock()
	point, showDeleted := rs.point.BackupTime, rs.showDeleted
	s.mu.Unlock()
	job := &restoreJob{mailbox: m, point: point, opts: opts}
	seen := map[string]bool{}
	for i, ref := range opts.Items {
		it, ver, ok := m.lookup(ref.ID, point, showDeleted)
		if !ok {
			notFound(w, fmt.Sprintf("Item %s was not found in the restore point.", ref.ID))
			return
		}
		if seen[ref.ID] {
			continue
		}
		seen[ref.ID] = true
		job.targets = append(job.targets, restoreTarget{item: it, version: ver, at: now.Add(time.Duration(i+1) * s.opts.RestoreItemDuration)})
	}
	u, _ := s.dir.user(c.oid)
	restore := &restoreSession{
		id: newID(), typ: "Vex", owner: c.oid, created: now, state: "Working", result: "Success",
		name:        fmt.Sprintf("Restore of %d items from %s", len(job.targets), m.name()),
		initiatedBy: u.UPN, scopeName: m.name(), clientHost: rs.clientHost, reason: opts.Reason, eTag: 1,
		point: rs.point, lastUsed: now, job: job,
	}
	target := "the original location"
	if opts.Folder != "" {
		target = "the folder " + opts.Folder
	}
	restore.addEvent(now, "Running", "Restore started",
		fmt.Sprintf("Restoring %d items of %s (%s) from the restore point of %s to %s.", len(job.targets), m.name(), m.owner.UPN,
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

// advance applies the items of a restore that have finished by now. Call with s.mu held.
func (s *Server) advance(rs *restoreSession, now time.Time) {
	job := rs.job
	if rs.state != "Working" {
		return
	}
	prod := job.mailbox.production(s.mail.anchor)
	prod.mu.Lock()
	defer prod.mu.Unlock()
	for i := range job.targets {
		t := &job.targets[i]
		if t.done || t.at.After(now) {
			continue
		}
		t.done = true
		t.status, t.message, t.created = s.restoreOne(job, prod, t)
		f := t.item.versions[t.version].fields
		source := ""
		if folder := job.mailbox.folder[t.item.folderAt(job.point)]; folder != nil {
			source = folder.path
		}
		rs.addEvent(t.at, t.status, "Restoring item", t.message)
		ev := &rs.events[len(rs.events)-1]
		ev.Type, ev.ItemName, ev.ItemType, ev.Source, ev.Target = "Restore", f.Subject, t.item.kind.String(), source, job.targetPath(source)
		ev.ItemSizeBytes = itemSize(t.item, t.version)
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

func (job *restoreJob) targetPath(source string) string {
	if job.folder != nil {
		return job.folder.path
	}
	if job.opts.Folder != "" {
		return job.opts.Folder
	}
	return source
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

// restoreOne writes one item into production and says how it went. The
// semantics: to a new folder, every item is copied there; to the original
// location, a missing item comes back where it was if "missing items" was
// chosen, a changed one gets its earlier version back if "changed items" was
// chosen, and an unchanged one is left alone. Call with prod.mu held.
func (s *Server) restoreOne(job *restoreJob, prod *production, t *restoreTarget) (status, message string, created bool) {
	f := t.item.versions[t.version].fields
	for _, sub := range s.failing {
		if strings.Contains(f.Subject, sub) {
			return "Failed", "The item could not be written to the mailbox: the mailbox is over its storage quota.", false
		}
	}
	unread := job.opts.MarkRestoredAsUnread
	if job.opts.Folder != "" {
		if job.folder == nil {
			job.folder = prod.topFolder(job.mailbox, job.opts.Folder)
		}
		prod.copies++
		id := ewsID("AAMkAGI2C", job.mailbox.id, "copy", fmt.Sprint(prod.copies))
		prod.items[id] = &prodItem{id: id, source: t.item, version: t.version, folder: job.folder.id, unread: unread, restored: true, copyOf: t.item.id}
		return "Success", "Restored a copy to " + job.folder.path + ".", true
	}
	original := t.item.folderAt(job.point)
	live, exists := prod.items[t.item.id]
	switch {
	case !exists && !job.opts.DeletedItems:
		return "Skipped", "The item is missing from the mailbox, and “restore missing items” was not chosen.", false
	case !exists:
		prod.items[t.item.id] = &prodItem{id: t.item.id, source: t.item, version: t.version, folder: original, unread: unread, restored: true}
		return "Success", "Restored the missing item to " + prod.folders[original].path + ".", true
	case live.version != t.version && !job.opts.ChangedItems:
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

// restoreDetails is RESTBulkMailboxItemRestoreDetails: per mailbox counts.
type restoreDetails struct {
	ID                     string   `json:"id"`
	ItemRestoreDetailsType string   `json:"itemRestoreDetailsType"`
	Name                   string   `json:"name"`
	ItemType               string   `json:"itemType"`
	Status                 string   `json:"status"`
	Warnings               []string `json:"warnings"`
	MailboxEmail           string   `json:"mailboxEmail"`
	MailboxIsArchive       bool     `json:"mailboxIsArchive"`
	MailboxIsPublic        bool     `json:"mailboxIsPublic"`
	Created                int64    `json:"createdMailboxItemsCount"`
	Merged                 int64    `json:"mergedMailboxItemsCount"`
	Failed                 int64    `json:"failedMailboxItemsCount"`
	Skipped                int64    `json:"skippedMailboxItemsCount"`
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
		var created, merged int64
		for _, t := range job.targets {
			switch {
			case t.status == "Success" && t.created:
				created++
			case t.status == "Success":
				merged++
			case t.status == "Failed":
				st.Errors = append(st.Errors, t.item.versions[t.version].fields.Subject+": "+t.message)
			}
		}
		restored, failed, skipped := job.counts()
		st.RestoredItemsCount, st.FailedItemsCount, st.SkippedItemsCount = int64(restored), int64(failed), int64(skipped)
		status := "Success"
		switch {
		case rs.state == "Working":
			status = "Warning" // the schema has no "in progress"; counts still grow
		case failed > 0:
			status = "Failed"
		}
		st.Items = append(st.Items, restoreDetails{
			ID: job.mailbox.id, ItemRestoreDetailsType: "BulkMailbox", Name: job.mailbox.name(), ItemType: "ExchangeMailbox",
			Status: status, Warnings: []string{}, MailboxEmail: job.mailbox.owner.UPN, MailboxIsArchive: job.mailbox.archive,
			Created: created, Merged: merged, Failed: int64(failed), Skipped: int64(skipped),
		})
	}
	writeJSON(w, http.StatusOK, st)
}
