package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v5"

	"github.com/openrestore/portal/templates"
	"github.com/openrestore/portal/veeamapi"
)

const (
	// maxRestoreItems is the most items one restore takes. VB365 has no
	// operator restore of a whole folder: every item id travels in the request.
	maxRestoreItems = 10_000
	previewItems    = 5
	maxFolderName   = 255
)

// selection is the items a form chose: listed one by one, or "all" of a
// folder or of a search, which the portal lists again when it acts.
type selection struct {
	ids    []string
	all    bool
	folder string      // with all: every item of this folder
	search *mailSearch // with all: every result of this search
	hidden []templates.Hidden
}

// readSelection reads the selection of a list's form.
func readSelection(form url.Values, loc *time.Location) (selection, error) {
	var s selection
	switch form.Get("scope") {
	case "all":
		s.all = true
		s.hidden = []templates.Hidden{{Name: "scope", Value: "all"}}
		switch {
		case form.Get("all_folder") != "":
			id, err := unkey(form.Get("all_folder"))
			if err != nil {
				return s, badRequest("The form names a folder the portal does not know.")
			}
			s.folder = id
			s.hidden = append(s.hidden, templates.Hidden{Name: "all_folder", Value: form.Get("all_folder")})
		case form.Get("all_search") == "1":
			ms, err := readSearch(func(f string) string { return form.Get("s_" + f) }, loc)
			if errors.Is(err, errSearchEmpty) {
				return s, badRequest("The search to restore the results of is empty.")
			}
			if err != nil {
				return s, err
			}
			s.search = &ms
			s.hidden = append(s.hidden, templates.Hidden{Name: "all_search", Value: "1"})
			for _, f := range searchFields {
				if v := ms.params.Get(f); v != "" {
					s.hidden = append(s.hidden, templates.Hidden{Name: "s_" + f, Value: v})
				}
			}
		default:
			return s, badRequest("The form does not say which items “all” means.")
		}
	default:
		keys := form["item"]
		if len(keys) == 0 {
			return s, &Error{Status: http.StatusBadRequest, Title: "Nothing selected",
				Message: "Tick the items to act on first, then choose what to do with them."}
		}
		if len(keys) > maxRestoreItems {
			return s, badRequest(fmt.Sprintf("Choose at most %s items at once.", thousands(maxRestoreItems)))
		}
		seen := make(map[string]bool, len(keys))
		s.hidden = []templates.Hidden{{Name: "scope", Value: "selected"}}
		for _, k := range keys {
			id, err := unkey(k)
			if err != nil {
				return s, badRequest("The form names an item the portal does not know.")
			}
			if seen[id] {
				continue
			}
			seen[id] = true
			s.ids = append(s.ids, id)
			s.hidden = append(s.hidden, templates.Hidden{Name: "item", Value: k})
		}
	}
	return s, nil
}

// resolve lists the items of a selection: their ids, and the names of the
// first few to show. An "all" that holds more than maxRestoreItems is refused
// with what to do instead.
func (h *Handler) resolve(ctx context.Context, ref mailboxRef, s selection) (ids, preview []string, err error) {
	if !s.all {
		n := min(len(s.ids), previewItems)
		preview = make([]string, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				it, err := ref.data.Item(ctx, s.ids[i])
				if err != nil {
					errs[i] = err
					return
				}
				preview[i] = itemTitle(it)
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			if errors.Is(err, veeamapi.ErrNotFound) {
				return nil, nil, &Error{Status: http.StatusNotFound, Title: "An item is not in this restore point", Err: err,
					Message: "One of the items you chose is not in this restore point. Go back and choose again."}
			}
			return nil, nil, err
		}
		return s.ids, preview, nil
	}
	list := func(ctx context.Context, p veeamapi.PageOptions) (*veeamapi.Page[veeamapi.Item], error) {
		if s.search != nil {
			return ref.data.Search(ctx, s.search.folder, s.search.query, p)
		}
		return ref.data.Items(ctx, s.folder, p)
	}
	for it, err := range veeamapi.All(ctx, 1000, list) {
		if err != nil {
			return nil, nil, err
		}
		ids = append(ids, it.ID)
		if len(preview) < previewItems {
			preview = append(preview, itemTitle(&it))
		}
		if len(ids) > maxRestoreItems {
			what := "This folder holds"
			if s.search != nil {
				what = "This search finds"
			}
			return nil, nil, &Error{Status: http.StatusUnprocessableEntity, Title: "Too many items for one restore",
				Message: fmt.Sprintf("%s more than %s items, and one restore takes at most %s. Narrow it down with the search (a date range, a sender) and restore the results in parts.",
					what, thousands(maxRestoreItems), thousands(maxRestoreItems))}
		}
	}
	if len(ids) == 0 {
		return nil, nil, &Error{Status: http.StatusUnprocessableEntity, Title: "Nothing to restore",
			Message: "There are no items to restore here any more. Go back and choose again."}
	}
	return ids, preview, nil
}

// mailKind is the restore of mail items: a mailbox's wizard, and the
// restore list's mail groups.
type mailKind struct {
	h   *Handler
	ref mailboxRef
	loc *time.Location
}

func (h *Handler) mailKind(c *echo.Context) (restoreKind, error) {
	ref, err := h.mailboxRef(c)
	if err != nil {
		return nil, err
	}
	return mailKind{h: h, ref: ref, loc: h.zone(c)}, nil
}

func (k mailKind) base() string     { return k.ref.base }
func (k mailKind) workload() string { return "exchange" }
func (k mailKind) subject() string  { return k.ref.mailbox }

func (k mailKind) choose(form url.Values) (url.Values, error) {
	sel, err := readSelection(form, k.loc)
	if err != nil {
		return nil, err
	}
	return hiddenValues(sel.hidden), nil
}

func (k mailKind) prepare(c *echo.Context, chosen url.Values) (*wizard, error) {
	ctx := c.Request().Context()
	sel, err := readSelection(chosen, k.loc)
	if err != nil {
		return nil, err
	}
	mb, err := k.h.cachedMailbox(ctx, userFrom(c).OID, k.ref)
	if err != nil {
		return nil, err
	}
	ids, names, err := k.h.resolve(ctx, k.ref, sel)
	if err != nil {
		return nil, err
	}
	w := &wizard{subject: mailboxLabel(mb), subjectID: k.ref.mailbox, heading: "Restore " + countLabel(len(ids)),
		intro: "From " + mailboxLabel(mb) + ":", backLabel: mailboxLabel(mb), items: auditItems(ids, names), count: len(ids),
		forOthers: !ownMailbox(c, mb), pointTime: k.ref.session.PointTime}
	w.preview, w.more = names, len(ids)-len(names)
	w.options = func(form url.Values, first bool) restoreOptions {
		o := mailOptions{k: k, ids: ids, missing: true, changed: true}
		if !first {
			o = mailOptions{k: k, ids: ids, toFolder: form.Get("target") == "folder", folderName: strings.TrimSpace(form.Get("folder_name")),
				missing: form.Get("missing") == "1", changed: form.Get("changed") == "1", unread: form.Get("unread") == "1"}
		}
		return o
	}
	return w, nil
}

// hiddenValues turns a selection's hidden fields into form values.
func hiddenValues(hidden []templates.Hidden) url.Values {
	v := url.Values{}
	for _, f := range hidden {
		v.Add(f.Name, f.Value)
	}
	return v
}

// mailOptions is the mail wizard's choices.
type mailOptions struct {
	k          mailKind
	ids        []string
	toFolder   bool
	folderName string
	missing    bool
	changed    bool
	unread     bool
}

func (o mailOptions) problems() map[string]string {
	p := map[string]string{}
	switch {
	case o.toFolder:
		if e := nameProblem(o.folderName, "folder"); e != "" {
			p["folder-name"] = e
		}
	case !o.missing && !o.changed:
		p["which"] = "Back where they were, choose “missing items”, “changed items” or both: with neither, nothing would be restored."
	}
	return p
}

func (o mailOptions) describe() (target, options string) {
	target = "Original location"
	if o.toFolder {
		target = "New folder “" + o.folderName + "”"
	}
	var opts []string
	if o.toFolder {
		opts = append(opts, "copies in a new folder")
	} else {
		opts = appendIf(opts, o.missing, "missing items")
		opts = appendIf(opts, o.changed, "changed items")
	}
	opts = appendIf(opts, o.unread, "marked as unread")
	return target, sentence(opts)
}

func (o mailOptions) fields(problems map[string]string) templ.Component {
	return templates.MailRestoreOptions(templates.MailOptionsView{ToFolder: o.toFolder, FolderName: o.folderName,
		Missing: o.missing, Changed: o.changed, Unread: o.unread, Errors: problems})
}

func (o mailOptions) plans(w *wizard, reason string) []restorePlan {
	target, options := o.describe()
	opts := veeamapi.RestoreItemsOptions{Items: o.ids, MarkUnread: o.unread, Reason: reason}
	if o.toFolder {
		opts.Folder = o.folderName
	} else {
		opts.DeletedItems, opts.ChangedItems = o.missing, o.changed
	}
	mailbox := o.k.ref.data
	return []restorePlan{w.plan("exchange", target, options, reason, len(o.ids), w.items, func(ctx context.Context) (string, error) {
		return mailbox.Restore(ctx, opts)
	})}
}

// appendIf appends s when cond holds.
func appendIf(list []string, cond bool, s string) []string {
	if cond {
		return append(list, s)
	}
	return list
}

// sentence joins options as a sentence: "Missing items, changed items".
func sentence(opts []string) string {
	s := strings.Join(opts, ", ")
	if s == "" {
		return "Nothing chosen"
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// ownMailbox reports whether the mailbox (or archive) is the signed-in user's.
func ownMailbox(c *echo.Context, mb *veeamapi.Mailbox) bool {
	u := userFrom(c)
	return u != nil && strings.EqualFold(mb.Email, u.UPN)
}

func countLabel(n int) string {
	if n == 1 {
		return "1 item"
	}
	return thousands(n) + " items"
}

func mailboxLabel(mb *veeamapi.Mailbox) string {
	if mb.IsArchive {
		return mb.Name + " (archive)"
	}
	return mb.Name
}

// postForm parses the request body's form; the query string is not part of it.
func postForm(c *echo.Context) (url.Values, error) {
	if _, err := c.FormValues(); err != nil {
		return nil, badRequest("The form could not be read.")
	}
	return c.Request().PostForm, nil
}
