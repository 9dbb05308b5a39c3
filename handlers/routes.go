package handlers

import (
	"net/http"

	"github.com/labstack/echo/v5"
	"github.com/labstack/echo/v5/middleware"
)

// routes is the portal's one route table.
func (h *Handler) routes(e *echo.Echo) {
	e.Use(middleware.Recover())
	e.Use(h.nameRoute)
	e.Use(middleware.BodyLimit(h.cfg.BodyLimit))
	e.Use(h.csrf)

	// Public.
	e.GET("/healthz", h.healthz)
	e.GET("/readyz", h.readyz)
	if h.cfg.ServeMetrics && h.metrics != nil {
		e.GET("/metrics", echo.WrapHandler(h.metrics.Handler()))
	}
	e.GET("/static/*", h.serveStatic)
	signIn := h.limited("signin", h.cfg.Limits.SignIn, h.byAddress)
	e.GET("/", h.home, h.limited("signin", h.cfg.Limits.SignIn, h.signedOutByAddress)) // the landing page when signed out
	e.GET("/signed-out", h.signedOut, signIn)
	e.GET("/auth/login", h.login, signIn)
	e.GET("/auth/callback", h.callback, signIn)
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
	search := h.limited("search", h.cfg.Limits.Search, byPerson)
	mb.GET("/search", h.searchPage, search)
	mb.POST("/download", h.downloadSelection, h.audited("download", "exchange"))
	h.wizardRoutes(mb, h.mailKind)
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
		g.GET("/search", h.docSearchPage(w.workload), search)
		h.wizardRoutes(g, h.docsKind(w.workload))
		g.POST("/download", h.docSelectionDownload(w.workload), h.audited("download", w.workload))
		g.POST("/restore-list", h.addDocsToList(w.workload))
	}

	// Teams, within a restore session.
	tm := e.Group("/sessions/:id/teams/:team", h.requireUser)
	tm.GET("", h.teamPage)
	h.wizardRoutes(tm, h.wholeTeamKind)
	tm.GET("/c/:channel", h.channelPage)
	tm.GET("/search", h.teamSearchPage, search)
	tm.GET("/tabs", h.teamTabsPage)
	h.wizardRoutes(tm.Group("/tabs"), h.teamTabsKind)
	tm.GET("/c/:channel/p/:post", h.threadPage)
	tm.GET("/c/:channel/f/:file", h.teamFilePage)
	tm.POST("/c/:channel/p/:post/export", h.exportThread, h.audited("export", "teams"))
	tm.POST("/c/:channel/export", h.exportPosts, h.audited("export", "teams"))
	h.wizardRoutes(tm.Group("/c/:channel"), h.channelKind)
	tm.POST("/c/:channel/restore-list", h.addTeamFilesToList)

	// Restores the user started.
	e.GET("/restores", h.restoresPage, h.requireUser)
	e.GET("/restores/:id", h.restorePage, h.requireUser)
	e.GET("/notices", h.notices, h.requireUser)

	// The restore list, across workloads.
	e.GET("/restore-list", h.restoreListPage, h.requireUser)
	e.GET("/restore-list/runs", h.restoreListRuns, h.requireUser)
	e.POST("/restore-list/remove", h.removeFromList, h.requireUser)
	e.POST("/restore-list/run", h.runRestoreList, h.requireUser, h.restoreLimit())

	// Azure VMs: their restore points, file-level restore sessions, and
	// restores of their files.
	vm := e.Group("/azure", h.requireUser, h.requireAzureVMs)
	vm.GET("", func(c *echo.Context) error { return c.Redirect(http.StatusSeeOther, "/?workload="+azureTab) })
	vm.GET("/vms/:vm", h.azureVMPage)
	vm.GET("/vms/:vm/points/:point", h.openFLRPage)
	vm.POST("/vms/:vm/points/:point", h.openFLR)
	vm.POST("/vms/:vm/points/:point/retrieve", h.retrievePoint)
	flr := vm.Group("/flr/:flr")
	flr.GET("", h.flrSessionPage)
	flr.GET("/browse", h.flrBrowsePage)
	flr.GET("/search", h.flrSearchPage, search)
	flr.POST("/stop", h.stopFLRPage)
	flr.POST("/restore-list", h.addFLRToList)
	h.wizardRoutes(flr, h.flrKindOf)

	// The audit trail, for auditors.
	e.GET("/audit", h.auditPage, h.requireUser)
	e.GET("/audit.csv", h.auditCSV, h.requireUser)

	// Veeam Backup for Microsoft Azure's users, for the portal's administrators.
	az := e.Group("/admin/azure", h.requireUser, h.requireAdmin)
	az.GET("", h.azureUsersPage)
	az.POST("/connect", h.azureConnect, h.audited("connect", "vbazure"))
	az.GET("/connect/code", h.azureCodePage)
	az.POST("/connect/code", h.azureCode, h.audited("connect", "vbazure"))
	az.POST("/disconnect", h.azureDisconnect)
	az.GET("/users/new", h.azureNewUserPage)
	az.POST("/users", h.azureCreateUser, h.audited("user-add", "vbazure"))
	az.GET("/users/:id", h.azureUserPage)
	az.POST("/users/:id", h.azureUpdateUser, h.audited("user-change", "vbazure"))
	az.GET("/users/:id/password", h.azurePasswordPage)
	az.POST("/users/:id/password", h.azureResetPassword, h.audited("user-password", "vbazure"))
	az.GET("/users/:id/remove", h.azureRemovePage)
	az.POST("/users/:id/remove", h.azureRemoveUser, h.audited("user-remove", "vbazure"))
	az.GET("/users/:id/mfa/disable", h.azureDisableMFAPage)
	az.POST("/users/:id/mfa/disable", h.azureDisableMFA, h.audited("user-mfa-off", "vbazure"))
	az.GET("/mfa", h.azureMFAPage)
	az.POST("/mfa", h.azureStartMFA, h.audited("own-mfa", "vbazure"))
	az.POST("/mfa/accept", h.azureAcceptMFA, h.audited("own-mfa", "vbazure"))
	az.GET("/password", h.azureOwnPasswordPage)
	az.POST("/password", h.azureChangeOwnPassword, h.audited("own-password", "vbazure"))
	az.POST("/export", h.azureExport, h.audited("export", "vbazure"))
	az.GET("/rules", h.vmRulesPage, h.requireAzureVMs)
	az.POST("/rules", h.addRule, h.requireAzureVMs)
	az.GET("/rules/:id", h.vmRulePage, h.requireAzureVMs)
	az.POST("/rules/:id", h.changeRule, h.requireAzureVMs)
	az.POST("/rules/:id/remove", h.removeRule, h.requireAzureVMs)
	az.GET("/sessions", h.flrSessionsPage, h.requireAzureVMs)
	az.POST("/sessions/:flr/stop", h.stopAnyFLR, h.requireAzureVMs)
}

// wizardRoutes adds a workload's restore wizard under g: the list's form
// posts to restore/new, the wizard is restore/:key (GET to show, POST to
// submit). kind reads the route's restore session and source.
func (h *Handler) wizardRoutes(g *echo.Group, kind func(*echo.Context) (restoreKind, error)) {
	step := func(run func(*Handler, *echo.Context, restoreKind) error) echo.HandlerFunc {
		return func(c *echo.Context) error {
			k, err := kind(c)
			if err != nil {
				return err
			}
			return run(h, c, k)
		}
	}
	g.POST("/restore/new", step((*Handler).newWizard))
	g.GET("/restore/:key", step((*Handler).showWizard))
	g.POST("/restore/:key", step((*Handler).submitWizard), h.restoreLimit())
}

// restoreLimit limits the restores a person starts.
func (h *Handler) restoreLimit() echo.MiddlewareFunc {
	return h.limited("restore", h.cfg.Limits.Restore, byPerson)
}
