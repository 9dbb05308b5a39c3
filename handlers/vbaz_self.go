package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v5"
	"rsc.io/qr"

	"github.com/openrestore/portal/audit"
	"github.com/openrestore/portal/templates"
	"github.com/openrestore/portal/vbazure"
)

// azureSetup is an MFA setup of the administrator's own account, between
// enableMfa and acceptMfa: shown until the first code proves the app has
// the secret, or it runs out.
type azureSetup struct {
	QRString string    `json:"qr"`
	Secret   string    `json:"secret"`
	Scratch  []string  `json:"scratch"`
	Token    string    `json:"token"`
	Expires  time.Time `json:"expires"`
}

// azureSetupLifetime is how long an unfinished setup is shown.
const azureSetupLifetime = 10 * time.Minute

// azureMFAPage handles GET /admin/azure/mfa: MFA of the connected account,
// with the setup under way if any.
func (h *Handler) azureMFAPage(c *echo.Context) error {
	return h.renderMFA(c, templates.AzureMFAView{}, http.StatusOK)
}

func (h *Handler) renderMFA(c *echo.Context, v templates.AzureMFAView, status int) error {
	ctx := c.Request().Context()
	acct, tok, err := h.connected(c)
	if err != nil {
		return err
	}
	me, err := acct.User(ctx, tok.UserID)
	if err != nil && !errors.Is(err, vbazure.ErrForbidden) {
		return azureError(err)
	}
	v.CSRFToken, v.Account = h.csrfToken(ctx), tok.Name
	v.Enabled = me != nil && me.MFAEnabled
	if v.Flash == "" {
		v.Flash = h.takeAzureFlash(c)
	}
	var setup azureSetup
	if ok, err := h.sealedValue(c, azureSetupValue, azureSetupPurpose, &setup); err != nil {
		return err
	} else if ok && h.cfg.Now().Before(setup.Expires) {
		qrv, err := qrView(setup.QRString)
		if err != nil {
			return err
		}
		v.Setup = &templates.AzureMFASetupView{QR: qrv, Secret: groupsOf4(setup.Secret), Scratch: setup.Scratch,
			Expires: setup.Expires.In(h.zone(c)).Format("15:04")}
	}
	v.Problems = problemsOf(v.Errors, "azure-code")
	return h.azureRender(c, "Your Azure backup MFA", status, func(m templates.Meta) templ.Component { return templates.AzureMFAPage(m, v) })
}

// azureStartMFA handles POST /admin/azure/mfa (recreate): a new secret for
// the connected account's authenticator app.
func (h *Handler) azureStartMFA(c *echo.Context) error {
	ctx := c.Request().Context()
	acct, tok, form, err := h.connectedForm(c)
	if err != nil {
		return err
	}
	azureAudit(c, tok.Name, tok.UserID, "own MFA: a new secret key")
	s, err := acct.EnableMFA(ctx, tok.UserID, form.Get("recreate") == "1")
	if errors.Is(err, vbazure.ErrInvalid) {
		auditOf(c).Outcome = audit.Refused
		h.azureFlash(c, azureFieldErrors(err, nil)[""])
		return seeOther(c, "/admin/azure/mfa")
	}
	if err != nil {
		return azureError(err)
	}
	if err := h.setSealedValue(c, azureSetupValue, azureSetupPurpose, azureSetup{QRString: s.QRString, Secret: s.SecretKey,
		Scratch: s.ScratchCodes, Token: s.Token, Expires: h.cfg.Now().Add(azureSetupLifetime)}); err != nil {
		return err
	}
	return seeOther(c, "/admin/azure/mfa")
}

// azureAcceptMFA handles POST /admin/azure/mfa/accept (code): the first
// code from the app completes the setup.
func (h *Handler) azureAcceptMFA(c *echo.Context) error {
	ctx := c.Request().Context()
	acct, tok, form, err := h.connectedForm(c)
	if err != nil {
		return err
	}
	var setup azureSetup
	if ok, err := h.sealedValue(c, azureSetupValue, azureSetupPurpose, &setup); err != nil {
		return err
	} else if !ok || !h.cfg.Now().Before(setup.Expires) {
		auditOf(c).skip = true
		h.azureFlash(c, "The setup ran out before a code came. Start it again.")
		return seeOther(c, "/admin/azure/mfa")
	}
	code := strings.ReplaceAll(strings.TrimSpace(form.Get("code")), " ", "")
	if !sixDigits(code) {
		auditOf(c).skip = true
		return h.renderMFA(c, templates.AzureMFAView{Errors: map[string]string{"azure-code": "Enter the 6-digit code your app shows now."}}, http.StatusUnprocessableEntity)
	}
	azureAudit(c, tok.Name, tok.UserID, "own MFA turned on")
	if err := acct.AcceptMFA(ctx, tok.UserID, code, setup.Token); errors.Is(err, vbazure.ErrInvalid) {
		auditOf(c).Outcome = audit.Refused
		return h.renderMFA(c, templates.AzureMFAView{Errors: map[string]string{
			"azure-code": "That code was not accepted. Check that the app shows the account just added, and enter the code it shows now."}},
			http.StatusUnprocessableEntity)
	} else if err != nil {
		return azureError(err)
	}
	h.setSessionValue(c, azureSetupValue, nil) // the secret and scratch codes are not shown again
	h.azureFlash(c, "MFA is on: from now on, signing in to Veeam Backup for Microsoft Azure asks for a code from your app.")
	return seeOther(c, "/admin/azure/mfa")
}

// qrView draws an otpauth:// address as a QR code: the modules as one SVG
// path, four modules of quiet zone around.
func qrView(text string) (templates.QRView, error) {
	code, err := qr.Encode(text, qr.M)
	if err != nil {
		return templates.QRView{}, fmt.Errorf("the QR code: %w", err)
	}
	var b strings.Builder
	for y := range code.Size {
		for x := range code.Size {
			if code.Black(x, y) {
				fmt.Fprintf(&b, "M%d %dh1v1h-1z", x+4, y+4)
			}
		}
	}
	return templates.QRView{Size: code.Size + 8, Path: b.String()}, nil
}

// groupsOf4 spaces a secret for reading aloud and typing.
func groupsOf4(s string) string {
	var parts []string
	for len(s) > 4 {
		parts, s = append(parts, s[:4]), s[4:]
	}
	return strings.Join(append(parts, s), " ")
}

// azureOwnPasswordPage handles GET /admin/azure/password.
func (h *Handler) azureOwnPasswordPage(c *echo.Context) error {
	if _, _, err := h.connected(c); err != nil {
		return err
	}
	return h.renderOwnPassword(c, templates.AzurePasswordView{}, http.StatusOK)
}

func (h *Handler) renderOwnPassword(c *echo.Context, v templates.AzurePasswordView, status int) error {
	_, tok, err := h.connected(c)
	if err != nil {
		return err
	}
	v.CSRFToken, v.PasswordRule, v.Own = h.csrfToken(c.Request().Context()), vbazure.PasswordRule, true
	v.Name, v.Action, v.BackURL = tok.Name, "/admin/azure/password", "/admin/azure"
	v.Problems = problemsOf(v.Errors, "azure-current", "azure-password", "azure-confirm")
	return h.azureRender(c, "Change your Azure backup password", status, func(m templates.Meta) templ.Component { return templates.AzurePasswordPage(m, v) })
}

// azureChangeOwnPassword handles POST /admin/azure/password (current, new twice).
func (h *Handler) azureChangeOwnPassword(c *echo.Context) error {
	ctx := c.Request().Context()
	acct, tok, form, err := h.connectedForm(c)
	if err != nil {
		return err
	}
	current, password, confirm := form.Get("current"), form.Get("password"), form.Get("confirm")
	v := templates.AzurePasswordView{Errors: map[string]string{}}
	if current == "" {
		v.Errors["azure-current"] = "Enter your current password."
	}
	if p := vbazure.PasswordProblem(password); p != "" {
		v.Errors["azure-password"] = p
	} else if confirm != password {
		v.Errors["azure-confirm"] = "The two passwords differ: type the same password twice."
	} else if password == current {
		v.Errors["azure-password"] = "Choose a password other than the current one."
	}
	if len(v.Errors) > 0 {
		auditOf(c).skip = true
		return h.renderOwnPassword(c, v, http.StatusUnprocessableEntity)
	}
	azureAudit(c, tok.Name, tok.UserID, "own password changed")
	if err := acct.ChangeOwnPassword(ctx, current, password); errors.Is(err, vbazure.ErrInvalid) {
		auditOf(c).Outcome = audit.Refused
		v.Errors = azureFieldErrors(err, map[string]string{"currentpassword": "azure-current", "newpassword": "azure-password"})
		return h.renderOwnPassword(c, v, http.StatusUnprocessableEntity)
	} else if err != nil {
		return azureError(err)
	}
	h.azureFlash(c, "Your Veeam Backup for Microsoft Azure password is changed.")
	return seeOther(c, "/admin/azure")
}
