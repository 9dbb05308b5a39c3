// Package handlers is the portal's web layer.
//
// The core, in the files without a prefix, is what every backend shares:
// the one route table (routes.go), middleware and security headers, the
// one error handler (errors.go), rendering and htmx helpers (render.go),
// sign-in and preferences, the restore wizard (wizard.go), the one restore
// pipeline (pipeline.go) and the watcher that records how every restore
// ended (watcher.go), My restores and notices (restores.go), the restore
// list (restorelist.go), downloads (download.go) and the audit trail
// (audit.go).
//
// Each backend's workloads sit beside it in files named after the backend:
// vb365_*.go for Veeam Backup for Microsoft 365 (Exchange, OneDrive and
// SharePoint, Teams, restore sessions and points, Restore for…). A
// workload brings to the pipeline only what differs: a restoreKind (what
// its lists choose and what restoring that means: its form fields, its
// backup server call, its labels).
//
// Handlers turn API types into the view structs that templates render;
// templates never see an API type.
package handlers
