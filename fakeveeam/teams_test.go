package fakeveeam_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openrestore/portal/demotenant"
	"github.com/openrestore/portal/fakeveeam"
)

type teamsPage[T any] struct {
	Offset  int `json:"offset"`
	Limit   int `json:"limit"`
	Results []T `json:"results"`
}

type channelJSON struct{ ID, DisplayName, TeamID, Type string }

type postJSON struct {
	PostID      int64
	Author      string
	Subject     string
	CreatedTime time.Time
	IsDeleted   bool
	ParentID    *int64
	Attachments []struct{ Name string }
}

type fileJSON struct {
	ID, Name, FileType, UIVersion string
	Version                       int
	SizeBytes                     int64
}

type tabJSON struct{ ID, DisplayName, Type, ContentURL string }

func teamPath(sid, name string) string {
	for _, t := range demotenant.Contoso().Teams {
		if t.DisplayName == name {
			return "/v8/RestoreSessions/" + sid + "/organization/teams/" + t.ID
		}
	}
	panic(name)
}

func channelsOf(f *fixture, tok, team string) map[string]channelJSON {
	f.t.Helper()
	var p teamsPage[channelJSON]
	f.getJSON(team+"/channels?limit=50", tok, &p)
	out := map[string]channelJSON{}
	for _, c := range p.Results {
		out[c.DisplayName] = c
	}
	return out
}

func TestTeamsChannelsHistoryAndScope(t *testing.T) {
	t.Parallel()
	f := setup(t, fakeveeam.Options{})
	// Before its deletion the private channel is there; at the latest point it is gone.
	tok, sid := f.docSession(lee, "Vet", f.clock.Now().Add(-4*24*time.Hour))
	team := teamPath(sid, "Sales and Marketing")
	before := channelsOf(f, tok, team)
	deal, ok := before[fakeveeam.StoryDeletedChannel]
	if !ok || deal.Type != "Private" || before["Partners"].Type != "Shared" || before["General"].Type != "Standard" {
		t.Fatalf("channels four days ago: %v", before)
	}
	tok2, latest := f.docSession(lee, "Vet", time.Time{})
	if _, ok := channelsOf(f, tok2, teamPath(latest, "Sales and Marketing"))[fakeveeam.StoryDeletedChannel]; ok {
		t.Error("the deleted channel is in the latest point")
	}
	var children teamsPage[struct{ Type string }]
	f.getJSON(team+"/channels/"+url.PathEscape(deal.ID)+"/children", tok, &children)
	if len(children.Results) != 3 {
		t.Errorf("children: %v", children.Results)
	}
	// A team outside the session's scope is not found.
	if status, _ := f.get(teamPath(sid, "Retail")+"/channels", tok); status != http.StatusNotFound {
		t.Errorf("Retail for Lee: %d", status)
	}
}

func TestTeamsThreadsAndPosts(t *testing.T) {
	t.Parallel()
	f := setup(t, fakeveeam.Options{})
	tok, sid := f.docSession(lee, "Vet", time.Time{})
	team := teamPath(sid, "Sales and Marketing")
	general := channelsOf(f, tok, team)["General"]
	var parents teamsPage[postJSON]
	f.getJSON(team+"/posts?limit=200&parentId=-1&channelId="+url.QueryEscape(general.ID), tok, &parents)
	var thread *postJSON
	deleted := 0
	for i, p := range parents.Results {
		if p.ParentID != nil {
			t.Errorf("a reply among parent posts: %+v", p)
		}
		if p.Subject == fakeveeam.StoryThread {
			thread = &parents.Results[i]
		}
		if p.IsDeleted {
			deleted++
		}
	}
	if thread == nil || deleted == 0 {
		t.Fatalf("no story thread (%v) or no deleted post (%d)", thread, deleted)
	}
	var replies teamsPage[postJSON]
	f.getJSON(team+"/posts?limit=200&parentId="+strconv.FormatInt(thread.PostID, 10)+"&channelId="+url.QueryEscape(general.ID), tok, &replies)
	if len(replies.Results)+1 != fakeveeam.StoryThreadPosts {
		t.Errorf("%d replies", len(replies.Results))
	}
	for i := 1; i < len(replies.Results); i++ {
		if replies.Results[i].CreatedTime.Before(replies.Results[i-1].CreatedTime) {
			t.Error("replies are not in order")
		}
	}
	var one postJSON
	f.getJSON(team+"/posts/"+strconv.FormatInt(thread.PostID, 10)+"?channelId="+url.QueryEscape(general.ID), tok, &one)
	if one.Subject != fakeveeam.StoryThread || len(one.Attachments) != 1 {
		t.Errorf("the post: %+v", one)
	}
	if status, _ := f.get(team+"/posts/1?channelId="+url.QueryEscape(general.ID), tok); status != http.StatusNotFound {
		t.Errorf("no such post: %d", status)
	}
	if status, _ := f.malformed("GET", team+"/posts?parentId=x", tok, "", nil); status != http.StatusBadRequest {
		t.Errorf("bad parentId: %d", status)
	}
}

func TestTeamsFilesVersionsAndTabs(t *testing.T) {
	t.Parallel()
	f := setup(t, fakeveeam.Options{})
	tok, sid := f.docSession(isaiah, "Vet", time.Time{})
	team := teamPath(sid, "Mark 8 Project Team")
	general := channelsOf(f, tok, team)["General"]
	var root teamsPage[fileJSON]
	f.getJSON(team+"/files?limit=100&channelId="+url.QueryEscape(general.ID), tok, &root)
	if len(root.Results) == 0 || root.Results[0].FileType != "Folder" {
		t.Fatalf("root files, folders first: %+v", root.Results)
	}
	var plan *fileJSON
	for i, x := range root.Results {
		if x.Name == fakeveeam.StoryChannelFile {
			plan = &root.Results[i]
		}
	}
	// The latest point has the good version: it was overwritten badly this morning.
	if plan == nil || plan.Version != 3 || plan.SizeBytes == 2048 {
		t.Fatalf("the story file: %+v", plan)
	}
	var versions teamsPage[fileJSON]
	f.getJSON(team+"/channels/"+url.PathEscape(general.ID)+"/files/"+plan.ID+"/versions", tok, &versions)
	if len(versions.Results) != 3 || versions.Results[1].UIVersion != "2.0" {
		t.Errorf("versions: %+v", versions.Results)
	}
	var folders teamsPage[fileJSON]
	f.getJSON(team+"/files?foldersOnly=true&channelId="+url.QueryEscape(general.ID), tok, &folders)
	for _, x := range folders.Results {
		if x.FileType != "Folder" {
			t.Errorf("foldersOnly gave %+v", x)
		}
	}
	var inside teamsPage[fileJSON]
	f.getJSON(team+"/files?parentId="+folders.Results[0].ID+"&channelId="+url.QueryEscape(general.ID), tok, &inside)
	if len(inside.Results) == 0 {
		t.Error("the folder is empty")
	}
	// The removed tab is in yesterday's point, not in the latest.
	tabs := func(tok, team string) []string {
		var p teamsPage[tabJSON]
		f.getJSON(team+"/channels/"+url.PathEscape(general.ID)+"/tabs", tok, &p)
		var names []string
		for _, x := range p.Results {
			names = append(names, x.DisplayName)
		}
		return names
	}
	if slices.Contains(tabs(tok, team), fakeveeam.StoryRemovedTab) {
		t.Error("the removed tab is in the latest point")
	}
	tok2, older := f.docSession(isaiah, "Vet", f.clock.Now().Add(-2*24*time.Hour))
	if !slices.Contains(tabs(tok2, teamPath(older, "Mark 8 Project Team")), fakeveeam.StoryRemovedTab) {
		t.Error("the removed tab is not in the point before")
	}
}

func TestExportPostsWithOneTimeCodes(t *testing.T) {
	t.Parallel()
	f := setup(t, fakeveeam.Options{AuthCodeLifetime: time.Minute})
	tok, sid := f.docSession(lee, "Vet", time.Time{})
	team := teamPath(sid, "Sales and Marketing")
	general := channelsOf(f, tok, team)["General"]
	var parents teamsPage[postJSON]
	f.getJSON(team+"/posts?limit=500&parentId=-1&channelId="+url.QueryEscape(general.ID), tok, &parents)
	var thread postJSON
	for _, p := range parents.Results {
		if p.Subject == fakeveeam.StoryThread {
			thread = p
		}
	}
	var replies teamsPage[postJSON]
	f.getJSON(team+"/posts?limit=500&parentId="+strconv.FormatInt(thread.PostID, 10)+"&channelId="+url.QueryEscape(general.ID), tok, &replies)
	posts := []map[string]any{{"postId": thread.PostID, "channelId": general.ID}}
	for i := len(replies.Results) - 1; i >= 0; i-- { // out of order on purpose
		posts = append(posts, map[string]any{"postId": replies.Results[i].PostID, "channelId": general.ID})
	}
	body, _ := json.Marshal(map[string]any{"posts": posts})
	status, raw := f.post(team+"/posts/operatorStartExportTask", tok, "application/json", body)
	var task struct{ ExportTaskID string }
	if status != 200 || json.Unmarshal(raw, &task) != nil || task.ExportTaskID == "" {
		t.Fatalf("start: %d %s", status, raw)
	}
	code := func(tok string) string {
		t.Helper()
		var c struct{ AuthCode string }
		status, raw := f.post("/v8/token/AuthCode", tok, "", nil)
		if status != 200 || json.Unmarshal(raw, &c) != nil || c.AuthCode == "" {
			t.Fatalf("auth code: %d %s", status, raw)
		}
		return c.AuthCode
	}
	download := team + "/posts/operatorExport/" + task.ExportTaskID + "?authCode="
	first := code(tok)
	status, doc := f.get(download+url.QueryEscape(first), tok)
	if status != 200 {
		t.Fatalf("download: %d %s", status, doc)
	}
	// Twelve posts, oldest first, the parent first.
	html := string(doc)
	if n := strings.Count(html, `<article class="post"`); n != fakeveeam.StoryThreadPosts {
		t.Errorf("%d posts in the export", n)
	}
	last := -1
	for _, p := range append([]postJSON{thread}, replies.Results...) {
		i := strings.Index(html, `data-post-id="`+strconv.FormatInt(p.PostID, 10)+`"`)
		if i < last {
			t.Errorf("post %d out of order", p.PostID)
		}
		last = i
	}
	// A code works once, for its owner, while fresh.
	if status, _ := f.get(download+url.QueryEscape(first), tok); status != http.StatusForbidden {
		t.Errorf("a reused code: %d", status)
	}
	megTok := f.login(megan).AccessToken
	if status, _ := f.get(download+url.QueryEscape(code(megTok)), tok); status != http.StatusForbidden {
		t.Errorf("another operator's code: %d", status)
	}
	stale := code(tok)
	f.clock.Advance(2 * time.Minute)
	if status, _ := f.get(download+url.QueryEscape(stale), tok); status != http.StatusForbidden {
		t.Errorf("an expired code: %d", status)
	}
	// Posts of two channels cannot go in one export.
	announcements := channelsOf(f, tok, team)["Announcements"]
	body, _ = json.Marshal(map[string]any{"posts": []map[string]any{{"postId": thread.PostID, "channelId": general.ID}, {"postId": 1, "channelId": announcements.ID}}})
	if status, _ := f.post(team+"/posts/operatorStartExportTask", tok, "application/json", body); status != http.StatusBadRequest {
		t.Errorf("two channels: %d", status)
	}
}

func productionChannel(f *fixture, team, name string) (fakeveeam.ProductionTeamChannel, bool) {
	for _, c := range f.veeam.ProductionTeam(demotenant.ID("team", team)) {
		if c.Name == name {
			return c, true
		}
	}
	return fakeveeam.ProductionTeamChannel{}, false
}

func waitRestore(f *fixture, tok, id string) {
	f.t.Helper()
	for range 200 {
		var s struct{ State string }
		f.getJSON("/v8/RestoreSessions/"+id, tok, &s)
		if s.State != "Working" {
			return
		}
		f.clock.Advance(time.Second)
	}
	f.t.Fatal("the restore did not end")
}

func TestTeamsRestores(t *testing.T) {
	t.Parallel()
	f := setup(t, fakeveeam.Options{RestoreItemDuration: time.Millisecond})
	// Lee brings back the deleted private channel with its members.
	if _, ok := productionChannel(f, "Sales and Marketing", fakeveeam.StoryDeletedChannel); ok {
		t.Fatal("the channel is in production before the restore")
	}
	tok, sid := f.docSession(lee, "Vet", f.clock.Now().Add(-4*24*time.Hour))
	team := teamPath(sid, "Sales and Marketing")
	deal := channelsOf(f, tok, team)[fakeveeam.StoryDeletedChannel]
	start := func(path string, body any) string {
		t.Helper()
		b, _ := json.Marshal(body)
		status, raw := f.post(path, tok, "application/json", b)
		var out struct{ SessionID string }
		if status != 200 || json.Unmarshal(raw, &out) != nil {
			t.Fatalf("%s: %d %s", path, status, raw)
		}
		waitRestore(f, tok, out.SessionID)
		var st struct {
			RestoredItemsCount int
			Items              []struct{ ItemType, Status string }
		}
		f.getJSON("/v8/RestoreSessions/"+out.SessionID+"/Statistics", tok, &st)
		if st.RestoredItemsCount == 0 || len(st.Items) == 0 || !strings.HasPrefix(st.Items[0].ItemType, "Teams") {
			t.Errorf("statistics: %+v", st)
		}
		return out.SessionID
	}
	start(team+"/channels/"+url.PathEscape(deal.ID)+"/operatorRestore",
		map[string]any{"restoreChangedItems": true, "restoreMissingItems": true, "restoreMembers": true, "reason": "INC-1"})
	back, ok := productionChannel(f, "Sales and Marketing", fakeveeam.StoryDeletedChannel)
	if !ok || !back.Restored || len(back.Members) == 0 || back.Type != "Private" || back.Posts == 0 {
		t.Errorf("the channel after the restore: %+v", back)
	}
	// Isaiah brings back the removed tab.
	itok, isid := f.docSession(isaiah, "Vet", f.clock.Now().Add(-2*24*time.Hour))
	mark8 := teamPath(isid, "Mark 8 Project Team")
	general := channelsOf(f, itok, mark8)["General"]
	var tabs teamsPage[tabJSON]
	f.getJSON(mark8+"/channels/"+url.PathEscape(general.ID)+"/tabs", itok, &tabs)
	var removed string
	for _, x := range tabs.Results {
		if x.DisplayName == fakeveeam.StoryRemovedTab {
			removed = x.ID
		}
	}
	tok = itok
	start(mark8+"/channels/"+url.PathEscape(general.ID)+"/tabs/operatorRestore",
		map[string]any{"tabs": []map[string]string{{"id": removed}}, "restoreChangedTabs": false, "restoreMissingTabs": true})
	if g, _ := productionChannel(f, "Mark 8 Project Team", "General"); !slices.Contains(g.Tabs, fakeveeam.StoryRemovedTab) {
		t.Errorf("tabs after the restore: %v", g.Tabs)
	}
	// The badly overwritten file gets its previous version back.
	var files teamsPage[fileJSON]
	f.getJSON(mark8+"/files?channelId="+url.QueryEscape(general.ID), itok, &files)
	var plan fileJSON
	for _, x := range files.Results {
		if x.Name == fakeveeam.StoryChannelFile {
			plan = x
		}
	}
	before := fakeveeam.ProductionTeamFile{}
	g, _ := productionChannel(f, "Mark 8 Project Team", "General")
	for _, x := range g.Files {
		if x.Name == fakeveeam.StoryChannelFile {
			before = x
		}
	}
	start(mark8+"/files/operatorRestore", map[string]any{"files": []map[string]string{{"id": plan.ID, "channelId": general.ID}},
		"fileVersion": "Last", "restoreChangedItems": true, "restoreMissingItems": true})
	g, _ = productionChannel(f, "Mark 8 Project Team", "General")
	for _, x := range g.Files {
		if x.Name == fakeveeam.StoryChannelFile && (x.Versions != before.Versions+1 || x.Size != plan.SizeBytes || before.Size != 2048) {
			t.Errorf("the file: before %+v, after %+v, the point's %d bytes", before, x, plan.SizeBytes)
		}
	}
	// Bad bodies.
	for path, body := range map[string]any{
		mark8 + "/files/operatorRestore":                                            map[string]any{"files": []any{}, "fileVersion": "Last", "restoreChangedItems": true, "restoreMissingItems": true},
		mark8 + "/channels/" + url.PathEscape(general.ID) + "/operatorRestore":      map[string]any{"restoreMissingItems": true},
		mark8 + "/channels/" + url.PathEscape(general.ID) + "/tabs/operatorRestore": map[string]any{"restoreMissingTabs": true},
	} {
		b, _ := json.Marshal(body)
		if status, _ := f.malformed("POST", path, itok, "application/json", b); status != http.StatusBadRequest {
			t.Errorf("%s: %d", path, status)
		}
	}
}

func TestTeamsSearch(t *testing.T) {
	t.Parallel()
	f := setup(t, fakeveeam.Options{})
	tok, sid := f.docSession(lee, "Vet", time.Time{})
	team := teamPath(sid, "Sales and Marketing")
	search := func(path, typ, q string) (int, []map[string]any) {
		t.Helper()
		b, _ := json.Marshal(map[string]string{"type": typ, "query": q})
		status, raw := f.post(path+"?limit=200", tok, "application/json", b)
		var p struct{ Results []map[string]any }
		json.Unmarshal(raw, &p)
		return status, p.Results
	}
	status, posts := search(team+"/search", "Posts", `subject:"Q4 pricing"`)
	if status != 200 || len(posts) != 1 || posts[0]["subject"] != fakeveeam.StoryThread {
		t.Errorf("posts: %d %v", status, posts)
	}
	author, _ := posts[0]["author"].(string)
	_, byAuthor := search(team+"/search", "Posts", `author:"`+author+`" AND created:>=2020-01-01`)
	if len(byAuthor) == 0 {
		t.Errorf("no posts by %s", author)
	}
	for _, p := range byAuthor {
		if p["author"] != author {
			t.Errorf("a post by %v", p["author"])
		}
	}
	general := channelsOf(f, tok, team)["General"]
	ch := team + "/channels/" + url.PathEscape(general.ID)
	if _, files := search(ch+"/search", "Files", "ext:docx"); len(files) == 0 {
		t.Error("no docx files in General")
	}
	if _, tabs := search(ch+"/search", "Tabs", "name:Tasks"); len(tabs) != 1 {
		t.Errorf("tabs: %v", tabs)
	}
	bad, _ := json.Marshal(map[string]string{"type": "Chats", "query": "x"})
	if status, _ := f.malformed("POST", team+"/search", tok, "application/json", bad); status != http.StatusBadRequest {
		t.Errorf("a bad type: %d", status)
	}
	if status, _ := search(team+"/search", "Posts", "subject:(x"); status != http.StatusBadRequest {
		t.Errorf("a bad query: %d", status)
	}
}
