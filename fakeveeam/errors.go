package fakeveeam

import "net/http"

// The errorCode values of RESTExceptionInfo (v8).
const (
	errProxyOffline         = "ProxyOffline"
	errResourceAccessDenied = "ResourceAccessDenied"
	errResourceNotFound     = "ResourceNotFound"
	errParameterValidation  = "ParameterValidationFailure"
	errTimeout              = "Timeout"
	errOperationConflict    = "OperationConflict"
)

// exceptionInfo is RESTExceptionInfo, the body of every failure.
type exceptionInfo struct {
	Message    string  `json:"message"`
	ErrorCode  *string `json:"errorCode"`
	StackTrace *string `json:"stackTrace"`
}

// writeError answers with RESTExceptionInfo. The spec documents no status per
// errorCode (api-notes §5.2, §10); the fake uses the plausible mapping:
// 400 validation, 401 authentication, 403 access denied, 404 not found,
// 409 conflict, 5xx server side.
func writeError(w http.ResponseWriter, status int, code, message string) {
	info := exceptionInfo{Message: message}
	if code != "" {
		info.ErrorCode = &code
	}
	writeJSON(w, status, info)
}

func badRequest(w http.ResponseWriter, message string) {
	writeError(w, http.StatusBadRequest, errParameterValidation, message)
}

func forbidden(w http.ResponseWriter, message string) {
	writeError(w, http.StatusForbidden, errResourceAccessDenied, message)
}

func notFound(w http.ResponseWriter, message string) {
	writeError(w, http.StatusNotFound, errResourceNotFound, message)
}
