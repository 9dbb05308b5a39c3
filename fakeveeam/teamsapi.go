package fakeveeam

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// teamScope is one team of a working Teams session, at the session's point.
type teamScope struct {
	rs   *restoreSession
	c    *caller
	td   *teamData
	at   time.Time
	base string // /v8/RestoreSessions/<id>/organization/teams/<teamId>
}

func (ts *teamScope) channel(id string) (*teamChannel, bool) {
	for _, ch := range ts.td.channels {
		if ch.id == id && existedAt(ch.created, ch.deleted, ts.at) {
			return ch, true
		}
	}
	return nil, false
}

// inTeam serves a request about one team of a working Teams session,
// refusing teams outside the session's scope as not found.
func (s *Server) inTeam(h func(http.ResponseWriter, *http.Request, *teamScope)) func(http.ResponseWriter, *http.Request, *caller) {
	return s.inSessionC("Vet", func(w http.ResponseWriter, r *http.Request, rs *restoreSession, c *caller) {
		id := r.PathValue("teamId")
		s.mu.Lock()
		visible := rs.scope.teams[id]
		s.mu.Unlock()
		td, ok := s.teamsData.team(id)
		if !visible || !ok {
			notFound(w, fmt.Sprintf("The team with ID %s was not found.", id))
			return
		}
		h(w, r, &teamScope{rs: rs, c: c, td: td, at: rs.point.BackupTime, base: "/v8/RestoreSessions/" + rs.id + "/organization/teams/" + id})
	})
}

// inChannel adds the channel named by the path or the channelId query parameter.
func (s *Server) inChannel(fromQuery bool, h func(http.ResponseWriter, *http.Request, *teamScope, *teamChannel)) func(http.ResponseWriter, *http.Request, *caller) {
	return s.inTeam(func(w http.ResponseWriter, r *http.Request, ts *teamScope) {
		id := r.PathValue("channelId")
		if fromQuery {
			id = r.URL.Query().Get("channelId")
		}
		ch, ok := ts.channel(id)
		if !ok {
			notFound(w, fmt.Sprintf("The channel with ID %s was not found.", id))
			return
		}
		h(w, r, ts, ch)
	})
}

type teamsChannelJSON struct {
	ID          string          `json:"id"`
	DisplayName string          `json:"displayName"`
	TeamID      string          `json:"teamId"`
	Type        string          `json:"type"`
	Links       map[string]link `json:"_links"`
}

type teamsNodeJSON struct {
	TeamID      string          `json:"teamId"`
	ChannelID   string          `json:"channelId"`
	DisplayName string          `json:"displayName"`
	Type        string          `json:"type"`
	Links       map[string]link `json:"_links"`
}

type attachInfoJSON struct {
	Name         string `json:"name"`
	LongFileName string `json:"longFileName"`
	URL          string `json:"url"`
}

type teamsPostJSON struct {
	PostID           int64            `json:"postId"`
	ChangeKey        string           `json:"changeKey"`
	IsImportant      bool             `json:"isImportant"`
	Author           string           `json:"author"`
	Subject          string           `json:"subject"`
	CreatedTime      time.Time        `json:"createdTime"`
	LastModifiedTime time.Time        `json:"lastModifiedTime"`
	IsDeleted        bool             `json:"isDeleted"`
	ChannelID        string           `json:"channelId"`
	TeamID           string           `json:"teamId"`
	ParentID         *int64           `json:"parentId,omitempty"`
	Attachments      []attachInfoJSON `json:"attachments"`
	Links            map[string]link  `json:"_links"`
}

type teamsFileJSON struct {
	ID         string          `json:"id"`
	Name       string          `json:"name"`
	SizeBytes  int64           `json:"sizeBytes"`
	Version    int             `json:"version"`
	UIVersion  string          `json:"uiVersion"`
	Modified   time.Time       `json:"modified"`
	ModifiedBy string          `json:"modifiedBy"`
	ChannelID  string          `json:"channelId"`
	TeamID     string          `json:"teamId"`
	FileType   string          `json:"fileType"`
	Links      map[string]link `json:"_links"`
}

type teamsTabJSON struct {
	ID          string          `json:"id"`
	DisplayName string          `json:"displayName"`
	ContentURL  string          `json:"contentUrl"`
	Type        string          `json:"type"`
	ChannelID   string          `json:"channelId"`
	TeamID      string          `json:"teamId"`
	Links       map[string]link `json:"_links"`
}

func (ts *teamScope) channelView(ch *teamChannel) teamsChannelJSON {
	return teamsChannelJSON{ID: ch.id, DisplayName: ch.name, TeamID: ts.td.team.ID, Type: ch.typ,
		Links: map[string]link{"self": {Href: ts.base + "/channels/" + url.PathEscape(ch.id)}}}
}

// postDeleted: a post deleted before the point is shown as deleted (VB365 keeps it).
func (ts *teamScope) postView(ch *teamChannel, p *teamPost) teamsPostJSON {
	v := teamsPostJSON{PostID: p.id, ChangeKey: strconv.FormatInt(p.created.Unix(), 36), IsImportant: p.important, Author: p.author,
		Subject: p.subject, CreatedTime: p.created, LastModifiedTime: p.created, IsDeleted: !p.deleted.IsZero() && !p.deleted.After(ts.at),
		ChannelID: ch.id, TeamID: ts.td.team.ID, Attachments: []attachInfoJSON{},
		Links: map[string]link{"self": {Href: ts.base + "/posts/" + strconv.FormatInt(p.id, 10) + "?channelId=" + url.QueryEscape(ch.id)}}}
	if p.parent != 0 {
		parent := p.parent
		v.ParentID = &parent
	}
	for _, a := range p.attachments {
		v.Attachments = append(v.Attachments, attachInfoJSON{Name: a, LongFileName: a,
			URL: "https://contoso.sharepoint.com/sites/" + strings.Split(ts.td.team.Mail, "@")[0] + "/Shared Documents/" + url.PathEscape(ch.name) + "/" + url.PathEscape(a)})
	}
	return v
}

func (ts *teamScope) fileView(ch *teamChannel, f *teamFile, n int) teamsFileJSON {
	ver := f.versions[n-1]
	v := teamsFileJSON{ID: f.id, Name: f.name, Version: n, UIVersion: fmt.Sprintf("%d.0", n), Modified: ver.at, ModifiedBy: ver.by,
		ChannelID: ch.id, TeamID: ts.td.team.ID, FileType: "File",
		Links: map[string]link{"self": {Href: ts.base + "/channels/" + url.PathEscape(ch.id) + "/files/" + f.id}}}
	if f.folder {
		v.FileType, v.Version, v.UIVersion = "Folder", 1, "1.0"
	} else {
		v.SizeBytes = ver.size
		v.Links["versions"] = link{Href: v.Links["self"].Href + "/versions"}
	}
	return v
}

func (ts *teamScope) tabView(ch *teamChannel, t *teamTab) teamsTabJSON {
	return teamsTabJSON{ID: t.id, DisplayName: t.name, ContentURL: t.url, Type: t.typ, ChannelID: ch.id, TeamID: ts.td.team.ID,
		Links: map[string]link{"self": {Href: ts.base + "/channels/" + url.PathEscape(ch.id) + "/tabs/" + t.id}}}
}

func (ts *teamScope) visiblePosts(ch *teamChannel) []*teamPost {
	var out []*teamPost
	for _, p := range ch.posts {
		if !p.created.After(ts.at) {
			out = append(out, p)
		}
	}
	return out
}

func (ts *teamScope) visibleFiles(ch *teamChannel) []*teamFile {
	var out []*teamFile
	for _, f := range ch.files {
		if f.versionAt(ts.at) > 0 {
			out = append(out, f)
		}
	}
	return out
}

func (ts *teamScope) visibleTabs(ch *teamChannel) []*teamTab {
	var out []*teamTab
	for _, t := range ch.tabs {
		if existedAt(t.created, t.removed, ts.at) {
			out = append(out, t)
		}
	}
	return out
}

func (s *Server) teamsRoutes(m *http.ServeMux) {
	tm := "/v8/RestoreSessions/{restoreSessionId}/organization/teams/{teamId}"
	inTeam := func(pattern string, h func(http.ResponseWriter, *http.Request, *teamScope)) {
		m.HandleFunc(pattern, s.authed(s.inTeam(h)))
	}
	channel := func(pattern string, h func(http.ResponseWriter, *http.Request, *teamScope, *teamChannel)) {
		m.HandleFunc(pattern, s.authed(s.inChannel(false, h)))
	}
	inTeam("GET "+tm, func(w http.ResponseWriter, r *http.Request, ts *teamScope) {
		t := ts.td.team
		writeJSON(w, http.StatusOK, team{ID: t.ID, DisplayName: t.DisplayName, Description: t.Description, GroupEmail: t.Mail,
			Alias: strings.Split(t.Mail, "@")[0], Privacy: t.Privacy, IsArchived: t.Archived, Links: map[string]link{"self": {Href: ts.base}}})
	})
	inTeam("GET "+tm+"/channels", func(w http.ResponseWriter, r *http.Request, ts *teamScope) {
		offset, limit, ok := pageParams(w, r)
		if !ok {
			return
		}
		filter := wildcard(r.URL.Query().Get("displayName"))
		var out []teamsChannelJSON
		for _, ch := range ts.td.channels {
			if existedAt(ch.created, ch.deleted, ts.at) && (filter == nil || filter.MatchString(ch.name)) {
				out = append(out, ts.channelView(ch))
			}
		}
		writeJSON(w, http.StatusOK, paginate(r, out, offset, limit))
	})
	channel("GET "+tm+"/channels/{channelId}", func(w http.ResponseWriter, r *http.Request, ts *teamScope, ch *teamChannel) {
		writeJSON(w, http.StatusOK, ts.channelView(ch))
	})
	channel("GET "+tm+"/channels/{channelId}/children", func(w http.ResponseWriter, r *http.Request, ts *teamScope, ch *teamChannel) {
		offset, limit, ok := pageParams(w, r)
		if !ok {
			return
		}
		var out []teamsNodeJSON
		for _, typ := range []string{"Posts", "Files", "Tabs"} {
			out = append(out, teamsNodeJSON{TeamID: ts.td.team.ID, ChannelID: ch.id, DisplayName: typ, Type: typ,
				Links: map[string]link{"self": {Href: ts.base + "/channels/" + url.PathEscape(ch.id) + "/children"}}})
		}
		writeJSON(w, http.StatusOK, paginate(r, out, offset, limit))
	})
	inTeam("GET "+tm+"/posts", func(w http.ResponseWriter, r *http.Request, ts *teamScope) {
		offset, limit, ok := pageParams(w, r)
		if !ok {
			return
		}
		q := r.URL.Query()
		var parent int64
		if v := q.Get("parentId"); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				badRequest(w, "parentId must be a post id, or -1 for parent posts only.")
				return
			}
			parent = n
		}
		var chans []*teamChannel
		if id := q.Get("channelId"); id != "" {
			ch, ok := ts.channel(id)
			if !ok {
				notFound(w, fmt.Sprintf("The channel with ID %s was not found.", id))
				return
			}
			chans = []*teamChannel{ch}
		} else {
			for _, ch := range ts.td.channels {
				if existedAt(ch.created, ch.deleted, ts.at) {
					chans = append(chans, ch)
				}
			}
		}
		var out []teamsPostJSON
		for _, ch := range chans {
			posts := ts.visiblePosts(ch)
			// Newest thread first; replies oldest first, as a conversation reads.
			if parent > 0 {
				slices.SortFunc(posts, func(a, b *teamPost) int { return a.created.Compare(b.created) })
			} else {
				slices.SortFunc(posts, func(a, b *teamPost) int { return b.created.Compare(a.created) })
			}
			for _, p := range posts {
				switch {
				case parent == -1 && p.parent != 0, parent > 0 && p.parent != parent:
					continue
				}
				out = append(out, ts.postView(ch, p))
			}
		}
		writeJSON(w, http.StatusOK, paginate(r, out, offset, limit))
	})
	inTeam("GET "+tm+"/posts/{postId}", func(w http.ResponseWriter, r *http.Request, ts *teamScope) {
		id, err := strconv.ParseInt(r.PathValue("postId"), 10, 64)
		if err != nil {
			badRequest(w, "postId must be a number.")
			return
		}
		for _, ch := range ts.td.channels {
			if !existedAt(ch.created, ch.deleted, ts.at) {
				continue
			}
			if c := r.URL.Query().Get("channelId"); c != "" && c != ch.id {
				continue
			}
			for _, p := range ts.visiblePosts(ch) {
				if p.id == id {
					writeJSON(w, http.StatusOK, ts.postView(ch, p))
					return
				}
			}
		}
		notFound(w, fmt.Sprintf("The post with ID %d was not found.", id))
	})
	inTeam("GET "+tm+"/files", func(w http.ResponseWriter, r *http.Request, ts *teamScope) {
		offset, limit, ok := pageParams(w, r)
		if !ok {
			return
		}
		q := r.URL.Query()
		ch, ok := ts.channel(q.Get("channelId"))
		if !ok {
			notFound(w, fmt.Sprintf("The channel with ID %s was not found.", q.Get("channelId")))
			return
		}
		parent := q.Get("parentId")
		if parent == "" {
			parent = "root"
		}
		foldersOnly := q.Get("foldersOnly") == "true"
		var out []teamsFileJSON
		files := ts.visibleFiles(ch)
		slices.SortStableFunc(files, func(a, b *teamFile) int {
			if a.folder != b.folder {
				if a.folder {
					return -1
				}
				return 1
			}
			return strings.Compare(strings.ToLower(a.name), strings.ToLower(b.name))
		})
		for _, f := range files {
			if f.parent == parent && (!foldersOnly || f.folder) {
				out = append(out, ts.fileView(ch, f, f.versionAt(ts.at)))
			}
		}
		writeJSON(w, http.StatusOK, paginate(r, out, offset, limit))
	})
	file := func(ts *teamScope, ch *teamChannel, w http.ResponseWriter, r *http.Request) (*teamFile, bool) {
		for _, f := range ts.visibleFiles(ch) {
			if f.id == r.PathValue("fileId") {
				return f, true
			}
		}
		notFound(w, fmt.Sprintf("The file with ID %s was not found.", r.PathValue("fileId")))
		return nil, false
	}
	channel("GET "+tm+"/channels/{channelId}/files/{fileId}", func(w http.ResponseWriter, r *http.Request, ts *teamScope, ch *teamChannel) {
		if f, ok := file(ts, ch, w, r); ok {
			writeJSON(w, http.StatusOK, ts.fileView(ch, f, f.versionAt(ts.at)))
		}
	})
	channel("GET "+tm+"/channels/{channelId}/files/{fileId}/versions", func(w http.ResponseWriter, r *http.Request, ts *teamScope, ch *teamChannel) {
		offset, limit, ok := pageParams(w, r)
		if !ok {
			return
		}
		f, ok := file(ts, ch, w, r)
		if !ok {
			return
		}
		var out []teamsFileJSON
		for n := f.versionAt(ts.at); n >= 1 && !f.folder; n-- {
			out = append(out, ts.fileView(ch, f, n))
		}
		writeJSON(w, http.StatusOK, paginate(r, out, offset, limit))
	})
	channel("GET "+tm+"/channels/{channelId}/tabs", func(w http.ResponseWriter, r *http.Request, ts *teamScope, ch *teamChannel) {
		offset, limit, ok := pageParams(w, r)
		if !ok {
			return
		}
		var out []teamsTabJSON
		for _, t := range ts.visibleTabs(ch) {
			out = append(out, ts.tabView(ch, t))
		}
		writeJSON(w, http.StatusOK, paginate(r, out, offset, limit))
	})
	inTeam("POST "+tm+"/search", func(w http.ResponseWriter, r *http.Request, ts *teamScope) { s.teamsSearch(w, r, ts, nil) })
	channel("POST "+tm+"/channels/{channelId}/search", func(w http.ResponseWriter, r *http.Request, ts *teamScope, ch *teamChannel) {
		s.teamsSearch(w, r, ts, ch)
	})
	channel("GET "+tm+"/channels/{channelId}/tabs/{tabId}", func(w http.ResponseWriter, r *http.Request, ts *teamScope, ch *teamChannel) {
		for _, t := range ts.visibleTabs(ch) {
			if t.id == r.PathValue("tabId") {
				writeJSON(w, http.StatusOK, ts.tabView(ch, t))
				return
			}
		}
		notFound(w, fmt.Sprintf("The tab with ID %s was not found.", r.PathValue("tabId")))
	})
}
