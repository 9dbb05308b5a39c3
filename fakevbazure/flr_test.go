package fakevbazure_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openrestore/portal/fakevbazure"
)

// The helpdesk's account restores (RestoreOperator, no MFA).
const restorerName, restorerPassword = "helpdesk-restore", "Helpdesk-Contoso-Fix8"

type vm struct {
	ID, Name, OSType, ResourceGroupName, SubscriptionID string
	IsDeleted                                           bool
}

type point struct {
	ID                  string    `json:"id"`
	PointInTime         time.Time `json:"pointInTime"`
	IsCorrupted         bool      `json:"isCorrupted"`
	AccessTier          string    `json:"accessTier"`
	DataRetrievalStatus string    `json:"dataRetrievalStatus"`
}

type job struct {
	ID     string `json:"id"`
	Type   string `json:"type"`
	Status string `json:"status"`
	FLR    *struct {
		IsFlrSessionReady bool   `json:"isFlrSessionReady"`
		VMName            string `json:"vmName"`
		Reason            string `json:"reason"`
		FlrLink           *struct{ URL string }
	} `json:"fileLevelRestoreJobInfo"`
}

type item struct {
	ItemPath, Name, Type string
	Size                 int64
}

type restoreStatus struct {
	Results []struct{ Path, Status string }
}

// flr is a fixture's signed-in restorer.
type flr struct {
	*fixture
	token, base string
}

func (f *fixture) restorer(version string) *flr {
	return &flr{fixture: f, token: f.signIn(restorerName, restorerPassword).AccessToken, base: "/api/" + version}
}

func (r *flr) get(path string, out any) answer {
	r.t.Helper()
	a := r.do("GET", r.base+path, r.token, nil)
	if out != nil && a.status == http.StatusOK {
		a.json(r.t, out)
	}
	return a
}

func (r *flr) post(path string, body, out any) answer {
	r.t.Helper()
	a := r.do("POST", r.base+path, r.token, body)
	if out != nil && a.status < 300 {
		a.json(r.t, out)
	}
	return a
}

func (r *flr) vm(name string) vm {
	r.t.Helper()
	var page struct{ Results []vm }
	r.get("/virtualMachines?SearchPattern="+url.QueryEscape(name), &page)
	for _, v := range page.Results {
		if v.Name == name {
			return v
		}
	}
	r.t.Fatalf("no VM %s", name)
	return vm{}
}

func (r *flr) points(vmID string) []point {
	r.t.Helper()
	var page struct{ Results []point }
	r.get("/restorePoints/virtualMachines?VirtualMachineId="+vmID+"&Limit=-1", &page)
	return page.Results
}

// pointBefore is the newest usable point at least ago old.
func (r *flr) pointBefore(vmID string, ago time.Duration) point {
	r.t.Helper()
	for _, p := range r.points(vmID) {
		if !p.IsCorrupted && p.AccessTier != "Archive" && p.PointInTime.Before(r.clock.Now().Add(-ago)) {
			return p
		}
	}
	r.t.Fatalf("no point %s old", ago)
	return point{}
}

func (r *flr) account(subscriptionID string) string {
	r.t.Helper()
	var page struct {
		Results []struct {
			AccountID       string
			SubscriptionIDs []string
		}
	}
	r.get("/accounts/azure/service?Purpose=VirtualMachineRestore", &page)
	for _, a := range page.Results {
		if slices.Contains(a.SubscriptionIDs, subscriptionID) {
			return a.AccountID
		}
	}
	r.t.Fatalf("no restore account for %s", subscriptionID)
	return ""
}

// open starts an FLR session and waits (on the fake's clock) until it is ready.
func (r *flr) open(v vm, p point) string {
	r.t.Helper()
	var j job
	a := r.post("/restorePoints/virtualMachines/"+p.ID+"/restoreFile",
		map[string]any{"reason": "Test", "serviceAccountId": r.account(v.SubscriptionID), "flrRto": true}, &j)
	if a.status != http.StatusAccepted || j.Type != "FileLevelRestore" || j.FLR == nil || j.FLR.IsFlrSessionReady {
		r.t.Fatalf("start: %d %s", a.status, a.body)
	}
	r.clock.Advance(21 * time.Second)
	r.get("/jobSessions/"+j.ID, &j)
	if !j.FLR.IsFlrSessionReady || j.FLR.FlrLink == nil || j.Status != "Running" {
		r.t.Fatalf("not ready: %+v", j)
	}
	return j.ID
}

func (r *flr) browse(session, path, query string) (items []item, total int, status int) {
	r.t.Helper()
	var page struct {
		TotalCount int
		Results    []item
	}
	a := r.post("/flr/"+session+"/browse"+query, map[string]any{"path": path}, &page)
	return page.Results, page.TotalCount, a.status
}

func (r *flr) restore(session string, body map[string]any) (string, answer) {
	r.t.Helper()
	var out struct{ RestoreTaskID string }
	a := r.post("/flr/"+session+"/restore", body, &out)
	return out.RestoreTaskID, a
}

func (r *flr) status(session, task string) restoreStatus {
	r.t.Helper()
	var st restoreStatus
	if a := r.get("/flr/"+session+"/restore/"+task+"/status", &st); a.status != http.StatusOK {
		r.t.Fatalf("status: %d %s", a.status, a.body)
	}
	return st
}

func names(items []item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Name)
	}
	return out
}

// TestEveryFLROperation walks the file-level restore of the Finance file
// server through both API versions, every exchange checked against the
// document, and restores last week's forecast beside the new one.
func TestEveryFLROperation(t *testing.T) {
	t.Parallel()
	for _, v := range fakevbazure.Versions {
		t.Run(v, func(t *testing.T) {
			r := start(t, true).restorer(v)
			var subs struct{ Results []struct{ ID, Name string } }
			r.get("/cloudInfrastructure/subscriptions", &subs)
			if len(subs.Results) != 2 {
				t.Fatalf("subscriptions: %+v", subs)
			}
			var rgs struct{ Results []struct{ Name string } }
			r.get("/cloudInfrastructure/resourceGroups?SubscriptionId="+subs.Results[0].ID, &rgs)
			if len(rgs.Results) != 4 {
				t.Errorf("resource groups of %s: %+v", subs.Results[0].Name, rgs)
			}
			var prot struct {
				TotalCount int
				Results    []struct {
					Name       string
					LastBackup time.Time
				}
			}
			r.get("/protectedItem/virtualMachines?Limit=2", &prot)
			if prot.TotalCount != 7 || len(prot.Results) != 2 || prot.Results[0].LastBackup.IsZero() {
				t.Errorf("protected VMs: %+v", prot)
			}
			fin := r.vm(fakevbazure.StoryFinanceVM)
			var one vm
			r.get("/virtualMachines/"+fin.ID, &one)
			if one.Name != fin.Name || one.OSType != "Windows" || one.ResourceGroupName != "rg-finance" {
				t.Errorf("the VM: %+v", one)
			}
			points := r.points(fin.ID)
			if len(points) < 30 || !points[0].PointInTime.After(points[1].PointInTime) {
				t.Fatalf("%d points, newest first?", len(points))
			}
			var got point
			r.get("/restorePoints/virtualMachines/"+points[3].ID, &got)
			if got.ID != points[3].ID {
				t.Errorf("a point: %+v", got)
			}

			session := r.open(fin, r.pointBefore(fin.ID, 7*24*time.Hour))
			var log struct{ Log []struct{ Message string } }
			r.get("/jobSessions/"+session+"/log", &log)
			if len(log.Log) < 3 || !strings.Contains(log.Log[len(log.Log)-1].Message, "ready") {
				t.Errorf("the log: %+v", log)
			}
			vols, _, _ := r.browse(session, `\`, "")
			if !slices.Equal(names(vols), []string{"C:", "D:"}) {
				t.Errorf("volumes: %+v", vols)
			}
			items, total, _ := r.browse(session, `D:\Finance\2026`, "?Offset=0&Limit=3")
			if total < 6 || len(items) != 3 || items[0].Name != "Daily" || items[0].Type != "Folder" || items[0].ItemPath != `D:\Finance\2026` {
				t.Errorf("the folder: %d %+v", total, items)
			}

			// Search: prepared, then a page, then the next page replaces it.
			var started struct{ SearchID string }
			r.post("/flr/"+session+"/search/start", map[string]any{"path": `D:\Finance`, "limit": 1, "traverse": true, "searchPattern": "q*.xlsx"}, &started)
			var res struct {
				SearchState string
				Count       int
				Results     []item
			}
			r.get("/flr/"+session+"/search/"+started.SearchID+"/results", &res)
			if res.SearchState != "Preparing" {
				t.Errorf("at once: %+v", res)
			}
			r.clock.Advance(time.Second)
			var seen []string
			for range 5 {
				r.get("/flr/"+session+"/search/"+started.SearchID+"/results", &res)
				if res.SearchState == "NoData" {
					break
				}
				if res.SearchState != "Ready" || res.Count != 1 {
					t.Fatalf("a page: %+v", res)
				}
				seen = append(seen, res.Results[0].Name)
				if a := r.post("/flr/"+session+"/search/"+started.SearchID+"/nextPage", nil, nil); a.status != http.StatusAccepted {
					t.Fatalf("next page: %d", a.status)
				}
				r.clock.Advance(time.Second)
			}
			if !slices.Equal(seen, []string{"Q1 actuals.xlsx", "Q2 actuals.xlsx", "Q3 forecast.xlsx"}) {
				t.Errorf("searched: %v", seen)
			}
			if a := r.post("/flr/"+session+"/search/"+started.SearchID+"/stop", nil, nil); a.status != http.StatusAccepted {
				t.Errorf("stop the search: %d", a.status)
			}

			// Restore the forecast, keeping the new one.
			task, a := r.restore(session, map[string]any{"itemPaths": []string{fakevbazure.StoryForecast}, "restoreType": "Keep"})
			if a.status != http.StatusOK {
				t.Fatalf("restore: %d %s", a.status, a.body)
			}
			if st := r.status(session, task); len(st.Results) != 1 || st.Results[0].Status != "Running" {
				t.Errorf("at once: %+v", st)
			}
			r.clock.Advance(3 * time.Second)
			if st := r.status(session, task); st.Results[0].Status != "Success" || st.Results[0].Path != fakevbazure.StoryForecast {
				t.Errorf("after: %+v", st)
			}
			kept, _ := r.s.LiveFile(fakevbazure.StoryFinanceVM, `D:\Finance\2026\RESTORED-Q3 forecast.xlsx`)
			current, _ := r.s.LiveFile(fakevbazure.StoryFinanceVM, fakevbazure.StoryForecast)
			if kept.Size != fakevbazure.ForecastSize || current.Size != fakevbazure.NewForecastSize {
				t.Errorf("the VM holds %+v and %+v", kept, current)
			}
			var logs struct {
				Pagination struct{ TotalCount, Count int }
				Results    []struct{ Message, Status string }
			}
			r.post("/flr/"+session+"/restore/"+task+"/logs", map[string]any{"path": fakevbazure.StoryForecast}, &logs)
			if logs.Pagination.Count != 2 || !strings.Contains(logs.Results[1].Message, "RESTORED-Q3 forecast.xlsx") {
				t.Errorf("logs: %+v", logs)
			}
			if a := r.post("/flr/"+session+"/restore/"+task+"/stop", nil, nil); a.status != http.StatusAccepted {
				t.Errorf("stop a restore: %d", a.status)
			}

			var jobs struct{ Results []job }
			r.get("/jobSessions?Types=FileLevelRestore&Status=Running", &jobs)
			if len(jobs.Results) != 1 || jobs.Results[0].ID != session {
				t.Errorf("running sessions: %+v", jobs)
			}
			if a := r.post("/jobSessions/"+session+"/stop", nil, nil); a.status != http.StatusNoContent {
				t.Fatalf("stop: %d %s", a.status, a.body)
			}
			if _, _, status := r.browse(session, `D:\`, ""); status != http.StatusNotFound {
				t.Errorf("browse a stopped session: %d", status)
			}
			if a := r.post("/jobSessions/"+session+"/stop", nil, nil); a.status != http.StatusBadRequest {
				t.Errorf("stop twice: %d", a.status)
			}
		})
	}
}

// TestRestoresChangeTheVM: overwrite, another folder, a missing folder,
// files the VM holds open.
func TestRestoresChangeTheVM(t *testing.T) {
	t.Parallel()
	r := start(t, false).restorer("v8.1")
	web := r.vm(fakevbazure.StoryWebVM)
	session := r.open(web, r.pointBefore(web.ID, 48*time.Hour))
	if f, _ := r.s.LiveFile(fakevbazure.StoryWebVM, fakevbazure.StoryNginx); f.Size != 96 {
		t.Fatalf("the broken file: %+v", f)
	}
	// To another folder, which is made.
	task, a := r.restore(session, map[string]any{"itemPaths": []string{fakevbazure.StoryNginx}, "restoreType": "Keep",
		"alternativePath": "/root/restored"})
	if a.status != http.StatusOK {
		t.Fatalf("to another folder: %d %s", a.status, a.body)
	}
	r.clock.Advance(3 * time.Second)
	if st := r.status(session, task); st.Results[0].Status != "Success" {
		t.Errorf("to another folder: %+v", st)
	}
	if f, ok := r.s.LiveFile(fakevbazure.StoryWebVM, "/root/restored/contoso.conf"); !ok || f.Size != 2413 {
		t.Errorf("the copy: %+v %v", f, ok)
	}
	// Overwrite in place.
	task, _ = r.restore(session, map[string]any{"itemPaths": []string{fakevbazure.StoryNginx}, "restoreType": "Overwrite"})
	r.clock.Advance(3 * time.Second)
	if f, _ := r.s.LiveFile(fakevbazure.StoryWebVM, fakevbazure.StoryNginx); r.status(session, task).Results[0].Status != "Success" || f.Size != 2413 {
		t.Errorf("overwritten: %+v", f)
	}
	// A folder that is gone from the VM, without another folder: 500.
	r.s.RemoveLive(fakevbazure.StoryWebVM, "/var/www/contoso/assets")
	if _, a := r.restore(session, map[string]any{"itemPaths": []string{"/var/www/contoso/assets/site.css"}, "restoreType": "Keep"}); a.status != http.StatusInternalServerError ||
		!strings.Contains(string(a.body), "/var/www/contoso/assets") {
		t.Errorf("a missing folder: %d %s", a.status, a.body)
	}
	// What the request gets wrong: 400 with the field.
	for _, body := range []map[string]any{
		{"itemPaths": []string{"etc/hosts"}, "restoreType": "Keep"},
		{"itemPaths": []string{"/etc/nothing"}, "restoreType": "Keep"},
		{"itemPaths": []string{"/etc/hosts"}, "restoreType": "Merge"},
		{"itemPaths": []string{}, "restoreType": "Keep"},
		{"itemPaths": []string{"/"}, "restoreType": "Keep"},
	} {
		if _, a := r.restore(session, body); a.status != http.StatusBadRequest {
			t.Errorf("%v: %d %s", body, a.status, a.body)
		}
	}

	// Files in use on the Finance server: the item fails, or, in a folder, warns.
	fin := r.vm(fakevbazure.StoryFinanceVM)
	fs := r.open(fin, r.pointBefore(fin.ID, 24*time.Hour))
	task, _ = r.restore(fs, map[string]any{"itemPaths": []string{`D:\Finance\Ledger\ledger.mdf`, `D:\Finance\Ledger`, `D:\Finance\Reports`},
		"restoreType": "Overwrite"})
	r.clock.Advance(10 * time.Second)
	var got []string
	for _, x := range r.status(fs, task).Results {
		got = append(got, x.Status)
	}
	if !slices.Equal(got, []string{"Failed", "Warning", "Success"}) {
		t.Errorf("per path: %v", got)
	}
	var logs struct {
		Results []struct{ Message, Status string }
	}
	r.post("/flr/"+fs+"/restore/"+task+"/logs", map[string]any{"path": `D:\Finance\Ledger\ledger.mdf`}, &logs)
	if len(logs.Results) != 2 || logs.Results[1].Status != "Error" || !strings.Contains(logs.Results[1].Message, "used by another process") {
		t.Errorf("the failure's log: %+v", logs)
	}
}

// TestPagingReachesTheEnd: the 20,000 scans, a page at a time.
func TestPagingReachesTheEnd(t *testing.T) {
	t.Parallel()
	r := start(t, false).restorer("v8.1")
	fin := r.vm(fakevbazure.StoryFinanceVM)
	session := r.open(fin, r.pointBefore(fin.ID, time.Hour))
	seen := 0
	last := ""
	for offset := 0; ; offset += 1000 {
		items, total, _ := r.browse(session, fakevbazure.LargeFolder, fmt.Sprintf("?Offset=%d&Limit=1000", offset))
		if total != fakevbazure.LargeFolderFiles {
			t.Fatalf("total %d", total)
		}
		if len(items) == 0 {
			break
		}
		if items[0].Name <= last {
			t.Fatalf("out of order at %d: %s after %s", offset, items[0].Name, last)
		}
		seen += len(items)
		last = items[len(items)-1].Name
	}
	if seen != fakevbazure.LargeFolderFiles || last != "INV-2025-20000.pdf" {
		t.Errorf("%d files, the last %s", seen, last)
	}
	hostile, _, _ := r.browse(session, `D:\Shared\Odd names`, "")
	if !slices.Contains(names(hostile), "invoice\u202efdp.exe") || len(hostile) != 8 {
		t.Errorf("odd names: %q", names(hostile))
	}
}

// TestWhatTheProductRefuses: corrupted and archived points, a deleted VM,
// encryption, Arm, a Read-Only User, a session not ready yet.
func TestWhatTheProductRefuses(t *testing.T) {
	t.Parallel()
	f := start(t, false)
	r := f.restorer("v8.1")
	fin := r.vm(fakevbazure.StoryFinanceVM)
	account := r.account(fin.SubscriptionID)
	startFLR := func(p point, rto bool) answer {
		return r.post("/restorePoints/virtualMachines/"+p.ID+"/restoreFile", map[string]any{"serviceAccountId": account, "flrRto": rto}, nil)
	}
	var corrupted, archived point
	for _, p := range r.points(fin.ID) {
		if p.IsCorrupted {
			corrupted = p
		}
		if p.AccessTier == "Archive" {
			archived = p
		}
	}
	if a := startFLR(corrupted, true); a.status != http.StatusBadRequest || !strings.Contains(string(a.body), "corrupted") {
		t.Errorf("a corrupted point: %d %s", a.status, a.body)
	}
	if a := startFLR(archived, true); a.status != http.StatusBadRequest || !strings.Contains(string(a.body), "archive") {
		t.Errorf("an archived point: %d %s", a.status, a.body)
	}
	// Retrieve it first.
	var j job
	if a := r.post("/restorePoints/virtualMachines/"+archived.ID+"/retrieveData", map[string]any{"dataRetrievalPriority": "High", "daysToKeep": 3}, &j); a.status != http.StatusAccepted || j.Type != "RestorePointDataRetrieval" {
		t.Fatalf("retrieve: %d %s", a.status, a.body)
	}
	if a := r.post("/restorePoints/virtualMachines/"+archived.ID+"/retrieveData", map[string]any{"dataRetrievalPriority": "High"}, nil); a.status != http.StatusConflict {
		t.Errorf("retrieve twice: %d", a.status)
	}
	r.get("/restorePoints/virtualMachines/"+archived.ID, &archived)
	if archived.DataRetrievalStatus != "Retrieving" {
		t.Errorf("retrieving: %+v", archived)
	}
	f.clock.Advance(6 * time.Minute)
	r.get("/restorePoints/virtualMachines/"+archived.ID, &archived)
	if r.get("/jobSessions/"+j.ID, &j); archived.DataRetrievalStatus != "Retrieved" || j.Status != "Success" {
		t.Errorf("retrieved: %+v %+v", archived, j)
	}
	if a := startFLR(archived, true); a.status != http.StatusAccepted {
		t.Errorf("a retrieved point: %d %s", a.status, a.body)
	}
	if a := startFLR(r.pointBefore(fin.ID, time.Hour), true); a.status != http.StatusAccepted {
		t.Fatalf("start: %d", a.status)
	}
	if a := r.post("/restorePoints/virtualMachines/"+r.pointBefore(fin.ID, time.Hour).ID+"/restoreFile", map[string]any{"flrRto": true}, nil); a.status != http.StatusBadRequest {
		t.Errorf("no service account: %d", a.status)
	}

	// Not ready yet.
	var fresh job
	r.post("/restorePoints/virtualMachines/"+r.pointBefore(fin.ID, time.Hour).ID+"/restoreFile", map[string]any{"serviceAccountId": account, "flrRto": true}, &fresh)
	if _, _, status := r.browse(fresh.ID, `D:\`, ""); status != http.StatusBadRequest {
		t.Errorf("browse too early: %d", status)
	}

	// A deleted VM refuses at once; encryption and Arm fail in the session.
	web2 := r.vm("web-02")
	if a := startFLR(r.pointBefore(web2.ID, 0), true); a.status != http.StatusBadRequest || !web2.IsDeleted {
		t.Errorf("a deleted VM: %d %s", a.status, a.body)
	}
	for name, want := range map[string]string{"erp-app-01": "Azure Disk Encryption", "dev-build-01": "Arm64"} {
		v := r.vm(name)
		var j job
		a := r.post("/restorePoints/virtualMachines/"+r.pointBefore(v.ID, 0).ID+"/restoreFile",
			map[string]any{"serviceAccountId": r.account(v.SubscriptionID), "flrRto": true}, &j)
		if a.status != http.StatusAccepted {
			t.Fatalf("%s: %d %s", name, a.status, a.body)
		}
		f.clock.Advance(21 * time.Second)
		r.get("/jobSessions/"+j.ID, &j)
		var log struct {
			Log []struct{ Message, Status string }
		}
		r.get("/jobSessions/"+j.ID+"/log", &log)
		if j.Status != "Error" || j.FLR.IsFlrSessionReady || !strings.Contains(log.Log[len(log.Log)-1].Message, want) {
			t.Errorf("%s: %+v %+v", name, j, log)
		}
		// …and the earlier failure is there to read before anyone tries.
		var past struct{ Results []job }
		r.get("/jobSessions?Types=FileLevelRestore&Status=Error&ResourceId="+v.ID, &past)
		if len(past.Results) != 2 {
			t.Errorf("%s: failed sessions %+v", name, past)
		}
	}

	// A Read-Only User looks but does not restore.
	if a := f.do("POST", "/api/v8.1/users", f.admin(), map[string]any{"name": "read-only", "description": "Reports",
		"role": "ReadOnlyUser", "type": "Internal", "password": "Read-Only-Pass7"}); a.status != http.StatusCreated {
		t.Fatalf("add: %d %s", a.status, a.body)
	}
	reader := &flr{fixture: f, token: f.signIn("read-only", "Read-Only-Pass7").AccessToken, base: "/api/v8.1"}
	if a := reader.get("/virtualMachines", nil); a.status != http.StatusOK {
		t.Errorf("a reader lists: %d", a.status)
	}
	if a := reader.post("/restorePoints/virtualMachines/"+r.pointBefore(fin.ID, time.Hour).ID+"/restoreFile",
		map[string]any{"serviceAccountId": account, "flrRto": true}, nil); a.status != http.StatusForbidden {
		t.Errorf("a reader restores: %d", a.status)
	}
}

// TestIdleSessionsStop: a session nobody uses stops by itself; one that
// restores does not.
func TestIdleSessionsStop(t *testing.T) {
	t.Parallel()
	f := startWith(t, false, fakevbazure.Options{FLRIdleTimeout: 10 * time.Minute})
	r := f.restorer("v8.1")
	web := r.vm(fakevbazure.StoryWebVM)
	idle := r.open(web, r.pointBefore(web.ID, time.Hour))
	busy := r.open(web, r.pointBefore(web.ID, 48*time.Hour))
	f.clock.Advance(9 * time.Minute)
	r.restore(busy, map[string]any{"itemPaths": []string{"/var/www/contoso"}, "restoreType": "Keep"})
	f.clock.Advance(2 * time.Minute)
	var j job
	if r.get("/jobSessions/"+idle, &j); j.Status != "Success" || j.FLR.IsFlrSessionReady {
		t.Errorf("the idle one: %+v", j)
	}
	if _, _, status := r.browse(idle, "/", ""); status != http.StatusNotFound {
		t.Errorf("browse the idle one: %d", status)
	}
	if r.get("/jobSessions/"+busy, &j); j.Status != "Running" || !j.FLR.IsFlrSessionReady {
		t.Errorf("the busy one: %+v", j)
	}
	var log struct{ Log []struct{ Message string } }
	r.get("/jobSessions/"+idle+"/log", &log)
	if !strings.Contains(log.Log[len(log.Log)-1].Message, "without activity") {
		t.Errorf("the log: %+v", log)
	}
	for _, s := range f.s.FLRSessions() {
		if s.ID == idle && (s.Running || s.Stopped.IsZero()) {
			t.Errorf("the fake's view: %+v", s)
		}
	}
}
