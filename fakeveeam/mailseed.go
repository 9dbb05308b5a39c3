package fakeveeam

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/openrestore/portal/demotenant"
)

// The seed: every mailbox gets the standard folders and a few hundred items
// spread over the last four months (an archive: over the two years before),
// drawn from a generator seeded by the mailbox id, so the same mailbox always
// looks the same relative to the server's start. Some items were later
// deleted, moved or changed. A handful of scripted stories give the demo and
// the tests something to find, and the Junk Email folder holds hostile names.

var (
	topics = []string{
		"Mark 8 launch", "store 42 refit", "holiday rota", "supplier contract", "quarterly review", "pricing update",
		"website refresh", "inventory count", "training plan", "safety audit", "brand guidelines", "expense policy",
		"press release", "partner summit", "product roadmap", "customer survey", "shipping delays", "trade show booth",
		"office move", "annual budget", "hiring plan", "returns process", "loyalty programme", "Q4 forecast",
	}
	companies = []string{
		"Fabrikam", "Northwind Traders", "Tailspin Toys", "Wingtip Toys", "Litware", "Adventure Works",
		"Woodgrove Bank", "Proseware", "Alpine Ski House", "Blue Yonder Airlines", "Coho Winery", "Lamna Healthcare",
	}
	cities    = []string{"Seattle", "London", "Munich", "Lisbon", "Singapore", "Toronto", "Sydney", "Oslo"}
	locations = []string{"Conference Room Rainier", "Conference Room Baker", "Teams meeting", "Building 4, room 210", "Café downstairs", "Store 42 back office"}
	phrases   = []string{
		"Please have a look before Friday.", "Numbers attached, let me know what you think.",
		"Can we move this to next week?", "Thanks for the quick turnaround.", "I have added my comments inline.",
		"The customer confirmed the dates.", "See the updated version attached.", "Let's discuss in the team meeting.",
		"Finance needs this by the end of the month.", "Great work, everyone.", "I will follow up with the vendor.",
		"We are still waiting for the final quote.",
	}
	fileKinds = []string{"docx", "xlsx", "pdf", "pptx", "png", "jpg", "zip", "csv"}
)

// hostileNames are backed-up names that try to become markup or script.
var hostileNames = []string{
	`<script>alert("subject")</script>`,
	`"><img src=x onerror=alert(1)>`,
	`' onmouseover='alert(1)' x='`,
	`<div hx-get="/auth/logout" hx-trigger="load">Quarterly results</div>`,
	`javascript:alert(document.cookie)`,
	`{{7*7}} ${7*7} <%= 7*7 %>`,
	"Invoice \u202Efdp.exe",
	`</title><svg onload=alert(1)>`,
}

// rng is the generator of one mailbox.
func rng(parts ...string) *rand.Rand {
	sum := sha256.Sum256([]byte(strings.Join(parts, "/")))
	return rand.New(rand.NewPCG(binary.LittleEndian.Uint64(sum[:8]), binary.LittleEndian.Uint64(sum[8:16])))
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// seedFolder is a folder of the seed and how many items it gets.
type seedFolder struct {
	path     string
	typ      string
	category string
	count    int
}

var primaryFolders = []seedFolder{
	{"Inbox", "None", "Inbox", 120},
	{"Inbox/Projects", "None", "None", 35},
	{"Inbox/Receipts", "None", "None", 25},
	{"Drafts", "None", "Drafts", 4},
	{"Sent Items", "None", "Sent", 60},
	{"Deleted Items", "None", "Deleted", 20},
	{"Junk Email", "None", "Junk", 4},
	{"Archive", "None", "None", 40},
	{"Calendar", "Appointment", "None", 30},
	{"Contacts", "Contact", "None", 25},
	{"Tasks", "Task", "None", 15},
	{"Notes", "StickyNote", "None", 8},
}

var archiveFolders = []seedFolder{
	{"Inbox", "None", "Inbox", 30},
	{"Inbox/2024", "None", "None", 60},
	{"Inbox/2025", "None", "None", 80},
	{"Sent Items", "None", "Sent", 40},
	{"Deleted Items", "None", "Deleted", 10},
}

// LargeFolderPath is where the scale option puts its items.
const LargeFolderPath = "Inbox/Notifications"

// generateMailbox makes a mailbox of u's, whose colleagues are people.
func generateMailbox(u demotenant.User, people []demotenant.User, archive bool, anchor time.Time, opts *Options) *mailboxData {
	layout := primaryFolders
	if archive {
		layout = archiveFolders
	}
	large := !archive && opts.LargeMailbox != "" && strings.EqualFold(opts.LargeMailbox, u.UPN)
	if large {
		layout = append(append([]seedFolder(nil), layout...), seedFolder{LargeFolderPath, "None", "None", 0})
	}
	m, byPath := layoutMailbox(u, archive, layout)
	g := &seeder{r: rng("mailbox", m.id), m: m, anchor: anchor, owner: u, people: people}
	for _, sf := range layout {
		g.fill(byPath[sf.path], sf.count)
	}
	if !archive {
		g.hostile(byPath["Junk Email"])
		g.stories(byPath)
		g.drift(byPath)
	}
	if large {
		g.bulk(byPath[LargeFolderPath], opts.LargeFolderItems)
	}
	m.index()
	return m
}

// layoutMailbox makes an empty mailbox with the folders of layout, and
// returns them by path too.
func layoutMailbox(u demotenant.User, archive bool, layout []seedFolder) (*mailboxData, map[string]*mailFolder) {
	m := &mailboxData{id: MailboxID(u.OID, archive), owner: u, archive: archive, folder: map[string]*mailFolder{}}
	byPath := map[string]*mailFolder{}
	for _, sf := range layout {
		parent, name := "", sf.path
		if i := strings.LastIndex(sf.path, "/"); i >= 0 {
			parent, name = byPath[sf.path[:i]].id, sf.path[i+1:]
		}
		f := &mailFolder{id: ewsID("AAMkAGI2F", m.id, sf.path), name: name, parent: parent, path: sf.path, typ: sf.typ, category: sf.category}
		m.folders = append(m.folders, f)
		m.folder[f.id] = f
		byPath[sf.path] = f
	}
	return m, byPath
}

// seeder generates one mailbox's items.
type seeder struct {
	r      *rand.Rand
	m      *mailboxData
	anchor time.Time
	owner  demotenant.User
	people []demotenant.User // the owner's colleagues
	n      int
}

func (g *seeder) newItem(kind itemKind, folder *mailFolder, created time.Time, f *itemFields) *mailItem {
	g.n++
	it := &mailItem{
		id: ewsID("AAMkAGI2ZjVmAEY", g.m.id, fmt.Sprint(g.n)), kind: kind, created: created, sent: created.Add(-time.Duration(g.r.IntN(300)) * time.Second),
		folder: folder.id, versions: []version{{since: created, fields: f}},
	}
	g.m.items = append(g.m.items, it)
	return it
}

// when is a time in the seed's span: for a live mailbox the last 120 days,
// for an archive the two years before that.
func (g *seeder) when() time.Time {
	if g.m.archive {
		return g.anchor.Add(-120*24*time.Hour - time.Duration(g.r.Int64N(int64(600*24*time.Hour))))
	}
	return g.anchor.Add(-time.Hour - time.Duration(g.r.Int64N(int64(120*24*time.Hour))))
}

// person is a colleague (or the owner) as "Name <address>".
func (g *seeder) colleague() string {
	u := pick(g.r, g.people)
	return fmt.Sprintf("%s <%s>", u.DisplayName, u.UPN)
}

func (g *seeder) external() string {
	c := pick(g.r, companies)
	domain := strings.ToLower(strings.ReplaceAll(c, " ", "")) + ".com"
	first := pick(g.r, []string{"Ana", "Ben", "Chloé", "Dmitri", "Emma", "Farid", "Grace", "Hiro", "Ines", "Jonas"})
	return fmt.Sprintf("%s (%s) <%s@%s>", first, c, strings.ToLower(strings.ReplaceAll(first, "é", "e")), domain)
}

func (g *seeder) me() string { return fmt.Sprintf("%s <%s>", g.owner.DisplayName, g.owner.UPN) }

func (g *seeder) attachments(topic string) []attachment {
	var out []attachment
	for range g.r.IntN(4) {
		if g.r.IntN(2) == 0 {
			break
		}
		kind := pick(g.r, fileKinds)
		name := fmt.Sprintf("%s %s.%s", strings.ToUpper(topic[:1])+topic[1:], pick(g.r, []string{"v2", "final", "draft", "notes", "figures", "2026"}), kind)
		out = append(out, attachment{Name: name, Size: 8<<10 + g.r.Int64N(3<<20)})
	}
	return out
}

func (g *seeder) message(folder *mailFolder) {
	topic := pick(g.r, topics)
	from, to := g.colleague(), g.me()
	if folder.category == "Sent" || folder.category == "Drafts" {
		from, to = g.me(), g.colleague()
	} else if g.r.IntN(3) == 0 {
		from = g.external()
	}
	subject := pick(g.r, []string{
		"Re: %s", "FW: %s", "%s: draft for review", "Meeting notes: %s", "Action needed: %s", "Updated: %s timeline",
		"Reminder: %s", "Question about the %s", "%s – next steps", "Thanks for the help with the %s",
	})
	subject = fmt.Sprintf(subject, topic)
	if folder.path == "Inbox/Receipts" {
		subject = fmt.Sprintf("Invoice %d from %s", 10000+g.r.IntN(90000), pick(g.r, companies))
		from = g.external()
	}
	body := fmt.Sprintf("Hi %s,\n\n%s %s\n\nBest regards,\n%s", strings.Fields(to)[0], pick(g.r, phrases), pick(g.r, phrases), strings.Fields(from)[0])
	f := &itemFields{Subject: subject, Body: body, From: from, To: to, Importance: pick(g.r, []string{"Normal", "Normal", "Normal", "High", "Low"}),
		Attachments: g.attachments(topic)}
	if g.r.IntN(4) == 0 {
		f.Cc = g.colleague()
	}
	g.newItem(kindMessage, folder, g.when(), f)
}

func (g *seeder) fill(folder *mailFolder, n int) {
	for range n {
		switch folder.typ {
		case "Appointment":
			topic := pick(g.r, topics)
			start := g.anchor.Add(time.Duration(g.r.IntN(60*24)-40*24) * time.Hour).Truncate(30 * time.Minute)
			f := &itemFields{Subject: "Meeting: " + topic, Organizer: g.colleague(), Attendees: g.me() + "; " + g.colleague(),
				Location: pick(g.r, locations), Start: start, End: start.Add(time.Duration(1+g.r.IntN(4)) * 30 * time.Minute),
				Recurring: g.r.IntN(6) == 0, Body: pick(g.r, phrases)}
			g.newItem(kindAppointment, folder, g.when(), f)
		case "Contact":
			first := pick(g.r, []string{"Ana", "Ben", "Chloé", "Dmitri", "Emma", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kai", "Lena"})
			last := pick(g.r, []string{"Silva", "Okafor", "Müller", "Tanaka", "Novak", "Rossi", "Dubois", "Larsen", "Kowalski"})
			c := pick(g.r, companies)
			f := &itemFields{FullName: first + " " + last, Subject: first + " " + last, Company: c,
				Email:         strings.ToLower(first[:1]+last) + "@" + strings.ToLower(strings.ReplaceAll(c, " ", "")) + ".com",
				JobTitle:      pick(g.r, []string{"Buyer", "Account Manager", "CFO", "Designer", "Engineer", "Store Manager"}),
				BusinessPhone: fmt.Sprintf("+1 425 555 %04d", g.r.IntN(10000)), Mobile: fmt.Sprintf("+44 7700 9%05d", g.r.IntN(100000)),
				Address: fmt.Sprintf("%d Main Street, %s", 1+g.r.IntN(200), pick(g.r, cities))}
			g.newItem(kindContact, folder, g.when(), f)
		case "Task":
			topic := pick(g.r, topics)
			f := &itemFields{Subject: "Follow up on the " + topic, Status: pick(g.r, []string{"NotStarted", "InProgress", "Completed", "WaitingOnSomeoneElse", "Deferred"}),
				Percent: float64(g.r.IntN(5)) * 25, Start: g.when(), Due: g.anchor.Add(time.Duration(g.r.IntN(30*24)-10*24) * time.Hour), Owner: g.owner.DisplayName}
			g.newItem(kindTask, folder, g.when(), f)
		case "StickyNote":
			g.newItem(kindNote, folder, g.when(), &itemFields{Subject: pick(g.r, phrases), Body: pick(g.r, phrases)})
		default:
			g.message(folder)
		}
	}
}

// hostile adds messages whose subject, sender and attachment names are
// markup and script, as backed-up mail can be.
func (g *seeder) hostile(folder *mailFolder) {
	for i, h := range hostileNames {
		f := &itemFields{Subject: h, Body: "Body: " + h, From: fmt.Sprintf("%s <mallory%d@evil.example>", hostileNames[(i+1)%len(hostileNames)], i),
			To: g.me(), Importance: "Normal", Attachments: []attachment{{Name: hostileNames[(i+2)%len(hostileNames)] + ".pdf", Size: 4096}}}
		g.newItem(kindMessage, folder, g.anchor.Add(-time.Duration(48+i)*time.Hour), f)
	}
}

// Story subjects the demo and the tests look for.
const (
	StoryDeletedSubject = "Store 42 refit: final floor plan"
	StoryChangedSubject = "Holiday rota for December"
	StoryMovedSubject   = "Supplier contract – signed copy"
)

// stories are the scripted changes every live mailbox has: a message deleted
// last week, a draft changed since, a message moved to Archive.
func (g *seeder) stories(byPath map[string]*mailFolder) {
	day := 24 * time.Hour
	inbox, archive, drafts := byPath["Inbox"], byPath["Archive"], byPath["Drafts"]
	deleted := g.newItem(kindMessage, inbox, g.anchor.Add(-9*day-3*time.Hour), &itemFields{
		Subject: StoryDeletedSubject, From: "Megan Bowen <MeganB@contoso.onmicrosoft.com>", To: g.me(),
		Cc: "Lynne Robbins <LynneR@contoso.onmicrosoft.com>", Importance: "High",
		Body:        "Hi,\n\nHere is the final floor plan for the store 42 refit. The shelving order goes out on Monday.\n\nMegan",
		Attachments: []attachment{{Name: "Store 42 floor plan final.pdf", Size: 2_483_117}, {Name: "Shelving order.xlsx", Size: 48_233}},
	})
	deleted.deleted = g.anchor.Add(-5*day - 2*time.Hour)

	changed := g.newItem(kindMessage, drafts, g.anchor.Add(-12*day), &itemFields{
		Subject: StoryChangedSubject, From: g.me(), To: "Retail <retail@contoso.onmicrosoft.com>", Importance: "Normal",
		Body: "Draft rota: Adele 1-7 Dec, Lynne 8-14 Dec, Diego 15-21 Dec.",
	})
	changed.versions = append(changed.versions, version{since: g.anchor.Add(-3 * day), fields: &itemFields{
		Subject: StoryChangedSubject + " (v2)", From: g.me(), To: "Retail <retail@contoso.onmicrosoft.com>", Importance: "Normal",
		Body: "Rota: Lynne 1-7 Dec, Adele 8-14 Dec.",
	}})

	moved := g.newItem(kindMessage, inbox, g.anchor.Add(-20*day), &itemFields{
		Subject: StoryMovedSubject, From: "Ana (Fabrikam) <ana@fabrikam.com>", To: g.me(), Importance: "Normal",
		Body: "Please find the countersigned contract attached.", Attachments: []attachment{{Name: "Contract Fabrikam 2026 signed.pdf", Size: 912_004}},
	})
	moved.moves = append(moved.moves, move{at: g.anchor.Add(-2 * day), folder: archive.id})
}

// drift deletes, moves and changes a share of the older items, as users do.
func (g *seeder) drift(byPath map[string]*mailFolder) {
	day := 24 * time.Hour
	deletedItems := byPath["Deleted Items"]
	for _, it := range g.m.items {
		age := g.anchor.Sub(it.created)
		if age < 2*day || len(it.moves) > 0 || len(it.versions) > 1 || !it.deleted.IsZero() {
			continue
		}
		when := it.created.Add(day + time.Duration(g.r.Int64N(int64(age-day))))
		switch n := g.r.IntN(100); {
		case n < 4:
			it.deleted = when
		case n < 7 && it.kind == kindMessage && it.folder != deletedItems.id:
			it.moves = append(it.moves, move{at: when, folder: deletedItems.id})
		case n < 10:
			f := *it.versions[0].fields
			switch it.kind {
			case kindAppointment:
				f.Start, f.End = f.Start.Add(24*time.Hour), f.End.Add(24*time.Hour)
			case kindContact:
				f.Mobile = fmt.Sprintf("+44 7700 9%05d", g.r.IntN(100000))
			case kindTask:
				f.Status, f.Percent = "Completed", 100
			default:
				f.Importance = "High"
				f.Body += "\n\n(edited)"
			}
			it.versions = append(it.versions, version{since: when, fields: &f})
		}
	}
}

// bulk fills the scale option's folder with n notifications, a minute apart,
// the newest a day old, so every restore point of the last day has them all.
func (g *seeder) bulk(folder *mailFolder, n int) {
	for i := range n {
		f := &itemFields{Subject: fmt.Sprintf("Notification %06d: build report", n-i), From: "Build service <noreply@builds.contoso.com>",
			To: g.me(), Importance: "Low", Body: "The nightly build finished."}
		g.newItem(kindMessage, folder, g.anchor.Add(-24*time.Hour-time.Duration(i)*time.Minute), f)
	}
}
