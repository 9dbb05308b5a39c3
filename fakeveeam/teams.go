package fakeveeam

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/openrestore/portal/demotenant"
)

// Teams data: each team's channels (standard, private and shared), their
// posts as threads, their files with versions and their tabs, each with a
// history relative to the anchor (when the server started): when it
// appeared and, for some, when it was deleted or removed. A restore point
// at time t holds what existed at t.

// Story objects the demo and the tests look for.
const (
	// StoryDeletedChannel is a private channel of the Sales and Marketing
	// team, deleted (with its members) two days before the anchor.
	StoryDeletedChannel = "Deal desk"
	// StoryRemovedTab is a tab of the Mark 8 Project Team's General channel,
	// removed a day before the anchor.
	StoryRemovedTab = "Launch checklist"
	// StoryChannelFile is a file of the Mark 8 Project Team's General
	// channel, overwritten badly after the last Teams backup before the
	// anchor: every restore point holds a good version.
	StoryChannelFile = "Launch plan.docx"
	// StoryThread is a thread of twelve posts (a parent and eleven replies)
	// in the Sales and Marketing team's General channel.
	StoryThread      = "Q4 pricing: final numbers"
	StoryThreadPosts = 12
)

type teamChannel struct {
	id, name, typ string // Standard, Private, Shared
	created       time.Time
	deleted       time.Time
	members       []string // OIDs, private and shared channels
	posts         []*teamPost
	files         []*teamFile
	tabs          []*teamTab
}

type teamPost struct {
	id          int64
	parent      int64 // 0: a parent post
	author      string
	subject     string
	body        string
	created     time.Time
	deleted     time.Time
	important   bool
	attachments []string
}

type teamFileVersion struct {
	at   time.Time
	by   string
	size int64
}

type teamFile struct {
	id, name string
	parent   string // a folder's id, or "root"
	folder   bool
	versions []teamFileVersion
	deleted  time.Time
}

type teamTab struct {
	id, name, typ, url string
	created, removed   time.Time
}

type teamData struct {
	team     demotenant.Team
	channels []*teamChannel
	prodOnce sync.Once
	prod     *teamProduction // the team now: see production
}

// teamsData is every team's content, generated on first use.
type teamsData struct {
	dir    *directory
	anchor time.Time
	mu     sync.Mutex
	teams  map[string]*teamData
}

func newTeamsData(dir *directory, anchor time.Time) *teamsData {
	return &teamsData{dir: dir, anchor: anchor, teams: map[string]*teamData{}}
}

func (d *teamsData) team(id string) (*teamData, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if t, ok := d.teams[id]; ok {
		return t, true
	}
	for _, t := range d.dir.org.Teams {
		if t.ID == id {
			td := generateTeam(t, d.dir.org, d.anchor)
			d.teams[id] = td
			return td, true
		}
	}
	return nil, false
}

func existedAt(created, deleted, t time.Time) bool {
	return !created.After(t) && (deleted.IsZero() || deleted.After(t))
}

// versionAt is the number (1-based) of the file's version at t, 0 before it existed.
func (f *teamFile) versionAt(t time.Time) int {
	n := 0
	for i, v := range f.versions {
		if !v.at.After(t) {
			n = i + 1
		}
	}
	if !f.deleted.IsZero() && !f.deleted.After(t) {
		return 0
	}
	return n
}

// TeamsChannelID is the id of a team's channel by name, as the fake makes it.
func TeamsChannelID(teamID, name string) string {
	sum := stableID("channel", teamID, name)
	return "19:" + strings.ReplaceAll(sum, "-", "") + "@thread.tacv2"
}

var (
	postSubjects = []string{"Weekly sync notes", "Customer feedback round-up", "Hiring plan", "Budget check-in", "Release readiness",
		"Offsite agenda", "Competitive update", "Webinar follow-ups", "Travel policy reminder", "Design review outcomes"}
	replyLines = []string{"Thanks, looks good to me.", "Can we move this to Thursday?", "Added my comments in the doc.",
		"Agreed — let's go with option B.", "I'll follow up with the customer.", "Numbers updated in the sheet.",
		"Looping in finance.", "Great work, everyone!", "One concern about the timeline.", "Approved."}
	tabKinds = []struct{ typ, name, url string }{
		{"Planner", "Tasks", "https://tasks.office.com/contoso/Home/PlanViews/%s"},
		{"Wiki", "Wiki", ""},
		{"Website", "Team site", "https://contoso.sharepoint.com/sites/%s"},
		{"OneNote", "Notes", "https://contoso.sharepoint.com/sites/%s/SiteAssets/Notebook"},
		{"PowerBI", "Pipeline report", "https://app.powerbi.com/groups/%s/reports/pipeline"},
	}
)

// generateTeam makes a team's channels and their content.
func generateTeam(t demotenant.Team, org demotenant.Tenant, anchor time.Time) *teamData {
	sum := []byte(stableID("team-seed", t.ID))
	r := rand.New(rand.NewPCG(binary.LittleEndian.Uint64(sum[:8]), binary.LittleEndian.Uint64(sum[8:16])))
	names := map[string]string{}
	for _, u := range org.Users {
		names[u.OID] = u.DisplayName
	}
	var people []string
	for _, m := range t.Members {
		people = append(people, names[m])
	}
	if len(people) == 0 {
		people = []string{"Contoso"}
	}
	person := func() string { return people[r.IntN(len(people))] }
	alias := strings.Split(t.Mail, "@")[0]
	created := anchor.Add(-400 * day)
	td := &teamData{team: t}
	nextPost := int64(1_700_000_000_000 + r.IntN(1_000_000)*1000)
	addChannel := func(name, typ string, created time.Time, members []string) *teamChannel {
		ch := &teamChannel{id: TeamsChannelID(t.ID, name), name: name, typ: typ, created: created, members: members}
		td.channels = append(td.channels, ch)
		return ch
	}
	thread := func(ch *teamChannel, subject string, at time.Time, replies int, attachments []string) *teamPost {
		nextPost += int64(1 + r.IntN(5000))
		p := &teamPost{id: nextPost, author: person(), subject: subject, body: subject + ": see below.", created: at, attachments: attachments}
		ch.posts = append(ch.posts, p)
		for i := range replies {
			nextPost += int64(1 + r.IntN(5000))
			ch.posts = append(ch.posts, &teamPost{id: nextPost, parent: p.id, author: person(), body: replyLines[(i+r.IntN(3))%len(replyLines)],
				created: at.Add(time.Duration(i+1) * 37 * time.Minute)})
		}
		return p
	}
	file := func(ch *teamChannel, parent, name string, at time.Time, versions int) *teamFile {
		f := &teamFile{id: stableID("teams-file", ch.id, parent, name), name: name, parent: parent}
		size := int64(20_000 + r.IntN(900_000))
		for i := range versions {
			f.versions = append(f.versions, teamFileVersion{at: at.Add(time.Duration(i) * 9 * day), by: person(), size: size + int64(i*3_111)})
		}
		ch.files = append(ch.files, f)
		return f
	}
	folder := func(ch *teamChannel, name string, at time.Time) *teamFile {
		f := &teamFile{id: stableID("teams-folder", ch.id, name), name: name, parent: "root", folder: true,
			versions: []teamFileVersion{{at: at, by: person()}}}
		ch.files = append(ch.files, f)
		return f
	}
	tab := func(ch *teamChannel, i int, at time.Time) *teamTab {
		k := tabKinds[i%len(tabKinds)]
		u := k.url
		if u != "" {
			u = fmt.Sprintf(u, alias)
		}
		tb := &teamTab{id: stableID("teams-tab", ch.id, k.name), name: k.name, typ: k.typ, url: u, created: at}
		ch.tabs = append(ch.tabs, tb)
		return tb
	}
	fill := func(ch *teamChannel, threads int) {
		for i := range threads {
			at := anchor.Add(-time.Duration(2+r.IntN(60)) * day).Add(time.Duration(r.IntN(600)) * time.Minute)
			p := thread(ch, postSubjects[(i+r.IntN(4))%len(postSubjects)], at, r.IntN(5), nil)
			if i%4 == 0 {
				p.attachments = []string{"Notes " + at.Format("2 Jan") + ".docx"}
			}
			if i == 1 {
				p.deleted = anchor.Add(-time.Duration(1+r.IntN(5)) * day) // deleted since
			}
			if i == 2 {
				p.important = true
			}
		}
		docs := folder(ch, "Shared documents", ch.created)
		for i := range 4 {
			file(ch, docs.id, fmt.Sprintf("%s %d.%s", []string{"Meeting notes", "Plan", "Figures", "Slides"}[i], i+1,
				[]string{"docx", "docx", "xlsx", "pptx"}[i]), ch.created.Add(time.Duration(10+i)*day), 1+r.IntN(3))
		}
		file(ch, "root", "Read me.txt", ch.created, 1)
		for i := range 2 + r.IntN(2) {
			tab(ch, i, ch.created.Add(day))
		}
	}
	general := addChannel("General", "Standard", created, nil)
	fill(general, 8)
	announcements := addChannel("Announcements", "Standard", created.Add(3*day), nil)
	fill(announcements, 4)
	half := t.Members[:max(1, len(t.Members)/2)]
	planning := addChannel("Planning", "Private", created.Add(20*day), slices.Clone(half))
	fill(planning, 3)
	partners := addChannel("Partners", "Shared", created.Add(40*day), slices.Clone(t.Members))
	fill(partners, 2)

	switch alias {
	case "SalesAndMarketing":
		deal := addChannel(StoryDeletedChannel, "Private", created.Add(60*day), slices.Clone(half))
		fill(deal, 4)
		deal.deleted = anchor.Add(-2 * day)
		thread(general, StoryThread, anchor.Add(-6*day), StoryThreadPosts-1, []string{"Q4 price list.xlsx"})
		// Hostile subjects and names, from outside.
		for i, h := range hostileNames {
			p := thread(general, h, anchor.Add(-time.Duration(30+i)*time.Hour), 1, []string{hostileNames[(i+1)%len(hostileNames)] + ".pdf"})
			p.author = hostileNames[(i+2)%len(hostileNames)]
			file(general, "root", h+".txt", anchor.Add(-time.Duration(30+i)*time.Hour), 1)
		}
	case "Mark8ProjectTeam":
		removed := &teamTab{id: stableID("teams-tab", general.id, StoryRemovedTab), name: StoryRemovedTab, typ: "Planner",
			url: "https://tasks.office.com/contoso/Home/PlanViews/launch-checklist", created: created.Add(100 * day), removed: anchor.Add(-1 * day)}
		general.tabs = append(general.tabs, removed)
		plan := file(general, "root", StoryChannelFile, anchor.Add(-30*day), 3)
		plan.versions = append(plan.versions, teamFileVersion{at: sinceLastBackup("Vet", anchor), by: person(), size: 2_048})
	}
	return td
}
