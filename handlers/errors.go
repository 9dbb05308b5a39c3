package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v5"

	"github.com/openrestore/portal/authn"
	"github.com/openrestore/portal/internal/rest"
	"github.com/openrestore/portal/templates"
	"github.com/openrestore/portal/veeamapi"
)

// Error is an error with what the user may be told. Err is only logged.
type Error struct {
	Status  int
	Title   string
	Message string
	Err     error
	// Retry offers to load the page again.
	Retry bool
	// BackURL leads back to where the user was: the list they chose from.
	BackURL string
	// RetryAfter, when set, is sent as Retry-After: when to try again.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Title + ": " + e.Err.Error()
	}
	return e.Title
}

func (e *Error) Unwrap() error { return e.Err }

func badRequest(message string) *Error {
	return &Error{Status: http.StatusBadRequest, Title: "That request is not valid", Message: message}
}

func notFoundOrNotYours(err error) *Error {
	return &Error{Status: http.StatusNotFound, Title: "Not found", Err: err,
		Message: "It does not exist, or it is not yours to see. Check the link, or go back to the start page."}
}

// signInRequired says the request needs a signed-in user and has none.
type signInRequired struct{ cause error }

func (e signInRequired) Error() string { return "sign-in required: " + e.cause.Error() }
func (e signInRequired) Unwrap() error { return e.cause }

// errorHandler is the one place that decides what a user sees when something
// fails. The user never sees err.Error(); 5xx answers carry the request id.
func (h *Handler) errorHandler(c *echo.Context, err error) {
	ctx := c.Request().Context()
	if r, _ := echo.UnwrapResponse(c.Response()); r != nil && r.Committed {
		h.log.ErrorContext(ctx, "error_after_response_started", "error", err, "request_id", infoFrom(ctx).ID)
		return
	}
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		h.log.InfoContext(ctx, "request_cancelled", "request_id", infoFrom(ctx).ID)
		return // the browser went away
	}
	if needsSignIn(err) {
		h.sendToSignIn(c, err)
		return
	}
	var to redirectTo
	if errors.As(err, &to) {
		if err := seeOther(c, string(to)); err != nil {
			h.log.ErrorContext(ctx, "redirect_failed", "error", err)
		}
		return
	}
	e := classify(err)
	if e.Status >= 500 {
		h.log.ErrorContext(ctx, "request_failed", "status", e.Status, "error", err, "request_id", infoFrom(ctx).ID)
	} else {
		h.log.InfoContext(ctx, "request_refused", "status", e.Status, "error", err, "request_id", infoFrom(ctx).ID)
	}
	v := templates.ErrorView{Status: e.Status, Title: e.Title, Message: e.Message, BackURL: e.BackURL}
	if e.Status >= 500 {
		v.RequestID = infoFrom(ctx).ID
	}
	if e.RetryAfter > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(e.RetryAfter/time.Second)))
	}
	if e.Retry && c.Request().Method == http.MethodGet {
		v.RetryURL = c.Request().URL.RequestURI()
	}
	var le *authn.LoginError
	if errors.As(err, &le) {
		v.SignInURL = "/auth/login"
	}
	if c.Request().Method == http.MethodHead {
		c.NoContent(e.Status)
		return
	}
	if isPartial(c) {
		// htmx swaps the alert into the page's alert region instead of the target.
		c.Response().Header().Set("HX-Retarget", "#"+templates.AlertsID)
		c.Response().Header().Set("HX-Reswap", "innerHTML")
		h.renderOrLog(c, e.Status, templates.ErrorAlert(v))
		return
	}
	h.renderOrLog(c, e.Status, templates.ErrorPage(h.meta(c, e.Title), v))
}

func (h *Handler) renderOrLog(c *echo.Context, status int, t templ.Component) {
	if err := render(c, status, t); err != nil {
		h.log.ErrorContext(c.Request().Context(), "render_error_page_failed", "error", err)
		c.String(status, http.StatusText(status))
	}
}

func needsSignIn(err error) bool {
	var sr signInRequired
	return errors.As(err, &sr) || errors.Is(err, authn.ErrReauthenticate) ||
		errors.Is(err, authn.ErrNoSession) || errors.Is(err, authn.ErrSessionExpired) ||
		errors.Is(err, veeamapi.ErrUnauthorized)
}

// sendToSignIn starts a new sign-in that returns to where the user was.
// htmx gets HX-Redirect: a 3xx would be followed inside its XHR.
func (h *Handler) sendToSignIn(c *echo.Context, err error) {
	h.log.InfoContext(c.Request().Context(), "sign_in_required", "reason", err.Error(), "request_id", infoFrom(c.Request().Context()).ID)
	r := c.Request()
	returnTo := "/"
	switch {
	case r.Header.Get("HX-Request") == "true":
		if cur, perr := url.Parse(r.Header.Get("HX-Current-URL")); perr == nil && cur.Host == h.cfg.PublicURL.Host {
			returnTo = cur.RequestURI()
		}
	case r.Method == http.MethodGet:
		returnTo = r.URL.RequestURI()
	}
	target := signInTarget(returnTo, err)
	if r.Header.Get("HX-Request") == "true" {
		c.Response().Header().Set("HX-Redirect", target)
		c.NoContent(http.StatusUnauthorized)
		return
	}
	c.Redirect(http.StatusSeeOther, target)
}

// signInTarget is the sign-in that returns to returnTo; Entra's claims
// challenge (say, for multi-factor authentication), when err carries one,
// is asked for, or Entra would refuse again.
func signInTarget(returnTo string, err error) string {
	q := url.Values{}
	if to, ok := authn.ValidReturnTo(returnTo); ok && to != "/" {
		q.Set("return_to", to)
	}
	var ee *authn.EntraError
	if errors.As(err, &ee) && ee.Claims != "" {
		q.Set("claims", ee.Claims)
	}
	if len(q) == 0 {
		return "/auth/login"
	}
	return "/auth/login?" + q.Encode()
}

// classify turns any error into what the user is told.
func classify(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		if e.Status == 0 {
			e.Status = http.StatusInternalServerError
		}
		return e
	}
	var le *authn.LoginError
	if errors.As(err, &le) {
		return loginError(le)
	}
	switch {
	case errors.Is(err, authn.ErrStore):
		return &Error{Status: http.StatusServiceUnavailable, Title: "The portal cannot reach its database", Retry: true, Err: err,
			Message: "Nothing was changed. Try again in a minute; if it goes on, tell your helpdesk."}
	case errors.Is(err, authn.ErrUnavailable):
		return &Error{Status: http.StatusBadGateway, Title: "Microsoft sign-in is not answering", Retry: true, Err: err,
			Message: "The portal cannot reach Microsoft Entra ID right now. Try again in a minute."}
	case errors.Is(err, veeamapi.ErrNotFound), errors.Is(err, veeamapi.ErrForbidden):
		return notFoundOrNotYours(err)
	case errors.Is(err, veeamapi.ErrConflict):
		return &Error{Status: http.StatusConflict, Title: "That restore session has ended", Err: err,
			Message: "The backup server closed it. Open the restore point again from the start page."}
	case errors.Is(err, rest.ErrCircuitOpen):
		return &Error{Status: http.StatusServiceUnavailable, Title: "The backup server is not answering", Retry: true, Err: err,
			Message: "It failed several times in a row, so the portal is giving it a few seconds before asking again. Nothing was changed. Try again in a minute; if it goes on, tell your helpdesk."}
	case errors.Is(err, veeamapi.ErrUnavailable), errors.Is(err, veeamapi.ErrBadRequest), errors.Is(err, veeamapi.ErrGrantRejected):
		return &Error{Status: http.StatusBadGateway, Title: "The backup server is not answering", Retry: true, Err: err,
			Message: "The portal cannot get an answer from the backup server right now. Nothing was changed. Try again in a minute; if it goes on, tell your helpdesk."}
	}
	var sc echo.HTTPStatusCoder
	if errors.As(err, &sc) && sc.StatusCode() >= 400 && sc.StatusCode() < 500 {
		return httpError(sc.StatusCode(), err)
	}
	return &Error{Status: http.StatusInternalServerError, Title: "Something went wrong", Err: err,
		Message: "The portal could not finish this request. Nothing was changed. Try again; if it goes on, tell your helpdesk."}
}

func httpError(status int, err error) *Error {
	switch status {
	case http.StatusNotFound:
		return &Error{Status: status, Title: "Page not found", Err: err,
			Message: "There is no page at this address. Check the link, or go back to the start page."}
	case http.StatusMethodNotAllowed:
		return &Error{Status: status, Title: "Not allowed", Err: err, Message: "This page cannot be used that way."}
	case http.StatusRequestEntityTooLarge:
		return &Error{Status: status, Title: "Too much data", Err: err, Message: "The request was larger than the portal accepts."}
	}
	return &Error{Status: status, Title: http.StatusText(status), Err: err, Message: "The request could not be handled."}
}

// loginError says what went wrong with a sign-in, in the user's terms.
// entraRef names Entra's trace and correlation ids, which Microsoft's
// support asks for, when Entra sent them.
func entraRef(le *authn.LoginError) string {
	if le.Entra == nil || le.Entra.TraceID == "" {
		return ""
	}
	return " (Entra trace ID " + le.Entra.TraceID + ", correlation ID " + le.Entra.CorrelationID + ")"
}

func loginError(le *authn.LoginError) *Error {
	e := &Error{Status: le.Status, Title: "Sign-in did not complete", Err: le}
	switch le.Reason {
	case authn.ReasonAccessDenied:
		e.Message = "Sign-in was cancelled. Sign in again when you are ready."
	case authn.ReasonNotPermitted:
		e.Title = "The backup server does not let this account restore"
		e.Message = "You signed in, but the backup server refused your account. Ask your helpdesk to give you access to the Restore Portal."
	case authn.ReasonUnavailable:
		e.Message = "Microsoft Entra ID or the backup server did not answer. Try again in a minute."
		e.Retry = false
	case authn.ReasonExpired:
		e.Message = "The sign-in took too long. Start it again."
	case authn.ReasonConsent:
		e.Title = "Your organisation has not approved this portal yet"
		e.Message = "Microsoft Entra ID needs an administrator to grant consent to the Restore Portal application (Enterprise applications → the application → Permissions → Grant admin consent). Ask your helpdesk, then sign in again."
	case authn.ReasonBlocked:
		e.Title = "Microsoft Entra ID does not let this account sign in"
		e.Message = "The account may be disabled or locked, its password expired, or a Conditional Access policy blocks it. Ask your helpdesk."
	case authn.ReasonMisconfigured:
		e.Title = "The portal's sign-in is not set up correctly"
		e.Message = "Microsoft Entra ID refused the portal itself (for example, its client secret expired or its redirect address is not registered). Nothing is wrong with your account. Tell your helpdesk" + entraRef(le) + "."
	case authn.ReasonEntraTrouble:
		e.Title = "Microsoft sign-in is having trouble"
		e.Message = "Microsoft Entra ID could not complete the sign-in just now. Try again in a few minutes" + entraRef(le) + "."
	case authn.ReasonInteraction:
		e.Title = "Sign in again"
		e.Message = "Microsoft Entra ID needs you to sign in again, for example with multi-factor authentication. Start the sign-in again."
	default:
		e.Message = "The answer from Microsoft could not be verified, or it did not belong to a sign-in started in this browser. Start the sign-in again."
	}
	return e
}
