package veeamapi

import (
	"context"
	"net/url"
	"strconv"
	"time"
)

// TeamsChannel is a channel of a backed-up team (RESTTeamsChannelPreview).
type TeamsChannel struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	TeamID      string `json:"teamId"`
	Type        string `json:"type"` // Standard, Private, Shared
}

// TeamsAttachment is a post's attachment (RESTAttachInfo).
type TeamsAttachment struct {
	Name         string `json:"name"`
	LongFileName string `json:"longFileName"`
	URL          string `json:"url"`
}

// TeamsPost is a channel post or reply (RESTTeamsPost).
type TeamsPost struct {
	PostID           int64             `json:"postId"`
	ChangeKey        string            `json:"changeKey"`
	IsImportant      bool              `json:"isImportant"`
	Author           string            `json:"author"`
	Subject          string            `json:"subject"`
	CreatedTime      time.Time         `json:"createdTime"`
	LastModifiedTime time.Time         `json:"lastModifiedTime"`
	IsDeleted        bool              `json:"isDeleted"`
	ChannelID        string            `json:"channelId"`
	TeamID           string            `json:"teamId"`
	ParentID         *int64            `json:"parentId"`
	Attachments      []TeamsAttachment `json:"attachments"`
}

// TeamsFile is a file or folder of a channel (RESTTeamsFile).
type TeamsFile struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	SizeBytes  int64     `json:"sizeBytes"`
	Version    int       `json:"version"`
	UIVersion  string    `json:"uiVersion"`
	Modified   time.Time `json:"modified"`
	ModifiedBy string    `json:"modifiedBy"`
	ChannelID  string    `json:"channelId"`
	TeamID     string    `json:"teamId"`
	FileType   string    `json:"fileType"` // File, Folder
}

// IsFolder reports whether the entry is a folder.
func (f *TeamsFile) IsFolder() bool { return f.FileType == "Folder" }

// TeamsTab is a tab of a channel (RestTeamsTab).
type TeamsTab struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	ContentURL  string `json:"contentUrl"`
	Type        string `json:"type"`
	ChannelID   string `json:"channelId"`
	TeamID      string `json:"teamId"`
}

// TeamData is one team of a Teams restore session, as an operator sees
// it: its channels, posts, files and tabs, their search, restore and export.
type TeamData struct {
	o     *Operator
	teams string // /v8/RestoreSessions/{id}/organization/teams
	id    string
	base  string // …/teams/{teamId}
}

// TeamData returns the team with this id in a restore session.
func (o *Operator) TeamData(sessionID, teamID string) *TeamData {
	teams := pathf("/v8/RestoreSessions/%s/organization/teams", sessionID)
	return &TeamData{o: o, teams: teams, id: teamID, base: teams + pathf("/%s", teamID)}
}

// restoreBody is the parts every Teams restore takes: what to bring back,
// and the reason.
func restoreBody(changedKey string, changed bool, missingKey string, missing bool, reason string) map[string]any {
	body := map[string]any{changedKey: changed, missingKey: missing}
	if reason != "" {
		body["reason"] = reason
	}
	return body
}

// startRestore posts an operator restore and returns its restore session's id.
func (t *TeamData) startRestore(ctx context.Context, path string, body map[string]any) (string, error) {
	var out sessionIDResponse
	err := t.o.post(ctx, path, body, &out)
	return out.SessionID, err
}

// Team returns the team.
//
// VB365: GET /v8/RestoreSessions/{restoreSessionId}/organization/teams/{teamId}
func (t *TeamData) Team(ctx context.Context) (*Team, error) {
	return getOne[Team](ctx, t.o, t.base, nil)
}

// Channels lists the team's channels.
//
// VB365: GET …/organization/teams/{teamId}/channels
func (t *TeamData) Channels(ctx context.Context, page PageOptions) (*Page[TeamsChannel], error) {
	return getPage[TeamsChannel](ctx, t.o, t.base+"/channels", page.query(), page)
}

// Replies lists a post's replies, page by page, as All reads lists.
func (t *TeamData) Replies(channelID string, parent int64) func(context.Context, PageOptions) (*Page[TeamsPost], error) {
	return func(ctx context.Context, page PageOptions) (*Page[TeamsPost], error) {
		return t.Posts(ctx, channelID, parent, page)
	}
}

// Channel returns one channel.
//
// VB365: GET …/organization/teams/{teamId}/channels/{channelId}
func (t *TeamData) Channel(ctx context.Context, channelID string) (*TeamsChannel, error) {
	return getOne[TeamsChannel](ctx, t.o, t.base+"/channels/"+url.PathEscape(channelID), nil)
}

// Posts lists a channel's parent posts (parent 0), or a thread's replies (parent: the parent post's id).
//
// VB365: GET …/organization/teams/{teamId}/posts?channelId=&parentId=
func (t *TeamData) Posts(ctx context.Context, channelID string, parent int64, page PageOptions) (*Page[TeamsPost], error) {
	q := page.query()
	q.Set("channelId", channelID)
	if parent == 0 {
		q.Set("parentId", "-1")
	} else {
		q.Set("parentId", strconv.FormatInt(parent, 10))
	}
	return getPage[TeamsPost](ctx, t.o, t.base+"/posts", q, page)
}

// Post returns one post of a channel.
//
// VB365: GET …/organization/teams/{teamId}/posts/{postId}?channelId=
func (t *TeamData) Post(ctx context.Context, channelID string, postID int64) (*TeamsPost, error) {
	return getOne[TeamsPost](ctx, t.o, t.base+"/posts/"+strconv.FormatInt(postID, 10), url.Values{"channelId": {channelID}})
}

// Files lists a channel's files and folders in a folder ("" or "root" for the top).
//
// VB365: GET …/organization/teams/{teamId}/files?channelId=&parentId=
func (t *TeamData) Files(ctx context.Context, channelID, parent string, page PageOptions) (*Page[TeamsFile], error) {
	q := page.query()
	q.Set("channelId", channelID)
	if parent == "" {
		parent = "root"
	}
	q.Set("parentId", parent)
	return getPage[TeamsFile](ctx, t.o, t.base+"/files", q, page)
}

// File returns one file of a channel.
//
// VB365: GET …/organization/teams/{teamId}/channels/{channelId}/files/{fileId}
func (t *TeamData) File(ctx context.Context, channelID, fileID string) (*TeamsFile, error) {
	return getOne[TeamsFile](ctx, t.o, t.base+"/channels/"+url.PathEscape(channelID)+"/files/"+url.PathEscape(fileID), nil)
}

// FileVersions lists a file's versions in the restore point, newest first.
//
// VB365: GET …/organization/teams/{teamId}/channels/{channelId}/files/{fileId}/versions
func (t *TeamData) FileVersions(ctx context.Context, channelID, fileID string, page PageOptions) (*Page[TeamsFile], error) {
	return getPage[TeamsFile](ctx, t.o, t.base+"/channels/"+url.PathEscape(channelID)+"/files/"+url.PathEscape(fileID)+"/versions", page.query(), page)
}

// Tabs lists a channel's tabs.
//
// VB365: GET …/organization/teams/{teamId}/channels/{channelId}/tabs
func (t *TeamData) Tabs(ctx context.Context, channelID string, page PageOptions) (*Page[TeamsTab], error) {
	return getPage[TeamsTab](ctx, t.o, t.base+"/channels/"+url.PathEscape(channelID)+"/tabs", page.query(), page)
}

// AuthCode asks for a one-time authorization code, which the export
// downloads take instead of a URL the browser could reuse. The portal never
// hands it to the browser.
//
// VB365: POST /v8/token/AuthCode
func (o *Operator) AuthCode(ctx context.Context) (string, error) {
	var out struct {
		AuthCode string `json:"authCode"`
	}
	if err := o.post(ctx, "/v8/token/AuthCode", nil, &out); err != nil {
		return "", err
	}
	return out.AuthCode, nil
}

// StartPostsExport prepares an HTML export of posts of one channel and
// returns the export task's id.
//
// VB365: POST …/organization/teams/{teamId}/posts/operatorStartExportTask
func (t *TeamData) StartPostsExport(ctx context.Context, posts []TeamsPost) (string, error) {
	type ref struct {
		PostID    int64  `json:"postId"`
		ChannelID string `json:"channelId"`
		TeamID    string `json:"teamId,omitempty"`
	}
	body := struct {
		Posts []ref `json:"posts"`
	}{}
	for _, p := range posts {
		body.Posts = append(body.Posts, ref{PostID: p.PostID, ChannelID: p.ChannelID, TeamID: p.TeamID})
	}
	var out struct {
		ExportTaskID string `json:"exportTaskId"`
	}
	if err := t.o.post(ctx, t.base+"/posts/operatorStartExportTask", body, &out); err != nil {
		return "", err
	}
	return out.ExportTaskID, nil
}

// DownloadPostsExport streams an export's HTML, spending a one-time code.
//
// VB365: GET …/organization/teams/{teamId}/posts/operatorExport/{requestExportId}?authCode=
func (t *TeamData) DownloadPostsExport(ctx context.Context, taskID, authCode string) (*Download, error) {
	return t.o.download(ctx, request{Method: "GET", Path: t.base + pathf("/posts/operatorExport/%s", taskID),
		Query: url.Values{"authCode": {authCode}}})
}

type sessionIDResponse struct {
	SessionID string `json:"sessionId"`
}

// ChannelRestoreOptions is what a channel restore brings back.
type ChannelRestoreOptions struct {
	Changed, Missing bool
	Members          bool // private and shared channels: their members too
	Reason           string
}

// RestoreChannel restores a channel to the team.
//
// VB365: POST …/organization/teams/{teamId}/channels/{channelId}/operatorRestore
func (t *TeamData) RestoreChannel(ctx context.Context, channelID string, opts ChannelRestoreOptions) (string, error) {
	body := restoreBody("restoreChangedItems", opts.Changed, "restoreMissingItems", opts.Missing, opts.Reason)
	body["restoreMembers"] = opts.Members
	return t.startRestore(ctx, t.base+"/channels/"+url.PathEscape(channelID)+"/operatorRestore", body)
}

// TabsRestoreOptions is what a restore of tabs brings back: TabIDs of one
// channel (every tab when empty), or Tabs of several channels.
type TabsRestoreOptions struct {
	TabIDs           []string
	Tabs             []TeamsTab
	Changed, Missing bool
	Reason           string
}

// RestoreTabs restores tabs of one channel.
//
// VB365: POST …/organization/teams/{teamId}/channels/{channelId}/tabs/operatorRestore
func (t *TeamData) RestoreTabs(ctx context.Context, channelID string, opts TabsRestoreOptions) (string, error) {
	body := restoreBody("restoreChangedTabs", opts.Changed, "restoreMissingTabs", opts.Missing, opts.Reason)
	if len(opts.TabIDs) > 0 {
		var tabs []map[string]string
		for _, id := range opts.TabIDs {
			tabs = append(tabs, map[string]string{"id": id})
		}
		body["tabs"] = tabs
	}
	return t.startRestore(ctx, t.base+"/channels/"+url.PathEscape(channelID)+"/tabs/operatorRestore", body)
}

// RestoreTabsAcross restores tabs of several channels of the team.
//
// VB365: POST …/organization/teams/{teamId}/tabs/operatorRestore
func (t *TeamData) RestoreTabsAcross(ctx context.Context, opts TabsRestoreOptions) (string, error) {
	var refs []map[string]string
	for _, tb := range opts.Tabs {
		refs = append(refs, map[string]string{"id": tb.ID, "channelId": tb.ChannelID})
	}
	body := restoreBody("restoreChangedTabs", opts.Changed, "restoreMissingTabs", opts.Missing, opts.Reason)
	body["tabs"] = refs
	return t.startRestore(ctx, t.base+"/tabs/operatorRestore", body)
}

// FilesRestoreOptions is what a restore of channel files brings back.
type FilesRestoreOptions struct {
	Files            []TeamsFile
	AllVersions      bool // their history, not only the restore point's version
	Changed, Missing bool
	Reason           string
}

// RestoreFiles restores channel files.
//
// VB365: POST …/organization/teams/{teamId}/files/operatorRestore
func (t *TeamData) RestoreFiles(ctx context.Context, opts FilesRestoreOptions) (string, error) {
	version := "Last"
	if opts.AllVersions {
		version = "All"
	}
	var refs []map[string]string
	for _, f := range opts.Files {
		refs = append(refs, map[string]string{"id": f.ID, "channelId": f.ChannelID})
	}
	body := restoreBody("restoreChangedItems", opts.Changed, "restoreMissingItems", opts.Missing, opts.Reason)
	body["files"], body["fileVersion"] = refs, version
	if len(opts.Files) > 0 {
		body["channelId"] = opts.Files[0].ChannelID
	}
	return t.startRestore(ctx, t.base+"/files/operatorRestore", body)
}

// PostsRestoreOptions is a restore of posts of one channel.
type PostsRestoreOptions struct {
	Posts  []TeamsPost
	Reason string
}

// RestorePosts restores posts of one channel.
//
// VB365: POST …/organization/teams/{teamId}/posts/operatorRestore
func (t *TeamData) RestorePosts(ctx context.Context, channelID string, opts PostsRestoreOptions) (string, error) {
	var refs []map[string]any
	for _, p := range opts.Posts {
		refs = append(refs, map[string]any{"postId": p.PostID, "channelId": channelID})
	}
	body := map[string]any{"channelId": channelID, "posts": refs}
	if opts.Reason != "" {
		body["reason"] = opts.Reason
	}
	return t.startRestore(ctx, t.base+"/posts/operatorRestore", body)
}

// TeamRestoreOptions is what a restore of a whole team brings back.
type TeamRestoreOptions struct {
	Changed, Missing bool
	Members          bool // membership and permissions
	Settings         bool
	Reason           string
}

// Restore restores the whole team: every channel's content, and its members
// and settings, as chosen.
//
// VB365: POST /v8/RestoreSessions/{restoreSessionId}/organization/teams/operatorRestore
func (t *TeamData) Restore(ctx context.Context, opts TeamRestoreOptions) (string, error) {
	body := restoreBody("restoreChangedItems", opts.Changed, "restoreMissingItems", opts.Missing, opts.Reason)
	body["teams"] = []map[string]string{{"id": t.id}}
	body["restoreMembers"], body["restoreSettings"], body["impersonationAccountName"] = opts.Members, opts.Settings, ""
	return t.startRestore(ctx, t.teams+"/operatorRestore", body)
}

// TeamsEntity is a search result (RESTChannelEntity): a post, a file or a
// tab, told apart by the search's type.
type TeamsEntity struct {
	// Files.
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	SizeBytes  int64     `json:"sizeBytes"`
	UIVersion  string    `json:"uiVersion"`
	Modified   time.Time `json:"modified"`
	ModifiedBy string    `json:"modifiedBy"`
	FileType   string    `json:"fileType"`
	// Posts.
	PostID      int64             `json:"postId"`
	Author      string            `json:"author"`
	Subject     string            `json:"subject"`
	CreatedTime time.Time         `json:"createdTime"`
	IsDeleted   bool              `json:"isDeleted"`
	ParentID    *int64            `json:"parentId"`
	Attachments []TeamsAttachment `json:"attachments"`
	// Tabs.
	DisplayName string `json:"displayName"`
	ContentURL  string `json:"contentUrl"`
	Type        string `json:"type"`
	// All.
	ChannelID string `json:"channelId"`
	TeamID    string `json:"teamId"`
}

// Search finds posts, files or tabs (kind Posts, Files, Tabs) of the team,
// or of one channel when channelID is set, with VB365's search syntax.
//
// VB365: POST …/organization/teams/{teamId}/search, …/channels/{channelId}/search
func (t *TeamData) Search(ctx context.Context, channelID, kind, query string, page PageOptions) (*Page[TeamsEntity], error) {
	p := t.base + "/search"
	if channelID != "" {
		p = t.base + "/channels/" + url.PathEscape(channelID) + "/search"
	}
	out := newPage[TeamsEntity](page)
	err := t.o.call(ctx, request{Method: "POST", Path: p, Query: page.query(), Body: map[string]string{"type": kind, "query": query}, Idempotent: true}, out)
	if err != nil {
		return nil, err
	}
	return out, nil
}
