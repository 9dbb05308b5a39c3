package handlers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v5"

	"github.com/openrestore/portal/audit"

	"github.com/openrestore/portal/veeamapi"
)

const (
	maxFileNameBytes = 200
	// downloadWriteTimeout is how long the browser may take to accept one
	// chunk; the server's overall write timeout does not apply to downloads.
	downloadWriteTimeout = time.Minute
	maxDownloadItems     = 1000
)

// downloadTypes are the only content types a download is sent with,
// whatever the backup server said.
var downloadTypes = map[string]string{
	"file": "application/octet-stream",
	"msg":  "application/vnd.ms-outlook",
	"zip":  "application/zip",
	"pst":  "application/octet-stream",
	"html": "text/html; charset=utf-8", // Teams exports; sent as attachments, sandboxed
}

var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// exportFolder handles POST …/folders/:folder/export: a folder as a PST file.
func (h *Handler) exportFolder(c *echo.Context) error {
	ref, err := h.mailboxRef(c)
	if err != nil {
		return err
	}
	folderID, err := h.pathKey(c, "folder")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	h.auditMailbox(c, ref)
	f, err := h.cachedFolder(ctx, userFrom(c).OID, ref, folderID)
	if err != nil {
		return err
	}
	auditOf(c).Items = []audit.Item{{ID: folderID, Name: f.Name}}
	if !f.Actions.Has("exportToPst") {
		return downloadsNotAllowed(nil)
	}
	mb, err := h.cachedMailbox(ctx, userFrom(c).OID, ref)
	if err != nil {
		return err
	}
	d, err := ref.data.ExportFolder(ctx, folderID)
	if err != nil {
		return downloadError(err)
	}
	return h.stream(c, d, fileName(mailboxLabel(mb)+" - "+f.Name, "pst"), "pst", 0)
}

func downloadsNotAllowed(err error) *Error {
	return &Error{Status: http.StatusForbidden, Title: "Downloads are not allowed", Err: err,
		Message: "The backup server does not let your account download or export these items. You can still restore them."}
}

func downloadError(err error) error {
	if errors.Is(err, veeamapi.ErrForbidden) {
		return downloadsNotAllowed(err)
	}
	return err
}

// stream sends a download to the browser as it arrives, a chunk at a time:
// never more than one buffer of it is in memory. If the backup server fails
// part way, the response is aborted, so the browser reports a failed
// download rather than saving a truncated file as if it were whole.
func (h *Handler) stream(c *echo.Context, d *veeamapi.Download, name, kind string, items int) error {
	defer d.Body.Close()
	ctx := c.Request().Context()
	w := c.Response()
	hd := w.Header()
	hd.Set("Content-Type", downloadTypes[kind])
	hd.Set("Content-Disposition", contentDisposition(name))
	hd.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Cache-Control", "no-store")
	if d.ContentLength >= 0 {
		hd.Set("Content-Length", strconv.FormatInt(d.ContentLength, 10))
	}
	u := userFrom(c)
	var sent int64
	ae := auditOf(c)
	defer func() { h.metrics.DownloadBytes(ae.Workload, sent) }()
	if ae.Options == "" {
		ae.Options = "as ." + kind
	}
	h.log.InfoContext(ctx, "download_started", "kind", kind, "items", items, "oid", u.OID)
	w.WriteHeader(http.StatusOK)
	out := streamed(w)
	bp := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(bp)
	buf := *bp
	for {
		n, rerr := d.Body.Read(buf)
		if n > 0 {
			if _, werr := out.Write(buf[:n]); werr != nil {
				if cutAtShutdown(ctx) {
					break
				}
				h.log.InfoContext(ctx, "download_cancelled", "kind", kind, "bytes", sent, "oid", u.OID)
				ae.Outcome, ae.Detail = audit.Cancelled, fmt.Sprintf("the browser went away after %d bytes", sent)
				return nil // the browser went away; nothing more can be said to it
			}
			sent += int64(n)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil && cutAtShutdown(ctx) {
			break
		}
		if rerr != nil {
			h.log.ErrorContext(ctx, "download_failed", "kind", kind, "bytes", sent, "error", rerr, "oid", u.OID)
			ae.Outcome, ae.Detail = audit.Failed, fmt.Sprintf("the backup server broke off the transfer after %d bytes", sent)
			panic(http.ErrAbortHandler)
		}
	}
	if cutAtShutdown(ctx) {
		h.log.WarnContext(ctx, "download_cut_at_shutdown", "kind", kind, "bytes", sent, "oid", u.OID)
		ae.Outcome, ae.Detail = audit.Failed, fmt.Sprintf("the portal shut down after %d bytes", sent)
		panic(http.ErrAbortHandler) // the browser must not take a cut file for a whole one
	}
	h.log.InfoContext(ctx, "download_finished", "kind", kind, "bytes", sent, "oid", u.OID)
	ae.Outcome, ae.Detail = audit.Succeeded, fmt.Sprintf("%d bytes", sent)
	return nil
}

// cutAtShutdown reports whether the server cut the request off because
// its shutdown grace period ran out.
func cutAtShutdown(ctx context.Context) bool { return errors.Is(context.Cause(ctx), ErrShutdown) }

// streaming is a response sent for as long as it takes: each write gets
// downloadWriteTimeout of its own, where the server's WriteTimeout would
// cut off a large download or export that is still moving.
type streaming struct {
	w  io.Writer
	rc *http.ResponseController
}

func streamed(w http.ResponseWriter) streaming {
	return streaming{w: w, rc: http.NewResponseController(w)}
}

func (s streaming) Write(p []byte) (int, error) {
	_ = s.rc.SetWriteDeadline(time.Now().Add(downloadWriteTimeout))
	return s.w.Write(p)
}

// fileName makes a backed-up name (hostile input) into a file name every
// browser and file system accepts: no control characters, no path
// separators or characters Windows forbids, no leading or trailing dots or
// spaces, at most maxFileNameBytes bytes with the extension, never empty.
func fileName(base, ext string) string {
	var b strings.Builder
	space := false
	for _, r := range base {
		switch {
		case unicode.IsSpace(r):
			r = ' '
		case r == utf8.RuneError, unicode.IsControl(r), unicode.Is(unicode.Cf, r), strings.ContainsRune(`<>:"/\|?*`, r):
			r = '_'
		}
		if r == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		b.WriteRune(r)
	}
	s := strings.Trim(b.String(), " .")
	dotExt := ""
	if ext != "" {
		dotExt = "." + ext
	}
	limit := maxFileNameBytes - len(dotExt)
	if len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = strings.TrimRight(s[:cut], " .")
	}
	if s == "" || reservedWindowsName(s) {
		s = "item" + map[bool]string{true: "_" + s, false: ""}[s != ""]
	}
	return s + dotExt
}

// splitFileName cleans a backed-up file name, keeping its extension when it
// is a plain one (letters and digits, at most ten).
func splitFileName(name string) string {
	ext := path.Ext(name)
	clean := strings.TrimPrefix(ext, ".")
	if len(clean) == 0 || len(clean) > 10 || strings.IndexFunc(clean, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) >= 0 {
		return fileName(name, "")
	}
	return fileName(strings.TrimSuffix(name, ext), clean)
}

// reservedWindowsName reports names Windows will not create, such as CON or COM1.
func reservedWindowsName(s string) bool {
	stem := strings.ToUpper(strings.SplitN(s, ".", 2)[0])
	switch stem {
	case "CON", "PRN", "AUX", "NUL":
		return true
	}
	if len(stem) == 4 && (strings.HasPrefix(stem, "COM") || strings.HasPrefix(stem, "LPT")) && stem[3] >= '1' && stem[3] <= '9' {
		return true
	}
	return false
}

// contentDisposition names an attachment: an ASCII fallback for old clients,
// and the exact UTF-8 name (RFC 6266, RFC 8187).
func contentDisposition(name string) string {
	var ascii, ext strings.Builder
	for _, r := range name {
		if r < 0x80 && r >= 0x20 && r != '"' && r != '\\' && r != 0x7f {
			ascii.WriteRune(r)
		} else {
			ascii.WriteByte('_')
		}
	}
	for i := 0; i < len(name); i++ {
		ch := name[i]
		if isAttrChar(ch) {
			ext.WriteByte(ch)
		} else {
			fmt.Fprintf(&ext, "%%%02X", ch)
		}
	}
	return `attachment; filename="` + ascii.String() + `"; filename*=UTF-8''` + ext.String()
}

// isAttrChar is RFC 8187's attr-char.
func isAttrChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0
}
