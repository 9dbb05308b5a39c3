package e2e

import (
	"strings"
	"testing"

	"github.com/mxschmitt/playwright-go"

	"github.com/openrestore/portal/demotenant"
	"github.com/openrestore/portal/fakevbazure"
)

// vmRules is the portal's rules file in these journeys: Finance restores
// its file servers, the portal's administrators every VM.
var vmRules = `{"rules": [
	{"id": "finance", "kind": "group", "principal": "` + demotenant.ID("group", "Finance") + `", "label": "Finance",
	 "subscription": "` + fakevbazure.SubscriptionID(fakevbazure.ProductionSubscription) + `", "resourceGroup": "rg-finance", "names": "fin-*"},
	{"id": "admins", "kind": "role", "principal": "` + demotenant.AdminRole + `", "label": "Portal administrators"}
]}`

// openVMPoint goes from the start page to the VM's page and opens its
// last restore point of the day days ago (or the closest day before),
// giving the reason, and waits for the session's files.
func (tb *tab) openVMPoint(vm string, days int, reason string) {
	tb.t.Helper()
	tb.open("/")
	tb.clickExact(playwright.AriaRoleLink, "Azure VMs")
	tb.waitForURL(`workload=azure$`)
	tb.audit()
	tb.clickExact(playwright.AriaRoleLink, vm)
	tb.waitForURL(`/azure/vms/[0-9a-f-]{36}$`)
	tb.audit()
	base := strings.TrimPrefix(tb.page.URL(), tb.base)
	for i := range 5 {
		tb.open(base + "?day=" + tb.daysAgo(days+i).Format("2006-01-02"))
		open := tb.page.Locator(".point-list a.button")
		if n, _ := open.Count(); n > 0 {
			tb.audit()
			if err := open.Last().Click(); err != nil {
				tb.t.Fatal(err)
			}
			tb.waitForURL(`/points/[0-9a-f-]{36}$`)
			tb.audit()
			if reason != "" {
				tb.fill("Reason (required)", reason)
			}
			tb.clickExact(playwright.AriaRoleButton, "Open the restore point")
			tb.waitForURL(`/azure/flr/[0-9a-f-]{36}(/browse)?$`)
			if !strings.HasSuffix(tb.page.URL(), "/browse") { // the worker takes a few seconds to start
				tb.see(tb.page.Locator("#flr-status"), "Starting the worker")
				tb.audit()
			}
			// The page moves on by itself once the worker is ready.
			if err := tb.page.WaitForURL("**/browse", playwright.PageWaitForURLOptions{Timeout: playwright.Float(20000)}); err != nil {
				tb.t.Fatalf("the session did not become ready: %v", err)
			}
			tb.audit()
			return
		}
	}
	tb.t.Fatalf("no restore point of %s around %d days ago", vm, days)
}

// into opens the folders of a session's page one after another.
func (tb *tab) into(folders ...string) {
	tb.t.Helper()
	for _, f := range folders {
		tb.clickExact(playwright.AriaRoleLink, f)
		tb.see(tb.page.Locator(".crumbs [aria-current]"), f)
	}
	tb.audit()
}

func (tb *tab) tick(name string) {
	tb.t.Helper()
	if err := tb.page.GetByLabel("Select "+name, playwright.PageGetByLabelOptions{Exact: playwright.Bool(true)}).Check(); err != nil {
		tb.t.Fatalf("tick %s: %v", name, err)
	}
}

// TestAFinanceMemberBringsBackTheForecast: Pradeep Gupta, of Finance,
// opens last week's restore point of the Finance file server, finds the
// forecast deleted three days ago, and restores it keeping both: the
// VM then holds the new, nearly empty forecast and last week's beside it.
// Every page is audited.
func TestAFinanceMemberBringsBackTheForecast(t *testing.T) {
	pradeep := startSignedIn(t, "Pradeep Gupta", "Europe/London")
	p := pradeep.page
	pradeep.openVMPoint(fakevbazure.StoryFinanceVM, 7, "INC-4711: the Q3 forecast was deleted")
	pradeep.see(p.Locator("main"), "cannot download")
	pradeep.into("D:", "Finance", "2026")
	pradeep.tick("Q3 forecast.xlsx")
	pradeep.screenshot("azure-vm-files")
	pradeep.clickExact(playwright.AriaRoleButton, "Restore selected…")
	pradeep.waitForURL(`/restore/[0-9a-f-]{36}$`)
	if err := expect.Locator(p.GetByLabel("Keep both: the restored copy is named RESTORED-<name>, beside the current one")).ToBeChecked(); err != nil {
		t.Error(err)
	}
	pradeep.fill("Reason (required)", "INC-4711")
	pradeep.audit()
	pradeep.clickExact(playwright.AriaRoleButton, "Restore 1 item to "+fakevbazure.StoryFinanceVM)
	pradeep.waitForURL(`/restores/[0-9a-f-]{36}$`)
	pradeep.waitFinished()
	pradeep.see(p.Locator("main"), "RESTORED-Q3 forecast.xlsx")
	pradeep.audit()
	kept, ok1 := stack.azure.LiveFile(fakevbazure.StoryFinanceVM, `D:\Finance\2026\RESTORED-Q3 forecast.xlsx`)
	current, ok2 := stack.azure.LiveFile(fakevbazure.StoryFinanceVM, fakevbazure.StoryForecast)
	if !ok1 || !ok2 || kept.Size != fakevbazure.ForecastSize || current.Size != fakevbazure.NewForecastSize {
		t.Errorf("the VM holds %+v (%v) and %+v (%v)", kept, ok1, current, ok2)
	}
	pradeep.clickExact(playwright.AriaRoleLink, "My restores")
	pradeep.see(p.Locator("main table"), "Azure VMs: "+fakevbazure.StoryFinanceVM)
	pradeep.audit()
}

// TestAnAdministratorRestoresNginxElsewhere: Nestor Wilke restores the web
// server's nginx configuration, broken yesterday, from the day before
// into another folder, leaving the live one for the web team to compare;
// then he looks at the rules and the open sessions, and stops his.
func TestAnAdministratorRestoresNginxElsewhere(t *testing.T) {
	nestor := startSignedIn(t, "Nestor Wilke", "Europe/Paris")
	p := nestor.page
	nestor.openVMPoint(fakevbazure.StoryWebVM, 2, "CHG-2201: compare the nginx configuration")
	nestor.into("etc", "nginx", "sites-available")
	nestor.tick("contoso.conf")
	nestor.clickExact(playwright.AriaRoleButton, "Restore selected…")
	nestor.waitForURL(`/restore/[0-9a-f-]{36}$`)
	nestor.clickExact(playwright.AriaRoleRadio, "Into another folder of the VM")
	nestor.fill("Folder", "/root/nginx-before")
	nestor.fill("Reason (required)", "CHG-2201")
	nestor.audit()
	nestor.clickExact(playwright.AriaRoleButton, "Restore 1 item to "+fakevbazure.StoryWebVM)
	nestor.waitForURL(`/restores/[0-9a-f-]{36}$`)
	nestor.waitFinished()
	nestor.audit()
	nestor.screenshot("azure-vm-restore")
	restored, ok := stack.azure.LiveFile(fakevbazure.StoryWebVM, "/root/nginx-before/contoso.conf")
	live, _ := stack.azure.LiveFile(fakevbazure.StoryWebVM, fakevbazure.StoryNginx)
	if !ok || restored.Size != 2413 || live.Size != 96 {
		t.Errorf("the copy %+v (%v), the live file %+v", restored, ok, live)
	}

	// The administration: the rules, what they match, the open sessions.
	nestor.clickExact(playwright.AriaRoleLink, "Azure VM access")
	nestor.waitForURL(`/admin/azure/rules$`)
	nestor.see(p.Locator("main table"), fakevbazure.StoryFinanceVM)
	nestor.audit()
	nestor.fill("Group object id or app role value", demotenant.ID("group", "Web team"))
	nestor.fill("Name them", "Web team")
	nestor.fill("Resource group", "rg-web")
	nestor.clickExact(playwright.AriaRoleButton, "Preview the VMs it matches")
	nestor.see(p.Locator(".preview"), fakevbazure.StoryWebVM)
	nestor.audit()
	nestor.clickExact(playwright.AriaRoleLink, "Open sessions")
	nestor.waitForURL(`/admin/azure/sessions$`)
	nestor.see(p.Locator("main table"), "Nestor Wilke")
	nestor.audit()
	if err := p.GetByRole(*playwright.AriaRoleButton, playwright.PageGetByRoleOptions{Name: "Stop the session of " + fakevbazure.StoryWebVM}).First().Click(); err != nil {
		t.Fatal(err)
	}
	nestor.see(p.Locator(".alert.info"), "stopped")
	nestor.audit()
}

// TestNoRuleNoVMs: Adele Vance has no rule: no Azure VMs tab, and a VM's
// address typed in is "not found", like one that does not exist.
func TestNoRuleNoVMs(t *testing.T) {
	adele := startSignedIn(t, "Adele Vance", "Europe/Berlin")
	p := adele.page
	if n, _ := p.GetByRole(*playwright.AriaRoleLink, playwright.PageGetByRoleOptions{Name: "Azure VMs", Exact: playwright.Bool(true)}).Count(); n != 0 {
		t.Error("Adele sees an Azure VMs tab")
	}
	adele.open("/azure/vms/" + fakevbazure.VMID(fakevbazure.StoryFinanceVM))
	adele.see(p.Locator("h1"), "Not found")
	adele.audit()
	adele.open("/?workload=azure")
	adele.see(p.Locator("#restore-points"), "No Azure VM is yours")
	adele.audit()
}
