package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/openrestore/portal/templates"
	"github.com/openrestore/portal/veeamapi"
)

// OneDrives and SharePoint sites are browsed the same way: a tree of
// folders (a site's libraries and lists at its top), a folder's content a
// page at a time, a document's details and versions, search, restore and
// download. docsRef says which OneDrive or site a request is about.
type docsRef struct {
	session  openedSession
	workload string // onedrive, sharepoint
	id       string // the OneDrive's or site's id
	base     string // /sessions/<sid>/onedrives/<key> or /sessions/<sid>/sites/<key>
	docs     *veeamapi.Docs
	oid      string // the signed-in user
}

func (r docsRef) sharePoint() bool { return r.workload == "sharepoint" }

// Node kinds, as the first letter of a node key: a document, folder, list
// item, library or list. Keys carry the kind so that a selection can be
// restored and a URL opened without asking the server what it names.
const (
	nodeDoc     = "d"
	nodeFolder  = "f"
	nodeItem    = "i"
	nodeLibrary = "l"
	nodeList    = "t"
	rootKey     = "root"
)

func nodeKey(kind, id string) string { return key(kind + ":" + id) }

// parseNode reads a node key.
func parseNode(k string) (kind, id string, err error) {
	raw, err := unkey(k)
	if err != nil {
		return "", "", err
	}
	kind, id, ok := strings.Cut(raw, ":")
	if !ok || id == "" || !strings.Contains("dfilt", kind) || len(kind) != 1 {
		return "", "", errors.New("not a node key")
	}
	return kind, id, nil
}

func (r docsRef) nodeURL(kind, id string) string { return r.base + "/n/" + nodeKey(kind, id) }
func (r docsRef) docURL(kind, id string) string  { return r.base + "/d/" + nodeKey(kind, id) }
func (r docsRef) rootURL() string                { return r.base + "/n/" + rootKey }

// docsRef checks the session is one this user opened for the workload.
func (h *Handler) docsRef(c *echo.Context, workload string) (docsRef, error) {
	sid := c.Param("id")
	entry, ok, err := h.opened(c, sid)
	if err != nil {
		return docsRef{}, err
	}
	owner, err := unkey(c.Param("owner"))
	if !ok || entry.Workload != workload || err != nil {
		h.log.WarnContext(c.Request().Context(), "authz_fail", "resource", workload, "oid", userFrom(c).OID)
		return docsRef{}, notFoundOrNotYours(fmt.Errorf("%s %q of session %q is not this user's", workload, c.Param("owner"), sid))
	}
	return h.docsRefIn(entry, workload, owner, userFrom(c).OID), nil
}

// docsRefIn is a OneDrive or site of a restore session the user (oid) opened.
func (h *Handler) docsRefIn(session openedSession, workload, owner, oid string) docsRef {
	segment := "/onedrives/"
	d := h.operator().OneDriveDocs(session.ID, owner)
	if workload == "sharepoint" {
		segment, d = "/sites/", h.operator().SiteDocs(session.ID, owner)
	}
	return docsRef{session: session, workload: workload, id: owner, base: "/sessions/" + url.PathEscape(session.ID) + segment + key(owner),
		docs: d, oid: oid}
}

// docKey is how a listed document travels in forms and URLs.
func docKey(d *veeamapi.Doc) (kind string) {
	switch {
	case d.IsFolder:
		return nodeFolder
	case strings.Contains(d.Links["self"].Href, "/Items/"):
		return nodeItem
	case d.Links["self"].Href == "" && d.SiteID != "" && d.SizeBytes == nil && d.Title != "":
		return nodeItem
	}
	return nodeDoc
}

// docTitle is what a list shows as a document's name.
func docTitle(d *veeamapi.Doc) string {
	if docKey(d) == nodeItem && d.Title != "" {
		return d.Title
	}
	return d.Name
}

// fileIcon picks an icon by file type.
func fileIcon(d *veeamapi.Doc) (icon, label string) {
	switch docKey(d) {
	case nodeFolder:
		return "folder", "Folder"
	case nodeItem:
		return "item", "List item"
	}
	switch strings.ToLower(strings.TrimPrefix(path.Ext(d.Name), ".")) {
	case "doc", "docx", "odt", "rtf":
		return "word", "Word document"
	case "xls", "xlsx", "csv", "ods":
		return "excel", "Spreadsheet"
	case "ppt", "pptx", "odp":
		return "powerpoint", "Presentation"
	case "pdf":
		return "pdf", "PDF"
	case "png", "jpg", "jpeg", "gif", "bmp", "svg", "heic", "webp":
		return "image", "Picture"
	case "zip", "7z", "rar", "gz", "tar":
		return "archive", "Archive"
	case "txt", "md", "log":
		return "text", "Text"
	case "mp4", "mov", "avi", "mkv", "webm":
		return "video", "Video"
	}
	return "file", "File"
}

// docRows lays out a page of documents: folders first, as the server lists them.
func docRows(ref docsRef, docs []veeamapi.Doc, loc *time.Location, current string) []templates.DocRow {
	rows := make([]templates.DocRow, 0, len(docs))
	for i := range docs {
		d := &docs[i]
		kind := docKey(d)
		icon, label := fileIcon(d)
		r := templates.DocRow{Key: nodeKey(kind, d.ID), Folder: kind == nodeFolder, Icon: icon, TypeLabel: label, Name: docTitle(d),
			ModifiedBy: d.ModifiedBy}
		if r.Folder {
			r.URL = ref.nodeURL(nodeFolder, d.ID)
		} else {
			r.URL = ref.docURL(kind, d.ID)
			r.Current = current != "" && current == r.Key
		}
		if kind == nodeDoc && d.SizeBytes != nil {
			r.Size = humanSize(*d.SizeBytes)
		}
		if !d.ModificationTime.IsZero() {
			r.When, r.WhenISO = d.ModificationTime.In(loc).Format("Mon 2 Jan 2006, 15:04"), d.ModificationTime.UTC().Format(time.RFC3339)
		}
		rows = append(rows, r)
	}
	return rows
}

// docsKey names what is cached for this user in this OneDrive or site.
func docsKey(ref docsRef, parts ...string) string {
	return browseKey(ref.oid, mailboxRef{session: ref.session, mailbox: ref.workload + ":" + ref.id}, parts...)
}

func (h *Handler) cachedFolderDoc(ctx context.Context, ref docsRef, id string) (*veeamapi.Doc, error) {
	return cached(h.browse, docsKey(ref, "folder", id), func() (*veeamapi.Doc, error) { return ref.docs.Folder(ctx, id) })
}

// container is a library or list of a site.
type container struct {
	kind string // nodeLibrary, nodeList
	list veeamapi.List
}

// maxContainers is the most libraries and lists of a site the portal shows.
const maxContainers = 5000

// cachedContainers lists a site's libraries and lists.
func (h *Handler) cachedContainers(ctx context.Context, ref docsRef) ([]container, error) {
	return cached(h.browse, docsKey(ref, "containers"), func() ([]container, error) {
		var out []container
		for _, k := range []string{nodeLibrary, nodeList} {
			list := ref.docs.Libraries
			if k == nodeList {
				list = ref.docs.Lists
			}
			for l, err := range veeamapi.All(ctx, 500, list) {
				if err != nil {
					return nil, err
				}
				if out = append(out, container{kind: k, list: l}); len(out) >= maxContainers {
					break
				}
			}
		}
		return out, nil
	})
}

func findContainer(cs []container, id string) (container, bool) {
	for _, c := range cs {
		if c.list.ID == id {
			return c, true
		}
	}
	return container{}, false
}

// title is the OneDrive's owner or the site's name, for headings and records.
func (h *Handler) docsTitle(ctx context.Context, ref docsRef) (title, subtitle string, err error) {
	type info struct{ Title, URL string }
	i, err := cached(h.browse, docsKey(ref, "info"), func() (info, error) {
		if ref.sharePoint() {
			s, err := ref.docs.Site(ctx)
			if err != nil {
				return info{}, err
			}
			return info{s.Name, s.URL}, nil
		}
		od, err := ref.docs.OneDrive(ctx)
		if err != nil {
			return info{}, err
		}
		return info{od.Name, od.URL}, nil
	})
	return i.Title, i.URL, err
}

// own reports whether the OneDrive is the signed-in user's: its personal
// URL is built from the user's account name, as OneDrive for Business does.
func ownOneDrive(oneDriveURL, upn string) bool {
	personal := strings.NewReplacer("@", "_", ".", "_").Replace(strings.ToLower(upn))
	return upn != "" && strings.HasSuffix(strings.ToLower(strings.TrimRight(oneDriveURL, "/")), "/personal/"+personal)
}

// crumbs is the path from the top to the folder (inclusive), walking its
// parents; top is the OneDrive or the library or list the path starts in.
func (h *Handler) crumbs(ctx context.Context, ref docsRef, folder *veeamapi.Doc) ([]templates.Crumb, container, error) {
	var path []templates.Crumb
	var top container
	cur := folder
	for depth := 0; cur != nil && depth < 32; depth++ {
		path = append([]templates.Crumb{{Name: cur.Name, URL: ref.nodeURL(nodeFolder, cur.ID)}}, path...)
		parent := cur.ParentFolder()
		if parent == "" {
			if kind, id := containerOf(cur); id != "" && ref.sharePoint() {
				cs, err := h.cachedContainers(ctx, ref)
				if err != nil {
					return nil, top, err
				}
				if c, ok := findContainer(cs, id); ok {
					top = c
					path = append([]templates.Crumb{{Name: c.list.Name, URL: ref.nodeURL(kind, id)}}, path...)
				}
			}
			break
		}
		next, err := h.cachedFolderDoc(ctx, ref, parent)
		if err != nil {
			return nil, top, err
		}
		cur = next
	}
	if !ref.sharePoint() {
		path = append([]templates.Crumb{{Name: "OneDrive", URL: ref.rootURL()}}, path...)
	}
	return path, top, nil
}

// containerOf reads the library or list a top-level document is in from its parent link.
func containerOf(d *veeamapi.Doc) (kind, id string) {
	href := d.Links["parent"].Href
	for _, k := range []struct{ seg, kind string }{{"/Libraries/", nodeLibrary}, {"/Lists/", nodeList}} {
		if i := strings.LastIndex(href, k.seg); i >= 0 {
			if id, err := url.PathUnescape(href[i+len(k.seg):]); err == nil && !strings.Contains(id, "/") {
				return k.kind, id
			}
		}
	}
	return "", ""
}

// docsFrame is the part of every page that does not depend on the open
// folder: title, tree and search form.
func (h *Handler) docsFrame(c *echo.Context, ref docsRef) (templates.DocsView, error) {
	ctx := c.Request().Context()
	title, subtitle, err := h.docsTitle(ctx, ref)
	if err != nil {
		return templates.DocsView{}, err
	}
	loc := h.zone(c)
	v := templates.DocsView{
		SessionURL: "/sessions/" + url.PathEscape(ref.session.ID), Title: title, Subtitle: subtitle,
		PointLabel: ref.session.PointTime.In(loc).Format("Monday 2 January 2006, 15:04 MST"),
		PointISO:   ref.session.PointTime.UTC().Format(time.RFC3339),
		Search:     h.docSearchView(ref, loc), CSRFToken: h.csrfToken(ctx),
	}
	if ref.sharePoint() {
		v.BackLabel, v.TreeLabel = "All sites of this restore point", "Libraries and lists"
		cs, err := h.cachedContainers(ctx, ref)
		if err != nil {
			return v, err
		}
		for _, ct := range cs {
			v.Tree = append(v.Tree, templates.FolderNode{Key: nodeKey(ct.kind, ct.list.ID), Name: ct.list.Name,
				URL: ref.nodeURL(ct.kind, ct.list.ID), ChildrenURL: ref.nodeURL(ct.kind, ct.list.ID) + "/children",
				Kind: map[string]string{nodeLibrary: "library", nodeList: "list"}[ct.kind]})
		}
	} else {
		v.BackLabel, v.TreeLabel = "All OneDrives of this restore point", "Folders"
		if !ownOneDrive(subtitle, userFrom(c).UPN) {
			v.Badge = "Someone else's"
		}
		top, err := h.cachedFolders2(ctx, ref, rootKey)
		if err != nil {
			return v, err
		}
		v.Tree = h.folderTree(ref, top)
	}
	return v, nil
}

// cachedFolders2 lists the folders under parent (a folder, library or list id, or "root").
func (h *Handler) cachedFolders2(ctx context.Context, ref docsRef, parent string) ([]veeamapi.Doc, error) {
	return cached(h.browse, docsKey(ref, "folders", parent), func() ([]veeamapi.Doc, error) {
		p, err := ref.docs.Folders(ctx, parent, veeamapi.PageOptions{Limit: 500})
		if err != nil {
			return nil, err
		}
		return p.Results, nil
	})
}

func (h *Handler) folderTree(ref docsRef, folders []veeamapi.Doc) []templates.FolderNode {
	out := make([]templates.FolderNode, 0, len(folders))
	for _, f := range folders {
		out = append(out, templates.FolderNode{Key: nodeKey(nodeFolder, f.ID), Name: f.Name, URL: ref.nodeURL(nodeFolder, f.ID),
			ChildrenURL: ref.nodeURL(nodeFolder, f.ID) + "/children", Kind: "folder"})
	}
	return out
}

// nodeChildren handles GET …/n/:node/children: the next level of the tree, for htmx.
func (h *Handler) nodeChildren(c *echo.Context, workload string) error {
	ref, err := h.docsRef(c, workload)
	if err != nil {
		return err
	}
	kind, id, err := parseNode(c.Param("node"))
	if err != nil || (kind != nodeFolder && kind != nodeLibrary && kind != nodeList) {
		return notFoundOrNotYours(fmt.Errorf("node %q", c.Param("node")))
	}
	sub, err := h.cachedFolders2(c.Request().Context(), ref, id)
	if err != nil {
		return err
	}
	if len(sub) == 0 {
		return render(c, http.StatusOK, templates.NoSubfolders("this folder"))
	}
	return render(c, http.StatusOK, templates.FolderList(h.folderTree(ref, sub)))
}

func (h *Handler) docSearchView(ref docsRef, loc *time.Location) templates.DocSearchView {
	v := templates.DocSearchView{Action: ref.base + "/search", TimeZone: loc.String(), ItemType: ""}
	if ref.sharePoint() {
		v.ItemTypes = []templates.Option{{Value: "", Label: "Everything"}, {Value: "Items", Label: "Documents and list items"}, {Value: "Folders", Label: "Folders"}}
	} else {
		v.ItemTypes = []templates.Option{{Value: "", Label: "Everything"}, {Value: "Documents", Label: "Documents"}, {Value: "Folders", Label: "Folders"}}
	}
	return v
}

// docsRoot handles GET /sessions/:id/onedrives/:owner and …/sites/:owner:
// a OneDrive opens on its top folder; a site shows its libraries, lists and subsites.
func (h *Handler) docsRoot(workload string) echo.HandlerFunc {
	return func(c *echo.Context) error {
		ref, err := h.docsRef(c, workload)
		if err != nil {
			return err
		}
		ctx := c.Request().Context()
		if !ref.sharePoint() {
			// Only a OneDrive of this session leads on.
			if _, _, err := h.docsTitle(ctx, ref); err != nil {
				return err
			}
			return c.Redirect(http.StatusSeeOther, ref.rootURL())
		}
		v, err := h.docsFrame(c, ref)
		if err != nil {
			return err
		}
		cs, err := h.cachedContainers(ctx, ref)
		if err != nil {
			return err
		}
		for _, ct := range cs {
			kind := map[string]string{nodeLibrary: "library", nodeList: "list"}[ct.kind]
			v.Containers = append(v.Containers, templates.Container{Kind: kind, Name: ct.list.Name, Description: ct.list.Description,
				URL: ref.nodeURL(ct.kind, ct.list.ID)})
		}
		sub, err := h.operator().Sites(ctx, ref.session.ID, veeamapi.SitesOptions{ParentID: ref.id, PageOptions: veeamapi.PageOptions{Limit: 200}})
		if err == nil {
			for _, s := range sub.Results {
				v.Containers = append(v.Containers, templates.Container{Kind: "site", Name: s.Name, Description: "Subsite · " + s.URL,
					URL: "/sessions/" + url.PathEscape(ref.session.ID) + "/sites/" + key(s.ID)})
			}
		}
		v.Heading = "Libraries, lists and subsites"
		return render(c, http.StatusOK, templates.DocsPage(h.meta(c, v.Title), v))
	}
}

// nodePage handles GET …/n/:node[?offset=]: a folder's, library's or list's
// content (folders first), a page at a time; htmx gets the list only.
func (h *Handler) nodePage(workload string) echo.HandlerFunc {
	return func(c *echo.Context) error {
		ref, err := h.docsRef(c, workload)
		if err != nil {
			return err
		}
		ctx := c.Request().Context()
		nodeParam := c.Param("node")
		kind, id := "", rootKey
		if nodeParam != rootKey || ref.sharePoint() {
			if kind, id, err = parseNode(nodeParam); err != nil || !strings.Contains("flt", kind) {
				return notFoundOrNotYours(fmt.Errorf("node %q", nodeParam))
			}
		}
		collection := veeamapi.Documents
		var (
			heading, scopeName string
			crumbs             []templates.Crumb
			folder             *veeamapi.Doc
			downloadURL        string
			downloadLabel      string
		)
		switch kind {
		case nodeFolder:
			if folder, err = h.cachedFolderDoc(ctx, ref, id); err != nil {
				return err
			}
			heading, scopeName = folder.Name, folder.Name
			var top container
			if crumbs, top, err = h.crumbs(ctx, ref, folder); err != nil {
				return err
			}
			if folder.Type == "ListFolder" || top.kind == nodeList {
				collection = veeamapi.Items
			}
			if folder.Can("save") {
				downloadURL, downloadLabel = ref.nodeURL(nodeFolder, id)+"/download", "Download folder (.zip)"
			}
		case nodeLibrary, nodeList:
			cs, err := h.cachedContainers(ctx, ref)
			if err != nil {
				return err
			}
			ct, ok := findContainer(cs, id)
			if !ok || ct.kind != kind {
				return notFoundOrNotYours(fmt.Errorf("no library or list %q", id))
			}
			heading, scopeName = ct.list.Name, ct.list.Name
			crumbs = []templates.Crumb{{Name: ct.list.Name, URL: ref.nodeURL(kind, id)}}
			if kind == nodeList {
				collection = veeamapi.Items
			} else {
				downloadURL, downloadLabel = ref.nodeURL(kind, id)+"/download", "Download library (.zip)"
			}
		default:
			heading = "OneDrive"
			crumbs = []templates.Crumb{{Name: "OneDrive", URL: ref.rootURL()}}
		}
		list := func(ctx context.Context, p veeamapi.PageOptions) (*veeamapi.Page[veeamapi.Doc], error) {
			return ref.docs.Under(ctx, collection, id, true, p)
		}
		here := ref.base + "/n/" + nodeParam
		page, _, err := h.docListPage(c, ref, list, here, url.Values{}, "This folder is empty in the restore point.")
		if err != nil {
			return err
		}
		page.AllScope = []templates.Hidden{{Name: "all_node", Value: nodeParam}}
		page.AllLabel = "Restore everything here…"
		if collection == veeamapi.Items {
			// A list's items download as their attachments, from each item.
			page.NameHeader, page.ShowSize, page.CanDownload = "Title", false, false
		}
		if isPartial(c) && c.Request().Header.Get("HX-Target") == templates.DocListID {
			return render(c, http.StatusOK, templates.DocList(page))
		}
		v, err := h.docsFrame(c, ref)
		if err != nil {
			return err
		}
		v.Heading, v.Crumbs, v.List = heading, crumbs, &page
		v.DownloadURL, v.DownloadLabel = downloadURL, downloadLabel
		if kind != "" {
			v.Search.ScopeKey, v.Search.ScopeName = nodeParam, scopeName
		}
		return render(c, http.StatusOK, templates.DocsPage(h.meta(c, heading+" · "+v.Title), v))
	}
}

// docListPage fetches a page of documents and lays it out with the controls
// that act on a selection.
func (h *Handler) docListPage(c *echo.Context, ref docsRef, list func(context.Context, veeamapi.PageOptions) (*veeamapi.Page[veeamapi.Doc], error),
	base string, extra url.Values, empty string) (templates.DocListView, []veeamapi.Doc, error) {
	res, err := fetchPage(c, h.lastPages, list, base, extra)
	if err != nil {
		return templates.DocListView{}, nil, err
	}
	v := templates.DocListView{
		Caption: "Documents and folders", NameHeader: "Name", ShowSize: true, EmptyText: empty,
		CSRFToken:  h.csrfToken(c.Request().Context()),
		RestoreURL: ref.base + "/restore/new", DownloadURL: ref.base + "/download", ListURL: ref.base + "/restore-list",
		Rows: docRows(ref, res.items, h.zone(c), c.QueryParam("item")), Pager: res.pager, Here: c.Request().URL.RequestURI(),
	}
	for i := range res.items {
		if d := &res.items[i]; docKey(d) != nodeItem && d.Can("save") {
			v.CanDownload = true
		}
	}
	return v, res.items, nil
}

// locations names the folder, library or list each document is in, for
// search results; the parents are fetched once each, a few at a time.
func (h *Handler) locations(ctx context.Context, ref docsRef, docs []veeamapi.Doc) []string {
	out := make([]string, len(docs))
	names := map[string]string{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range docs {
		parent := docs[i].ParentFolder()
		if parent == "" {
			if kind, id := containerOf(&docs[i]); id != "" {
				out[i] = h.nodeName(ctx, ref, nodeKey(kind, id))
			} else if !ref.sharePoint() {
				out[i] = "OneDrive"
			}
			continue
		}
		mu.Lock()
		_, seen := names[parent]
		names[parent] = ""
		mu.Unlock()
		if seen {
			continue
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if f, err := h.cachedFolderDoc(ctx, ref, parent); err == nil {
				mu.Lock()
				names[parent] = f.Name
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for i := range docs {
		if p := docs[i].ParentFolder(); p != "" {
			out[i] = names[p]
		}
	}
	return out
}

// docDetailPage handles GET …/d/:node: a document's or list item's details,
// earlier versions and attachments; htmx gets the detail pane only.
func (h *Handler) docDetailPage(workload string) echo.HandlerFunc {
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
		collection := veeamapi.Documents
		if kind == nodeItem {
			collection = veeamapi.Items
		}
		d, err := ref.docs.Get(ctx, collection, id)
		if err != nil {
			return err
		}
		versions, err := ref.docs.Versions(ctx, collection, id, veeamapi.PageOptions{Limit: 200})
		if err != nil {
			return err
		}
		loc := h.zone(c)
		icon, label := fileIcon(d)
		when := func(t time.Time) string { return t.In(loc).Format("Monday 2 January 2006, 15:04 MST") }
		v := templates.DocDetailView{Key: nodeKey(kind, id), Icon: icon, TypeLabel: label, Name: docTitle(d),
			RestoreURL: ref.base + "/restore/new", DownloadURL: ref.docURL(kind, id) + "/download", CanDownload: d.Can("save"),
			CSRFToken: h.csrfToken(ctx)}
		if kind == nodeItem {
			v.Fields = append(v.Fields, templates.Field{Label: "Title", Value: d.Title})
		} else {
			v.Fields = append(v.Fields, templates.Field{Label: "Name", Value: d.Name}, templates.Field{Label: "Size", Value: humanSize(d.Size())})
		}
		v.Fields = append(v.Fields,
			templates.Field{Label: "Version", Value: d.Version},
			templates.Field{Label: "Created", Value: when(d.CreationTime) + " by " + d.CreatedBy},
			templates.Field{Label: "Modified", Value: when(d.ModificationTime) + " by " + d.ModifiedBy})
		for _, ver := range versions.Results {
			row := templates.DocVersionRow{Label: "Version " + ver.Version, ModifiedBy: ver.ModifiedBy,
				When: ver.ModificationTime.In(loc).Format("Mon 2 Jan 2006, 15:04"), WhenISO: ver.ModificationTime.UTC().Format(time.RFC3339)}
			if ver.VersionID != nil {
				row.Number = fmt.Sprint(*ver.VersionID)
			}
			if kind == nodeDoc {
				row.Size = humanSize(ver.Size())
			}
			if row.Number != "" {
				v.Versions = append(v.Versions, row)
			}
		}
		if kind == nodeItem {
			atts, err := ref.docs.Attachments(ctx, id, veeamapi.PageOptions{Limit: 200})
			if err != nil {
				return err
			}
			v.CanDownload, v.DownloadURL = false, ""
			v.AttachmentsURL = ref.docURL(kind, id) + "/download"
			for _, a := range atts.Results {
				v.Attachments = append(v.Attachments, templates.AttachmentRow{Key: key(a.ID), Name: a.Name, Size: humanSize(a.SizeBytes)})
				v.CanDownload = v.CanDownload || a.Actions == nil || a.Actions.Has("save")
			}
		}
		if isPartial(c) {
			return render(c, http.StatusOK, templates.DocDetail(v))
		}
		frame, err := h.docsFrame(c, ref)
		if err != nil {
			return err
		}
		if parent := d.ParentFolder(); parent != "" {
			v.BackURL = ref.nodeURL(nodeFolder, parent)
		} else if ck, cid := containerOf(d); cid != "" {
			v.BackURL = ref.nodeURL(ck, cid)
		} else {
			v.BackURL = ref.rootURL()
		}
		frame.Heading, frame.Detail = docTitle(d), &v
		return render(c, http.StatusOK, templates.DocsPage(h.meta(c, docTitle(d)+" · "+frame.Title), frame))
	}
}
