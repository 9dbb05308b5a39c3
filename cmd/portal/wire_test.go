package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
)

// fetchRaw gets path as a browser that accepts gzip and brotli does (or
// with the Accept-Encoding given), and returns the answer and its body as
// sent (still compressed).
func (b *browser) fetchRaw(t *testing.T, path string, acceptEncoding ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.s.url+path, nil)
	req.Header.Set("Accept-Encoding", "gzip, deflate, br, zstd")
	if len(acceptEncoding) > 0 {
		req.Header.Set("Accept-Encoding", acceptEncoding[0])
	}
	c := *b.c
	c.Transport = &http.Transport{DisableCompression: true}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

func decode(t *testing.T, encoding string, body []byte) []byte {
	t.Helper()
	var r io.Reader
	switch encoding {
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	case "br":
		r = brotli.NewReader(bytes.NewReader(body))
	default:
		return body
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCompressedOnTheWire: pages go gzipped, scripts and stylesheets
// brotli'd ahead of time, each with Vary: Accept-Encoding, and the same
// once decoded; the anti-forgery token differs on every page.
func TestCompressedOnTheWire(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{})
	b := s.signedIn(adele)
	sid, _ := b.explore("exchange")
	m := b.openMailbox(sid, "Adele Vance")
	inbox := m.page.Request.URL.Path
	resp, body := b.fetchRaw(t, inbox)
	page := decode(t, resp.Header.Get("Content-Encoding"), body)
	if resp.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), "Accept-Encoding") ||
		!bytes.Contains(page, []byte("mail-items")) {
		t.Errorf("the Inbox: %q, Vary %q", resp.Header.Get("Content-Encoding"), resp.Header.Get("Vary"))
	}
	t.Logf("the Inbox page: %d bytes, %d on the wire", len(page), len(body))
	if len(body) > 25<<10 {
		t.Errorf("the Inbox page is %d bytes on the wire, more than 25 KiB", len(body))
	}
	// To a client that takes no compression, a page goes whole with its length, not chunked.
	plainResp, plainBody := b.fetchRaw(t, inbox, "identity")
	if plainResp.ContentLength != int64(len(plainBody)) || len(plainResp.TransferEncoding) > 0 || plainResp.Header.Get("Content-Encoding") != "" {
		t.Errorf("the Inbox uncompressed: Content-Length %d for %d bytes, transfer encoding %v", plainResp.ContentLength, len(plainBody), plainResp.TransferEncoding)
	}
	assets := 0
	for _, a := range []string{"/static/css/app.css", "/static/js/app.js", "/static/js/htmx.min.js"} {
		resp, body := b.fetchRaw(t, a+"?v=1")
		if resp.Header.Get("Content-Encoding") != "br" || !strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), "Accept-Encoding") {
			t.Errorf("%s: %q, Vary %q", a, resp.Header.Get("Content-Encoding"), resp.Header.Get("Vary"))
		}
		plain := b.get(a)
		if string(decode(t, "br", body)) != plain.body || !strings.HasPrefix(resp.Header.Get("Content-Type"), plain.Header.Get("Content-Type")) {
			t.Errorf("%s: the brotli copy is not the file (%q)", a, resp.Header.Get("Content-Type"))
		}
		assets += len(body)
	}
	t.Logf("scripts and stylesheets: %d bytes on the wire", assets)
	if assets > 30<<10 {
		t.Errorf("scripts and stylesheets are %d bytes on the wire", assets)
	}
	// A download is not compressed again; the token differs page by page.
	if r := b.get("/static/css/app.css.br"); r.StatusCode != http.StatusNotFound {
		t.Errorf("the compressed copy has a URL of its own: %d", r.StatusCode)
	}
	if first, second := b.csrf(), b.csrf(); first == second {
		t.Error("the anti-forgery token is the same on two pages")
	}
}
