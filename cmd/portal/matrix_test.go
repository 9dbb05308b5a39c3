package main

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/openrestore/portal/demotenant"
	"github.com/openrestore/portal/fakeveeam"
)

const patti = "PattiF@contoso.onmicrosoft.com" // outside every operator's role

// TestScopeMatrix: each demo operator (an end user, the helpdesk, the
// organisation's operator) × data in and out of their VB365 role × browse,
// search, restore and download, in Exchange, OneDrive and SharePoint: only what is in
// scope works, everything else is "not found", and every restore and
// download attempt — denials included — is in the audit trail exactly once.
func TestScopeMatrix(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{veeam: quick.veeam, env: map[string]string{"PORTAL_AUDITORS": demotenant.AuditorRole}})
	type owner struct{ upn, name string }
	owners := []owner{{megan, "Megan Bowen"}, {adele, "Adele Vance"}, {patti, "Patti Fernandez"}}
	// Each owner's item and document, as keys from their own sessions.
	itemKey, docKey, oneDriveKey := map[string]string{}, map[string]string{}, map[string]string{}
	for _, o := range owners {
		b := s.signedIn(o.upn)
		sid, _ := b.explore("exchange")
		itemKey[o.upn] = rowsOf(t, b.openMailbox(sid, o.name).page)[0].key
		odSid, _ := b.explore("onedrive")
		od := b.openDocs(odSid, o.name)
		docKey[o.upn] = findDoc(t, od.open("Documents/Budget"), "Q3 budget.xlsx").key
		oneDriveKey[o.upn] = od.base[strings.LastIndex(od.base, "/")+1:]
	}
	operators := []struct {
		upn     string
		inScope map[string]bool
	}{
		{adele, map[string]bool{adele: true}},
		{lee, map[string]bool{megan: true}},
		{nestor, map[string]bool{megan: true, adele: true}},
	}
	type key struct{ actor, subject, workload, action string }
	attempts := map[key]string{} // → the outcome the trail must show
	for _, op := range operators {
		b := s.signedIn(op.upn)
		exSid, _ := b.explore("exchange")
		odSid, _ := b.explore("onedrive")
		for _, o := range owners {
			in := op.inScope[o.upn]
			check := func(what string, r response, okStatus int) {
				t.Helper()
				if in && r.StatusCode != okStatus {
					t.Errorf("%s → %s's %s: %d, want %d", op.upn, o.name, what, r.StatusCode, okStatus)
				}
				if !in && r.StatusCode != http.StatusNotFound {
					t.Errorf("%s → %s's %s (out of scope): %d, want 404", op.upn, o.name, what, r.StatusCode)
				}
				if !in && strings.Contains(r.body, o.name) {
					t.Errorf("%s → %s's %s (out of scope) shows the name", op.upn, o.name, what)
				}
			}
			mailbox := fakeveeam.MailboxID(demotenant.ID("user", o.upn), false)
			mb := "/sessions/" + exSid + "/mailboxes/" + mailbox
			check("mailbox", b.get(mb), http.StatusSeeOther)
			check("mail search", b.get(mb+"/search?q=plan"), http.StatusOK)
			item := itemKey[o.upn]
			if in { // a key of this session
				item = rowsOf(t, b.openMailbox(exSid, o.name).page)[0].key
			}
			check("mail restore", b.attemptRestore(mb, url.Values{"scope": {"selected"}, "item": {item}},
				url.Values{"target": {"original"}, "changed": {"1"}, "reason": {"matrix"}}), http.StatusSeeOther)
			check("mail download", b.post(mb+"/download", url.Values{"kind": {"zip"}, "item": {item}}), http.StatusOK)
			od := "/sessions/" + odSid + "/onedrives/" + oneDriveKey[o.upn]
			check("OneDrive", b.get(od), http.StatusSeeOther)
			check("OneDrive search", b.get(od+"/search?q=budget"), http.StatusOK)
			doc := docKey[o.upn]
			if in {
				doc = findDoc(t, b.openDocs(odSid, o.name).open("Documents/Budget"), "Q3 budget.xlsx").key
			}
			check("document restore", b.attemptRestore(od, url.Values{"scope": {"selected"}, "item": {doc}},
				url.Values{"action": {"keep"}, "reason": {"matrix"}}), http.StatusSeeOther)
			check("document download", b.post(od+"/download", url.Values{"item": {doc}}), http.StatusOK)
			restored, downloaded := "started", "succeeded"
			if !in {
				restored, downloaded = "denied", "denied"
			}
			attempts[key{op.upn, mailbox, "exchange", "restore"}] = restored
			attempts[key{op.upn, mailbox, "exchange", "download"}] = downloaded
			odID := fakeveeam.OneDriveID(demotenant.ID("user", o.upn))
			attempts[key{op.upn, odID, "onedrive", "restore"}] = restored
			attempts[key{op.upn, odID, "onedrive", "download"}] = downloaded
		}
	}
	// SharePoint: the Sales and Marketing site is Lee's and Nestor's; Legal is Nestor's only.
	type site struct{ name, id, key, doc string }
	sites := []*site{{name: "Sales and Marketing"}, {name: "Legal"}}
	nb := s.signedIn(nestor)
	nSid, _ := nb.explore("sharepoint")
	for _, st := range sites {
		d := nb.openDocs(nSid, st.name)
		st.key = d.base[strings.LastIndex(d.base, "/")+1:]
		st.id = demotenant.ID("site", "https://contoso.sharepoint.com/sites/"+strings.ReplaceAll(st.name, " ", ""))
		for _, r := range docRowsOf(t, d.open("Documents")) {
			if strings.Contains(r.href, "/d/") {
				st.doc = r.key
			}
		}
	}
	siteScope := map[string]map[string]bool{adele: {}, lee: {"Sales and Marketing": true}, nestor: {"Sales and Marketing": true, "Legal": true}}
	for _, op := range operators {
		b := s.signedIn(op.upn)
		spSid, _ := b.explore("sharepoint")
		for _, st := range sites {
			in := siteScope[op.upn][st.name]
			base := "/sessions/" + spSid + "/sites/" + st.key
			doc := st.doc
			if in {
				for _, r := range docRowsOf(t, b.openDocs(spSid, st.name).open("Documents")) {
					if strings.Contains(r.href, "/d/") {
						doc = r.key
					}
				}
			}
			for _, c := range []struct {
				what string
				r    response
				ok   int
			}{
				{"site", b.get(base), http.StatusOK},
				{"site search", b.get(base + "/search?q=plan"), http.StatusOK},
				{"site restore", b.attemptRestore(base, url.Values{"scope": {"selected"}, "item": {doc}},
					url.Values{"target": {"original"}, "missing": {"1"}, "changed": {"1"}, "reason": {"matrix"}}), http.StatusSeeOther},
				{"site download", b.post(base+"/download", url.Values{"item": {doc}}), http.StatusOK},
			} {
				if in && c.r.StatusCode != c.ok || !in && c.r.StatusCode != http.StatusNotFound {
					t.Errorf("%s → %s %s (in scope: %v): %d", op.upn, st.name, c.what, in, c.r.StatusCode)
				}
			}
			restored, downloaded := "started", "succeeded"
			if !in {
				restored, downloaded = "denied", "denied"
			}
			attempts[key{op.upn, st.id, "sharepoint", "restore"}] = restored
			attempts[key{op.upn, st.id, "sharepoint", "download"}] = downloaded
		}
	}
	// Each attempt is in the trail once: a denied one as denied, a download
	// as sent, a restore with its intent and start (its end may follow).
	seen := map[key][]string{}
	for _, r := range auditRows(t, s.signedIn(joni), nil) {
		k := key{r["actor_upn"], r["on_behalf_of_id"], r["workload"], r["action"]}
		if _, ok := attempts[k]; !ok {
			t.Errorf("an audit record of no attempt: %v", r)
		}
		if r["outcome"] != "succeeded" || r["action"] != "restore" { // a restore's end comes when it comes
			seen[k] = append(seen[k], r["outcome"])
		}
	}
	for k, want := range attempts {
		wantSeen := []string{want}
		if want == "started" {
			wantSeen = []string{"started", "requested"} // newest first
		}
		if !slices.Equal(seen[k], wantSeen) {
			t.Errorf("%v is in the trail as %v, want %v", k, seen[k], wantSeen)
		}
	}
}
