package handlers

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCompressPages(t *testing.T) {
	t.Parallel()
	page := strings.Repeat("<tr><td>Quarterly budget review</td><td>Adele Vance</td></tr>\n", 500)
	for _, c := range []struct {
		name, accept, contentType string
		status                    int
		gzipped                   bool
	}{
		{"a page", "gzip, br", "text/html; charset=utf-8", 200, true},
		{"an error page", "gzip", "text/html; charset=utf-8", 500, true},
		{"a browser without gzip", "identity", "text/html; charset=utf-8", 200, false},
		{"gzip refused", "gzip;q=0, br", "text/html; charset=utf-8", 200, false},
		{"a download", "gzip", "application/vnd.ms-outlook", 200, false},
		{"a CSV", "gzip", "text/csv; charset=utf-8", 200, false},
		{"not modified", "gzip", "text/html; charset=utf-8", 304, false},
	} {
		h := compressPages(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", c.contentType)
			w.WriteHeader(c.status)
			if c.status != 304 {
				io.WriteString(w, page)
			}
		}))
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("Accept-Encoding", c.accept)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		gzipped := rec.Header().Get("Content-Encoding") == "gzip"
		if gzipped != c.gzipped {
			t.Errorf("%s: gzipped %v", c.name, gzipped)
			continue
		}
		body := rec.Body.Bytes()
		if gzipped {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			body, _ = io.ReadAll(zr)
			if !strings.Contains(strings.Join(rec.Header().Values("Vary"), ","), "Accept-Encoding") {
				t.Errorf("%s: no Vary", c.name)
			}
		}
		if c.status != 304 && string(body) != page {
			t.Errorf("%s: the body changed", c.name)
		}
	}
}

// TestCompressedFlush: what a handler flushes reaches the client
// compressed, before the handler goes on.
func TestCompressedFlush(t *testing.T) {
	t.Parallel()
	first := strings.Repeat("<p>Restoring 1,204 items…</p>\n", 100)
	rec := httptest.NewRecorder()
	h := compressPages(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, first)
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(rec.Body.Bytes()))
		if err != nil {
			t.Fatalf("nothing compressed reached the client at the flush: %v", err)
		}
		got := make([]byte, len(first))
		if _, err := io.ReadFull(zr, got); err != nil || string(got) != first {
			t.Errorf("at the flush the client can read %q, %v", got, err)
		}
		io.WriteString(w, "<p>Done.</p>")
	}))
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	h.ServeHTTP(rec, req)
	zr, err := gzip.NewReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	if body, err := io.ReadAll(zr); err != nil || string(body) != first+"<p>Done.</p>" {
		t.Errorf("the page reads %q, %v", body, err)
	}
}

func TestMaskedTokens(t *testing.T) {
	t.Parallel()
	const token = "q4hS2o4kq8m3NnS0qz0f2cT4nL8Yt7oEo1Wl3M2iLxk"
	seen := map[string]bool{}
	for range 100 {
		m := maskWith(token)
		if seen[m] {
			t.Fatal("a mask repeated")
		}
		seen[m] = true
		if got, ok := unmaskToken(m); !ok || got != token {
			t.Fatalf("unmask(%q) = %q %v", m, got, ok)
		}
	}
	for _, bad := range []string{"", "!!", "abc"} {
		if got, ok := unmaskToken(bad); ok && got == token {
			t.Errorf("%q unmasked to the token", bad)
		}
	}
}

// BenchmarkCompressPage: what gzipping a 170 KB page costs.
// BenchmarkCompressPage gzips the 100-item mailbox page of
// BenchmarkRenderItemPage as the portal does (klauspost/compress at level
// 1), and with the standard library's compress/gzip at the same level for
// comparison.
func BenchmarkCompressPage(b *testing.B) {
	var page bytes.Buffer
	itemPageRenderer(b)(&page)
	html := page.Bytes()
	b.Run("portal", func(b *testing.B) {
		h := compressPages(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write(html)
		}))
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		b.SetBytes(int64(len(html)))
		b.ReportAllocs()
		var out discard
		for b.Loop() {
			out = discard{header: http.Header{}}
			h.ServeHTTP(&out, req)
		}
		if out.header.Get("Content-Encoding") != "gzip" {
			b.Fatal("not compressed")
		}
		b.ReportMetric(float64(out.n)/1024, "gzipped-KiB")
	})
	b.Run("compress-gzip", func(b *testing.B) {
		zw, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
		b.SetBytes(int64(len(html)))
		b.ReportAllocs()
		var out discard
		for b.Loop() {
			out = discard{}
			zw.Reset(&out)
			zw.Write(html)
			zw.Close()
		}
		b.ReportMetric(float64(out.n)/1024, "gzipped-KiB")
	})
}

// discard is a ResponseWriter that counts what is written.
type discard struct {
	header http.Header
	n      int
}

func (d *discard) Header() http.Header         { return d.header }
func (d *discard) Write(p []byte) (int, error) { d.n += len(p); return len(p), nil }
func (d *discard) WriteHeader(int)             {}
