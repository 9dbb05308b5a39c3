package fakeveeam

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// docJSON is RESTOneDriveDocument, RESTOneDriveFolder, RESTSharePointDocument,
// RESTSharePointFolder and RESTSharePointItem: all of them RESTItemComposed.
type docJSON struct {
	ID                   string          `json:"id"`
	Name                 string          `json:"name"`
	Title                string          `json:"title,omitempty"`
	OneDriveID           string          `json:"oneDriveId,omitempty"`
	SiteID               string          `json:"siteId,omitempty"`
	Type                 string          `json:"type,omitempty"` // SharePoint folders: ListFolder, LibraryFolder
	SizeBytes            *int64          `json:"sizeBytes,omitempty"`
	InheritedPermissions *bool           `json:"inheritedPermissions,omitempty"`
	Version              string          `json:"version"`
	VersionID            *int            `json:"versionId"`
	CreatedBy            string          `json:"createdBy"`
	CreationTime         time.Time       `json:"creationTime"`
	ModifiedBy           string          `json:"modifiedBy"`
	ModificationTime     time.Time       `json:"modificationTime"`
	IsFolder             bool            `json:"isFolder"`
	Links                map[string]link `json:"_links"`
	// Actions is always there: empty when the operator may not save it.
	Actions map[string]action `json:"_actions"`
}

// treeJSON is RESTSharePointLibrary and RESTSharePointList.
type treeJSON struct {
	ID           string          `json:"id"`
	Name         string          `json:"name"`
	URL          string          `json:"url"`
	Description  string          `json:"description"`
	CreationTime time.Time       `json:"creationTime"`
	SiteID       string          `json:"siteId"`
	Links        map[string]link `json:"_links"`
}

// attachmentJSONsp is RESTSharePointAttachment.
type attachmentJSONsp struct {
	SizeBytes int64             `json:"sizeBytes"`
	ID        string            `json:"id"`
	Name      string            `json:"name"`
	URL       string            `json:"url"`
	SiteID    string            `json:"siteId"`
	ItemID    string            `json:"itemId"`
	Links     map[string]link   `json:"_links"`
	Actions   map[string]action `json:"_actions"` // empty when the operator may not save it
}

// docScope is a OneDrive or a site of a working restore session: where
// requests about its documents look.
type docScope struct {
	rs          *restoreSession
	c           *caller
	base        string // …/Organization/OneDrives/<id> or …/Organization/Sites/<id>
	trees       []*docTree
	oneDrive    *docTree // for OneDrive scopes
	siteID      string   // for site scopes
	point       time.Time
	showDeleted bool
}

func (s *Server) newDocScope(rs *restoreSession, c *caller, base string, trees []*docTree) *docScope {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &docScope{rs: rs, c: c, base: base, trees: trees, point: rs.point.BackupTime, showDeleted: rs.showDeleted}
}

// node finds a node of the scope that is in the restore point.
func (sc *docScope) node(id string, kinds ...docKind) (*docNode, bool) {
	for _, t := range sc.trees {
		if n, ok := t.byID[id]; ok && n.existsAt(sc.point, sc.showDeleted) && slices.Contains(kinds, n.kind) {
			return n, true
		}
	}
	return nil, false
}

// tree finds a tree of the scope by id.
func (sc *docScope) tree(id string, kind treeKind) (*docTree, bool) {
	for _, t := range sc.trees {
		if t.id == id && t.kind == kind {
			return t, true
		}
	}
	return nil, false
}

// selfPath is a node's resource path under the scope's base.
func (sc *docScope) selfPath(n *docNode) string {
	switch n.kind {
	case docFolder:
		return sc.base + "/Folders/" + url.PathEscape(n.id)
	case docListItem:
		return sc.base + "/Items/" + url.PathEscape(n.id)
	}
	return sc.base + "/Documents/" + url.PathEscape(n.id)
}

// view is the JSON of a node in one version.
func (s *Server) docView(sc *docScope, n *docNode, ver int) docJSON {
	v := n.versions[ver]
	num := ver + 1
	self := sc.selfPath(n)
	out := docJSON{
		ID: n.id, Name: n.name, Version: versionLabel(ver), VersionID: &num, CreatedBy: n.createdBy, CreationTime: n.created,
		ModifiedBy: v.by, ModificationTime: v.since, IsFolder: n.folder(), Links: map[string]link{"self": {Href: self}},
	}
	if ver != n.versionAt(sc.point) {
		out.Links["self"] = link{Href: self + "/Versions/" + strconv.Itoa(num)}
	}
	if n.tree.kind == treeOneDrive {
		out.OneDriveID = n.tree.id
	} else {
		out.SiteID = sc.siteID
	}
	switch n.kind {
	case docFile:
		size := v.size
		out.SizeBytes = &size
		if n.tree.kind == treeOneDrive {
			inherited := true
			out.InheritedPermissions = &inherited
		}
	case docFolder:
		if n.tree.kind == treeList {
			out.Type = "ListFolder"
		} else if n.tree.kind == treeLibrary {
			out.Type = "LibraryFolder"
		}
	case docListItem:
		out.Title = v.title
	}
	switch {
	case n.parent != nil:
		out.Links["parent"] = link{Href: sc.selfPath(n.parent)}
	case n.tree.kind == treeLibrary:
		out.Links["parent"] = link{Href: sc.base + "/Libraries/" + url.PathEscape(n.tree.id)}
	case n.tree.kind == treeList:
		out.Links["parent"] = link{Href: sc.base + "/Lists/" + url.PathEscape(n.tree.id)}
	}
	out.Actions = map[string]action{}
	if s.mayDownload(sc.c) {
		switch {
		case n.kind == docListItem && len(n.attachments) > 0:
			out.Actions = map[string]action{"saveAttachments": {URI: self + "/Attachments/save", Method: "POST"}}
		case n.kind != docListItem:
			out.Actions = map[string]action{"save": {URI: out.Links["self"].Href + "/save", Method: "POST"}}
		}
	}
	return out
}

func (s *Server) treeView(sc *docScope, t *docTree) treeJSON {
	kind := "/Libraries/"
	if t.kind == treeList {
		kind = "/Lists/"
	}
	return treeJSON{ID: t.id, Name: t.name, URL: t.url, Description: t.description, CreationTime: t.created, SiteID: sc.siteID,
		Links: map[string]link{"self": {Href: sc.base + kind + url.PathEscape(t.id)}}}
}

// docHit is a node in a version, as lists and searches return it.
type docHit struct {
	n   *docNode
	ver int
}

func (s *Server) writeDocs(w http.ResponseWriter, r *http.Request, sc *docScope, hits []docHit, offset, limit int, setID string) {
	p := paginate(r, hits, offset, limit)
	out := page[docJSON]{Offset: p.Offset, Limit: p.Limit, SetID: setID, Links: p.Links, Results: make([]docJSON, 0, len(p.Results))}
	for _, h := range p.Results {
		out.Results = append(out.Results, s.docView(sc, h.n, h.ver))
	}
	writeJSON(w, http.StatusOK, out)
}

func (sc *docScope) hits(nodes []*docNode) []docHit {
	out := make([]docHit, len(nodes))
	for i, n := range nodes {
		out[i] = docHit{n, n.versionAt(sc.point)}
	}
	return out
}

// children lists what is directly under parentID in the trees of the given
// kind: "root" (or, for SharePoint, a library or list id) means the top level.
// ok is false when parentID names nothing.
func (sc *docScope) children(parentID string, kind treeKind, folders, files bool) (out []*docNode, ok bool) {
	for _, t := range sc.trees {
		if t.kind != kind {
			continue
		}
		switch {
		case parentID == "" || parentID == "root":
			out = append(out, t.visible(nil, sc.point, sc.showDeleted, folders, files)...)
			ok = true
		case parentID == t.id:
			return t.visible(nil, sc.point, sc.showDeleted, folders, files), true
		default:
			if n, found := t.byID[parentID]; found && n.folder() && n.existsAt(sc.point, sc.showDeleted) {
				return t.visible(n, sc.point, sc.showDeleted, folders, files), true
			}
		}
	}
	return out, ok
}

// everything lists every node of the trees of a kind, folders and/or files.
func (sc *docScope) everything(kind treeKind, folders, files bool) []*docNode {
	var out []*docNode
	for _, t := range sc.trees {
		if t.kind != kind {
			continue
		}
		for _, n := range t.all {
			if n.existsAt(sc.point, sc.showDeleted) && ((n.folder() && folders) || (!n.folder() && files)) {
				out = append(out, n)
			}
		}
	}
	return out
}

// listFolders is GET …/Folders?parentId=: folders under a folder, library, list or the root; all without parentId.
func (s *Server) listDocFolders(w http.ResponseWriter, r *http.Request, sc *docScope, kinds ...treeKind) {
	offset, limit, ok := pageParams(w, r)
	if !ok {
		return
	}
	parent := r.URL.Query().Get("parentId")
	var nodes []*docNode
	found := parent == ""
	for _, k := range kinds {
		if parent == "" {
			nodes = append(nodes, sc.everything(k, true, false)...)
			continue
		}
		n, ok := sc.children(parent, k, true, false)
		nodes, found = append(nodes, n...), found || ok
	}
	if !found {
		notFound(w, "The folder with the specified ID was not found.")
		return
	}
	s.writeDocs(w, r, sc, sc.hits(nodes), offset, limit, "")
}

// listDocs is GET …/Documents or …/Items?parentId=&includeFolders=.
func (s *Server) listDocs(w http.ResponseWriter, r *http.Request, sc *docScope, kind treeKind) {
	offset, limit, ok := pageParams(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	includeFolders := false
	if v := q.Get("includeFolders"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			badRequest(w, fmt.Sprintf("The value '%s' is not valid for includeFolders.", v))
			return
		}
		includeFolders = b
	}
	var nodes []*docNode
	if parent := q.Get("parentId"); parent == "" {
		nodes = sc.everything(kind, includeFolders, true)
	} else {
		var found bool
		if nodes, found = sc.children(parent, kind, includeFolders, true); !found {
			notFound(w, "The folder with the specified ID was not found.")
			return
		}
	}
	s.writeDocs(w, r, sc, sc.hits(nodes), offset, limit, "")
}

// getDoc is GET …/Documents/{id}, …/Items/{id} or …/Folders/{id}[?versionId=].
func (s *Server) getDoc(w http.ResponseWriter, r *http.Request, sc *docScope, param string, kind docKind) {
	n, ok := sc.node(r.PathValue(param), kind)
	if !ok {
		notFound(w, "The object with the specified ID was not found in the restore point.")
		return
	}
	ver := n.versionAt(sc.point)
	if v := r.URL.Query().Get("versionId"); v != "" {
		num, err := strconv.Atoi(v)
		if err != nil || num < 1 || num > ver+1 {
			notFound(w, fmt.Sprintf("Version %s was not found.", v))
			return
		}
		ver = num - 1
	}
	writeJSON(w, http.StatusOK, s.docView(sc, n, ver))
}

// docVersions is GET …/{id}/Versions: the versions before the one of the restore point, newest first.
func (s *Server) docVersions(w http.ResponseWriter, r *http.Request, sc *docScope, param string, kind docKind) {
	offset, limit, ok := pageParams(w, r)
	if !ok {
		return
	}
	n, ok := sc.node(r.PathValue(param), kind)
	if !ok {
		notFound(w, "The object with the specified ID was not found in the restore point.")
		return
	}
	var hits []docHit
	for v := n.versionAt(sc.point) - 1; v >= 0; v-- {
		hits = append(hits, docHit{n, v})
	}
	s.writeDocs(w, r, sc, hits, offset, limit, "")
}

// version finds version {versionId} (1-based) of a node, up to the one of the restore point.
func (sc *docScope) version(w http.ResponseWriter, r *http.Request, param string, kind docKind) (*docNode, int, bool) {
	n, ok := sc.node(r.PathValue(param), kind)
	if !ok {
		notFound(w, "The object with the specified ID was not found in the restore point.")
		return nil, 0, false
	}
	num, err := strconv.Atoi(r.PathValue("versionId"))
	if err != nil || num < 1 || num > n.versionAt(sc.point)+1 {
		notFound(w, fmt.Sprintf("Version %s was not found.", r.PathValue("versionId")))
		return nil, 0, false
	}
	return n, num - 1, true
}

func (s *Server) getDocVersion(w http.ResponseWriter, r *http.Request, sc *docScope, param string, kind docKind) {
	if n, ver, ok := sc.version(w, r, param, kind); ok {
		writeJSON(w, http.StatusOK, s.docView(sc, n, ver))
	}
}

// docSearchSet is a cached search of documents, named by the setId of its pages.
type docSearchSet struct {
	session string
	hits    []docHit
}

// searchDocs runs a query over the nodes the scope function returns (one
// OneDrive, a folder, a site, a library…). itemType narrows to Folders,
// Documents (OneDrive) or Items (SharePoint: documents and list items).
func (s *Server) searchDocs(w http.ResponseWriter, r *http.Request, sessionID string, pool func() []*docNode, point time.Time, write func([]docHit, string)) {
	q := r.URL.Query()
	folders, files := true, true
	switch q.Get("itemType") {
	case "", "All":
	case "Folders":
		files = false
	case "Documents", "Items":
		folders = false
	default:
		badRequest(w, fmt.Sprintf("The value '%s' is not valid for itemType.", q.Get("itemType")))
		return
	}
	var body struct {
		Query string `json:"query"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		badRequest(w, "The request body is not a valid RESTVESPSearchOptions object.")
		return
	}
	setID := q.Get("setId")
	s.mu.Lock()
	set := s.docSearches[setID]
	s.mu.Unlock()
	if set == nil || set.session != sessionID {
		query, err := docLanguage.parse(body.Query)
		if err != nil {
			badRequest(w, "The search query is not valid: "+err.Error())
			return
		}
		var hits []docHit
		for _, n := range pool() {
			if (n.folder() && !folders) || (!n.folder() && !files) {
				continue
			}
			ver := n.versionAt(point)
			if query.match(docAt(n, ver, point)) {
				hits = append(hits, docHit{n, ver})
			}
		}
		setID = newID()
		set = &docSearchSet{session: sessionID, hits: hits}
		s.mu.Lock()
		s.docSearches[setID] = set
		s.mu.Unlock()
	}
	write(set.hits, setID)
}

// subtree lists n and everything under it in the restore point.
func (sc *docScope) subtree(n *docNode) []*docNode {
	return append([]*docNode{n}, n.descendants(sc.point, sc.showDeleted)...)
}
