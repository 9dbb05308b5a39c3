package fakeveeam

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/openrestore/portal/demotenant"
)

// Story documents the demo and the tests look for. Every OneDrive has them.
const (
	// StoryOverwrittenDoc was overwritten by mistake after the last nightly
	// backup before the anchor: its version of every restore point is the
	// good one.
	StoryOverwrittenDoc = "Documents/Budget/Q3 budget.xlsx"
	// StoryDeletedFolder was deleted with everything in it three days before the anchor.
	StoryDeletedFolder = "Documents/Onboarding 2026"
	// StoryLargeDoc is a 200 MiB recording.
	StoryLargeDoc     = "Videos/Launch event recording.mp4"
	StoryLargeDocSize = 200 << 20
	// StoryDeletedListItem is a list item of the Sales and Marketing site's
	// "Customer visits" list, with an attachment, deleted two days before the anchor.
	StoryDeletedListItem = "Fabrikam HQ visit"
	StoryVisitsList      = "Customer visits"
	// LargeLibraryName is the library the scale option adds to a site.
	LargeLibraryName = "Archive"
)

// docData is every OneDrive, library and list of the organisation, generated on first use.
type docData struct {
	anchor time.Time
	opts   *Options
	dir    *directory

	mu    sync.Mutex
	trees map[string]*docTree   // by id
	sites map[string][]*docTree // by site id: libraries, then lists
	extra map[string][]*docTree // by site id: lists that restores created
}

func newDocData(dir *directory, opts *Options, anchor time.Time) *docData {
	return &docData{anchor: anchor, opts: opts, dir: dir, trees: map[string]*docTree{}, sites: map[string][]*docTree{},
		extra: map[string][]*docTree{}}
}

// OneDriveID is the VB365 id of a user's OneDrive.
func OneDriveID(oid string) string { return stableID("onedrive", oid) }

// oneDrive returns the OneDrive with this id, generating it on first use.
func (d *docData) oneDrive(id string) (*docTree, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if t, ok := d.trees[id]; ok && t.kind == treeOneDrive {
		return t, true
	}
	for _, u := range d.dir.org.Users {
		if OneDriveID(u.OID) == id {
			t := generateOneDrive(u, d.dir.org.Users, d.anchor)
			d.trees[id] = t
			return t, true
		}
	}
	return nil, false
}

// site returns a site's libraries and lists, generating them on first use.
func (d *docData) site(siteID string) ([]*docTree, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if ts, ok := d.sites[siteID]; ok {
		return ts, true
	}
	for i := range d.dir.org.Sites {
		st := d.dir.org.Sites[i]
		if st.ID != siteID {
			continue
		}
		large := 0
		if d.opts.LargeLibrarySite != "" && strings.EqualFold(d.opts.LargeLibrarySite, st.Title) {
			large = d.opts.LargeLibraryDocs
		}
		ts := generateSite(&st, d.dir.org.Users, d.anchor, large)
		for _, t := range ts {
			d.trees[t.id] = t
		}
		d.sites[siteID] = ts
		return ts, true
	}
	return nil, false
}

// tree finds a OneDrive, library or list by id, generating what it must.
func (d *docData) tree(id string) (*docTree, bool) {
	d.mu.Lock()
	t, ok := d.trees[id]
	d.mu.Unlock()
	if ok {
		return t, true
	}
	if t, ok := d.oneDrive(id); ok {
		return t, true
	}
	for _, st := range d.dir.org.Sites {
		ts, _ := d.site(st.ID)
		for _, t := range ts {
			if t.id == id {
				return t, true
			}
		}
	}
	return nil, false
}

// docSeeder generates one tree.
type docSeeder struct {
	r      *rand.Rand
	t      *docTree
	anchor time.Time
	people []demotenant.User // who edits the tree's documents
	owner  string
	folder map[string]*docNode // by path
}

const day = 24 * time.Hour

var (
	docTopics = []string{"Budget", "Roadmap", "Customer list", "Campaign plan", "Brand guidelines", "Team offsite", "Quarterly review",
		"Store layout", "Supplier contract", "Price list", "Training plan", "Meeting notes", "Project charter", "Risk register",
		"Expense report", "Travel plan", "Product sheet", "Press kit", "Survey results", "Release notes", "Hiring plan"}
	docExtensions = []struct {
		ext      string
		min, max int64
	}{
		{"docx", 18 << 10, 400 << 10}, {"xlsx", 12 << 10, 900 << 10}, {"pptx", 400 << 10, 9 << 20}, {"pdf", 60 << 10, 6 << 20},
		{"png", 90 << 10, 5 << 20}, {"jpg", 150 << 10, 7 << 20}, {"csv", 2 << 10, 300 << 10}, {"txt", 1 << 10, 40 << 10},
		{"zip", 2 << 20, 45 << 20},
	}
)

func (g *docSeeder) person() string { return pick(g.r, g.people).DisplayName }

// node adds a node under the folder at dir ("" for the root).
func (g *docSeeder) node(dir, name string, kind docKind, created time.Time, by string) *docNode {
	p := name
	if dir != "" {
		p = dir + "/" + name
	}
	n := &docNode{id: stableID("doc", g.t.id, p), kind: kind, name: name, created: created, createdBy: by, parent: g.folder[dir]}
	g.t.add(n)
	if kind == docFolder {
		g.folder[p] = n
		n.versions = []docVersion{{since: created, by: by, key: VersionKey(p, 1)}}
	}
	return n
}

// mkdirs adds the folders of a path, each created at created.
func (g *docSeeder) mkdirs(p string, created time.Time) {
	parts := strings.Split(p, "/")
	for i := range parts {
		sub := strings.Join(parts[:i+1], "/")
		if _, ok := g.folder[sub]; !ok {
			g.node(strings.Join(parts[:i], "/"), parts[i], docFolder, created, g.owner)
		}
	}
}

// version appends a version to n.
func (g *docSeeder) version(n *docNode, since time.Time, by string, size int64) {
	n.versions = append(n.versions, docVersion{since: since, by: by, size: size, title: n.name, key: VersionKey(n.path(), len(n.versions)+1)})
}

// file adds a file with a few versions between created and the anchor.
func (g *docSeeder) file(dir, name string, created time.Time) *docNode {
	ext := docExtensions[0]
	for _, e := range docExtensions {
		if strings.HasSuffix(strings.ToLower(name), "."+e.ext) {
			ext = e
		}
	}
	by := g.owner
	if g.r.IntN(3) == 0 {
		by = g.person()
	}
	n := g.node(dir, name, docFile, created, by)
	size := ext.min + g.r.Int64N(ext.max-ext.min)
	g.version(n, created, by, size)
	since := created
	for range g.r.IntN(4) {
		gap := g.anchor.Sub(since)
		if gap < 2*time.Hour {
			break
		}
		since = since.Add(time.Duration(g.r.Int64N(int64(gap))))
		size = max(ext.min, size+g.r.Int64N(size/3+1)-size/6)
		g.version(n, since, g.person(), size)
	}
	return n
}

// when is a time within the last year, weighted towards recent months.
func (g *docSeeder) when() time.Time {
	if g.r.IntN(2) == 0 {
		return g.anchor.Add(-time.Hour - time.Duration(g.r.Int64N(int64(60*day))))
	}
	return g.anchor.Add(-time.Duration(g.r.Int64N(int64(365 * day))))
}

// fill adds n files to a folder.
func (g *docSeeder) fill(dir string, n int, exts ...string) {
	for range n {
		ext := pick(g.r, docExtensions).ext
		if len(exts) > 0 {
			ext = pick(g.r, exts)
		}
		name := fmt.Sprintf("%s %s.%s", pick(g.r, docTopics), pick(g.r, []string{"2026", "v2", "final", "draft", "Q3", "notes", "for review", "(Contoso)"}), ext)
		if _, taken := g.t.byID[stableID("doc", g.t.id, dir+"/"+name)]; taken {
			continue
		}
		g.file(dir, name, g.when())
	}
}

// drift deletes a share of the files at times within the restore points' span.
func (g *docSeeder) drift(share int) {
	for _, n := range g.t.order {
		if n.kind == docFolder || !n.deleted.IsZero() || g.r.IntN(100) >= share {
			continue
		}
		last := n.versions[len(n.versions)-1].since
		if gap := g.anchor.Sub(last); gap > 2*time.Hour {
			n.deleted = last.Add(time.Hour + time.Duration(g.r.Int64N(int64(min(gap-time.Hour, 25*day)))))
		}
	}
}

func newTree(id string, kind treeKind, name, url string, created time.Time) *docTree {
	return &docTree{id: id, kind: kind, name: name, url: url, created: created, byID: map[string]*docNode{}}
}

// generateOneDrive makes u's OneDrive; people are the organisation's.
func generateOneDrive(u demotenant.User, people []demotenant.User, anchor time.Time) *docTree {
	personal := strings.NewReplacer("@", "_", ".", "_").Replace(strings.ToLower(u.UPN))
	t := newTree(OneDriveID(u.OID), treeOneDrive, u.DisplayName, "https://contoso-my.sharepoint.com/personal/"+personal, anchor.Add(-700*day))
	t.owner = u
	g := &docSeeder{r: rng("onedrive", u.OID), t: t, anchor: anchor, owner: u.DisplayName, folder: map[string]*docNode{}}
	for _, p := range people {
		if p.Department == u.Department || p.OID == u.OID {
			g.people = append(g.people, p)
		}
	}
	for _, p := range []string{"Documents", "Documents/Projects", "Documents/Reports", "Documents/Budget", "Desktop",
		"Pictures", "Pictures/Camera Roll", "Shared", "Downloads", "Videos"} {
		g.mkdirs(p, anchor.Add(-600*day))
	}
	g.fill("Documents", 14)
	g.fill("Documents/Projects", 12, "docx", "pptx", "xlsx", "pdf")
	g.fill("Documents/Reports", 10, "pdf", "xlsx", "docx")
	g.fill("Documents/Budget", 4, "xlsx", "csv")
	g.fill("Desktop", 5, "txt", "docx", "png")
	g.fill("Pictures/Camera Roll", 12, "jpg", "png")
	g.fill("Shared", 6)
	g.fill("Downloads", 5, "pdf", "zip", "csv")
	g.drift(6)

	// The stories.
	budget := g.node("Documents/Budget", "Q3 budget.xlsx", docFile, anchor.Add(-45*day), u.DisplayName)
	g.version(budget, anchor.Add(-45*day), u.DisplayName, 182_340)
	g.version(budget, anchor.Add(-20*day), g.person(), 205_118)
	g.version(budget, anchor.Add(-10*day), u.DisplayName, 241_907)
	g.version(budget, sinceLastBackup("Veod", anchor), u.DisplayName, 9_216) // overwritten by mistake after last night's backup

	onboarding := anchor.Add(-90 * day)
	g.mkdirs(StoryDeletedFolder+"/Forms", onboarding)
	for _, name := range []string{"Welcome pack.pdf", "First week schedule.docx", "IT checklist.xlsx", "Buddy programme.pptx", "Office map.png"} {
		g.file(StoryDeletedFolder, name, onboarding.Add(time.Duration(g.r.IntN(20))*day))
	}
	for _, name := range []string{"Expense claim form.docx", "Equipment request.xlsx"} {
		g.file(StoryDeletedFolder+"/Forms", name, onboarding.Add(time.Duration(g.r.IntN(20))*day))
	}
	g.folder[StoryDeletedFolder].deleted = anchor.Add(-3 * day)

	video := g.node("Videos", "Launch event recording.mp4", docFile, anchor.Add(-200*day), u.DisplayName)
	g.version(video, anchor.Add(-200*day), u.DisplayName, StoryLargeDocSize)

	// Hostile names, from the Internet.
	for i, h := range hostileNames {
		f := g.node("Downloads", h+"."+[]string{"pdf", "docx", "xlsx", "txt"}[i%4], docFile, anchor.Add(-time.Duration(48+i)*time.Hour), u.DisplayName)
		g.version(f, f.created, hostileNames[(i+1)%len(hostileNames)], 4096+int64(i))
	}
	t.index()
	return t
}

// generateSite makes a site's document libraries and lists.
func generateSite(st *demotenant.Site, people []demotenant.User, anchor time.Time, largeDocs int) []*docTree {
	r := rng("site", st.ID)
	var members []demotenant.User
	for _, u := range people {
		if u.Role == demotenant.EndUser {
			members = append(members, u)
		}
	}
	created := anchor.Add(-time.Duration(300+r.IntN(600)) * day)
	library := func(name, urlName, description string) (*docTree, *docSeeder) {
		t := newTree(stableID("library", st.ID, name), treeLibrary, name, st.URL+"/"+urlName, created)
		t.site, t.description = st, description
		owner := pick(r, members).DisplayName
		return t, &docSeeder{r: rng("library", t.id), t: t, anchor: anchor, owner: owner, people: members, folder: map[string]*docNode{}}
	}
	list := func(name, urlName, description string) (*docTree, *docSeeder) {
		t, g := library(name, urlName, description)
		t.id, t.kind = stableID("list", st.ID, name), treeList
		return t, g
	}

	docs, g := library("Documents", "Shared Documents", "Documents shared with the members of "+st.Title)
	for _, p := range []string{"Campaigns", "Campaigns/2026 spring", "Templates", "Reports", "Contracts"} {
		g.mkdirs(p, created.Add(day))
	}
	g.fill("", 8)
	g.fill("Campaigns", 6, "pptx", "docx", "png")
	g.fill("Campaigns/2026 spring", 8, "pptx", "docx", "jpg", "pdf")
	g.fill("Templates", 5, "docx", "xlsx", "pptx")
	g.fill("Reports", 9, "pdf", "xlsx")
	g.fill("Contracts", 6, "pdf", "docx")
	g.drift(6)
	docs.index()
	trees := []*docTree{docs}

	if largeDocs > 0 {
		big, bg := library(LargeLibraryName, LargeLibraryName, "Every proposal since the company began")
		step := anchor.Add(-2*day).Sub(created) / time.Duration(largeDocs+1) // all in the latest restore point
		for i := range largeDocs {
			n := bg.node("", fmt.Sprintf("Proposal %06d.docx", i+1), docFile, created.Add(time.Duration(i+1)*step), bg.owner)
			bg.version(n, n.created, bg.owner, 30_000+int64(i%5000))
		}
		big.index()
		trees = append(trees, big)
	}

	announcements, ag := list("Announcements", "Lists/Announcements", "News for everyone on the site")
	for i := range 12 {
		when := anchor.Add(-time.Duration(r.IntN(200)) * day)
		ag.item("", fmt.Sprintf("%s: %s", pick(r, []string{"New", "Reminder", "Update", "Welcome"}), pick(r, docTopics)), i+1, when, nil)
	}
	ag.drift(8)
	announcements.index()
	trees = append(trees, announcements)

	if strings.HasSuffix(st.URL, "/SalesAndMarketing") {
		visits, vg := list(StoryVisitsList, "Lists/Customer visits", "Who visited which customer, with the notes")
		n := 0
		for i := range 18 {
			when := anchor.Add(-time.Duration(5+r.IntN(300)) * day)
			dir := "" // the last four months' visits; earlier ones are filed by year
			if when.Before(anchor.Add(-120 * day)) {
				dir = strconv.Itoa(when.Year())
				vg.mkdirs(dir, created)
			}
			n++
			vg.item(dir, fmt.Sprintf("%s visit %d", pick(r, companies), i+1), n, when, []string{"Visit notes.docx"})
		}
		n++
		story := vg.item("", StoryDeletedListItem, n, anchor.Add(-11*day), []string{"Fabrikam visit notes.docx", "Whiteboard photo.jpg"})
		story.deleted = anchor.Add(-2 * day)
		visits.index()
		trees = append(trees, visits)
	}
	if strings.HasSuffix(st.URL, "/Mark8ProjectTeam") {
		issues, ig := list("Issue tracker", "Lists/Issue tracker", "Open and closed issues of the Mark 8 project")
		for i := range 25 {
			var att []string
			if r.IntN(3) == 0 {
				att = []string{"Screenshot.png"}
			}
			ig.item("", fmt.Sprintf("%s: %s", pick(r, []string{"Bug", "Task", "Risk"}), pick(r, docTopics)), i+1, anchor.Add(-time.Duration(r.IntN(120))*day), att)
		}
		ig.drift(10)
		issues.index()
		trees = append(trees, issues)
	}
	return trees
}

// item adds a list item with a few versions and attachments.
func (g *docSeeder) item(dir, title string, n int, created time.Time, attachments []string) *docNode {
	by := g.person()
	node := g.node(dir, fmt.Sprintf("%d_.000", n), docListItem, created, by)
	node.versions = append(node.versions, docVersion{since: created, by: by, size: 2048, title: title, key: VersionKey(node.path(), 1)})
	since := created
	for range g.r.IntN(3) {
		gap := g.anchor.Sub(since)
		if gap < 2*time.Hour {
			break
		}
		since = since.Add(time.Duration(g.r.Int64N(int64(gap))))
		node.versions = append(node.versions, docVersion{since: since, by: g.person(), size: 2048 + int64(len(node.versions))*300,
			title: title, key: VersionKey(node.path(), len(node.versions)+1)})
	}
	for _, a := range attachments {
		node.attachments = append(node.attachments, docAttachment{id: stableID("attachment", node.id, a), name: a, size: 20_000 + g.r.Int64N(2<<20)})
	}
	return node
}
