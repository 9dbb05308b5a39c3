package fakeveeam

import (
	"slices"
	"strings"
	"sync"
	"time"
)

// production is a mailbox as it is now: the seed's history played up to the
// anchor, then whatever restores wrote into it.
type production struct {
	mu      sync.Mutex
	items   map[string]*prodItem
	folders map[string]*mailFolder // by id, including folders restores created
	copies  int
}

// prodItem is an item in the live mailbox.
type prodItem struct {
	id       string
	source   *mailItem
	version  int
	folder   string
	unread   bool
	restored bool   // written by a restore
	copyOf   string // for a copy restored into another folder: the backed-up item's id
}

// production returns the mailbox's live state, built on first use.
func (m *mailboxData) production(anchor time.Time) *production {
	m.prodOnce.Do(func() {
		p := &production{items: map[string]*prodItem{}, folders: map[string]*mailFolder{}}
		for _, f := range m.folders {
			p.folders[f.id] = f
		}
		for _, it := range m.items {
			if it.existsAt(anchor, false) {
				p.items[it.id] = &prodItem{id: it.id, source: it, version: it.versionAt(anchor), folder: it.folderAt(anchor)}
			}
		}
		m.prod = p
	})
	return m.prod
}

// topFolder finds or creates a top-level folder by name. Call with p.mu held.
func (p *production) topFolder(m *mailboxData, name string) *mailFolder {
	for _, f := range p.folders {
		if f.parent == "" && strings.EqualFold(f.name, name) {
			return f
		}
	}
	f := &mailFolder{id: ewsID("AAMkAGI2R", m.id, "restored", name), name: name, path: name, typ: "None", category: "None"}
	p.folders[f.id] = f
	return f
}

// ProductionItem is an item in a live mailbox, as tests see it.
type ProductionItem struct {
	ID       string
	Kind     string // message, appointment, contact, task, note
	Subject  string
	Folder   string // path, e.g. "Inbox/Projects"
	Unread   bool
	Restored bool   // written by a restore
	CopyOf   string // set for a copy restored into another folder
}

// ProductionItems lists what a mailbox holds now, restores included, newest first.
func (s *Server) ProductionItems(mailboxID string) []ProductionItem {
	m, ok := s.mail.mailbox(mailboxID)
	if !ok {
		return nil
	}
	s.mu.Lock()
	s.advanceAll()
	s.mu.Unlock()
	p := m.production(s.mail.anchor)
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]ProductionItem, 0, len(p.items))
	for _, pi := range p.items {
		f := pi.source.versions[pi.version].fields
		path := ""
		if folder := p.folders[pi.folder]; folder != nil {
			path = folder.path
		}
		out = append(out, ProductionItem{ID: pi.id, Kind: pi.source.kind.String(), Subject: f.Subject, Folder: path,
			Unread: pi.unread, Restored: pi.restored, CopyOf: pi.copyOf})
	}
	slices.SortFunc(out, func(a, b ProductionItem) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// FailRestoreOf makes the restore of any item whose subject contains one of
// these strings fail, as a full or locked mailbox would.
func (s *Server) FailRestoreOf(subjects ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failingNames = append(s.failingNames, subjects...)
}
