package handlers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v5"

	"github.com/openrestore/portal/templates"
)

var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// render writes t completely into a buffer before sending anything, so that a
// render error becomes a clean error page rather than half a page.
func render(c *echo.Context, status int, t templ.Component) error {
	buf := buffers.Get().(*bytes.Buffer)
	buf.Reset()
	defer buffers.Put(buf)
	if err := t.Render(c.Request().Context(), buf); err != nil {
		return fmt.Errorf("render: %w", err)
	}
	page := neutraliseBidi(buf.Bytes())
	hd := c.Response().Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Length", strconv.Itoa(len(page))) // dropped when gzipped
	hd.Add("Vary", "HX-Request")
	c.Response().WriteHeader(status)
	_, err := c.Response().Write(page)
	return err
}

// isPartial reports whether htmx asked for a fragment. A history restore
// wants the whole page.
func isPartial(c *echo.Context) bool {
	r := c.Request()
	return r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-History-Restore-Request") != "true"
}

// meta is what the layout needs for this request.
func (h *Handler) meta(c *echo.Context, title string) templates.Meta {
	m := templates.Meta{Title: title, Demo: h.cfg.Demo, Assets: h.asset, Azure: h.azure != nil, AzureVMs: h.vms != nil}
	if u := userFrom(c); u != nil {
		m.User = &templates.UserView{Name: u.Name, UPN: u.UPN, Auditor: h.isAuditor(c), Admin: h.isAdmin(c)}
		m.Nav = "home"
		token := h.csrfToken(c.Request().Context())
		m.CSRFToken = token
		b, _ := json.Marshal(map[string]string{"X-CSRF-Token": token})
		m.HXHeaders = string(b)
		p := h.prefs(c)
		m.TimeZone, m.TimeZoneAuto = zoneName(p), p.AutoZone
		if a, _ := h.actingFor(c); a != nil { // unreadable: the page says nothing of it
			m.Acting = &templates.ActingView{Name: a.Name, Kind: scopeKinds[a.Type], Detail: a.Detail}
		}
	}
	return m
}

// seeOther answers a finished form post: htmx follows HX-Location, a plain form a 303.
func seeOther(c *echo.Context, to string) error {
	if isPartial(c) {
		c.Response().Header().Set("HX-Location", to)
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, to)
}
