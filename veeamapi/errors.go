package veeamapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Sentinel errors; *Error and transport failures match them with errors.Is.
var (
	// ErrUnauthorized: the server refused the token (401) even after a refresh.
	ErrUnauthorized = errors.New("veeamapi: unauthorized")
	// ErrGrantRejected: /token refused the grant (bad assertion, expired or unknown refresh token).
	ErrGrantRejected = errors.New("veeamapi: token grant rejected")
	// ErrForbidden: the object is outside the operator's scope (403, ResourceAccessDenied).
	ErrForbidden = errors.New("veeamapi: access denied")
	// ErrNotFound: no such object, or not one the operator may see (404, ResourceNotFound).
	ErrNotFound = errors.New("veeamapi: not found")
	// ErrConflict: the operation conflicts with the object's state, e.g. a stopped restore session (409).
	ErrConflict = errors.New("veeamapi: conflict")
	// ErrBadRequest: the server refused the request's parameters (400).
	ErrBadRequest = errors.New("veeamapi: bad request")
	// ErrUnavailable: the server could not be reached, timed out, answered 5xx
	// or 429, or sent something that is not the documented answer.
	ErrUnavailable = errors.New("veeamapi: backup server unavailable")
)

// Error is a failure answer from the server.
type Error struct {
	Method     string
	Path       string // request path, without query
	StatusCode int
	// Code is RESTExceptionInfo.errorCode (e.g. "ResourceNotFound"), or the
	// OAuth error (e.g. "invalid_grant") when /token answers in that style.
	Code string
	// Message is the server's message; for logs only, never for users.
	Message string
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "veeamapi: %s %s: %d", e.Method, e.Path, e.StatusCode)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	return b.String()
}

// Is matches the sentinel errors. Codes win over statuses, since the spec
// documents no status per code (api-notes §5.2).
func (e *Error) Is(target error) bool {
	if isTokenPath(e.Path) && (e.StatusCode == http.StatusBadRequest || e.StatusCode == http.StatusUnauthorized) {
		return target == ErrGrantRejected
	}
	switch e.Code {
	case "ResourceAccessDenied":
		return target == ErrForbidden
	case "ResourceNotFound":
		return target == ErrNotFound
	case "OperationConflict":
		return target == ErrConflict
	case "ProxyOffline", "Timeout":
		return target == ErrUnavailable
	}
	switch {
	case e.StatusCode == http.StatusUnauthorized:
		return target == ErrUnauthorized
	case e.StatusCode == http.StatusForbidden:
		return target == ErrForbidden
	case e.StatusCode == http.StatusNotFound:
		return target == ErrNotFound
	case e.StatusCode == http.StatusConflict:
		return target == ErrConflict
	case e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500:
		return target == ErrUnavailable
	case e.StatusCode >= 400:
		return target == ErrBadRequest
	}
	return false
}

func isTokenPath(p string) bool { return strings.EqualFold(p, "/v8/token") }

// maxErrorBody bounds what is read of a failure answer.
const maxErrorBody = 64 << 10

// checkResponse turns a non-2xx answer into *Error, reading both error shapes:
// RESTExceptionInfo {message, errorCode} and OAuth {error, error_description}.
func checkResponse(resp *http.Response) error {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	e := &Error{Method: resp.Request.Method, Path: resp.Request.URL.Path, StatusCode: resp.StatusCode}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var shape struct {
		Message          string  `json:"message"`
		ErrorCode        *string `json:"errorCode"`
		Error            string  `json:"error"`
		ErrorDescription string  `json:"error_description"`
	}
	if json.Unmarshal(body, &shape) == nil {
		if shape.Error != "" {
			e.Code, e.Message = shape.Error, shape.ErrorDescription
		} else {
			e.Message = shape.Message
			if shape.ErrorCode != nil {
				e.Code = *shape.ErrorCode
			}
		}
	}
	if len(e.Message) > 500 {
		e.Message = strings.ToValidUTF8(e.Message[:500], "") + "…"
	}
	return e
}
