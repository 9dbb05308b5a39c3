package fakeentra

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// Failure is what Entra does wrong on demand, until cleared.
type Failure struct {
	// ConsentRequired shows the consent page after the account is chosen,
	// as Entra does when nobody consented to the application for the user:
	// accepting records the consent; declining returns access_denied
	// (AADSTS65004).
	ConsentRequired bool
	// InteractionRequired refuses refreshes with interaction_required
	// (AADSTS50076, multi-factor authentication) and a claims challenge,
	// until a sign-in asks for those claims.
	InteractionRequired bool
	// ExpiredSecret refuses the client secret: invalid_client, AADSTS7000222.
	ExpiredSecret bool
	// Unavailable answers the token endpoint 503 temporarily_unavailable.
	Unavailable bool
	// Delay holds every token endpoint answer this long.
	Delay time.Duration
}

// ClaimsChallenge is the claims challenge of Failure.InteractionRequired.
const ClaimsChallenge = `{"access_token":{"acrs":{"essential":true,"value":"c1"}}}`

// Fail sets the failures Entra shows from now on (the zero Failure clears them).
func (s *Server) Fail(f Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failure = f
}

func (s *Server) failing() Failure {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failure
}

// DisableUser blocks the account, as an administrator disabling it in
// Entra does: its sign-ins and its refresh tokens are refused (AADSTS50057).
func (s *Server) DisableUser(oid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.disabled[oid] = true
}

func (s *Server) isDisabled(oid string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.disabled[oid]
}

// RetireKeys stops publishing the keys RotateKeys replaced: tokens signed
// with them no longer verify.
func (s *Server) RetireKeys() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.retiredKeys)
}

// satisfiesChallenge reports whether a sign-in's claims request asks for
// the claims challenge's authentication context.
func satisfiesChallenge(claims string) bool {
	var c struct {
		AccessToken struct {
			Acrs struct {
				Value  string   `json:"value"`
				Values []string `json:"values"`
			} `json:"acrs"`
		} `json:"access_token"`
	}
	if json.Unmarshal([]byte(claims), &c) != nil {
		return false
	}
	return c.AccessToken.Acrs.Value == "c1" || strings.Contains(strings.Join(c.AccessToken.Acrs.Values, " "), "c1")
}

// interactionError is interaction_required with the claims challenge.
func interactionError(w http.ResponseWriter, now time.Time) {
	trace, corr := randomUUID(), randomUUID()
	writeJSON(w, http.StatusBadRequest, map[string]any{
		"error": "interaction_required",
		"error_description": "AADSTS50076: Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access the resource. Trace ID: " +
			trace + " Correlation ID: " + corr + " Timestamp: " + now.UTC().Format("2006-01-02 15:04:05Z"),
		"error_codes": []int{50076}, "timestamp": now.UTC().Format("2006-01-02 15:04:05Z"),
		"trace_id": trace, "correlation_id": corr, "suberror": "basic_action",
		"claims": ClaimsChallenge,
	})
}

// graphPermissions are Microsoft Graph's delegated permissions the fake
// knows, and whether the application has consent for them.
var graphPermissions = map[string]bool{
	"User.Read": true, "User.ReadBasic.All": true, "User.Read.All": false, "GroupMember.Read.All": false, "Directory.Read.All": false,
}

// checkScopes validates a request's scopes as Entra does: the OpenID
// Connect scopes, and the permissions of one resource (the application's
// API, defined as access_as_user, or Microsoft Graph). It returns the
// error to answer, or "" when they are fine.
func (s *Server) checkScopes(scopes []string) (code string, aadsts int, msg string) {
	resources := map[string]bool{}
	for _, sc := range scopes {
		switch sc {
		case "openid", "profile", "email", "offline_access":
			continue
		}
		resource, name := s.resourceOf(sc)
		switch {
		case resource == "":
			return "invalid_resource", 500011, "The resource principal named " + sc + " was not found in the tenant named " + s.opts.TenantName + "."
		case resource == "api" && name != "access_as_user",
			resource == "graph" && !knownGraph(name):
			return "invalid_scope", 650053, "The application asked for scope '" + name + "' that doesn't exist on the resource."
		}
		resources[resource] = true
	}
	if len(resources) > 1 {
		return "invalid_scope", 28000, "Provided value for the input parameter scope is not valid because it contains more than one resource. Scope " +
			strings.Join(scopes, " ") + " is not valid."
	}
	return "", 0, ""
}

// resourceOf names the resource a scope is for ("api", "graph", or "" for
// none the tenant knows) and the permission's name.
func (s *Server) resourceOf(scope string) (resource, name string) {
	for _, api := range []string{"api://" + s.opts.ApplicationID + "/", s.opts.ApplicationID + "/"} {
		if rest, ok := strings.CutPrefix(scope, api); ok {
			return "api", rest
		}
	}
	if rest, ok := strings.CutPrefix(scope, "https://graph.microsoft.com/"); ok {
		return "graph", rest
	}
	if !strings.Contains(scope, "/") && !strings.Contains(scope, ":") {
		return "graph", scope // Graph's permissions may be named bare
	}
	return "", ""
}

func knownGraph(name string) bool {
	_, ok := graphPermissions[name]
	return ok
}

// unconsented returns a permission among scopes nobody consented to, or "".
func (s *Server) unconsented(scopes []string) string {
	for _, sc := range scopes {
		if resource, name := s.resourceOf(sc); resource == "graph" && knownGraph(name) && !graphPermissions[name] {
			return name
		}
	}
	return ""
}
