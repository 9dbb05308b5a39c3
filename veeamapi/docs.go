package veeamapi

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Doc is a OneDrive or SharePoint document, folder or list item: the union
// RESTItemComposed of RESTOneDriveDocument, RESTOneDriveFolder,
// RESTSharePointDocument, RESTSharePointFolder and RESTSharePointItem.
type Doc struct {
	ID                   string          `json:"id"`
	Name                 string          `json:"name"`
	Title                string          `json:"title"` // SharePoint list items
	OneDriveID           string          `json:"oneDriveId"`
	SiteID               string          `json:"siteId"`
	Type                 string          `json:"type"` // SharePoint folders: ListFolder, LibraryFolder
	SizeBytes            *int64          `json:"sizeBytes"`
	InheritedPermissions *bool           `json:"inheritedPermissions"`
	Version              string          `json:"version"`
	VersionID            *int            `json:"versionId"`
	CreatedBy            string          `json:"createdBy"`
	CreationTime         time.Time       `json:"creationTime"`
	ModifiedBy           string          `json:"modifiedBy"`
	ModificationTime     time.Time       `json:"modificationTime"`
	IsFolder             bool            `json:"isFolder"`
	Links                map[string]Link `json:"_links"`
	Actions              Actions         `json:"_actions"`
}

// ParentFolder is the id of the folder the document is in, from its parent
// link; "" at the top of a OneDrive, library or list, or when the server
// gives no parent link.
func (d *Doc) ParentFolder() string {
	href := d.Links["parent"].Href
	i := strings.LastIndex(href, "/Folders/")
	if i < 0 {
		return ""
	}
	id, err := url.PathUnescape(href[i+len("/Folders/"):])
	if err != nil || strings.Contains(id, "/") {
		return ""
	}
	return id
}

// Can reports whether the server allows the named action on the document.
// A server that sends no _actions at all leaves the decision to the call.
func (d *Doc) Can(action string) bool { return d.Actions == nil || d.Actions.Has(action) }

// Size is the document's size, 0 for folders and items.
func (d *Doc) Size() int64 {
	if d.SizeBytes == nil {
		return 0
	}
	return *d.SizeBytes
}

// echo is the document as a restore or save request carries it: the
// properties of the schema, without the read-only _links and _actions.
func (d *Doc) echo() any {
	type plain struct {
		ID                   string    `json:"id"`
		Name                 string    `json:"name"`
		Title                string    `json:"title,omitempty"`
		OneDriveID           string    `json:"oneDriveId,omitempty"`
		SiteID               string    `json:"siteId,omitempty"`
		Type                 string    `json:"type,omitempty"`
		SizeBytes            *int64    `json:"sizeBytes,omitempty"`
		InheritedPermissions *bool     `json:"inheritedPermissions,omitempty"`
		Version              string    `json:"version,omitempty"`
		VersionID            *int      `json:"versionId,omitempty"`
		CreatedBy            string    `json:"createdBy"`
		CreationTime         time.Time `json:"creationTime"`
		ModifiedBy           string    `json:"modifiedBy"`
		ModificationTime     time.Time `json:"modificationTime"`
		IsFolder             bool      `json:"isFolder"`
	}
	p := plain{d.ID, d.Name, d.Title, d.OneDriveID, d.SiteID, d.Type, d.SizeBytes, d.InheritedPermissions, d.Version, d.VersionID,
		d.CreatedBy, d.CreationTime, d.ModifiedBy, d.ModificationTime, d.IsFolder}
	if p.SizeBytes == nil && !d.IsFolder && d.SiteID == "" {
		zero := int64(0) // required for OneDrive documents
		p.SizeBytes = &zero
	}
	return p
}

// List is a SharePoint document library or list (RESTSharePointLibrary, RESTSharePointList).
type List struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	URL          string    `json:"url"`
	Description  string    `json:"description"`
	CreationTime time.Time `json:"creationTime"`
	SiteID       string    `json:"siteId"`
}

// ListAttachment is an attachment of a SharePoint list item (RESTSharePointAttachment).
type ListAttachment struct {
	ID        string  `json:"id"`
	Name      string  `json:"name"`
	SizeBytes int64   `json:"sizeBytes"`
	URL       string  `json:"url"`
	ItemID    string  `json:"itemId"`
	Actions   Actions `json:"_actions"`
}

// DocKind names the collections of a document store.
type DocKind string

// The collections: OneDrive and library documents, and SharePoint list items.
const (
	Documents DocKind = "Documents"
	Items     DocKind = "Items"
)

// Docs is the documents of one OneDrive or one SharePoint site in a restore session.
type Docs struct {
	o    *Operator
	base string // escaped: /v8/RestoreSessions/{s}/Organization/OneDrives/{id} or …/Sites/{id}
	site bool
}

// OneDriveDocs is the documents of a OneDrive.
func (o *Operator) OneDriveDocs(session, oneDrive string) *Docs {
	return &Docs{o: o, base: pathf("/v8/RestoreSessions/%s/Organization/OneDrives/%s", session, oneDrive)}
}

// SiteDocs is the libraries, lists, documents and items of a SharePoint site.
func (o *Operator) SiteDocs(session, site string) *Docs {
	return &Docs{o: o, base: pathf("/v8/RestoreSessions/%s/Organization/Sites/%s", session, site), site: true}
}

func getOne[T any](ctx context.Context, o *Operator, path string, query url.Values) (*T, error) {
	var v T
	if err := o.get(ctx, path, query, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// OneDrive returns the OneDrive.
//
// VB365: GET /v8/RestoreSessions/{restoreSessionId}/Organization/OneDrives/{oneDriveId}
func (d *Docs) OneDrive(ctx context.Context) (*OneDriveInfo, error) {
	return getOne[OneDriveInfo](ctx, d.o, d.base, nil)
}

// Site returns the site.
//
// VB365: GET /v8/RestoreSessions/{restoreSessionId}/Organization/Sites/{siteId}
func (d *Docs) Site(ctx context.Context) (*Site, error) { return getOne[Site](ctx, d.o, d.base, nil) }

// Libraries lists the site's document libraries; Lists its lists.
//
// VB365: GET …/Organization/Sites/{siteId}/Libraries, GET …/Sites/{siteId}/Lists
func (d *Docs) Libraries(ctx context.Context, page PageOptions) (*Page[List], error) {
	return getPage[List](ctx, d.o, d.base+"/Libraries", page.query(), page)
}

func (d *Docs) Lists(ctx context.Context, page PageOptions) (*Page[List], error) {
	return getPage[List](ctx, d.o, d.base+"/Lists", page.query(), page)
}

// Library returns a document library; List a list.
//
// VB365: GET …/Sites/{siteId}/Libraries/{libraryId}, GET …/Sites/{siteId}/Lists/{listId}
func (d *Docs) Library(ctx context.Context, id string) (*List, error) {
	return getOne[List](ctx, d.o, d.base+pathf("/Libraries/%s", id), nil)
}

func (d *Docs) List(ctx context.Context, id string) (*List, error) {
	return getOne[List](ctx, d.o, d.base+pathf("/Lists/%s", id), nil)
}

// Folders lists the folders under parent: "root" for the top level, a
// folder's id, or (SharePoint) a library's or list's id.
//
// VB365: GET …/OneDrives/{oneDriveId}/Folders, GET …/Sites/{siteId}/Folders
func (d *Docs) Folders(ctx context.Context, parent string, page PageOptions) (*Page[Doc], error) {
	q := page.query()
	q.Set("parentId", parent)
	return getPage[Doc](ctx, d.o, d.base+"/Folders", q, page)
}

// Folder returns a folder.
//
// VB365: GET …/Folders/{folderId}
func (d *Docs) Folder(ctx context.Context, id string) (*Doc, error) {
	return getOne[Doc](ctx, d.o, d.base+pathf("/Folders/%s", id), nil)
}

// List lists the documents (or SharePoint list items) under parent, folders
// first when includeFolders.
//
// VB365: GET …/Documents, GET …/Sites/{siteId}/Items
func (d *Docs) Under(ctx context.Context, kind DocKind, parent string, includeFolders bool, page PageOptions) (*Page[Doc], error) {
	q := page.query()
	q.Set("parentId", parent)
	if includeFolders {
		q.Set("includeFolders", "true")
	}
	return getPage[Doc](ctx, d.o, d.base+"/"+string(kind), q, page)
}

// Get returns a document or list item.
//
// VB365: GET …/Documents/{documentId}, GET …/Sites/{siteId}/Items/{itemId}
func (d *Docs) Get(ctx context.Context, kind DocKind, id string) (*Doc, error) {
	return getOne[Doc](ctx, d.o, d.base+"/"+string(kind)+pathf("/%s", id), nil)
}

// Versions lists the earlier versions of a document or list item, newest first.
//
// VB365: GET …/Documents/{documentId}/Versions, GET …/Items/{itemId}/Versions
func (d *Docs) Versions(ctx context.Context, kind DocKind, id string, page PageOptions) (*Page[Doc], error) {
	return getPage[Doc](ctx, d.o, d.base+"/"+string(kind)+pathf("/%s/Versions", id), page.query(), page)
}

// Version returns version n (1-based) of a document or list item.
//
// VB365: GET …/Documents/{documentId}/Versions/{versionId}
func (d *Docs) Version(ctx context.Context, kind DocKind, id string, n int) (*Doc, error) {
	return getOne[Doc](ctx, d.o, d.base+"/"+string(kind)+pathf("/%s/Versions/%s", id, strconv.Itoa(n)), nil)
}

// Attachments lists a SharePoint list item's attachments.
//
// VB365: GET …/Sites/{siteId}/Items/{itemId}/Attachments
func (d *Docs) Attachments(ctx context.Context, item string, page PageOptions) (*Page[ListAttachment], error) {
	return getPage[ListAttachment](ctx, d.o, d.base+pathf("/Items/%s/Attachments", item), page.query(), page)
}

// SearchIn is where a search looks: the whole OneDrive or site, or one
// folder, library or list of it.
type SearchIn struct {
	Folder  string
	Library string
	List    string
}

// Search runs a query (the VB365 search syntax). itemType is "" (all),
// Folders, Documents (OneDrive) or Items (SharePoint). Pages after the first
// should pass the first page's SetID.
//
// VB365: POST …/OneDrives/{oneDriveId}/search, …/Folders/{folderId}/search,
// …/Sites/{siteId}/search, …/Libraries/{libraryId}/search, …/Lists/{listId}/search
func (d *Docs) Search(ctx context.Context, in SearchIn, query, itemType string, page PageOptions) (*Page[Doc], error) {
	p := d.base + "/search"
	switch {
	case in.Folder != "":
		p = d.base + pathf("/Folders/%s/search", in.Folder)
	case in.Library != "":
		p = d.base + pathf("/Libraries/%s/search", in.Library)
	case in.List != "":
		p = d.base + pathf("/Lists/%s/search", in.List)
	}
	q := page.query()
	if itemType != "" {
		q.Set("itemType", itemType)
	}
	out := newPage[Doc](page)
	err := d.o.call(ctx, request{Method: "POST", Path: p, Query: q, Body: map[string]string{"query": query}, Idempotent: true}, out)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DocRestore is one document, folder or item to restore, in the version it
// was listed with, with all its versions up to that one or only that one.
type DocRestore struct {
	Doc         Doc
	AllVersions bool
}

func versionName(all bool) string {
	if all {
		return "All"
	}
	return "Last"
}

// OneDriveRestoreOptions is RESTOperatorRestoreToOriginalOneDriveDocuments:
// documents and folders go back to where they were; a document that changed
// since is overwritten, or kept with the restored one beside it.
type OneDriveRestoreOptions struct {
	Docs   []DocRestore
	Keep   bool
	Reason string
}

// RestoreOneDrive restores documents and folders of a OneDrive and returns
// the id of the restore session that reports the progress. It is never retried.
//
// VB365: POST …/OneDrives/{oneDriveId}/Documents/operatorRestore
func (d *Docs) RestoreOneDrive(ctx context.Context, opts OneDriveRestoreOptions) (string, error) {
	configs := make([]map[string]any, len(opts.Docs))
	for i, r := range opts.Docs {
		configs[i] = map[string]any{"document": r.Doc.echo(), "documentVersion": versionName(r.AllVersions)}
	}
	action := "Overwrite"
	if opts.Keep {
		action = "Keep"
	}
	body := map[string]any{"documentAction": action, "documentsRestoreConfigs": configs}
	if opts.Reason != "" {
		body["reason"] = opts.Reason
	}
	var out struct {
		SessionID string `json:"sessionId"`
	}
	if err := d.o.post(ctx, d.base+"/Documents/operatorRestore", body, &out); err != nil {
		return "", err
	}
	return out.SessionID, nil
}

// SharePointRestoreOptions is RESTOperatorRestoreSharePointDocumentsConfig
// and RESTOperatorRestoreSharePointItemsConfig.
type SharePointRestoreOptions struct {
	Docs []DocRestore
	// List restores copies into this library or list of the site instead of
	// where they were.
	List        string
	Permissions bool // restore permissions
	Notify      bool // send shared-link notifications
	Changed     bool // restore items changed since the restore point
	Deleted     bool // restore items deleted since
	// Merge adds the restored version as the newest one; otherwise it replaces the latest.
	Merge  bool
	Reason string
}

// RestoreSharePoint restores documents (kind Documents) or list items
// (Items) of the site and returns the id of the restore session. It is never retried.
//
// VB365: POST …/Sites/{siteId}/Documents/operatorRestore, …/Sites/{siteId}/Items/operatorRestore
func (d *Docs) RestoreSharePoint(ctx context.Context, kind DocKind, opts SharePointRestoreOptions) (string, error) {
	configs := make([]map[string]any, len(opts.Docs))
	field, key := "documentsRestoreConfigs", "document"
	if kind == Items {
		field, key = "itemsRestoreConfigs", "item"
	}
	for i, r := range opts.Docs {
		configs[i] = map[string]any{key: r.Doc.echo(), "documentVersion": versionName(r.AllVersions)}
	}
	last := "Overwrite"
	if opts.Merge {
		last = "Merge"
	}
	body := map[string]any{field: configs, "restorePermissions": opts.Permissions, "sendSharedLinksNotification": opts.Notify,
		"restoreChangedItems": opts.Changed, "restoreDeletedItems": opts.Deleted, "documentLastVersionAction": last}
	if opts.List != "" {
		body["list"] = opts.List
	}
	if opts.Reason != "" {
		body["reason"] = opts.Reason
	}
	var out struct {
		SessionID string `json:"sessionId"`
	}
	if err := d.o.post(ctx, d.base+"/"+string(kind)+"/operatorRestore", body, &out); err != nil {
		return "", err
	}
	return out.SessionID, nil
}

// SaveDocument downloads a document as it is, in version n (0: the version
// of the restore point), or as a ZIP of it.
//
// VB365: POST …/Documents/{documentId}/save, …/Documents/{documentId}/Versions/{versionId}/save
func (d *Docs) SaveDocument(ctx context.Context, id string, n int, asZip bool) (*Download, error) {
	p := d.base + pathf("/Documents/%s/save", id)
	if n > 0 {
		p = d.base + pathf("/Documents/%s/Versions/%s/save", id, strconv.Itoa(n))
	}
	return d.o.download(ctx, request{Method: "POST", Path: p, Body: map[string]bool{"asZip": asZip}})
}

// SaveDocuments downloads documents as a ZIP.
//
// VB365: POST …/Documents/save
func (d *Docs) SaveDocuments(ctx context.Context, docs []Doc) (*Download, error) {
	return d.o.download(ctx, request{Method: "POST", Path: d.base + "/Documents/save", Body: map[string]any{"documents": echoes(docs)}})
}

// SaveFolders downloads folders with everything in them as a ZIP.
//
// VB365: POST …/Folders/save
func (d *Docs) SaveFolders(ctx context.Context, folders []Doc) (*Download, error) {
	return d.o.download(ctx, request{Method: "POST", Path: d.base + "/Folders/save", Body: map[string]any{"folders": echoes(folders)}})
}

// SaveFolder downloads a folder as a ZIP.
//
// VB365: POST …/Folders/{folderId}/save
func (d *Docs) SaveFolder(ctx context.Context, id string) (*Download, error) {
	return d.o.download(ctx, request{Method: "POST", Path: d.base + pathf("/Folders/%s/save", id)})
}

// SaveLibrary downloads a SharePoint document library as a ZIP.
//
// VB365: POST …/Sites/{siteId}/Libraries/{libraryId}/save
func (d *Docs) SaveLibrary(ctx context.Context, id string) (*Download, error) {
	return d.o.download(ctx, request{Method: "POST", Path: d.base + pathf("/Libraries/%s/save", id)})
}

// SaveAttachments downloads attachments of a list item as a ZIP (all of them when ids is empty).
//
// VB365: POST …/Sites/{siteId}/Items/{itemId}/Attachments/save
func (d *Docs) SaveAttachments(ctx context.Context, item string, ids []string) (*Download, error) {
	refs := make([]map[string]string, len(ids))
	for i, id := range ids {
		refs[i] = map[string]string{"id": id}
	}
	return d.o.download(ctx, request{Method: "POST", Path: d.base + pathf("/Items/%s/Attachments/save", item),
		Body: map[string]any{"attachments": refs}})
}

// SaveAttachment downloads one attachment of a list item as it is.
//
// VB365: POST …/Sites/{siteId}/Items/{itemId}/Attachments/{attachmentId}/save
func (d *Docs) SaveAttachment(ctx context.Context, item, id string) (*Download, error) {
	return d.o.download(ctx, request{Method: "POST", Path: d.base + pathf("/Items/%s/Attachments/%s/save", item, id)})
}

func echoes(docs []Doc) []any {
	out := make([]any, len(docs))
	for i := range docs {
		out[i] = docs[i].echo()
	}
	return out
}
