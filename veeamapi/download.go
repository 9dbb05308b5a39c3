package veeamapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"
	"sync"
	"time"
)

// DownloadIdleTimeout cuts a download whose server sends nothing for this long.
const DownloadIdleTimeout = time.Minute

// Download is a file the server is sending. Body streams it and must be closed.
type Download struct {
	Body io.ReadCloser
	// ContentLength is the size the server announced, or -1.
	ContentLength int64
	ContentType   string
}

// download starts a binary answer. The request is never retried (the
// server may already be writing a file for it), but a 401 refreshes the
// token once, as the server did nothing. The body has no overall deadline,
// only an idle one: a slow but moving transfer goes on, a stalled one ends.
func (o *Operator) download(ctx context.Context, r request) (*Download, error) {
	tok, err := o.ts.Token(ctx)
	if err != nil {
		return nil, fmt.Errorf("veeamapi: %s %s: token: %w", r.Method, r.Path, err)
	}
	dctx, cancel := context.WithCancel(ctx)
	r.Token = tok
	resp, err := o.c.send(dctx, r)
	if errors.Is(err, ErrUnauthorized) {
		if r.Token, err = o.ts.Refresh(ctx, tok); err == nil {
			resp, err = o.c.send(dctx, r)
		}
	}
	if err != nil {
		cancel()
		return nil, err
	}
	// A JSON answer is not the file: a proxy's or the server's error said
	// with a 200. Passing it on would save it as the user's file.
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt == "application/json" || strings.HasSuffix(mt, "+json") {
		resp.Body.Close()
		cancel()
		return nil, fmt.Errorf("veeamapi: %s %s: %w: the server answered %s instead of a file", r.Method, r.Path, ErrUnavailable, mt)
	}
	return &Download{
		Body:          newIdleReader(resp.Body, DownloadIdleTimeout, cancel),
		ContentLength: resp.ContentLength,
		ContentType:   resp.Header.Get("Content-Type"),
	}, nil
}

// idleReader cancels the request when reads make no progress for a while.
type idleReader struct {
	body   io.ReadCloser
	timer  *time.Timer
	idle   time.Duration
	cancel context.CancelFunc
	once   sync.Once
}

func newIdleReader(body io.ReadCloser, idle time.Duration, cancel context.CancelFunc) *idleReader {
	return &idleReader{body: body, idle: idle, cancel: cancel, timer: time.AfterFunc(idle, cancel)}
}

func (r *idleReader) Read(p []byte) (int, error) {
	n, err := r.body.Read(p)
	if n > 0 {
		r.timer.Reset(r.idle)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		err = fmt.Errorf("veeamapi: download: %w: %w", ErrUnavailable, err)
	}
	return n, err
}

func (r *idleReader) Close() error {
	var err error
	r.once.Do(func() {
		r.timer.Stop()
		err = r.body.Close()
		r.cancel()
	})
	return err
}
