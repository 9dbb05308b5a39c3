package vbazure

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/openrestore/portal/internal/rest"
)

// File-level restore of an Azure VM: a job session whose worker mounts a
// restore point; once it is ready, its files are browsed, searched and
// restored to the VM; stopping the job session ends it. VBAzure's REST API
// cannot download the files.

// JobSession is the document's JobSession.
type JobSession struct {
	ID                 string      `json:"id"`
	Type               string      `json:"type"`
	Status             string      `json:"status"`
	ExecutionStartTime time.Time   `json:"executionStartTime"`
	ExecutionStopTime  *time.Time  `json:"executionStopTime"`
	FileLevelRestore   *FLRJobInfo `json:"fileLevelRestoreJobInfo"`
}

// FLRJobInfo is the document's FileLevelRestoreJobInfo.
type FLRJobInfo struct {
	Initiator         string     `json:"initiator"`
	Reason            string     `json:"reason"`
	VMID              string     `json:"vmId"`
	VMName            string     `json:"vmName"`
	PointTime         *time.Time `json:"restorePointCreatedDateUtc"`
	IsFlrSessionReady bool       `json:"isFlrSessionReady"`
}

// Running reports whether the session has not ended.
func (j JobSession) Running() bool {
	if j.ExecutionStopTime != nil {
		return false
	}
	switch j.Status {
	case "Running", "RunningWithWarning", "RunningWithError", "Pending", "Canceling":
		return true
	}
	return false
}

// Ready reports whether an FLR session can be browsed.
func (j JobSession) Ready() bool {
	return j.Running() && j.FileLevelRestore != nil && j.FileLevelRestore.IsFlrSessionReady
}

// FileRestoreOptions is the document's FlrOptions.
type FileRestoreOptions struct {
	Reason string `json:"reason,omitempty"`
	// ServiceAccountID is the Azure service account that restores to the
	// original location (ServiceAccounts with PurposeVMRestore).
	ServiceAccountID string `json:"serviceAccountId,omitempty"`
	// ToOriginal: restore to the VM itself (else the files could only be
	// downloaded, which the REST API cannot).
	ToOriginal bool `json:"flrRto"`
}

// StartFileRestore starts an FLR session of a restore point. It is never
// retried: each request starts a worker, which costs money.
//
// VBAzure: POST /api/v8.1/restorePoints/virtualMachines/{restorePointId}/restoreFile
func (a *Account) StartFileRestore(ctx context.Context, pointID string, o FileRestoreOptions) (*JobSession, error) {
	var j JobSession
	err := a.call(ctx, rest.Request{Method: http.MethodPost, Path: a.c.path("/restorePoints/virtualMachines/%s/restoreFile", pointID), Body: o}, &j)
	if err != nil {
		return nil, err
	}
	return &j, nil
}

// JobSession reads a session.
//
// VBAzure: GET /api/v8.1/jobSessions/{sessionId}
func (a *Account) JobSession(ctx context.Context, id string) (*JobSession, error) {
	var j JobSession
	if err := a.call(ctx, rest.Request{Method: http.MethodGet, Path: a.c.path("/jobSessions/%s", id)}, &j); err != nil {
		return nil, err
	}
	return &j, nil
}

// JobQuery narrows the list of sessions.
type JobQuery struct {
	Types      []string // FileLevelRestore, …
	Statuses   []string // Running, Error, …
	ResourceID string   // a VM's id
	Limit      int      // 0: the server's default
}

// JobSessions lists sessions, newest first.
//
// VBAzure: GET /api/v8.1/jobSessions
func (a *Account) JobSessions(ctx context.Context, q JobQuery) ([]JobSession, error) {
	v := url.Values{"Types": q.Types, "Status": q.Statuses}
	if q.ResourceID != "" {
		v.Set("ResourceId", q.ResourceID)
	}
	if q.Limit > 0 {
		v.Set("Limit", strconv.Itoa(q.Limit))
		var p Page[JobSession]
		if err := a.call(ctx, rest.Request{Method: http.MethodGet, Path: a.c.path("/jobSessions"), Query: v}, &p); err != nil {
			return nil, err
		}
		return p.Results, nil
	}
	return all[JobSession](ctx, a, a.c.path("/jobSessions"), v)
}

// LogItem is the document's LogItem.
type LogItem struct {
	LogTime time.Time `json:"logTime"`
	Status  string    `json:"status"`
	Message string    `json:"message"`
}

// JobLog reads a session's log.
//
// VBAzure: GET /api/v8.1/jobSessions/{sessionId}/log
func (a *Account) JobLog(ctx context.Context, id string) ([]LogItem, error) {
	var l struct {
		Log []LogItem `json:"log"`
	}
	if err := a.call(ctx, rest.Request{Method: http.MethodGet, Path: a.c.path("/jobSessions/%s/log", id)}, &l); err != nil {
		return nil, err
	}
	return l.Log, nil
}

// StopJobSession stops a session; for an FLR session, its worker goes.
// Stopping twice is harmless, so it is retried; a session that has
// stopped already answers ErrInvalid, one the server forgot ErrNotFound.
//
// VBAzure: POST /api/v8.1/jobSessions/{sessionId}/stop
func (a *Account) StopJobSession(ctx context.Context, id string) error {
	return a.call(ctx, rest.Request{Method: http.MethodPost, Path: a.c.path("/jobSessions/%s/stop", id), Idempotent: true}, nil)
}

// FLRItem is the document's FlrSessionItem.
type FLRItem struct {
	// ItemPath is the folder the item is in.
	ItemPath string    `json:"itemPath"`
	Name     string    `json:"name"`
	Type     string    `json:"type"` // Folder or File
	Size     int64     `json:"size"`
	Modified time.Time `json:"lastModificationTime"`
}

// Folder reports whether the item is a folder.
func (it FLRItem) Folder() bool { return it.Type == "Folder" }

// Path is the item's own absolute path.
func (it FLRItem) Path(windows bool) string { return JoinPath(windows, it.ItemPath, it.Name) }

// RootPath is the path that lists a VM's top: its volumes on Windows.
func RootPath(windows bool) string {
	if windows {
		return `\`
	}
	return "/"
}

// JoinPath is the path of name in the folder dir, as VBAzure writes it:
// "D:\Finance" + "2026", "\" + "D:" = "D:\", "/etc" + "nginx".
func JoinPath(windows bool, dir, name string) string {
	if windows {
		if dir == `\` || dir == "" {
			return name + `\`
		}
		return strings.TrimRight(dir, `\`) + `\` + name
	}
	if dir == "/" || dir == "" {
		return "/" + name
	}
	return strings.TrimRight(dir, "/") + "/" + name
}

// SplitPath is the folders from the top down to path, each with its own
// path: "D:\Finance\2026" is D: (D:\), Finance (D:\Finance), 2026.
func SplitPath(windows bool, path string) (names, paths []string) {
	sep := "/"
	if windows {
		sep = `\`
		path = strings.ReplaceAll(path, "/", `\`)
	}
	cur := RootPath(windows)
	for _, n := range strings.Split(path, sep) {
		if n == "" {
			continue
		}
		cur = JoinPath(windows, cur, n)
		names, paths = append(names, n), append(paths, cur)
	}
	return names, paths
}

// Browse lists a folder of an FLR session (the root: RootPath). Browsing
// changes nothing, so it is retried like a GET.
//
// VBAzure: POST /api/v8.1/flr/{flrSessionId}/browse
func (a *Account) Browse(ctx context.Context, flrID, path string, offset, limit int) (*Page[FLRItem], error) {
	q := url.Values{"Offset": {strconv.Itoa(offset)}, "Limit": {strconv.Itoa(limit)}}
	var p Page[FLRItem]
	err := a.call(ctx, rest.Request{Method: http.MethodPost, Path: a.c.path("/flr/%s/browse", flrID), Query: q,
		Body: map[string]string{"path": path}, Idempotent: true}, &p)
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// Search is the document's FlrSessionSearchTaskStartRequest.
type Search struct {
	Path     string `json:"path"`
	Pattern  string `json:"searchPattern"`
	Traverse bool   `json:"traverse"` // the folders below too
	Limit    int    `json:"limit"`    // items per page
}

// StartSearch starts a search task and returns its id.
//
// VBAzure: POST /api/v8.1/flr/{flrSessionId}/search/start
func (a *Account) StartSearch(ctx context.Context, flrID string, s Search) (string, error) {
	var out struct {
		SearchID string `json:"searchId"`
	}
	if err := a.call(ctx, rest.Request{Method: http.MethodPost, Path: a.c.path("/flr/%s/search/start", flrID), Body: s}, &out); err != nil {
		return "", err
	}
	return out.SearchID, nil
}

// SearchPage is the document's FlrSessionSearchTaskResult.
type SearchPage struct {
	State   string    `json:"searchState"` // Preparing, Ready, NoData
	Count   int       `json:"count"`
	Results []FLRItem `json:"results"`
}

// SearchResults reads the search's current page.
//
// VBAzure: GET /api/v8.1/flr/{flrSessionId}/search/{searchTaskId}/results
func (a *Account) SearchResults(ctx context.Context, flrID, searchID string) (*SearchPage, error) {
	var p SearchPage
	if err := a.call(ctx, rest.Request{Method: http.MethodGet, Path: a.c.path("/flr/%s/search/%s/results", flrID, searchID)}, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// SearchNextPage moves the search to its next page, which replaces the
// current one. It is never retried: a repeat would skip a page.
//
// VBAzure: POST /api/v8.1/flr/{flrSessionId}/search/{searchTaskId}/nextPage
func (a *Account) SearchNextPage(ctx context.Context, flrID, searchID string) error {
	return a.call(ctx, rest.Request{Method: http.MethodPost, Path: a.c.path("/flr/%s/search/%s/nextPage", flrID, searchID)}, nil)
}

// StopSearch ends a search task.
//
// VBAzure: POST /api/v8.1/flr/{flrSessionId}/search/{searchTaskId}/stop
func (a *Account) StopSearch(ctx context.Context, flrID, searchID string) error {
	return a.call(ctx, rest.Request{Method: http.MethodPost, Path: a.c.path("/flr/%s/search/%s/stop", flrID, searchID), Idempotent: true}, nil)
}

// Restore types.
const (
	Overwrite = "Overwrite"
	Keep      = "Keep" // beside the original, as a copy
)

// FileRestore is the document's FlrSessionRestoreTaskStartRequest.
type FileRestore struct {
	ItemPaths []string `json:"itemPaths"`
	Type      string   `json:"restoreType"`
	// AlternativePath is the folder to restore into instead of where the
	// items were.
	AlternativePath string `json:"alternativePath,omitempty"`
}

// RestoreFiles starts restoring items of an FLR session to the VM and
// returns the task's id. It is never retried.
//
// VBAzure: POST /api/v8.1/flr/{flrSessionId}/restore
func (a *Account) RestoreFiles(ctx context.Context, flrID string, r FileRestore) (string, error) {
	var out struct {
		RestoreTaskID string `json:"restoreTaskId"`
	}
	if err := a.call(ctx, rest.Request{Method: http.MethodPost, Path: a.c.path("/flr/%s/restore", flrID), Body: r}, &out); err != nil {
		return "", err
	}
	return out.RestoreTaskID, nil
}

// RestoreItem is the document's FlrSessionRestoreItem.
type RestoreItem struct {
	Path   string `json:"path"`
	Status string `json:"status"` // Running, Success, Failed, Cancelled, Warning
}

// RestoreStatus reads how each item of a restore task is doing.
//
// VBAzure: GET /api/v8.1/flr/{flrSessionId}/restore/{restoreTaskId}/status
func (a *Account) RestoreStatus(ctx context.Context, flrID, taskID string) ([]RestoreItem, error) {
	var out struct {
		Results []RestoreItem `json:"results"`
	}
	if err := a.call(ctx, rest.Request{Method: http.MethodGet, Path: a.c.path("/flr/%s/restore/%s/status", flrID, taskID)}, &out); err != nil {
		return nil, err
	}
	return out.Results, nil
}

// RestoreLog is the document's FlrSessionRestoreTaskLogItem.
type RestoreLog struct {
	Message  string     `json:"message"`
	Status   string     `json:"status"`
	Started  *time.Time `json:"startTime"`
	Finished *time.Time `json:"stopTime"`
}

// RestoreLogs reads the log of one item of a restore task ("" for all).
//
// VBAzure: POST /api/v8.1/flr/{flrSessionId}/restore/{restoreTaskId}/logs
func (a *Account) RestoreLogs(ctx context.Context, flrID, taskID, path string, limit int) ([]RestoreLog, error) {
	var out struct {
		Results []RestoreLog `json:"results"`
	}
	err := a.call(ctx, rest.Request{Method: http.MethodPost, Path: a.c.path("/flr/%s/restore/%s/logs", flrID, taskID),
		Query: url.Values{"Limit": {strconv.Itoa(limit)}}, Body: map[string]string{"path": path}, Idempotent: true}, &out)
	if err != nil {
		return nil, err
	}
	return out.Results, nil
}

// StopRestore cancels what a restore task has not restored yet.
//
// VBAzure: POST /api/v8.1/flr/{flrSessionId}/restore/{restoreTaskId}/stop
func (a *Account) StopRestore(ctx context.Context, flrID, taskID string) error {
	return a.call(ctx, rest.Request{Method: http.MethodPost, Path: a.c.path("/flr/%s/restore/%s/stop", flrID, taskID), Idempotent: true}, nil)
}
