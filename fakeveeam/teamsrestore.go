package fakeveeam

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"sync"
	"time"
)

// teamProduction is a team as it is now: what existed at the anchor, then
// what restores brought back.
type teamProduction struct {
	mu       sync.Mutex
	channels map[string]*prodChannel
}

type prodChannel struct {
	ch       *teamChannel
	restored bool
	members  []string
	tabs     map[string]bool // present tabs
	files    map[string][]teamFileVersion
	restFile map[string]bool
	posts    map[int64]bool // present posts
}

func (td *teamData) production(anchor time.Time) *teamProduction {
	td.prodOnce.Do(func() {
		p := &teamProduction{channels: map[string]*prodChannel{}}
		for _, ch := range td.channels {
			if !existedAt(ch.created, ch.deleted, anchor) {
				continue
			}
			p.channels[ch.id] = newProdChannel(ch, anchor, false)
			p.channels[ch.id].members = slices.Clone(ch.members)
		}
		td.prod = p
	})
	return td.prod
}

// newProdChannel is a channel's content as it was at t.
func newProdChannel(ch *teamChannel, t time.Time, restored bool) *prodChannel {
	pc := &prodChannel{ch: ch, restored: restored, tabs: map[string]bool{}, files: map[string][]teamFileVersion{},
		restFile: map[string]bool{}, posts: map[int64]bool{}}
	for _, tb := range ch.tabs {
		if existedAt(tb.created, tb.removed, t) {
			pc.tabs[tb.id] = true
		}
	}
	for _, f := range ch.files {
		if n := f.versionAt(t); n > 0 {
			pc.files[f.id] = slices.Clone(f.versions[:n])
		}
	}
	for _, p := range ch.posts {
		if !p.created.After(t) && (p.deleted.IsZero() || p.deleted.After(t)) {
			pc.posts[p.id] = true
		}
	}
	return pc
}

// ProductionTeamFile is a file of a live channel, as tests see it.
type ProductionTeamFile struct {
	Name     string
	Versions int
	Size     int64 // of the latest version
	Restored bool
}

// ProductionTeamChannel is a live channel, as tests see it.
type ProductionTeamChannel struct {
	ID, Name, Type string
	Members        []string
	Restored       bool
	Tabs           []string
	Files          []ProductionTeamFile
	Posts          int
}

// ProductionTeam lists a team's live channels and their content, restores included.
func (s *Server) ProductionTeam(teamID string) []ProductionTeamChannel {
	td, ok := s.teamsData.team(teamID)
	if !ok {
		return nil
	}
	s.mu.Lock()
	s.advanceAll()
	s.mu.Unlock()
	p := td.production(s.teamsData.anchor)
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []ProductionTeamChannel
	for _, pc := range p.channels {
		c := ProductionTeamChannel{ID: pc.ch.id, Name: pc.ch.name, Type: pc.ch.typ, Members: slices.Clone(pc.members), Restored: pc.restored,
			Posts: len(pc.posts)}
		for _, tb := range pc.ch.tabs {
			if pc.tabs[tb.id] {
				c.Tabs = append(c.Tabs, tb.name)
			}
		}
		for _, f := range pc.ch.files {
			if vs, ok := pc.files[f.id]; ok && !f.folder {
				c.Files = append(c.Files, ProductionTeamFile{Name: f.name, Versions: len(vs), Size: vs[len(vs)-1].size, Restored: pc.restFile[f.id]})
			}
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// teamsWork is an operatorRestore of Teams objects.
type teamsWork struct {
	td       *teamData
	anchor   time.Time
	point    time.Time
	missing  bool
	changed  bool
	members  bool
	versions string // files: Last or All
}

func (w *teamsWork) lock() func() {
	p := w.td.production(w.anchor)
	p.mu.Lock()
	return p.mu.Unlock
}

// teamTarget is what one restore target names.
type teamTarget struct {
	channel *teamChannel
	tab     *teamTab
	file    *teamFile
	post    *teamPost
}

func (w *teamsWork) apply(s *Server, job *restoreJob, t *restoreTarget) (status, message string, created bool) {
	if msg, fail := s.failing(t.name); fail {
		return "Failed", msg, false
	}
	tt := t.teams
	p := w.td.production(w.anchor)
	pc := p.channels[tt.channel.id]
	switch {
	case tt.tab == nil && tt.file == nil && tt.post == nil: // a channel
		if pc == nil {
			if !w.missing {
				return "Skipped", "The channel is missing, and missing items were not chosen.", false
			}
			pc = newProdChannel(tt.channel, w.point, true)
			if w.members {
				pc.members = slices.Clone(tt.channel.members)
			}
			p.channels[tt.channel.id] = pc
			return "Success", "", true
		}
		if w.members && len(pc.members) == 0 {
			pc.members = slices.Clone(tt.channel.members)
		}
		back := newProdChannel(tt.channel, w.point, false)
		n := 0
		for id := range back.tabs {
			if !pc.tabs[id] && w.missing {
				pc.tabs[id], n = true, n+1
			}
		}
		for id := range back.posts {
			if !pc.posts[id] && w.missing {
				pc.posts[id], n = true, n+1
			}
		}
		for id, vs := range back.files {
			cur, ok := pc.files[id]
			switch {
			case !ok && w.missing:
				pc.files[id], pc.restFile[id], n = vs, true, n+1
			case ok && w.changed && cur[len(cur)-1] != vs[len(vs)-1]:
				pc.files[id], pc.restFile[id], n = append(cur, vs[len(vs)-1]), true, n+1
			}
		}
		if n == 0 {
			return "Skipped", "Nothing in the channel has changed or gone missing since the restore point.", false
		}
		return "Success", "", false
	case pc == nil:
		return "Failed", "The channel no longer exists. Restore the channel first.", false
	case tt.tab != nil:
		if pc.tabs[tt.tab.id] {
			return "Skipped", "The tab is there and unchanged.", false
		}
		if !w.missing {
			return "Skipped", "The tab is missing, and missing tabs were not chosen.", false
		}
		pc.tabs[tt.tab.id] = true
		return "Success", "", true
	case tt.file != nil:
		n := tt.file.versionAt(w.point)
		want := tt.file.versions[:n]
		cur, ok := pc.files[tt.file.id]
		switch {
		case !ok && !w.missing:
			return "Skipped", "The file is missing, and missing items were not chosen.", false
		case !ok:
			if w.versions == "Last" {
				want = want[n-1:]
			}
			pc.files[tt.file.id], pc.restFile[tt.file.id] = slices.Clone(want), true
			return "Success", "", true
		case cur[len(cur)-1] == want[n-1]:
			return "Skipped", "The file has not changed since the restore point.", false
		case !w.changed:
			return "Skipped", "The file has changed, and changed items were not chosen.", false
		}
		add := want[n-1:]
		if w.versions == "All" {
			add = want
		}
		pc.files[tt.file.id], pc.restFile[tt.file.id] = append(cur, add...), true
		return "Success", "", false
	default:
		if pc.posts[tt.post.id] {
			return "Skipped", "The post is there.", false
		}
		pc.posts[tt.post.id] = true
		return "Success", "", true
	}
}

func (w *teamsWork) details(job *restoreJob, working bool) []restoreDetails {
	var items []restoreDetails
	for _, t := range job.targets {
		items = append(items, itemDetails(t, t.teamsID, t.itemType))
	}
	return items
}

func (s *Server) teamsRestoreRoutes(m *http.ServeMux) {
	// Whole teams: every channel of the restore point, with the options.
	m.HandleFunc("POST /v8/RestoreSessions/{restoreSessionId}/organization/teams/operatorRestore", s.authed(s.inSessionC("Vet",
		func(w http.ResponseWriter, r *http.Request, rs *restoreSession, c *caller) {
			var body struct {
				Teams []struct {
					ID string `json:"id"`
				} `json:"teams"`
				Changed       *bool   `json:"restoreChangedItems"`
				Members       *bool   `json:"restoreMembers"`
				Missing       *bool   `json:"restoreMissingItems"`
				Settings      *bool   `json:"restoreSettings"`
				Impersonation *string `json:"impersonationAccountName"`
				Reason        string  `json:"reason"`
			}
			if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Changed == nil || body.Members == nil || body.Missing == nil ||
				body.Settings == nil || len(body.Teams) != 1 {
				badRequest(w, "Specify one team and restoreChangedItems, restoreMembers, restoreMissingItems and restoreSettings.")
				return
			}
			id := body.Teams[0].ID
			s.mu.Lock()
			visible := rs.scope.teams[id]
			s.mu.Unlock()
			td, ok := s.teamsData.team(id)
			if !visible || !ok {
				notFound(w, fmt.Sprintf("The team with ID %s was not found.", id))
				return
			}
			ts := &teamScope{rs: rs, td: td, at: rs.point.BackupTime}
			var targets []restoreTarget
			for _, ch := range td.channels {
				if existedAt(ch.created, ch.deleted, ts.at) {
					targets = append(targets, restoreTarget{name: ch.name, itemType: "TeamsChannel", source: ch.name, target: ch.name,
						teams: &teamTarget{channel: ch}, teamsID: ch.id})
				}
			}
			work := &teamsWork{td: td, anchor: s.teamsData.anchor, point: ts.at, missing: *body.Missing, changed: *body.Changed, members: *body.Members}
			s.startRestore(w, rs, c, "Vet", td.team.DisplayName, "the team "+td.team.DisplayName, "the original team", body.Reason, ts.at, targets, work)
		})))

	tm := "/v8/RestoreSessions/{restoreSessionId}/organization/teams/{teamId}"
	handle := func(pattern string, h func(http.ResponseWriter, *http.Request, *teamScope)) {
		m.HandleFunc(pattern, s.authed(s.inTeam(h)))
	}
	start := func(w http.ResponseWriter, ts *teamScope, work *teamsWork, targets []restoreTarget, what, reason string) {
		work.td, work.anchor, work.point = ts.td, s.teamsData.anchor, ts.at
		s.startRestore(w, ts.rs, ts.c, "Vet", ts.td.team.DisplayName, what, "the original team", reason, ts.at, targets, work)
	}
	channelTarget := func(ch *teamChannel) restoreTarget {
		return restoreTarget{name: ch.name, itemType: "TeamsChannel", source: ch.name, target: ch.name, teams: &teamTarget{channel: ch}, teamsID: ch.id}
	}
	handle("POST "+tm+"/channels/{channelId}/operatorRestore", func(w http.ResponseWriter, r *http.Request, ts *teamScope) {
		var body struct {
			Changed *bool  `json:"restoreChangedItems"`
			Missing *bool  `json:"restoreMissingItems"`
			Members *bool  `json:"restoreMembers"`
			Reason  string `json:"reason"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Changed == nil || body.Missing == nil {
			badRequest(w, "restoreChangedItems and restoreMissingItems are required.")
			return
		}
		ch, ok := ts.channel(r.PathValue("channelId"))
		if !ok {
			notFound(w, fmt.Sprintf("The channel with ID %s was not found.", r.PathValue("channelId")))
			return
		}
		work := &teamsWork{missing: *body.Missing, changed: *body.Changed, members: body.Members != nil && *body.Members}
		start(w, ts, work, []restoreTarget{channelTarget(ch)}, "the channel "+ch.name, body.Reason)
	})
	handle("POST "+tm+"/channels/{channelId}/tabs/operatorRestore", func(w http.ResponseWriter, r *http.Request, ts *teamScope) {
		var body struct {
			Tabs []struct {
				ID string `json:"id"`
			} `json:"tabs"`
			Changed *bool  `json:"restoreChangedTabs"`
			Missing *bool  `json:"restoreMissingTabs"`
			Reason  string `json:"reason"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Changed == nil || body.Missing == nil {
			badRequest(w, "restoreChangedTabs and restoreMissingTabs are required.")
			return
		}
		ch, ok := ts.channel(r.PathValue("channelId"))
		if !ok {
			notFound(w, fmt.Sprintf("The channel with ID %s was not found.", r.PathValue("channelId")))
			return
		}
		tabs := ts.visibleTabs(ch)
		var targets []restoreTarget
		for _, tb := range tabs {
			if len(body.Tabs) > 0 && !slices.ContainsFunc(body.Tabs, func(x struct {
				ID string `json:"id"`
			}) bool {
				return x.ID == tb.id
			}) {
				continue
			}
			targets = append(targets, restoreTarget{name: tb.name, itemType: "TeamsTab", source: ch.name + "/" + tb.name, target: ch.name + "/" + tb.name,
				teams: &teamTarget{channel: ch, tab: tb}, teamsID: tb.id})
		}
		if len(targets) == 0 || (len(body.Tabs) > 0 && len(targets) != len(body.Tabs)) {
			notFound(w, "A tab to restore was not found in the restore point.")
			return
		}
		start(w, ts, &teamsWork{missing: *body.Missing, changed: *body.Changed}, targets, "tabs of "+ch.name, body.Reason)
	})
	handle("POST "+tm+"/tabs/operatorRestore", func(w http.ResponseWriter, r *http.Request, ts *teamScope) {
		var body struct {
			Tabs []struct {
				ID        string `json:"id"`
				ChannelID string `json:"channelId"`
			} `json:"tabs"`
			Changed *bool  `json:"restoreChangedTabs"`
			Missing *bool  `json:"restoreMissingTabs"`
			Reason  string `json:"reason"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Changed == nil || body.Missing == nil || len(body.Tabs) == 0 {
			badRequest(w, "tabs, restoreChangedTabs and restoreMissingTabs are required.")
			return
		}
		var targets []restoreTarget
		for _, ref := range body.Tabs {
			ch, ok := ts.channel(ref.ChannelID)
			var tab *teamTab
			if ok {
				for _, tb := range ts.visibleTabs(ch) {
					if tb.id == ref.ID {
						tab = tb
					}
				}
			}
			if tab == nil {
				notFound(w, fmt.Sprintf("The tab with ID %s was not found.", ref.ID))
				return
			}
			targets = append(targets, restoreTarget{name: tab.name, itemType: "TeamsTab", source: ch.name + "/" + tab.name, target: ch.name + "/" + tab.name,
				teams: &teamTarget{channel: ch, tab: tab}, teamsID: tab.id})
		}
		start(w, ts, &teamsWork{missing: *body.Missing, changed: *body.Changed}, targets, "tabs", body.Reason)
	})
	handle("POST "+tm+"/files/operatorRestore", func(w http.ResponseWriter, r *http.Request, ts *teamScope) {
		var body struct {
			ChannelID string `json:"channelId"`
			Files     []struct {
				ID        string `json:"id"`
				ChannelID string `json:"channelId"`
			} `json:"files"`
			Changed *bool  `json:"restoreChangedItems"`
			Missing *bool  `json:"restoreMissingItems"`
			Version string `json:"fileVersion"`
			Reason  string `json:"reason"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Changed == nil || body.Missing == nil ||
			(body.Version != "All" && body.Version != "Last") || len(body.Files) == 0 {
			badRequest(w, "files, fileVersion (All or Last), restoreChangedItems and restoreMissingItems are required.")
			return
		}
		var targets []restoreTarget
		for _, ref := range body.Files {
			ch, ok := ts.channel(ref.ChannelID)
			var f *teamFile
			if ok {
				for _, x := range ts.visibleFiles(ch) {
					if x.id == ref.ID && !x.folder {
						f = x
					}
				}
			}
			if f == nil {
				notFound(w, fmt.Sprintf("The file with ID %s was not found.", ref.ID))
				return
			}
			targets = append(targets, restoreTarget{name: f.name, itemType: "TeamsFile", source: ch.name + "/" + f.name, target: ch.name + "/" + f.name,
				teams: &teamTarget{channel: ch, file: f}, teamsID: f.id})
		}
		start(w, ts, &teamsWork{missing: *body.Missing, changed: *body.Changed, versions: body.Version}, targets, "files", body.Reason)
	})
	handle("POST "+tm+"/posts/operatorRestore", func(w http.ResponseWriter, r *http.Request, ts *teamScope) {
		var body struct {
			ChannelID string `json:"channelId"`
			Posts     []struct {
				PostID int64 `json:"postId"`
			} `json:"posts"`
			Reason string `json:"reason"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.ChannelID == "" {
			badRequest(w, "channelId is required.")
			return
		}
		ch, ok := ts.channel(body.ChannelID)
		if !ok {
			notFound(w, fmt.Sprintf("The channel with ID %s was not found.", body.ChannelID))
			return
		}
		var targets []restoreTarget
		for _, p := range ts.visiblePosts(ch) {
			if len(body.Posts) > 0 && !slices.ContainsFunc(body.Posts, func(x struct {
				PostID int64 `json:"postId"`
			}) bool {
				return x.PostID == p.id
			}) {
				continue
			}
			name := p.subject
			if name == "" {
				name = "Reply by " + p.author
			}
			targets = append(targets, restoreTarget{name: name, itemType: "TeamsPost", source: ch.name, target: ch.name,
				teams: &teamTarget{channel: ch, post: p}, teamsID: fmt.Sprint(p.id)})
		}
		if len(targets) == 0 || (len(body.Posts) > 0 && len(targets) != len(body.Posts)) {
			notFound(w, "A post to restore was not found in the restore point.")
			return
		}
		start(w, ts, &teamsWork{missing: true}, targets, "posts of "+ch.name, body.Reason)
	})
}
