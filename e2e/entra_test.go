package e2e

import (
	"testing"
	"time"

	"github.com/mxschmitt/playwright-go"

	"github.com/openrestore/portal/fakeentra"
	"github.com/openrestore/portal/fakevbazure"
)

// TestConsentAndAClaimsChallenge: in a tenant where nobody consented to the
// portal for him, Nestor is asked at his first sign-in and accepts. Later,
// Entra wants multi-factor authentication before it lets the portal read
// the directory for him: his people search sends him through sign-in
// again, asking Entra for the challenge's claims, and back to the search.
func TestConsentAndAClaimsChallenge(t *testing.T) {
	stack.entra.Fail(fakeentra.Failure{ConsentRequired: true})
	defer stack.entra.Fail(fakeentra.Failure{})
	// Each VBAzure connection here uses an MFA code of a window of its own,
	// and leaves the next test one too.
	defer stack.clock.Advance(31 * time.Second)

	nestor := newTab(t, "Europe/Paris")
	p := nestor.page
	nestor.open("/")
	nestor.click(playwright.AriaRoleLink, "Sign in with Microsoft")
	nestor.waitForURL(`/oauth2/v2\.0/authorize`)
	nestor.click(playwright.AriaRoleButton, "Nestor Wilke")
	nestor.see(nestor.role(playwright.AriaRoleHeading, "Permissions requested"), "Permissions requested")
	nestor.audit()
	nestor.click(playwright.AriaRoleButton, "Accept")
	nestor.see(nestor.role(playwright.AriaRoleHeading, "Welcome"), "Welcome, Nestor Wilke")
	stack.entra.Fail(fakeentra.Failure{})

	connect := func() {
		t.Helper()
		stack.clock.Advance(31 * time.Second)
		nestor.open("/admin/azure")
		nestor.fill("User name", fakevbazure.DemoOperatorName)
		nestor.fill("Password", fakevbazure.DemoOperatorPassword)
		nestor.clickExact(playwright.AriaRoleButton, "Connect")
		nestor.waitForURL(`/admin/azure/connect/code$`)
		nestor.fill("Code", fakevbazure.TOTP(fakevbazure.DemoMFASecret, stack.now()))
		nestor.clickExact(playwright.AriaRoleButton, "Connect")
		nestor.waitForURL(`/admin/azure$`)
	}
	connect()

	stack.entra.Fail(fakeentra.Failure{InteractionRequired: true})
	nestor.clickExact(playwright.AriaRoleLink, "Add a person from Microsoft Entra ID")
	nestor.waitForURL(`/admin/azure/users/new\?kind=entra$`)
	nestor.fill("Search the directory", "megan")
	nestor.clickExact(playwright.AriaRoleButton, "Search")
	// Entra's sign-in again, asking for the claims of the challenge.
	nestor.waitForURL(`/oauth2/v2\.0/authorize\?.*claims=`)
	nestor.signIn("Nestor Wilke")
	// Back in the portal: the new session connects to VBAzure again, and the search works.
	nestor.waitForURL(`/admin/azure`)
	connect()
	nestor.open("/admin/azure/users/new?kind=entra&people=megan")
	if err := expect.Locator(p.GetByRole(*playwright.AriaRoleRadio, playwright.PageGetByRoleOptions{Name: "Megan Bowen"})).ToBeVisible(); err != nil {
		t.Fatalf("the search after the challenge: %v", err)
	}
	nestor.audit()
}
