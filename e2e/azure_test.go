package e2e

import (
	"encoding/csv"
	"os"
	"strings"
	"testing"

	"github.com/mxschmitt/playwright-go"

	"github.com/openrestore/portal/fakevbazure"
)

// fill types into the field a label names.
func (tb *tab) fill(label, value string) {
	tb.t.Helper()
	if err := tb.page.GetByLabel(label, playwright.PageGetByLabelOptions{Exact: playwright.Bool(true)}).Fill(value); err != nil {
		tb.t.Fatalf("fill %q: %v", label, err)
	}
}

// TestNestorAdministersAzureBackupUsers: Nestor Wilke, the portal's
// administrator, connects to Veeam Backup for Microsoft Azure with his own
// account and its MFA code, adds Megan Bowen as a Restore Operator by
// picking her from the directory, resets an internal user's password,
// turns off another's MFA, exports the list as CSV, and finds all of it in
// the audit trail. Adele Vance cannot open the page.
func TestNestorAdministersAzureBackupUsers(t *testing.T) {
	nestor := startSignedIn(t, "Nestor Wilke", "Europe/Paris")
	p := nestor.page
	nestor.clickExact(playwright.AriaRoleLink, "Azure backup users")
	nestor.waitForURL(`/admin/azure$`)
	nestor.audit()
	nestor.fill("User name", fakevbazure.DemoOperatorName)
	nestor.fill("Password", fakevbazure.DemoOperatorPassword)
	nestor.clickExact(playwright.AriaRoleButton, "Connect")
	nestor.waitForURL(`/admin/azure/connect/code$`)
	nestor.audit()
	nestor.fill("Code", fakevbazure.TOTP(fakevbazure.DemoMFASecret, stack.now()))
	nestor.clickExact(playwright.AriaRoleButton, "Connect")
	nestor.waitForURL(`/admin/azure$`)
	nestor.see(p.Locator(".card.connected"), fakevbazure.DemoOperatorName)
	nestor.see(p.Locator("table.azure-users"), fakevbazure.DemoAdminName)
	nestor.audit()
	nestor.screenshot("azure-users")

	// Megan, from the directory.
	nestor.clickExact(playwright.AriaRoleLink, "Add a person from Microsoft Entra ID")
	nestor.waitForURL(`/admin/azure/users/new\?kind=entra$`)
	nestor.audit()
	nestor.fill("Search the directory", "megan")
	nestor.clickExact(playwright.AriaRoleButton, "Search")
	megan := p.GetByRole(*playwright.AriaRoleRadio, playwright.PageGetByRoleOptions{Name: "Megan Bowen"})
	if err := megan.Check(); err != nil {
		t.Fatalf("choose Megan: %v", err)
	}
	if _, err := p.GetByLabel("Role").SelectOption(playwright.SelectOptionValues{Labels: &[]string{"Restore Operator"}}); err != nil {
		t.Fatal(err)
	}
	nestor.audit()
	nestor.clickExact(playwright.AriaRoleButton, "Add the user")
	nestor.waitForURL(`/admin/azure\?q=MeganB$`)
	nestor.see(p.Locator(".alert.info"), "Added MeganB as a Restore Operator.")
	nestor.see(p.Locator("table.azure-users"), "Microsoft Entra ID")

	// A password reset, with the Default Admin's password.
	nestor.open("/admin/azure?q=helpdesk")
	nestor.clickExact(playwright.AriaRoleLink, "helpdesk-restore")
	nestor.waitForURL(`/admin/azure/users/[0-9a-f-]{36}$`)
	nestor.audit()
	nestor.clickExact(playwright.AriaRoleLink, "Reset the password…")
	nestor.waitForURL(`/password$`)
	nestor.audit()
	nestor.fill("New password", "Helpdesk-Fresh-Start5")
	nestor.fill("The new password again", "Helpdesk-Fresh-Start5")
	nestor.fill("Password of the Default Admin", fakevbazure.DemoAdminPassword)
	nestor.clickExact(playwright.AriaRoleButton, "Reset the password")
	nestor.waitForURL(`/admin/azure/users/[0-9a-f-]{36}$`)
	nestor.see(p.Locator(".alert.info"), "is reset")

	// Someone's MFA off, after the page that says what it means.
	nestor.open("/admin/azure?q=backup-reports")
	nestor.clickExact(playwright.AriaRoleLink, "backup-reports")
	nestor.clickExact(playwright.AriaRoleLink, "Turn off MFA…")
	nestor.waitForURL(`/mfa/disable$`)
	nestor.audit()
	nestor.clickExact(playwright.AriaRoleButton, "Turn off MFA")
	nestor.see(p.Locator(".alert.info"), "MFA is off for backup-reports")
	nestor.audit()

	// The list as CSV.
	nestor.open("/admin/azure")
	d, err := p.ExpectDownload(func() error { return nestor.exact(playwright.AriaRoleButton, "Download").Click() })
	if err != nil {
		t.Fatal(err)
	}
	path, _ := d.Path()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) < 2 || !strings.Contains(strings.Join(rows[0], ","), "Name") {
		t.Fatalf("the CSV: %v %v", rows, err)
	}
	found := false
	for _, r := range rows {
		found = found || r[0] == "MeganB"
	}
	if !found {
		t.Errorf("Megan is not in the export: %v", rows)
	}

	// All of it in the audit trail.
	nestor.open("/audit?workload=vbazure")
	trail := p.Locator("table.audit-events tbody")
	for _, want := range []string{"user added", "MeganB", "password reset", "helpdesk-restore", "MFA turned off", "backup-reports", "export", "sign-in"} {
		nestor.see(trail, want)
	}
	nestor.audit()

	// Adele is no administrator.
	adele := startSignedIn(t, "Adele Vance", "Europe/Berlin")
	if n, _ := adele.page.GetByRole(*playwright.AriaRoleLink, playwright.PageGetByRoleOptions{Name: "Azure backup users"}).Count(); n != 0 {
		t.Error("Adele sees the link")
	}
	resp, err := adele.page.Goto(stack.portalURL + "/admin/azure")
	if err != nil || resp.Status() != 403 {
		t.Fatalf("Adele on the page: %v %v", resp, err)
	}
	adele.see(adele.page.Locator("h1"), "Only the portal's administrators open this page")
	adele.audit()
}
