package handlers

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/openrestore/portal/templates"
	"github.com/openrestore/portal/veeamapi"
)

// pageOfItems is a page of 100 messages shaped like the fake's: long
// EWS-style ids, senders with addresses, some attachments.
func pageOfItems() []veeamapi.Item {
	items := make([]veeamapi.Item, 100)
	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	for i := range items {
		received := t0.Add(-time.Duration(i) * 97 * time.Minute)
		sent := received.Add(-2 * time.Minute)
		items[i] = veeamapi.Item{
			ID:        fmt.Sprintf("AAMkAGI2ZjVmAEYOPp/48Sfwpg5mFgNYPAXjSc905E+zWvDGJXDsiP0ZeXIqzyTqi6zHVMJ2nt8DKxb9ry/QcpDBrZwGao/%06d=", i),
			ItemClass: "IPM.Note", Subject: fmt.Sprintf("Quarterly review %d: <draft> & notes", i),
			From: "Megan Bowen <MeganB@contoso.onmicrosoft.com>", To: "Adele Vance <AdeleV@contoso.onmicrosoft.com>",
			Sent: &sent, Received: &received, Importance: "Normal",
			Actions: veeamapi.Actions{"save", "exportToPst"},
		}
		if i%3 == 0 {
			items[i].Attachments = []veeamapi.Attachment{{Name: "Review.pdf", SizeBytes: 123456}}
		}
	}
	return items
}

// BenchmarkRenderItemPage is the server's work to lay out and render a
// mailbox page listing 100 items, once the data has arrived.
func BenchmarkRenderItemPage(b *testing.B) {
	render := itemPageRenderer(b)
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		render(&buf)
	}
	b.ReportMetric(float64(buf.Len())/1024, "page-KiB")
}

// itemPageRenderer returns what lays out and renders a mailbox page of 100
// items (the data as VB365 answered it) into a buffer.
func itemPageRenderer(b *testing.B) func(*bytes.Buffer) {
	items := pageOfItems()
	ref := mailboxRef{base: "/sessions/9c76df08-7f34-47ca-93e2-1759dfc5e93c/mailboxes/e472c23a-534c-590f-92f8-7c86c02a2d0f"}
	paris, _ := time.LoadLocation("Europe/Paris")
	folders := make([]veeamapi.Folder, 12)
	for i := range folders {
		folders[i] = veeamapi.Folder{ID: fmt.Sprintf("AAMkAGI2FolderFolderFolder%02d=", i), Name: fmt.Sprintf("Folder %d", i)}
	}
	meta := templates.Meta{Title: "Inbox", User: &templates.UserView{Name: "Adele Vance", UPN: "AdeleV@contoso.onmicrosoft.com"},
		TimeZone: "Europe/Paris", Assets: func(s string) string { return "/static/" + s }}
	return func(buf *bytes.Buffer) {
		list := templates.ItemListView{Caption: "Items", Rows: itemRows(ref, items, paris, ""), RestoreURL: ref.base + "/restore/new",
			DownloadURL: ref.base + "/download", CanZip: true, CanPST: true}
		v := templates.MailboxView{Name: "Adele Vance", Email: "AdeleV@contoso.onmicrosoft.com", Heading: "Inbox",
			Folders: folderNodes(ref, folders, folders[0].ID), List: &list, Search: templates.SearchView{Action: ref.base + "/search"}}
		if err := templates.MailboxPage(meta, v).Render(context.Background(), buf); err != nil {
			b.Fatal(err)
		}
	}
}

// pageOfDocs is a page of 100 OneDrive documents shaped like the fake's.
func pageOfDocs() []veeamapi.Doc {
	docs := make([]veeamapi.Doc, 100)
	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	exts := []string{"docx", "xlsx", "pptx", "pdf", "png"}
	for i := range docs {
		size := int64(10_000 + i*7_919)
		modified := t0.Add(-time.Duration(i) * 211 * time.Minute)
		docs[i] = veeamapi.Doc{
			ID: fmt.Sprintf("b6f2a1c4-5d3e-5f7a-9b8c-%012d", i), Name: fmt.Sprintf("Project plan %d <draft> & notes.%s", i, exts[i%len(exts)]),
			SizeBytes: &size, Version: "3.0", CreatedBy: "Megan Bowen", CreationTime: modified.Add(-72 * time.Hour),
			ModifiedBy: "Adele Vance", ModificationTime: modified, IsFolder: i < 8,
			Links:   map[string]veeamapi.Link{"self": {Href: "/v8/RestoreSessions/x/Organization/OneDrives/y/Documents/z"}},
			Actions: veeamapi.Actions{"save"},
		}
	}
	return docs
}

// BenchmarkRenderDocumentPage is the server's work to lay out and render a
// OneDrive folder page listing 100 documents and folders, once the data has arrived.
func BenchmarkRenderDocumentPage(b *testing.B) {
	docs := pageOfDocs()
	ref := docsRef{workload: "onedrive", base: "/sessions/9c76df08-7f34-47ca-93e2-1759dfc5e93c/onedrives/ZTU5NThmYTYtYTljZS01Zjk2LWI1MjUtYTE1ZmFjYWYxMWY3"}
	paris, _ := time.LoadLocation("Europe/Paris")
	top := make([]veeamapi.Doc, 10)
	for i := range top {
		top[i] = veeamapi.Doc{ID: fmt.Sprintf("f1e2d3c4-0000-5000-8000-%012d", i), Name: fmt.Sprintf("Folder %d", i), IsFolder: true}
	}
	meta := templates.Meta{Title: "Documents", User: &templates.UserView{Name: "Megan Bowen", UPN: "MeganB@contoso.onmicrosoft.com"},
		TimeZone: "Europe/Paris", Assets: func(s string) string { return "/static/" + s }, Wide: true}
	h := &Handler{}
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		list := templates.DocListView{Caption: "Documents and folders", NameHeader: "Name", ShowSize: true,
			RestoreURL: ref.base + "/restore/new", DownloadURL: ref.base + "/download", CanDownload: true,
			Rows: docRows(ref, docs, paris, "")}
		v := templates.DocsView{Title: "Megan Bowen", Subtitle: "https://contoso-my.sharepoint.com/personal/meganb_contoso_onmicrosoft_com",
			TreeLabel: "Folders", Tree: h.folderTree(ref, top), Heading: "Documents",
			Crumbs: []templates.Crumb{{Name: "OneDrive", URL: ref.rootURL()}, {Name: "Documents", URL: ref.nodeURL(nodeFolder, top[0].ID)}},
			List:   &list, Search: h.docSearchView(ref, paris)}
		if err := templates.DocsPage(meta, v).Render(context.Background(), &buf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len())/1024, "page-KiB")
}
