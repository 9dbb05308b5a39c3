package main

import (
	"encoding/base64"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/openrestore/portal/demotenant"
	"github.com/openrestore/portal/fakeveeam"
)

// openTeam opens a team from the session page.
func (b *browser) openTeam(sid, name string) response {
	t := b.s.t
	t.Helper()
	href := ""
	b.get("/sessions/" + sid).doc(t).Find("table.items tbody td a").Each(func(_ int, s *goquery.Selection) {
		if strings.TrimSpace(s.Text()) == name {
			href = s.AttrOr("href", "")
		}
	})
	if href == "" {
		t.Fatalf("no link to the team %q", name)
	}
	r := b.get(href)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("team %s: %d", name, r.StatusCode)
	}
	return r
}

func linkNamed(t testing.TB, r response, sel, name string) string {
	t.Helper()
	href := ""
	r.doc(t).Find(sel).Each(func(_ int, s *goquery.Selection) {
		if strings.TrimSpace(s.Text()) == name && href == "" {
			href = s.AttrOr("href", "")
		}
	})
	if href == "" {
		t.Fatalf("no link %q in %s", name, sel)
	}
	return href
}

func TestBrowseATeam(t *testing.T) {
	t.Parallel()
	s := startStack(t, quick)
	b := s.signedIn(lee)
	sid, _ := b.explore("teams")
	team := b.openTeam(sid, "Sales and Marketing")
	channels := texts(team.doc(t), `table.channel-items td[data-label="Channel"]`)
	for _, want := range []string{"General", "Announcements", "Planning", "Partners"} {
		if !slices.Contains(channels, want) {
			t.Errorf("no channel %s: %v", want, channels)
		}
	}
	if slices.Contains(channels, fakeveeam.StoryDeletedChannel) {
		t.Error("the deleted channel is in the latest point")
	}
	general := b.get(linkNamed(t, team, "table.channel-items a", "General"))
	if general.StatusCode != http.StatusOK {
		t.Fatalf("channel: %d", general.StatusCode)
	}
	// The story thread, in order.
	thread := ""
	general.doc(t).Find("ul.posts article").Each(func(_ int, s *goquery.Selection) {
		if strings.TrimSpace(s.Find("h3").Text()) == fakeveeam.StoryThread {
			thread = s.Find(`a[href*="/p/"]`).AttrOr("href", "")
		}
	})
	if thread == "" {
		// Not on the first page: follow the pager.
		for next := general; thread == ""; {
			href := next.doc(t).Find(`nav.pager a`).FilterFunction(func(_ int, s *goquery.Selection) bool {
				return strings.Contains(s.Text(), "Next page")
			}).AttrOr("href", "")
			if href == "" {
				t.Fatal("no story thread in General")
			}
			next = b.get(href)
			next.doc(t).Find("ul.posts article").Each(func(_ int, s *goquery.Selection) {
				if strings.TrimSpace(s.Find("h3").Text()) == fakeveeam.StoryThread {
					thread = s.Find(`a[href*="/p/"]`).AttrOr("href", "")
				}
			})
		}
	}
	tp := b.get(thread)
	replies := tp.doc(t).Find("ol.replies li article")
	if replies.Length() != fakeveeam.StoryThreadPosts-1 {
		t.Errorf("%d replies", replies.Length())
	}
	var times []string
	replies.Each(func(_ int, s *goquery.Selection) { times = append(times, s.Find("time").AttrOr("datetime", "")) })
	if !slices.IsSorted(times) {
		t.Errorf("replies out of order: %v", times)
	}
	if !strings.Contains(tp.doc(t).Find("ul.attachments").Text(), "Q4 price list.xlsx") {
		t.Error("the attachment is not shown")
	}
	// Files, folders first, with versions; tabs.
	files := b.get(general.Request.URL.Path + "?view=files")
	rows := texts(files.doc(t), `table.team-files td[data-label="Name"]`)
	if len(rows) == 0 || !strings.Contains(rows[0], "Folder") {
		t.Fatalf("files: %v", rows)
	}
	folder := b.get(files.doc(t).Find(`table.team-files td[data-label="Name"] a`).First().AttrOr("href", ""))
	file := b.get(folder.doc(t).Find(`table.team-files td[data-label="Name"] a`).First().AttrOr("href", ""))
	if file.StatusCode != http.StatusOK || file.doc(t).Find("table.versions tbody tr").Length() == 0 {
		t.Errorf("a file's versions: %d", file.StatusCode)
	}
	tabs := b.get(general.Request.URL.Path + "?view=tabs")
	if tabs.doc(t).Find("table.team-tabs tbody tr").Length() == 0 {
		t.Error("no tabs")
	}
	// The private channel deleted two days ago is in an older point.
	old := b.exploreDaysAgo("teams", 4)
	if got := texts(b.openTeam(old, "Sales and Marketing").doc(t), `table.channel-items td[data-label="Channel"]`); !slices.Contains(got, fakeveeam.StoryDeletedChannel) {
		t.Errorf("four days ago: %v", got)
	}
	// Hostile subjects and names stay text.
	var pages []response
	pages = append(pages, general, tp, files, folder, file, tabs)
	for i, p := range pages {
		checkNoInjectedMarkup(t, i, p.body)
	}
	// Bad input and other people's teams.
	if r := b.get(general.Request.URL.Path + "?view=chat"); r.StatusCode != http.StatusBadRequest {
		t.Errorf("view=chat: %d", r.StatusCode)
	}
	retail := "/sessions/" + sid + "/teams/" + base64.RawURLEncoding.EncodeToString([]byte(demotenant.ID("team", "Retail")))
	if r := b.get(retail); r.StatusCode != http.StatusNotFound || strings.Contains(r.body, "Retail") {
		t.Errorf("Retail for Lee: %d", r.StatusCode)
	}
	if r := b.get(thread[:strings.LastIndex(thread, "/")] + "/abc"); r.StatusCode != http.StatusNotFound {
		t.Errorf("a bad post id: %d", r.StatusCode)
	}
}

// TestExportAConversation: the thread of twelve posts arrives as one HTML
// file, in order; the one-time code stays on the server; the export is audited.
func TestExportAConversation(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{veeam: quick.veeam, env: map[string]string{"PORTAL_AUDITORS": demotenant.AuditorRole}})
	b := s.signedIn(lee)
	sid, _ := b.explore("teams")
	team := b.openTeam(sid, "Sales and Marketing")
	general := b.get(linkNamed(t, team, "table.channel-items a", "General"))
	thread := ""
	for page := general; thread == ""; {
		page.doc(t).Find("ul.posts article").Each(func(_ int, s *goquery.Selection) {
			if strings.TrimSpace(s.Find("h3").Text()) == fakeveeam.StoryThread {
				thread = s.Find(`a[href*="/p/"]`).AttrOr("href", "")
			}
		})
		next := page.doc(t).Find(`nav.pager a`).FilterFunction(func(_ int, s *goquery.Selection) bool {
			return strings.Contains(s.Text(), "Next page")
		}).AttrOr("href", "")
		if thread == "" && next == "" {
			t.Fatal("no story thread")
		}
		if thread == "" {
			page = b.get(next)
		}
	}
	tp := b.get(thread)
	export := tp.doc(t).Find(`form[action$="/export"]`).AttrOr("action", "")
	r := b.post(export, nil)
	if r.StatusCode != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(r.Header.Get("Content-Disposition"), "attachment") || !strings.Contains(r.Header.Get("Content-Security-Policy"), "sandbox") {
		t.Fatalf("export: %d %v", r.StatusCode, r.Header)
	}
	if n := strings.Count(r.body, `<article class="post"`); n != fakeveeam.StoryThreadPosts {
		t.Errorf("%d posts exported", n)
	}
	// Oldest first, the parent post first.
	times := regexp.MustCompile(`<time datetime="([^"]+)"`).FindAllStringSubmatch(r.body, -1)
	for i := 1; i < len(times); i++ {
		if times[i][1] < times[i-1][1] {
			t.Errorf("post %d is out of order", i)
		}
	}
	if !strings.Contains(r.body, "<h3>"+html.EscapeString(fakeveeam.StoryThread)+"</h3>") {
		t.Error("the parent post is not in the export")
	}
	for _, code := range s.veeam.AuthCodesIssued() {
		if strings.Contains(r.body, code) || strings.Contains(strings.Join(r.Header.Values("Location"), ""), code) || strings.Contains(s.logs.String(), code) {
			t.Error("the one-time code left the server")
		}
	}
	// Two ticked posts of the channel.
	var picks []string
	general.doc(t).Find(`ul.posts input[name="post"]`).Each(func(i int, s *goquery.Selection) {
		if i < 2 {
			picks = append(picks, s.AttrOr("value", ""))
		}
	})
	sel := b.post(general.Request.URL.Path+"/export", url.Values{"post": picks})
	if sel.StatusCode != http.StatusOK || strings.Count(sel.body, `<article class="post"`) != 2 {
		t.Errorf("selected posts: %d, %d posts", sel.StatusCode, strings.Count(sel.body, `<article class="post"`))
	}
	if r := b.post(general.Request.URL.Path+"/export", url.Values{}); r.StatusCode != http.StatusBadRequest {
		t.Errorf("nothing ticked: %d", r.StatusCode)
	}
	got := auditRows(t, s.signedIn(joni), url.Values{"workload": {"teams"}})
	if len(got) != 3 || got[2]["action"] != "export" || got[2]["outcome"] != "succeeded" || got[2]["item_count"] != "12" ||
		got[2]["on_behalf_of"] != "Sales and Marketing" || got[0]["outcome"] != "refused" {
		t.Errorf("the trail: %v", got)
	}
}

// teamRestore runs the Teams wizard from a channel page's form and returns the restore page.
func (b *browser) teamRestore(channel string, selection, choices url.Values) response {
	t := b.s.t
	t.Helper()
	wizard := b.openWizard(channel, selection)
	if wizard.StatusCode != http.StatusOK {
		t.Fatalf("wizard: %d %s", wizard.StatusCode, wizard.body)
	}
	return b.submitWizard(wizard, choices)
}

func prodChannel(s *stack, team, name string) (fakeveeam.ProductionTeamChannel, bool) {
	for _, c := range s.veeam.ProductionTeam(demotenant.ID("team", team)) {
		if c.Name == name {
			return c, true
		}
	}
	return fakeveeam.ProductionTeamChannel{}, false
}

func TestTeamsRestoreJourneys(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{veeam: quick.veeam, env: map[string]string{"PORTAL_RESTORE_REASON": "others"}})
	// Lee restores the deleted private channel with its members.
	lb := s.signedIn(lee)
	old := lb.exploreDaysAgo("teams", 4)
	team := lb.openTeam(old, "Sales and Marketing")
	deal := linkNamed(t, team, "table.channel-items a", fakeveeam.StoryDeletedChannel)
	wizard := lb.openWizard(deal, url.Values{"kind": {"channel"}})
	if wizard.doc(t).Find("#t-members[checked]").Length() != 1 || wizard.doc(t).Find("#reason[required]").Length() != 1 {
		t.Errorf("the channel wizard: members offered and chosen, reason required:\n%s", wizard.doc(t).Find("form.wizard").Text())
	}
	back := lb.refusedWizard(lb.teamRestore(deal, url.Values{"kind": {"channel"}}, url.Values{"missing": {"1"}, "changed": {"1"}, "members": {"1"}}))
	if !strings.Contains(back.doc(t).Find("#reason-error").Text(), "reason is required") {
		t.Errorf("without a reason: %s", back.doc(t).Find("main").Text())
	}
	r := lb.teamRestore(deal, url.Values{"kind": {"channel"}}, url.Values{"missing": {"1"}, "changed": {"1"}, "members": {"1"}, "reason": {"INC-9: deleted by mistake"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("channel restore: %d %s", r.StatusCode, r.body)
	}
	if st := lb.waitRestore(r.Header.Get("Location")).doc(t).Find(".status").Text(); !strings.Contains(st, "Finished") {
		t.Errorf("status %q", st)
	}
	if ch, ok := prodChannel(s, "Sales and Marketing", fakeveeam.StoryDeletedChannel); !ok || !ch.Restored || len(ch.Members) == 0 {
		t.Errorf("the channel in production: %+v", ch)
	}
	// Isaiah restores the removed tab.
	ib := s.signedIn("IsaiahL@contoso.onmicrosoft.com")
	isid := ib.exploreDaysAgo("teams", 2)
	mark8 := ib.openTeam(isid, "Mark 8 Project Team")
	general := linkNamed(t, mark8, "table.channel-items a", "General")
	tabs := ib.get(general + "?view=tabs")
	tabID := ""
	tabs.doc(t).Find("table.team-tabs tbody tr").Each(func(_ int, s *goquery.Selection) {
		if strings.TrimSpace(s.Find(`td[data-label="Tab"]`).Text()) == fakeveeam.StoryRemovedTab {
			tabID = s.Find(`input[name="tab"]`).AttrOr("value", "")
		}
	})
	if tabID == "" {
		t.Fatal("no removed tab in the point before")
	}
	r = ib.teamRestore(general, url.Values{"kind": {"tabs"}, "tab": {tabID}}, url.Values{"missing": {"1"}, "reason": {"the checklist is gone"}})
	ib.waitRestore(r.Header.Get("Location"))
	if g, _ := prodChannel(s, "Mark 8 Project Team", "General"); !slices.Contains(g.Tabs, fakeveeam.StoryRemovedTab) {
		t.Errorf("tabs now: %v", g.Tabs)
	}
	// Alex restores the previous version of the channel file he overwrote.
	ab := s.signedIn("AlexW@contoso.onmicrosoft.com")
	asid, _ := ab.explore("teams")
	ageneral := linkNamed(t, ab.openTeam(asid, "Mark 8 Project Team"), "table.channel-items a", "General")
	files := ab.get(ageneral + "?view=files")
	fileKey, fileURL := "", ""
	files.doc(t).Find("table.team-files tbody tr").Each(func(_ int, s *goquery.Selection) {
		if strings.TrimSpace(s.Find(`td[data-label="Name"] a`).Text()) == fakeveeam.StoryChannelFile {
			fileKey, fileURL = s.Find(`input[name="file"]`).AttrOr("value", ""), s.Find(`td[data-label="Name"] a`).AttrOr("href", "")
		}
	})
	if fileKey == "" {
		t.Fatal("no story file")
	}
	if d := ab.get(fileURL).doc(t); d.Find(`form input[name="file"]`).AttrOr("value", "") != fileKey || d.Find("table.versions tbody tr").Length() != 3 {
		t.Error("the file page offers no restore or lacks versions")
	}
	r = ab.teamRestore(ageneral, url.Values{"kind": {"files"}, "file": {fileKey}}, url.Values{"changed": {"1"}, "versions": {"last"}, "reason": {"overwrote it"}})
	ab.waitRestore(r.Header.Get("Location"))
	g, _ := prodChannel(s, "Mark 8 Project Team", "General")
	for _, f := range g.Files {
		if f.Name == fakeveeam.StoryChannelFile && (f.Versions != 5 || f.Size == 2048 || !f.Restored) {
			t.Errorf("the file now: %+v", f)
		}
	}
	// My restores lists them as Teams restores.
	if list := ab.get("/restores").doc(t).Find("table.items tbody").Text(); !strings.Contains(list, "Teams: Mark 8 Project Team › General") {
		t.Errorf("My restores: %s", list)
	}
	// Lee brings back a post deleted since the restore point.
	lsid, _ := lb.explore("teams")
	sgeneral := linkNamed(t, lb.openTeam(lsid, "Sales and Marketing"), "table.channel-items a", "General")
	deleted := ""
	for page := lb.get(sgeneral); deleted == ""; {
		page.doc(t).Find("ul.posts > li").Each(func(_ int, s *goquery.Selection) {
			if deleted == "" && strings.Contains(s.Find(".badge").Text(), "Deleted since") {
				deleted = s.Find(`input[name="post"]`).AttrOr("value", "")
			}
		})
		next := page.doc(t).Find(`nav.pager a`).FilterFunction(func(_ int, s *goquery.Selection) bool {
			return strings.Contains(s.Text(), "Next page")
		}).AttrOr("href", "")
		if deleted == "" && next == "" {
			t.Fatal("no deleted post")
		}
		if deleted == "" {
			page = lb.get(next)
		}
	}
	before, _ := prodChannel(s, "Sales and Marketing", "General")
	r = lb.teamRestore(sgeneral, url.Values{"kind": {"posts"}, "post": {deleted}}, url.Values{"reason": {"put it back"}})
	lb.waitRestore(r.Header.Get("Location"))
	if after, _ := prodChannel(s, "Sales and Marketing", "General"); after.Posts != before.Posts+1 {
		t.Errorf("posts: %d before, %d after", before.Posts, after.Posts)
	}
	// A bad kind, nothing selected.
	if r := ab.openWizard(ageneral, url.Values{"kind": {"everything"}}); r.StatusCode != http.StatusBadRequest {
		t.Errorf("a bad kind: %d", r.StatusCode)
	}
	if r := ab.openWizard(ageneral, url.Values{"kind": {"files"}}); r.StatusCode != http.StatusBadRequest {
		t.Errorf("nothing selected: %d", r.StatusCode)
	}
}

func TestRestoreAWholeTeam(t *testing.T) {
	t.Parallel()
	s := startStack(t, quick)
	b := s.signedIn(lee)
	old := b.exploreDaysAgo("teams", 4)
	team := b.openTeam(old, "Sales and Marketing")
	action := team.doc(t).Find(`form[action$="/restore/new"]`).AttrOr("action", "")
	wizard := b.openWizard(strings.TrimSuffix(action, "/restore/new"), nil)
	d := wizard.doc(t)
	if d.Find("#t-members[checked]").Length() != 1 || d.Find("#t-settings[checked]").Length() != 1 || !strings.Contains(d.Find("ul.preview").Text(), fakeveeam.StoryDeletedChannel) {
		t.Fatalf("the team wizard:\n%s", d.Find("main").Text())
	}
	r := b.submitWizard(wizard, url.Values{"missing": {"1"}, "changed": {"1"}, "members": {"1"}, "settings": {"1"}, "reason": {"the team lost a channel"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("restore: %d %s", r.StatusCode, r.body)
	}
	b.waitRestore(r.Header.Get("Location"))
	if ch, ok := prodChannel(s, "Sales and Marketing", fakeveeam.StoryDeletedChannel); !ok || !ch.Restored {
		t.Errorf("the deleted channel: %+v %v", ch, ok)
	}
	again := b.openWizard(strings.TrimSuffix(action, "/restore/new"), nil)
	if back := b.refusedWizard(b.submitWizard(again, nil)); !strings.Contains(back.doc(t).Find("#which-error").Text(), "at least one thing") {
		t.Errorf("nothing chosen: %s", back.doc(t).Find("main").Text())
	}
}

func TestSearchATeam(t *testing.T) {
	t.Parallel()
	s := startStack(t, quick)
	b := s.signedIn(lee)
	sid, _ := b.explore("teams")
	team := b.openTeam(sid, "Sales and Marketing")
	action := team.doc(t).Find(`form.search-form`).AttrOr("action", "")
	hits := func(q url.Values) (response, []string) {
		r := b.get(action + "?" + q.Encode())
		return r, texts(r.doc(t), "ul.hits > li > a")
	}
	r, got := hits(url.Values{"q": {"pricing"}, "type": {"Posts"}})
	if r.StatusCode != http.StatusOK || !slices.Contains(got, fakeveeam.StoryThread) {
		t.Fatalf("posts: %d %v", r.StatusCode, got)
	}
	thread := r.doc(t).Find("ul.hits > li > a").First().AttrOr("href", "")
	if p := b.get(thread); p.StatusCode != http.StatusOK || p.doc(t).Find("ol.replies li").Length() == 0 {
		t.Errorf("the hit does not open its conversation: %d", p.StatusCode)
	}
	// In one channel: its files, by type.
	general := b.get(linkNamed(t, team, "table.channel-items a", "General"))
	in := general.doc(t).Find(`form.search-form input[name="in"]`).AttrOr("value", "")
	if _, got := hits(url.Values{"in": {in}, "type": {"Files"}, "advanced": {"ext:docx"}}); len(got) == 0 {
		t.Error("no docx files in General")
	}
	if _, got := hits(url.Values{"type": {"Tabs"}, "q": {"Tasks"}}); len(got) == 0 {
		t.Error("no Tasks tab")
	}
	for _, c := range []struct {
		q    url.Values
		want string
	}{
		{url.Values{"type": {"Posts"}}, "Type words"},
		{url.Values{"type": {"Tabs"}, "author": {"x"}}, "tabs have no author"},
		{url.Values{"type": {"Posts"}, "q": {"x"}, "after": {"2026-02-30"}}, "not valid"},
		{url.Values{"type": {"Chats"}, "q": {"x"}}, "Choose posts, files or tabs"},
		{url.Values{"type": {"Posts"}, "advanced": {"subject:(x"}}, "did not accept"},
	} {
		r, _ := hits(c.q)
		if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.body, c.want) || r.doc(t).Find("form.search-form").Length() != 1 {
			t.Errorf("%v: %d, want 400 with %q", c.q, r.StatusCode, c.want)
		}
	}
	checkNoInjectedMarkup(t, 0, b.get(action+"?"+url.Values{"q": {"script"}, "type": {"Posts"}}.Encode()).body)
}

// TestRestoreTabsOfSeveralChannels restores tabs of two channels in one restore.
func TestRestoreTabsOfSeveralChannels(t *testing.T) {
	t.Parallel()
	s := startStack(t, quick)
	b := s.signedIn("IsaiahL@contoso.onmicrosoft.com")
	sid := b.exploreDaysAgo("teams", 2)
	team := b.openTeam(sid, "Mark 8 Project Team")
	tabs := b.get(linkNamed(t, team, "a.button", "Tabs of every channel"))
	var picked []string
	channels := map[string]bool{}
	tabs.doc(t).Find("table.team-tabs tbody tr").Each(func(_ int, s *goquery.Selection) {
		ch := strings.TrimSpace(s.Find(`td[data-label="Channel"]`).Text())
		name := strings.TrimSpace(s.Find(`td[data-label="Tab"]`).Text())
		if name == fakeveeam.StoryRemovedTab || (ch == "Announcements" && !channels[ch]) {
			picked = append(picked, s.Find(`input[name="tab"]`).AttrOr("value", ""))
			channels[ch] = true
		}
	})
	if len(picked) != 2 || len(channels) != 2 {
		t.Fatalf("picked %v from %v", picked, channels)
	}
	action := tabs.doc(t).Find("form").FilterFunction(func(_ int, s *goquery.Selection) bool {
		return strings.HasSuffix(s.AttrOr("action", ""), "/tabs/restore/new")
	}).AttrOr("action", "")
	tabsBase := strings.TrimSuffix(action, "/restore/new")
	wizard := b.openWizard(tabsBase, url.Values{"tab": picked})
	if n := wizard.doc(t).Find("ul.preview li").Length(); n != 2 {
		t.Errorf("the wizard lists %d tabs", n)
	}
	r := b.submitWizard(wizard, url.Values{"missing": {"1"}, "changed": {"1"}, "reason": {"two channels"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("restore: %d %s", r.StatusCode, r.body)
	}
	b.waitRestore(r.Header.Get("Location"))
	if g, _ := prodChannel(s, "Mark 8 Project Team", "General"); !slices.Contains(g.Tabs, fakeveeam.StoryRemovedTab) {
		t.Errorf("General's tabs: %v", g.Tabs)
	}
	if r := b.openWizard(tabsBase, url.Values{"tab": {"bm9wZQ"}}); r.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown tab: %d", r.StatusCode)
	}
}
