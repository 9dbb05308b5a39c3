package fakeentra

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// GraphScope is the delegated permission a client asks for to look people
// up in the directory (the portal's Entra user picker).
const GraphScope = "https://graph.microsoft.com/User.ReadBasic.All"

// graphGrant is a Graph token the fake issued.
type graphGrant struct {
	expires time.Time
	scope   string
	oid     string
}

// searchTerm is one "property:value" of Graph's $search.
var searchTerm = regexp.MustCompile(`"(displayName|mail|userPrincipalName):([^"]*)"`)

// graphUsers handles GET /v1.0/users as Microsoft Graph does for a
// delegated token with User.ReadBasic.All: $search (with the
// ConsistencyLevel: eventual header) over display names and addresses,
// words matched from their start, $top, $select of basic properties.
func (s *Server) graphUsers(w http.ResponseWriter, r *http.Request) {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	g, ok := s.graph[tok]
	s.mu.Unlock()
	now := s.opts.Now()
	switch {
	case !ok || !now.Before(g.expires):
		graphError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty, expired or not a Microsoft Graph token.")
		return
	case !strings.Contains(" "+g.scope+" ", " User.ReadBasic.All ") && !strings.Contains(" "+g.scope+" ", " User.Read.All "):
		graphError(w, http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
		return
	}
	q := r.URL.Query()
	search := q.Get("$search")
	if search != "" && r.Header.Get("ConsistencyLevel") != "eventual" {
		graphError(w, http.StatusBadRequest, "Request_UnsupportedQuery", "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'")
		return
	}
	var terms [][]string
	for _, m := range searchTerm.FindAllStringSubmatch(search, -1) {
		terms = append(terms, m[1:])
	}
	if search != "" && len(terms) == 0 {
		graphError(w, http.StatusBadRequest, "Request_UnsupportedQuery", "Syntax error: $search takes \"property:value\" clauses.")
		return
	}
	top := 100
	if v := q.Get("$top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 999 {
			graphError(w, http.StatusBadRequest, "Request_BadRequest", "Invalid page size specified.")
			return
		}
		top = n
	}
	type person struct {
		ID                string  `json:"id"`
		DisplayName       string  `json:"displayName"`
		UserPrincipalName string  `json:"userPrincipalName"`
		Mail              string  `json:"mail"`
		JobTitle          *string `json:"jobTitle"`
	}
	out := []person{}
	for _, u := range s.opts.Users {
		if len(terms) > 0 && !matchesAny(u, terms) {
			continue
		}
		p := person{ID: u.OID, DisplayName: u.Name, UserPrincipalName: u.UPN, Mail: u.UPN}
		if u.Description != "" {
			title := u.Description
			p.JobTitle = &title
		}
		out = append(out, p)
		if len(out) == top {
			break
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users", "value": out})
}

// matchesAny reports whether one of the terms finds u: a word of the
// property starting with the value, without regard to case.
func matchesAny(u User, terms [][]string) bool {
	for _, t := range terms {
		v := u.Name
		if t[0] != "displayName" {
			v = u.UPN
		}
		want := strings.ToLower(t[1])
		for _, word := range strings.FieldsFunc(strings.ToLower(v), func(r rune) bool { return r == ' ' || r == '.' || r == '@' }) {
			if strings.HasPrefix(word, want) {
				return true
			}
		}
		if strings.HasPrefix(strings.ToLower(v), want) {
			return true
		}
	}
	return false
}

func graphError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"code": code, "message": message}})
}

// GraphTokenFor issues a Graph token for the person with this UPN and
// scope, as a refresh would: tests of Graph clients use it.
func (s *Server) GraphTokenFor(upn, scope string) (string, error) {
	for _, u := range s.opts.Users {
		if strings.EqualFold(u.UPN, upn) {
			return s.graphToken(u, s.opts.Now(), scope)
		}
	}
	return "", fmt.Errorf("fakeentra: no user %s", upn)
}

// memberObjects handles POST /v1.0/me/getMemberObjects: the ids of the
// groups the token's user belongs to, as an application reads them when a
// token carries the groups overage claims. User.Read suffices for /me.
func (s *Server) memberObjects(w http.ResponseWriter, r *http.Request) {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	g, ok := s.graph[tok]
	s.mu.Unlock()
	if !ok || !s.opts.Now().Before(g.expires) {
		graphError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty, expired or not a Microsoft Graph token.")
		return
	}
	var body struct {
		SecurityEnabledOnly *bool `json:"securityEnabledOnly"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.SecurityEnabledOnly == nil {
		graphError(w, http.StatusBadRequest, "Request_BadRequest", "The request body must give securityEnabledOnly.")
		return
	}
	u, _ := s.user(g.oid)
	ids := u.Groups
	if ids == nil {
		ids = []string{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(Edm.String)", "value": ids})
}
