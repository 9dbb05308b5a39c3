package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/openrestore/portal/demotenant"
	"github.com/openrestore/portal/fakeveeam"
)

func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan *fakeveeam.Server, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-entra", "http://127.0.0.1:9001", "-fail", "GET /v8/Organization/LoggedInUser 503 times=1"}, &strings.Builder{}, started)
	}()
	s := <-started
	resp, err := http.Get(s.URL() + "/v8/RestorePortalSettings")
	if err != nil {
		t.Fatal(err)
	}
	var settings struct{ ApplicationID, MSALAuthorityURI string }
	json.NewDecoder(resp.Body).Decode(&settings)
	resp.Body.Close()
	if settings.MSALAuthorityURI != "http://127.0.0.1:9001/"+demotenant.TenantID || settings.ApplicationID != demotenant.ApplicationID {
		t.Errorf("settings = %+v", settings)
	}
	// The -fail flag's failure, once.
	for _, want := range []int{http.StatusServiceUnavailable, http.StatusUnauthorized} { // then: no token
		resp, err := http.Get(s.URL() + "/v8/Organization/LoggedInUser")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET /v8/Organization/LoggedInUser: %d, want %d", resp.StatusCode, want)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Error(err)
	}
}

func TestAuthorityOf(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:9001":                 "http://127.0.0.1:9001/" + demotenant.TenantID,
		"http://127.0.0.1:9001/":                "http://127.0.0.1:9001/" + demotenant.TenantID,
		"http://127.0.0.1:9001/t-1/v2.0":        "http://127.0.0.1:9001/t-1",
		"https://login.microsoftonline.com/t-2": "https://login.microsoftonline.com/t-2",
	} {
		if got, err := authorityOf(in); err != nil || got != want {
			t.Errorf("authorityOf(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := authorityOf(""); err == nil {
		t.Error("no -entra accepted")
	}
}

// TestRandomFaultsAndDemoData: the flags that let chaos scenarios run
// against the standalone server.
func TestRandomFaultsAndDemoData(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan *fakeveeam.Server, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-entra", "http://127.0.0.1:9001", "-demo-data", "-large-folder-items", "500",
			"-fault-seed", "3", "-fail", "GET /v8/RestorePortalSettings 503 rate=0.5"}, &strings.Builder{}, started)
	}()
	s := <-started
	if o := s.Options(); o.LargeMailbox != fakeveeam.DemoLargeMailbox || o.LargeFolderItems != 500 ||
		o.LargeLibrarySite != fakeveeam.DemoLargeLibrarySite || o.LargeLibraryDocs != 50_000 || o.FaultSeed != 3 {
		t.Errorf("-demo-data and -large-folder-items gave %+v", o)
	}
	failed := 0
	for range 100 {
		resp, err := http.Get(s.URL() + "/v8/RestorePortalSettings")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable {
			failed++
		}
	}
	if failed < 25 || failed > 75 {
		t.Errorf("a rate of 0.5 failed %d of 100 requests", failed)
	}
	cancel()
	if err := <-done; err != nil {
		t.Error(err)
	}
	for _, bad := range [][]string{{"-large-folder-items", "-1"}, {"-fail", "GET /x 503 rate=2"}} {
		err := run(context.Background(), append([]string{"-addr", "127.0.0.1:0", "-entra", "http://127.0.0.1:9001"}, bad...), &strings.Builder{}, nil)
		if err == nil {
			t.Errorf("%v was accepted", bad)
		}
	}
}
