package handlers

import (
	"fmt"

	"github.com/labstack/echo/v5"

	"github.com/openrestore/portal/audit"
	"github.com/openrestore/portal/veeamapi"
)

// downloadItem handles POST …/items/:item/download (kind=msg|pst): one item
// as an Outlook message or a PST file.
func (h *Handler) downloadItem(c *echo.Context) error {
	ref, err := h.mailboxRef(c)
	if err != nil {
		return err
	}
	itemID, err := h.pathKey(c, "item")
	if err != nil {
		return err
	}
	kind := c.FormValue("kind")
	if kind != "msg" && kind != "pst" {
		return badRequest("Choose .msg or .pst.")
	}
	ctx := c.Request().Context()
	h.auditMailbox(c, ref)
	it, err := ref.data.Item(ctx, itemID)
	if err != nil {
		return err
	}
	auditOf(c).Items = []audit.Item{{ID: itemID, Name: itemTitle(it)}}
	action := map[string]string{"msg": "save", "pst": "exportToPst"}[kind]
	if !it.Can(action) {
		return downloadsNotAllowed(nil)
	}
	var d *veeamapi.Download
	if kind == "msg" {
		d, err = ref.data.SaveItem(ctx, itemID)
	} else {
		d, err = ref.data.ExportItems(ctx, []string{itemID})
	}
	if err != nil {
		return downloadError(err)
	}
	return h.stream(c, d, fileName(itemTitle(it), kind), kind, 1)
}

// downloadSelection handles POST …/download (kind=zip|pst): the selected
// items as a ZIP of messages or one PST file.
func (h *Handler) downloadSelection(c *echo.Context) error {
	ref, err := h.mailboxRef(c)
	if err != nil {
		return err
	}
	form, err := postForm(c)
	if err != nil {
		return err
	}
	kind := form.Get("kind")
	if kind != "zip" && kind != "pst" {
		return badRequest("Choose .zip or .pst.")
	}
	form.Del("scope") // downloads take the ticked items only
	sel, err := readSelection(form, h.zone(c))
	if err != nil {
		return err
	}
	if len(sel.ids) > maxDownloadItems {
		return badRequest(fmt.Sprintf("Download at most %s items at once.", thousands(maxDownloadItems)))
	}
	ctx := c.Request().Context()
	mb, err := h.cachedMailbox(ctx, userFrom(c).OID, ref)
	if err != nil {
		return err
	}
	ae := auditOf(c)
	ae.Subject, ae.SubjectID, ae.Items = mailboxLabel(mb), ref.mailbox, auditItems(sel.ids, nil)
	var d *veeamapi.Download
	if kind == "zip" {
		d, err = ref.data.SaveItems(ctx, sel.ids)
	} else {
		d, err = ref.data.ExportItems(ctx, sel.ids)
	}
	if err != nil {
		return downloadError(err)
	}
	return h.stream(c, d, fileName(mailboxLabel(mb)+" - "+countLabel(len(sel.ids)), kind), kind, len(sel.ids))
}
