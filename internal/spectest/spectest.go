// Package spectest checks HTTP traffic against the official OpenAPI
// documents, VB365 REST v8 and VBAzure v8.1, for the tests of the clients
// (veeamapi, vbazure) and of the fake servers (fakeveeam, fakevbazure): two
// independent readings of each spec, both held to it.
//
// The document is not committed; it lives in ../shared beside the checkout
// (or where PORTAL_SHARED_DIR points). Tests that need it skip with a clear
// message when it is absent; CI always has it.
package spectest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// SharedDir returns the shared material directory, or skips the test when it is absent.
func SharedDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("PORTAL_SHARED_DIR"); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			shared := filepath.Join(dir, "..", "shared")
			if _, err := os.Stat(filepath.Join(shared, "vb365")); err != nil {
				t.Skipf("spectest: %s is absent (it holds the VB365 OpenAPI document and test data); set PORTAL_SHARED_DIR to run this test", shared)
			}
			return shared
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("spectest: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Spec is a loaded OpenAPI document with a router over its paths.
type Spec struct {
	name   string
	doc    *openapi3.T
	router routers.Router
	// path maps a request's path to the document's (another API version).
	path func(string) string
	// anonymous lists operations that take no bearer token although the
	// document does not say so.
	anonymous map[string]bool
}

var (
	mu    sync.Mutex
	specs = map[string]*Spec{}
	uuids sync.Once
)

// Load returns the VB365 v8 document, loaded once per test binary.
func Load(t testing.TB) *Spec {
	t.Helper()
	return load(t, "VB365 v8", "vb365_rest_v8.json", nil, nil)
}

// LoadVBAzure returns the VBAzure v8.1 document, loaded once per test
// binary. Requests to /api/v8/… are checked as the document's /api/v8.1/…
// (the v8 reference has the same operations), and the token request needs
// no bearer token (the document's global requirement is wrong there).
func LoadVBAzure(t testing.TB) *Spec {
	t.Helper()
	return load(t, "VBAzure v8.1", "vbaz_rest_v8.1.json",
		func(p string) string {
			if rest, ok := strings.CutPrefix(p, "/api/v8/"); ok {
				return "/api/v8.1/" + rest
			}
			return p
		},
		map[string]bool{"Login_Authenticate": true})
}

func load(t testing.TB, name, file string, path func(string) string, anonymous map[string]bool) *Spec {
	t.Helper()
	full := filepath.Join(SharedDir(t), "vb365", file)
	mu.Lock()
	defer mu.Unlock()
	if s, ok := specs[file]; ok {
		return s
	}
	uuids.Do(func() {
		openapi3.DefineStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(
			`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`))
	})
	doc, err := openapi3.NewLoader().LoadFromFile(full)
	if err != nil {
		t.Fatalf("load %s: %v", full, err)
	}
	// Match on paths alone: the documents' servers are examples.
	doc.Servers = nil
	r, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatalf("router of %s: %v", full, err)
	}
	if path == nil {
		path = func(p string) string { return p }
	}
	s := &Spec{name: name, doc: doc, router: r, path: path, anonymous: anonymous}
	specs[file] = s
	return s
}

func (s *Spec) options() *openapi3filter.Options {
	return &openapi3filter.Options{
		MultiError:            true,
		IncludeResponseStatus: false, // every operation also documents a default response
		AuthenticationFunc: func(_ context.Context, in *openapi3filter.AuthenticationInput) error {
			if in.SecuritySchemeName != "Bearer" {
				return fmt.Errorf("unknown security scheme %q", in.SecuritySchemeName)
			}
			h := in.RequestValidationInput.Request.Header.Get("Authorization")
			if !strings.HasPrefix(h, "Bearer ") || len(h) <= len("Bearer ") {
				return errors.New("missing bearer token")
			}
			return nil
		},
	}
}

// Check validates one exchange: the request (with its body) and the response.
// It returns every problem found, or nil.
func (s *Spec) Check(req *http.Request, reqBody []byte, status int, header http.Header, respBody []byte) error {
	return s.check(req, reqBody, status, header, respBody, true)
}

func (s *Spec) check(req *http.Request, reqBody []byte, status int, header http.Header, respBody []byte, checkRequest bool) error {
	r := req.Clone(context.Background())
	r.Body = io.NopCloser(bytes.NewReader(reqBody))
	// Match on the escaped path: an id holding %2F is one segment.
	r.URL.Path, r.URL.RawPath = s.path(req.URL.EscapedPath()), ""
	route, params, err := s.router.FindRoute(r)
	if err != nil {
		return fmt.Errorf("%s %s: not in the %s document: %w", req.Method, req.URL.Path, s.name, err)
	}
	in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: s.options()}
	if isAnonymous(route.Operation) || s.anonymous[route.Operation.OperationID] {
		// The document's global Bearer requirement does not hold for x-anonymous operations.
		in.Options.AuthenticationFunc = openapi3filter.NoopAuthenticationFunc
	}
	var problems []error
	if checkRequest {
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			problems = append(problems, fmt.Errorf("request %s %s: %w", req.Method, req.URL.Path, err))
		}
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: status, Header: header,
		Options: &openapi3filter.Options{MultiError: true, ExcludeResponseBody: !isJSON(header)},
	}
	out.SetBodyBytes(respBody)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		problems = append(problems, fmt.Errorf("response %d to %s %s: %w", status, req.Method, req.URL.Path, err))
	}
	return errors.Join(problems...)
}

func isAnonymous(op *openapi3.Operation) bool {
	v, ok := op.Extensions["x-anonymous"].(bool)
	return ok && v
}

func isJSON(h http.Header) bool {
	ct := h.Get("Content-Type")
	return ct == "" || strings.Contains(ct, "json")
}

// Transport wraps base so that every request sent through it, and every
// response received, is checked against the document; problems fail t.
func (s *Spec) Transport(t testing.TB, base http.RoundTripper) http.RoundTripper {
	return s.transport(t, base, true)
}

// ResponseTransport checks responses only, for tests that send malformed
// requests on purpose and want to see the server answer them in the documented shape.
func (s *Spec) ResponseTransport(t testing.TB, base http.RoundTripper) http.RoundTripper {
	return s.transport(t, base, false)
}

func (s *Spec) transport(t testing.TB, base http.RoundTripper, checkRequests bool) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		var reqBody []byte
		if req.Body != nil {
			b, err := io.ReadAll(req.Body)
			if err != nil {
				return nil, err
			}
			req.Body.Close()
			reqBody = b
			req.Body = io.NopCloser(bytes.NewReader(b))
		}
		resp, err := base.RoundTrip(req)
		if err != nil {
			return resp, err
		}
		if !isJSON(resp.Header) {
			// Binary bodies are streamed through untouched.
			if err := s.check(req, reqBody, resp.StatusCode, resp.Header, nil, checkRequests); err != nil {
				t.Errorf("spectest: %v", err)
			}
			return resp, nil
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		if err := s.check(req, reqBody, resp.StatusCode, resp.Header, body, checkRequests); err != nil {
			t.Errorf("spectest: %v", err)
		}
		return resp, nil
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
