package fakevbazure

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/csv"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Roles and user types of the document.
const (
	RolePortalAdmin     = "PortalAdmin"
	RolePortalOperator  = "PortalOperator"
	RoleRestoreOperator = "RestoreOperator"
	RoleReadOnlyUser    = "ReadOnlyUser"

	typeInternal = "Internal"
	typeIdP      = "IdentityProvider"
)

// AssignableRoles are the roles a person can be given (the enum's others,
// VeeamUpdater, IntegrationOperator and Unknown, are the product's own).
var AssignableRoles = []string{RolePortalAdmin, RolePortalOperator, RoleRestoreOperator, RoleReadOnlyUser}

// user is an account.
type user struct {
	id, name, description, role, typ string
	idpEntityID                      string
	salt, hash                       []byte
	isDefault                        bool
	mfaSecret                        string   // "" when MFA is off
	scratch                          []string // scratch codes not used yet
	lastStep                         int64    // the last TOTP step used: a code works once
}

func (u *user) setPassword(p string) {
	u.salt = make([]byte, 16)
	rand.Read(u.salt)
	sum := sha256.Sum256(append(append([]byte{}, u.salt...), p...))
	u.hash = sum[:]
}

func (u *user) passwordIs(p string) bool {
	if u.hash == nil {
		return false
	}
	sum := sha256.Sum256(append(append([]byte{}, u.salt...), p...))
	return hmac.Equal(sum[:], u.hash)
}

// acceptCode takes a TOTP code (once) or a scratch code (once).
func (u *user) acceptCode(code string, now time.Time) bool {
	if step, ok := checkTOTP(u.mfaSecret, code, now, u.lastStep); ok {
		u.lastStep = step
		return true
	}
	if i := slices.Index(u.scratch, code); i >= 0 {
		u.scratch = slices.Delete(u.scratch, i, i+1)
		return true
	}
	return false
}

// The product's rules (user guide): a name of at most 32 letters, digits,
// underscores and hyphens; a description of letters, digits, dots, commas
// and spaces.
var (
	namePattern        = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)
	descriptionPattern = regexp.MustCompile(`^[\p{L}\p{N}., ]*$`)
	guidPattern        = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
)

// Problems of each rule, as the server words them.
const (
	NameRule        = "The name must be 1 to 32 characters: letters, digits, underscores and hyphens."
	DescriptionRule = "The description may contain letters, digits, dots, commas and spaces only, at most 256 characters."
	PasswordRule    = "The password must be at least 8 characters long and contain uppercase and lowercase letters and digits, without a run of four or more consecutive characters (1234, abcd, dcba)."
)

// PasswordProblem says why p is not a password the product accepts, or "".
// The product documents the rule of its sister product, Veeam Backup for
// AWS: at least 8 characters, upper- and lower-case letters and digits, no
// monotonic sequences.
func PasswordProblem(p string) string {
	var upper, lower, digit bool
	for _, r := range p {
		upper = upper || unicode.IsUpper(r)
		lower = lower || unicode.IsLower(r)
		digit = digit || unicode.IsDigit(r)
	}
	if len([]rune(p)) < 8 || len(p) > 128 || !upper || !lower || !digit || monotonic(p, 4) {
		return PasswordRule
	}
	return ""
}

// monotonic reports whether s holds n or more characters in a row that
// step by one up or down (1234, abcd, 4321), letters compared without case.
func monotonic(s string, n int) bool {
	rs := []rune(strings.ToLower(s))
	for i := 0; i+n <= len(rs); i++ {
		up, down := true, true
		for j := 1; j < n; j++ {
			up = up && rs[i+j] == rs[i+j-1]+1
			down = down && rs[i+j] == rs[i+j-1]-1
		}
		if up || down {
			return true
		}
	}
	return false
}

// check lists what is wrong with a user's fields.
func (u *user) check() map[string][]string {
	errs := map[string][]string{}
	if !namePattern.MatchString(u.name) {
		errs["name"] = append(errs["name"], NameRule)
	}
	if !descriptionPattern.MatchString(u.description) || len(u.description) > 256 {
		errs["description"] = append(errs["description"], DescriptionRule)
	}
	if !slices.Contains(AssignableRoles, u.role) {
		errs["role"] = append(errs["role"], "The role must be one of "+strings.Join(AssignableRoles, ", ")+".")
	}
	switch u.typ {
	case typeInternal:
		if u.hash == nil {
			errs["password"] = append(errs["password"], "An internal user needs a password.")
		}
	case typeIdP:
		if !guidPattern.MatchString(u.idpEntityID) {
			errs["identityProviderEntityId"] = append(errs["identityProviderEntityId"], "An identity provider user needs the Microsoft Entra object id of the person.")
		}
		if u.mfaSecret != "" {
			errs["type"] = append(errs["type"], "Identity provider users sign in with their identity provider's MFA, not Veeam's.")
		}
	default:
		errs["type"] = append(errs["type"], "The type must be Internal or IdentityProvider.")
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// byName finds a user by name, without regard to case. The caller holds s.mu.
func (s *Server) byName(name string) *user {
	for _, id := range s.order {
		if u := s.users[id]; u != nil && strings.EqualFold(u.name, name) {
			return u
		}
	}
	return nil
}

// defaultAdmin is the Default Admin. The caller holds s.mu.
func (s *Server) defaultAdmin() *user {
	for _, u := range s.users {
		if u.isDefault {
			return u
		}
	}
	return nil
}

// userRep is the document's User.
type userRep struct {
	ID                       string           `json:"id"`
	Name                     string           `json:"name"`
	Description              string           `json:"description"`
	Role                     string           `json:"role"`
	Type                     string           `json:"type"`
	IdentityProviderEntityID *string          `json:"identityProviderEntityId"`
	MFAEnabled               bool             `json:"mfaEnabled"`
	IsDefault                bool             `json:"isDefault"`
	Links                    map[string]*link `json:"_links,omitempty"`
}

type link struct {
	Href string `json:"href"`
}

func (s *Server) rep(u *user, version string) userRep {
	r := userRep{ID: u.id, Name: u.name, Description: u.description, Role: u.role, Type: u.typ, MFAEnabled: u.mfaSecret != "",
		IsDefault: u.isDefault, Links: map[string]*link{"self": {Href: s.opts.BaseURL + "/api/" + version + "/users/" + u.id}}}
	if u.typ == typeIdP {
		id := u.idpEntityID
		r.IdentityProviderEntityID = &id
	}
	return r
}

// versionOf is the API version a request was made to.
func versionOf(r *http.Request) string {
	v, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/api/"), "/")
	return v
}

// listUsers handles GET /users?NameFilter&Offset&Limit (Limit=-1: all).
func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	offset, limit, ok := paging(w, r, 100)
	if !ok {
		return
	}
	filter := strings.ToLower(r.URL.Query().Get("NameFilter"))
	s.mu.Lock()
	var all []userRep
	for _, id := range s.order {
		if u := s.users[id]; u != nil && strings.Contains(strings.ToLower(u.name), filter) {
			all = append(all, s.rep(u, versionOf(r)))
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, pageOf(all, offset, limit))
}

// getUser handles GET /users/{id}: any user's for an administrator, one's
// own for anyone.
func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	c := callerOf(r)
	s.mu.Lock()
	u := s.users[r.PathValue("id")]
	s.mu.Unlock()
	switch {
	case c.user.role != RolePortalAdmin && (u == nil || u.id != c.user.id):
		problem(w, http.StatusForbidden, "Forbidden", "Only a Portal Administrator reads other users.")
	case u == nil:
		problem(w, http.StatusNotFound, "Not Found", "No user has this id.")
	default:
		writeJSON(w, http.StatusOK, s.rep(u, versionOf(r)))
	}
}

// userFromClient is the document's UserFromClient.
type userFromClient struct {
	Role                     *string `json:"role"`
	Type                     *string `json:"type"`
	IdentityProviderEntityID *string `json:"identityProviderEntityId"`
	Name                     *string `json:"name"`
	Description              *string `json:"description"`
	Password                 *string `json:"password"`
}

// createUser handles POST /users.
func (s *Server) createUser(w http.ResponseWriter, r *http.Request) {
	var in userFromClient
	if !readJSON(w, r, &in) {
		return
	}
	u := &user{id: newUUID(), name: deref(in.Name), description: deref(in.Description), role: deref(in.Role), typ: deref(in.Type),
		idpEntityID: deref(in.IdentityProviderEntityID)}
	if u.typ == "" {
		u.typ = typeInternal
	}
	errs := map[string][]string{}
	if in.Name == nil {
		errs["name"] = []string{"The name field is required."}
	}
	if in.Description == nil {
		errs["description"] = []string{"The description field is required."}
	}
	switch {
	case u.typ == typeInternal && in.Password != nil:
		if p := PasswordProblem(*in.Password); p != "" {
			errs["password"] = []string{p}
		} else {
			u.setPassword(*in.Password)
		}
	case u.typ == typeIdP && in.Password != nil:
		errs["password"] = []string{"Identity provider users sign in with their identity provider: they have no password here."}
	}
	for k, v := range u.check() {
		if _, ok := errs[k]; !ok {
			errs[k] = v
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byName(u.name) != nil {
		errs["name"] = append(errs["name"], "A user with this name exists already.")
	}
	if u.typ == typeIdP {
		for _, x := range s.users {
			if x.typ == typeIdP && strings.EqualFold(x.idpEntityID, u.idpEntityID) {
				errs["identityProviderEntityId"] = append(errs["identityProviderEntityId"], "This person has a user already: "+x.name+".")
			}
		}
	}
	if len(errs) > 0 {
		invalid(w, errs)
		return
	}
	s.users[u.id] = u
	s.order = append(s.order, u.id)
	writeJSON(w, http.StatusCreated, s.rep(u, versionOf(r)))
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// updateUser handles PUT /users/{id}: role, name, description, password.
// A user's type never changes; the Default Admin stays a Portal Administrator.
func (s *Server) updateUser(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Role        *string `json:"role"`
		Name        *string `json:"name"`
		Description *string `json:"description"`
		Password    *string `json:"password"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[r.PathValue("id")]
	if u == nil {
		problem(w, http.StatusNotFound, "Not Found", "No user has this id.")
		return
	}
	changed := *u
	errs := map[string][]string{}
	if in.Role != nil {
		changed.role = *in.Role
		if u.isDefault && changed.role != RolePortalAdmin {
			errs["role"] = []string{"The Default Admin is always a Portal Administrator."}
		}
		if u.id == callerOf(r).user.id && changed.role != RolePortalAdmin {
			errs["role"] = append(errs["role"], "You cannot take the Portal Administrator role from yourself.")
		}
	}
	if in.Name != nil {
		changed.name = *in.Name
		if x := s.byName(changed.name); x != nil && x.id != u.id {
			errs["name"] = []string{"A user with this name exists already."}
		}
	}
	if in.Description != nil {
		changed.description = *in.Description
	}
	if in.Password != nil {
		if u.typ != typeInternal {
			errs["password"] = []string{"Identity provider users have no password here."}
		} else if p := PasswordProblem(*in.Password); p != "" {
			errs["password"] = []string{p}
		} else {
			changed.setPassword(*in.Password)
		}
	}
	for k, v := range changed.check() {
		errs[k] = append(errs[k], v...)
	}
	if len(errs) > 0 {
		invalid(w, errs)
		return
	}
	*u = changed
	writeJSON(w, http.StatusOK, s.rep(u, versionOf(r)))
}

// deleteUser handles DELETE /users/{id}. The Default Admin, and oneself, stay.
func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[r.PathValue("id")]
	switch {
	case u == nil:
		problem(w, http.StatusNotFound, "Not Found", "No user has this id.")
	case u.isDefault:
		badRequest(w, "The Default Admin cannot be removed.")
	case u.id == callerOf(r).user.id:
		badRequest(w, "You cannot remove your own account.")
	default:
		delete(s.users, u.id)
		s.order = slices.DeleteFunc(s.order, func(id string) bool { return id == u.id })
		s.revokeUser(u.id)
		w.WriteHeader(http.StatusNoContent)
	}
}

// changeUsersPassword handles POST /users/{id}/changePassword: an
// administrator sets another's password, with the Default Admin's password.
func (s *Server) changeUsersPassword(w http.ResponseWriter, r *http.Request) {
	var in struct {
		NewPassword    *string `json:"newPassword"`
		AdminsPassword *string `json:"adminsPassword"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	errs := map[string][]string{}
	if in.NewPassword == nil || *in.NewPassword == "" {
		errs["newPassword"] = []string{"The newPassword field is required."}
	} else if p := PasswordProblem(*in.NewPassword); p != "" {
		errs["newPassword"] = []string{p}
	}
	if in.AdminsPassword == nil || *in.AdminsPassword == "" {
		errs["adminsPassword"] = []string{"The adminsPassword field is required."}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[r.PathValue("id")]
	if u == nil {
		problem(w, http.StatusNotFound, "Not Found", "No user has this id.")
		return
	}
	if u.typ != typeInternal {
		errs["newPassword"] = []string{"Identity provider users have no password here."}
	}
	if in.AdminsPassword != nil && *in.AdminsPassword != "" && !s.defaultAdmin().passwordIs(*in.AdminsPassword) {
		errs["adminsPassword"] = []string{"The password of the Default Admin is incorrect."}
	}
	if len(errs) > 0 {
		invalid(w, errs)
		return
	}
	u.setPassword(*in.NewPassword)
	if u.id != callerOf(r).user.id {
		s.revokeUser(u.id)
	}
	w.WriteHeader(http.StatusNoContent)
}

// changeOwnPassword handles POST /users/changePassword.
func (s *Server) changeOwnPassword(w http.ResponseWriter, r *http.Request) {
	var in struct {
		CurrentPassword *string `json:"currentPassword"`
		NewPassword     *string `json:"newPassword"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := callerOf(r).user
	errs := map[string][]string{}
	switch {
	case u.typ != typeInternal:
		errs["newPassword"] = []string{"Identity provider users have no password here."}
	case in.CurrentPassword == nil || !u.passwordIs(*in.CurrentPassword):
		errs["currentPassword"] = []string{"The current password is incorrect."}
	}
	if in.NewPassword == nil {
		errs["newPassword"] = append(errs["newPassword"], "The newPassword field is required.")
	} else if p := PasswordProblem(*in.NewPassword); p != "" {
		errs["newPassword"] = append(errs["newPassword"], p)
	} else if u.passwordIs(*in.NewPassword) {
		errs["newPassword"] = append(errs["newPassword"], "The new password must differ from the current one.")
	}
	if len(errs) > 0 {
		invalid(w, errs)
		return
	}
	u.setPassword(*in.NewPassword)
	w.WriteHeader(http.StatusNoContent)
}

// mfaSetupLifetime is how long an enableMfa's token waits for acceptMfa.
const mfaSetupLifetime = 15 * time.Minute

// enableMFA handles POST /users/{id}/enableMfa: a new secret for one's own
// account, which takes effect when acceptMfa proves an app holds it.
func (s *Server) enableMFA(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Recreate *bool `json:"recreate"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	c := callerOf(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[r.PathValue("id")]
	switch {
	case u == nil:
		problem(w, http.StatusNotFound, "Not Found", "No user has this id.")
		return
	case u.id != c.user.id:
		problem(w, http.StatusForbidden, "Forbidden", "MFA is set up by the user, on their own device.")
		return
	case u.typ != typeInternal:
		badRequest(w, "Identity provider users sign in with their identity provider's MFA, not Veeam's.")
		return
	case u.mfaSecret != "" && (in.Recreate == nil || !*in.Recreate):
		badRequest(w, "MFA is enabled for this user already; send recreate=true for a new secret key.")
		return
	}
	setup := &mfaSetup{userID: u.id, secret: NewSecret(), expires: s.opts.Now().Add(mfaSetupLifetime)}
	for range 5 {
		setup.scratch = append(setup.scratch, scratchCode())
	}
	tok := newToken()
	s.setups[tok] = setup
	s.issued = append(s.issued, tok, setup.secret)
	writeJSON(w, http.StatusOK, struct {
		UserID       string   `json:"userId"`
		QRString     string   `json:"qrString"`
		SecretKey    string   `json:"secretKey"`
		ScratchCodes []string `json:"scratchCodes"`
		Token        string   `json:"token"`
	}{u.id, OTPAuthURL("Veeam Backup for Microsoft Azure", u.name, setup.secret), setup.secret, setup.scratch, tok})
}

// OTPAuthURL is the otpauth:// address an authenticator app reads from a QR code.
func OTPAuthURL(issuer, account, secret string) string {
	return "otpauth://totp/" + urlPathEscape(issuer+":"+account) + "?secret=" + secret + "&issuer=" + urlPathEscape(issuer) +
		"&algorithm=SHA1&digits=6&period=30"
}

func urlPathEscape(s string) string { return strings.ReplaceAll(urlEscaper.Replace(s), "+", "%2B") }

var urlEscaper = strings.NewReplacer(" ", "%20", "/", "%2F", "?", "%3F", "&", "%26", "#", "%23", "=", "%3D")

func scratchCode() string {
	b := make([]byte, 4)
	rand.Read(b)
	return fmt.Sprintf("%08d", (uint32(b[0])<<24|uint32(b[1])<<16|uint32(b[2])<<8|uint32(b[3]))%100000000)
}

// acceptMFA handles POST /users/{id}/acceptMfa: the code shows the app has
// the secret, and MFA is on from now.
func (s *Server) acceptMFA(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Code  *string `json:"code"`
		Token *string `json:"token"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	c := callerOf(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	setup := s.setups[deref(in.Token)]
	switch {
	case s.users[r.PathValue("id")] == nil:
		problem(w, http.StatusNotFound, "Not Found", "No user has this id.")
		return
	case r.PathValue("id") != c.user.id:
		problem(w, http.StatusForbidden, "Forbidden", "MFA is set up by the user, on their own device.")
		return
	case setup == nil || setup.userID != c.user.id || now.After(setup.expires):
		invalid(w, map[string][]string{"token": {"The token is invalid or expired: enable MFA again."}})
		return
	}
	step, ok := checkTOTP(setup.secret, deref(in.Code), now, 0)
	if !ok {
		invalid(w, map[string][]string{"code": {"The verification code is incorrect."}})
		return
	}
	delete(s.setups, deref(in.Token))
	u := c.user
	u.mfaSecret, u.scratch, u.lastStep = setup.secret, setup.scratch, step
	w.WriteHeader(http.StatusNoContent)
}

// disableMFA handles POST /users/{id}/disableMfa: one's own, or anyone's
// by an administrator.
func (s *Server) disableMFA(w http.ResponseWriter, r *http.Request) {
	c := callerOf(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[r.PathValue("id")]
	switch {
	case c.user.role != RolePortalAdmin && (u == nil || u.id != c.user.id):
		problem(w, http.StatusForbidden, "Forbidden", "Only a Portal Administrator turns off another user's MFA.")
	case u == nil:
		problem(w, http.StatusNotFound, "Not Found", "No user has this id.")
	case u.mfaSecret == "":
		badRequest(w, "MFA is not enabled for this user.")
	default:
		u.mfaSecret, u.scratch, u.lastStep = "", nil, 0
		w.WriteHeader(http.StatusNoContent)
	}
}

// exportUsers handles POST /users/export: CSV (the default) or XML, as the
// Accept header asks.
func (s *Server) exportUsers(w http.ResponseWriter, r *http.Request) {
	var in struct {
		NameFilter *string  `json:"nameFilter"`
		UserIDs    []string `json:"userIds"`
	}
	if r.ContentLength != 0 && !readJSON(w, r, &in) {
		return
	}
	filter := strings.ToLower(deref(in.NameFilter))
	s.mu.Lock()
	var rows []userRep
	for _, id := range s.order {
		u := s.users[id]
		if u == nil || !strings.Contains(strings.ToLower(u.name), filter) || (len(in.UserIDs) > 0 && !slices.Contains(in.UserIDs, u.id)) {
			continue
		}
		rows = append(rows, s.rep(u, versionOf(r)))
	}
	s.mu.Unlock()
	accept := r.Header.Get("Accept")
	if strings.Contains(accept, "xml") {
		w.Header().Set("Content-Type", "application/xml")
		w.Header().Set("Content-Disposition", `attachment; filename="users.xml"`)
		writeXML(w, rows)
		return
	}
	w.Header().Set("Content-Type", "text/csv")
	w.Header().Set("Content-Disposition", `attachment; filename="users.csv"`)
	cw := csv.NewWriter(w)
	cw.Write([]string{"Name", "Description", "Role", "Type", "MFA Enabled", "Default Admin", "Identity Provider Entity ID"})
	for _, u := range rows {
		cw.Write([]string{csvSafe(u.Name), csvSafe(u.Description), u.Role, u.Type, strconv.FormatBool(u.MFAEnabled), strconv.FormatBool(u.IsDefault), deref(u.IdentityProviderEntityID)})
	}
	cw.Flush()
}

// csvSafe keeps a spreadsheet from reading a cell as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func writeXML(w io.Writer, rows []userRep) {
	type xmlUser struct {
		Name                     string `xml:"Name"`
		Description              string `xml:"Description"`
		Role                     string `xml:"Role"`
		Type                     string `xml:"Type"`
		MFAEnabled               bool   `xml:"MfaEnabled"`
		IsDefault                bool   `xml:"IsDefault"`
		IdentityProviderEntityID string `xml:"IdentityProviderEntityId,omitempty"`
	}
	io.WriteString(w, xml.Header)
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	out := struct {
		XMLName xml.Name  `xml:"Users"`
		Users   []xmlUser `xml:"User"`
	}{}
	for _, u := range rows {
		out.Users = append(out.Users, xmlUser{u.Name, u.Description, u.Role, u.Type, u.MFAEnabled, u.IsDefault, deref(u.IdentityProviderEntityID)})
	}
	enc.Encode(out)
}
