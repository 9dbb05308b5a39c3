package handlers

import (
	"github.com/labstack/echo/v5"
	"github.com/labstack/echo/v5/middleware"
)

// routes is the portal's one route table.
func (h *Handler) routes(e *echo.Echo) {
	e.Use(middleware.Recover())
	e.Use(middleware.BodyLimit(h.cfg.BodyLimit))
	e.Use(h.csrf)

	// Public.
	e.GET("/healthz", h.healthz)
	e.GET("/readyz", h.readyz)
	e.GET("/static/*", h.serveStatic)
	e.GET("/", h.home) // the landing page when signed out
	e.GET("/signed-out", h.signedOut)
	e.GET("/auth/login", h.login)
	e.GET("/auth/callback", h.callback)
	e.POST("/auth/logout", h.logout)

	// Signed in.
	e.POST("/explore", h.explore, h.requireUser)
	e.GET("/sessions/:id", h.session, h.requireUser)
	e.POST("/preferences/timezone", h.setTimeZone, h.requireUser)
}
