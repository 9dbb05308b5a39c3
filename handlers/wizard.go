package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v5"

	"github.com/openrestore/portal/audit"
	"github.com/openrestore/portal/authn"
	"github.com/openrestore/portal/restore"
	"github.com/openrestore/portal/store"
	"github.com/openrestore/portal/templates"
)

// The restore wizard, for every workload. A list's form posts what it
// chose to <base>/restore/new; the portal keeps that, with a new one-time
// key, as a draft, and sends the browser to the wizard at
// <base>/restore/<key> (a GET, so Back never asks to resubmit). The wizard
// posts to its own address: problems are kept with what was typed and
// shown again after a redirect; a good form goes through the one restore
// pipeline with the key as its submission key, so a second submit of it
// lands on the restores the first one started. A workload brings a
// restoreKind: what its lists choose, and what restoring that means.

// draftLifetime is how long a wizard's draft is kept.
const draftLifetime = 24 * time.Hour

// restoreKind is what a workload brings to the wizard.
type restoreKind interface {
	// base is the address the wizard's addresses start with.
	base() string
	// workload names the workload; subject is whose data the route is
	// about (the mailbox, OneDrive, site or team id), for the trail.
	workload() string
	subject() string
	// choose reads what a list's form chose, without asking the backup
	// server anything; a form that chose nothing is an error.
	choose(form url.Values) (url.Values, error)
	// prepare reads what was chosen from the backup server: what the
	// wizard shows and what a restore of it would do.
	prepare(c *echo.Context, chosen url.Values) (*wizard, error)
}

// wizard is a prepared restore: what it acts on, and the workload's options.
type wizard struct {
	subject, subjectID string
	heading, intro     string
	backLabel          string
	preview            []string
	more               int
	notes              []string
	items              []audit.Item
	count              int
	forOthers          bool
	pointTime          time.Time
	// options reads the workload's fields from a form (the defaults when
	// the wizard is first shown).
	options func(form url.Values, first bool) restoreOptions
}

// restoreOptions is what a workload's wizard fields chose.
type restoreOptions interface {
	// problems says what to change, by field id ("" for the form).
	problems() map[string]string
	// describe is where to and how, for records and the trail.
	describe() (target, options string)
	// fields are the workload's fields as the form shows them.
	fields(problems map[string]string) templ.Component
	// plans are the restores the backup server is asked for.
	plans(w *wizard, reason string) []restorePlan
}

// newWizard handles POST <base>/restore/new: what a list chose becomes a
// draft, and the browser goes to its wizard.
func (h *Handler) newWizard(c *echo.Context, k restoreKind) error {
	form, err := postForm(c)
	if err != nil {
		return err
	}
	back := backFrom(form, k.base())
	chosen, err := k.choose(form)
	if err != nil {
		return leadBack(err, back)
	}
	chosen.Set("back", back)
	u := userFrom(c)
	now := h.cfg.Now()
	d := store.Draft{Key: newID(), TenantID: u.TenantID, UserOID: u.OID, Selection: chosen, Created: now, Expires: now.Add(draftLifetime)}
	d.Path = k.base() + "/restore/" + d.Key
	if err := h.store.PutDraft(c.Request().Context(), d); err != nil {
		return err
	}
	return seeOther(c, d.Path)
}

// backFrom is where a list's form came from: its "back" field when it is a
// page of the portal, else the source's own page.
func backFrom(form url.Values, base string) string {
	if b, ok := authn.ValidReturnTo(form.Get("back")); ok && b != "/" {
		return b
	}
	return base
}

// leadBack gives an error the way back to where the user was.
func leadBack(err error, back string) error {
	e := classify(err)
	if e.BackURL == "" {
		e.BackURL = back
	}
	return e
}

// draft finds the wizard's draft for the key in the path.
func (h *Handler) draft(c *echo.Context, k restoreKind) (store.Draft, error) {
	key := c.Param("key")
	u := userFrom(c)
	if !sessionIDPattern.MatchString(key) {
		return store.Draft{}, notFoundOrNotYours(fmt.Errorf("draft %q: not a key", key))
	}
	d, err := h.store.Draft(c.Request().Context(), u.TenantID, u.OID, key, h.cfg.Now())
	if errors.Is(err, store.ErrNotFound) || (err == nil && d.Path != k.base()+"/restore/"+key) {
		return d, &Error{Status: http.StatusNotFound, Title: "This restore form has expired", Err: err, BackURL: k.base(),
			Message: "Restore forms are kept for a day. Choose what to restore again."}
	}
	return d, err
}

// showWizard handles GET <base>/restore/<key>.
func (h *Handler) showWizard(c *echo.Context, k restoreKind) error {
	d, err := h.draft(c, k)
	if err != nil {
		return err
	}
	w, err := k.prepare(c, d.Selection)
	if err != nil {
		return leadBack(err, url.Values(d.Selection).Get("back"))
	}
	form, first := url.Values(d.Form), d.Form == nil
	v := h.wizardView(c, d, w, w.options(form, first), form.Get("reason"), d.Problems)
	u := userFrom(c)
	started, err := h.store.Submitted(c.Request().Context(), u.TenantID, u.OID, d.Key)
	if err != nil {
		return err
	}
	for _, r := range started {
		v.Started = append(v.Started, templates.StartedView{URL: "/restores/" + r.ID, Label: restoreTitle(r)})
	}
	return render(c, http.StatusOK, templates.RestoreWizardPage(h.meta(c, v.Heading), v))
}

// wizardView lays out a wizard with what was typed and what to change.
func (h *Handler) wizardView(c *echo.Context, d store.Draft, w *wizard, opts restoreOptions, reason string, problems map[string]string) templates.WizardView {
	back := url.Values(d.Selection).Get("back")
	v := templates.WizardView{
		BackURL: back, BackLabel: w.backLabel, Heading: w.heading, Intro: w.intro, Preview: w.preview, More: w.more, Notes: w.notes,
		Action: d.Path, CSRFToken: h.csrfToken(c.Request().Context()), Options: opts.fields(problems),
		Reason:      templates.ReasonView{Value: reason, Required: h.cfg.RestoreReason.ReasonRequired(w.forOthers), Error: problems["reason"]},
		SubmitLabel: w.heading,
	}
	ids := make([]string, 0, len(problems))
	for id := range problems {
		ids = append(ids, id)
	}
	sort.Strings(ids) // the form-wide problem first, then by field
	for _, id := range ids {
		v.Problems = append(v.Problems, templates.Problem{Field: id, Text: problems[id]})
	}
	return v
}

// submitWizard handles POST <base>/restore/<key>.
func (h *Handler) submitWizard(c *echo.Context, k restoreKind) error {
	ctx := c.Request().Context()
	d, err := h.draft(c, k)
	if err != nil {
		return err
	}
	u := userFrom(c)
	if earlier, err := h.store.Submitted(ctx, u.TenantID, u.OID, d.Key); err != nil || len(earlier) > 0 {
		if err != nil {
			return err
		}
		return seeOther(c, progressURL(earlier))
	}
	form, err := postForm(c)
	if err != nil {
		return err
	}
	w, err := k.prepare(c, d.Selection)
	if err != nil {
		h.auditAttempt(c, k, nil, nil, "", err)
		return leadBack(err, url.Values(d.Selection).Get("back"))
	}
	opts := w.options(form, false)
	reason := strings.TrimSpace(form.Get("reason"))
	problems := opts.problems()
	if p := reasonProblem(reason, h.cfg.RestoreReason.ReasonRequired(w.forOthers)); p != "" {
		problems["reason"] = p
	}
	if len(problems) > 0 {
		h.auditAttempt(c, k, w, opts, reason, &Error{Status: http.StatusUnprocessableEntity, Title: "The form was not complete",
			Message: joinProblems(problems)})
		return h.keepDraft(c, d, form, problems)
	}
	records, err := h.startRestores(c, d.Key, opts.plans(w, reason))
	switch {
	case errors.Is(err, errSubmittedBefore):
		return seeOther(c, progressURL(records))
	case err != nil && len(records) > 0 && records[0].State == restore.Refused:
		// Nothing started: a new draft with what was typed, the reason why
		// next to the form, and a fresh key for the next try.
		e := classify(err)
		next := d
		next.Key = newID()
		next.Path = k.base() + "/restore/" + next.Key
		next.Created = h.cfg.Now()
		next.Expires = next.Created.Add(draftLifetime)
		return h.keepDraft(c, next, form, map[string]string{"": e.Title + ". " + e.Message})
	case err != nil && len(records) == 0:
		return leadBack(err, d.Path) // nothing recorded: the wizard is there to try again
	case err != nil:
		return err // part started: the error says which
	}
	return seeOther(c, progressURL(records))
}

// keepDraft keeps what was typed and what to change in the draft and sends
// the browser (back) to its wizard.
func (h *Handler) keepDraft(c *echo.Context, d store.Draft, form url.Values, problems map[string]string) error {
	typed := url.Values{}
	for k, v := range form {
		if k != "csrf_token" && k != "confirm" {
			typed[k] = v
		}
	}
	d.Form, d.Problems = typed, problems
	if err := h.store.PutDraft(c.Request().Context(), d); err != nil {
		return err
	}
	return seeOther(c, d.Path)
}

// progressURL is where the restores of a submission are followed.
func progressURL(rs []restore.Record) string {
	if len(rs) == 1 {
		return "/restores/" + url.PathEscape(rs[0].ID)
	}
	return "/restores"
}

func joinProblems(problems map[string]string) string {
	var out []string
	for _, p := range problems {
		out = append(out, p)
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// reasonProblem checks a reason against the policy and the product's limits.
func reasonProblem(reason string, required bool) string {
	switch {
	case required && reason == "":
		return "Say why you are restoring: a reason is required here."
	case utf8.RuneCountInString(reason) > restore.MaxReason:
		return fmt.Sprintf("The reason is %d characters long; shorten it to %d at most.", utf8.RuneCountInString(reason), restore.MaxReason)
	case strings.ContainsFunc(reason, func(r rune) bool { return isControl(r) && r != '\n' && r != '\r' && r != '\t' }):
		return "The reason cannot contain control characters."
	}
	return ""
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }

// nameProblem checks the name of a folder, library or list to restore into.
func nameProblem(name, what string) string {
	switch n := utf8.RuneCountInString(name); {
	case name == "":
		return "Give the new " + what + " a name."
	case n > maxFolderName:
		return fmt.Sprintf("The name is %d characters long; the backup server takes %d at most.", n, maxFolderName)
	case strings.ContainsAny(name, `/\`) || strings.ContainsFunc(name, isControl):
		return "The name cannot contain slashes or control characters."
	}
	return ""
}

// auditAttempt records a restore attempt that did not reach the pipeline:
// a form with problems, a selection no longer there.
func (h *Handler) auditAttempt(c *echo.Context, k restoreKind, w *wizard, opts restoreOptions, reason string, err error) {
	u := userFrom(c)
	e := classify(err)
	ev := audit.Event{Time: h.cfg.Now().UTC(), TenantID: u.TenantID, ActorOID: u.OID, ActorUPN: u.UPN, ActorName: u.Name,
		Action: "restore", Workload: k.workload(), SubjectID: k.subject(), Reason: reason, Outcome: audit.Refused, Detail: e.Title}
	if e.Message != "" {
		ev.Detail += ": " + e.Message
	}
	if e.Status == http.StatusNotFound || e.Status == http.StatusForbidden {
		ev.Outcome = audit.Denied
	} else if e.Status >= 500 {
		ev.Outcome = audit.Failed
	}
	if w != nil {
		ev.Subject, ev.SubjectID, ev.Items, ev.ItemCount = w.subject, w.subjectID, w.items, w.count
	}
	if opts != nil {
		target, options := opts.describe()
		ev.Options = target + "; " + options
	}
	h.appendAudit(c.Request().Context(), ev)
}

// previewOf is the first few names of what a restore acts on.
func previewOf(names []string) (preview []string, more int) {
	n := min(len(names), previewItems)
	return names[:n], len(names) - n
}

// plan is one restore of a wizard.
func (w *wizard) plan(workload, target, options, reason string, count int, items []audit.Item,
	start func(ctx context.Context) (string, error)) restorePlan {
	return restorePlan{
		record: restore.Record{Workload: workload, Source: w.subject, SourceID: w.subjectID, ItemCount: count, Target: target,
			Options: options, Reason: reason, ForOthers: w.forOthers, PointTime: w.pointTime},
		items: items, start: start,
	}
}
