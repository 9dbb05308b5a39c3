package fakehttp

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseFault(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want Fault
	}{
		{"POST /api/v8.1/users 503 times=2", Fault{Method: "POST", Path: "/api/v8.1/users", Status: 503, Times: 2}},
		{"* /api/oauth2/token delay=3s", Fault{Path: "/api/oauth2/token", Delay: 3 * time.Second}},
		{"get /v8/ hang", Fault{Method: "GET", Path: "/v8/", Hang: true}},
		{"GET /x reset", Fault{Method: "GET", Path: "/x", Reset: true}},
		{"GET /x garbage times=1", Fault{Method: "GET", Path: "/x", Garbage: true, Times: 1}},
		{"GET /x cut=1024", Fault{Method: "GET", Path: "/x", CutAfter: 1024}},
	} {
		got, err := ParseFault(tc.in)
		if err != nil || !cmp.Equal(got, tc.want) {
			t.Errorf("%q = %+v %v, want %+v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "GET /x", "GET x 503", "GET /x 200", "GET /x delay=soon", "GET /x teapot"} {
		if _, err := ParseFault(bad); err == nil {
			t.Errorf("%q was accepted", bad)
		}
	}
}
