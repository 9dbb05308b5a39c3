package veeamapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openrestore/portal/demotenant"
	"github.com/openrestore/portal/fakeentra"
	"github.com/openrestore/portal/fakeveeam"
	"github.com/openrestore/portal/internal/rest"
	"github.com/openrestore/portal/veeamapi"
)

// recorder keeps the body of every answer whose path ends as asked.
type recorder struct {
	next   http.RoundTripper
	mu     sync.Mutex
	bodies map[string][]byte // by path suffix
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	for suffix := range r.bodies {
		if strings.HasSuffix(req.URL.Path, suffix) {
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				return nil, err
			}
			r.mu.Lock()
			r.bodies[suffix] = b
			r.mu.Unlock()
			resp.Body = io.NopCloser(bytes.NewReader(b))
		}
	}
	return resp, nil
}

// listPages are the raw answers of the three lists a portal page is made
// of: 100 messages of Adele's Inbox, the documents of her OneDrive's
// Documents folder, and the posts of a Teams channel (as Lee).
type listPages struct{ items, docs, posts []byte }

func recordListPages(t testing.TB) listPages {
	t.Helper()
	clk := testClock(t)
	entra, err := fakeentra.Start("127.0.0.1:0", fakeentra.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { entra.Close() })
	veeam, err := fakeveeam.Start("127.0.0.1:0", fakeveeam.Options{EntraAuthority: entra.Authority(), Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { veeam.Close() })
	rec := &recorder{next: http.DefaultTransport, bodies: map[string][]byte{"/items": nil, "/Documents": nil, "/posts": nil}}
	c, err := veeamapi.New(veeam.URL(), veeamapi.WithTransport(rec))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	operator := func(upn string) *veeamapi.Operator {
		u, _ := demotenant.Contoso().User(upn)
		assertion, _ := entra.AccessTokenFor(u.UPN)
		tok, err := c.OperatorToken(ctx, u.OID, demotenant.TenantID, assertion)
		if err != nil {
			t.Fatal(err)
		}
		return c.Operator(&tokenHolder{tok: tok, r: veeamapi.NewRefresher(c)})
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	lastWeek := clk.Now().Add(-7 * 24 * time.Hour)
	explore := func(op *veeamapi.Operator, kind veeamapi.Workload) string {
		sess, err := op.Explore(ctx, veeamapi.ExploreOptions{Type: kind, DateTime: &lastWeek})
		must(err)
		return sess.ID
	}
	adele := operator("AdeleV@contoso.onmicrosoft.com")
	sid := explore(adele, veeamapi.Exchange)
	boxes, err := adele.Mailboxes(ctx, sid, veeamapi.PageOptions{})
	must(err)
	mail := adele.MailboxData(sid, boxes.Results[0].ID)
	top, err := mail.Folders(ctx, veeamapi.FoldersOptions{ParentID: "root", PageOptions: veeamapi.PageOptions{Limit: 100}})
	must(err)
	_, err = mail.Items(ctx, top.Results[0].ID, veeamapi.PageOptions{Limit: 100})
	must(err)

	sid = explore(adele, veeamapi.OneDrive)
	drives, err := adele.OneDrives(ctx, sid, veeamapi.PageOptions{})
	must(err)
	docs := adele.OneDriveDocs(sid, drives.Results[0].ID)
	folders, err := docs.Folders(ctx, "root", veeamapi.PageOptions{Limit: 100})
	must(err)
	for _, f := range folders.Results {
		if f.Name == "Documents" {
			_, err = docs.Under(ctx, veeamapi.Documents, f.ID, false, veeamapi.PageOptions{Limit: 100})
			must(err)
		}
	}

	lee := operator("LeeG@contoso.onmicrosoft.com")
	sid = explore(lee, veeamapi.Teams)
	teams, err := lee.Teams(ctx, sid, veeamapi.TeamsOptions{})
	must(err)
	for _, team := range teams.Results {
		if team.DisplayName != "Sales and Marketing" {
			continue
		}
		data := lee.TeamData(sid, team.ID)
		channels, err := data.Channels(ctx, veeamapi.PageOptions{})
		must(err)
		for _, ch := range channels.Results {
			if ch.DisplayName == "General" {
				_, err = data.Posts(ctx, ch.ID, 0, veeamapi.PageOptions{Limit: 100})
				must(err)
			}
		}
	}
	p := listPages{rec.bodies["/items"], rec.bodies["/Documents"], rec.bodies["/posts"]}
	if len(p.items) == 0 || len(p.docs) == 0 || len(p.posts) == 0 {
		t.Fatalf("not every list was read: %d, %d, %d bytes", len(p.items), len(p.docs), len(p.posts))
	}
	return p
}

// decodesAlike decodes body with encoding/json and with the client's
// decoder into a fresh T each, and fails unless both read the same.
func decodesAlike[T any](t *testing.T, name string, body []byte) {
	t.Helper()
	var want, got T
	errWant := json.Unmarshal(body, &want)
	errGot := rest.Decode(body, &got)
	if (errWant == nil) != (errGot == nil) {
		t.Fatalf("%s: encoding/json: %v; the client: %v", name, errWant, errGot)
	}
	if errWant != nil {
		return // what was read before the error is thrown away
	}
	if !reflect.DeepEqual(want, got) {
		t.Errorf("%s: the client's decoder reads\n%+v\nencoding/json reads\n%+v", name, got, want)
	}
}

// TestTheClientDecodesAsEncodingJSON holds the faster decoder the client
// uses to what encoding/json reads: the lists of the portal's busiest pages,
// as the fake (itself checked against the OpenAPI document) answers them,
// and answers with what a backed-up name or a lax server may hold.
func TestTheClientDecodesAsEncodingJSON(t *testing.T) {
	t.Parallel()
	p := recordListPages(t)
	decodesAlike[veeamapi.Page[veeamapi.Item]](t, "messages", p.items)
	decodesAlike[veeamapi.Page[veeamapi.Doc]](t, "documents", p.docs)
	decodesAlike[veeamapi.Page[veeamapi.TeamsPost]](t, "posts", p.posts)
	var items veeamapi.Page[veeamapi.Item]
	if err := rest.Decode(p.items, &items); err != nil || len(items.Results) != 100 || items.Results[0].Actions == nil {
		t.Fatalf("messages: %d, %v", len(items.Results), err)
	}
	for name, body := range map[string]string{
		"escapes and invalid UTF-8": `{"results":[{"id":"a\"b\\c\u00e9\ud83d\ude00","subject":"bad ` + "\xff\xfe" + ` bytes","_actions":{"save":{"uri":"/x"},"exportToPst":{}}}]}`,
		"names in another case":     `{"Results":[{"ID":"x","Subject":"y"}],"LIMIT":5}`,
		"a repeated name":           `{"results":[{"id":"first","id":"second"}]}`,
		"nulls":                     `{"results":[{"id":null,"sent":null,"attachments":null,"_actions":null}],"_links":null}`,
		"no actions":                `{"results":[{"id":"x","_actions":{}}]}`,
		"a time":                    `{"results":[{"sent":"2026-06-08T07:27:58.069867545+02:00"}]}`,
		"not JSON":                  `{"results":[{"id":"x"`,
		"actions not an object":     `{"results":[{"_actions":[1]}]}`,
		"a number for a string":     `{"results":[{"id":5}]}`,
	} {
		decodesAlike[veeamapi.Page[veeamapi.Item]](t, name, []byte(body))
	}
}

// BenchmarkDecode decodes the three lists with encoding/json and with the
// client's decoder.
func BenchmarkDecode(b *testing.B) {
	p := recordListPages(b)
	for _, c := range []struct {
		name string
		body []byte
		into func(capacity int) any // as the client asks for pages: results sized for the limit
	}{
		{"messages-100", p.items, func(n int) any { return &veeamapi.Page[veeamapi.Item]{Results: make([]veeamapi.Item, 0, n)} }},
		{"documents", p.docs, func(n int) any { return &veeamapi.Page[veeamapi.Doc]{Results: make([]veeamapi.Doc, 0, n)} }},
		{"posts", p.posts, func(n int) any { return &veeamapi.Page[veeamapi.TeamsPost]{Results: make([]veeamapi.TeamsPost, 0, n)} }},
	} {
		for _, d := range []struct {
			name     string
			decode   func([]byte, any) error
			capacity int
		}{{"encoding-json", json.Unmarshal, 0}, {"client", rest.Decode, 100}} {
			b.Run(c.name+"/"+d.name, func(b *testing.B) {
				b.SetBytes(int64(len(c.body)))
				b.ReportAllocs()
				for b.Loop() {
					if err := d.decode(c.body, c.into(d.capacity)); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
