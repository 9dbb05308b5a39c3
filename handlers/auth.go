package handlers

import (
	"net/http"

	"github.com/labstack/echo/v5"
)

// login handles GET /auth/login?return_to=&tz=: it starts an Entra sign-in
// that comes back to return_to (a local page; anything else means "/").
// tz is the browser's time zone, which the sign-in link carries.
func (h *Handler) login(c *echo.Context) error {
	if tz := c.QueryParam("tz"); tz != "" {
		if _, err := h.loadZone(tz); err == nil {
			if p := h.prefs(c); p.Auto {
				h.savePrefs(c, preferences{TimeZone: tz, Auto: true})
			}
		}
	}
	to, err := h.auth.Begin(c.Request().Context(), c.QueryParam("return_to"))
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusFound, to)
}

// callback handles GET /auth/callback, where Entra returns with the code. It
// answers at once with a redirect, so the code never sits in a page that
// loads resources.
func (h *Handler) callback(c *echo.Context) error {
	to, err := h.auth.Finish(c.Request().Context(), c.QueryParams())
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, to)
}

// logout handles POST /auth/logout: the user's restore sessions are stopped,
// the VB365 token revoked, the session destroyed, the browser told to forget
// the site's data, and sent through Entra's end-session endpoint.
func (h *Handler) logout(c *echo.Context) error {
	ctx := c.Request().Context()
	if _, err := h.auth.User(ctx); err != nil {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	h.stopOpenedSessions(ctx)
	to := h.auth.SignOut(ctx)
	c.Response().Header().Set("Clear-Site-Data", `"cache", "cookies", "storage"`)
	return c.Redirect(http.StatusSeeOther, to)
}
