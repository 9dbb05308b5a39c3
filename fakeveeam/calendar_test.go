package fakeveeam

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/openrestore/portal/demotenant"
)

// The journeys (cmd/portal's integration tests, the browser tests and the
// demo's hints) open restore points by day, "four days ago" in the user's
// zone, and expect the stories to be in them. These tests walk the demo
// generator over every day of a year and every hour of a day and check
// each expectation there, so that the suite passes whatever the day and
// hour it runs at.

// journeyZones are the zones the journeys run in.
var journeyZones = []string{"UTC", "Europe/London", "Europe/Dublin", "Europe/Berlin", "Europe/Paris", "Europe/Madrid",
	"America/New_York", "America/Chicago", "America/Los_Angeles", "Asia/Tokyo", "Asia/Kolkata"}

// walkAnchors calls fn for every hour and quarter past of one day (the
// backup jobs run at and every zone's midnight falls on one of them), and
// for midnight and two o'clock (UTC) of every day of a year from March (a
// leap day, every month's length, the DST changes of both hemispheres).
// full says whether fn should check with the whole generator, which is
// too slow for every anchor: every hour of the day and once a week.
func walkAnchors(t *testing.T, fn func(t *testing.T, anchor time.Time, full bool)) {
	start := time.Date(2027, time.March, 1, 0, 0, 0, 0, time.UTC)
	for h := range 24 {
		for _, m := range []time.Duration{0, 15 * time.Minute} {
			fn(t, dataAnchor(start.Add(time.Duration(h)*time.Hour+m)), true)
		}
	}
	for d := range 366 {
		day := start.AddDate(0, 0, d)
		fn(t, dataAnchor(day), d%7 == 0)
		fn(t, dataAnchor(day.Add(2*time.Hour)), false)
	}
}

// pointsOn are the points of a workload taken on the day that lies
// daysBack days before anchor in loc, as the start page lists them.
func pointsOn(all []restorePoint, workload string, anchor time.Time, loc *time.Location, daysBack int) []restorePoint {
	local := anchor.In(loc)
	day := time.Date(local.Year(), local.Month(), local.Day()-daysBack, 0, 0, 0, 0, loc)
	next := time.Date(day.Year(), day.Month(), day.Day()+1, 0, 0, 0, 0, loc)
	var out []restorePoint
	for _, p := range all {
		if p.covers(workload) && !p.BackupTime.Before(day) && p.BackupTime.Before(next) {
			out = append(out, p)
		}
	}
	return out
}

// latest is the newest point of a workload.
func latest(pts []restorePoint, workload string) restorePoint {
	for i := len(pts) - 1; i >= 0; i-- {
		if pts[i].covers(workload) {
			return pts[i]
		}
	}
	return restorePoint{}
}

func zones(t *testing.T) []*time.Location {
	var out []*time.Location
	for _, z := range journeyZones {
		loc, err := time.LoadLocation(z)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, loc)
	}
	return out
}

func TestEveryRecentDayHasRestorePoints(t *testing.T) {
	t.Parallel()
	locs, dir := zones(t), newDirectory(demotenant.Contoso())
	walkAnchors(t, func(t *testing.T, anchor time.Time, _ bool) {
		pts := (&Server{anchor: anchor, dir: dir}).points(anchor)
		for _, w := range []string{"Vex", "Veod", "Vesp", "Vet"} {
			for _, loc := range locs {
				for back := 1; back <= 8; back++ {
					if len(pointsOn(pts, w, anchor, loc, back)) == 0 {
						t.Errorf("at %s: no %s point %d days back in %s", anchor.Format(time.RFC3339), w, back, loc)
					}
				}
			}
			if !slices.ContainsFunc(pts, func(p restorePoint) bool { return p.covers(w) }) ||
				pts[0].BackupTime.Before(anchor.Add(-retention)) || pts[len(pts)-1].BackupTime.After(anchor) {
				t.Errorf("at %s: %s points outside the last 30 days", anchor.Format(time.RFC3339), w)
			}
		}
	})
}

// storyMailbox is a mailbox as the generator makes it, or (not full) with
// only its stories.
func storyMailbox(u demotenant.User, anchor time.Time, full bool) *mailboxData {
	if full {
		return generateMailbox(u, demotenant.Contoso().Users, false, anchor, &Options{})
	}
	m, byPath := layoutMailbox(u, false, primaryFolders)
	(&seeder{r: rng("mailbox", m.id), m: m, anchor: anchor, owner: u}).stories(byPath)
	m.index()
	return m
}

// storyUser is whose OneDrive and mailbox the stories are checked in.
func storyUser(t *testing.T, upn string) demotenant.User {
	for _, u := range demotenant.Contoso().Users {
		if u.UPN == upn {
			return u
		}
	}
	t.Fatalf("no %s", upn)
	return demotenant.User{}
}

// check fails the test for every point that does not pass ok.
func check(t *testing.T, anchor time.Time, what string, pts []restorePoint, ok func(time.Time) bool) {
	t.Helper()
	if len(pts) == 0 {
		t.Errorf("at %s: %s: no restore point", anchor.Format(time.RFC3339), what)
	}
	for _, p := range pts {
		if !ok(p.BackupTime) {
			t.Errorf("at %s: %s: not so in the point of %s", anchor.Format(time.RFC3339), what, p.BackupTime.Format(time.RFC3339))
		}
	}
}

func TestTheStoriesAreInThePointsTheJourneysOpen(t *testing.T) {
	t.Parallel()
	org := demotenant.Contoso()
	adele, megan := storyUser(t, "AdeleV@contoso.onmicrosoft.com"), storyUser(t, "MeganB@contoso.onmicrosoft.com")
	var sales, mark8 demotenant.Team
	for _, tm := range org.Teams {
		switch tm.DisplayName {
		case "Sales and Marketing":
			sales = tm
		case "Mark 8 Project Team":
			mark8 = tm
		}
	}
	var salesSite *demotenant.Site
	for i := range org.Sites {
		if org.Sites[i].Title == "Sales and Marketing" {
			salesSite = &org.Sites[i]
		}
	}
	if sales.ID == "" || mark8.ID == "" || salesSite == nil {
		t.Fatal("the story team or site is missing from the demo tenant")
	}
	locs, dir := zones(t), newDirectory(org)
	walkAnchors(t, func(t *testing.T, anchor time.Time, full bool) {
		pts := (&Server{anchor: anchor, dir: dir}).points(anchor)
		// Exchange: Adele's floor plan, received nine days ago and deleted
		// five days ago, is in last week's points.
		mb := storyMailbox(adele, anchor, full)
		var plan *mailItem
		for _, it := range mb.items {
			if it.versions[0].fields.Subject == StoryDeletedSubject {
				plan = it
			}
		}
		if plan == nil || plan.deleted.IsZero() || !plan.deleted.Before(anchor) {
			t.Fatalf("at %s: the deleted message is not deleted before now", anchor)
		}
		// OneDrive: the budget was overwritten since the last backup; every
		// point before holds the good one; the onboarding folder is in the
		// points of five and six days ago.
		od := generateOneDrive(megan, org.Users, anchor)
		var budget, onboarding *docNode
		for _, n := range od.all {
			switch n.path() {
			case StoryOverwrittenDoc:
				budget = n
			case StoryDeletedFolder:
				onboarding = n
			}
		}
		good := func(at time.Time) bool { return budget.versions[budget.versionAt(at)].size != 9_216 }
		if budget.versions[budget.versionAt(anchor)].size != 9_216 {
			t.Errorf("at %s: the budget is not overwritten now", anchor)
		}
		check(t, anchor, "the budget is good in the latest OneDrive point", []restorePoint{latest(pts, "Veod")}, good)
		// Site: the Fabrikam visit, deleted two days ago, is in the points of four days ago.
		var visit *docNode
		topItems := 0 // the list's items outside folders, in the latest point
		for _, tr := range generateSite(salesSite, org.Users, anchor, 0) {
			for _, n := range tr.all {
				if n.name == StoryDeletedListItem || (len(n.versions) > 0 && n.versions[0].title == StoryDeletedListItem) {
					visit = n
				}
			}
			if tr.name == StoryVisitsList {
				topItems = len(tr.visible(nil, latest(pts, "Vesp").BackupTime, false, false, true))
			}
		}
		if visit == nil {
			t.Fatalf("at %s: no %q list item", anchor, StoryDeletedListItem)
		}
		if topItems == 0 {
			t.Errorf("at %s: the %s list holds nothing outside its folders", anchor, StoryVisitsList)
		}
		// Teams: Deal desk (deleted two days ago) four days back; the
		// Launch checklist tab (removed yesterday) two days back; Launch
		// plan.docx good in the latest point.
		var deal *teamChannel
		for _, ch := range generateTeam(sales, org, anchor).channels {
			if ch.name == StoryDeletedChannel {
				deal = ch
			}
		}
		var tab *teamTab
		var planDoc *teamFile
		for _, ch := range generateTeam(mark8, org, anchor).channels {
			for _, tb := range ch.tabs {
				if tb.name == StoryRemovedTab {
					tab = tb
				}
			}
			for _, f := range ch.files {
				if f.name == StoryChannelFile {
					planDoc = f
				}
			}
		}
		if deal == nil || tab == nil || planDoc == nil {
			t.Fatalf("at %s: a Teams story is missing", anchor)
		}
		check(t, anchor, "Launch plan.docx is good in the latest Teams point", []restorePoint{latest(pts, "Vet")}, func(at time.Time) bool {
			return planDoc.versions[planDoc.versionAt(at)-1].size != 2_048
		})
		if planDoc.versions[planDoc.versionAt(anchor)-1].size != 2_048 {
			t.Errorf("at %s: Launch plan.docx is not overwritten now", anchor)
		}

		for _, loc := range locs {
			in := func(w string, back int) []restorePoint { return pointsOn(pts, w, anchor, loc, back) }
			where := fmt.Sprintf(" (%s)", loc)
			check(t, anchor, "the floor plan is in last week's mail"+where, in("Vex", 7), func(at time.Time) bool { return plan.existsAt(at, false) })
			for back := 1; back <= 7; back++ { // "last Tuesday"
				check(t, anchor, fmt.Sprintf("the budget is good %d days back%s", back, where), in("Veod", back), good)
			}
			for _, back := range []int{5, 6} {
				check(t, anchor, fmt.Sprintf("the onboarding folder is there %d days back%s", back, where), in("Veod", back),
					func(at time.Time) bool { return onboarding.existsAt(at, false) })
			}
			check(t, anchor, "the Fabrikam visit is in the site four days back"+where, in("Vesp", 4),
				func(at time.Time) bool { return visit.existsAt(at, false) })
			check(t, anchor, "Deal desk is in the team four days back"+where, in("Vet", 4),
				func(at time.Time) bool { return existedAt(deal.created, deal.deleted, at) })
			check(t, anchor, "the Launch checklist tab is there two days back"+where, in("Vet", 2),
				func(at time.Time) bool { return existedAt(tab.created, tab.removed, at) })
		}
		if !onboarding.existsAt(anchor.Add(-4*day), false) || onboarding.existsAt(anchor, false) {
			t.Errorf("at %s: the onboarding folder was not deleted three days ago", anchor)
		}
	})
}
