package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/openrestore/portal/demotenant"
	"github.com/openrestore/portal/fakeveeam"
	"github.com/openrestore/portal/internal/wait"
)

// chaosFaults hit about 20 % of the requests to VB365: connection resets,
// 503s, bodies that are not JSON, and slow answers.
var chaosFaults = []fakeveeam.Fault{
	{Path: "/v8/", Reset: true, Rate: 0.06},
	{Path: "/v8/", Status: http.StatusServiceUnavailable, Rate: 0.06},
	{Path: "/v8/", Garbage: true, Rate: 0.05},
	{Path: "/v8/", Delay: 150 * time.Millisecond, Rate: 0.05},
}

// chaos drives journeys through faults and checks every answer on the way.
type chaos struct {
	t *testing.T
	s *stack
}

// check fails on a raw 5xx (anything but the portal's own error page) or
// on internals shown to the user.
func (c *chaos) check(what string, r response) {
	c.t.Helper()
	for _, leak := range []string{"goroutine ", "panic:", "runtime error", ".go:", "RESTExceptionInfo", "Service Unavailable</html>"} {
		if strings.Contains(r.body, leak) {
			c.t.Errorf("%s: the page shows %q", what, leak)
		}
	}
	if r.StatusCode >= 500 && (!strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") || !strings.Contains(r.body, `<main id="main"`)) {
		c.t.Errorf("%s: a raw %d: %.200s", what, r.StatusCode, r.body)
	}
	if strings.Contains(r.body, "giving it a few seconds") {
		c.s.clock.Advance(30 * time.Second) // the circuit opened: let it probe again
	}
}

// eventually repeats an idempotent request until it is right.
func (c *chaos) eventually(what string, do func() response, right func(response) bool) response {
	c.t.Helper()
	for range 40 {
		r := do()
		c.check(what, r)
		if right(r) {
			return r
		}
	}
	c.t.Fatalf("%s never came right through the faults", what)
	return response{}
}

// TestChaos: with a fifth of the calls to VB365 failing, Adele signs in,
// browses, searches, downloads and restores, round after round. No answer
// is a raw 5xx or shows internals, every page comes right when loaded
// again, no restore is sent to VB365 twice, and every restore and download
// is in the audit trail exactly once.
func TestChaos(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{veeam: fakeveeam.Options{RestoreItemDuration: 50 * time.Millisecond, FaultSeed: 20},
		env: map[string]string{"PORTAL_AUDITORS": demotenant.AuditorRole}})
	auditor := s.signedIn(joni)
	wait.For(t, "the portal to be ready", func() bool { return s.browser().get("/readyz").StatusCode == http.StatusOK })
	s.veeam.ResetRequests()
	for _, f := range chaosFaults {
		s.veeam.Inject(f)
	}
	c := &chaos{t: t, s: s}

	var b *browser
	for i := 0; b == nil; i++ {
		if i == 20 {
			t.Fatal("Adele could not sign in through the faults")
		}
		try := s.browser()
		r := try.signIn(adele, "/auth/login")
		c.check("sign-in", r)
		if r.StatusCode == http.StatusSeeOther && r.Header.Get("Location") == "/" {
			b = try
		}
	}

	restorePath := "/v8/RestoreSessions/"
	restorePOSTs := func() int {
		n := 0
		for _, r := range s.veeam.Requests() {
			if r.Method == http.MethodPost && strings.HasPrefix(r.Path, restorePath) && strings.HasSuffix(r.Path, "/operatorRestore") {
				n++
			}
		}
		return n
	}
	downloads, submits := 0, 0
	var started []string
	for round := range 6 {
		c.eventually("the home page", func() response { return b.get("/") }, func(r response) bool { return r.StatusCode == http.StatusOK })
		explored := c.eventually("exploring", func() response {
			return b.post("/explore", url.Values{"workload": {"exchange"}, "point": {"latest"}})
		}, func(r response) bool {
			return r.StatusCode == http.StatusSeeOther && strings.HasPrefix(r.Header.Get("Location"), "/sessions/")
		})
		session := explored.Header.Get("Location")
		mb := "/sessions/" + strings.TrimPrefix(session, "/sessions/") + "/mailboxes/" + fakeveeam.MailboxID(demotenant.ID("user", adele), false)
		inbox := c.eventually("the Inbox", func() response {
			r := b.get(mb)
			if r.StatusCode == http.StatusSeeOther {
				return b.get(r.Header.Get("Location"))
			}
			return r
		}, func(r response) bool { return r.StatusCode == http.StatusOK && len(rowsOf(t, r)) > 0 })
		c.eventually("a search", func() response { return b.get(mb + "/search?q=plan") },
			func(r response) bool { return r.StatusCode == http.StatusOK && strings.Contains(r.body, "mail-items") })
		rows := rowsOf(t, inbox)
		item := rows[round%len(rows)]

		// A download, once: whatever happens, the trail has it once.
		d := b.post(item.href+"/download", url.Values{"kind": {"msg"}})
		c.check("a download", d)
		downloads++

		// A restore, submitted once: VB365 gets at most one restore request for it.
		wizard := c.eventually("the wizard", func() response {
			return b.openWizard(mb, url.Values{"scope": {"selected"}, "item": {item.key}})
		}, func(r response) bool {
			return r.StatusCode == http.StatusOK && strings.Contains(r.body, "form") && strings.Contains(r.body, "wizard")
		})
		before := restorePOSTs()
		r := b.submitWizard(wizard, url.Values{"target": {"folder"}, "folder_name": {"Chaos"}})
		c.check("a restore", r)
		submits++
		if sent := restorePOSTs() - before; sent > 1 {
			t.Errorf("round %d: one restore was sent to VB365 %d times", round, sent)
		}
		if loc := r.Header.Get("Location"); r.StatusCode == http.StatusSeeOther && strings.HasPrefix(loc, "/restores/") {
			started = append(started, strings.TrimPrefix(loc, "/restores/"))
		}
	}
	if len(started) == 0 {
		t.Fatal("no restore started through the faults")
	}
	// The watcher follows the restores through the faults; then without.
	total, hit := len(s.veeam.Requests()), s.veeam.Faulted()
	s.veeam.ClearFaults()
	for _, id := range started {
		b.waitRestore("/restores/" + id)
	}

	var rows []map[string]string
	wait.For(t, "every end in the trail", func() bool {
		rows = auditRows(t, auditor, url.Values{"actor": {"Adele"}})
		ends := 0
		for _, r := range rows {
			if r["action"] == "restore" && r["restored"] != "" {
				ends++
			}
		}
		return ends >= len(started)
	})
	byRestore := map[string][]string{}
	gotDownloads, attempts := 0, 0
	for _, r := range rows {
		switch {
		case r["action"] == "download":
			gotDownloads++
		case r["action"] != "restore":
		case r["outcome"] == "requested" || r["restore"] == "":
			attempts++ // a restore's intent, or an attempt refused before it had one
		}
		if r["action"] == "restore" && r["restore"] != "" {
			byRestore[r["restore"]] = append(byRestore[r["restore"]], r["outcome"])
		}
	}
	if gotDownloads != downloads {
		t.Errorf("%d downloads, %d in the trail", downloads, gotDownloads)
	}
	if attempts != submits {
		t.Errorf("%d restores submitted, %d in the trail", submits, attempts)
	}
	for _, id := range started {
		outcomes := strings.Join(byRestore[id], ",")
		if outcomes != "succeeded,started,requested" && outcomes != "warning,started,requested" && outcomes != "failed,started,requested" {
			t.Errorf("restore %s in the trail (newest first): %s", id, outcomes)
		}
	}
	if share := float64(hit) / float64(total); share < 0.12 || share > 0.3 {
		t.Errorf("faults hit %d of %d requests: not about a fifth", hit, total)
	}
	t.Logf("%d downloads, %d restores submitted, %d started; faults hit %d of %d requests to VB365", downloads, submits, len(started), hit, total)
}
