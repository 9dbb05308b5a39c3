package rest

import (
	"net/url"
	"strings"
	"testing"
)

func TestDialsOnlyTheConfiguredServer(t *testing.T) {
	t.Parallel()
	base, _ := url.Parse("http://127.0.0.1:1")
	tr := pinnedTransport(base, nil)
	_, err := tr.DialContext(t.Context(), "tcp", "127.0.0.1:2")
	if err == nil || !strings.Contains(err.Error(), "refusing to dial") {
		t.Errorf("dial to another port: %v", err)
	}
}

func TestCheckBaseURL(t *testing.T) {
	t.Parallel()
	for raw, ok := range map[string]bool{
		"https://vbazure.example.com": true, "https://vbazure.example.com/": true, "http://127.0.0.1:9003": true,
		"http://localhost:9003": true, "http://vbazure.example.com": false, "https://u:p@vbazure.example.com": false,
		"https://vbazure.example.com/api": false, "https://vbazure.example.com?x=1": false, "vbazure.example.com": false,
		"ftp://vbazure.example.com": false,
	} {
		if _, err := CheckBaseURL(raw, "https://vbazure.example.com"); (err == nil) != ok {
			t.Errorf("%s: %v", raw, err)
		}
	}
}
