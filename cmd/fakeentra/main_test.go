package main

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/openrestore/portal/fakeentra"
)

func TestRun(t *testing.T) {
	var out strings.Builder
	if err := run(context.Background(), []string{"-addr", "127.0.0.1:0"}, &out, nil); err == nil {
		t.Error("ran without a client secret")
	}
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan *fakeentra.Server, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-client-secret", "s3cret"}, &strings.Builder{}, started)
	}()
	s := <-started
	resp, err := http.Get(s.Issuer() + "/.well-known/openid-configuration")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("discovery: %v %v", resp, err)
	}
	resp.Body.Close()
	if s.ClientSecret() != "s3cret" {
		t.Error("the secret was not used")
	}
	cancel()
	if err := <-done; err != nil {
		t.Error(err)
	}
}
