package main

import (
	"fmt"
	"io"
	"path"
	"text/tabwriter"
	"time"

	"github.com/openrestore/portal/demotenant"
	"github.com/openrestore/portal/fakeentra"
	"github.com/openrestore/portal/fakevbazure"
	"github.com/openrestore/portal/fakeveeam"
	"github.com/openrestore/portal/vmaccess"
)

// demoStack is the in-process fake Entra ID, fake VB365 server and fake
// Veeam Backup for Microsoft Azure of -demo.
type demoStack struct {
	entra *fakeentra.Server
	veeam *fakeveeam.Server
	azure *fakevbazure.Server
}

// startDemo starts both fakes on loopback ports and points cfg at them:
// the portal then talks to them exactly as it would to the real services.
func startDemo(cfg *config, now func() time.Time) (*demoStack, error) {
	entra, err := fakeentra.Start("127.0.0.1:0", fakeentra.Options{Now: now})
	if err != nil {
		return nil, err
	}
	veeam, err := fakeveeam.Start("127.0.0.1:0", fakeveeam.Options{EntraAuthority: entra.Authority(), Now: now, LargeMailbox: largeMailbox,
		LargeLibrarySite: largeLibrarySite})
	if err != nil {
		entra.Close()
		return nil, err
	}
	azure, err := fakevbazure.Start("127.0.0.1:0", fakevbazure.Options{Now: now})
	if err != nil {
		veeam.Close()
		entra.Close()
		return nil, err
	}
	cfg.VeeamURL = veeam.URL()
	if cfg.VBAzureURL == "" {
		cfg.VBAzureURL = azure.URL()
	}
	if cfg.VBAzureAccount == "" && cfg.VBAzureURL == azure.URL() {
		cfg.VBAzureAccount, cfg.VBAzurePassword, cfg.VBAzureTOTP = fakevbazure.DemoServiceName, fakevbazure.DemoServicePassword, fakevbazure.DemoServiceSecret
	}
	cfg.GraphURL = entra.URL() // the fake issuer answers Graph's people searches
	if cfg.Auditors == "" {
		cfg.Auditors = demotenant.AuditorRole
	}
	if cfg.Admins == "" {
		cfg.Admins = demotenant.AdminRole
	}
	if cfg.ClientSecret == "" && cfg.ClientSecretFile == "" {
		cfg.ClientSecret = entra.ClientSecret()
	}
	return &demoStack{entra: entra, veeam: veeam, azure: azure}, nil
}

func (d *demoStack) close() {
	d.azure.Close()
	d.veeam.Close()
	d.entra.Close()
}

// banner tells a newcomer where to go and whom to sign in as.
func (d *demoStack) banner(w io.Writer, portalURL string) {
	fmt.Fprintf(w, "\nRestore portal demo: open %s\n\n", portalURL)
	fmt.Fprintln(w, "Sign in as any of these Contoso people (the fake sign-in page lists them; no password):")
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, u := range demotenant.Contoso().Users {
		if u.Role == demotenant.EndUser && !showcase[u.UPN] {
			continue
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", u.DisplayName, u.UPN, u.Role)
	}
	tw.Flush()
	fmt.Fprintf(w, "  …and %d more end users.\n\n", countEndUsers()-len(showcase))
	fmt.Fprintf(w, "To try: Adele Vance deleted %q last week (open a restore point from before);\n", fakeveeam.StoryDeletedSubject)
	fmt.Fprintf(w, "Pradeep Gupta's %s folder holds 100,000 messages.\n", fakeveeam.LargeFolderPath)
	fmt.Fprintf(w, "Everyone overwrote %q this morning and deleted the folder %q three days ago (OneDrive);\n",
		path.Base(fakeveeam.StoryOverwrittenDoc), path.Base(fakeveeam.StoryDeletedFolder))
	fmt.Fprintf(w, "Lee Gu can bring back %q to the %s list of Sales and Marketing (SharePoint);\n",
		fakeveeam.StoryDeletedListItem, fakeveeam.StoryVisitsList)
	fmt.Fprintf(w, "the %s site's %s library holds 50,000 documents.\n", largeLibrarySite, fakeveeam.LargeLibraryName)
	fmt.Fprintln(w, "Joni Sherman is the auditor: her Audit page lists every restore, download and export.")
	fmt.Fprintf(w, "Nestor Wilke administers the portal: on Azure backup users he connects to Veeam Backup for Microsoft Azure\n"+
		"as %s, password %s, MFA secret %s (any authenticator app, or: oathtool --totp -b %s);\n"+
		"resetting a password asks for the Default Admin's (%s): %s.\n",
		fakevbazure.DemoOperatorName, fakevbazure.DemoOperatorPassword, fakevbazure.DemoMFASecret, fakevbazure.DemoMFASecret,
		fakevbazure.DemoAdminName, fakevbazure.DemoAdminPassword)
	fmt.Fprintf(w, "Azure VMs: Pradeep Gupta (Finance) can bring back “%s” on %s, deleted three days ago;\n"+
		"Johanna Lorenz (Web team) can restore %s on %s, broken yesterday; Adele Vance has no Azure VM.\n"+
		"Nestor edits who may restore which VM under Azure VM access.\n",
		fakevbazure.StoryForecast, fakevbazure.StoryFinanceVM, fakevbazure.StoryNginx, fakevbazure.StoryWebVM)
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Fake Entra ID issuer: %s\nFake VB365 server:    %s\nFake VBAzure server:  %s\n\nPress Ctrl+C to stop.\n\n",
		d.entra.Issuer(), d.veeam.URL(), d.azure.URL())
}

// largeMailbox has a folder of 100,000 messages in the demo, and
// largeLibrarySite a library of 50,000 documents.
const (
	largeMailbox     = fakeveeam.DemoLargeMailbox
	largeLibrarySite = fakeveeam.DemoLargeLibrarySite
)

// showcase are the end users the banner names.
var showcase = map[string]bool{
	"AdeleV@contoso.onmicrosoft.com": true, "AlexW@contoso.onmicrosoft.com": true, "MeganB@contoso.onmicrosoft.com": true,
	"DiegoS@contoso.onmicrosoft.com": true, "IsaiahL@contoso.onmicrosoft.com": true, largeMailbox: true,
	"JoniS@contoso.onmicrosoft.com": true,
}

func countEndUsers() int {
	n := 0
	for _, u := range demotenant.Contoso().Users {
		if u.Role == demotenant.EndUser {
			n++
		}
	}
	return n
}

// demoRules are who may restore which of Contoso's Azure VMs: Finance its
// file servers, the web team the web servers, Engineering the development
// subscription, the portal's administrators every VM.
func demoRules() []vmaccess.Rule {
	prod, dev := fakevbazure.SubscriptionID(fakevbazure.ProductionSubscription), fakevbazure.SubscriptionID(fakevbazure.DevelopmentSubscription)
	group := func(name string) string { return demotenant.ID("group", name) }
	return []vmaccess.Rule{
		{ID: "demo-finance", Kind: vmaccess.Group, Principal: group("Finance"), Label: "Finance", Subscription: prod, ResourceGroup: "rg-finance", Names: "fin-*"},
		{ID: "demo-web", Kind: vmaccess.Group, Principal: group("Web team"), Label: "Web team", Subscription: prod, ResourceGroup: "rg-web"},
		{ID: "demo-engineering", Kind: vmaccess.Group, Principal: group("Engineering"), Label: "Engineering", Subscription: dev},
		{ID: "demo-admins", Kind: vmaccess.Role, Principal: demotenant.AdminRole, Label: "Portal administrators"},
	}
}
