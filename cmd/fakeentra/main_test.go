package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/openrestore/portal/fakeentra"
	"github.com/openrestore/portal/internal/wait"
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

// TestFailureFlags: failures chosen by flags show from the start.
func TestFailureFlags(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started := make(chan *fakeentra.Server, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-client-secret", "s3cret", "-fail", "expired-secret",
			"-access-token-version", "1", "-disable", "AdeleV@contoso.onmicrosoft.com"}, &strings.Builder{}, started)
	}()
	s := <-started
	resp, err := http.PostForm(s.Authority()+"/oauth2/v2.0/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"},
		"client_id": {s.ApplicationID()}, "client_secret": {"s3cret"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), "7000222") {
		t.Errorf("with an expired secret: %d %s", resp.StatusCode, body)
	}
	tok, err := s.AccessTokenFor("AdeleV@contoso.onmicrosoft.com")
	if err != nil || !strings.Contains(tok, ".") {
		t.Fatal(err)
	}
	cancel()
	<-done
	for _, bad := range [][]string{{"-fail", "teapot"}, {"-access-token-version", "3"}, {"-disable", "nobody@example.com"}} {
		if err := run(context.Background(), append([]string{"-addr", "127.0.0.1:0", "-client-secret", "s"}, bad...), &strings.Builder{}, nil); err == nil {
			t.Errorf("%v was accepted", bad)
		}
	}
}

// TestRotateKeysFlag: the signing key rolls over on its own.
func TestRotateKeysFlag(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started := make(chan *fakeentra.Server, 1)
	go run(ctx, []string{"-addr", "127.0.0.1:0", "-client-secret", "s", "-rotate-keys", "20ms"}, &strings.Builder{}, started)
	s := <-started
	firstKid := func() string {
		resp, err := http.Get(s.Authority() + "/discovery/v2.0/keys")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var set struct{ Keys []struct{ Kid string } }
		json.NewDecoder(resp.Body).Decode(&set)
		if len(set.Keys) == 0 {
			return ""
		}
		return set.Keys[0].Kid
	}
	before := firstKid()
	wait.For(t, "the signing key to roll over", func() bool { return firstKid() != before })
}
