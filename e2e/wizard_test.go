package e2e

import (
	"regexp"
	"sync"
	"testing"

	"github.com/mxschmitt/playwright-go"

	"github.com/openrestore/portal/demotenant"
)

// restoresOf counts the restores the fake VB365 has run for a person.
func restoresOf(upn string) int {
	n := 0
	for _, rs := range stack.veeam.RestoreSessions(demotenant.ID("user", upn)) {
		if rs.Restore {
			n++
		}
	}
	return n
}

// Lynne opens the same restore form in two tabs and sends both at once:
// one restore starts, and both tabs land on it. Back from its progress page
// leads to the form, which says it was sent, never to the browser's "Confirm
// form resubmission".
func TestTheSameRestoreFormSentTwiceRestoresOnce(t *testing.T) {
	const lynne = "LynneR@contoso.onmicrosoft.com"
	tb := startSignedIn(t, "Lynne Robbins", "Europe/London")
	p := tb.page
	tb.click(playwright.AriaRoleButton, "Open the latest")
	tb.waitForURL(`/sessions/[0-9a-f-]{36}$`)
	tb.openMailbox("Lynne Robbins")
	if err := p.Locator(`table.mail-items input[name="item"]`).First().Check(); err != nil {
		t.Fatal(err)
	}
	tb.clickExact(playwright.AriaRoleButton, "Restore selected…")
	tb.waitForURL(`/restore/[0-9a-f-]{36}$`)
	wizard := p.URL()
	tb.audit()

	// The same form in a second tab.
	second, err := tb.ctx.NewPage()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := second.Goto(wizard); err != nil {
		t.Fatal(err)
	}
	before := restoresOf(lynne)
	progress := regexp.MustCompile(`/restores/[0-9a-f-]{36}$`)
	var wg sync.WaitGroup
	for _, page := range []playwright.Page{p, second} {
		wg.Go(func() {
			button := page.GetByRole(*playwright.AriaRoleButton, playwright.PageGetByRoleOptions{Name: "Restore 1 item", Exact: playwright.Bool(true)})
			if err := button.Click(); err != nil {
				t.Error(err)
				return
			}
			if err := page.WaitForURL(progress); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if p.URL() != second.URL() {
		t.Errorf("the tabs landed on %s and %s", p.URL(), second.URL())
	}
	if n := restoresOf(lynne) - before; n != 1 {
		t.Errorf("%d restores started, want 1", n)
	}
	tb.waitFinished()

	// Back from the progress page: the form, not a resubmission prompt.
	resp, err := p.GoBack()
	if err != nil {
		t.Fatalf("back: %v", err)
	}
	if p.URL() != wizard || (resp != nil && resp.Status() != 200) {
		t.Fatalf("back from the progress page: %s", p.URL())
	}
	tb.see(p.Locator(".alert.info"), "You have started this restore already")
	tb.audit()
	tb.clickExact(playwright.AriaRoleButton, "Restore 1 item")
	tb.waitForURL(progress.String())
	if n := restoresOf(lynne) - before; n != 1 {
		t.Errorf("sending the form again started another restore: %d", n)
	}
}
