package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"sync"

	"github.com/labstack/echo/v5"
)

// addMailToList handles POST …/mailboxes/:mb/restore-list: the ticked items.
func (h *Handler) addMailToList(c *echo.Context) error {
	ref, err := h.mailboxRef(c)
	if err != nil {
		return err
	}
	form, err := postForm(c)
	if err != nil {
		return err
	}
	keys, err := listKeys(form)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	mb, err := h.cachedMailbox(ctx, userFrom(c).OID, ref)
	if err != nil {
		return err
	}
	entries := make([]listEntry, len(keys))
	errs := make([]error, len(keys))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, k := range keys {
		id, err := unkey(k)
		if err != nil {
			return badRequest("The form names an item the portal does not know.")
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			it, err := ref.data.Item(ctx, id)
			if err != nil {
				errs[i] = err
				return
			}
			entries[i] = listEntry{Workload: "exchange", Session: ref.session.ID, Owner: ref.mailbox, OwnerName: mailboxLabel(mb),
				Key: k, Name: itemTitle(it), PointTime: ref.session.PointTime, Others: !ownMailbox(c, mb)}
		})
	}
	wg.Wait()
	if err := firstError(errs...); err != nil {
		return err
	}
	return h.addToList(c, entries)
}

// addDocsToList handles POST …/onedrives|sites/:owner/restore-list.
func (h *Handler) addDocsToList(workload string) echo.HandlerFunc {
	return func(c *echo.Context) error {
		ref, err := h.docsRef(c, workload)
		if err != nil {
			return err
		}
		form, err := postForm(c)
		if err != nil {
			return err
		}
		keys, err := listKeys(form)
		if err != nil {
			return err
		}
		sel, err := readDocSelection(url.Values{"item": keys}, h.zone(c), ref.sharePoint())
		if err != nil {
			return err
		}
		ctx := c.Request().Context()
		title, subtitle, err := h.docsTitle(ctx, ref)
		if err != nil {
			return err
		}
		docs, err := h.resolveDocs(ctx, ref, sel)
		if err != nil {
			return err
		}
		entries := make([]listEntry, len(docs))
		for i := range docs {
			entries[i] = listEntry{Workload: workload, Session: ref.session.ID, Owner: ref.id, OwnerName: title, Key: sel.keys[i],
				Name: docTitle(&docs[i]), PointTime: ref.session.PointTime, Others: ref.sharePoint() || !ownOneDrive(subtitle, userFrom(c).UPN)}
			if docs[i].IsFolder {
				entries[i].Name += " (folder)"
			}
		}
		return h.addToList(c, entries)
	}
}

// addTeamFilesToList handles POST …/teams/:team/c/:channel/restore-list: the ticked files.
func (h *Handler) addTeamFilesToList(c *echo.Context) error {
	ref, err := h.teamRef(c)
	if err != nil {
		return err
	}
	channel, err := h.pathKey(c, "channel")
	if err != nil {
		return err
	}
	form, err := postForm(c)
	if err != nil {
		return err
	}
	keys := form["file"]
	if len(keys) == 0 {
		return &Error{Status: http.StatusBadRequest, Title: "Nothing selected", Message: "Tick the files to add to the restore list first."}
	}
	if len(keys) > maxListAdd {
		return badRequest(fmt.Sprintf("Add at most %d items at once.", maxListAdd))
	}
	v, err := h.teamFrame(c, ref, channel)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	var entries []listEntry
	for _, k := range keys {
		id, err := unkey(k)
		if err != nil {
			return badRequest("The form names a file the portal does not know.")
		}
		f, err := ref.data.File(ctx, channel, id)
		if err != nil {
			return err
		}
		if f.IsFolder() {
			return badRequest("Choose files: folders are restored with their channel.")
		}
		entries = append(entries, listEntry{Workload: "teams", Session: ref.session.ID, Owner: ref.id, OwnerName: v.Name,
			Key: key(channel + "\x00" + id), Name: f.Name + " (" + v.Channel + ")", PointTime: ref.session.PointTime, Others: true})
	}
	return h.addToList(c, entries)
}

// prepareGroup prepares a group's restore with its workload's wizard.
func (h *Handler) prepareGroup(c *echo.Context, g *listGroup) (*wizard, error) {
	e := g.entries[0]
	var keys []string
	for _, x := range g.entries {
		keys = append(keys, x.Key)
	}
	if e.Workload == azureWorkload {
		k, err := h.flrListKind(c, e)
		if err != nil {
			return nil, err
		}
		return k.prepare(c, url.Values{"item": keys})
	}
	session, ok, err := h.opened(c, e.Session)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, &Error{Status: http.StatusNotFound, Title: "The restore session has ended",
			Message: "Open the restore point again, and add these items again."}
	}
	chosen := url.Values{"scope": {"selected"}, "item": keys}
	var k restoreKind
	switch e.Workload {
	case "exchange":
		k = mailKind{h: h, ref: h.mailboxRefIn(session, e.Owner), loc: h.zone(c)}
	case "onedrive", "sharepoint":
		k = docsKind{h: h, ref: h.docsRefIn(session, e.Workload, e.Owner, userFrom(c).OID), loc: h.zone(c)}
	case "teams":
		k = teamKind{h: h, ref: h.teamRefIn(session, e.Owner)}
		chosen = url.Values{"kind": {"files"}, "file": keys}
	default:
		return nil, badRequest("The restore list holds something the portal does not know.")
	}
	return k.prepare(c, chosen)
}
