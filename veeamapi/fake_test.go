package veeamapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/openrestore/portal/demotenant"
	"github.com/openrestore/portal/fakeentra"
	"github.com/openrestore/portal/fakeveeam"
	"github.com/openrestore/portal/internal/clock"
	"github.com/openrestore/portal/internal/spectest"
	"github.com/openrestore/portal/internal/wait"
	"github.com/openrestore/portal/veeamapi"
)

// tokenHolder is the simplest TokenSource: one pair, refreshed through a Refresher.
type tokenHolder struct {
	tok *veeamapi.Token
	r   *veeamapi.Refresher
}

func (h *tokenHolder) Token(context.Context) (string, error) { return h.tok.AccessToken, nil }

func (h *tokenHolder) Refresh(ctx context.Context, _ string) (string, error) {
	tok, err := h.r.Refresh(ctx, h.tok.RefreshToken)
	if err != nil {
		return "", err
	}
	h.tok = tok
	return tok.AccessToken, nil
}

// TestAgainstTheFakeServer runs the client against fakeveeam, with every
// exchange checked against the OpenAPI document: the two independent readings
// of the spec have to agree with it and with each other.
func TestAgainstTheFakeServer(t *testing.T) {
	t.Parallel()
	spec := spectest.Load(t)
	clk := testClock(t)
	entra, err := fakeentra.Start("127.0.0.1:0", fakeentra.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer entra.Close()
	veeam, err := fakeveeam.Start("127.0.0.1:0", fakeveeam.Options{EntraAuthority: entra.Authority(), Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer veeam.Close()
	c, err := veeamapi.New(veeam.URL(), veeamapi.WithTransport(spec.Transport(t, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()

	settings, err := c.RestorePortalSettings(ctx)
	if err != nil || settings.ApplicationID != demotenant.ApplicationID || settings.MSALAuthorityURI != entra.Authority() {
		t.Fatalf("settings = %+v, %v", settings, err)
	}
	lee, _ := demotenant.Contoso().User("LeeG@contoso.onmicrosoft.com")
	assertion, err := entra.AccessTokenFor(lee.UPN)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.OperatorToken(ctx, lee.OID, demotenant.TenantID, assertion)
	if err != nil {
		t.Fatal(err)
	}
	holder := &tokenHolder{tok: tok, r: veeamapi.NewRefresher(c)}
	op := c.Operator(holder)

	info, err := op.OperatorInfo(ctx)
	if err != nil || !info.IsOperator {
		t.Fatalf("operator info = %+v, %v", info, err)
	}
	scope, err := op.EffectiveScope(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var group *veeamapi.ScopeItem
	for i, it := range scope.Users {
		if it.Type == veeamapi.ScopeGroup {
			group = &scope.Users[i]
		}
	}
	if group == nil || len(scope.Sites) != 3 {
		t.Fatalf("scope = %+v", scope)
	}
	points, err := op.RestorePoints(ctx, veeamapi.RestorePointsOptions{ScopeItemID: group.ID})
	if err != nil || len(points) == 0 {
		t.Fatalf("points: %d, %v", len(points), err)
	}
	var mail veeamapi.RestorePoint
	for _, p := range points {
		if p.Covers(veeamapi.Exchange) {
			mail = p
		}
	}
	sess, err := op.Explore(ctx, veeamapi.ExploreOptions{
		Type: veeamapi.Exchange, DateTime: &mail.BackupTime, RepositoryID: mail.RepositoryID,
		Scope: &veeamapi.ScopeItem{Type: veeamapi.ScopeGroup, ID: group.ID},
	})
	if err != nil || sess.State != veeamapi.SessionWorking {
		t.Fatalf("explore = %+v, %v", sess, err)
	}
	var names []string
	for opts := (veeamapi.PageOptions{Limit: 2}); ; {
		p, err := op.Mailboxes(ctx, sess.ID, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range p.Results {
			names = append(names, m.Name)
		}
		next, ok := p.Next()
		if !ok {
			break
		}
		opts = next
	}
	if len(names) != 6 {
		t.Errorf("Sales mailboxes = %v", names)
	}
	if _, err := op.OneDrives(ctx, sess.ID, veeamapi.PageOptions{}); !errors.Is(err, veeamapi.ErrBadRequest) {
		t.Errorf("OneDrives in an Exchange session: %v", err)
	}

	// The token expires early on the server: the next call refreshes once and goes on.
	veeam.ExpireAccessTokens()
	if _, err := op.RestoreSession(ctx, sess.ID); err != nil {
		t.Fatalf("after server-side expiry: %v", err)
	}
	if n := veeam.TokenRequests("refresh_token"); n != 1 {
		t.Errorf("refreshes = %d, want 1", n)
	}
	if err := op.StopRestoreSession(ctx, sess.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := op.Mailboxes(ctx, sess.ID, veeamapi.PageOptions{}); !errors.Is(err, veeamapi.ErrConflict) {
		t.Errorf("listing a stopped session: %v", err)
	}
	events, err := op.RestoreSessionEvents(ctx, sess.ID, veeamapi.PageOptions{})
	if err != nil || len(events.Results) != 2 {
		t.Errorf("events = %+v, %v", events, err)
	}
	if err := c.Logout(ctx, holder.tok.AccessToken); err != nil {
		t.Fatal(err)
	}
	if _, err := op.LoggedInUser(ctx); !errors.Is(err, veeamapi.ErrGrantRejected) {
		t.Errorf("after logout: %v", err)
	}
}

// testClock is the clock the fakes run on in these tests.
func testClock(t testing.TB) *clock.Clock {
	t.Helper()
	c, err := clock.ForTests(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestExchangeAgainstTheFakeServer walks the Exchange calls the portal makes.
func TestExchangeAgainstTheFakeServer(t *testing.T) {
	t.Parallel()
	spec := spectest.Load(t)
	clk := testClock(t)
	entra, err := fakeentra.Start("127.0.0.1:0", fakeentra.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer entra.Close()
	veeam, err := fakeveeam.Start("127.0.0.1:0", fakeveeam.Options{EntraAuthority: entra.Authority(), Now: clk.Now, RestoreItemDuration: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer veeam.Close()
	c, err := veeamapi.New(veeam.URL(), veeamapi.WithTransport(spec.Transport(t, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	adele, _ := demotenant.Contoso().User("AdeleV@contoso.onmicrosoft.com")
	assertion, _ := entra.AccessTokenFor(adele.UPN)
	tok, err := c.OperatorToken(ctx, adele.OID, demotenant.TenantID, assertion)
	if err != nil {
		t.Fatal(err)
	}
	op := c.Operator(&tokenHolder{tok: tok, r: veeamapi.NewRefresher(c)})
	lastWeek := clk.Now().Add(-7 * 24 * time.Hour)
	sess, err := op.Explore(ctx, veeamapi.ExploreOptions{Type: veeamapi.Exchange, DateTime: &lastWeek})
	if err != nil {
		t.Fatal(err)
	}
	boxes, err := op.Mailboxes(ctx, sess.ID, veeamapi.PageOptions{})
	if err != nil || len(boxes.Results) != 2 {
		t.Fatalf("mailboxes: %v %v", boxes, err)
	}
	mb := boxes.Results[0].ID
	if m, err := op.MailboxData(sess.ID, mb).Mailbox(ctx); err != nil || m.Name != "Adele Vance" {
		t.Fatalf("mailbox: %+v %v", m, err)
	}
	top, err := op.MailboxData(sess.ID, mb).Folders(ctx, veeamapi.FoldersOptions{ParentID: "root", PageOptions: veeamapi.PageOptions{Limit: 100}})
	if err != nil || len(top.Results) < 10 {
		t.Fatalf("folders: %v", err)
	}
	inbox := top.Results[0]
	if f, err := op.MailboxData(sess.ID, mb).Folder(ctx, inbox.ID); err != nil || f.Name != "Inbox" {
		t.Fatalf("folder: %+v %v", f, err)
	}
	items, err := op.MailboxData(sess.ID, mb).Items(ctx, inbox.ID, veeamapi.PageOptions{Limit: 10})
	if err != nil || len(items.Results) != 10 {
		t.Fatalf("items: %v", err)
	}
	first := items.Results[0]
	if it, err := op.MailboxData(sess.ID, mb).Item(ctx, first.ID); err != nil || it.ID != first.ID || it.Kind() != veeamapi.KindMessage {
		t.Fatalf("item: %+v %v", it, err)
	}
	found, err := op.MailboxData(sess.ID, mb).Search(ctx, "", `subject:"`+fakeveeam.StoryDeletedSubject+`"`, veeamapi.PageOptions{})
	if err != nil || len(found.Results) != 1 || !found.Results[0].Can("save") {
		t.Fatalf("search: %v %v", found, err)
	}
	if _, err := op.MailboxData(sess.ID, mb).Search(ctx, "", `subject:"unclosed`, veeamapi.PageOptions{}); !errors.Is(err, veeamapi.ErrBadRequest) {
		t.Errorf("malformed query: %v", err)
	}
	restore, err := op.MailboxData(sess.ID, mb).Restore(ctx, veeamapi.RestoreItemsOptions{Items: []string{found.Results[0].ID}, DeletedItems: true, Reason: "deleted by mistake"})
	if err != nil {
		t.Fatal(err)
	}
	var stats *veeamapi.Statistics
	wait.For(t, "the message to be restored", func() bool {
		if stats, err = op.RestoreSessionStatistics(ctx, restore); err != nil {
			t.Fatal(err)
		}
		return stats.Restored == 1
	})
	if rs, err := op.RestoreSession(ctx, restore); err != nil || rs.State != veeamapi.SessionStopped || rs.Reason != "deleted by mistake" {
		t.Errorf("restore session = %+v %v", rs, err)
	}

	// A download arrives exactly as the server sent it.
	d, err := op.MailboxData(sess.ID, mb).SaveItem(ctx, found.Results[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	n, err := io.Copy(h, d.Body)
	d.Body.Close()
	sent := veeam.Downloads()
	if err != nil || n != sent[0].Size || hex.EncodeToString(h.Sum(nil)) != sent[0].SHA256 {
		t.Errorf("download: %d bytes, %v; server sent %+v", n, err, sent[0])
	}
	for _, dl := range []func() (*veeamapi.Download, error){
		func() (*veeamapi.Download, error) {
			return op.MailboxData(sess.ID, mb).SaveItems(ctx, []string{first.ID, items.Results[1].ID})
		},
		func() (*veeamapi.Download, error) {
			return op.MailboxData(sess.ID, mb).ExportItems(ctx, []string{first.ID})
		},
		func() (*veeamapi.Download, error) {
			return op.MailboxData(sess.ID, mb).ExportFolder(ctx, top.Results[5].ID)
		},
	} {
		d, err := dl()
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, d.Body)
		d.Body.Close()
	}
	if got := len(veeam.Downloads()); got != 4 {
		t.Errorf("%d downloads recorded", got)
	}
}

// TestDocumentsAgainstTheFakeServer browses, searches, restores and
// downloads OneDrive and SharePoint documents through the client, every
// exchange checked against the OpenAPI document.
func TestDocumentsAgainstTheFakeServer(t *testing.T) {
	t.Parallel()
	spec := spectest.Load(t)
	clk := testClock(t)
	entra, err := fakeentra.Start("127.0.0.1:0", fakeentra.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer entra.Close()
	veeam, err := fakeveeam.Start("127.0.0.1:0", fakeveeam.Options{EntraAuthority: entra.Authority(), Now: clk.Now, RestoreItemDuration: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer veeam.Close()
	c, err := veeamapi.New(veeam.URL(), veeamapi.WithTransport(spec.Transport(t, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	lee, _ := demotenant.Contoso().User("LeeG@contoso.onmicrosoft.com")
	assertion, err := entra.AccessTokenFor(lee.UPN)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.OperatorToken(ctx, lee.OID, demotenant.TenantID, assertion)
	if err != nil {
		t.Fatal(err)
	}
	op := c.Operator(&tokenHolder{tok: tok, r: veeamapi.NewRefresher(c)})
	wait := func(id string) *veeamapi.Statistics {
		t.Helper()
		wait.For(t, "the restore to end", func() bool {
			rs, err := op.RestoreSession(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			return rs.State == veeamapi.SessionStopped
		})
		st, err := op.RestoreSessionStatistics(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	weekAgo := clk.Now().Add(-5 * 24 * time.Hour)

	// OneDrive: Megan's, as Lee (the Sales helpdesk).
	sess, err := op.Explore(ctx, veeamapi.ExploreOptions{Type: veeamapi.OneDrive, DateTime: &weekAgo})
	if err != nil {
		t.Fatal(err)
	}
	megan, _ := demotenant.Contoso().User("MeganB@contoso.onmicrosoft.com")
	docs := op.OneDriveDocs(sess.ID, fakeveeam.OneDriveID(megan.OID))
	if od, err := docs.OneDrive(ctx); err != nil || od.Name != "Megan Bowen" {
		t.Fatalf("OneDrive: %+v %v", od, err)
	}
	top, err := docs.Folders(ctx, "root", veeamapi.PageOptions{Limit: 100})
	if err != nil || len(top.Results) == 0 {
		t.Fatalf("folders: %v", err)
	}
	found, err := docs.Search(ctx, veeamapi.SearchIn{}, `filename:"Q3 budget"`, "Documents", veeamapi.PageOptions{})
	if err != nil || len(found.Results) != 1 {
		t.Fatalf("search: %+v %v", found, err)
	}
	budget := found.Results[0]
	if versions, err := docs.Versions(ctx, veeamapi.Documents, budget.ID, veeamapi.PageOptions{}); err != nil || len(versions.Results) != 2 {
		t.Errorf("versions: %v", err)
	}
	folder, err := docs.Folder(ctx, top.Results[0].ID)
	if err != nil || !folder.IsFolder {
		t.Errorf("folder: %+v %v", folder, err)
	}
	id, err := docs.RestoreOneDrive(ctx, veeamapi.OneDriveRestoreOptions{Docs: []veeamapi.DocRestore{{Doc: budget}}, Keep: true, Reason: "overwritten"})
	if err != nil {
		t.Fatal(err)
	}
	if st := wait(id); st.Restored != 1 || len(st.Items) != 1 || st.Items[0].Type != "BulkOneDrive" {
		t.Errorf("statistics: %+v", st)
	}
	for _, dl := range []func() (*veeamapi.Download, error){
		func() (*veeamapi.Download, error) { return docs.SaveDocument(ctx, budget.ID, 0, false) },
		func() (*veeamapi.Download, error) { return docs.SaveDocument(ctx, budget.ID, 1, true) },
		func() (*veeamapi.Download, error) { return docs.SaveDocuments(ctx, []veeamapi.Doc{budget}) },
		func() (*veeamapi.Download, error) { return docs.SaveFolder(ctx, folder.ID) },
		func() (*veeamapi.Download, error) { return docs.SaveFolders(ctx, []veeamapi.Doc{*folder}) },
	} {
		d, err := dl()
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		n, _ := io.Copy(h, d.Body)
		d.Body.Close()
		sent := veeam.Downloads()
		if last := sent[len(sent)-1]; last.Size != n || last.SHA256 != hex.EncodeToString(h.Sum(nil)) {
			t.Errorf("download of %d bytes; the server sent %+v", n, last)
		}
	}

	// SharePoint: the Sales and Marketing site.
	sp, err := op.Explore(ctx, veeamapi.ExploreOptions{Type: veeamapi.SharePoint, DateTime: &weekAgo})
	if err != nil {
		t.Fatal(err)
	}
	var siteID string
	for _, s := range demotenant.Contoso().Sites {
		if s.Title == "Sales and Marketing" {
			siteID = s.ID
		}
	}
	site := op.SiteDocs(sp.ID, siteID)
	libs, err := site.Libraries(ctx, veeamapi.PageOptions{})
	if err != nil || len(libs.Results) != 1 {
		t.Fatalf("libraries: %v", err)
	}
	lists, err := site.Lists(ctx, veeamapi.PageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var visits veeamapi.List
	for _, l := range lists.Results {
		if l.Name == fakeveeam.StoryVisitsList {
			visits = l
		}
	}
	items, err := site.Search(ctx, veeamapi.SearchIn{List: visits.ID}, `title:"`+fakeveeam.StoryDeletedListItem+`"`, "Items", veeamapi.PageOptions{})
	if err != nil || len(items.Results) != 1 {
		t.Fatalf("list search: %+v %v", items, err)
	}
	item := items.Results[0]
	if atts, err := site.Attachments(ctx, item.ID, veeamapi.PageOptions{}); err != nil || len(atts.Results) != 2 {
		t.Errorf("attachments: %v", err)
	}
	id, err = site.RestoreSharePoint(ctx, veeamapi.Items, veeamapi.SharePointRestoreOptions{Docs: []veeamapi.DocRestore{{Doc: item}},
		Changed: true, Deleted: true, Reason: "Ticket 12"})
	if err != nil {
		t.Fatal(err)
	}
	if st := wait(id); st.Restored != 1 {
		t.Errorf("item restore: %+v", st)
	}
	libDocs, err := site.Under(ctx, veeamapi.Documents, libs.Results[0].ID, true, veeamapi.PageOptions{Limit: 50})
	if err != nil || len(libDocs.Results) == 0 {
		t.Fatalf("library documents: %v", err)
	}
	var doc veeamapi.Doc
	for _, d := range libDocs.Results {
		if !d.IsFolder {
			doc = d
		}
	}
	id, err = site.RestoreSharePoint(ctx, veeamapi.Documents, veeamapi.SharePointRestoreOptions{Docs: []veeamapi.DocRestore{{Doc: doc, AllVersions: true}},
		Changed: true, Deleted: true, Merge: true})
	if err != nil {
		t.Fatal(err)
	}
	wait(id)
	d, err := site.SaveAttachments(ctx, item.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, d.Body)
	d.Body.Close()
	d, err = site.SaveLibrary(ctx, libs.Results[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, d.Body)
	d.Body.Close()
}

func TestTeamsAgainstTheFakeServer(t *testing.T) {
	t.Parallel()
	spec := spectest.Load(t)
	clk := testClock(t)
	entra, err := fakeentra.Start("127.0.0.1:0", fakeentra.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer entra.Close()
	veeam, err := fakeveeam.Start("127.0.0.1:0", fakeveeam.Options{EntraAuthority: entra.Authority(), Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer veeam.Close()
	c, err := veeamapi.New(veeam.URL(), veeamapi.WithTransport(spec.Transport(t, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	lee, _ := demotenant.Contoso().User("LeeG@contoso.onmicrosoft.com")
	assertion, err := entra.AccessTokenFor(lee.UPN)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.OperatorToken(ctx, lee.OID, demotenant.TenantID, assertion)
	if err != nil {
		t.Fatal(err)
	}
	op := c.Operator(&tokenHolder{tok: tok, r: veeamapi.NewRefresher(c)})
	s, err := op.Explore(ctx, veeamapi.ExploreOptions{Type: veeamapi.Teams})
	if err != nil {
		t.Fatal(err)
	}
	teams, err := op.Teams(ctx, s.ID, veeamapi.TeamsOptions{DisplayName: "Sales and Marketing"})
	if err != nil || len(teams.Results) != 1 {
		t.Fatalf("teams: %v %v", teams, err)
	}
	td := op.TeamData(s.ID, teams.Results[0].ID)
	if tm, err := td.Team(ctx); err != nil || tm.Privacy != "Private" {
		t.Errorf("team: %+v %v", tm, err)
	}
	chans, err := td.Channels(ctx, veeamapi.PageOptions{Limit: 50})
	if err != nil || len(chans.Results) < 4 {
		t.Fatalf("channels: %v %v", chans, err)
	}
	general := chans.Results[0]
	if ch, err := td.Channel(ctx, general.ID); err != nil || ch.DisplayName != "General" {
		t.Errorf("channel: %+v %v", ch, err)
	}
	posts, err := td.Posts(ctx, general.ID, 0, veeamapi.PageOptions{Limit: 100})
	if err != nil || len(posts.Results) == 0 {
		t.Fatalf("posts: %v", err)
	}
	var thread *veeamapi.TeamsPost
	for i, p := range posts.Results {
		if p.Subject == fakeveeam.StoryThread {
			thread = &posts.Results[i]
		}
	}
	if thread == nil {
		t.Fatal("no story thread")
	}
	replies, err := td.Posts(ctx, general.ID, thread.PostID, veeamapi.PageOptions{})
	if err != nil || len(replies.Results) != fakeveeam.StoryThreadPosts-1 || replies.Results[0].ParentID == nil || *replies.Results[0].ParentID != thread.PostID {
		t.Errorf("replies: %v", err)
	}
	if p, err := td.Post(ctx, general.ID, thread.PostID); err != nil || len(p.Attachments) != 1 {
		t.Errorf("post: %+v %v", p, err)
	}
	files, err := td.Files(ctx, general.ID, "", veeamapi.PageOptions{})
	if err != nil || len(files.Results) == 0 || !files.Results[0].IsFolder() {
		t.Fatalf("files: %v", err)
	}
	var file *veeamapi.TeamsFile
	for i := range files.Results {
		if !files.Results[i].IsFolder() {
			file = &files.Results[i]
		}
	}
	if f, err := td.File(ctx, general.ID, file.ID); err != nil || f.Name != file.Name {
		t.Errorf("file: %v", err)
	}
	if v, err := td.FileVersions(ctx, general.ID, file.ID, veeamapi.PageOptions{}); err != nil || len(v.Results) != file.Version {
		t.Errorf("versions: %v", err)
	}
	if tabs, err := td.Tabs(ctx, general.ID, veeamapi.PageOptions{}); err != nil || len(tabs.Results) == 0 {
		t.Errorf("tabs: %v", err)
	}
	// Export the thread: a task, a one-time code, the HTML; the code works once.
	task, err := td.StartPostsExport(ctx, append([]veeamapi.TeamsPost{*thread}, replies.Results...))
	if err != nil {
		t.Fatal(err)
	}
	code, err := op.AuthCode(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d, err := td.DownloadPostsExport(ctx, task, code)
	if err != nil {
		t.Fatal(err)
	}
	html, _ := io.ReadAll(d.Body)
	d.Body.Close()
	if n := strings.Count(string(html), `<article class="post"`); n != fakeveeam.StoryThreadPosts {
		t.Errorf("%d posts exported", n)
	}
	if _, err := td.DownloadPostsExport(ctx, task, code); !errors.Is(err, veeamapi.ErrForbidden) {
		t.Errorf("a reused code: %v", err)
	}
	if _, err := op.TeamData(s.ID, demotenant.ID("team", "Retail")).Channels(ctx, veeamapi.PageOptions{}); !errors.Is(err, veeamapi.ErrNotFound) {
		t.Errorf("a team outside the scope: %v", err)
	}
}
