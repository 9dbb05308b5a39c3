package fakeveeam

import (
	"archive/zip"
	"bufio"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Downloads: MSG for one item, a ZIP of MSGs for several, PST for an export.
// The content is generated as it is written (never held in memory) and is
// the same every time for the same items. The MSG is a MIME message with the
// attachments at their real sizes; the PST is placeholder bytes of the size a
// PST of those items would have. VB365 documents no Content-Disposition or
// Content-Length for these answers (api-notes §4): PSTs get a length, the
// others are sent chunked, so clients meet both.

// Download is a file the server sent, for tests to compare with what arrived.
type Download struct {
	Kind   string // msg, zip, pst, file (a document or attachment as it is)
	Items  int
	Size   int64
	SHA256 string
}

// Downloads lists the files served so far, in order. It first waits (up to
// five seconds) for downloads still being written: a client may have read the
// last byte of a file before the server finished recording it.
func (s *Server) Downloads() []Download {
	done := make(chan struct{})
	go func() { s.inflight.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Download(nil), s.downloads...)
}

// itemSize is what an item weighs in an export.
func itemSize(it *mailItem, ver int) int64 { return itemSizeFields(it.versions[ver].fields) }

func itemSizeFields(f *itemFields) int64 {
	n := int64(2048 + len(f.Subject) + len(f.Body))
	for _, a := range f.Attachments {
		n += a.Size
	}
	return n
}

// bytesOf streams n deterministic pseudo-random bytes seeded by key.
type bytesOf struct {
	r *rand.Rand
	n int64
}

func newBytes(key string, n int64) *bytesOf { return &bytesOf{r: rng("bytes", key), n: n} }

func (b *bytesOf) Read(p []byte) (int, error) {
	if b.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.n {
		p = p[:b.n]
	}
	for i := 0; i < len(p); i += 8 {
		v := b.r.Uint64()
		for j := 0; j < 8 && i+j < len(p); j++ {
			p[i+j] = byte(v >> (8 * j))
		}
	}
	b.n -= int64(len(p))
	return len(p), nil
}

// writeMessage writes an item as a MIME message.
func writeMessage(w io.Writer, it *mailItem, ver int) error {
	f := it.versions[ver].fields
	bw := bufio.NewWriterSize(w, 32<<10)
	boundary := "----=_Part_" + it.id[len(it.id)-16:]
	boundary = strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-' || r == '=' {
			return r
		}
		return 'x'
	}, boundary)
	fmt.Fprintf(bw, "From: %s\r\nTo: %s\r\n", oneLine(f.From), oneLine(f.To))
	if f.Cc != "" {
		fmt.Fprintf(bw, "Cc: %s\r\n", oneLine(f.Cc))
	}
	fmt.Fprintf(bw, "Subject: %s\r\nDate: %s\r\nX-Item-Class: %s\r\nMIME-Version: 1.0\r\n", oneLine(f.Subject),
		it.created.UTC().Format(time.RFC1123Z), it.kind.class())
	fmt.Fprintf(bw, "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n--%s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n",
		boundary, boundary, f.Body)
	for _, a := range f.Attachments {
		fmt.Fprintf(bw, "--%s\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=%q\r\nContent-Transfer-Encoding: base64\r\n\r\n",
			boundary, oneLine(a.Name))
		enc := base64.NewEncoder(base64.StdEncoding, &lineBreaker{w: bw})
		if _, err := io.Copy(enc, newBytes(it.id+"/"+a.Name, a.Size)); err != nil {
			return err
		}
		enc.Close()
		bw.WriteString("\r\n")
	}
	fmt.Fprintf(bw, "--%s--\r\n", boundary)
	return bw.Flush()
}

func oneLine(s string) string { return strings.NewReplacer("\r", " ", "\n", " ").Replace(s) }

// lineBreaker breaks base64 into 76-character lines.
type lineBreaker struct {
	w   io.Writer
	col int
}

func (l *lineBreaker) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		k := min(76-l.col, len(p))
		if _, err := l.w.Write(p[:k]); err != nil {
			return n, err
		}
		n, p, l.col = n+k, p[k:], l.col+k
		if l.col == 76 {
			if _, err := l.w.Write([]byte("\r\n")); err != nil {
				return n, err
			}
			l.col = 0
		}
	}
	return n, nil
}

// streamDownload sends a generated file and records it.
func (s *Server) streamDownload(w http.ResponseWriter, kind string, items int, size int64, write func(io.Writer) error) {
	s.inflight.Add(1)
	defer s.inflight.Done()
	w.Header().Set("Content-Type", "application/octet-stream")
	if size > 0 {
		w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	}
	w.WriteHeader(http.StatusOK)
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(w, h)}
	if err := write(cw); err != nil {
		return // the client went away
	}
	s.recordDownload(kind, items, cw.n, h)
}

func (s *Server) recordDownload(kind string, items int, n int64, h hash.Hash) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.downloads = append(s.downloads, Download{Kind: kind, Items: items, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))})
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// downloadable checks the caller may download at all.
func (s *Server) downloadable(w http.ResponseWriter, c *caller) bool {
	if !s.mayDownload(c) {
		forbidden(w, "Saving and exporting items is not allowed for this operator.")
		return false
	}
	return true
}

// itemsOf resolves the ids of a save or export body against the restore point.
func (s *Server) itemsOf(w http.ResponseWriter, r *http.Request, rs *restoreSession, m *mailboxData) ([]itemRef, bool) {
	var body struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		badRequest(w, "The request body could not be read.")
		return nil, false
	}
	if len(body.Items) == 0 {
		badRequest(w, "Specify the items.")
		return nil, false
	}
	s.mu.Lock()
	point, showDeleted := rs.point.BackupTime, rs.showDeleted
	s.mu.Unlock()
	var refs []itemRef
	for _, x := range body.Items {
		it, ver, ok := m.lookup(x.ID, point, showDeleted)
		if !ok {
			notFound(w, fmt.Sprintf("Item %s was not found in the restore point.", x.ID))
			return nil, false
		}
		refs = append(refs, itemRef{it, ver, x.ID})
	}
	return refs, true
}

// saveItem is POST …/items/{itemId}/save: one item as MSG.
func (s *Server) saveItem(w http.ResponseWriter, r *http.Request, rs *restoreSession, m *mailboxData, c *caller) {
	if !s.downloadable(w, c) {
		return
	}
	s.mu.Lock()
	point, showDeleted := rs.point.BackupTime, rs.showDeleted
	s.mu.Unlock()
	it, ver, ok := m.lookup(r.PathValue("itemId"), point, showDeleted)
	if !ok {
		notFound(w, "The item with the specified ID was not found.")
		return
	}
	s.streamDownload(w, "msg", 1, 0, func(out io.Writer) error { return writeMessage(out, it, ver) })
}

// saveItems is POST …/items/Save: several items as a ZIP of MSGs.
func (s *Server) saveItems(w http.ResponseWriter, r *http.Request, rs *restoreSession, m *mailboxData, c *caller) {
	if !s.downloadable(w, c) {
		return
	}
	refs, ok := s.itemsOf(w, r, rs, m)
	if !ok {
		return
	}
	s.streamDownload(w, "zip", len(refs), 0, func(out io.Writer) error {
		zw := zip.NewWriter(out)
		used := map[string]int{}
		for _, ref := range refs {
			name := msgName(ref.item.versions[ref.version].fields.Subject)
			if used[name]++; used[name] > 1 {
				name = fmt.Sprintf("%s (%d).msg", strings.TrimSuffix(name, ".msg"), used[name])
			}
			fw, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: ref.item.created})
			if err != nil {
				return err
			}
			if err := writeMessage(fw, ref.item, ref.version); err != nil {
				return err
			}
		}
		return zw.Close()
	})
}

// msgName is a safe file name for an item in a ZIP.
func msgName(subject string) string {
	name := strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || strings.ContainsRune(`/\:*?"<>|`, r) {
			return '_'
		}
		return r
	}, subject)
	name = strings.Trim(name, ". ")
	if r := []rune(name); len(r) > 100 {
		name = string(r[:100])
	}
	if name == "" {
		name = "item"
	}
	return name + ".msg"
}

// exportPST streams a PST of the given items.
func (s *Server) exportPST(w http.ResponseWriter, key string, refs []itemRef) {
	size := int64(256<<10) + s.opts.ExportPadding
	for _, ref := range refs {
		size += itemSize(ref.item, ref.version) * 11 / 10
	}
	s.streamDownload(w, "pst", len(refs), size, func(out io.Writer) error {
		if _, err := io.WriteString(out, "!BDN"); err != nil {
			return err
		}
		_, err := io.CopyBuffer(out, newBytes("pst/"+key, size-4), make([]byte, 64<<10))
		return err
	})
}

// exportItems is POST …/items/exportToPst.
func (s *Server) exportItems(w http.ResponseWriter, r *http.Request, rs *restoreSession, m *mailboxData, c *caller) {
	if !s.downloadable(w, c) {
		return
	}
	refs, ok := s.itemsOf(w, r, rs, m)
	if !ok {
		return
	}
	var ids []string
	for _, ref := range refs {
		ids = append(ids, ref.id)
	}
	s.exportPST(w, strings.Join(ids, ","), refs)
}

// exportItem is POST …/items/{itemId}/exportToPst.
func (s *Server) exportItem(w http.ResponseWriter, r *http.Request, rs *restoreSession, m *mailboxData, c *caller) {
	if !s.downloadable(w, c) {
		return
	}
	s.mu.Lock()
	point, showDeleted := rs.point.BackupTime, rs.showDeleted
	s.mu.Unlock()
	id := r.PathValue("itemId")
	it, ver, ok := m.lookup(id, point, showDeleted)
	if !ok {
		notFound(w, "The item with the specified ID was not found.")
		return
	}
	s.exportPST(w, id, []itemRef{{it, ver, id}})
}

// exportFolder is POST …/folders/{folderId}/exportToPst, and with no folder
// POST …/exportToPst for the whole mailbox.
func (s *Server) exportFolder(w http.ResponseWriter, r *http.Request, rs *restoreSession, m *mailboxData, c *caller) {
	if !s.downloadable(w, c) {
		return
	}
	folder := r.PathValue("folderId")
	if folder != "" && m.folder[folder] == nil {
		notFound(w, "The folder with the specified ID was not found.")
		return
	}
	s.exportPST(w, m.id+"/"+folder, s.visible(rs, m, folder))
}
