package handlers

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v5"

	"github.com/openrestore/portal/audit"
	"github.com/openrestore/portal/directory"
	"github.com/openrestore/portal/templates"
	"github.com/openrestore/portal/vbazure"
)

// azureUsersPageSize is how many users a page lists.
const azureUsersPageSize = 50

// azureUsersPage handles GET /admin/azure[?q=&offset=]: the users of
// VBAzure, or the connect form when the administrator has not connected.
func (h *Handler) azureUsersPage(c *echo.Context) error {
	ctx := c.Request().Context()
	acct, tok, err := h.azureAccount(c)
	if err != nil {
		return err
	}
	if acct == nil {
		return h.azureConnectPage(c, templates.AzureConnectView{})
	}
	q := strings.TrimSpace(c.QueryParam("q"))
	if len(q) > 64 {
		return badRequest("Search for at most 64 characters of a name.")
	}
	offset, err := parseOffset(c.QueryParam("offset"))
	if err != nil {
		return err
	}
	page, err := acct.Users(ctx, vbazure.UsersQuery{NameFilter: q, Offset: offset, Limit: azureUsersPageSize})
	if err != nil {
		return azureError(err)
	}
	v := templates.AzureUsersView{CSRFToken: h.csrfToken(ctx), Account: azureAccountView(tok), Query: q,
		Flash: h.takeAzureFlash(c), Admin: tok.Role == vbazure.RolePortalAdmin}
	for _, u := range page.Results {
		v.Rows = append(v.Rows, templates.AzureUserRow{URL: "/admin/azure/users/" + url.PathEscape(u.ID), Name: u.Name,
			Description: u.Description, Role: roleLabel(u.Role), Type: typeLabel(u.Type), MFA: u.MFAEnabled, Default: u.IsDefault,
			Self: u.ID == tok.UserID, Entra: u.Type == vbazure.TypeIdentityProvider})
	}
	switch n := len(page.Results); {
	case page.TotalCount == 0 && q != "":
		v.Summary = "No user's name holds “" + q + "”."
	case n == 0:
		v.Summary = "No users."
	default:
		v.Summary = fmt.Sprintf("Users %s to %s of %s.", thousands(offset+1), thousands(offset+n), thousands(page.TotalCount))
	}
	link := func(off int) string {
		p := url.Values{}
		if q != "" {
			p.Set("q", q)
		}
		if off > 0 {
			p.Set("offset", strconv.Itoa(off))
		}
		if len(p) == 0 {
			return "/admin/azure"
		}
		return "/admin/azure?" + p.Encode()
	}
	if offset > 0 {
		v.PrevURL = link(max(offset-azureUsersPageSize, 0))
	}
	if offset+len(page.Results) < page.TotalCount {
		v.NextURL = link(offset + azureUsersPageSize)
	}
	m := h.meta(c, "Azure backup users")
	m.Nav, m.Wide = "azure", true
	return render(c, http.StatusOK, templates.AzureUsersPage(m, v))
}

func azureAccountView(t *azureToken) templates.AzureAccountView {
	return templates.AzureAccountView{Name: t.Name, Role: roleLabel(t.Role)}
}

func typeLabel(t string) string {
	if t == vbazure.TypeIdentityProvider {
		return "Microsoft Entra ID"
	}
	return "Internal"
}

// connected is the connected account, or a redirect to connect first.
func (h *Handler) connected(c *echo.Context) (*vbazure.Account, *azureToken, error) {
	acct, tok, err := h.azureAccount(c)
	if err == nil && acct == nil {
		err = &Error{Status: http.StatusUnauthorized, Title: "Connect to Veeam Backup for Microsoft Azure first", BackURL: "/admin/azure",
			Message: "Sign in there with your own account on the Azure backup users page."}
	}
	return acct, tok, err
}

// azureRender renders an administration page.
func (h *Handler) azureRender(c *echo.Context, title string, status int, page func(templates.Meta) templ.Component) error {
	m := h.meta(c, title)
	m.Nav = "azure"
	return render(c, status, page(m))
}

// connectedForm is the connected account and the posted form.
func (h *Handler) connectedForm(c *echo.Context) (*vbazure.Account, *azureToken, url.Values, error) {
	acct, tok, err := h.connected(c)
	if err != nil {
		return nil, nil, nil, err
	}
	form, err := postForm(c)
	return acct, tok, form, err
}

// azureTarget is the VBAzure user in the path, and the connected account
// that acts on it.
type azureTarget struct {
	acct *vbazure.Account
	tok  *azureToken
	u    *vbazure.User
}

// page is the user's page.
func (t azureTarget) page() string { return "/admin/azure/users/" + url.PathEscape(t.u.ID) }

// target reads the user in the path with the connected account.
func (h *Handler) target(c *echo.Context) (azureTarget, error) {
	acct, tok, err := h.connected(c)
	if err != nil {
		return azureTarget{}, err
	}
	id := c.Param("id")
	if !sessionIDPattern.MatchString(id) {
		return azureTarget{}, httpError(http.StatusNotFound, fmt.Errorf("VBAzure user id %q", id))
	}
	u, err := acct.User(c.Request().Context(), id)
	if err != nil {
		return azureTarget{}, azureError(err)
	}
	auditOf(c).Subject, auditOf(c).SubjectID = u.Name, u.ID
	return azureTarget{acct: acct, tok: tok, u: u}, nil
}

// azureAct does a change VBAzure may refuse (remove, MFA off): a refusal
// comes back to the user's page with VBAzure's reason, a success goes to
// next with done said.
func (h *Handler) azureAct(c *echo.Context, t azureTarget, detail string, do func() error, next, done string) error {
	auditOf(c).Detail = detail
	err := do()
	switch {
	case errors.Is(err, vbazure.ErrInvalid):
		auditOf(c).Outcome = audit.Refused
		h.azureFlash(c, azureFieldErrors(err, nil)[""])
		return seeOther(c, t.page())
	case err != nil:
		return azureError(err)
	}
	h.azureFlash(c, done)
	return seeOther(c, next)
}

// azureNewUserPage handles GET /admin/azure/users/new[?kind=entra&people=]:
// the form to add a user, internal or picked from the directory.
func (h *Handler) azureNewUserPage(c *echo.Context) error {
	if _, _, err := h.connected(c); err != nil {
		return err
	}
	v := templates.AzureNewUserView{Kind: c.QueryParam("kind"), Role: vbazure.RoleRestoreOperator}
	if v.Kind != "entra" {
		v.Kind = "internal"
	}
	v.PeopleQuery = strings.TrimSpace(c.QueryParam("people"))
	return h.renderNewUser(c, v, http.StatusOK)
}

// renderNewUser shows the add form, with the people the search found.
func (h *Handler) renderNewUser(c *echo.Context, v templates.AzureNewUserView, status int) error {
	ctx := c.Request().Context()
	v.CSRFToken, v.Roles = h.csrfToken(ctx), roleOptions()
	v.NameRule, v.DescriptionRule, v.PasswordRule = vbazure.NameRule, vbazure.DescriptionRule, vbazure.PasswordRule
	v.DirectoryMissing = h.directory == nil
	if v.Kind == "entra" && v.PeopleQuery != "" && h.directory != nil {
		people, problem, err := h.searchPeople(c, v.PeopleQuery)
		if err != nil {
			// Entra wants a new sign-in (maybe with a claims challenge); it
			// returns to this search.
			search := "/admin/azure/users/new?" + url.Values{"kind": {"entra"}, "people": {v.PeopleQuery}}.Encode()
			return redirectTo(signInTarget(search, err))
		}
		if problem != "" {
			v.Errors = withError(v.Errors, "azure-people", problem)
		}
		for _, p := range people {
			v.People = append(v.People, templates.AzurePersonView{ID: p.ID, Name: p.Name, UPN: p.UPN, Detail: p.JobTitle,
				Chosen: p.ID == v.Person})
		}
		if len(people) == 0 && problem == "" {
			v.Errors = withError(v.Errors, "azure-people", "Nobody in the directory matches “"+v.PeopleQuery+"”. Try the start of a first name, last name or address.")
		}
	}
	if len(v.Problems) == 0 {
		v.Problems = problemsOf(v.Errors, "azure-people", "azure-person", "azure-name", "azure-description", "azure-role", "azure-password", "azure-confirm")
	}
	return h.azureRender(c, "Add an Azure backup user", status, func(m templates.Meta) templ.Component { return templates.AzureNewUserPage(m, v) })
}

func withError(errs map[string]string, id, text string) map[string]string {
	if errs == nil {
		errs = map[string]string{}
	}
	errs[id] = text
	return errs
}

// searchPeople finds people in the directory with the administrator's own
// delegated Graph token, or says why it could not; when Entra wants the
// administrator to sign in again, the error says so too.
func (h *Handler) searchPeople(c *echo.Context, q string) ([]personHit, string, error) {
	if len(q) > 64 {
		return nil, "Search for at most 64 characters.", nil
	}
	ctx := c.Request().Context()
	tok, err := h.auth.TokenFor(ctx, directory.Scope)
	if needsSignIn(err) {
		h.log.InfoContext(ctx, "directory_token_needs_sign_in", "error", err)
		return nil, "Microsoft Entra ID wants you to sign in again before the portal may read the directory. Reload the search to sign in.", err
	}
	if err != nil {
		h.log.WarnContext(ctx, "directory_token_failed", "error", err)
		return nil, "The portal could not get permission to read the directory from Microsoft Entra ID. Try again in a minute; if it goes on, an Entra administrator must consent to the portal reading people's basic profiles (User.ReadBasic.All).", nil
	}
	people, err := h.directory.Search(ctx, tok, q, 20)
	if err != nil {
		h.log.WarnContext(ctx, "directory_search_failed", "error", err)
		if errors.Is(err, directory.ErrDenied) {
			return nil, "Microsoft Graph refused the search: an Entra administrator must consent to the portal reading people's basic profiles (User.ReadBasic.All).", nil
		}
		return nil, "The directory did not answer the search. Try again in a minute.", nil
	}
	out := make([]personHit, len(people))
	for i, p := range people {
		out[i] = personHit{ID: p.ID, Name: p.Name, UPN: p.UPN, JobTitle: p.JobTitle}
	}
	return out, "", nil
}

// personHit is someone the directory search found.
type personHit struct{ ID, Name, UPN, JobTitle string }

// azureCreateUser handles POST /admin/azure/users: add an internal user
// (name, description, role, password twice) or one of the directory
// (person, name, description, role).
func (h *Handler) azureCreateUser(c *echo.Context) error {
	ctx := c.Request().Context()
	acct, _, form, err := h.connectedForm(c)
	if err != nil {
		return err
	}
	v := templates.AzureNewUserView{Kind: form.Get("kind"), Name: strings.TrimSpace(form.Get("name")),
		Description: strings.TrimSpace(form.Get("description")), Role: form.Get("role"), Person: form.Get("person"),
		PeopleQuery: strings.TrimSpace(form.Get("people")), Errors: map[string]string{}}
	if v.Kind != "entra" {
		v.Kind = "internal"
	}
	// Searching the directory is not adding: the form comes back with the people found.
	if v.Kind == "entra" && form.Get("search") != "" {
		auditOf(c).skip = true
		return h.renderNewUser(c, v, http.StatusOK)
	}
	n := vbazure.NewUser{Description: v.Description, Role: v.Role, Type: vbazure.TypeInternal}
	if _, ok := roleLabels[v.Role]; !ok {
		v.Errors["azure-role"] = "Choose a role from the list."
	}
	if v.Kind == "entra" {
		person, problem := h.chosenPerson(c, v.Person, v.PeopleQuery)
		if problem != "" {
			v.Errors["azure-person"] = problem
		} else {
			n.Type, n.IdentityProviderEntityID = vbazure.TypeIdentityProvider, &person.ID
			if v.Name == "" {
				v.Name = nameFromPerson(person)
			}
			if v.Description == "" {
				v.Description = descriptionFromPerson(person)
			}
		}
	} else {
		password, confirm := form.Get("password"), form.Get("confirm")
		if p := vbazure.PasswordProblem(password); p != "" {
			v.Errors["azure-password"] = p
		} else if confirm != password {
			v.Errors["azure-confirm"] = "The two passwords differ: type the same password twice."
		}
		n.Password = &password
	}
	if p := vbazure.NameProblem(v.Name); p != "" {
		v.Errors["azure-name"] = p
	}
	if p := vbazure.DescriptionProblem(v.Description); p != "" {
		v.Errors["azure-description"] = p
	}
	if len(v.Errors) > 0 {
		auditOf(c).skip = true // nothing was sent
		return h.renderNewUser(c, v, http.StatusUnprocessableEntity)
	}
	n.Name, n.Description = v.Name, v.Description
	azureAudit(c, v.Name, "", "add a "+strings.ToLower(typeLabel(n.Type))+" user as "+roleLabel(v.Role))
	u, err := acct.CreateUser(ctx, n)
	if errors.Is(err, vbazure.ErrInvalid) {
		auditOf(c).Outcome = audit.Refused
		v.Errors = azureFieldErrors(err, map[string]string{"name": "azure-name", "description": "azure-description", "role": "azure-role",
			"password": "azure-password", "identityproviderentityid": "azure-person", "type": "azure-person"})
		v.Problems = problemsOf(v.Errors, "azure-person", "azure-name", "azure-description", "azure-role", "azure-password")
		return h.renderNewUser(c, v, http.StatusUnprocessableEntity)
	}
	if err != nil {
		return azureError(err)
	}
	auditOf(c).SubjectID = u.ID
	h.azureFlash(c, "Added "+u.Name+" as a "+roleLabel(u.Role)+".")
	return seeOther(c, "/admin/azure?q="+url.QueryEscape(u.Name))
}

// chosenPerson finds the person picked on the form again in the directory:
// the id must be one a search of the same words found, so that it cannot
// be typed in.
func (h *Handler) chosenPerson(c *echo.Context, id, q string) (personHit, string) {
	if h.directory == nil {
		return personHit{}, "The portal cannot read the directory (Microsoft Graph is not configured)."
	}
	if id == "" || q == "" {
		return personHit{}, "Search the directory and choose the person."
	}
	people, problem, _ := h.searchPeople(c, q)
	if problem != "" {
		return personHit{}, problem
	}
	for _, p := range people {
		if p.ID == id {
			return p, ""
		}
	}
	return personHit{}, "That person is not among those the search finds: search again and choose them."
}

// nameFromPerson makes a user name of a person's address (MeganB of
// MeganB@contoso.com), within the product's rules.
func nameFromPerson(p personHit) string {
	alias, _, _ := strings.Cut(p.UPN, "@")
	name := regexp.MustCompile(`[^A-Za-z0-9_-]+`).ReplaceAllString(alias, "-")
	if len(name) > 32 {
		name = name[:32]
	}
	return strings.Trim(name, "-")
}

// descriptionFromPerson is a person's name (and title) within the
// product's rules for descriptions.
func descriptionFromPerson(p personHit) string {
	d := p.Name
	if p.JobTitle != "" {
		d += ", " + p.JobTitle
	}
	d = strings.Map(func(r rune) rune {
		if vbazure.DescriptionProblem(string(r)) == "" {
			return r
		}
		return ' '
	}, d)
	d = strings.Join(strings.Fields(d), " ")
	if len(d) > 256 {
		d = d[:256]
	}
	return d
}

// azureUserPage handles GET /admin/azure/users/:id: a user, the form to
// change its role and description, and what else can be done with it.
func (h *Handler) azureUserPage(c *echo.Context) error {
	t, err := h.target(c)
	if err != nil {
		return err
	}
	tok, u := t.tok, t.u
	v := templates.AzureUserView{Role: u.Role, Description: u.Description}
	return h.renderUser(c, u, tok, v, http.StatusOK)
}

func (h *Handler) renderUser(c *echo.Context, u *vbazure.User, tok *azureToken, v templates.AzureUserView, status int) error {
	v.CSRFToken = h.csrfToken(c.Request().Context())
	v.ID, v.URL, v.Name, v.Type, v.MFA, v.Default = u.ID, "/admin/azure/users/"+url.PathEscape(u.ID), u.Name, typeLabel(u.Type), u.MFAEnabled, u.IsDefault
	v.Self, v.Internal, v.EntraID, v.Roles = u.ID == tok.UserID, u.Type == vbazure.TypeInternal, u.IdentityProviderEntityID, roleOptions()
	v.RoleLabel, v.DescriptionRule = roleLabel(u.Role), vbazure.DescriptionRule
	if v.Flash == "" {
		v.Flash = h.takeAzureFlash(c)
	}
	v.Problems = problemsOf(v.Errors, "azure-role", "azure-description")
	return h.azureRender(c, u.Name+" · Azure backup users", status, func(m templates.Meta) templ.Component { return templates.AzureUserPage(m, v) })
}

// azureUpdateUser handles POST /admin/azure/users/:id (role, description).
func (h *Handler) azureUpdateUser(c *echo.Context) error {
	ctx := c.Request().Context()
	t, err := h.target(c)
	if err != nil {
		return err
	}
	acct, tok, u := t.acct, t.tok, t.u
	form, err := postForm(c)
	if err != nil {
		return err
	}
	v := templates.AzureUserView{Role: form.Get("role"), Description: strings.TrimSpace(form.Get("description")), Errors: map[string]string{}}
	if _, ok := roleLabels[v.Role]; !ok {
		v.Errors["azure-role"] = "Choose a role from the list."
	}
	if p := vbazure.DescriptionProblem(v.Description); p != "" {
		v.Errors["azure-description"] = p
	}
	if len(v.Errors) > 0 {
		auditOf(c).skip = true
		return h.renderUser(c, u, tok, v, http.StatusUnprocessableEntity)
	}
	var ch vbazure.UserChange
	var changed []string
	if v.Role != u.Role {
		ch.Role = &v.Role
		changed = append(changed, "role "+roleLabel(u.Role)+" → "+roleLabel(v.Role))
	}
	if v.Description != u.Description {
		ch.Description = &v.Description
		changed = append(changed, "description changed")
	}
	if len(changed) == 0 {
		auditOf(c).skip = true
		h.azureFlash(c, "Nothing to change.")
		return seeOther(c, "/admin/azure/users/"+url.PathEscape(u.ID))
	}
	auditOf(c).Detail = strings.Join(changed, "; ")
	if _, err := acct.UpdateUser(ctx, u.ID, ch); errors.Is(err, vbazure.ErrInvalid) {
		auditOf(c).Outcome = audit.Refused
		v.Errors = azureFieldErrors(err, map[string]string{"role": "azure-role", "description": "azure-description"})
		return h.renderUser(c, u, tok, v, http.StatusUnprocessableEntity)
	} else if err != nil {
		return azureError(err)
	}
	h.azureFlash(c, "Saved: "+strings.Join(changed, "; ")+".")
	return seeOther(c, "/admin/azure/users/"+url.PathEscape(u.ID))
}

// azurePasswordPage handles GET /admin/azure/users/:id/password.
func (h *Handler) azurePasswordPage(c *echo.Context) error {
	t, err := h.target(c)
	if err != nil {
		return err
	}
	u := t.u
	return h.renderPassword(c, u, templates.AzurePasswordView{}, http.StatusOK)
}

func (h *Handler) renderPassword(c *echo.Context, u *vbazure.User, v templates.AzurePasswordView, status int) error {
	v.CSRFToken, v.PasswordRule = h.csrfToken(c.Request().Context()), vbazure.PasswordRule
	v.Name, v.Action, v.BackURL = u.Name, "/admin/azure/users/"+url.PathEscape(u.ID)+"/password", "/admin/azure/users/"+url.PathEscape(u.ID)
	if u.Type != vbazure.TypeInternal {
		v.NoPassword = true
	}
	v.Problems = problemsOf(v.Errors, "azure-password", "azure-confirm", "azure-admin-password")
	return h.azureRender(c, "Reset the password of "+u.Name, status, func(m templates.Meta) templ.Component { return templates.AzurePasswordPage(m, v) })
}

// azureResetPassword handles POST /admin/azure/users/:id/password: the new
// password twice, and the Default Admin's password, which VBAzure asks
// for and the portal never keeps.
func (h *Handler) azureResetPassword(c *echo.Context) error {
	ctx := c.Request().Context()
	t, err := h.target(c)
	if err != nil {
		return err
	}
	acct, u := t.acct, t.u
	form, err := postForm(c)
	if err != nil {
		return err
	}
	password, confirm, admins := form.Get("password"), form.Get("confirm"), form.Get("admin_password")
	v := templates.AzurePasswordView{Errors: map[string]string{}}
	if u.Type != vbazure.TypeInternal {
		v.Errors[""] = u.Name + " signs in with Microsoft Entra ID: there is no password to reset here."
	} else if p := vbazure.PasswordProblem(password); p != "" {
		v.Errors["azure-password"] = p
	} else if confirm != password {
		v.Errors["azure-confirm"] = "The two passwords differ: type the same password twice."
	}
	if admins == "" {
		v.Errors["azure-admin-password"] = "Enter the password of the Default Admin: Veeam Backup for Microsoft Azure asks for it."
	}
	if len(v.Errors) > 0 {
		auditOf(c).skip = true
		return h.renderPassword(c, u, v, http.StatusUnprocessableEntity)
	}
	auditOf(c).Detail = "password reset"
	if err := acct.ChangeUserPassword(ctx, u.ID, password, admins); errors.Is(err, vbazure.ErrInvalid) {
		auditOf(c).Outcome = audit.Refused
		v.Errors = azureFieldErrors(err, map[string]string{"newpassword": "azure-password", "adminspassword": "azure-admin-password"})
		return h.renderPassword(c, u, v, http.StatusUnprocessableEntity)
	} else if err != nil {
		return azureError(err)
	}
	h.azureFlash(c, "The password of "+u.Name+" is reset. Tell them through a channel other than email; their sign-ins elsewhere have ended.")
	return seeOther(c, "/admin/azure/users/"+url.PathEscape(u.ID))
}

// azureRemovePage handles GET /admin/azure/users/:id/remove: what removing
// the user means, before it is done.
func (h *Handler) azureRemovePage(c *echo.Context) error {
	t, err := h.target(c)
	if err != nil {
		return err
	}
	tok, u := t.tok, t.u
	v := templates.AzureConfirmView{Heading: "Remove " + u.Name + "?", Action: "/admin/azure/users/" + url.PathEscape(u.ID) + "/remove",
		BackURL: "/admin/azure/users/" + url.PathEscape(u.ID), Button: "Remove " + u.Name}
	switch {
	case u.IsDefault:
		v.Refusal = "The Default Admin cannot be removed."
	case u.ID == tok.UserID:
		v.Refusal = "You cannot remove the account you are connected with."
	default:
		v.Consequences = []string{
			u.Name + " can no longer sign in to Veeam Backup for Microsoft Azure; sign-ins under way end now.",
			"Their role (" + roleLabel(u.Role) + ") and settings are gone: adding them again starts afresh.",
			"What they did stays in Veeam Backup for Microsoft Azure's own logs and in this portal's audit trail.",
		}
		if u.Type == vbazure.TypeIdentityProvider {
			v.Consequences = append(v.Consequences, "Their Microsoft Entra account is not touched.")
		}
	}
	return h.renderConfirm(c, "Remove "+u.Name, v)
}

func (h *Handler) renderConfirm(c *echo.Context, title string, v templates.AzureConfirmView) error {
	v.CSRFToken = h.csrfToken(c.Request().Context())
	return h.azureRender(c, title, http.StatusOK, func(m templates.Meta) templ.Component { return templates.AzureConfirmPage(m, v) })
}

// azureRemoveUser handles POST /admin/azure/users/:id/remove.
func (h *Handler) azureRemoveUser(c *echo.Context) error {
	t, err := h.target(c)
	if err != nil {
		return err
	}
	u := t.u
	return h.azureAct(c, t, "removed ("+roleLabel(u.Role)+", "+typeLabel(u.Type)+")",
		func() error { return t.acct.DeleteUser(c.Request().Context(), u.ID) }, "/admin/azure", "Removed "+u.Name+".")
}

// azureDisableMFAPage handles GET /admin/azure/users/:id/mfa/disable.
func (h *Handler) azureDisableMFAPage(c *echo.Context) error {
	t, err := h.target(c)
	if err != nil {
		return err
	}
	u := t.u
	v := templates.AzureConfirmView{Heading: "Turn off MFA for " + u.Name + "?", Action: "/admin/azure/users/" + url.PathEscape(u.ID) + "/mfa/disable",
		BackURL: "/admin/azure/users/" + url.PathEscape(u.ID), Button: "Turn off MFA"}
	if !u.MFAEnabled {
		v.Refusal = u.Name + " has no MFA to turn off."
	} else {
		v.Consequences = []string{
			u.Name + " then signs in with a password alone, until they set MFA up again.",
			"Do it when they lost the device with their authenticator app, and ask them to set MFA up again at once.",
		}
	}
	return h.renderConfirm(c, "Turn off MFA for "+u.Name, v)
}

// azureDisableMFA handles POST /admin/azure/users/:id/mfa/disable.
func (h *Handler) azureDisableMFA(c *echo.Context) error {
	t, err := h.target(c)
	if err != nil {
		return err
	}
	return h.azureAct(c, t, "MFA turned off", func() error { return t.acct.DisableMFA(c.Request().Context(), t.u.ID) },
		t.page(), "MFA is off for "+t.u.Name+". Ask them to set it up again.")
}

// azureExport handles POST /admin/azure/export (format csv or xml, q): the
// list as VBAzure exports it, streamed to the browser.
func (h *Handler) azureExport(c *echo.Context) error {
	ctx := c.Request().Context()
	acct, _, form, err := h.connectedForm(c)
	if err != nil {
		return err
	}
	format, ext := vbazure.CSV, "csv"
	if form.Get("format") == "xml" {
		format, ext = vbazure.XML, "xml"
	}
	q := strings.TrimSpace(form.Get("q"))
	auditOf(c).Detail, auditOf(c).Options = "users exported as "+strings.ToUpper(ext), q
	body, err := acct.ExportUsers(ctx, q, nil, format)
	if err != nil {
		return azureError(err)
	}
	defer body.Close()
	w := c.Response()
	w.Header().Set("Content-Type", map[string]string{"csv": "text/csv; charset=utf-8", "xml": "application/xml; charset=utf-8"}[ext])
	w.Header().Set("Content-Disposition", contentDisposition("azure-backup-users-"+h.cfg.Now().UTC().Format("2006-01-02")+"."+ext))
	w.Header().Set("Content-Security-Policy", "default-src 'none'; sandbox")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(streamed(w), body); err != nil {
		h.log.WarnContext(ctx, "vbazure_export_broken", "error", err)
		auditOf(c).Outcome, auditOf(c).Detail = audit.Failed, "the export broke off"
		panic(http.ErrAbortHandler) // the header is out: break the transfer rather than end it as if whole
	}
	return nil
}
