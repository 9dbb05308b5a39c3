package handlers

import (
	"net/http"

	"github.com/labstack/echo/v5"
	"github.com/openrestore/portal/authn"
)

// login handles GET /auth/login?return_to=&tz=: it starts an Entra sign-in
// that comes back to return_to (a local page; anything else means "/").
// tz is the browser's time zone, which the sign-in link carries.
func (h *Handler) login(c *echo.Context) error {
	tz := c.QueryParam("tz")
	if _, err := h.loadZone(tz); err != nil {
		tz = ""
	}
	// A claims challenge Entra sent (on a refresh it refused) goes with the sign-in.
	to, err := h.auth.Begin(c.Response(), c.Request(), c.QueryParam("return_to"), tz, authn.WithClaims(c.QueryParam("claims")))
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusFound, to)
}

// callback handles GET /auth/callback, where Entra returns with the code. It
// answers at once with a redirect, so the code never sits in a page that
// loads resources. The browser's time zone, carried through the sign-in,
// becomes the person's unless they chose one by hand.
func (h *Handler) callback(c *echo.Context) error {
	done, err := h.auth.Finish(c.Response(), c.Request())
	if err != nil {
		return err
	}
	if done.Note != "" {
		h.followBrowserZone(c, &done.User, done.Note)
	}
	return c.Redirect(http.StatusSeeOther, done.ReturnTo)
}

// logout handles POST /auth/logout: the user's restore sessions are stopped,
// the VB365 token revoked, the session destroyed, the browser told to forget
// the site's data, and sent through Entra's end-session endpoint.
func (h *Handler) logout(c *echo.Context) error {
	ctx := c.Request().Context()
	u, err := h.auth.User(ctx)
	if err != nil {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	c.Set(userKey, u)
	h.stopOpenedSessions(c)
	h.stopSignedOut(c)
	h.disconnectAzure(c)
	to := h.auth.SignOut(ctx)
	c.Response().Header().Set("Clear-Site-Data", `"cache", "cookies", "storage"`)
	return c.Redirect(http.StatusSeeOther, to)
}
