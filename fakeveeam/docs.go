package fakeveeam

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/openrestore/portal/demotenant"
)

// OneDrives, SharePoint document libraries and SharePoint lists share one
// model: a tree of folders and files (or list items), where every node has a
// history relative to the anchor (the moment the server started): when it
// appeared, who changed it when (its versions), and whether it was deleted
// since. A restore point at time t sees the nodes that existed at t in their
// version at t. Production, the live OneDrive or site, is that history played
// up to the anchor, then whatever restores wrote into it.

type treeKind int

const (
	treeOneDrive treeKind = iota
	treeLibrary
	treeList
)

type docKind int

const (
	docFile docKind = iota
	docFolder
	docListItem
)

// docVersion is one saved state of a node.
type docVersion struct {
	since time.Time
	by    string // display name of who saved it
	size  int64
	title string // list items: the Title field
	key   string // identifies the content, to tell equal versions apart
}

// docAttachment is an attachment of a list item.
type docAttachment struct {
	id   string
	name string
	size int64
}

// docNode is a folder, file or list item in a tree.
type docNode struct {
	id          string
	tree        *docTree
	parent      *docNode // nil: at the root of the tree
	kind        docKind
	name        string
	created     time.Time
	createdBy   string
	deleted     time.Time // zero: still there at the anchor
	versions    []docVersion
	attachments []docAttachment
	children    []*docNode
}

func (n *docNode) folder() bool { return n.kind == docFolder }

// existsAt reports whether the node is in a restore point taken at t;
// showDeleted also shows what was deleted before t.
func (n *docNode) existsAt(t time.Time, showDeleted bool) bool {
	if n.created.After(t) {
		return false
	}
	if !showDeleted && !n.deleted.IsZero() && !n.deleted.After(t) {
		return false
	}
	return n.parent == nil || n.parent.existsAt(t, showDeleted)
}

// versionAt is the index of the node's version at t (the first one when t
// is before every version, which only a deleted node seen with showDeleted can be).
func (n *docNode) versionAt(t time.Time) int {
	v := 0
	for i, ver := range n.versions {
		if !ver.since.After(t) {
			v = i
		}
	}
	return v
}

// dir is the folder path the node is in, "" at the root.
func (n *docNode) dir() string {
	if n.parent == nil {
		return ""
	}
	return n.parent.path()
}

// path is the node's path in its tree: "Documents/Budget/Q3 budget.xlsx".
func (n *docNode) path() string {
	if n.parent == nil {
		return n.name
	}
	return n.parent.path() + "/" + n.name
}

// docTree is one OneDrive, document library or list.
type docTree struct {
	id          string
	kind        treeKind
	name        string
	description string
	url         string
	created     time.Time
	site        *demotenant.Site // libraries and lists
	owner       demotenant.User  // OneDrives
	roots       []*docNode
	byID        map[string]*docNode
	order       []*docNode // as added
	all         []*docNode // depth first, folders before their contents

	prodOnce sync.Once
	prod     *docProduction
}

func (t *docTree) add(n *docNode) {
	n.tree = t
	if n.parent == nil {
		t.roots = append(t.roots, n)
	} else {
		n.parent.children = append(n.parent.children, n)
	}
	t.byID[n.id] = n
	t.order = append(t.order, n)
}

// index orders the tree: folders first, then by name, everywhere.
func (t *docTree) index() {
	less := func(a, b *docNode) int {
		if a.folder() != b.folder() {
			if a.folder() {
				return -1
			}
			return 1
		}
		return strings.Compare(strings.ToLower(a.name), strings.ToLower(b.name))
	}
	var walk func(ns []*docNode)
	t.all = t.all[:0]
	walk = func(ns []*docNode) {
		slices.SortStableFunc(ns, less)
		for _, n := range ns {
			t.all = append(t.all, n)
			walk(n.children)
		}
	}
	walk(t.roots)
}

// visible lists the nodes under parent (nil: the root) at t; folders and/or files.
func (t *docTree) visible(parent *docNode, at time.Time, showDeleted, folders, files bool) []*docNode {
	kids := t.roots
	if parent != nil {
		kids = parent.children
	}
	var out []*docNode
	for _, n := range kids {
		if !n.existsAt(at, showDeleted) {
			continue
		}
		if (n.folder() && folders) || (!n.folder() && files) {
			out = append(out, n)
		}
	}
	return out
}

// descendants lists the nodes under n (not n) that exist at t, folders first.
func (n *docNode) descendants(at time.Time, showDeleted bool) []*docNode {
	var out []*docNode
	var walk func(ns []*docNode)
	walk = func(ns []*docNode) {
		for _, c := range ns {
			if c.existsAt(at, showDeleted) {
				out = append(out, c)
				walk(c.children)
			}
		}
	}
	walk(n.children)
	return out
}

// docProduction is a tree as it is now.
type docProduction struct {
	mu     sync.Mutex
	live   map[string]*liveDoc // by id
	copies int
}

// liveDoc is a folder, file or list item in production.
type liveDoc struct {
	id          string
	source      *docNode // the backed-up node it is (or is a copy of)
	name        string
	parent      string // live id of the folder it is in, "" at the root
	folder      bool
	versions    []docVersion
	attachments []docAttachment
	restored    bool
	copyOf      string
}

// production returns the tree's live state, built on first use.
func (t *docTree) production(anchor time.Time) *docProduction {
	t.prodOnce.Do(func() {
		p := &docProduction{live: map[string]*liveDoc{}}
		for _, n := range t.all {
			if !n.existsAt(anchor, false) {
				continue
			}
			d := &liveDoc{id: n.id, source: n, name: n.name, folder: n.folder(), versions: slices.Clone(n.versions),
				attachments: slices.Clone(n.attachments)}
			if n.parent != nil {
				d.parent = n.parent.id
			}
			p.live[n.id] = d
		}
		t.prod = p
	})
	return t.prod
}

// livePath is where a live document is. Call with p.mu held.
func (p *docProduction) livePath(d *liveDoc) string {
	if d.parent == "" {
		return d.name
	}
	if parent, ok := p.live[d.parent]; ok {
		return p.livePath(parent) + "/" + d.name
	}
	return d.name
}

// ensureFolder makes sure the folder n (and every folder above it) is live,
// recreating those that were deleted, and returns its live id ("" for the
// root). Call with p.mu held.
func (p *docProduction) ensureFolder(n *docNode) string {
	if n == nil {
		return ""
	}
	if d, ok := p.live[n.id]; ok {
		return d.id
	}
	parent := p.ensureFolder(n.parent)
	p.live[n.id] = &liveDoc{id: n.id, source: n, name: n.name, parent: parent, folder: true,
		versions: slices.Clone(n.versions[:1]), restored: true}
	return n.id
}

// freeName is name, or "name (restored)", "name (restored 2)"… the first
// that is not taken in the folder. Call with p.mu held.
func (p *docProduction) freeName(parent, name string) string {
	taken := map[string]bool{}
	for _, d := range p.live {
		if d.parent == parent {
			taken[strings.ToLower(d.name)] = true
		}
	}
	if !taken[strings.ToLower(name)] {
		return name
	}
	ext := path.Ext(name)
	base := strings.TrimSuffix(name, ext)
	for i := 1; ; i++ {
		candidate := base + " (restored)" + ext
		if i > 1 {
			candidate = fmt.Sprintf("%s (restored %d)%s", base, i, ext)
		}
		if !taken[strings.ToLower(candidate)] {
			return candidate
		}
	}
}

// ProductionDoc is a folder, file or list item in a live OneDrive, library
// or list, as tests see it.
type ProductionDoc struct {
	ID          string
	Path        string // e.g. "Documents/Budget/Q3 budget.xlsx"
	Name        string
	Folder      bool
	Versions    int    // how many versions it has
	Version     string // the content of its latest version: the backed-up version it holds, "<node path>@<n>"
	ModifiedBy  string
	Size        int64
	Title       string   // list items
	Attachments []string // list items
	Restored    bool     // written by a restore
	CopyOf      string   // for a copy kept beside the original: the backed-up document's id
}

// ProductionDocs lists what a OneDrive (by OneDrive id) or a library or list
// (by its id) holds now, restores included, by path.
func (s *Server) ProductionDocs(treeID string) []ProductionDoc {
	t, ok := s.docs.tree(treeID)
	if !ok {
		return nil
	}
	s.mu.Lock()
	s.advanceAll()
	s.mu.Unlock()
	p := t.production(s.docs.anchor)
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []ProductionDoc
	for _, d := range p.live {
		last := d.versions[len(d.versions)-1]
		pd := ProductionDoc{ID: d.id, Path: p.livePath(d), Name: d.name, Folder: d.folder, Versions: len(d.versions),
			Version: last.key, ModifiedBy: last.by, Size: last.size, Title: last.title, Restored: d.restored, CopyOf: d.copyOf}
		for _, a := range d.attachments {
			pd.Attachments = append(pd.Attachments, a.name)
		}
		out = append(out, pd)
	}
	slices.SortFunc(out, func(a, b ProductionDoc) int { return strings.Compare(a.Path, b.Path) })
	return out
}

// ProductionList lists what the library or list of a site with this name
// holds now, including one that only a restore created.
func (s *Server) ProductionList(siteID, name string) []ProductionDoc {
	ts, _ := s.docs.site(siteID)
	s.mu.Lock()
	s.advanceAll()
	s.mu.Unlock()
	s.docs.mu.Lock()
	ts = append(slices.Clone(ts), s.docs.extra[siteID]...)
	s.docs.mu.Unlock()
	for _, t := range ts {
		if strings.EqualFold(t.name, name) {
			return s.ProductionDocs(t.id)
		}
	}
	return nil
}

// VersionKey names version n (1-based) of the backed-up node at path in a
// tree, as ProductionDoc.Version does.
func VersionKey(path string, n int) string { return fmt.Sprintf("%s@%d", path, n) }
