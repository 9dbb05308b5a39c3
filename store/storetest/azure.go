package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/openrestore/portal/audit"
	"github.com/openrestore/portal/store"
	"github.com/openrestore/portal/vmaccess"
)

const (
	tenant  = "tenant"
	finance = "0f1e2d3c-4b5a-4968-8776-655443322110"
)

func ruleEvent(c *clock, action string) audit.Event {
	return audit.Event{Time: c.now(), TenantID: tenant, ActorOID: "nestor", Workload: "azurevm", Action: action, Outcome: audit.Succeeded}
}

func ruleIDs(t *testing.T, s store.Store) []string {
	t.Helper()
	rules, err := s.VMRules(t.Context(), tenant)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rules {
		out = append(out, r.ID+":"+r.Source)
	}
	return out
}

func ruleEvents(t *testing.T, s store.Store) int {
	t.Helper()
	n, err := s.Count(t.Context(), audit.Filter{Workload: "azurevm"})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// testVMRules: rules are added, changed and removed with their events;
// the file's rules are replaced whole, audited only when they change.
func testVMRules(t *testing.T, s store.Store, c *clock) {
	ctx := t.Context()
	fin := vmaccess.Rule{ID: "r1", Kind: vmaccess.Group, Principal: finance, Label: "Finance", ResourceGroup: "rg-finance",
		Names: "fin-*", Source: vmaccess.FromPortal, Updated: c.now(), UpdatedBy: "Nestor Wilke"}
	if err := s.PutVMRule(ctx, tenant, fin, ruleEvent(c, "rule-add")); err != nil {
		t.Fatal(err)
	}
	fin.Names = "fin-fs-*"
	if err := s.PutVMRule(ctx, tenant, fin, ruleEvent(c, "rule-change")); err != nil {
		t.Fatal(err)
	}
	rules, _ := s.VMRules(ctx, tenant)
	if len(rules) != 1 || rules[0].Names != "fin-fs-*" || rules[0].UpdatedBy != "Nestor Wilke" || !rules[0].Updated.Equal(c.now()) {
		t.Errorf("after a change: %+v", rules)
	}
	if other, _ := s.VMRules(ctx, "another tenant"); len(other) != 0 {
		t.Errorf("another tenant's: %+v", other)
	}
	file := []vmaccess.Rule{
		{ID: "admins", Kind: vmaccess.Role, Principal: "Portal.Admin", Label: "Administrators"},
		{ID: "web", Kind: vmaccess.Group, Principal: finance, Label: "Web", ResourceGroup: "rg-web"},
	}
	for i, want := range []bool{true, false} {
		changed, err := s.ReplaceFileRules(ctx, tenant, file, ruleEvent(c, "rules-file"))
		if err != nil || changed != want {
			t.Errorf("replace %d: %v %v, want %v", i, changed, err, want)
		}
	}
	if got := ruleIDs(t, s); len(got) != 3 || got[0] != "admins:file" || got[1] != "r1:portal" || got[2] != "web:file" {
		t.Errorf("rules: %v", got)
	}
	file[1].Names = "web-*"
	if changed, _ := s.ReplaceFileRules(ctx, tenant, file[1:], ruleEvent(c, "rules-file")); !changed {
		t.Error("a changed file changed nothing")
	}
	if got := ruleIDs(t, s); len(got) != 2 || got[0] != "r1:portal" || got[1] != "web:file" {
		t.Errorf("after the file changed: %v", got)
	}
	if err := s.DeleteVMRule(ctx, tenant, "r1", ruleEvent(c, "rule-remove")); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteVMRule(ctx, tenant, "r1", ruleEvent(c, "rule-remove")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("remove twice: %v", err)
	}
	// Every change told once: add, change, file, file, remove.
	if n := ruleEvents(t, s); n != 5 {
		t.Errorf("%d events", n)
	}
	// A change whose event cannot be written is not made.
	if err := s.PutVMRule(ctx, tenant, vmaccess.Rule{ID: "r2", Kind: vmaccess.Role, Principal: "x", Label: "x"}, audit.Event{}); err == nil {
		t.Error("a rule without its event")
	}
	if got := ruleIDs(t, s); len(got) != 1 {
		t.Errorf("a rule whose event failed stayed: %v", got)
	}
}

// testFileRulesOnce: replicas starting together with the same new file
// write it, and its event, once.
func testFileRulesOnce(t *testing.T, db Database, c *clock) {
	stores := []store.Store{open(t, db, c.now), open(t, db, c.now), open(t, db, c.now)}
	file := []vmaccess.Rule{{ID: "admins", Kind: vmaccess.Role, Principal: "Portal.Admin", Label: "Administrators"}}
	var wg sync.WaitGroup
	changes := make([]bool, len(stores))
	for i, s := range stores {
		wg.Go(func() {
			var err error
			if changes[i], err = s.ReplaceFileRules(t.Context(), tenant, file, ruleEvent(c, "rules-file")); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	n := 0
	for _, ch := range changes {
		if ch {
			n++
		}
	}
	if n != 1 || ruleEvents(t, stores[0]) != 1 {
		t.Errorf("%d replicas changed the rules, %d events", n, ruleEvents(t, stores[0]))
	}
}

func flrSession(c *clock, id, user, sid, point string) store.FLRSession {
	return store.FLRSession{ID: id, TenantID: tenant, UserOID: user, UserUPN: user + "@contoso", UserName: user, SID: sid, VMID: "vm",
		VMName: "fin-fs-01", Windows: true, PointID: point, PointTime: c.now().Add(-24 * time.Hour), Reason: "why", State: store.FLRStarting,
		Opened: c.now(), LastUsed: c.now()}
}

// testFLRSessions: a session's life, the one to reuse, and the lists the
// idle sweep and sign-out read.
func testFLRSessions(t *testing.T, s store.Store, c *clock) {
	ctx := t.Context()
	a := flrSession(c, "a", "pradeep", "sid1", "p1")
	if err := s.PutFLRSession(ctx, a); err != nil {
		t.Fatal(err)
	}
	got, err := s.FLRSession(ctx, "a")
	if err != nil || got.VMName != "fin-fs-01" || !got.Windows || !got.PointTime.Equal(a.PointTime) || got.State != store.FLRStarting || !got.Open() {
		t.Fatalf("read back: %+v %v", got, err)
	}
	if _, err := s.FLRSession(ctx, "none"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("none: %v", err)
	}
	if r, err := s.ReusableFLRSession(ctx, tenant, "pradeep", "p1"); err != nil || r.ID != "a" {
		t.Errorf("reusable: %+v %v", r, err)
	}
	for _, miss := range [][2]string{{"lee", "p1"}, {"pradeep", "p2"}} {
		if _, err := s.ReusableFLRSession(ctx, tenant, miss[0], miss[1]); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%v: %v", miss, err)
		}
	}
	if err := s.MoveFLRSession(ctx, "a", []string{store.FLRStarting}, store.FLRReady, "", c.now()); err != nil {
		t.Fatal(err)
	}
	if err := s.MoveFLRSession(ctx, "a", []string{store.FLRStarting}, store.FLRFailed, "late", c.now()); !errors.Is(err, store.ErrChanged) {
		t.Errorf("a move from a state it left: %v", err)
	}
	c.advance(time.Minute)
	b := flrSession(c, "b", "pradeep", "sid2", "p2")
	s.PutFLRSession(ctx, b)
	c.advance(10 * time.Minute)
	if err := s.TouchFLRSession(ctx, "b", c.now()); err != nil {
		t.Fatal(err)
	}
	s.TouchFLRSession(ctx, "b", c.now().Add(-time.Hour)) // an older touch changes nothing
	idle, err := s.FLRSessions(ctx, store.FLRFilter{Open: true, UsedBefore: c.now().Add(-5 * time.Minute)})
	if err != nil || len(idle) != 1 || idle[0].ID != "a" {
		t.Errorf("idle: %+v %v", idle, err)
	}
	if of, _ := s.FLRSessions(ctx, store.FLRFilter{SID: "sid2"}); len(of) != 1 || of[0].ID != "b" {
		t.Errorf("of sid2: %+v", of)
	}
	// Two stoppers at once: one moves it.
	var wg sync.WaitGroup
	moved := make([]error, 4)
	for i := range moved {
		wg.Go(func() {
			moved[i] = s.MoveFLRSession(ctx, "a", []string{store.FLRStarting, store.FLRReady}, store.FLRStopping, "idle", c.now())
		})
	}
	wg.Wait()
	n := 0
	for _, err := range moved {
		if err == nil {
			n++
		} else if !errors.Is(err, store.ErrChanged) {
			t.Error(err)
		}
	}
	if n != 1 {
		t.Errorf("%d stoppers moved it", n)
	}
	if err := s.MoveFLRSession(ctx, "a", []string{store.FLRStopping}, store.FLRStopped, "Stopped after 30 minutes unused.", c.now()); err != nil {
		t.Fatal(err)
	}
	got, _ = s.FLRSession(ctx, "a")
	if got.State != store.FLRStopped || got.Open() || !got.Ended.Equal(c.now()) || got.Detail == "" {
		t.Errorf("stopped: %+v", got)
	}
	if _, err := s.ReusableFLRSession(ctx, tenant, "pradeep", "p1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a stopped session is reused: %v", err)
	}
	all, _ := s.FLRSessions(ctx, store.FLRFilter{})
	open, _ := s.FLRSessions(ctx, store.FLRFilter{Open: true})
	if len(all) != 2 || all[0].ID != "b" || len(open) != 1 {
		t.Errorf("all %+v, open %+v", all, open)
	}
}
