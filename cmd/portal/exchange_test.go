package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/openrestore/portal/demotenant"
	"github.com/openrestore/portal/fakeveeam"
	"github.com/openrestore/portal/internal/wait"
)

// mailbox is a mailbox page the tests are on.
type mailbox struct {
	b    *browser
	base string // /sessions/<sid>/mailboxes/<mid>
	page response
}

// exploreDaysAgo opens the first restore point of the day that was days
// days ago on the stack's clock (in UTC, the zone of a user who chose none).
func (b *browser) exploreDaysAgo(workload string, days int) string {
	b.s.t.Helper()
	return b.exploreDay(workload, b.s.now().UTC().AddDate(0, 0, -days))
}

// exploreDay opens the first restore point of a day (in the user's zone).
func (b *browser) exploreDay(workload string, day time.Time) string {
	b.s.t.Helper()
	home := b.get("/?workload=" + workload + "&day=" + day.Format("2006-01-02"))
	point := ""
	home.doc(b.s.t).Find(`.point-list form[action="/explore"] input[name="point"]`).Each(func(_ int, s *goquery.Selection) {
		if point == "" {
			point = s.AttrOr("value", "")
		}
	})
	if point == "" {
		b.s.t.Fatalf("no %s restore point on %s", workload, day.Format("2006-01-02"))
	}
	r := b.post("/explore", url.Values{"workload": {workload}, "point": {point}})
	if r.StatusCode != http.StatusSeeOther {
		b.s.t.Fatalf("explore %s: %d %s", point, r.StatusCode, r.body)
	}
	return strings.TrimPrefix(r.Header.Get("Location"), "/sessions/")
}

// openMailbox opens the mailbox named name in the session and returns its Inbox.
func (b *browser) openMailbox(sid, name string) *mailbox {
	t := b.s.t
	t.Helper()
	r := b.get("/sessions/" + sid)
	href := ""
	r.doc(t).Find("table.items tbody td a").Each(func(_ int, s *goquery.Selection) {
		if strings.TrimSpace(s.Text()) == name {
			href = s.AttrOr("href", "")
		}
	})
	if href == "" {
		t.Fatalf("no link to the mailbox %q on the session page:\n%s", name, r.body)
	}
	r = b.get(href)
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("opening %s: %d %s", href, r.StatusCode, r.body)
	}
	inbox := b.get(r.Header.Get("Location"))
	if inbox.StatusCode != http.StatusOK {
		t.Fatalf("the Inbox: %d %s", inbox.StatusCode, inbox.body)
	}
	return &mailbox{b: b, base: href, page: inbox}
}

// folder opens a top-level folder by name, or a subfolder named by a path "Inbox/Notifications".
func (m *mailbox) folder(path string) response {
	t := m.b.s.t
	t.Helper()
	parts := strings.Split(path, "/")
	href := ""
	m.page.doc(t).Find("nav.folder-tree a").Each(func(_ int, s *goquery.Selection) {
		if strings.TrimSpace(s.Text()) == parts[0] {
			href = s.AttrOr("href", "")
		}
	})
	if href == "" {
		t.Fatalf("no folder %q in the tree", parts[0])
	}
	r := m.b.get(href)
	for _, sub := range parts[1:] {
		next := ""
		r.doc(t).Find("nav.subfolders a").Each(func(_ int, s *goquery.Selection) {
			if strings.TrimSpace(s.Text()) == sub {
				next = s.AttrOr("href", "")
			}
		})
		if next == "" {
			t.Fatalf("no subfolder %q:\n%s", sub, r.body)
		}
		r = m.b.get(next)
	}
	if r.StatusCode != http.StatusOK {
		t.Fatalf("folder %s: %d %s", path, r.StatusCode, r.body)
	}
	return r
}

// search runs a search from the mailbox's form.
func (m *mailbox) search(q url.Values) response {
	m.b.s.t.Helper()
	return m.b.get(m.base + "/search?" + q.Encode())
}

// row is an item in a list.
type row struct {
	key, subject, from, when, href string
}

func rowsOf(t testing.TB, r response) []row {
	t.Helper()
	var out []row
	r.doc(t).Find("table.mail-items tbody tr").Each(func(_ int, s *goquery.Selection) {
		a := s.Find(`td[data-label="Subject"] a`)
		out = append(out, row{
			key: s.Find(`input[name="item"]`).AttrOr("value", ""), subject: strings.TrimSpace(a.Text()),
			from: strings.TrimSpace(s.Find(`td[data-label="From"]`).Text()), when: s.Find("time").AttrOr("datetime", ""),
			href: a.AttrOr("href", ""),
		})
	})
	return out
}

func findRow(t testing.TB, r response, subject string) row {
	t.Helper()
	for _, x := range rowsOf(t, r) {
		if x.subject == subject {
			return x
		}
	}
	t.Fatalf("no item %q in the list:\n%v", subject, rowsOf(t, r))
	return row{}
}

// restore runs the wizard for the items with the given choices and returns
// the restore page's path.
func (m *mailbox) restore(items []string, choices url.Values) string {
	t := m.b.s.t
	t.Helper()
	wizard := m.b.openWizard(m.base, url.Values{"scope": {"selected"}, "item": items})
	if wizard.StatusCode != http.StatusOK {
		t.Fatalf("wizard: %d %s", wizard.StatusCode, wizard.body)
	}
	r := m.b.submitWizard(wizard, choices)
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/restores/") {
		t.Fatalf("restore: %d %q %s", r.StatusCode, r.Header.Get("Location"), r.body)
	}
	return r.Header.Get("Location")
}

// openWizard posts a list's selection to base/restore/new, as the list's
// form does, and follows it to the wizard; an error page comes back as it is.
func (b *browser) openWizard(base string, selection url.Values) response {
	b.s.t.Helper()
	r := b.post(base+"/restore/new", selection)
	if r.StatusCode != http.StatusSeeOther {
		return r
	}
	if loc := r.Header.Get("Location"); !regexp.MustCompile(`/restore/[0-9a-f-]{36}$`).MatchString(loc) {
		b.s.t.Fatalf("the list's form led to %q, not a wizard", loc)
	}
	return b.get(r.Header.Get("Location"))
}

// attemptRestore posts a list's selection and then the wizard's form with
// choices, without showing the wizard in between, as a replayed form would;
// it returns the answer to the wizard's form (or to the list's, when that
// was refused).
func (b *browser) attemptRestore(base string, selection, choices url.Values) response {
	b.s.t.Helper()
	r := b.post(base+"/restore/new", selection)
	if r.StatusCode != http.StatusSeeOther {
		return r
	}
	form := url.Values{"confirm": {"1"}}
	for k, v := range choices {
		form[k] = v
	}
	return b.post(r.Header.Get("Location"), form)
}

// refusedWizard follows a wizard's form that was sent back (Post/Redirect/Get)
// to the wizard again, which shows what to change.
func (b *browser) refusedWizard(r response) response {
	b.s.t.Helper()
	if r.StatusCode != http.StatusSeeOther || !regexp.MustCompile(`/restore/[0-9a-f-]{36}$`).MatchString(r.Header.Get("Location")) {
		b.s.t.Fatalf("the form was not sent back to its wizard: %d %q %s", r.StatusCode, r.Header.Get("Location"), r.body)
	}
	w := b.get(r.Header.Get("Location"))
	if w.StatusCode != http.StatusOK || w.doc(b.s.t).Find(".alert.error").Length() == 0 {
		b.s.t.Fatalf("the wizard shows no problem: %d %s", w.StatusCode, w.body)
	}
	return w
}

// wizardAction is where a wizard page's form posts.
func wizardAction(t testing.TB, wizard response) string {
	t.Helper()
	action := wizard.doc(t).Find("form.wizard").AttrOr("action", "")
	if action == "" {
		t.Fatalf("no wizard form:\n%s", wizard.body)
	}
	return action
}

// submitWizard sends a wizard page's form with choices, as a user who
// ticked those options and pressed the button.
func (b *browser) submitWizard(wizard response, choices url.Values) response {
	b.s.t.Helper()
	form := url.Values{}
	for k, v := range choices {
		form[k] = v
	}
	form.Set("confirm", "1")
	return b.post(wizardAction(b.s.t, wizard), form)
}

// waitRestore polls the restore page as its script does until it has finished.
func (b *browser) waitRestore(path string) response {
	b.s.t.Helper()
	wait.For(b.s.t, "the restore at "+path+" to finish", func() bool {
		r := b.get(path, "HX-Request: true", "HX-Target: restore-progress")
		if r.StatusCode != http.StatusOK {
			b.s.t.Fatalf("restore progress: %d %s", r.StatusCode, r.body)
		}
		return !strings.Contains(r.body, `hx-trigger="every 2s"`)
	})
	return b.get(path)
}

func production(s *stack, upn string, subject string) []fakeveeam.ProductionItem {
	var out []fakeveeam.ProductionItem
	for _, it := range s.veeam.ProductionItems(fakeveeam.MailboxID(demotenant.ID("user", upn), false)) {
		if it.Subject == subject {
			out = append(out, it)
		}
	}
	return out
}

var quick = stackOptions{veeam: fakeveeam.Options{RestoreItemDuration: 20 * time.Millisecond}}

func TestBrowseMailbox(t *testing.T) {
	t.Parallel()
	s := startStack(t, quick)
	b := s.signedIn(adele)
	sid, _ := b.explore("exchange")
	m := b.openMailbox(sid, "Adele Vance")
	d := m.page.doc(t)
	folders := texts(d, "nav.folder-tree a")
	for _, want := range []string{"Inbox", "Sent Items", "Drafts", "Deleted Items", "Calendar", "Contacts", "Tasks", "Junk Email", "Archive"} {
		if !slices.Contains(folders, want) {
			t.Errorf("the tree has no %s: %v", want, folders)
		}
	}
	if got := d.Find(`nav.folder-tree a[aria-current="page"]`).Text(); strings.TrimSpace(got) != "Inbox" {
		t.Errorf("current folder = %q", got)
	}
	rows := rowsOf(t, m.page)
	if len(rows) == 0 {
		t.Fatal("the Inbox lists nothing")
	}
	for i := 1; i < len(rows); i++ {
		if rows[i].when > rows[i-1].when {
			t.Errorf("not newest first: %s after %s", rows[i].when, rows[i-1].when)
		}
	}
	// Subfolders load lazily, as htmx asks for them.
	toggle := d.Find(`nav.folder-tree button.tree-toggle`).First()
	sub := b.get(toggle.AttrOr("hx-get", ""), "HX-Request: true")
	if sub.StatusCode != http.StatusOK || sub.doc(t).Find("ul.tree a, p.tree-empty").Length() == 0 {
		t.Errorf("subfolders: %d %s", sub.StatusCode, sub.body)
	}
	// An item's details, as a page and as the htmx pane.
	item := rows[0]
	full := b.get(item.href)
	pane := b.get(item.href, "HX-Request: true")
	for _, r := range []response{full, pane} {
		if r.StatusCode != http.StatusOK {
			t.Fatalf("item: %d", r.StatusCode)
		}
		dl := r.doc(t).Find("dl.facts")
		if !strings.Contains(dl.Text(), "From") || !strings.Contains(dl.Text(), "Received") {
			t.Errorf("the details lack From and Received: %s", dl.Text())
		}
	}
	if strings.Contains(pane.body, "<html") {
		t.Error("the htmx pane is a whole page")
	}
	// Calendar, contacts and tasks have their own fields.
	cal := rowsOf(t, m.folder("Calendar"))
	if len(cal) == 0 {
		t.Fatal("no meetings")
	}
	if dl := b.get(cal[0].href).doc(t).Find("dl.facts").Text(); !strings.Contains(dl, "Starts") || !strings.Contains(dl, "Organizer") {
		t.Errorf("a meeting's details: %s", dl)
	}
	contacts := m.folder("Contacts")
	if c := rowsOf(t, contacts); len(c) == 0 || !strings.Contains(b.get(c[0].href).doc(t).Find("dl.facts").Text(), "E-mail") {
		t.Errorf("a contact's details are missing")
	}
}

func TestStoryMessageHasAttachmentsAndSizes(t *testing.T) {
	t.Parallel()
	s := startStack(t, quick)
	b := s.signedIn(adele)
	sid := b.exploreDaysAgo("exchange", 7)
	m := b.openMailbox(sid, "Adele Vance")
	x := findRow(t, m.search(url.Values{"subject": {"floor plan"}}), fakeveeam.StoryDeletedSubject)
	d := b.get(x.href).doc(t)
	att := d.Find("ul.attachments").Text()
	if !strings.Contains(att, "Store 42 floor plan final.pdf") || !strings.Contains(att, "2.5 MB") {
		t.Errorf("attachments: %q", att)
	}
	if facts := d.Find("dl.facts").Text(); !strings.Contains(facts, "High") || !strings.Contains(facts, "Lynne Robbins") {
		t.Errorf("facts: %q", facts)
	}
}

// TestSearchDatesInTheUsersZone searches received dates as days of the
// user's zone: a zone is chosen where the message's day differs from its UTC
// day, so a search that used UTC days would miss it.
func TestSearchDatesInTheUsersZone(t *testing.T) {
	t.Parallel()
	s := startStack(t, quick)
	b := s.signedIn(adele)
	sid := b.exploreDaysAgo("exchange", 7)
	m := b.openMailbox(sid, "Adele Vance")
	x := findRow(t, m.search(url.Values{"q": {"floor plan"}}), fakeveeam.StoryDeletedSubject)
	received, err := time.Parse(time.RFC3339, x.when)
	if err != nil {
		t.Fatal(err)
	}
	zone := "Pacific/Kiritimati" // UTC+14: the next day from 10:00 UTC
	if received.UTC().Hour() < 11 {
		zone = "Pacific/Pago_Pago" // UTC-11: the day before until 11:00 UTC
	}
	loc, _ := time.LoadLocation(zone)
	if r := b.post("/preferences/timezone", url.Values{"tz": {zone}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("set zone: %d", r.StatusCode)
	}
	local, utc := received.In(loc).Format("2006-01-02"), received.UTC().Format("2006-01-02")
	if local == utc {
		t.Fatalf("bad test: %s is the same day in %s and UTC", received, zone)
	}
	hit := m.search(url.Values{"subject": {"floor plan"}, "after": {local}, "before": {local}})
	findRow(t, hit, fakeveeam.StoryDeletedSubject)
	if when := hit.doc(t).Find("table.mail-items time").First().Text(); !strings.Contains(when, received.In(loc).Format("15:04")) {
		t.Errorf("the list shows %q, not the time in %s", when, zone)
	}
	miss := m.search(url.Values{"subject": {"floor plan"}, "after": {utc}, "before": {utc}})
	for _, r := range rowsOf(t, miss) {
		if r.subject == fakeveeam.StoryDeletedSubject {
			t.Errorf("a search of %s in %s found a message received on %s there", utc, zone, local)
		}
	}
	// The form keeps what was asked, and says which zone the days are in.
	form := hit.doc(t).Find("form.search-form")
	if form.Find(`input[name="after"]`).AttrOr("value", "") != local || !strings.Contains(form.Text(), zone) {
		t.Errorf("the form lost its dates or zone: %s", form.Text())
	}
	// Only in the open folder: the Inbox has it, Sent Items does not.
	inboxKey := strings.TrimPrefix(strings.Split(m.page.Request.URL.Path, "/folders/")[1], "")
	if r := m.search(url.Values{"q": {"floor plan"}, "folder": {inboxKey}}); len(rowsOf(t, r)) == 0 || !strings.Contains(r.body, "Search results in Inbox") {
		t.Errorf("search in the Inbox: %s", r.body)
	}
}

func TestSearchRefusals(t *testing.T) {
	t.Parallel()
	s := startStack(t, quick)
	b := s.signedIn(adele)
	sid, _ := b.explore("exchange")
	m := b.openMailbox(sid, "Adele Vance")
	for _, c := range []struct {
		name string
		q    url.Values
		want string
	}{
		{"empty", url.Values{"q": {"  "}}, "Type words to look for"},
		{"bad date", url.Values{"q": {"x"}, "after": {"2026-02-30"}}, "not valid"},
		{"unclosed paren", url.Values{"advanced": {"subject:(floor"}}, "did not accept this search"},
		{"unknown property", url.Values{"advanced": {"colour:blue"}}, "did not accept this search"},
	} {
		r := m.search(c.q)
		if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.body, c.want) {
			t.Errorf("%s: %d, want 400 with %q:\n%s", c.name, r.StatusCode, c.want, r.body)
		}
		// The page is the mailbox with the form, not an error page.
		if r.doc(t).Find("form.search-form").Length() != 1 {
			t.Errorf("%s: the form is gone", c.name)
		}
	}
}

func TestRestoreDeletedMessageToItsFolder(t *testing.T) {
	t.Parallel()
	s := startStack(t, quick)
	b := s.signedIn(adele)
	if got := production(s, adele, fakeveeam.StoryDeletedSubject); len(got) != 0 {
		t.Fatalf("the story message is in production before the restore: %+v", got)
	}
	sid := b.exploreDaysAgo("exchange", 7)
	m := b.openMailbox(sid, "Adele Vance")
	x := findRow(t, m.search(url.Values{"q": {"floor plan"}}), fakeveeam.StoryDeletedSubject)
	wizard := b.openWizard(m.base, url.Values{"scope": {"selected"}, "item": {x.key}})
	if !strings.Contains(wizard.doc(t).Find("ul.preview").Text(), fakeveeam.StoryDeletedSubject) {
		t.Errorf("the wizard does not name the item:\n%s", wizard.body)
	}
	if d := wizard.doc(t); d.Find(`#o-missing[checked]`).Length() != 1 || d.Find(`#o-changed[checked]`).Length() != 1 || d.Find(`#t-orig[checked]`).Length() != 1 {
		t.Error("the wizard's defaults are not original location, missing and changed items")
	}
	page := m.restore([]string{x.key}, url.Values{"target": {"original"}, "missing": {"1"}, "changed": {"1"}})
	done := b.waitRestore(page)
	d := done.doc(t)
	if status := d.Find(".status").Text(); !strings.Contains(status, "Finished") {
		t.Errorf("status = %q", status)
	}
	if cells := texts(d, "#restore-progress tbody td"); len(cells) < 2 || cells[0] != fakeveeam.StoryDeletedSubject || cells[1] != "Restored" {
		t.Errorf("per-item results = %v", cells)
	}
	got := production(s, adele, fakeveeam.StoryDeletedSubject)
	if len(got) != 1 || got[0].Folder != "Inbox" || !got[0].Restored || got[0].Unread {
		t.Errorf("production after the restore: %+v", got)
	}
	// My restores lists it, finished.
	list := b.get("/restores").doc(t)
	if rows := list.Find("table.items tbody tr"); rows.Length() != 1 || !strings.Contains(rows.Text(), "Finished") || !strings.Contains(rows.Text(), "Original location") {
		t.Errorf("My restores: %s", list.Find("main").Text())
	}
	if !strings.Contains(s.logs.String(), `"msg":"restore_started"`) || !strings.Contains(s.logs.String(), `"msg":"restore_ended"`) {
		t.Error("the restore is not in the log")
	}
	// Another user cannot see it.
	if r := s.signedIn(megan).get(page); r.StatusCode != http.StatusNotFound {
		t.Errorf("another user's restore: %d", r.StatusCode)
	}
}

func TestRestoreToNewFolderAsUnread(t *testing.T) {
	t.Parallel()
	s := startStack(t, quick)
	b := s.signedIn(adele)
	sid, _ := b.explore("exchange")
	m := b.openMailbox(sid, "Adele Vance")
	rows := rowsOf(t, m.page)[:3]
	var keys []string
	for _, r := range rows {
		keys = append(keys, r.key)
	}
	page := m.restore(keys, url.Values{"target": {"folder"}, "folder_name": {`Recovered "mail" <b>`}, "unread": {"1"}})
	done := b.waitRestore(page)
	if !strings.Contains(done.body, "Restored") || !strings.Contains(done.doc(t).Find("dl.facts").Text(), `New folder “Recovered "mail" <b>”`) {
		t.Errorf("restore page:\n%s", done.body)
	}
	for _, r := range rows {
		var copies []fakeveeam.ProductionItem
		for _, it := range production(s, adele, r.subject) {
			if it.CopyOf != "" {
				copies = append(copies, it)
			}
		}
		if len(copies) != 1 || copies[0].Folder != `Recovered "mail" <b>` || !copies[0].Unread {
			t.Errorf("copies of %q: %+v", r.subject, copies)
		}
	}
}

func TestRestoreWizardKeepsInputAndExplains(t *testing.T) {
	t.Parallel()
	s := startStack(t, quick)
	b := s.signedIn(adele)
	sid, _ := b.explore("exchange")
	m := b.openMailbox(sid, "Adele Vance")
	x := rowsOf(t, m.page)[0]
	before := len(s.veeam.RestoreSessions(demotenant.ID("user", adele)))
	wizard := b.openWizard(m.base, url.Values{"scope": {"selected"}, "item": {x.key}})
	for _, c := range []struct {
		form  url.Values
		field string // the field the problem is shown at
		want  string
	}{
		{url.Values{"target": {"folder"}, "folder_name": {"  "}, "reason": {"for the audit"}}, "folder-name", "Give the new folder a name"},
		{url.Values{"target": {"folder"}, "folder_name": {"a/b"}}, "folder-name", "slashes"},
		{url.Values{"target": {"folder"}, "folder_name": {strings.Repeat("x", 256)}}, "folder-name", "256 characters long; the backup server takes 255 at most"},
		{url.Values{"target": {"original"}}, "which", "with neither, nothing would be restored"},
		{url.Values{"target": {"original"}, "missing": {"1"}, "reason": {strings.Repeat("r", 501)}}, "reason", "The reason is 501 characters long"},
	} {
		// The form comes back (Post/Redirect/Get) with what was typed and,
		// next to the field, what to change.
		r := b.submitWizard(wizard, c.form)
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != wizardAction(t, wizard) {
			t.Errorf("%v: %d to %q, want the wizard again", c.form, r.StatusCode, r.Header.Get("Location"))
			continue
		}
		d := b.get(r.Header.Get("Location")).doc(t)
		if got := d.Find("#" + c.field + "-error").Text(); !strings.Contains(got, c.want) {
			t.Errorf("%v: next to %s: %q, want %q", c.form, c.field, got, c.want)
		}
		if d.Find(`.alert.error a[href="#`+c.field+`"]`).Length() != 1 {
			t.Errorf("%v: the problem list does not lead to %s", c.form, c.field)
		}
		if !strings.Contains(d.Find("ul.preview").Text(), x.subject) {
			t.Errorf("%v: the selection is lost", c.form)
		}
		if want := c.form.Get("reason"); want != "" && strings.TrimSpace(d.Find("#reason").Text()) != want {
			t.Errorf("%v: the reason is lost", c.form)
		}
		if want := strings.TrimSpace(c.form.Get("folder_name")); want != "" && d.Find("#folder-name").AttrOr("value", "") != want {
			t.Errorf("%v: the folder name is lost", c.form)
		}
	}
	if after := len(s.veeam.RestoreSessions(demotenant.ID("user", adele))); after != before {
		t.Error("a refused form started a restore")
	}
	// Nothing selected, or ids the portal never gave out: an error page that
	// leads back to where the form was.
	back := m.page.Request.URL.RequestURI()
	r := b.openWizard(m.base, url.Values{"scope": {"selected"}, "back": {back}})
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.body, "Tick the items") {
		t.Errorf("no selection: %d", r.StatusCode)
	}
	if got := r.doc(t).Find(`main a.button`).First().AttrOr("href", ""); got != back {
		t.Errorf("no selection leads back to %q, want %q", got, back)
	}
	if r := b.openWizard(m.base, url.Values{"scope": {"selected"}, "item": {"not base64!"}}); r.StatusCode != http.StatusBadRequest {
		t.Errorf("a bad id: %d", r.StatusCode)
	}
}

func TestRestoreAllResultsOfASearch(t *testing.T) {
	t.Parallel()
	s := startStack(t, quick)
	b := s.signedIn(adele)
	sid, _ := b.explore("exchange")
	m := b.openMailbox(sid, "Adele Vance")
	results := m.search(url.Values{"from": {"megan"}})
	n := len(rowsOf(t, results))
	if n == 0 || n >= 100 {
		t.Fatalf("%d messages from Megan: the test wants one page of them", n)
	}
	form := url.Values{}
	results.doc(t).Find(`form.item-form input[type="hidden"]`).Each(func(_ int, sel *goquery.Selection) {
		if name := sel.AttrOr("name", ""); name != "csrf_token" {
			form.Add(name, sel.AttrOr("value", ""))
		}
	})
	form.Set("scope", "all")
	wizard := b.openWizard(m.base, form)
	if wizard.StatusCode != http.StatusOK || !strings.Contains(wizard.doc(t).Find("h1").Text(), countLabelFor(n)) {
		t.Errorf("the wizard for all %d results: %d %s", n, wizard.StatusCode, wizard.doc(t).Find("h1").Text())
	}
	// A whole 100,000-item folder is more than one restore takes.
	big := startStack(t, stackOptions{veeam: fakeveeam.Options{LargeMailbox: adele, LargeFolderItems: 10_050}})
	bb := big.signedIn(adele)
	bsid, _ := bb.explore("exchange")
	bm := bb.openMailbox(bsid, "Adele Vance")
	folder := bm.folder("Inbox/Notifications")
	all := url.Values{"scope": {"all"}, "all_folder": {folder.doc(t).Find(`input[name="all_folder"]`).AttrOr("value", "")}}
	if r := bb.openWizard(bm.base, all); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.body, "at most 10,000") {
		t.Errorf("restore of 10,050 items: %d %s", r.StatusCode, r.body)
	}
}

func countLabelFor(n int) string {
	if n == 1 {
		return "1 item"
	}
	return fmt.Sprintf("%d items", n)
}

func TestRestoreFailuresArePerItem(t *testing.T) {
	t.Parallel()
	s := startStack(t, quick)
	b := s.signedIn(adele)
	sid, _ := b.explore("exchange")
	m := b.openMailbox(sid, "Adele Vance")
	rows := rowsOf(t, m.page)[:2]
	s.veeam.FailRestoreOf(rows[0].subject)
	page := m.restore([]string{rows[0].key, rows[1].key}, url.Values{"target": {"folder"}, "folder_name": {"Restored"}})
	d := b.waitRestore(page).doc(t)
	if st := d.Find(".status").Text(); !strings.Contains(st, "some items were not restored") {
		t.Errorf("status = %q", st)
	}
	body := strings.Join(strings.Fields(d.Find("#restore-progress").Text()), " ")
	for _, want := range []string{"1 restored", "1 failed", "Failed", "over its storage quota", rows[0].subject} {
		if !strings.Contains(body, want) {
			t.Errorf("the results lack %q: %s", want, body)
		}
	}
}

func TestReasonPolicy(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{veeam: quick.veeam, env: map[string]string{"PORTAL_RESTORE_REASON": "others"}})
	// Adele restoring her own mail needs no reason.
	a := s.signedIn(adele)
	asid, _ := a.explore("exchange")
	am := a.openMailbox(asid, "Adele Vance")
	a.waitRestore(am.restore([]string{rowsOf(t, am.page)[0].key}, url.Values{"target": {"original"}, "changed": {"1"}}))
	// Lee restoring Megan's (a Sales user's) mail must say why.
	l := s.signedIn(lee)
	lsid, _ := l.explore("exchange")
	lm := l.openMailbox(lsid, "Megan Bowen")
	x := rowsOf(t, lm.page)[0]
	wizard := l.openWizard(lm.base, url.Values{"scope": {"selected"}, "item": {x.key}})
	if wizard.doc(t).Find("#reason[required]").Length() != 1 {
		t.Error("the reason is not marked required")
	}
	r := l.submitWizard(wizard, url.Values{"target": {"original"}, "missing": {"1"}})
	if r.StatusCode != http.StatusSeeOther || !strings.Contains(l.get(r.Header.Get("Location")).doc(t).Find("#reason-error").Text(), "a reason is required") {
		t.Errorf("no reason: %d", r.StatusCode)
	}
	page := lm.restore([]string{x.key}, url.Values{"target": {"original"}, "missing": {"1"}, "reason": {"Ticket 4711: Megan lost it"}})
	if d := l.waitRestore(page).doc(t); !strings.Contains(d.Find("dl.facts").Text(), "Ticket 4711: Megan lost it") {
		t.Error("the restore page does not show the reason")
	}
	var found bool
	for _, rs := range s.veeam.RestoreSessions(demotenant.ID("user", lee)) {
		found = found || rs.Reason == "Ticket 4711: Megan lost it"
	}
	if !found {
		t.Error("VB365 did not get the reason")
	}
}

func TestMailboxOutsideScopeIsNotFound(t *testing.T) {
	t.Parallel()
	s := startStack(t, quick)
	b := s.signedIn(adele)
	sid, _ := b.explore("exchange")
	m := b.openMailbox(sid, "Adele Vance")
	meganOID := demotenant.ID("user", megan)
	theirs := "/sessions/" + sid + "/mailboxes/" + fakeveeam.MailboxID(meganOID, false)
	// Keys of Megan's Inbox and of one of her items, as the portal would write them.
	l := s.signedIn(nestor)
	lsid, _ := l.explore("exchange")
	lm := l.openMailbox(lsid, "Megan Bowen")
	folderKey := strings.Split(lm.page.Request.URL.Path, "/folders/")[1]
	meganItem := rowsOf(t, lm.page)[0]
	itemKey := meganItem.key
	var bodies []string
	for _, r := range []response{
		b.get(theirs),
		b.get(theirs + "/folders/" + folderKey),
		b.get(theirs + "/folders/" + folderKey + "/subfolders"),
		b.get(theirs + "/items/" + itemKey),
		b.get(theirs + "/search?q=a"),
		b.openWizard(theirs, url.Values{"scope": {"selected"}, "item": {itemKey}}),
		b.post(theirs+"/restore/6f1d8a8e-9f2b-4a57-8c59-3c0e9c4b8a11", url.Values{"target": {"original"}, "missing": {"1"}, "confirm": {"1"}}),
		b.post(theirs+"/items/"+itemKey+"/download", url.Values{"kind": {"msg"}}),
		b.post(theirs+"/download", url.Values{"kind": {"zip"}, "item": {itemKey}}),
		b.post(theirs+"/folders/"+folderKey+"/export", nil),
		// Megan's item under Adele's own mailbox.
		b.get(m.base + "/items/" + itemKey),
	} {
		if r.StatusCode != http.StatusNotFound {
			t.Errorf("%s %s: %d, want 404", r.Request.Method, r.Request.URL.Path, r.StatusCode)
		}
		bodies = append(bodies, r.body)
	}
	for _, body := range bodies {
		for _, secret := range []string{"Megan", "MeganB", meganItem.subject} {
			if strings.Contains(body, secret) {
				t.Errorf("a refusal shows %q", secret)
			}
		}
	}
	for _, rs := range s.veeam.RestoreSessions(demotenant.ID("user", adele)) {
		if rs.Restore {
			t.Errorf("a restore ran: %+v", rs)
		}
	}
}

// listCalls counts the calls to VB365 for lists whose path ends in suffix,
// and whose parentId is parent, since the requests were last reset: pages,
// and probes (one item) for a list's end.
func listCalls(s *stack, suffix, parent string) (pages, probes int) {
	for _, r := range s.veeam.Requests() {
		q, _ := url.ParseQuery(r.RawQuery)
		if !strings.HasSuffix(strings.ToLower(r.Path), suffix) || q.Get("parentId") != parent {
			continue
		}
		if q.Get("limit") == "1" {
			probes++
		} else {
			pages++
		}
	}
	return pages, probes
}

// lastPageCall is the query of the last call to VB365 for a page of a
// list (not a probe for its end).
func lastPageCall(s *stack) url.Values {
	calls := s.veeam.Requests()
	for i := len(calls) - 1; i >= 0; i-- {
		if q, _ := url.ParseQuery(calls[i].RawQuery); q.Has("limit") && q.Get("limit") != "1" {
			return q
		}
	}
	return nil
}

func TestLastPageOfAHugeFolder(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{veeam: fakeveeam.Options{LargeMailbox: adele}})
	b := s.signedIn(adele)
	sid, _ := b.explore("exchange")
	m := b.openMailbox(sid, "Adele Vance")
	s.veeam.ResetRequests()
	first := m.folder("Inbox/Notifications")
	if rows := rowsOf(t, first); len(rows) != 100 || rows[0].subject != "Notification 100000: build report" {
		t.Fatalf("first page: %d rows, first %q", len(rows), rows[0].subject)
	}
	lastURL := first.doc(t).Find(`nav.pager a:contains("Last page")`).AttrOr("href", "")
	// The first page shows there is more: the end is looked for in the
	// background (twenty probes of one item for 100,000), so that Last
	// page is then one call to VB365, the first time as the next.
	folder := lastPageCall(s).Get("parentId")
	wait.For(t, "the end of the folder to be found in the background", func() bool {
		_, probes := listCalls(s, "/items", folder)
		return probes >= 20
	})
	var last response
	for range 2 {
		s.veeam.ResetRequests()
		last = b.get(lastURL)
		if pages, probes := listCalls(s, "/items", folder); pages != 1 || probes != 0 {
			t.Errorf("the last page: %d calls for pages, %d probes for the end", pages, probes)
		}
	}
	rows := rowsOf(t, last)
	if len(rows) != 100 || rows[len(rows)-1].subject != "Notification 000001: build report" {
		t.Fatalf("last page: %d rows, last %q", len(rows), rows[len(rows)-1].subject)
	}
	if summary := last.doc(t).Find("nav.pager").Text(); !strings.Contains(summary, "Items 99,901 to 100,000") {
		t.Errorf("pager: %q", summary)
	}
	if last.doc(t).Find(`nav.pager a:contains("Next page")`).Length() != 0 {
		t.Error("the last page offers a next page")
	}
	prev := b.get(last.doc(t).Find(`nav.pager a:contains("Previous page")`).AttrOr("href", ""))
	if rows := rowsOf(t, prev); len(rows) != 100 || rows[0].subject != "Notification 000200: build report" {
		t.Errorf("the page before the last starts %q", rows[0].subject)
	}
	// htmx asks for the list only.
	part := b.get(first.doc(t).Find(`nav.pager a:contains("Next page")`).AttrOr("href", ""), "HX-Request: true", "HX-Target: item-list")
	if strings.Contains(part.body, "<html") || len(rowsOf(t, part)) != 100 {
		t.Error("the htmx page is not the list alone")
	}
	for _, bad := range []string{"?offset=-1", "?offset=abc", "?offset=99999999999"} {
		if r := b.get(first.Request.URL.Path + bad); r.StatusCode != http.StatusBadRequest {
			t.Errorf("offset %s: %d", bad, r.StatusCode)
		}
	}
}

var filenameStar = regexp.MustCompile(`filename\*=UTF-8''([A-Za-z0-9%!#$&+\-.^_` + "`" + `|~]+)$`)

func TestDownloadsStreamIntact(t *testing.T) {
	t.Parallel()
	s := startStack(t, quick)
	b := s.signedIn(adele)
	sid, _ := b.explore("exchange")
	m := b.openMailbox(sid, "Adele Vance")
	junk := m.folder("Junk Email")
	rows := rowsOf(t, junk)
	lastWeek := b.openMailbox(b.exploreDaysAgo("exchange", 7), "Adele Vance")
	check := func(r response, kind, ctype, name string) {
		t.Helper()
		if r.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", kind, r.StatusCode, r.body)
		}
		if got := r.Header.Get("Content-Type"); got != ctype {
			t.Errorf("%s: Content-Type %q", kind, got)
		}
		cd := r.Header.Get("Content-Disposition")
		if !strings.HasPrefix(cd, `attachment; filename="`) || !filenameStar.MatchString(cd) {
			t.Errorf("%s: Content-Disposition %q", kind, cd)
		}
		if got, _ := url.PathUnescape(filenameStar.FindStringSubmatch(cd)[1]); got != name {
			t.Errorf("%s: file name %q, want %q", kind, got, name)
		}
		if r.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(r.Header.Get("Content-Security-Policy"), "sandbox") {
			t.Errorf("%s: headers %v", kind, r.Header)
		}
		downloads := s.veeam.Downloads()
		last := downloads[len(downloads)-1]
		sum := sha256.Sum256([]byte(r.body))
		if last.Kind != kind || hex.EncodeToString(sum[:]) != last.SHA256 || int64(len(r.body)) != last.Size {
			t.Errorf("%s: got %d bytes %x, VB365 sent %+v", kind, len(r.body), sum[:4], last)
		}
	}
	// A hostile subject becomes a safe file name.
	var hostile row
	for _, r := range rows {
		if strings.ContainsAny(r.subject, `<>"/`) {
			hostile = r
		}
	}
	if hostile.key == "" {
		t.Fatal("no hostile subject in Junk Email")
	}
	r := b.post(hostile.href+"/download", url.Values{"kind": {"msg"}})
	check(r, "msg", "application/vnd.ms-outlook", fileNameOf(hostile.subject)+".msg")
	x := findRow(t, lastWeek.search(url.Values{"q": {"floor plan"}}), fakeveeam.StoryDeletedSubject)
	check(b.post(x.href+"/download", url.Values{"kind": {"msg"}}), "msg", "application/vnd.ms-outlook", "Store 42 refit_ final floor plan.msg")
	check(b.post(x.href+"/download", url.Values{"kind": {"pst"}}), "pst", "application/octet-stream", "Store 42 refit_ final floor plan.pst")
	check(b.post(m.base+"/download", url.Values{"kind": {"zip"}, "item": {rows[0].key, rows[1].key}}), "zip", "application/zip", "Adele Vance - 2 items.zip")
	check(b.post(m.base+"/download", url.Values{"kind": {"pst"}, "item": {rows[0].key, rows[1].key}}), "pst", "application/octet-stream", "Adele Vance - 2 items.pst")
	export := junk.doc(t).Find(`form[action$="/export"]`).AttrOr("action", "")
	check(b.post(export, nil), "pst", "application/octet-stream", "Adele Vance - Junk Email.pst")
	if r := b.post(x.href+"/download", url.Values{"kind": {"exe"}}); r.StatusCode != http.StatusBadRequest {
		t.Errorf("kind=exe: %d", r.StatusCode)
	}
}

// fileNameOf is what the portal should make of a hostile subject.
func fileNameOf(subject string) string {
	var b strings.Builder
	for _, r := range subject {
		if strings.ContainsRune(`<>:"/\|?*`, r) || r < 0x20 {
			r = '_'
		}
		b.WriteRune(r)
	}
	return strings.Trim(strings.Join(strings.Fields(b.String()), " "), " .")
}

func TestDownloadsFollowTheActions(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{veeam: fakeveeam.Options{DenyDownloads: func(string) bool { return true }}})
	b := s.signedIn(adele)
	sid, _ := b.explore("exchange")
	m := b.openMailbox(sid, "Adele Vance")
	d := m.page.doc(t)
	if d.Find(`button[value="zip"], button[value="pst"], form[action$="/export"]`).Length() != 0 {
		t.Error("the list offers downloads the operator may not make")
	}
	x := rowsOf(t, m.page)[0]
	if d := b.get(x.href).doc(t); d.Find(`button[value="msg"], button[value="pst"]`).Length() != 0 {
		t.Error("the item offers downloads")
	}
	for _, r := range []response{
		b.post(x.href+"/download", url.Values{"kind": {"msg"}}),
		b.post(m.base+"/download", url.Values{"kind": {"zip"}, "item": {x.key}}),
	} {
		if r.StatusCode != http.StatusForbidden || !strings.Contains(r.body, "does not let your account download") {
			t.Errorf("a refused download: %d", r.StatusCode)
		}
	}
	if len(s.veeam.Downloads()) != 0 {
		t.Error("VB365 sent a file")
	}
}

func TestHostileMailRendersAsText(t *testing.T) {
	t.Parallel()
	s := startStack(t, quick)
	b := s.signedIn(adele)
	sid, _ := b.explore("exchange")
	m := b.openMailbox(sid, "Adele Vance")
	junk := m.folder("Junk Email")
	pages := []response{junk}
	rows := rowsOf(t, junk)
	var keys []string
	for _, r := range rows {
		pages = append(pages, b.get(r.href), b.get(r.href, "HX-Request: true"))
		keys = append(keys, r.key)
	}
	pages = append(pages, m.search(url.Values{"q": {"script"}}), m.search(url.Values{"advanced": {`subject:"<img"`}}))
	wizard := b.openWizard(m.base, url.Values{"scope": {"selected"}, "item": keys})
	pages = append(pages, wizard)
	restore := m.restore(keys, url.Values{"target": {"folder"}, "folder_name": {`"><img src=x onerror=alert(1)>`}, "reason": {"<img src=x onerror=alert(1)>"}})
	pages = append(pages, b.waitRestore(restore), b.get("/restores"))
	text := ""
	for i, p := range pages {
		if p.StatusCode != http.StatusOK {
			t.Errorf("page %d: %d", i, p.StatusCode)
		}
		checkNoInjectedMarkup(t, i, p.body)
		text += p.doc(t).Text()
	}
	for _, r := range rows {
		if !strings.Contains(text, r.subject) {
			t.Errorf("the subject %q is not shown as text", r.subject)
		}
	}
	if !strings.Contains(text, "<img src=x onerror=alert(1)>") {
		t.Error("the reason is not shown as text")
	}
}

// startExport posts the folder's export form and returns the response as
// it starts, for the test to read the body as a browser would.
func (m *mailbox) startExport(t *testing.T, b *browser) *http.Response {
	t.Helper()
	export := m.page.doc(t).Find(`form[action$="/export"]`).AttrOr("action", "")
	form := url.Values{"csrf_token": {b.csrf()}}
	req, _ := http.NewRequest(http.MethodPost, b.s.url+export, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestBrokenDownloadIsNotSavedAsWhole: when VB365 breaks off a download part
// way, the browser must see a failed transfer, not a shorter file that looks complete.
func TestBrokenDownloadIsNotSavedAsWhole(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{veeam: fakeveeam.Options{ExportPadding: 8 << 20}})
	b := s.signedIn(adele)
	sid, _ := b.explore("exchange")
	m := b.openMailbox(sid, "Adele Vance")
	s.veeam.Inject(fakeveeam.Fault{Path: "/v8/RestoreSessions/", CutAfter: 1 << 20})
	resp := m.startExport(t, b)
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK || err == nil {
		t.Errorf("a broken download ended cleanly: status %d, %d bytes, error %v", resp.StatusCode, n, err)
	}
	wait.For(t, "the broken download to be logged", func() bool { return strings.Contains(s.logs.String(), `"msg":"download_failed"`) })
	if !strings.Contains(s.logs.String(), `"aborted":true`) {
		t.Error("the broken download is not logged")
	}
}

func TestReasonPolicyAlwaysAndNever(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		policy, upn, mailbox string
		required             bool
	}{
		{"always", adele, "Adele Vance", true},
		{"never", lee, "Megan Bowen", false},
	} {
		s := startStack(t, stackOptions{veeam: quick.veeam, env: map[string]string{"PORTAL_RESTORE_REASON": c.policy}})
		b := s.signedIn(c.upn)
		sid, _ := b.explore("exchange")
		m := b.openMailbox(sid, c.mailbox)
		wizard := b.openWizard(m.base, url.Values{"scope": {"selected"}, "item": {rowsOf(t, m.page)[0].key}})
		if got := wizard.doc(t).Find("#reason[required]").Length() == 1; got != c.required {
			t.Errorf("%s, %s restoring %s: required=%v", c.policy, c.upn, c.mailbox, got)
		}
	}
	var out strings.Builder
	err := run(t.Context(), []string{"-restore-reason", "sometimes", "-print-config"}, func(string) string { return "" }, &out, time.Now)
	if err == nil || !strings.Contains(err.Error(), "must be always, others or never") {
		t.Errorf("a bad policy: %v", err)
	}
}

// TestDownloadCutAtShutdown: a download still running when the shutdown
// grace period ends is cut (the browser sees a failed transfer), and the
// trail says the portal shut down, not that the browser went away.
func TestDownloadCutAtShutdown(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{veeam: fakeveeam.Options{ExportPadding: 8 << 20}, env: map[string]string{"PORTAL_SHUTDOWN_GRACE": "200ms", "PORTAL_AUDITORS": demotenant.AuditorRole}})
	b := s.signedIn(adele)
	sid, _ := b.explore("exchange")
	m := b.openMailbox(sid, "Adele Vance")
	s.veeam.Inject(fakeveeam.Fault{Path: "/v8/RestoreSessions/", StallAfter: 1 << 20})
	resp := m.startExport(t, b)
	defer resp.Body.Close()
	if _, err := io.ReadFull(resp.Body, make([]byte, 64<<10)); err != nil {
		t.Fatalf("the download did not start: %v", err)
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, resp.Body); err == nil {
		t.Error("a download cut at shutdown ended cleanly")
	}
	if !strings.Contains(s.logs.String(), `"msg":"download_cut_at_shutdown"`) || strings.Contains(s.logs.String(), `"msg":"download_cancelled"`) {
		t.Error("the cut is not logged as a shutdown")
	}
	s.veeam.ClearFaults()
	s.restart()
	rows := auditRows(t, s.signedIn(joni), url.Values{"action": {"export"}})
	if len(rows) != 1 || rows[0]["outcome"] != "failed" || !strings.Contains(rows[0]["detail"], "the portal shut down after") {
		t.Errorf("the trail says %v", rows)
	}
}
