package fakeveeam

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// docsWork is an operatorRestore of OneDrive documents or SharePoint
// documents and list items: each target is a node in one version, put back
// into production with the options of the request.
type docsWork struct {
	s        *Server
	oneDrive *docTree // the OneDrive, for OneDrive restores
	siteID   string   // for SharePoint restores
	trees    []*docTree
	anchor   time.Time

	// OneDrive: documentAction Keep (a renamed copy beside a changed document) or Overwrite.
	keep bool
	// SharePoint.
	sharePoint  bool
	changed     bool   // restoreChangedItems
	deleted     bool   // restoreDeletedItems
	merge       bool   // documentLastVersionAction Merge: add as a new version, rather than replace the latest
	targetList  string // list: restore copies into this library or list of the site
	permissions bool
	notify      bool

	all map[*docNode]bool // documentVersion All: the version history up to the restore point, not the one version
}

func (w *docsWork) lock() func() {
	trees := slices.Clone(w.trees)
	slices.SortFunc(trees, func(a, b *docTree) int { return strings.Compare(a.id, b.id) })
	trees = slices.CompactFunc(trees, func(a, b *docTree) bool { return a == b })
	for _, t := range trees {
		t.production(w.anchor).mu.Lock()
	}
	return func() {
		for i := len(trees) - 1; i >= 0; i-- {
			trees[i].production(w.anchor).mu.Unlock()
		}
	}
}

func kindName(n *docNode) string {
	switch n.kind {
	case docFolder:
		return "folder"
	case docListItem:
		return "item"
	}
	return "document"
}

// apply restores one node. See the comment of each case.
func (w *docsWork) apply(s *Server, job *restoreJob, t *restoreTarget) (status, message string, created bool) {
	if msg, fail := s.failing(t.name); fail {
		return "Failed", msg, false
	}
	n, v := t.doc, t.version
	what := kindName(n)
	versions := []docVersion{n.versions[v]}
	if w.all[n] {
		versions = slices.Clone(n.versions[:v+1])
	}
	// Into another library or list of the site: copies at its top level.
	if w.targetList != "" && !strings.EqualFold(w.targetList, n.tree.name) {
		dst := w.s.docs.productionTree(w.siteID, w.targetList, n.tree.kind)
		dp := dst.production(w.anchor)
		name := dp.freeName("", n.name)
		dp.copies++
		id := stableID("copy", dst.id, n.id, fmt.Sprint(dp.copies))
		dp.live[id] = &liveDoc{id: id, source: n, name: name, folder: n.folder(), versions: versions,
			attachments: slices.Clone(n.attachments), restored: true, copyOf: n.id}
		t.target = dst.name + "/" + name
		return "Success", fmt.Sprintf("Restored a copy to %s/%s.", dst.name, name), true
	}
	prod := n.tree.production(w.anchor)
	live, exists := prod.live[n.id]
	if n.folder() {
		if exists {
			return "Skipped", "The folder is still there.", false
		}
		prod.ensureFolder(n)
		return "Success", "Restored the missing folder " + n.path() + ".", true
	}
	if !exists {
		if w.sharePoint && !w.deleted {
			return "Skipped", fmt.Sprintf("The %s is missing, and “restore deleted items” was not chosen.", what), false
		}
		parent := prod.ensureFolder(n.parent)
		prod.live[n.id] = &liveDoc{id: n.id, source: n, name: n.name, parent: parent, versions: versions,
			attachments: slices.Clone(n.attachments), restored: true}
		return "Success", fmt.Sprintf("Restored the missing %s to %s.", what, n.path()), true
	}
	if live.versions[len(live.versions)-1].key == n.versions[v].key {
		return "Skipped", fmt.Sprintf("The %s is the same as in the restore point.", what), false
	}
	if w.sharePoint && !w.changed {
		return "Skipped", fmt.Sprintf("The %s has changed since the restore point, and “restore changed items” was not chosen.", what), false
	}
	if w.keep {
		name := prod.freeName(live.parent, n.name)
		prod.copies++
		id := stableID("copy", n.tree.id, n.id, fmt.Sprint(prod.copies))
		prod.live[id] = &liveDoc{id: id, source: n, name: name, parent: live.parent, versions: versions,
			attachments: slices.Clone(n.attachments), restored: true, copyOf: n.id}
		t.target = prod.livePath(prod.live[id])
		return "Success", fmt.Sprintf("Kept the current %s and restored the one of the restore point beside it as “%s”.", what, name), true
	}
	live.restored = true
	live.attachments = slices.Clone(n.attachments)
	switch {
	case w.all[n]:
		live.versions = versions
		return "Success", fmt.Sprintf("Overwrote the %s with its versions up to the restore point.", what), false
	case w.sharePoint && !w.merge:
		live.versions[len(live.versions)-1] = n.versions[v]
		return "Success", fmt.Sprintf("Replaced the latest version of the %s with the one of the restore point.", what), false
	}
	live.versions = append(live.versions, n.versions[v])
	return "Success", fmt.Sprintf("Added the version of the restore point as the latest version of the %s.", what), false
}

func (w *docsWork) details(job *restoreJob, working bool) []restoreDetails {
	itemType := "SharePointItem"
	if w.oneDrive != nil {
		itemType = "OneDriveItem"
	}
	var items []restoreDetails
	for _, t := range job.targets {
		items = append(items, itemDetails(t, t.doc.id, itemType))
	}
	if w.oneDrive == nil {
		return items
	}
	_, failed, _ := job.counts()
	status := "Success"
	switch {
	case working:
		status = "Warning"
	case failed > 0:
		status = "Failed"
	}
	return []restoreDetails{{
		ID: w.oneDrive.id, ItemRestoreDetailsType: "BulkOneDrive", Name: w.oneDrive.name, ItemType: "OneDriveItem", Status: status,
		Warnings: []string{}, ChildItems: items, OneDriveWebID: w.oneDrive.id, OneDriveSiteID: w.oneDrive.id, OneDriveURL: w.oneDrive.url,
	}}
}

// restoreConfig is one entry of documentsRestoreConfigs or itemsRestoreConfigs.
type restoreConfig struct {
	Document *restoreRef `json:"document"`
	Item     *restoreRef `json:"item"`
	Version  *string     `json:"documentVersion"`
}

// restoreRef is the document or item object of a restore config: the portal
// echoes what it listed; the fake reads the id and the version.
type restoreRef struct {
	ID        string `json:"id"`
	VersionID *int   `json:"versionId"`
}

// docTargets turns restore configs into targets: each node in the version of
// the restore point (or the version its versionId names, if earlier), and a
// folder with everything in it.
func (w *docsWork) docTargets(sc *docScope, configs []restoreConfig, kinds []docKind, defaultVersion *string) ([]restoreTarget, string, int) {
	w.all = map[*docNode]bool{}
	var out []restoreTarget
	seen := map[*docNode]bool{}
	itemType := "SharePointItem"
	if w.oneDrive != nil {
		itemType = "OneDriveItem"
	}
	add := func(n *docNode, ver int, all bool) {
		if seen[n] {
			return
		}
		seen[n] = true
		w.all[n] = all
		if !slices.Contains(w.trees, n.tree) {
			w.trees = append(w.trees, n.tree)
		}
		name := n.name
		if n.kind == docListItem {
			name = n.versions[ver].title
		}
		out = append(out, restoreTarget{doc: n, version: ver, name: name, itemType: itemType, source: n.path(), target: n.path(),
			size: n.versions[ver].size})
	}
	for _, cfg := range configs {
		ref := cfg.Document
		if ref == nil {
			ref = cfg.Item
		}
		if ref == nil || ref.ID == "" {
			return nil, "Each restore config needs the document or item to restore.", http.StatusBadRequest
		}
		version := cfg.Version
		if version == nil {
			version = defaultVersion
		}
		if version != nil && *version != "All" && *version != "Last" {
			return nil, fmt.Sprintf("The value '%s' is not valid for documentVersion.", *version), http.StatusBadRequest
		}
		all := version != nil && *version == "All"
		n, ok := sc.node(ref.ID, append(kinds, docFolder)...)
		if !ok {
			return nil, fmt.Sprintf("The object %s was not found in the restore point.", ref.ID), http.StatusNotFound
		}
		ver := n.versionAt(sc.point)
		if ref.VersionID != nil && *ref.VersionID >= 1 && *ref.VersionID <= ver+1 {
			ver = *ref.VersionID - 1
		}
		add(n, ver, all)
		if n.folder() {
			for _, d := range n.descendants(sc.point, sc.showDeleted) {
				add(d, d.versionAt(sc.point), all)
			}
		}
	}
	if len(out) == 0 {
		return nil, "Specify the documents to restore.", http.StatusBadRequest
	}
	return out, "", 0
}

// oneDriveRestore is POST …/OneDrives/{id}/Documents/operatorRestore.
func (s *Server) oneDriveRestore(w http.ResponseWriter, r *http.Request, sc *docScope) {
	var opts struct {
		DocumentAction string          `json:"documentAction"`
		Configs        []restoreConfig `json:"documentsRestoreConfigs"`
		Reason         string          `json:"reason"`
	}
	if err := json.NewDecoder(r.Body).Decode(&opts); err != nil {
		badRequest(w, "The request body is not a valid RESTOperatorRestoreToOriginalOneDriveDocuments object.")
		return
	}
	if opts.DocumentAction != "Overwrite" && opts.DocumentAction != "Keep" {
		badRequest(w, "documentAction is required: Overwrite or Keep.")
		return
	}
	work := &docsWork{s: s, oneDrive: sc.oneDrive, anchor: s.docs.anchor, keep: opts.DocumentAction == "Keep"}
	targets, msg, status := work.docTargets(sc, opts.Configs, []docKind{docFile}, nil)
	if status != 0 {
		writeError(w, status, map[int]string{http.StatusNotFound: errResourceNotFound, http.StatusBadRequest: errParameterValidation}[status], msg)
		return
	}
	t := sc.oneDrive
	s.startRestore(w, sc.rs, sc.c, "Veod", t.name, fmt.Sprintf("the OneDrive of %s (%s)", t.owner.DisplayName, t.owner.UPN),
		"the original location ("+strings.ToLower(opts.DocumentAction)+" changed documents)", opts.Reason, sc.point, targets, work)
}

// sharePointOptions is what RESTOperatorRestoreSharePointDocumentsConfig and
// RESTOperatorRestoreSharePointItemsConfig share.
type sharePointOptions struct {
	Documents           []restoreConfig `json:"documentsRestoreConfigs"`
	Items               []restoreConfig `json:"itemsRestoreConfigs"`
	List                string          `json:"list"`
	RestorePermissions  *bool           `json:"restorePermissions"`
	SendSharedLinks     *bool           `json:"sendSharedLinksNotification"`
	DocumentVersion     *string         `json:"documentVersion"`
	LastVersionAction   *string         `json:"documentLastVersionAction"`
	RestoreChangedItems *bool           `json:"restoreChangedItems"`
	RestoreDeletedItems *bool           `json:"restoreDeletedItems"`
	Reason              string          `json:"reason"`
}

func orTrue(b *bool) bool { return b == nil || *b }

// sharePointRestore is POST …/Sites/{siteId}/Documents/operatorRestore and …/Items/operatorRestore.
func (s *Server) sharePointRestore(items bool) func(w http.ResponseWriter, r *http.Request, sc *docScope) {
	return func(w http.ResponseWriter, r *http.Request, sc *docScope) {
		var opts sharePointOptions
		if err := json.NewDecoder(r.Body).Decode(&opts); err != nil {
			badRequest(w, "The request body is not a valid SharePoint operator restore object.")
			return
		}
		configs, kinds := opts.Documents, []docKind{docFile}
		if items {
			configs, kinds = opts.Items, []docKind{docListItem}
		}
		if opts.LastVersionAction != nil && *opts.LastVersionAction != "Overwrite" && *opts.LastVersionAction != "Merge" {
			badRequest(w, fmt.Sprintf("The value '%s' is not valid for documentLastVersionAction.", *opts.LastVersionAction))
			return
		}
		if len(opts.List) > 255 || strings.ContainsAny(opts.List, `\/`) {
			badRequest(w, "The list name is not valid: use at most 255 characters and no slashes.")
			return
		}
		work := &docsWork{s: s, siteID: sc.siteID, anchor: s.docs.anchor, sharePoint: true,
			changed: orTrue(opts.RestoreChangedItems), deleted: orTrue(opts.RestoreDeletedItems),
			merge:      opts.LastVersionAction != nil && *opts.LastVersionAction == "Merge",
			targetList: strings.TrimSpace(opts.List), permissions: orTrue(opts.RestorePermissions), notify: orTrue(opts.SendSharedLinks)}
		targets, msg, status := work.docTargets(sc, configs, kinds, opts.DocumentVersion)
		if status != 0 {
			writeError(w, status, map[int]string{http.StatusNotFound: errResourceNotFound, http.StatusBadRequest: errParameterValidation}[status], msg)
			return
		}
		if work.targetList != "" {
			work.trees = append(work.trees, s.docs.productionTree(sc.siteID, work.targetList, targets[0].doc.tree.kind))
		}
		st := s.dir.sites[sc.siteID]
		where := "the original location"
		if work.targetList != "" {
			where = "the list " + work.targetList
		}
		s.startRestore(w, sc.rs, sc.c, "Vesp", st.Title, "the site "+st.Title+" ("+st.URL+")", where, opts.Reason, sc.point, targets, work)
	}
}

// productionTree finds the library or list of a site by name, or makes an
// empty one that exists in production only (a restore into a new list).
func (d *docData) productionTree(siteID, name string, kind treeKind) *docTree {
	ts, _ := d.site(siteID)
	for _, t := range ts {
		if strings.EqualFold(t.name, name) {
			return t
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, t := range d.extra[siteID] {
		if strings.EqualFold(t.name, name) {
			return t
		}
	}
	t := newTree(stableID("restored-list", siteID, strings.ToLower(name)), kind, name, "", d.anchor)
	t.index()
	d.extra[siteID] = append(d.extra[siteID], t)
	d.trees[t.id] = t
	return t
}
