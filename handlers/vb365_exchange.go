package handlers

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/openrestore/portal/templates"
	"github.com/openrestore/portal/veeamapi"
)

const itemsPageSize = 100

// key turns a VB365 id (which may hold '/', '+' or '=') into one URL path
// segment and form value: unpadded base64url. unkey reverses it.
func key(id string) string { return base64.RawURLEncoding.EncodeToString([]byte(id)) }

var keyPattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

const maxKeyLength = 2048

func unkey(s string) (string, error) {
	if len(s) > maxKeyLength || !keyPattern.MatchString(s) {
		return "", errors.New("not an id")
	}
	// Strict: a key with stray trailing bits would be a second name for the same id.
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) == 0 {
		return "", errors.New("not an id")
	}
	return string(b), nil
}

// mailboxRef is the mailbox a request is about, in a restore session the
// user opened.
type mailboxRef struct {
	session openedSession
	mailbox string
	base    string // /sessions/<sid>/mailboxes/<mid>
	data    *veeamapi.MailboxData
}

func (r mailboxRef) folderURL(folder string) string { return r.base + "/folders/" + key(folder) }
func (r mailboxRef) itemURL(item string) string     { return r.base + "/items/" + key(item) }

// mailboxRef checks the session is one this user opened for Exchange and the
// mailbox id has the right shape; VB365 decides whether the mailbox is in scope.
func (h *Handler) mailboxRef(c *echo.Context) (mailboxRef, error) {
	sid, mid := c.Param("id"), c.Param("mb")
	entry, ok, err := h.opened(c, sid)
	if err != nil {
		return mailboxRef{}, err
	}
	if !ok || entry.Workload != "exchange" || !sessionIDPattern.MatchString(mid) {
		h.log.WarnContext(c.Request().Context(), "authz_fail", "resource", "mailbox", "oid", userFrom(c).OID)
		return mailboxRef{}, notFoundOrNotYours(fmt.Errorf("mailbox %q of session %q is not this user's", mid, sid))
	}
	return h.mailboxRefIn(entry, mid), nil
}

// mailboxRefIn is a mailbox of a restore session the user opened.
func (h *Handler) mailboxRefIn(session openedSession, mailbox string) mailboxRef {
	return mailboxRef{session: session, mailbox: mailbox, data: h.operator().MailboxData(session.ID, mailbox),
		base: "/sessions/" + url.PathEscape(session.ID) + "/mailboxes/" + url.PathEscape(mailbox)}
}

func (h *Handler) pathKey(c *echo.Context, name string) (string, error) {
	id, err := unkey(c.Param(name))
	if err != nil {
		return "", notFoundOrNotYours(err)
	}
	return id, nil
}

// mailbox handles GET /sessions/:id/mailboxes/:mb: it opens the Inbox.
func (h *Handler) mailbox(c *echo.Context) error {
	ref, err := h.mailboxRef(c)
	if err != nil {
		return err
	}
	top, err := h.cachedFolders(c.Request().Context(), userFrom(c).OID, ref, "root")
	if err != nil {
		return err
	}
	if len(top) == 0 {
		return &Error{Status: http.StatusNotFound, Title: "This mailbox is empty", Message: "The restore point holds no folders of this mailbox."}
	}
	open := top[0]
	for _, f := range top {
		if f.Category == "Inbox" {
			open = f
		}
	}
	return c.Redirect(http.StatusSeeOther, ref.folderURL(open.ID))
}

// frame is the part of every mailbox page that does not depend on the open
// folder or item: the mailbox, its top-level folders and the search form.
func (h *Handler) frame(c *echo.Context, ref mailboxRef, current string) (templates.MailboxView, error) {
	ctx := c.Request().Context()
	oid := userFrom(c).OID
	var (
		mb   *veeamapi.Mailbox
		top  []veeamapi.Folder
		errs [2]error
		wg   sync.WaitGroup
	)
	wg.Go(func() { mb, errs[0] = h.cachedMailbox(ctx, oid, ref) })
	wg.Go(func() { top, errs[1] = h.cachedFolders(ctx, oid, ref, "root") })
	wg.Wait()
	if err := firstError(errs[:]...); err != nil {
		return templates.MailboxView{}, err
	}
	loc := h.zone(c)
	pt := ref.session.PointTime.In(loc)
	return templates.MailboxView{
		SessionURL: "/sessions/" + url.PathEscape(ref.session.ID),
		PointLabel: pt.Format("Monday 2 January 2006, 15:04 MST"), PointISO: ref.session.PointTime.UTC().Format(time.RFC3339),
		Name: mb.Name, Email: mb.Email, Archive: mb.IsArchive,
		Folders:   folderNodes(ref, top, current),
		Search:    templates.SearchView{Action: ref.base + "/search", TimeZone: loc.String()},
		CSRFToken: h.csrfToken(ctx),
	}, nil
}

func folderNodes(ref mailboxRef, folders []veeamapi.Folder, current string) []templates.FolderNode {
	out := make([]templates.FolderNode, 0, len(folders))
	for _, f := range folders {
		out = append(out, templates.FolderNode{
			Key: key(f.ID), Name: f.Name, URL: ref.folderURL(f.ID), ChildrenURL: ref.folderURL(f.ID) + "/subfolders",
			Kind: folderKind(f), Current: f.ID == current,
		})
	}
	return out
}

func folderKind(f veeamapi.Folder) string {
	switch f.Type {
	case "Appointment":
		return "calendar"
	case "Contact":
		return "contacts"
	case "Task":
		return "tasks"
	case "StickyNote":
		return "notes"
	}
	return "mail"
}

// folderPage handles GET /sessions/:id/mailboxes/:mb/folders/:folder[?offset=N|last]:
// the folder's items, a page at a time; an htmx request gets the list only.
func (h *Handler) folderPage(c *echo.Context) error {
	ref, err := h.mailboxRef(c)
	if err != nil {
		return err
	}
	folderID, err := h.pathKey(c, "folder")
	if err != nil {
		return err
	}
	ctx, oid := c.Request().Context(), userFrom(c).OID
	list := func(ctx context.Context, p veeamapi.PageOptions) (*veeamapi.Page[veeamapi.Item], error) {
		return ref.data.Items(ctx, folderID, p)
	}
	partial := isPartial(c) && c.Request().Header.Get("HX-Target") == templates.ItemListID
	// The items, the mailbox around them, the folder and its subfolders, at
	// once. The items (a call to VB365 every time, and their decoding) are
	// fetched on the request's own goroutine, whose stack has grown for such
	// work already: on a new one, growing its stack cost 1-2 % of the page.
	var (
		page   templates.ItemListView
		v      templates.MailboxView
		folder *veeamapi.Folder
		sub    []veeamapi.Folder
		errs   [4]error
		wg     sync.WaitGroup
	)
	if !partial {
		wg.Go(func() { v, errs[1] = h.frame(c, ref, folderID) })
		wg.Go(func() { folder, errs[2] = h.cachedFolder(ctx, oid, ref, folderID) })
		wg.Go(func() { sub, errs[3] = h.cachedFolders(ctx, oid, ref, folderID) })
	}
	page, errs[0] = h.itemPage(c, ref, list, ref.folderURL(folderID), url.Values{}, "This folder is empty in the restore point.")
	wg.Wait()
	if err := firstError(errs[:]...); err != nil {
		return err
	}
	page.AllScope = []templates.Hidden{{Name: "all_folder", Value: key(folderID)}}
	page.AllLabel = "Restore the whole folder…"
	if partial {
		return render(c, http.StatusOK, templates.ItemList(page))
	}
	v.Subfolders = folderNodes(ref, sub, "")
	v.Heading, v.List = folder.Name, &page
	v.Search.FolderKey, v.Search.FolderName = key(folderID), folder.Name
	if folder.Actions.Has("exportToPst") {
		v.ExportFolder = ref.folderURL(folderID) + "/export"
	}
	return render(c, http.StatusOK, templates.MailboxPage(h.meta(c, folder.Name+" · "+v.Name), v))
}

// firstError is the first of errs that is not nil: the one to show when
// parallel calls fail (they usually fail alike).
func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// lister fetches one page of items.
type lister func(ctx context.Context, p veeamapi.PageOptions) (*veeamapi.Page[veeamapi.Item], error)

// itemPage fetches the page of mail items ?offset= asks for and lays it out
// with the controls that act on a selection.
func (h *Handler) itemPage(c *echo.Context, ref mailboxRef, list lister, base string, extra url.Values, empty string) (templates.ItemListView, error) {
	res, err := fetchPage(c, h.lastPages, list, base, extra)
	if err != nil {
		return templates.ItemListView{}, err
	}
	v := templates.ItemListView{
		Caption: "Items", EmptyText: empty, CSRFToken: h.csrfToken(c.Request().Context()),
		RestoreURL: ref.base + "/restore/new", DownloadURL: ref.base + "/download", ListURL: ref.base + "/restore-list",
		Rows: itemRows(ref, res.items, h.zone(c), c.QueryParam("item")), Pager: res.pager, Here: c.Request().URL.RequestURI(),
	}
	for _, it := range res.items {
		v.CanZip = v.CanZip || it.Can("save")
		v.CanPST = v.CanPST || it.Can("exportToPst")
	}
	return v, nil
}

// fetched is one page of a list, ready to show.
type fetchedPage[T any] struct {
	items  []T
	offset int
	setID  string
	pager  templates.ListPager
}

// fetchPage fetches the page ?offset= asks for ("last" finds the last page,
// which VB365 cannot say directly) and links the first, previous, next and
// last pages. extra is kept in those links.
//
// Where a list's last page is, once known, is remembered in lasts for the
// user and the restore session, and looked for ahead when the first page
// of a list (not of a search: each probe would run it again) shows there
// is more; see lastPages.
func fetchPage[T any](c *echo.Context, lasts *lastPages, list func(context.Context, veeamapi.PageOptions) (*veeamapi.Page[T], error), base string, extra url.Values) (fetchedPage[T], error) {
	ctx := c.Request().Context()
	var res fetchedPage[T]
	lastKey := ""
	if u := userFrom(c); u != nil {
		lastKey = u.TenantID + "\x00" + u.OID + "\x00" + base + "?" + extra.Encode()
	}
	probe := func(ctx context.Context, o int) (bool, error) {
		p, err := list(ctx, veeamapi.PageOptions{Offset: o, Limit: 1})
		return err == nil && len(p.Results) > 0, err
	}
	switch raw := c.QueryParam("offset"); raw {
	case "":
	case "last":
		var err error
		if lastKey == "" {
			res.offset, err = lastOffset(ctx, itemsPageSize, func(o int) (bool, error) { return probe(ctx, o) })
		} else {
			res.offset, err = lasts.find(ctx, lastKey, false, probe)
		}
		if err != nil {
			return res, err
		}
	default:
		n, err := parseOffset(raw)
		if err != nil {
			return res, err
		}
		res.offset = n
	}
	p, err := list(ctx, veeamapi.PageOptions{Offset: res.offset, Limit: itemsPageSize})
	if err != nil {
		return res, err
	}
	res.items, res.setID = p.Results, p.SetID
	offset := res.offset
	link := func(o string) string {
		q := url.Values{}
		for k, v := range extra {
			q[k] = v
		}
		if p.SetID != "" {
			q.Set("set", p.SetID)
		}
		if o != "" {
			q.Set("offset", o)
		}
		if len(q) == 0 {
			return base
		}
		return base + "?" + q.Encode()
	}
	_, more := p.Next()
	switch {
	case lastKey == "":
	case !more && (len(p.Results) > 0 || offset == 0):
		lasts.endAt(lastKey, offset+len(p.Results))
	case more && offset == 0 && !strings.HasSuffix(base, "/search"):
		lasts.find(ctx, lastKey, true, probe)
	}
	if offset > 0 {
		res.pager.FirstURL, res.pager.PrevURL = link(""), link(strconv.Itoa(max(0, offset-itemsPageSize)))
		if offset <= itemsPageSize {
			res.pager.PrevURL = link("")
		}
	}
	if more {
		res.pager.NextURL, res.pager.LastURL = link(strconv.Itoa(offset+len(p.Results))), link("last")
	}
	if len(p.Results) > 0 {
		res.pager.Summary = fmt.Sprintf("Items %s to %s", thousands(offset+1), thousands(offset+len(p.Results)))
	}
	return res, nil
}

// thousands writes n with comma separators: 100,000.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// subfolders handles GET …/folders/:folder/subfolders: the next level of the tree, for htmx.
func (h *Handler) subfolders(c *echo.Context) error {
	ref, err := h.mailboxRef(c)
	if err != nil {
		return err
	}
	folderID, err := h.pathKey(c, "folder")
	if err != nil {
		return err
	}
	sub, err := h.cachedFolders(c.Request().Context(), userFrom(c).OID, ref, folderID)
	if err != nil {
		return err
	}
	if len(sub) == 0 {
		return render(c, http.StatusOK, templates.NoSubfolders("this folder"))
	}
	return render(c, http.StatusOK, templates.FolderList(folderNodes(ref, sub, "")))
}

// itemDetailPage handles GET …/items/:item: an item's details; htmx gets the detail pane only.
func (h *Handler) itemDetailPage(c *echo.Context) error {
	ref, err := h.mailboxRef(c)
	if err != nil {
		return err
	}
	itemID, err := h.pathKey(c, "item")
	if err != nil {
		return err
	}
	it, err := ref.data.Item(c.Request().Context(), itemID)
	if err != nil {
		return err
	}
	d := itemDetail(ref, it, h.zone(c))
	d.CSRFToken = h.csrfToken(c.Request().Context())
	if isPartial(c) {
		return render(c, http.StatusOK, templates.ItemDetail(d))
	}
	v, err := h.frame(c, ref, "")
	if err != nil {
		return err
	}
	d.BackURL = ref.base
	v.Heading, v.Detail = "Item", &d
	return render(c, http.StatusOK, templates.MailboxPage(h.meta(c, it.Subject+" · "+v.Name), v))
}
