package vbazure

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openrestore/portal/fakevbazure"
)

// portal signs in as the demo's service account, computing its MFA codes.
func (f *fixture) portal(t *testing.T) (*Account, *ServiceTokens) {
	t.Helper()
	ts, err := f.c.ServiceTokens(Login{Name: fakevbazure.DemoServiceName, Password: fakevbazure.DemoServicePassword,
		TOTPSecret: strings.ToLower(fakevbazure.DemoServiceSecret)})
	if err != nil {
		t.Fatal(err)
	}
	return f.c.As(ts), ts
}

// TestServiceTokens: the service account signs itself in with its code,
// renews before expiry, signs in again when its refresh token is gone, and
// another process using this step's code does not lock it out.
func TestServiceTokens(t *testing.T) {
	t.Parallel()
	f := start(t)
	ctx := t.Context()
	acct, ts := f.portal(t)
	if _, err := acct.Subscriptions(ctx); err != nil {
		t.Fatalf("first call: %v", err)
	}
	first, _ := ts.Token(ctx)
	if again, _ := ts.Token(ctx); again != first {
		t.Error("a current token was renewed")
	}
	// Another replica signs in within the same 30 seconds: this step's
	// code is spent, the next one's lets it in.
	_, other := f.portal(t)
	if _, err := other.Token(ctx); err != nil {
		t.Fatalf("a second sign-in in the same step: %v", err)
	}
	f.clock.Advance(59*time.Minute + 30*time.Second)
	renewed, err := ts.Token(ctx)
	if err != nil || renewed == first {
		t.Fatalf("renewal: %v", err)
	}
	// A refresh token that is gone: sign in again.
	f.clock.Advance(15 * 24 * time.Hour)
	if _, err := acct.Subscriptions(ctx); err != nil {
		t.Fatalf("after the refresh token expired: %v", err)
	}
	if err := ts.SignOut(ctx); err != nil {
		t.Error(err)
	}
	if _, err := f.c.ServiceTokens(Login{Name: "x", Password: "y", TOTPSecret: "not base32!"}); err == nil {
		t.Error("a bad secret taken")
	}
	noSecret, _ := f.c.ServiceTokens(Login{Name: fakevbazure.DemoServiceName, Password: fakevbazure.DemoServicePassword})
	if _, err := noSecret.Token(ctx); !errors.Is(err, ErrSignInRefused) || !strings.Contains(err.Error(), "no MFA secret") {
		t.Errorf("MFA without a secret: %v", err)
	}
}

// TestFileLevelRestore drives every operation the portal uses, each
// exchange checked against the document.
func TestFileLevelRestore(t *testing.T) {
	t.Parallel()
	f := start(t)
	ctx := t.Context()
	a, _ := f.portal(t)
	subs, err := a.Subscriptions(ctx)
	if err != nil || len(subs) != 2 {
		t.Fatalf("subscriptions: %v %v", subs, err)
	}
	rgs, err := a.ResourceGroups(ctx, subs[1].ID)
	if err != nil || len(rgs) != 1 || rgs[0].Name != "rg-dev" {
		t.Errorf("resource groups: %+v %v", rgs, err)
	}
	vms, err := a.VirtualMachines(ctx)
	if err != nil || len(vms) != 7 {
		t.Fatalf("VMs: %d %v", len(vms), err)
	}
	prot, err := a.ProtectedVMs(ctx)
	if err != nil || len(prot) != 7 || prot[0].LastBackup.IsZero() {
		t.Fatalf("protected: %+v %v", prot, err)
	}
	i := slices.IndexFunc(vms, func(v VirtualMachine) bool { return v.Name == fakevbazure.StoryFinanceVM })
	fin := vms[i]
	if one, err := a.VirtualMachine(ctx, fin.ID); err != nil || one.Name != fin.Name || !one.Windows() {
		t.Errorf("one VM: %+v %v", one, err)
	}
	if _, err := a.VirtualMachine(ctx, "00000000-0000-4000-8000-000000000000"); !errors.Is(err, ErrNotFound) {
		t.Errorf("no such VM: %v", err)
	}
	accounts, err := a.ServiceAccounts(ctx, PurposeVMRestore)
	if err != nil || len(accounts) != 2 {
		t.Fatalf("service accounts: %+v %v", accounts, err)
	}
	points, err := a.RestorePoints(ctx, fin.ID)
	if err != nil || len(points) < 30 {
		t.Fatalf("points: %d %v", len(points), err)
	}
	var week, archived RestorePoint
	for _, p := range points {
		if week.ID == "" && p.Readable() && p.PointInTime.Before(f.clock.Now().AddDate(0, 0, -7)) {
			week = p
		}
		if p.Archived() {
			archived = p
		}
	}
	if p, err := a.RestorePoint(ctx, week.ID); err != nil || !p.PointInTime.Equal(week.PointInTime) {
		t.Errorf("one point: %+v %v", p, err)
	}
	if j, err := a.RetrieveData(ctx, archived.ID, Retrieval{Priority: "Normal", DaysToKeep: 2}); err != nil || j.Type != "RestorePointDataRetrieval" {
		t.Errorf("retrieve: %+v %v", j, err)
	}

	j, err := a.StartFileRestore(ctx, week.ID, FileRestoreOptions{Reason: "Pradeep Gupta: the forecast", ToOriginal: true,
		ServiceAccountID: accounts[0].AccountID})
	if err != nil || !j.Running() || j.Ready() {
		t.Fatalf("start: %+v %v", j, err)
	}
	f.clock.Advance(25 * time.Second)
	if j, err = a.JobSession(ctx, j.ID); err != nil || !j.Ready() || j.FileLevelRestore.VMName != fin.Name {
		t.Fatalf("ready: %+v %v", j, err)
	}
	if running, err := a.JobSessions(ctx, JobQuery{Types: []string{"FileLevelRestore"}, Statuses: []string{"Running"}}); err != nil || len(running) != 1 {
		t.Errorf("running sessions: %+v %v", running, err)
	}
	if log, err := a.JobLog(ctx, j.ID); err != nil || len(log) < 3 {
		t.Errorf("log: %+v %v", log, err)
	}
	root, err := a.Browse(ctx, j.ID, RootPath(true), 0, 100)
	if err != nil || len(root.Results) != 2 || root.Results[1].Path(true) != `D:\` {
		t.Fatalf("root: %+v %v", root, err)
	}
	page, err := a.Browse(ctx, j.ID, fakevbazure.LargeFolder, 19_990, 100)
	if err != nil || page.TotalCount != fakevbazure.LargeFolderFiles || len(page.Results) != 10 {
		t.Errorf("the large folder's end: %+v %v", page.TotalCount, err)
	}
	id, err := a.StartSearch(ctx, j.ID, Search{Path: `D:\Finance`, Pattern: "forecast", Traverse: true, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(2 * time.Second)
	sp, err := a.SearchResults(ctx, j.ID, id)
	if err != nil || sp.State != "Ready" || sp.Count != 1 || sp.Results[0].Path(true) != fakevbazure.StoryForecast {
		t.Fatalf("search: %+v %v", sp, err)
	}
	if err := a.SearchNextPage(ctx, j.ID, id); err != nil {
		t.Error(err)
	}
	if err := a.StopSearch(ctx, j.ID, id); err != nil {
		t.Error(err)
	}
	task, err := a.RestoreFiles(ctx, j.ID, FileRestore{ItemPaths: []string{fakevbazure.StoryForecast}, Type: Keep})
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(3 * time.Second)
	st, err := a.RestoreStatus(ctx, j.ID, task)
	if err != nil || len(st) != 1 || st[0].Status != "Success" {
		t.Errorf("status: %+v %v", st, err)
	}
	logs, err := a.RestoreLogs(ctx, j.ID, task, fakevbazure.StoryForecast, 50)
	if err != nil || len(logs) != 2 || logs[1].Finished == nil {
		t.Errorf("logs: %+v %v", logs, err)
	}
	if err := a.StopRestore(ctx, j.ID, task); err != nil {
		t.Error(err)
	}
	if err := a.StopJobSession(ctx, j.ID); err != nil {
		t.Fatal(err)
	}
	if err := a.StopJobSession(ctx, j.ID); !errors.Is(err, ErrInvalid) {
		t.Errorf("stop twice: %v", err)
	}
	if _, err := a.Browse(ctx, j.ID, `D:\`, 0, 10); !errors.Is(err, ErrNotFound) {
		t.Errorf("browse a stopped session: %v", err)
	}
}

func TestPaths(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		windows     bool
		dir, name   string
		want        string
		names, back []string
	}{
		{true, `\`, "D:", `D:\`, []string{"D:"}, []string{`D:\`}},
		{true, `D:\`, "Finance", `D:\Finance`, []string{"D:", "Finance"}, []string{`D:\`, `D:\Finance`}},
		{true, `D:\Finance`, "2026", `D:\Finance\2026`, []string{"D:", "Finance", "2026"}, []string{`D:\`, `D:\Finance`, `D:\Finance\2026`}},
		{false, "/", "etc", "/etc", []string{"etc"}, []string{"/etc"}},
		{false, "/etc", `back\slash`, `/etc/back\slash`, []string{"etc", `back\slash`}, []string{"/etc", `/etc/back\slash`}},
	} {
		got := JoinPath(tc.windows, tc.dir, tc.name)
		if got != tc.want {
			t.Errorf("JoinPath(%q, %q) = %q, want %q", tc.dir, tc.name, got, tc.want)
		}
		names, paths := SplitPath(tc.windows, got)
		if !slices.Equal(names, tc.names) || !slices.Equal(paths, tc.back) {
			t.Errorf("SplitPath(%q) = %q %q", got, names, paths)
		}
	}
}
