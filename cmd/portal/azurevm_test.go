package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/openrestore/portal/demotenant"
	"github.com/openrestore/portal/fakevbazure"
	"github.com/openrestore/portal/internal/wait"
	"github.com/openrestore/portal/vmaccess"
)

// The people of the Azure VM journeys: Pradeep is in Finance, Johanna in
// the web team and Engineering, Nestor administers the portal, Adele has
// no rule.
const (
	pradeep = "PradeepG@contoso.onmicrosoft.com"
	johanna = "JohannaL@contoso.onmicrosoft.com"
)

// vmStack is a stack whose portal restores Azure VMs' files by the demo's
// rules, from its rules file; sessions are swept often.
func vmStack(t *testing.T, o stackOptions) *stack {
	t.Helper()
	rules, err := json.Marshal(vmaccess.File{Rules: demoRules()})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "rules.json")
	if err := os.WriteFile(file, rules, 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"PORTAL_VM_RULES_FILE": file, "PORTAL_FLR_SWEEP": "50ms", "PORTAL_AUDITORS": demotenant.AuditorRole}
	for k, v := range o.env {
		env[k] = v
	}
	o.env = env
	if o.azure.RestoreItemTime == 0 {
		o.azure.RestoreItemTime = time.Second
	}
	if o.azure.FLRReadyAfter == 0 { // long: the tests move the clock past it
		o.azure.FLRReadyAfter = flrReady
	}
	return startStack(t, o)
}

func vmPage(name string) string { return "/azure/vms/" + fakevbazure.VMID(name) }

// flrReady is how long a session's worker takes to start in these tests.
const flrReady = 10 * time.Minute

// flr is a file-level restore session a browser opened.
type flr struct {
	b    *browser
	id   string
	base string
}

// openFLR opens the VM's last restore point taken at least ago before
// now, through its page, and waits (on the stack's clock) for it to be ready.
func (b *browser) openFLR(vm string, ago time.Duration, reason string) *flr {
	b.s.t.Helper()
	t := b.s.t
	f := b.startFLR(vm, ago, reason)
	r := b.get(f.base)
	if r.StatusCode != http.StatusOK || !strings.Contains(r.body, "Starting the worker") {
		t.Fatalf("a starting session: %d %s", r.StatusCode, r.body)
	}
	b.s.clock.Advance(flrReady + time.Second)
	r = b.get(f.base, "HX-Request: true", "HX-Target: flr-status")
	if r.Header.Get("HX-Redirect") != f.base+"/browse" {
		t.Fatalf("a ready session: %d %q %s", r.StatusCode, r.Header.Get("HX-Redirect"), r.body)
	}
	return f
}

// startFLR asks to open the point and returns the session, not yet ready.
func (b *browser) startFLR(vm string, ago time.Duration, reason string) *flr {
	b.s.t.Helper()
	t := b.s.t
	open := b.pointLink(vm, ago)
	page := b.get(open)
	if page.StatusCode != http.StatusOK {
		t.Fatalf("open page: %d %s", page.StatusCode, page.body)
	}
	r := b.post(open, url.Values{"reason": {reason}})
	loc := r.Header.Get("Location")
	if r.StatusCode != http.StatusSeeOther || !regexp.MustCompile(`^/azure/flr/[0-9a-f-]{36}$`).MatchString(loc) {
		t.Fatalf("open: %d %q %s", r.StatusCode, loc, r.body)
	}
	return &flr{b: b, id: strings.TrimPrefix(loc, "/azure/flr/"), base: loc}
}

// pointLink is the open link of the VM's latest point at least ago old.
func (b *browser) pointLink(vm string, ago time.Duration) string {
	b.s.t.Helper()
	day := b.s.now().Add(-ago)
	for i := range 5 {
		d := day.AddDate(0, 0, -i)
		r := b.get(vmPage(vm) + "?day=" + d.Format("2006-01-02"))
		if r.StatusCode != http.StatusOK {
			b.s.t.Fatalf("VM page: %d %s", r.StatusCode, r.body)
		}
		var links []string
		r.doc(b.s.t).Find(`ul.point-list li`).Each(func(_ int, s *goquery.Selection) {
			t, _ := time.Parse(time.RFC3339, s.Find("time").AttrOr("datetime", ""))
			if href := s.Find("a.button").AttrOr("href", ""); href != "" && !t.After(day) {
				links = append(links, href)
			}
		})
		if len(links) > 0 {
			return links[len(links)-1]
		}
	}
	b.s.t.Fatalf("no restore point of %s %s old to open", vm, ago)
	return ""
}

// item is a file or folder row of a session's page.
type item struct{ key, name, href string }

func items(t testing.TB, r response) []item {
	t.Helper()
	var out []item
	r.doc(t).Find("#flr-items tbody tr").Each(func(_ int, s *goquery.Selection) {
		name := s.Find(`td[data-label="Name"]`)
		out = append(out, item{key: s.Find(`input[name="item"]`).AttrOr("value", ""), name: strings.TrimSpace(name.Find("a").Text()),
			href: name.Find("a").AttrOr("href", "")})
		if out[len(out)-1].name == "" {
			out[len(out)-1].name = strings.TrimSpace(name.Text())
		}
	})
	return out
}

func (f *flr) browse(path string) response {
	f.b.s.t.Helper()
	r := f.b.get(f.base + "/browse?" + url.Values{"path": {path}}.Encode())
	if r.StatusCode != http.StatusOK {
		f.b.s.t.Fatalf("browse %s: %d %s", path, r.StatusCode, r.body)
	}
	return r
}

func find(t testing.TB, r response, name string) item {
	t.Helper()
	for _, it := range items(t, r) {
		if it.name == name {
			return it
		}
	}
	t.Fatalf("no %q among %v", name, items(t, r))
	return item{}
}

// restore runs the wizard for the items with the choices, and returns the
// restore's page.
func (f *flr) restore(keys []string, choices url.Values) response {
	f.b.s.t.Helper()
	w := f.b.openWizard(f.base, url.Values{"item": keys})
	if w.StatusCode != http.StatusOK {
		f.b.s.t.Fatalf("wizard: %d %s", w.StatusCode, w.body)
	}
	return f.b.submitWizard(w, choices)
}

// finish waits, moving the stack's clock on, for a restore page to end.
func (b *browser) finish(r response) response {
	b.s.t.Helper()
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/restores/") {
		b.s.t.Fatalf("restore: %d %q %s", r.StatusCode, r.Header.Get("Location"), r.body)
	}
	page := r.Header.Get("Location")
	wait.For(b.s.t, "the restore to end", func() bool {
		b.s.clock.Advance(time.Second)
		r := b.get(page, "HX-Request: true", "HX-Target: restore-progress")
		return r.StatusCode == http.StatusOK && !strings.Contains(r.body, `hx-trigger="every 2s"`)
	})
	return b.get(page)
}

// TestAFinanceMemberRestoresLastWeeksForecast: Pradeep opens last week's
// point of the Finance file server, finds the forecast by search, and
// restores it keeping both; the VM holds both files; My restores, the
// notices and the trail tell of it.
func TestAFinanceMemberRestoresLastWeeksForecast(t *testing.T) {
	t.Parallel()
	s := vmStack(t, stackOptions{env: map[string]string{"PORTAL_RESTORE_REASON": "others"}, azure: fakevbazure.Options{SearchTime: time.Minute}})
	b := s.signedIn(pradeep)
	home := b.get("/?workload=azure")
	if got := texts(home.doc(t), `#restore-points tbody td[data-label="VM"] a`); !slices.Equal(got, []string{fakevbazure.StoryFinanceVM}) {
		t.Errorf("Pradeep's VMs: %v", got)
	}
	if !slices.Contains(texts(b.get("/").doc(t), ".workload-tabs a"), "Azure VMs") {
		t.Error("no Azure VMs tab on the start page")
	}
	// A reason is asked first: the server is shared data.
	open := b.pointLink(fakevbazure.StoryFinanceVM, 7*24*time.Hour)
	if r := b.post(open, url.Values{"reason": {""}}); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.body, "reason is required") {
		t.Errorf("no reason: %d", r.StatusCode)
	}
	f := b.openFLR(fakevbazure.StoryFinanceVM, 7*24*time.Hour, "INC-77: the forecast was deleted")
	if got := s.azure.FLRSessions(); got[len(got)-1].Reason == "" || !strings.Contains(got[len(got)-1].Reason, "Pradeep Gupta") {
		t.Errorf("VBAzure's reason: %+v", got[len(got)-1])
	}
	root := f.browse("")
	if got := names(items(t, root)); !slices.Equal(got, []string{"C:", "D:"}) {
		t.Errorf("volumes: %v", got)
	}
	if !strings.Contains(root.body, "cannot download") {
		t.Error("the page does not say files cannot be downloaded")
	}
	// Search, from the top of D:.
	r := b.get(f.base + "/search?" + url.Values{"path": {`D:\`}, "q": {"forecast"}, "below": {"1"}}.Encode())
	if r.StatusCode != http.StatusOK || !strings.Contains(r.body, "Searching") {
		t.Fatalf("search: %d", r.StatusCode)
	}
	s.clock.Advance(2 * time.Minute)
	r = b.get(f.base+"/search?"+url.Values{"path": {`D:\`}, "q": {"forecast"}, "below": {"1"}}.Encode(), "HX-Request: true", "HX-Target: flr-search")
	forecast := find(t, r, "Q3 forecast.xlsx")
	page := b.finish(f.restore([]string{forecast.key}, url.Values{"target": {"original"}, "conflict": {"keep"}, "reason": {"INC-77"}}))
	if !strings.Contains(page.body, "Finished") || !strings.Contains(page.body, "RESTORED-Q3 forecast.xlsx") {
		t.Errorf("the restore's page:\n%s", page.body)
	}
	kept, ok1 := s.azure.LiveFile(fakevbazure.StoryFinanceVM, `D:\Finance\2026\RESTORED-Q3 forecast.xlsx`)
	current, ok2 := s.azure.LiveFile(fakevbazure.StoryFinanceVM, fakevbazure.StoryForecast)
	if !ok1 || !ok2 || kept.Size != fakevbazure.ForecastSize || current.Size != fakevbazure.NewForecastSize {
		t.Errorf("the VM holds %+v %v and %+v %v", kept, ok1, current, ok2)
	}
	mine := b.get("/restores?workload=azurevm")
	if got := texts(mine.doc(t), `td[data-label="From"] span`); len(got) != 1 || got[0] != "Azure VMs: "+fakevbazure.StoryFinanceVM {
		t.Errorf("My restores: %v", got)
	}
	auditor := s.signedIn(joni)
	var actions []string
	for _, e := range auditRows(t, auditor, url.Values{"workload": {"azurevm"}}) {
		if e["actor_upn"] == pradeep {
			actions = append(actions, e["action"]+":"+e["outcome"])
		}
	}
	slices.Sort(actions)
	if want := []string{"open:started", "restore:requested", "restore:started", "restore:succeeded"}; !slices.Equal(actions, want) {
		t.Errorf("the trail: %v, want %v", actions, want)
	}
}

func names(its []item) []string {
	var out []string
	for _, it := range its {
		out = append(out, it.name)
	}
	return out
}

// TestWhoSeesWhichVM is the rules' matrix: each person sees and opens the
// VMs of their rules, and every other VM is "not found", whether it
// exists or not; so are other people's sessions.
func TestWhoSeesWhichVM(t *testing.T) {
	t.Parallel()
	s := vmStack(t, stackOptions{})
	vms := []string{fakevbazure.StoryFinanceVM, fakevbazure.StoryWebVM, "web-02", "erp-app-01", "hr-app-01", "dev-build-01", "dev-data-01"}
	people := map[string][]string{
		pradeep: {fakevbazure.StoryFinanceVM},
		johanna: {fakevbazure.StoryWebVM, "web-02", "dev-build-01", "dev-data-01"},
		nestor:  vms,
		adele:   nil,
	}
	browsers := map[string]*browser{}
	for upn, want := range people {
		b := s.signedIn(upn)
		browsers[upn] = b
		got := texts(b.get("/?workload=azure").doc(t), `#restore-points tbody td[data-label="VM"] a`)
		slices.Sort(got)
		w := slices.Sorted(slices.Values(want))
		if !slices.Equal(got, w) {
			t.Errorf("%s sees %v, want %v", upn, got, w)
		}
		hasTab := slices.Contains(texts(b.get("/").doc(t), ".workload-tabs a"), "Azure VMs")
		if hasTab != (len(want) > 0) {
			t.Errorf("%s: the Azure VMs tab shows %v", upn, hasTab)
		}
		for _, vm := range vms {
			status := b.get(vmPage(vm)).StatusCode
			if allowed := slices.Contains(want, vm); (status == http.StatusOK) != allowed || (!allowed && status != http.StatusNotFound) {
				t.Errorf("%s, %s: %d", upn, vm, status)
			}
		}
		// An id that is no VM at all answers the same as one that is not theirs.
		if r := b.get("/azure/vms/0b1c3f5e-3c0a-4a8e-9d6f-5b2e7a1c9d40"); r.StatusCode != http.StatusNotFound {
			t.Errorf("%s, no such VM: %d", upn, r.StatusCode)
		}
	}
	// Pradeep's session is his alone: every page of it, every action.
	f := browsers[pradeep].openFLR(fakevbazure.StoryFinanceVM, 24*time.Hour, "")
	forecast := find(t, f.browse(`D:\Finance\2026`), "Q3 forecast.xlsx")
	for _, upn := range []string{johanna, nestor, adele} {
		b := browsers[upn]
		for _, r := range []response{
			b.get(f.base), b.get(f.base + "/browse"), b.get(f.base + "/search?q=x&path=D:%5C"),
			b.post(f.base+"/restore/new", url.Values{"item": {forecast.key}}), b.post(f.base+"/restore-list", url.Values{"item": {forecast.key}}),
			b.post(f.base+"/stop", nil),
		} {
			if r.StatusCode != http.StatusNotFound {
				t.Errorf("%s on Pradeep's session %s: %d", upn, r.Request.URL.Path, r.StatusCode)
			}
		}
		// Opening a point of a VM not theirs is refused the same way.
		if !slices.Contains(people[upn], fakevbazure.StoryFinanceVM) {
			open := browsers[pradeep].pointLink(fakevbazure.StoryFinanceVM, time.Hour)
			if r := b.post(open, url.Values{"reason": {"x"}}); r.StatusCode != http.StatusNotFound {
				t.Errorf("%s opening a point of the Finance server: %d", upn, r.StatusCode)
			}
		}
	}
	// A rule added gives the VM at once; removed, takes it away at once.
	nb := browsers[nestor]
	nb.post("/admin/azure/rules", url.Values{"kind": {"group"}, "principal": {demotenant.ID("group", "Finance")}, "label": {"Finance too"},
		"names": {"hr-*"}})
	if r := browsers[pradeep].get(vmPage("hr-app-01")); r.StatusCode != http.StatusOK {
		t.Errorf("a new rule: %d", r.StatusCode)
	}
	remove := ""
	nb.get("/admin/azure/rules").doc(t).Find("tbody tr").Each(func(_ int, row *goquery.Selection) {
		if strings.Contains(row.Find(`td[data-label="For"]`).Text(), "Finance too") {
			remove = row.Find(`form[action$="/remove"]`).AttrOr("action", "")
		}
	})
	if r := nb.post(remove, nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove the rule: %d", r.StatusCode)
	}
	if r := browsers[pradeep].get(vmPage("hr-app-01")); r.StatusCode != http.StatusNotFound {
		t.Errorf("a removed rule: %d", r.StatusCode)
	}
	if n := strings.Count(s.logs.String(), `"resource":"azure_vm"`); n == 0 {
		t.Error("refusals are not logged")
	}
}

// running reports whether VBAzure still runs a session.
func running(s *stack, id string) bool {
	for _, x := range s.azure.FLRSessions() {
		if x.ID == id {
			return x.Running
		}
	}
	return false
}

// TestFLRSessionsAreStopped: opening a point twice reuses its session;
// the portal stops sessions at sign-out, when idle (not while a restore
// runs), at an administrator's word, and when it shuts down alone.
func TestFLRSessionsAreStopped(t *testing.T) {
	t.Parallel()
	s := vmStack(t, stackOptions{env: map[string]string{"PORTAL_FLR_IDLE": "10m"}})
	b := s.signedIn(pradeep)
	f := b.openFLR(fakevbazure.StoryFinanceVM, 24*time.Hour, "")
	if again := b.startFLR(fakevbazure.StoryFinanceVM, 24*time.Hour, ""); again.id != f.id {
		t.Errorf("the same point opened twice: %s and %s", f.id, again.id)
	}
	if n := len(s.azure.FLRSessions()); n != 4 { // the three of the demo's history, and this one
		t.Errorf("%d sessions at VBAzure", n)
	}
	// The VM's page lists it, with a way to stop it.
	if r := b.get(vmPage(fakevbazure.StoryFinanceVM)); !strings.Contains(r.body, f.base+"/stop") {
		t.Error("the VM page does not offer to stop the open session")
	}

	// Idle: a session left alone stops; one restoring does not.
	busy := b.openFLR(fakevbazure.StoryFinanceVM, 72*time.Hour, "")
	reports := find(t, busy.browse(`D:\Finance`), "Reports")
	s.clock.Advance(9 * time.Minute)
	r := busy.restore([]string{reports.key}, url.Values{"target": {"folder"}, "folder": {`D:\Restored`}, "conflict": {"keep"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("restore: %d %s", r.StatusCode, r.body)
	}
	s.clock.Advance(2 * time.Minute)
	wait.For(t, "the idle session to stop", func() bool { return !running(s, f.id) })
	if !running(s, busy.id) {
		t.Error("a session with a restore running was stopped")
	}
	if r := b.get(f.base + "/browse"); r.StatusCode != http.StatusGone || !strings.Contains(r.body, "without use") {
		t.Errorf("the idle session's page: %d", r.StatusCode)
	}

	// An administrator stops Pradeep's, and one opened outside the portal.
	n := s.signedIn(nestor)
	list := n.get("/admin/azure/sessions")
	if !strings.Contains(list.body, "Pradeep Gupta") || !strings.Contains(list.body, "/admin/azure/sessions/"+busy.id+"/stop") {
		t.Errorf("the administrators' list:\n%s", list.body)
	}
	s.clock.Advance(time.Minute) // the restore ends
	if r := n.post("/admin/azure/sessions/"+busy.id+"/stop", nil); r.StatusCode != http.StatusSeeOther || running(s, busy.id) {
		t.Errorf("an administrator's stop: %d, running %v", r.StatusCode, running(s, busy.id))
	}
	outside := startOutside(t, s)
	if r := n.get("/admin/azure/sessions"); !strings.Contains(r.body, "Opened elsewhere") || !strings.Contains(r.body, outside) {
		t.Errorf("a session opened outside the portal is not listed")
	}
	if r := n.post("/admin/azure/sessions/"+outside+"/stop", nil); r.StatusCode != http.StatusSeeOther || running(s, outside) {
		t.Errorf("stopping a session opened elsewhere: %d", r.StatusCode)
	}

	// Sign-out stops what the sign-in opened.
	last := b.openFLR(fakevbazure.StoryFinanceVM, 24*time.Hour, "")
	b.post("/auth/logout", nil)
	if running(s, last.id) {
		t.Error("a session outlived its person's sign-out")
	}
	// Each stop is in the trail, with who stopped it and why.
	var closes []string
	for _, e := range auditRows(t, s.signedIn(joni), url.Values{"workload": {"azurevm"}}) {
		if e["action"] == "close" {
			closes = append(closes, e["actor_name"]+": "+e["detail"])
		}
	}
	slices.Sort(closes)
	if len(closes) != 4 || !strings.Contains(closes[0], "Nestor Wilke") || !strings.Contains(closes[3], "The restore portal: Stopped after 10 minutes") ||
		!strings.Contains(strings.Join(closes, "|"), "Pradeep Gupta: Stopped when Pradeep Gupta signed out") {
		t.Errorf("the stops in the trail: %q", closes)
	}
	// Shutdown, alone: the sessions still open stop.
	j := s.signedIn(johanna).openFLR(fakevbazure.StoryWebVM, 24*time.Hour, "")
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	if running(s, j.id) {
		t.Error("a session outlived the portal")
	}
}

// startOutside starts an FLR session with VBAzure's API directly, as
// Veeam's console or a script would.
func startOutside(t *testing.T, s *stack) string {
	t.Helper()
	c := &http.Client{}
	form := url.Values{"grant_type": {"Password"}, "username": {"helpdesk-restore"}, "password": {"Helpdesk-Contoso-Fix8"}}
	resp, err := c.PostForm(s.azure.URL()+"/api/oauth2/token", form)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	get := func(path string, out any) {
		req, _ := http.NewRequest("GET", s.azure.URL()+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		json.NewDecoder(resp.Body).Decode(out)
	}
	var points struct{ Results []struct{ ID string } }
	get("/api/v8.1/restorePoints/virtualMachines?VirtualMachineId="+fakevbazure.VMID("hr-app-01"), &points)
	req, _ := http.NewRequest("POST", s.azure.URL()+"/api/v8.1/restorePoints/virtualMachines/"+points.Results[0].ID+"/restoreFile",
		strings.NewReader(`{"reason": "console", "flrRto": false}`))
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var j struct{ ID string }
	json.NewDecoder(resp.Body).Decode(&j)
	if j.ID == "" {
		t.Fatalf("a session outside the portal: %d", resp.StatusCode)
	}
	return j.ID
}

// TestVMRestoresItemByItem: files the VM holds open fail on their own
// line; a folder that is gone fails the request, with the form kept, and
// another folder works; the 20,000 scans page to their end; hostile names
// are text, and restore by their exact path; search pages are kept.
func TestVMRestoresItemByItem(t *testing.T) {
	t.Parallel()
	s := vmStack(t, stackOptions{})
	b := s.signedIn(nestor)
	f := b.openFLR(fakevbazure.StoryFinanceVM, 24*time.Hour, "")
	ledger := f.browse(`D:\Finance\Ledger`)
	page := b.finish(f.restore([]string{find(t, ledger, "ledger.mdf").key, find(t, ledger, "Readme – do not move.txt").key},
		url.Values{"target": {"original"}, "conflict": {"overwrite"}}))
	d := page.doc(t)
	if st := texts(d, `td[data-label="Result"]`); !slices.Equal(st, []string{"Failed", "Restored"}) {
		t.Errorf("per path: %v", st)
	}
	if msg := texts(d, `td[data-label="Details"]`); len(msg) != 2 || !strings.Contains(msg[0], "used by another process") {
		t.Errorf("why: %v", msg)
	}
	if !strings.Contains(page.body, "Finished with problems") {
		t.Errorf("the status: %s", texts(d, ".pill"))
	}

	// A folder gone from the VM: refused, the form kept with why; then another folder.
	s.azure.RemoveLive(fakevbazure.StoryFinanceVM, `D:\Finance\Reports`)
	reports := f.browse(`D:\Finance\Reports`)
	key := find(t, reports, "Relatório trimestral.docx").key
	w := b.openWizard(f.base, url.Values{"item": {key}})
	r := b.submitWizard(w, url.Values{"target": {"original"}, "conflict": {"keep"}})
	if r.StatusCode != http.StatusSeeOther || !strings.Contains(r.Header.Get("Location"), "/restore/") {
		t.Fatalf("a missing folder: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	again := b.get(r.Header.Get("Location"))
	if !strings.Contains(again.body, "gone from the VM") || !strings.Contains(again.body, `D:\Finance\Reports`) {
		t.Errorf("the wizard again:\n%s", again.body)
	}
	b.finish(b.submitWizard(again, url.Values{"target": {"folder"}, "folder": {`D:\Recovered reports`}, "conflict": {"keep"}}))
	if _, ok := s.azure.LiveFile(fakevbazure.StoryFinanceVM, `D:\Recovered reports\Relatório trimestral.docx`); !ok {
		t.Error("the file is not in the other folder")
	}
	if r := b.submitWizard(b.openWizard(f.base, url.Values{"item": {key}}), url.Values{"target": {"folder"}, "folder": {"Recovered"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("a relative folder: %d", r.StatusCode)
	} else if w := b.get(r.Header.Get("Location")); !strings.Contains(w.body, "full path") || !strings.Contains(w.body, `value="Recovered"`) {
		t.Errorf("a relative folder is not explained with what was typed kept")
	}

	// 20,000 scans: the last page reaches the end.
	big := f.browse(fakevbazure.LargeFolder)
	last := big.doc(t).Find(`nav.pager a`).FilterFunction(func(_ int, s *goquery.Selection) bool { return s.Text() == "Last page" }).AttrOr("href", "")
	end := b.get(last)
	if its := items(t, end); len(its) != 200 || its[199].name != "INV-2025-20000.pdf" || !strings.Contains(end.body, "19,801–20,000 of 20,000") {
		t.Errorf("the last page: %d items, %s", len(its), texts(end.doc(t), ".actions .muted"))
	}

	// Search pages: the next one, then the first again from what the portal kept.
	q := url.Values{"path": {fakevbazure.LargeFolder}, "q": {"INV-2025-1*"}, "below": {"1"}}
	b.get(f.base + "/search?" + q.Encode())
	s.clock.Advance(2 * time.Second)
	first := b.get(f.base + "/search?" + q.Encode())
	if its := items(t, first); len(its) != 200 || its[0].name != "INV-2025-10000.pdf" {
		t.Fatalf("page 1: %d %v", len(its), names(items(t, first))[:3])
	}
	q.Set("page", "2")
	b.get(f.base + "/search?" + q.Encode())
	s.clock.Advance(2 * time.Second)
	second := b.get(f.base + "/search?" + q.Encode())
	if its := items(t, second); len(its) != 200 || its[0].name != "INV-2025-10200.pdf" {
		t.Errorf("page 2: %v", names(items(t, second))[:3])
	}
	s.azure.ResetRequests()
	q.Del("page")
	if its := items(t, b.get(f.base+"/search?"+q.Encode())); len(its) != 200 || its[0].name != "INV-2025-10000.pdf" {
		t.Errorf("page 1 again: %v", names(its))
	}
	for _, r := range s.azure.Requests() {
		if strings.Contains(r.Path, "/search/") {
			t.Errorf("page 1 again asked VBAzure: %s %s", r.Method, r.Path)
		}
	}

	// Hostile names on the web server: text, and restorable by their exact path.
	web := b.openFLR(fakevbazure.StoryWebVM, 24*time.Hour, "")
	uploads := web.browse("/srv/uploads")
	if strings.Contains(uploads.body, "<script>alert(1)") || strings.Contains(uploads.body, "<img src=x") || !strings.Contains(uploads.body, "&lt;script&gt;") {
		t.Error("a hostile name is markup")
	}
	odd := find(t, uploads, "line\nbreak.txt")
	b.finish(web.restore([]string{odd.key, find(t, uploads, "<script>alert(1)<script>.html").key},
		url.Values{"target": {"folder"}, "folder": {"/root/odd"}, "conflict": {"keep"}}))
	for _, n := range []string{"/root/odd/line\nbreak.txt", "/root/odd/<script>alert(1)<script>.html"} {
		if _, ok := s.azure.LiveFile(fakevbazure.StoryWebVM, n); !ok {
			t.Errorf("%q is not on the VM", n)
		}
	}
}

// TestWhatStopsARestoreIsSaidFirst: a deleted VM, an Arm VM, an earlier
// failure (encryption), corrupted and archived points; administrators
// bring an archived point back, nobody else may.
func TestWhatStopsARestoreIsSaidFirst(t *testing.T) {
	t.Parallel()
	s := vmStack(t, stackOptions{})
	n := s.signedIn(nestor)
	for vm, want := range map[string]string{
		"web-02":       "no longer exists in Azure",
		"dev-build-01": "Arm64",
		"erp-app-01":   "Azure Disk Encryption",
		"dev-data-01":  "(ZFS) has a file system that file-level recovery does not support",
	} {
		r := n.get(vmPage(vm))
		if !strings.Contains(r.body, want) {
			t.Errorf("%s does not say %q", vm, want)
		}
		if (vm == "web-02" || vm == "dev-build-01") && r.doc(t).Find("ul.point-list a.button, .latest a.button").Length() != 0 {
			t.Errorf("%s offers to open a point", vm)
		}
	}
	if r := n.get("/?workload=azure"); !strings.Contains(r.body, "Deleted from Azure") {
		t.Error("the list does not mark the deleted VM")
	}
	// The points that cannot be opened say why, on their day.
	fin := n.get(vmPage(fakevbazure.StoryFinanceVM) + "?day=" + s.now().AddDate(0, 0, -6).Format("2006-01-02"))
	if !strings.Contains(fin.body, "Corrupted") {
		t.Error("the corrupted point is not marked")
	}
	old := s.now().AddDate(0, 0, -25).Format("2006-01-02")
	archived := n.get(vmPage(fakevbazure.StoryFinanceVM) + "?day=" + old)
	retrieve := archived.doc(t).Find(`form[action$="/retrieve"]`).AttrOr("action", "")
	if retrieve == "" || !strings.Contains(archived.body, "archive tier") {
		t.Fatalf("an archived point offers no retrieval to an administrator")
	}
	p := s.signedIn(pradeep)
	if r := p.get(vmPage(fakevbazure.StoryFinanceVM) + "?day=" + old); strings.Contains(r.body, "/retrieve") || !strings.Contains(r.body, "Ask the portal") {
		t.Error("a retrieval is offered to Pradeep")
	}
	if r := p.post(retrieve, nil); r.StatusCode != http.StatusForbidden {
		t.Errorf("Pradeep retrieves: %d", r.StatusCode)
	}
	if r := n.post(retrieve, nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("Nestor retrieves: %d %s", r.StatusCode, r.body)
	}
	if r := n.get(vmPage(fakevbazure.StoryFinanceVM) + "?day=" + old); !strings.Contains(r.body, "being retrieved") {
		t.Error("the point is not shown retrieving")
	}
	// Opening the encrypted VM fails in its session, and says why.
	f := n.startFLR("erp-app-01", 24*time.Hour, "")
	s.clock.Advance(flrReady)
	if r := n.get(f.base); !strings.Contains(r.body, "did not start") || !strings.Contains(r.body, "Azure Disk Encryption") {
		t.Errorf("a failed session's page:\n%s", r.body)
	}
}

// TestAdministratorsKeepTheRules: a rule is previewed, refused with what
// to change (what was typed kept), added, changed and removed, each change
// in the trail with the rule as it was; the file's rules are read-only.
func TestAdministratorsKeepTheRules(t *testing.T) {
	t.Parallel()
	s := vmStack(t, stackOptions{})
	n := s.signedIn(nestor)
	page := n.get("/admin/azure/rules")
	if page.StatusCode != http.StatusOK || !strings.Contains(page.body, "from the rules file") {
		t.Fatalf("the rules page: %d", page.StatusCode)
	}
	rows := texts(page.doc(t), `td[data-label="For"]`)
	if len(rows) != 4 {
		t.Errorf("rules: %q", rows)
	}
	if r := n.get("/admin/azure/rules/demo-finance"); r.StatusCode != http.StatusConflict {
		t.Errorf("editing a file rule: %d", r.StatusCode)
	}
	hr := url.Values{"kind": {"group"}, "principal": {demotenant.ID("group", "Legal")}, "label": {"Legal"},
		"subscription": {fakevbazure.SubscriptionID(fakevbazure.ProductionSubscription)}, "resource_group": {"rg-hr"}, "names": {""}}
	preview := url.Values{"preview": {"1"}}
	for k, v := range hr {
		preview[k] = v
	}
	if r := n.post("/admin/azure/rules", preview); r.StatusCode != http.StatusOK || !strings.Contains(r.body, "matches 1 VMs") ||
		!slices.Contains(texts(r.doc(t), ".preview li"), "hr-app-01") {
		t.Errorf("the preview: %d %q", r.StatusCode, texts(r.doc(t), ".preview"))
	}
	bad := url.Values{"kind": {"group"}, "principal": {"Legal"}, "label": {"Legal <b>team</b>"}, "resource_group": {"rg hr"}}
	r := n.post("/admin/azure/rules", bad)
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.body, "object id") || !strings.Contains(r.body, `value="rg hr"`) ||
		!strings.Contains(r.body, "Legal &lt;b&gt;team&lt;/b&gt;") {
		t.Errorf("a bad rule: %d", r.StatusCode)
	}
	if r := n.post("/admin/azure/rules", hr); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("add: %d %s", r.StatusCode, r.body)
	}
	joniB := s.signedIn(joni) // Legal: the rule gives her the HR server
	if r := joniB.get(vmPage("hr-app-01")); r.StatusCode != http.StatusOK {
		t.Errorf("Joni, by the new rule: %d", r.StatusCode)
	}
	edit := ""
	n.get("/admin/azure/rules").doc(t).Find("tbody tr").Each(func(_ int, row *goquery.Selection) {
		if strings.Contains(row.Find(`td[data-label="For"]`).Text(), "Legal") {
			edit = row.Find(`a[href^="/admin/azure/rules/"]`).AttrOr("href", "")
		}
	})
	if f := n.get(edit); !strings.Contains(f.body, `value="rg-hr"`) {
		t.Fatalf("the rule's form: %d", f.StatusCode)
	}
	hr.Set("names", "none-*")
	if r := n.post(edit, hr); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("change: %d", r.StatusCode)
	}
	if r := joniB.get(vmPage("hr-app-01")); r.StatusCode != http.StatusNotFound {
		t.Errorf("Joni, after the change: %d", r.StatusCode)
	}
	if r := n.post(edit+"/remove", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove: %d", r.StatusCode)
	}
	if r := n.get(edit); r.StatusCode != http.StatusNotFound {
		t.Errorf("a removed rule: %d", r.StatusCode)
	}
	var events []string
	for _, e := range auditRows(t, s.signedIn(joni), url.Values{"workload": {"azurevm"}}) {
		if strings.HasPrefix(e["action"], "rule-") {
			events = append(events, e["action"]+" "+e["actor_name"]+" "+e["options"]+" "+e["detail"])
		}
	}
	if len(events) != 3 || !strings.Contains(events[0], "rule-remove Nestor Wilke group") ||
		!strings.Contains(events[1], "names none-*") || !strings.Contains(events[1], "was: group") || !strings.Contains(events[2], "rule-add") {
		t.Errorf("the trail: %q", events)
	}
	// Not for others.
	a := s.signedIn(adele)
	for _, r := range []response{a.get("/admin/azure/rules"), a.post("/admin/azure/rules", hr), a.get("/admin/azure/sessions")} {
		if r.StatusCode != http.StatusForbidden {
			t.Errorf("Adele on %s: %d", r.Request.URL.Path, r.StatusCode)
		}
	}
}

// TestVMFilesOnTheRestoreList: files of a VM wait on the list with the
// mail and documents, and restore with one submit.
func TestVMFilesOnTheRestoreList(t *testing.T) {
	t.Parallel()
	s := vmStack(t, stackOptions{azure: fakevbazure.Options{RestoreItemTime: 10 * time.Minute}})
	b := s.signedIn(johanna)
	f := b.openFLR(fakevbazure.StoryWebVM, 48*time.Hour, "")
	avail := f.browse("/etc/nginx/sites-available")
	if r := b.post(f.base+"/restore-list", url.Values{"item": {find(t, avail, "contoso.conf").key}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("add: %d %s", r.StatusCode, r.body)
	}
	list := b.get("/restore-list")
	if !strings.Contains(list.body, "Azure VMs: "+fakevbazure.StoryWebVM) || !strings.Contains(list.body, fakevbazure.StoryNginx) {
		t.Fatalf("the list:\n%s", list.body)
	}
	form := url.Values{"submission": {list.doc(t).Find(`input[name="submission"]`).AttrOr("value", "")}}
	list.doc(t).Find(`input[type="radio"][value="overwrite"]`).Each(func(_ int, in *goquery.Selection) { form.Set(in.AttrOr("name", ""), "overwrite") })
	if r := b.post("/restore-list/run", form); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("run: %d", r.StatusCode)
	}
	// The item takes ten minutes of the stack's clock: the restore runs,
	// and stopping the session would cut it short.
	if r := b.post(f.base+"/stop", nil); r.StatusCode != http.StatusConflict {
		t.Errorf("stop while a restore runs: %d", r.StatusCode)
	}
	wait.For(t, "the nginx file to be back", func() bool {
		s.clock.Advance(time.Minute)
		f, _ := s.azure.LiveFile(fakevbazure.StoryWebVM, fakevbazure.StoryNginx)
		return f.Size == 2413
	})
	// A session that ended leaves its items on the list, saying why.
	if r := b.post(f.base+"/restore-list", url.Values{"item": {find(t, avail, "default").key}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("add again: %d %q", r.StatusCode, texts(r.doc(t), "main"))
	}
	wait.For(t, "the restore's end to be recorded", func() bool {
		return strings.Contains(b.get("/restore-list/runs").body, "Finished")
	})
	if r := b.post(f.base+"/stop", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("stop: %d", r.StatusCode)
	}
	list = b.get("/restore-list")
	form = url.Values{"submission": {list.doc(t).Find(`input[name="submission"]`).AttrOr("value", "")}}
	b.post("/restore-list/run", form)
	if r := b.get("/restore-list"); !strings.Contains(r.body, "session has ended") || !strings.Contains(r.body, "sites-available/default") {
		t.Errorf("after the session ended: %q", texts(r.doc(t), "main"))
	}
}

// TestAzureVMRoutesAreGuarded: every page of the workload carries the
// security headers; every POST needs the CSRF token; GETs change nothing
// at VBAzure.
func TestAzureVMRoutesAreGuarded(t *testing.T) {
	t.Parallel()
	s := vmStack(t, stackOptions{})
	b := s.signedIn(pradeep)
	n := s.signedIn(nestor)
	f := b.openFLR(fakevbazure.StoryFinanceVM, 24*time.Hour, "")
	key := find(t, f.browse(`D:\Finance\2026`), "Q3 forecast.xlsx").key
	wizard := wizardAction(t, b.openWizard(f.base, url.Values{"item": {key}}))
	open := b.pointLink(fakevbazure.StoryFinanceVM, time.Hour)
	old := n.get(vmPage(fakevbazure.StoryFinanceVM) + "?day=" + s.now().AddDate(0, 0, -25).Format("2006-01-02"))
	retrieve := old.doc(t).Find(`form[action$="/retrieve"]`).AttrOr("action", "")
	q := url.Values{"path": {`D:\`}, "q": {"forecast"}, "below": {"1"}}.Encode()
	gets := []struct {
		path   string
		status int
	}{
		{"/?workload=azure", 200}, {"/azure", 303}, {vmPage(fakevbazure.StoryFinanceVM), 200}, {open, 200}, {f.base, 303},
		{f.base + "/browse", 200}, {f.base + "/browse?path=D:%5CFinance", 200}, {f.base + "/browse?path=relative", 400},
		{f.base + "/browse?path=D:%5Cnowhere", 404}, {f.base + "/search?" + q, 200}, {f.base + "/search?q=", 400}, {wizard, 200},
		{vmPage("hr-app-01"), 404}, {"/azure/flr/0b1c3f5e-3c0a-4a8e-9d6f-5b2e7a1c9d40", 404}, {"/azure/vms/x", 404},
	}
	s.azure.ResetRequests()
	before := len(s.azure.FLRSessions())
	for _, g := range gets {
		r := b.get(g.path)
		if r.StatusCode != g.status {
			t.Errorf("GET %s: %d, want %d", g.path, r.StatusCode, g.status)
		}
		checkSecurityHeaders(t, g.path, r)
	}
	for _, g := range []string{"/admin/azure/rules", "/admin/azure/sessions", "/admin/azure/rules/demo-finance"} {
		checkSecurityHeaders(t, g, n.get(g))
	}
	for _, r := range s.azure.Requests() {
		if strings.HasSuffix(r.Path, "/restoreFile") || strings.HasSuffix(r.Path, "/stop") || strings.HasSuffix(r.Path, "/restore") ||
			strings.HasSuffix(r.Path, "/retrieveData") {
			t.Errorf("a GET made VBAzure %s %s", r.Method, r.Path)
		}
	}
	if len(s.azure.FLRSessions()) != before {
		t.Error("a GET opened a session")
	}
	csrfMatrix(t, s, []csrfRoute{
		{path: open, form: url.Values{"reason": {"csrf"}}, as: b},
		{path: f.base + "/restore/new", form: url.Values{"item": {key}}, as: b},
		{path: wizard, form: url.Values{"target": {"folder"}, "folder": {`D:\CSRF`}, "confirm": {"1"}}, as: b},
		{path: f.base + "/restore-list", form: url.Values{"item": {key}}, as: b},
		{path: f.base + "/stop", as: b},
		{path: retrieve, as: n},
		{path: "/admin/azure/sessions/" + f.id + "/stop", as: n},
	}, nil)
}

// TestAzureVMFailuresAreExplained: VBAzure down, and a service account it
// refuses, are said in words, with nothing changed; the service account's
// password and secret never reach a page or the log.
func TestAzureVMFailuresAreExplained(t *testing.T) {
	t.Parallel()
	s := vmStack(t, stackOptions{})
	b := s.signedIn(pradeep)
	remove := s.azure.Inject(fakevbazure.Fault{Path: "/api/v8.1/virtualMachines", Status: http.StatusServiceUnavailable})
	if r := b.get("/?workload=azure"); r.StatusCode != http.StatusOK || !strings.Contains(r.body, "not answering") {
		t.Errorf("the VMs with VBAzure down: %d", r.StatusCode)
	}
	if r := b.get(vmPage(fakevbazure.StoryFinanceVM)); r.StatusCode != http.StatusBadGateway || !strings.Contains(r.body, "not answering") {
		t.Errorf("a VM with VBAzure down: %d", r.StatusCode)
	}
	remove()
	f := b.startFLR(fakevbazure.StoryFinanceVM, time.Hour, "")
	if r := b.post(f.base+"/restore/new", url.Values{"item": {"RDpc"}}); r.StatusCode == http.StatusOK {
		t.Errorf("a restore of a starting session: %d", r.StatusCode)
	}
	// The portal's account refused (its password changed at VBAzure).
	bad := vmStack(t, stackOptions{env: map[string]string{"PORTAL_VBAZURE_PASSWORD": "Changed-Elsewhere-1"}})
	r := bad.signedIn(pradeep).get(vmPage(fakevbazure.StoryFinanceVM))
	if r.StatusCode != http.StatusBadGateway || !strings.Contains(r.body, "cannot sign in to Veeam Backup for Microsoft Azure") {
		t.Errorf("a refused service account: %d", r.StatusCode)
	}
	for _, secret := range []string{fakevbazure.DemoServicePassword, fakevbazure.DemoServiceSecret, "Changed-Elsewhere-1"} {
		if strings.Contains(s.logs.String(), secret) || strings.Contains(bad.logs.String(), secret) || strings.Contains(r.body, secret) {
			t.Errorf("the secret %q leaked", secret)
		}
	}
	// A configuration that cannot work says so at start.
	_, problems, _ := parseConfig(nil, func(k string) string {
		return map[string]string{"PORTAL_VBAZURE_ACCOUNT": "restore-portal", "PORTAL_VBAZURE_TOTP_SECRET": "not base32!", "PORTAL_FLR_IDLE": "10s"}[k]
	}, io.Discard)
	c := &config{VBAzureAccount: "restore-portal", VBAzureTOTP: "not base32!", FLRIdle: 10 * time.Second, FLRSweep: time.Second,
		VMRulesFile: filepath.Join(t.TempDir(), "none.json")}
	all := strings.Join(append(problems, c.validateVMRestores()...), "\n")
	for _, want := range []string{"without PORTAL_VBAZURE_URL", "not base32", "PORTAL_FLR_IDLE", "PORTAL_VM_RULES_FILE"} {
		if !strings.Contains(all, want) {
			t.Errorf("the problems do not say %q:\n%s", want, all)
		}
	}
}
