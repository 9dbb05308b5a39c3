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
	"unicode/utf8"

	"github.com/labstack/echo/v5"

	"github.com/openrestore/portal/audit"
	"github.com/openrestore/portal/history"
	"github.com/openrestore/portal/templates"
	"github.com/openrestore/portal/veeamapi"
)

const (
	// maxRestoreItems is the most items one restore takes. VB365 has no
	// operator restore of a whole folder: every item id travels in the request.
	maxRestoreItems = 10_000
	previewItems    = 5
	maxReasonLength = 500
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
	op := h.operator()
	if !s.all {
		n := min(len(s.ids), previewItems)
		preview = make([]string, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				it, err := op.Item(ctx, ref.session.ID, ref.mailbox, s.ids[i])
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
	const pageSize = 1000
	for offset := 0; ; offset += pageSize {
		var p *veeamapi.Page[veeamapi.Item]
		opts := veeamapi.PageOptions{Offset: offset, Limit: pageSize}
		if s.search != nil {
			p, err = op.SearchMailbox(ctx, ref.session.ID, ref.mailbox, s.search.folder, s.search.query, opts)
		} else {
			p, err = op.Items(ctx, ref.session.ID, ref.mailbox, s.folder, opts)
		}
		if err != nil {
			return nil, nil, err
		}
		for _, it := range p.Results {
			ids = append(ids, it.ID)
			if len(preview) < previewItems {
				preview = append(preview, itemTitle(&it))
			}
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
		if _, more := p.Next(); !more || len(p.Results) == 0 {
			break
		}
	}
	if len(ids) == 0 {
		return nil, nil, &Error{Status: http.StatusUnprocessableEntity, Title: "Nothing to restore",
			Message: "There are no items to restore here any more. Go back and choose again."}
	}
	return ids, preview, nil
}

// restoreForm is the wizard's choices.
type restoreForm struct {
	toFolder   bool
	folderName string
	missing    bool
	changed    bool
	unread     bool
	reason     string
}

// readRestoreForm reads the wizard; first is true when the wizard has not
// been shown yet, and the defaults apply.
func readRestoreForm(form url.Values) (f restoreForm, first bool) {
	if form.Get("confirm") == "" && form.Get("target") == "" {
		return restoreForm{missing: true, changed: true}, true
	}
	return restoreForm{
		toFolder:   form.Get("target") == "folder",
		folderName: strings.TrimSpace(form.Get("folder_name")),
		missing:    form.Get("missing") == "1",
		changed:    form.Get("changed") == "1",
		unread:     form.Get("unread") == "1",
		reason:     strings.TrimSpace(form.Get("reason")),
	}, false
}

// problems checks the wizard's choices.
func (f restoreForm) problems(reasonRequired bool) []string {
	var out []string
	if f.toFolder {
		switch {
		case f.folderName == "":
			out = append(out, "Give the new folder a name.")
		case utf8.RuneCountInString(f.folderName) > maxFolderName:
			out = append(out, fmt.Sprintf("The folder name is longer than %d characters.", maxFolderName))
		case strings.ContainsAny(f.folderName, `/\`) || strings.ContainsFunc(f.folderName, isControl):
			out = append(out, "The folder name cannot contain slashes or control characters.")
		}
	} else if !f.missing && !f.changed {
		out = append(out, "Back where they were, choose “missing items”, “changed items” or both: with neither, nothing would be restored.")
	}
	if reasonRequired && f.reason == "" {
		out = append(out, "Say why you are restoring: a reason is required here.")
	}
	if utf8.RuneCountInString(f.reason) > maxReasonLength {
		out = append(out, fmt.Sprintf("The reason is longer than %d characters.", maxReasonLength))
	}
	if strings.ContainsFunc(f.reason, func(r rune) bool { return isControl(r) && r != '\n' && r != '\r' && r != '\t' }) {
		out = append(out, "The reason cannot contain control characters.")
	}
	return out
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }

func (f restoreForm) target() string {
	if f.toFolder {
		return "New folder “" + f.folderName + "”"
	}
	return "Original location"
}

func (f restoreForm) options() string {
	var o []string
	if f.toFolder {
		o = append(o, "copies in a new folder")
	} else {
		if f.missing {
			o = append(o, "missing items")
		}
		if f.changed {
			o = append(o, "changed items")
		}
	}
	if f.unread {
		o = append(o, "marked as unread")
	}
	s := strings.Join(o, ", ")
	if s == "" {
		return "Nothing chosen"
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// reasonRequired applies the configured policy: a reason always, never, or
// when the mailbox is not the user's own.
func (h *Handler) reasonRequired(c *echo.Context, mb *veeamapi.Mailbox) bool {
	switch h.cfg.RestoreReason {
	case "required":
		return true
	case "others":
		return !ownMailbox(c, mb)
	}
	return false
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

// restoreWizard handles POST …/restore/new, and POST …/restore when its form
// needs correcting: the selection, where to restore it and how.
func (h *Handler) restoreWizard(c *echo.Context) error {
	return h.restore(c, false)
}

// startRestore handles POST …/restore: it checks the wizard, starts the
// restore in VB365, records it, and goes to its progress page.
func (h *Handler) startRestore(c *echo.Context) error {
	return h.restore(c, true)
}

func (h *Handler) restore(c *echo.Context, submit bool) error {
	ref, err := h.mailboxRef(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	form, err := postForm(c)
	if err != nil {
		return err
	}
	sel, err := readSelection(form, h.zone(c))
	if err != nil {
		return err
	}
	mb, err := h.cachedMailbox(ctx, userFrom(c).OID, ref)
	if err != nil {
		return err
	}
	ids, preview, err := h.resolve(ctx, ref, sel)
	if err != nil {
		return err
	}
	f, first := readRestoreForm(form)
	required := h.reasonRequired(c, mb)
	var problems []string
	if submit && !first {
		problems = f.problems(required)
	}
	ae := auditOf(c)
	ae.Subject, ae.SubjectID, ae.Items, ae.ItemCount = mailboxLabel(mb), ref.mailbox, auditItems(ids, preview), len(ids)
	ae.Options, ae.Reason = f.target()+"; "+f.options(), f.reason
	ae.skip = ae.skip || first
	if len(problems) > 0 {
		ae.Outcome, ae.Detail = audit.Refused, strings.Join(problems, " ")
	}
	if !submit || first || len(problems) > 0 {
		v := templates.RestoreWizardView{
			Mailbox: mailboxLabel(mb), MailboxURL: ref.base, Action: ref.base + "/restore",
			CountLabel: countLabel(len(ids)), Preview: preview, More: len(ids) - len(preview), Selection: sel.hidden,
			FolderName: f.folderName, Changed: f.changed, Missing: f.missing, Unread: f.unread,
			Reason: f.reason, ReasonRequired: required, Errors: problems, CSRFToken: h.auth.CSRFToken(ctx),
		}
		if f.toFolder {
			v.Target = "folder"
		}
		status := http.StatusOK
		if len(problems) > 0 {
			status = http.StatusUnprocessableEntity
		}
		return render(c, status, templates.RestoreWizardPage(h.meta(c, "Restore "+v.CountLabel), v))
	}
	id, err := h.launchMailRestore(c, ref, mb, ids, f)
	if id != "" {
		ae.Outcome, ae.SessionID = audit.Started, id
	}
	if err != nil {
		return err
	}
	return seeOther(c, "/restores/"+url.PathEscape(id))
}

// launchMailRestore starts a restore of mail items and records it in My restores.
func (h *Handler) launchMailRestore(c *echo.Context, ref mailboxRef, mb *veeamapi.Mailbox, ids []string, f restoreForm) (string, error) {
	ctx := c.Request().Context()
	opts := veeamapi.RestoreItemsOptions{Items: ids, MarkUnread: f.unread, Reason: f.reason}
	if f.toFolder {
		opts.Folder = f.folderName
	} else {
		opts.DeletedItems, opts.ChangedItems = f.missing, f.changed
	}
	// A restore is not half-started: the call outlives a browser that goes away.
	id, err := h.operator().RestoreItems(context.WithoutCancel(ctx), ref.session.ID, ref.mailbox, opts)
	if err != nil {
		return "", restoreRefused(err)
	}
	rec := history.Record{ID: id, Workload: "exchange", Source: mailboxLabel(mb), SourceID: ref.mailbox, Items: len(ids),
		Target: f.target(), Options: f.options(), Reason: f.reason, ForOthers: !ownMailbox(c, mb), PointTime: ref.session.PointTime}
	return id, h.recordRestore(c, rec, "target", map[bool]string{true: "folder", false: "original"}[f.toFolder])
}

// restoreRefused explains a restore VB365 refused as a bad request; other
// errors go on to the error handler as they are.
func restoreRefused(err error) error {
	if errors.Is(err, veeamapi.ErrBadRequest) {
		return &Error{Status: http.StatusBadGateway, Title: "The backup server refused this restore", Err: err,
			Message: "Nothing was restored. Check the options and try again; if it goes on, tell your helpdesk."}
	}
	return err
}

// recordRestore puts a restore that VB365 has started into My restores, as
// the signed-in user's, and logs it. The restore runs regardless of the
// outcome: a failure to record it says so rather than pretend it failed.
func (h *Handler) recordRestore(c *echo.Context, rec history.Record, attrs ...any) error {
	ctx := c.Request().Context()
	u := userFrom(c)
	rec.TenantID, rec.UserOID, rec.UserUPN = u.TenantID, u.OID, u.UPN
	if rec.Started.IsZero() {
		rec.Started = h.cfg.Now().UTC()
	}
	h.log.InfoContext(ctx, "restore_started", append([]any{"restore_session", rec.ID, "workload", rec.Workload, "source", rec.SourceID,
		"items", rec.Items, "oid", u.OID}, attrs...)...)
	if err := h.history.Add(context.WithoutCancel(ctx), rec); err != nil {
		h.log.ErrorContext(ctx, "restore_history_failed", "restore_session", rec.ID, "error", err)
		return &Error{Status: http.StatusInternalServerError, Title: "The restore started, but the portal could not record it", Err: err,
			Message: "The backup server is restoring. The portal could not add the restore to “My restores”; tell your helpdesk."}
	}
	return nil
}

// postForm parses the request body's form; the query string is not part of it.
func postForm(c *echo.Context) (url.Values, error) {
	if _, err := c.FormValues(); err != nil {
		return nil, badRequest("The form could not be read.")
	}
	return c.Request().PostForm, nil
}
