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
	"unicode/utf8"

	"github.com/labstack/echo/v5"

	"github.com/openrestore/portal/audit"
	"github.com/openrestore/portal/history"
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
	const pageSize = 1000
	for offset := 0; ; offset += pageSize {
		p, err := list(ctx, veeamapi.PageOptions{Offset: offset, Limit: pageSize})
		if err != nil {
			return nil, err
		}
		out = append(out, p.Results...)
		if len(out) > maxRestoreItems {
			return nil, &Error{Status: http.StatusUnprocessableEntity, Title: "Too many items for one restore",
				Message: fmt.Sprintf("This holds more than %s documents and folders, and one restore takes at most %s. Restore its folders one by one, or narrow it down with the search.",
					thousands(maxRestoreItems), thousands(maxRestoreItems))}
		}
		if _, more := p.Next(); !more || len(p.Results) == 0 {
			break
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

// docRestoreForm is the document wizard's choices.
type docRestoreForm struct {
	keep        bool // OneDrive
	allVersions bool
	toList      bool // SharePoint
	listName    string
	missing     bool
	changed     bool
	merge       bool
	permissions bool
	notify      bool
	reason      string
}

func readDocRestoreForm(form url.Values) (f docRestoreForm, first bool) {
	if form.Get("confirm") == "" && form.Get("versions") == "" {
		return docRestoreForm{keep: true, missing: true, changed: true, merge: true, permissions: true}, true
	}
	return docRestoreForm{
		keep:        form.Get("action") != "overwrite",
		allVersions: form.Get("versions") == "all",
		toList:      form.Get("target") == "list",
		listName:    strings.TrimSpace(form.Get("list_name")),
		missing:     form.Get("missing") == "1",
		changed:     form.Get("changed") == "1",
		merge:       form.Get("last") != "overwrite",
		permissions: form.Get("permissions") == "1",
		notify:      form.Get("notify") == "1",
		reason:      strings.TrimSpace(form.Get("reason")),
	}, false
}

func (f docRestoreForm) problems(sharePoint, reasonRequired bool) []string {
	var out []string
	if sharePoint {
		switch {
		case f.toList && f.listName == "":
			out = append(out, "Name the library or list to restore into.")
		case f.toList && utf8.RuneCountInString(f.listName) > maxFolderName:
			out = append(out, fmt.Sprintf("The library or list name is longer than %d characters.", maxFolderName))
		case f.toList && (strings.ContainsAny(f.listName, `/\`) || strings.ContainsFunc(f.listName, isControl)):
			out = append(out, "The library or list name cannot contain slashes or control characters.")
		case !f.toList && !f.missing && !f.changed:
			out = append(out, "Back where they were, choose “missing items”, “changed items” or both: with neither, nothing would be restored.")
		}
	}
	out = append(out, restoreForm{missing: true, reason: f.reason}.problems(reasonRequired)...)
	return out
}

func (f docRestoreForm) target(sharePoint bool) string {
	if sharePoint && f.toList {
		return "Library or list “" + f.listName + "”"
	}
	return "Original location"
}

func (f docRestoreForm) options(sharePoint bool) string {
	var o []string
	if sharePoint {
		if !f.toList {
			if f.missing {
				o = append(o, "missing items")
			}
			if f.changed {
				o = append(o, "changed items")
			}
		}
		if f.merge {
			o = append(o, "added as the newest version")
		} else {
			o = append(o, "replacing the current version")
		}
		if f.permissions {
			o = append(o, "permissions")
		}
		if f.notify {
			o = append(o, "sharing notifications")
		}
	} else if f.keep {
		o = append(o, "keep both when changed")
	} else {
		o = append(o, "overwrite when changed")
	}
	if f.allVersions {
		o = append(o, "every version")
	} else {
		o = append(o, "the version chosen")
	}
	s := strings.Join(o, ", ")
	return strings.ToUpper(s[:1]) + s[1:]
}

// docReasonRequired applies the reason policy: a site's documents are
// shared, so restoring them always counts as someone else's data; a
// OneDrive is the user's own when its personal address is the user's.
func (h *Handler) docReasonRequired(c *echo.Context, ref docsRef, subtitle string) bool {
	switch h.cfg.RestoreReason {
	case "required":
		return true
	case "others":
		return ref.sharePoint() || !ownOneDrive(subtitle, userFrom(c).UPN)
	}
	return false
}

// docRestore handles POST …/restore/new (the wizard) and POST …/restore.
func (h *Handler) docRestore(workload string, submit bool) echo.HandlerFunc {
	return func(c *echo.Context) error {
		ref, err := h.docsRef(c, workload)
		if err != nil {
			return err
		}
		ctx := c.Request().Context()
		form, err := postForm(c)
		if err != nil {
			return err
		}
		sel, err := readDocSelection(form, h.zone(c), ref.sharePoint())
		if err != nil {
			return err
		}
		title, subtitle, err := h.docsTitle(ctx, ref)
		if err != nil {
			return err
		}
		docs, err := h.resolveDocs(ctx, ref, sel)
		if err != nil {
			return err
		}
		f, first := readDocRestoreForm(form)
		required := h.docReasonRequired(c, ref, subtitle)
		var problems []string
		if submit && !first {
			problems = f.problems(ref.sharePoint(), required)
		}
		ae := auditOf(c)
		ae.Subject, ae.SubjectID, ae.Items = title, ref.id, auditDocItems(docs)
		ae.Options, ae.Reason = f.target(ref.sharePoint())+"; "+f.options(ref.sharePoint()), f.reason
		ae.skip = ae.skip || first
		if len(problems) > 0 {
			ae.Outcome, ae.Detail = audit.Refused, strings.Join(problems, " ")
		}
		if !submit || first || len(problems) > 0 {
			v := templates.DocRestoreWizardView{
				Source: title, SourceURL: ref.base, Action: ref.base + "/restore", CountLabel: countLabel(len(docs)),
				Selection: sel.hidden, SharePoint: ref.sharePoint(), Keep: f.keep, AllVersions: f.allVersions,
				Missing: f.missing, Changed: f.changed, Merge: f.merge, ToList: f.toList, ListName: f.listName,
				Permissions: f.permissions, Notify: f.notify, Reason: f.reason, ReasonRequired: required, Errors: problems,
				CSRFToken: h.auth.CSRFToken(ctx),
			}
			for i := range docs {
				if i == previewItems {
					break
				}
				name := docTitle(&docs[i])
				if docs[i].IsFolder {
					name += " (folder)"
				}
				v.Preview = append(v.Preview, name)
			}
			v.More = len(docs) - len(v.Preview)
			if sel.version > 0 && len(docs) == 1 {
				v.VersionNote = fmt.Sprintf("Version %s of %s, saved %s by %s.", docs[0].Version, docTitle(&docs[0]),
					docs[0].ModificationTime.In(h.zone(c)).Format("Monday 2 January 2006, 15:04 MST"), docs[0].ModifiedBy)
			}
			status := http.StatusOK
			if len(problems) > 0 {
				status = http.StatusUnprocessableEntity
			}
			return render(c, status, templates.DocRestoreWizardPage(h.meta(c, "Restore "+v.CountLabel), v))
		}
		return h.startDocRestore(c, ref, title, subtitle, docs, f)
	}
}

// startDocRestore starts the restores (a site's documents and list items
// take one each), records them and goes to their progress.
func (h *Handler) startDocRestore(c *echo.Context, ref docsRef, title, subtitle string, docs []veeamapi.Doc, f docRestoreForm) error {
	ids, err := h.launchDocRestores(c, ref, title, subtitle, docs, f)
	ae := auditOf(c)
	if err != nil {
		if len(ids) > 0 {
			ae.Outcome, ae.SessionID, ae.Detail = audit.Failed, strings.Join(ids, ","), "only the documents' restore started: "+err.Error()
		}
		return err
	}
	ae.Outcome, ae.SessionID = audit.Started, strings.Join(ids, ",")
	if len(ids) == 1 {
		return seeOther(c, "/restores/"+url.PathEscape(ids[0]))
	}
	return seeOther(c, "/restores")
}

// launchDocRestores starts the restores of documents and list items (a
// site's take one each) and records them; it returns the ids of those that
// started, also when a later one failed.
func (h *Handler) launchDocRestores(c *echo.Context, ref docsRef, title, subtitle string, docs []veeamapi.Doc, f docRestoreForm) ([]string, error) {
	ctx := c.Request().Context()
	type group struct {
		kind veeamapi.DocKind
		docs []veeamapi.DocRestore
	}
	groups := []*group{{kind: veeamapi.Documents}, {kind: veeamapi.Items}}
	for i := range docs {
		d := &docs[i]
		g := groups[0]
		if ref.sharePoint() && (docKey(d) == nodeItem || d.Type == "ListFolder") {
			g = groups[1]
		}
		g.docs = append(g.docs, veeamapi.DocRestore{Doc: *d, AllVersions: f.allVersions})
	}
	var ids []string
	u := userFrom(c)
	for _, g := range groups {
		if len(g.docs) == 0 {
			continue
		}
		var id string
		var err error
		if ref.sharePoint() {
			opts := veeamapi.SharePointRestoreOptions{Docs: g.docs, Permissions: f.permissions, Notify: f.notify,
				Changed: f.changed || f.toList, Deleted: f.missing || f.toList, Merge: f.merge, Reason: f.reason}
			if f.toList {
				opts.List = f.listName
			}
			id, err = ref.docs.RestoreSharePoint(context.WithoutCancel(ctx), g.kind, opts)
		} else {
			id, err = ref.docs.RestoreOneDrive(context.WithoutCancel(ctx), veeamapi.OneDriveRestoreOptions{Docs: g.docs, Keep: f.keep, Reason: f.reason})
		}
		if err != nil {
			if errors.Is(err, veeamapi.ErrBadRequest) {
				return ids, restoreRefused(err)
			}
			if len(ids) > 0 {
				return ids, &Error{Status: http.StatusBadGateway, Title: "Only part of the restore started", Err: err,
					Message: "The documents are being restored, but the list items could not be. See My restores, and try the list items again."}
			}
			return ids, err
		}
		ids = append(ids, id)
		rec := history.Record{ID: id, Workload: ref.workload, Source: title, SourceID: ref.id, Items: len(g.docs),
			Target: f.target(ref.sharePoint()), Options: f.options(ref.sharePoint()), Reason: f.reason, PointTime: ref.session.PointTime,
			ForOthers: ref.sharePoint() || !ownOneDrive(subtitle, u.UPN)}
		if err := h.recordRestore(c, rec, "target", map[bool]string{true: "list", false: "original"}[f.toList]); err != nil {
			return ids, err
		}
	}
	return ids, nil
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
