package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v5"

	"github.com/openrestore/portal/audit"
	"github.com/openrestore/portal/templates"
	"github.com/openrestore/portal/veeamapi"
)

// docSelection is what a document list's form chose.
type docSelection struct {
	keys    []string // node keys, as listed
	version int      // an earlier version of the one document chosen, or 0
	allNode string   // all of this folder, library, list or "root"
	search  *docSearch
	hidden  []templates.Hidden
}

func readDocSelection(form url.Values, loc *time.Location, sharePoint bool) (docSelection, error) {
	var s docSelection
	if form.Get("scope") == "all" {
		s.hidden = []templates.Hidden{{Name: "scope", Value: "all"}}
		switch {
		case form.Get("all_node") != "":
			k := form.Get("all_node")
			if k != rootKey {
				if kind, _, err := parseNode(k); err != nil || !strings.Contains("flt", kind) {
					return s, badRequest("The form names a folder the portal does not know.")
				}
			}
			s.allNode = k
			s.hidden = append(s.hidden, templates.Hidden{Name: "all_node", Value: k})
		case form.Get("all_search") == "1":
			ds, err := readDocSearch(func(f string) string { return form.Get("s_" + f) }, loc, sharePoint)
			if errors.Is(err, errSearchEmpty) {
				return s, badRequest("The search to restore the results of is empty.")
			}
			if err != nil {
				return s, err
			}
			s.search = &ds
			s.hidden = append(s.hidden, templates.Hidden{Name: "all_search", Value: "1"})
			for _, f := range docSearchFields {
				if v := ds.params.Get(f); v != "" {
					s.hidden = append(s.hidden, templates.Hidden{Name: "s_" + f, Value: v})
				}
			}
		default:
			return s, badRequest("The form does not say which items “all” means.")
		}
		return s, nil
	}
	keys := form["item"]
	if len(keys) == 0 {
		return s, &Error{Status: http.StatusBadRequest, Title: "Nothing selected",
			Message: "Tick the documents or folders to act on first, then choose what to do with them."}
	}
	if len(keys) > maxRestoreItems {
		return s, badRequest(fmt.Sprintf("Choose at most %s items at once.", thousands(maxRestoreItems)))
	}
	s.hidden = []templates.Hidden{{Name: "scope", Value: "selected"}}
	seen := map[string]bool{}
	for _, k := range keys {
		kind, _, err := parseNode(k)
		if err != nil || !strings.Contains("dfi", kind) {
			return s, badRequest("The form names a document the portal does not know.")
		}
		if !seen[k] {
			seen[k] = true
			s.keys = append(s.keys, k)
			s.hidden = append(s.hidden, templates.Hidden{Name: "item", Value: k})
		}
	}
	if v := form.Get("version"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || len(s.keys) != 1 {
			return s, badRequest("The form names a version the portal does not know.")
		}
		s.version = n
		s.hidden = append(s.hidden, templates.Hidden{Name: "version", Value: v})
	}
	return s, nil
}

// resolveDocs fetches the documents of a selection, as restores and
// downloads must echo them, and the names of the first few.
func (h *Handler) resolveDocs(ctx context.Context, ref docsRef, s docSelection) ([]veeamapi.Doc, error) {
	if s.allNode == "" && s.search == nil {
		docs := make([]veeamapi.Doc, len(s.keys))
		errs := make([]error, len(s.keys))
		sem := make(chan struct{}, 8)
		var wg sync.WaitGroup
		for i, k := range s.keys {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				kind, id, _ := parseNode(k)
				var d *veeamapi.Doc
				var err error
				switch {
				case kind == nodeFolder:
					d, err = ref.docs.Folder(ctx, id)
				case s.version > 0:
					d, err = ref.docs.Version(ctx, map[string]veeamapi.DocKind{nodeDoc: veeamapi.Documents, nodeItem: veeamapi.Items}[kind], id, s.version)
				case kind == nodeItem:
					d, err = ref.docs.Get(ctx, veeamapi.Items, id)
				default:
					d, err = ref.docs.Get(ctx, veeamapi.Documents, id)
				}
				if err == nil {
					docs[i] = *d
				}
				errs[i] = err
			})
		}
		wg.Wait()
		if err := firstError(errs...); err != nil {
			if errors.Is(err, veeamapi.ErrNotFound) {
				return nil, &Error{Status: http.StatusNotFound, Title: "An item is not in this restore point", Err: err,
					Message: "One of the documents or folders you chose is not in this restore point. Go back and choose again."}
			}
			return nil, err
		}
		return docs, nil
	}
	if s.allNode != "" {
		if kind, id, err := parseNode(s.allNode); err == nil && kind == nodeFolder {
			f, err := ref.docs.Folder(ctx, id)
			if err != nil {
				return nil, err
			}
			return []veeamapi.Doc{*f}, nil // a folder is restored with everything in it
		}
	}
	list, err := h.allLister(ctx, ref, s)
	if err != nil {
		return nil, err
	}
	var out []veeamapi.Doc
	for d, err := range veeamapi.All(ctx, 1000, list) {
		if err != nil {
			return nil, err
		}
		if out = append(out, d); len(out) > maxRestoreItems {
			return nil, &Error{Status: http.StatusUnprocessableEntity, Title: "Too many items for one restore",
				Message: fmt.Sprintf("This holds more than %s documents and folders, and one restore takes at most %s. Restore its folders one by one, or narrow it down with the search.",
					thousands(maxRestoreItems), thousands(maxRestoreItems))}
		}
	}
	if len(out) == 0 {
		return nil, &Error{Status: http.StatusUnprocessableEntity, Title: "Nothing to restore",
			Message: "There is nothing to restore here. Go back and choose again."}
	}
	return out, nil
}

// allLister lists what "all" means: the top level of a OneDrive, library
// or list (folders come with their content), or every search result.
func (h *Handler) allLister(ctx context.Context, ref docsRef, s docSelection) (func(context.Context, veeamapi.PageOptions) (*veeamapi.Page[veeamapi.Doc], error), error) {
	if s.search != nil {
		return func(ctx context.Context, p veeamapi.PageOptions) (*veeamapi.Page[veeamapi.Doc], error) {
			return ref.docs.Search(ctx, s.search.in, s.search.query, s.search.itemType, p)
		}, nil
	}
	collection, parent := veeamapi.Documents, rootKey
	if s.allNode != rootKey {
		kind, id, _ := parseNode(s.allNode)
		parent = id
		if kind == nodeList {
			collection = veeamapi.Items
		}
	} else if ref.sharePoint() {
		return nil, badRequest("The form names a folder the portal does not know.")
	}
	return func(ctx context.Context, p veeamapi.PageOptions) (*veeamapi.Page[veeamapi.Doc], error) {
		return ref.docs.Under(ctx, collection, parent, true, p)
	}, nil
}

// docsKind is the restore of documents, folders and list items: a
// OneDrive's or site's wizard, and the restore list's document groups.
type docsKind struct {
	h   *Handler
	ref docsRef
	loc *time.Location
}

func (h *Handler) docsKind(workload string) func(c *echo.Context) (restoreKind, error) {
	return func(c *echo.Context) (restoreKind, error) {
		ref, err := h.docsRef(c, workload)
		if err != nil {
			return nil, err
		}
		return docsKind{h: h, ref: ref, loc: h.zone(c)}, nil
	}
}

func (k docsKind) base() string     { return k.ref.base }
func (k docsKind) workload() string { return k.ref.workload }
func (k docsKind) subject() string  { return k.ref.id }

func (k docsKind) choose(form url.Values) (url.Values, error) {
	sel, err := readDocSelection(form, k.loc, k.ref.sharePoint())
	if err != nil {
		return nil, err
	}
	return hiddenValues(sel.hidden), nil
}

func (k docsKind) prepare(c *echo.Context, chosen url.Values) (*wizard, error) {
	ctx := c.Request().Context()
	sel, err := readDocSelection(chosen, k.loc, k.ref.sharePoint())
	if err != nil {
		return nil, err
	}
	title, subtitle, err := k.h.docsTitle(ctx, k.ref)
	if err != nil {
		return nil, err
	}
	docs, err := k.h.resolveDocs(ctx, k.ref, sel)
	if err != nil {
		return nil, err
	}
	w := &wizard{subject: title, subjectID: k.ref.id, heading: "Restore " + countLabel(len(docs)), intro: "From " + title + ":",
		backLabel: title, items: auditDocItems(docs), count: len(docs), pointTime: k.ref.session.PointTime,
		// A site's documents are shared: restoring them is always someone else's data too.
		forOthers: k.ref.sharePoint() || !ownOneDrive(subtitle, userFrom(c).UPN),
		notes:     []string{"Folders are restored with everything that was in them."}}
	var names []string
	for i := range docs {
		name := docTitle(&docs[i])
		if docs[i].IsFolder {
			name += " (folder)"
		}
		names = append(names, name)
	}
	w.preview, w.more = previewOf(names)
	if sel.version > 0 && len(docs) == 1 {
		w.notes = append([]string{fmt.Sprintf("Version %s of %s, saved %s by %s.", docs[0].Version, docTitle(&docs[0]),
			docs[0].ModificationTime.In(k.loc).Format("Monday 2 January 2006, 15:04 MST"), docs[0].ModifiedBy)}, w.notes...)
	}
	w.options = func(form url.Values, first bool) restoreOptions {
		o := docOptions{k: k, docs: docs, keep: true, missing: true, changed: true, merge: true, permissions: true}
		if !first {
			o = docOptions{k: k, docs: docs,
				keep:        form.Get("action") != "overwrite",
				allVersions: form.Get("versions") == "all",
				toList:      form.Get("target") == "list",
				listName:    strings.TrimSpace(form.Get("list_name")),
				missing:     form.Get("missing") == "1",
				changed:     form.Get("changed") == "1",
				merge:       form.Get("last") != "overwrite",
				permissions: form.Get("permissions") == "1",
				notify:      form.Get("notify") == "1",
			}
		}
		return o
	}
	return w, nil
}

// docOptions is the document wizard's choices.
type docOptions struct {
	k           docsKind
	docs        []veeamapi.Doc
	keep        bool // OneDrive
	allVersions bool
	toList      bool // SharePoint
	listName    string
	missing     bool
	changed     bool
	merge       bool
	permissions bool
	notify      bool
}

func (o docOptions) problems() map[string]string {
	p := map[string]string{}
	if !o.k.ref.sharePoint() {
		return p
	}
	switch {
	case o.toList:
		if e := nameProblem(o.listName, "library or list"); e != "" {
			p["list-name"] = e
		}
	case !o.missing && !o.changed:
		p["which"] = "Back where they were, choose “missing items”, “changed items” or both: with neither, nothing would be restored."
	}
	return p
}

func (o docOptions) describe() (target, options string) {
	sharePoint := o.k.ref.sharePoint()
	target = "Original location"
	if sharePoint && o.toList {
		target = "Library or list “" + o.listName + "”"
	}
	var opts []string
	if sharePoint {
		if !o.toList {
			opts = appendIf(opts, o.missing, "missing items")
			opts = appendIf(opts, o.changed, "changed items")
		}
		if o.merge {
			opts = append(opts, "added as the newest version")
		} else {
			opts = append(opts, "replacing the current version")
		}
		opts = appendIf(opts, o.permissions, "permissions")
		opts = appendIf(opts, o.notify, "sharing notifications")
	} else if o.keep {
		opts = append(opts, "keep both when changed")
	} else {
		opts = append(opts, "overwrite when changed")
	}
	if o.allVersions {
		opts = append(opts, "every version")
	} else {
		opts = append(opts, "the version chosen")
	}
	return target, sentence(opts)
}

func (o docOptions) fields(problems map[string]string) templ.Component {
	return templates.DocRestoreOptions(templates.DocOptionsView{SharePoint: o.k.ref.sharePoint(), Keep: o.keep, AllVersions: o.allVersions,
		Missing: o.missing, Changed: o.changed, Merge: o.merge, ToList: o.toList, ListName: o.listName,
		Permissions: o.permissions, Notify: o.notify, Errors: problems})
}

// plans are one restore of the documents and, on a site, one of the list
// items: VB365 restores them with two operations.
func (o docOptions) plans(w *wizard, reason string) []restorePlan {
	ref := o.k.ref
	target, options := o.describe()
	type group struct {
		kind  veeamapi.DocKind
		docs  []veeamapi.DocRestore
		items []audit.Item
	}
	groups := []*group{{kind: veeamapi.Documents}, {kind: veeamapi.Items}}
	for i := range o.docs {
		d := &o.docs[i]
		g := groups[0]
		if ref.sharePoint() && (docKey(d) == nodeItem || d.Type == "ListFolder") {
			g = groups[1]
		}
		g.docs = append(g.docs, veeamapi.DocRestore{Doc: *d, AllVersions: o.allVersions})
		g.items = append(g.items, audit.Item{ID: d.ID, Name: docTitle(d)})
	}
	var plans []restorePlan
	for _, g := range groups {
		if len(g.docs) == 0 {
			continue
		}
		var start func(ctx context.Context) (string, error)
		if ref.sharePoint() {
			opts := veeamapi.SharePointRestoreOptions{Docs: g.docs, Permissions: o.permissions, Notify: o.notify,
				Changed: o.changed || o.toList, Deleted: o.missing || o.toList, Merge: o.merge, Reason: reason}
			if o.toList {
				opts.List = o.listName
			}
			start = func(ctx context.Context) (string, error) { return ref.docs.RestoreSharePoint(ctx, g.kind, opts) }
		} else {
			opts := veeamapi.OneDriveRestoreOptions{Docs: g.docs, Keep: o.keep, Reason: reason}
			start = func(ctx context.Context) (string, error) { return ref.docs.RestoreOneDrive(ctx, opts) }
		}
		plans = append(plans, w.plan(ref.workload, target, options, reason, len(g.docs), g.items, start))
	}
	return plans
}

// docDownload handles POST …/d/:node/download: a document as it is (in an
// earlier version with version=), or a list item's attachments (one with attachment=).
func (h *Handler) docDownload(workload string) echo.HandlerFunc {
	return func(c *echo.Context) error {
		ref, err := h.docsRef(c, workload)
		if err != nil {
			return err
		}
		kind, id, err := parseNode(c.Param("node"))
		if err != nil || (kind != nodeDoc && kind != nodeItem) {
			return notFoundOrNotYours(fmt.Errorf("node %q", c.Param("node")))
		}
		ctx := c.Request().Context()
		h.auditDocs(c, ref)
		form, err := postForm(c)
		if err != nil {
			return err
		}
		if kind == nodeItem {
			item, err := ref.docs.Get(ctx, veeamapi.Items, id)
			if err != nil {
				return err
			}
			auditOf(c).Items = auditDocItems([]veeamapi.Doc{*item})
			if a := form.Get("attachment"); a != "" {
				aid, err := unkey(a)
				if err != nil {
					return badRequest("The form names an attachment the portal does not know.")
				}
				atts, err := ref.docs.Attachments(ctx, id, veeamapi.PageOptions{Limit: 500})
				if err != nil {
					return err
				}
				for _, att := range atts.Results {
					if att.ID == aid {
						auditOf(c).Items = []audit.Item{{ID: id + "/" + aid, Name: docTitle(item) + ": " + att.Name}}
						d, err := ref.docs.SaveAttachment(ctx, id, aid)
						if err != nil {
							return downloadError(err)
						}
						return h.stream(c, d, splitFileName(att.Name), "file", 1)
					}
				}
				return notFoundOrNotYours(fmt.Errorf("attachment %q", aid))
			}
			d, err := ref.docs.SaveAttachments(ctx, id, nil)
			if err != nil {
				return downloadError(err)
			}
			return h.stream(c, d, fileName(docTitle(item)+" attachments", "zip"), "zip", 0)
		}
		version := 0
		if v := form.Get("version"); v != "" {
			if version, err = strconv.Atoi(v); err != nil || version < 1 {
				return badRequest("The form names a version the portal does not know.")
			}
		}
		doc, err := ref.docs.Get(ctx, veeamapi.Documents, id)
		if err != nil {
			return err
		}
		ae := auditOf(c)
		ae.Items = auditDocItems([]veeamapi.Doc{*doc})
		if version > 0 {
			ae.Options = fmt.Sprintf("version %d", version)
		}
		if !doc.Can("save") {
			return downloadsNotAllowed(nil)
		}
		name := doc.Name
		if version > 0 {
			ext := path.Ext(name)
			name = fmt.Sprintf("%s (version %d)%s", strings.TrimSuffix(name, ext), version, ext)
		}
		d, err := ref.docs.SaveDocument(ctx, id, version, false)
		if err != nil {
			return downloadError(err)
		}
		return h.stream(c, d, splitFileName(name), "file", 1)
	}
}

// nodeDownload handles POST …/n/:node/download: a folder or library as a ZIP.
func (h *Handler) nodeDownload(workload string) echo.HandlerFunc {
	return func(c *echo.Context) error {
		ref, err := h.docsRef(c, workload)
		if err != nil {
			return err
		}
		kind, id, err := parseNode(c.Param("node"))
		if err != nil || (kind != nodeFolder && kind != nodeLibrary) {
			return notFoundOrNotYours(fmt.Errorf("node %q", c.Param("node")))
		}
		ctx := c.Request().Context()
		h.auditDocs(c, ref)
		var name string
		var d *veeamapi.Download
		if kind == nodeFolder {
			f, err := h.cachedFolderDoc(ctx, ref, id)
			if err != nil {
				return err
			}
			if !f.Can("save") {
				return downloadsNotAllowed(nil)
			}
			name = f.Name
			auditOf(c).Items = []audit.Item{{ID: id, Name: f.Name}}
			d, err = ref.docs.SaveFolder(ctx, id)
			if err != nil {
				return downloadError(err)
			}
		} else {
			cs, err := h.cachedContainers(ctx, ref)
			if err != nil {
				return err
			}
			ct, ok := findContainer(cs, id)
			if !ok {
				return notFoundOrNotYours(fmt.Errorf("library %q", id))
			}
			name = ct.list.Name
			auditOf(c).Items = []audit.Item{{ID: id, Name: ct.list.Name}}
			if d, err = ref.docs.SaveLibrary(ctx, id); err != nil {
				return downloadError(err)
			}
		}
		return h.stream(c, d, fileName(name, "zip"), "zip", 0)
	}
}

// docSelectionDownload handles POST …/download: the ticked documents, or the
// ticked folders, as one ZIP.
func (h *Handler) docSelectionDownload(workload string) echo.HandlerFunc {
	return func(c *echo.Context) error {
		ref, err := h.docsRef(c, workload)
		if err != nil {
			return err
		}
		form, err := postForm(c)
		if err != nil {
			return err
		}
		form.Del("scope")
		form.Del("version")
		sel, err := readDocSelection(form, h.zone(c), ref.sharePoint())
		if err != nil {
			return err
		}
		if len(sel.keys) > maxDownloadItems {
			return badRequest(fmt.Sprintf("Download at most %s items at once.", thousands(maxDownloadItems)))
		}
		var folders, files int
		for _, k := range sel.keys {
			switch kind, _, _ := parseNode(k); kind {
			case nodeFolder:
				folders++
			case nodeItem:
				return badRequest("List items are downloaded as their attachments, from each item's details.")
			default:
				files++
			}
		}
		if folders > 0 && files > 0 {
			return badRequest("Download folders and documents separately: tick only documents, or only folders.")
		}
		ctx := c.Request().Context()
		h.auditDocs(c, ref)
		docs, err := h.resolveDocs(ctx, ref, sel)
		if err != nil {
			return err
		}
		auditOf(c).Items = auditDocItems(docs)
		for i := range docs {
			if !docs[i].Can("save") {
				return downloadsNotAllowed(nil)
			}
		}
		var d *veeamapi.Download
		if folders > 0 {
			d, err = ref.docs.SaveFolders(ctx, docs)
		} else {
			d, err = ref.docs.SaveDocuments(ctx, docs)
		}
		if err != nil {
			return downloadError(err)
		}
		title, _, err := h.docsTitle(ctx, ref)
		if err != nil {
			title = "Documents"
		}
		return h.stream(c, d, fileName(title+" - "+countLabel(len(docs)), "zip"), "zip", len(docs))
	}
}
