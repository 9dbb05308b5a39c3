package fakeveeam

import (
	"crypto/sha512"
	"encoding/base64"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/openrestore/portal/demotenant"
)

// The Exchange data of the organisation. Every item has a history relative to
// the anchor (the moment the server started): when it arrived, in which
// folder, when it was changed, moved or deleted. A restore point at time P
// shows each item as it was at P; "production", the live mailbox, shows it as
// it is now. Restores change production, and tests read production through
// the Go API (ProductionItems), never through VB365 endpoints.

// itemKind is the kind of a mailbox item.
type itemKind int

const (
	kindMessage itemKind = iota
	kindAppointment
	kindContact
	kindTask
	kindNote
)

func (k itemKind) class() string {
	return [...]string{"IPM.Note", "IPM.Appointment", "IPM.Contact", "IPM.Task", "IPM.StickyNote"}[k]
}

func (k itemKind) String() string {
	return [...]string{"message", "appointment", "contact", "task", "note"}[k]
}

// attachment is a file attached to an item.
type attachment struct {
	Name string
	Size int64
}

// itemFields are an item's contents at one version.
type itemFields struct {
	Subject     string
	Body        string
	From        string // "Name <address>"
	To          string
	Cc          string
	Importance  string
	Attachments []attachment
	// appointments
	Organizer string
	Attendees string
	Location  string
	Start     time.Time
	End       time.Time
	Recurring bool
	// contacts
	FullName, Email, Company, JobTitle, BusinessPhone, Mobile, Address string
	// tasks
	Status  string
	Percent float64
	Due     time.Time
	Owner   string
}

// version is an item's fields from a time on.
type version struct {
	since  time.Time
	fields *itemFields
}

// move puts an item into another folder at a time.
type move struct {
	at     time.Time
	folder string
}

// mailItem is one item and its history.
type mailItem struct {
	id       string
	kind     itemKind
	created  time.Time // when it arrived (received, or created)
	sent     time.Time
	folder   string // the folder it arrived in
	moves    []move
	versions []version // at least one; versions[0].since == created
	deleted  time.Time // zero: never deleted before the anchor
}

func (it *mailItem) existsAt(t time.Time, showDeleted bool) bool {
	if it.created.After(t) {
		return false
	}
	return showDeleted || it.deleted.IsZero() || it.deleted.After(t)
}

func (it *mailItem) folderAt(t time.Time) string {
	f := it.folder
	for _, m := range it.moves {
		if !m.at.After(t) {
			f = m.folder
		}
	}
	return f
}

// versionAt is the index of the version current at t.
func (it *mailItem) versionAt(t time.Time) int {
	n := 0
	for i, v := range it.versions {
		if !v.since.After(t) {
			n = i
		}
	}
	return n
}

// mailFolder is a folder of a mailbox.
type mailFolder struct {
	id       string
	name     string
	parent   string // "" for a top-level folder
	path     string // "Inbox/Projects"
	typ      string // None, Appointment, Contact, Task, StickyNote
	category string // Inbox, Sent, Deleted, Drafts, Junk, None
}

// mailboxData is one mailbox: its folders and items, newest first.
type mailboxData struct {
	id      string
	owner   demotenant.User
	archive bool
	folders []*mailFolder // in tree order
	folder  map[string]*mailFolder
	items   []*mailItem // newest first
	item    map[string]*mailItem
	// byFolder lists, newest first, the items that were ever in a folder.
	byFolder map[string][]*mailItem

	prodOnce sync.Once
	prod     *production
}

func (m *mailboxData) name() string {
	if m.archive {
		return "In-Place Archive - " + m.owner.DisplayName
	}
	return m.owner.DisplayName
}

// index fills the lookups once the items are generated.
func (m *mailboxData) index() {
	slices.SortStableFunc(m.items, func(a, b *mailItem) int { return b.created.Compare(a.created) })
	m.item = make(map[string]*mailItem, len(m.items))
	m.byFolder = map[string][]*mailItem{}
	for _, it := range m.items {
		m.item[it.id] = it
		seen := map[string]bool{it.folder: true}
		m.byFolder[it.folder] = append(m.byFolder[it.folder], it)
		for _, mv := range it.moves {
			if !seen[mv.folder] {
				seen[mv.folder] = true
				m.byFolder[mv.folder] = append(m.byFolder[mv.folder], it)
			}
		}
	}
}

// ewsID makes an id shaped like an Exchange Web Services id: long, base64,
// with the '+', '/' and '=' that URLs must escape.
func ewsID(prefix string, parts ...string) string {
	sum := sha512.Sum512([]byte(strings.Join(parts, "/")))
	raw := append(sum[:], sum[0])
	return prefix + base64.StdEncoding.EncodeToString(raw)
}

// exchangeData is every mailbox of the organisation, generated on first use.
type exchangeData struct {
	anchor time.Time
	opts   *Options
	dir    *directory

	mu        sync.Mutex
	mailboxes map[string]*mailboxData // by mailbox id
}

func newExchangeData(dir *directory, opts *Options, anchor time.Time) *exchangeData {
	return &exchangeData{anchor: anchor, opts: opts, dir: dir, mailboxes: map[string]*mailboxData{}}
}

// mailbox returns the mailbox with this id, generating it on first use.
func (x *exchangeData) mailbox(id string) (*mailboxData, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if m, ok := x.mailboxes[id]; ok {
		return m, true
	}
	for _, u := range x.dir.org.Users {
		for _, archive := range []bool{false, true} {
			if MailboxID(u.OID, archive) != id || (archive && !u.HasArchive) {
				continue
			}
			m := generateMailbox(u, x.dir.org.Users, archive, x.anchor, x.opts)
			x.mailboxes[id] = m
			return m, true
		}
	}
	return nil, false
}
