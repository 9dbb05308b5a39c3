package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/openrestore/portal/audit"
	"github.com/openrestore/portal/templates"
	"github.com/openrestore/portal/vbazure"
)

// The administration of Veeam Backup for Microsoft Azure (VBAzure): the
// portal's administrators (Config.Admins) connect with their own VBAzure
// account, for their portal session only. The portal keeps the account's
// tokens sealed among the session's values (never in the browser, never
// logged), never its password, renews the tokens, and signs out of VBAzure
// when the administrator signs out of the portal.

// Session values of the VBAzure administration.
const (
	azureTokenValue  = "vbazure_token"
	azureSignInValue = "vbazure_signin"    // a sign-in waiting for its MFA code
	azureSetupValue  = "vbazure_mfa_setup" // an MFA setup waiting for its first code
	azureFlashValue  = "vbazure_flash"     // what the last action did, shown once
)

// Sealing purposes: a sealed value of one kind never opens as another.
const (
	azureTokenPurpose  = "vbazure-token"
	azureSignInPurpose = "vbazure-signin"
	azureSetupPurpose  = "vbazure-mfa-setup"
)

// azureToken is a connected account's token pair, as the session keeps it (sealed).
type azureToken struct {
	Access  string    `json:"access"`
	Refresh string    `json:"refresh"`
	Expiry  time.Time `json:"expiry"`
	RenewAt time.Time `json:"renew_at"`
	UserID  string    `json:"user_id"`
	Name    string    `json:"name"`
	Role    string    `json:"role"`
}

// azureSignIn is a sign-in whose password was right, waiting for the code.
type azureSignIn struct {
	MFAToken string    `json:"mfa_token"`
	Name     string    `json:"name"`
	Expires  time.Time `json:"expires"`
}

// azureSignInLifetime is how long the portal keeps a sign-in waiting for its code.
const azureSignInLifetime = 5 * time.Minute

// isAdmin reports whether the user is one of the portal's administrators.
func (h *Handler) isAdmin(c *echo.Context) bool {
	return h.azure != nil && hasRoleOrGroup(userFrom(c), h.cfg.Admins)
}

// requireAdmin lets only administrators reach the VBAzure pages, which do
// not exist when VBAzure is not configured.
func (h *Handler) requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		if h.azure == nil {
			return httpError(http.StatusNotFound, errors.New("VBAzure is not configured"))
		}
		if !h.isAdmin(c) {
			h.log.WarnContext(c.Request().Context(), "authz_fail", "resource", "vbazure_admin", "oid", userFrom(c).OID)
			return &Error{Status: http.StatusForbidden, Title: "Only the portal's administrators open this page",
				Message: "Your account is not in the group or app role chosen for the portal's administrators. Ask them if you need access."}
		}
		return next(c)
	}
}

// sealedValue reads a sealed session value into v; ok is false when there
// is none, or it does not open (a retired key).
func (h *Handler) sealedValue(c *echo.Context, name, purpose string, v any) (bool, error) {
	sealed, err := h.store.Value(c.Request().Context(), userFrom(c).SID, name)
	if sealed == nil || err != nil {
		return false, err
	}
	plain, err := h.sealer.Open(sealed, purpose)
	if err != nil || json.Unmarshal(plain, v) != nil {
		return false, nil
	}
	return true, nil
}

// seal seals v for a purpose.
func (h *Handler) seal(v any, purpose string) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return h.sealer.Seal(b, purpose)
}

// setSealedValue keeps v sealed among the session's values, as it is
// sealed (SwapValue compares those bytes).
func (h *Handler) setSealedValue(c *echo.Context, name, purpose string, v any) error {
	sealed, err := h.seal(v, purpose)
	if err != nil {
		return err
	}
	return h.store.SetValue(c.Request().Context(), userFrom(c).SID, name, sealed)
}

// errAzureDisconnected: the administrator's VBAzure sign-in ended (signed
// out elsewhere, refresh refused, the account removed).
var errAzureDisconnected = errors.New("handlers: not connected to VBAzure")

// azureTokens is the connected account's tokens as a vbazure.TokenSource:
// renewed before they expire, once however many requests find them due
// (in this process, one request renews; across replicas, the session value
// is swapped only if nobody renewed it meanwhile).
type azureTokens struct {
	h *Handler
	c *echo.Context
}

func (t azureTokens) Token(ctx context.Context) (string, error) {
	tok, sealed, err := t.current()
	if err != nil {
		return "", err
	}
	if t.h.cfg.Now().Before(tok.RenewAt) {
		return tok.Access, nil
	}
	return t.renew(ctx, tok, sealed)
}

func (t azureTokens) Refresh(ctx context.Context, rejected string) (string, error) {
	tok, sealed, err := t.current()
	if err != nil {
		return "", err
	}
	if tok.Access != rejected {
		return tok.Access, nil
	}
	return t.renew(ctx, tok, sealed)
}

// current reads the connected account's tokens and their sealed form.
func (t azureTokens) current() (azureToken, []byte, error) {
	sealed, err := t.h.store.Value(t.c.Request().Context(), userFrom(t.c).SID, azureTokenValue)
	if err != nil {
		return azureToken{}, nil, err
	}
	var tok azureToken
	if plain, oerr := t.h.sealer.Open(sealed, azureTokenPurpose); sealed == nil || oerr != nil || json.Unmarshal(plain, &tok) != nil {
		return azureToken{}, nil, errAzureDisconnected
	}
	return tok, sealed, nil
}

func (t azureTokens) renew(ctx context.Context, old azureToken, oldSealed []byte) (string, error) {
	sid := userFrom(t.c).SID
	v, err, _ := t.h.azureFlight.Do(sid, func() (any, error) {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
		defer cancel()
		fresh, err := t.h.azure.Refresh(rctx, old.Refresh)
		if errors.Is(err, vbazure.ErrSignInRefused) {
			t.h.setSessionValue(t.c, azureTokenValue, nil)
			return nil, errAzureDisconnected
		}
		if err != nil {
			return nil, err
		}
		next := azureTokenOf(fresh, old.Name, t.h.cfg.Now())
		sealed, err := t.h.seal(next, azureTokenPurpose)
		if err != nil {
			return nil, err
		}
		swapped, err := t.h.store.SwapValue(rctx, sid, azureTokenValue, oldSealed, sealed)
		if err != nil {
			return nil, err
		}
		if !swapped { // another replica renewed them meanwhile: theirs stand
			cur, _, err := t.current()
			return cur.Access, err
		}
		return next.Access, nil
	})
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

// azureTokenOf keeps a pair with when to renew it: a minute before it expires.
func azureTokenOf(t *vbazure.Token, name string, now time.Time) azureToken {
	if t.UserName != "" {
		name = t.UserName
	}
	return azureToken{Access: t.AccessToken, Refresh: t.RefreshToken, Expiry: t.Expiry, RenewAt: t.Expiry.Add(-time.Minute),
		UserID: t.UserID, Name: name, Role: t.Role}
}

// azureAccount is the connected account, and the API as it sees it; nil
// when the administrator has not connected.
func (h *Handler) azureAccount(c *echo.Context) (*vbazure.Account, *azureToken, error) {
	tok, _, err := azureTokens{h, c}.current()
	if errors.Is(err, errAzureDisconnected) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	return h.azure.As(azureTokens{h, c}), &tok, nil
}

// azureError says what a VBAzure failure means to an administrator.
func azureError(err error) error {
	switch {
	case errors.Is(err, errAzureDisconnected), errors.Is(err, vbazure.ErrUnauthorized):
		return &Error{Status: http.StatusUnauthorized, Title: "Your Azure backup sign-in has ended", Err: err, BackURL: "/admin/azure",
			Message: "Veeam Backup for Microsoft Azure no longer accepts it (it expired, or you signed out there). Connect again."}
	case errors.Is(err, vbazure.ErrForbidden):
		return &Error{Status: http.StatusForbidden, Title: "Your Azure backup account may not do this", Err: err, BackURL: "/admin/azure",
			Message: "Only a Portal Administrator account of Veeam Backup for Microsoft Azure manages users, and some things only the account itself may do. Connect with such an account."}
	case errors.Is(err, vbazure.ErrNotFound):
		return &Error{Status: http.StatusNotFound, Title: "That user is gone", Err: err, BackURL: "/admin/azure",
			Message: "Veeam Backup for Microsoft Azure has no such user any more: someone may have removed it."}
	case errors.Is(err, vbazure.ErrUnavailable):
		return &Error{Status: http.StatusBadGateway, Title: "The Azure backup server is not answering", Retry: true, Err: err,
			Message: "The portal cannot get an answer from Veeam Backup for Microsoft Azure right now. Nothing was changed. Try again in a minute."}
	}
	return err
}

// azureFlash keeps a sentence for the next page to show once.
func (h *Handler) azureFlash(c *echo.Context, text string) {
	if err := h.setSessionValue(c, azureFlashValue, text); err != nil {
		h.log.WarnContext(c.Request().Context(), "flash_unsaved", "error", err)
	}
}

func (h *Handler) takeAzureFlash(c *echo.Context) string {
	var text string
	h.takeSessionValue(c, azureFlashValue, &text)
	return text
}

// azureAudit records an administration action in the audit trail: who,
// on which VBAzure user, what changed; never a password, code or secret.
func azureAudit(c *echo.Context, subject, subjectID, detail string) {
	ae := auditOf(c)
	ae.Subject, ae.SubjectID, ae.Detail = subject, subjectID, detail
}

// azureConnectPage shows the connect form, or the code form when a sign-in
// waits for its code.
func (h *Handler) azureConnectPage(c *echo.Context, v templates.AzureConnectView) error {
	v.CSRFToken = h.csrfToken(c.Request().Context())
	if v.Flash == "" {
		v.Flash = h.takeAzureFlash(c)
	}
	m := h.meta(c, "Connect to Azure backup")
	m.Nav = "azure"
	status := http.StatusOK
	if len(v.Problems) > 0 {
		status = http.StatusUnprocessableEntity
	}
	return render(c, status, templates.AzureConnectPage(m, v))
}

// azureCodePage handles GET /admin/azure/connect/code: the code form of a
// sign-in whose password was right.
func (h *Handler) azureCodePage(c *echo.Context) error {
	var in azureSignIn
	if ok, err := h.sealedValue(c, azureSignInValue, azureSignInPurpose, &in); err != nil {
		return err
	} else if !ok || h.cfg.Now().After(in.Expires) {
		return seeOther(c, "/admin/azure")
	}
	return h.azureConnectPage(c, templates.AzureConnectView{Name: in.Name, Code: true})
}

// azureConnect handles POST /admin/azure/connect (name, password): the
// administrator's own VBAzure account; when it has MFA, the code follows.
func (h *Handler) azureConnect(c *echo.Context) error {
	ctx := c.Request().Context()
	form, err := postForm(c)
	if err != nil {
		return err
	}
	name, password := strings.TrimSpace(form.Get("name")), form.Get("password")
	v := templates.AzureConnectView{Name: name, Errors: map[string]string{}}
	if name == "" {
		v.Errors["azure-name"] = "Enter the user name of your Veeam Backup for Microsoft Azure account."
	}
	if password == "" {
		v.Errors["azure-password"] = "Enter its password."
	}
	if len(v.Errors) > 0 {
		auditOf(c).skip = true // nothing was sent
		v.Problems = problemsOf(v.Errors, "azure-name", "azure-password")
		return h.azureConnectPage(c, v)
	}
	azureAudit(c, name, "", "connect")
	in, err := h.azure.SignIn(ctx, name, password)
	switch {
	case errors.Is(err, vbazure.ErrSignInRefused):
		auditOf(c).Outcome, auditOf(c).Detail = audit.Refused, "connect: the user name or password was refused"
		v.Errors["azure-password"] = "Veeam Backup for Microsoft Azure refused this user name or password. Check both and try again."
		v.Problems = problemsOf(v.Errors, "azure-password")
		return h.azureConnectPage(c, v)
	case err != nil:
		return azureError(err)
	case in.MFAToken != "":
		auditOf(c).skip = true // the code's request records the sign-in
		if err := h.setSealedValue(c, azureSignInValue, azureSignInPurpose,
			azureSignIn{MFAToken: in.MFAToken, Name: name, Expires: h.cfg.Now().Add(azureSignInLifetime)}); err != nil {
			return err
		}
		return seeOther(c, "/admin/azure/connect/code")
	}
	return h.azureConnected(c, in.Token, name)
}

// azureCode handles POST /admin/azure/connect/code (code).
func (h *Handler) azureCode(c *echo.Context) error {
	ctx := c.Request().Context()
	form, err := postForm(c)
	if err != nil {
		return err
	}
	var in azureSignIn
	if ok, err := h.sealedValue(c, azureSignInValue, azureSignInPurpose, &in); err != nil {
		return err
	} else if !ok || h.cfg.Now().After(in.Expires) {
		auditOf(c).skip = true
		h.azureFlash(c, "The sign-in waited too long for its code. Enter your user name and password again.")
		return seeOther(c, "/admin/azure")
	}
	code := strings.ReplaceAll(strings.TrimSpace(form.Get("code")), " ", "")
	v := templates.AzureConnectView{Name: in.Name, Code: true, Errors: map[string]string{}}
	if !sixDigits(code) && !eightDigits(code) {
		auditOf(c).skip = true
		v.Errors["azure-code"] = "Enter the 6-digit code your authenticator app shows now (or one of your 8-digit scratch codes)."
		v.Problems = problemsOf(v.Errors, "azure-code")
		return h.azureConnectPage(c, v)
	}
	azureAudit(c, in.Name, "", "connect with MFA")
	tok, err := h.azure.CompleteMFA(ctx, in.MFAToken, code)
	if errors.Is(err, vbazure.ErrSignInRefused) {
		auditOf(c).Outcome, auditOf(c).Detail = audit.Refused, "connect: the MFA code was refused"
		v.Errors["azure-code"] = "That code was not accepted. Codes change every 30 seconds and work once: enter the one your app shows now."
		v.Problems = problemsOf(v.Errors, "azure-code")
		return h.azureConnectPage(c, v)
	}
	if err != nil {
		return azureError(err)
	}
	h.setSessionValue(c, azureSignInValue, nil)
	return h.azureConnected(c, tok, in.Name)
}

// azureConnected keeps the account's tokens for this portal session.
func (h *Handler) azureConnected(c *echo.Context, tok *vbazure.Token, name string) error {
	t := azureTokenOf(tok, name, h.cfg.Now())
	if err := h.setSealedValue(c, azureTokenValue, azureTokenPurpose, t); err != nil {
		return err
	}
	auditOf(c).SubjectID = t.UserID
	h.log.InfoContext(c.Request().Context(), "vbazure_connected", "vbazure_user", t.Name, "role", t.Role, "oid", userFrom(c).OID)
	if t.Role != vbazure.RolePortalAdmin {
		h.azureFlash(c, "You are connected as "+t.Name+", a "+roleLabel(t.Role)+": only a Portal Administrator account manages users.")
	}
	return seeOther(c, "/admin/azure")
}

// azureDisconnect handles POST /admin/azure/disconnect.
func (h *Handler) azureDisconnect(c *echo.Context) error {
	h.disconnectAzure(c)
	h.azureFlash(c, "You signed out of Veeam Backup for Microsoft Azure.")
	return seeOther(c, "/admin/azure")
}

// disconnectAzure signs the connected account out of VBAzure (best effort,
// bounded) and forgets its tokens; portal sign-out calls it too.
func (h *Handler) disconnectAzure(c *echo.Context) {
	if h.azure == nil {
		return
	}
	tok, _, err := azureTokens{h, c}.current()
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request().Context()), 5*time.Second)
	defer cancel()
	if err := h.azure.SignOut(ctx, tok.Access); err != nil {
		h.log.WarnContext(ctx, "vbazure_signout_failed", "error", err)
	}
	h.setSessionValue(c, azureTokenValue, nil)
	h.setSessionValue(c, azureSetupValue, nil)
}

func sixDigits(s string) bool   { return len(s) == 6 && strings.Trim(s, "0123456789") == "" }
func eightDigits(s string) bool { return len(s) == 8 && strings.Trim(s, "0123456789") == "" }

// problemsOf lists field errors in the order of the form's fields.
func problemsOf(errs map[string]string, order ...string) []templates.Problem {
	var out []templates.Problem
	seen := map[string]bool{}
	for _, id := range order {
		if t := errs[id]; t != "" {
			out = append(out, templates.Problem{Field: id, Text: t})
			seen[id] = true
		}
	}
	for id, t := range errs {
		if !seen[id] && t != "" {
			out = append(out, templates.Problem{Field: id, Text: t})
		}
	}
	return out
}

// roleLabels are VBAzure's roles as people read them.
var roleLabels = map[string]string{
	vbazure.RolePortalAdmin: "Portal Administrator", vbazure.RolePortalOperator: "Portal Operator",
	vbazure.RoleRestoreOperator: "Restore Operator", vbazure.RoleReadOnlyUser: "Read-Only User",
}

func roleLabel(r string) string {
	if l, ok := roleLabels[r]; ok {
		return l
	}
	return r
}

// roleOptions are the roles an administrator can give, in order of power.
func roleOptions() []templates.Option {
	var out []templates.Option
	for _, r := range []string{vbazure.RoleRestoreOperator, vbazure.RoleReadOnlyUser, vbazure.RolePortalOperator, vbazure.RolePortalAdmin} {
		out = append(out, templates.Option{Value: r, Label: roleLabels[r]})
	}
	return out
}

// azureFieldErrors turns VBAzure's problems with fields into plain
// sentences next to the form's fields (fields maps VBAzure's names to the
// form's ids); what fits no field goes to the form as a whole.
func azureFieldErrors(err error, fields map[string]string) map[string]string {
	out := map[string]string{}
	var p *vbazure.Problem
	if !errors.As(err, &p) {
		return out
	}
	for field, msgs := range p.Errors {
		id, ok := fields[strings.ToLower(field)]
		if !ok {
			id = ""
		}
		text := strings.Join(msgs, " ")
		if prev := out[id]; prev != "" {
			text = prev + " " + text
		}
		out[id] = "Veeam Backup for Microsoft Azure refused this: " + text
	}
	if len(out) == 0 {
		detail := p.Detail
		if detail == "" {
			detail = p.Title
		}
		out[""] = fmt.Sprintf("Veeam Backup for Microsoft Azure refused this: %s", detail)
	}
	return out
}
