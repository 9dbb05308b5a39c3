package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/openrestore/portal/fakevbazure"
)

func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan *fakevbazure.Server, 1)
	done := make(chan error, 1)
	out := &strings.Builder{}
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-fail", "POST /api/oauth2/token 503 times=1"}, out, started)
	}()
	s := <-started
	form := url.Values{"grant_type": {"Password"}, "username": {fakevbazure.DemoAdminName}, "password": {fakevbazure.DemoAdminPassword}}
	for _, want := range []int{http.StatusServiceUnavailable, http.StatusOK} {
		resp, err := http.PostForm(s.URL()+"/api/oauth2/token", form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("sign-in: %d, want %d", resp.StatusCode, want)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Error(err)
	}
	if !strings.Contains(out.String(), fakevbazure.DemoMFASecret) {
		t.Errorf("the banner does not say how to sign in: %s", out)
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-fail", "GET"}, {"-latency", "soon"}, {"-addr", "nowhere"}} {
		if err := run(context.Background(), args, &strings.Builder{}, nil); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
