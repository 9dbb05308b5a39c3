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
	e.GET("/scope", h.scopePage, h.requireUser)
	e.POST("/scope", h.chooseScope, h.requireUser)
	e.POST("/scope/clear", h.clearScope, h.requireUser)

	// Exchange, within a restore session.
	mb := e.Group("/sessions/:id/mailboxes/:mb", h.requireUser)
	mb.GET("", h.mailbox)
	mb.GET("/folders/:folder", h.folderPage)
	mb.GET("/folders/:folder/subfolders", h.subfolders)
	mb.POST("/folders/:folder/export", h.exportFolder, h.audited("export", "exchange"))
	mb.GET("/items/:item", h.itemDetailPage)
	mb.POST("/items/:item/download", h.downloadItem, h.audited("download", "exchange"))
	mb.GET("/search", h.searchPage)
	mb.POST("/download", h.downloadSelection, h.audited("download", "exchange"))
	mb.POST("/restore/new", h.restoreWizard)
	mb.POST("/restore", h.startRestore, h.audited("restore", "exchange"))
	mb.POST("/restore-list", h.addMailToList)

	// OneDrive and SharePoint, within a restore session.
	for _, w := range []struct{ segment, workload string }{{"onedrives", "onedrive"}, {"sites", "sharepoint"}} {
		g := e.Group("/sessions/:id/"+w.segment+"/:owner", h.requireUser)
		g.GET("", h.docsRoot(w.workload))
		g.GET("/n/:node", h.nodePage(w.workload))
		g.GET("/n/:node/children", func(c *echo.Context) error { return h.nodeChildren(c, w.workload) })
		g.POST("/n/:node/download", h.nodeDownload(w.workload), h.audited("download", w.workload))
		g.GET("/d/:node", h.docDetailPage(w.workload))
		g.POST("/d/:node/download", h.docDownload(w.workload), h.audited("download", w.workload))
		g.GET("/search", h.docSearchPage(w.workload))
		g.POST("/restore/new", h.docRestore(w.workload, false))
		g.POST("/restore", h.docRestore(w.workload, true), h.audited("restore", w.workload))
		g.POST("/download", h.docSelectionDownload(w.workload), h.audited("download", w.workload))
		g.POST("/restore-list", h.addDocsToList(w.workload))
	}

	// Teams, within a restore session.
	tm := e.Group("/sessions/:id/teams/:team", h.requireUser)
	tm.GET("", h.teamPage)
	tm.POST("/restore/new", h.wholeTeamRestore(false))
	tm.POST("/restore", h.wholeTeamRestore(true), h.audited("restore", "teams"))
	tm.GET("/c/:channel", h.channelPage)
	tm.GET("/search", h.teamSearchPage)
	tm.GET("/tabs", h.teamTabsPage)
	tm.POST("/tabs/restore/new", h.teamTabsRestore(false))
	tm.POST("/tabs/restore", h.teamTabsRestore(true), h.audited("restore", "teams"))
	tm.GET("/c/:channel/p/:post", h.threadPage)
	tm.GET("/c/:channel/f/:file", h.teamFilePage)
	tm.POST("/c/:channel/p/:post/export", h.exportThread, h.audited("export", "teams"))
	tm.POST("/c/:channel/export", h.exportPosts, h.audited("export", "teams"))
	tm.POST("/c/:channel/restore/new", h.teamRestore(false))
	tm.POST("/c/:channel/restore-list", h.addTeamFilesToList)
	tm.POST("/c/:channel/restore", h.teamRestore(true), h.audited("restore", "teams"))

	// Restores the user started.
	e.GET("/restores", h.restoresPage, h.requireUser)
	e.GET("/restores/:id", h.restorePage, h.requireUser)
	e.GET("/notices", h.notices, h.requireUser)

	// The restore list, across workloads.
	e.GET("/restore-list", h.restoreListPage, h.requireUser)
	e.GET("/restore-list/runs", h.restoreListRuns, h.requireUser)
	e.POST("/restore-list/remove", h.removeFromList, h.requireUser)
	e.POST("/restore-list/run", h.runRestoreList, h.requireUser)

	// The audit trail, for auditors.
	e.GET("/audit", h.auditPage, h.requireUser)
	e.GET("/audit.csv", h.auditCSV, h.requireUser)
}
