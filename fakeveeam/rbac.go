package fakeveeam

import (
	"net/http"
	"strconv"
)

type loggedInUser struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type operatorInfo struct {
	IsOperator bool            `json:"isOperator"`
	Links      map[string]link `json:"_links"`
}

type rbacUser struct {
	ID          string  `json:"id"`
	DisplayName string  `json:"displayName"`
	Name        string  `json:"name"`
	Type        *string `json:"type"`
}

type rbacSite struct {
	ID         string `json:"id"`
	URL        string `json:"url"`
	Title      string `json:"title"`
	ParentURL  string `json:"parentUrl,omitempty"`
	IsCloud    bool   `json:"isCloud"`
	IsPersonal bool   `json:"isPersonal"`
}

type rbacTeam struct {
	ID          string `json:"id"`
	Description string `json:"description"`
	DisplayName string `json:"displayName"`
	Mail        string `json:"mail"`
}

type rbacUserItem struct {
	Type string   `json:"type"`
	ID   string   `json:"id"`
	User rbacUser `json:"user"`
}

type rbacSiteItem struct {
	Type string   `json:"type"`
	ID   string   `json:"id"`
	Site rbacSite `json:"site"`
}

type rbacTeamItem struct {
	Type string   `json:"type"`
	ID   string   `json:"id"`
	Team rbacTeam `json:"team"`
}

type effectiveScope struct {
	Users []rbacUserItem `json:"users"`
	Sites []rbacSiteItem `json:"sites"`
	Teams []rbacTeamItem `json:"teams"`
}

func ptr[T any](v T) *T { return &v }

func (s *Server) loggedInUser(w http.ResponseWriter, r *http.Request, c *caller) {
	u, _ := s.dir.user(c.oid)
	writeJSON(w, http.StatusOK, loggedInUser{ID: u.OID, Name: u.UPN})
}

func (s *Server) operatorInfo(w http.ResponseWriter, r *http.Request, c *caller) {
	writeJSON(w, http.StatusOK, operatorInfo{
		IsOperator: s.dir.isOperator(c.oid),
		Links: map[string]link{
			"self":           {Href: "/v8/Organization/LoggedInUser/OperatorInfo"},
			"effectiveScope": {Href: "/v8/Organization/LoggedInUser/EffectiveScope"},
		},
	})
}

// effectiveScope lists what the caller may restore. The schema has no list of
// groups, but its user items are typed User|Group|Site|Team: the fake lists a
// group the role selects as an item of type Group in users, followed by its
// members as User items, so that a client can show both (api-notes §10).
func (s *Server) effectiveScope(w http.ResponseWriter, r *http.Request, c *caller) {
	sc := s.dir.effectiveScope(c.oid)
	out := effectiveScope{Users: []rbacUserItem{}, Sites: []rbacSiteItem{}, Teams: []rbacTeamItem{}}
	for _, g := range s.dir.sortedGroups(sc.groups) {
		out.Users = append(out.Users, rbacUserItem{Type: "Group", ID: g.ID, User: rbacUser{
			ID: g.ID, DisplayName: g.DisplayName, Name: g.Mail,
		}})
	}
	for _, u := range s.dir.sortedUsers(sc.users) {
		out.Users = append(out.Users, rbacUserItem{Type: "User", ID: u.OID, User: rbacUser{
			ID: u.OID, DisplayName: u.DisplayName, Name: u.UPN, Type: ptr("User"),
		}})
	}
	for _, st := range s.dir.sortedSites(sc.sites) {
		out.Sites = append(out.Sites, rbacSiteItem{Type: "Site", ID: st.ID, Site: rbacSite{
			ID: st.ID, URL: st.URL, Title: st.Title, ParentURL: s.dir.parentURL(st), IsCloud: true,
		}})
	}
	for _, t := range s.dir.sortedTeams(sc.teams) {
		out.Teams = append(out.Teams, rbacTeamItem{Type: "Team", ID: t.ID, Team: rbacTeam{
			ID: t.ID, Description: t.Description, DisplayName: t.DisplayName, Mail: t.Mail,
		}})
	}
	writeJSON(w, http.StatusOK, out)
}

// restorePoints lists the caller's restore points: a bare array, not a page.
// With rbacItem, the object must be in the caller's scope.
func (s *Server) restorePoints(w http.ResponseWriter, r *http.Request, c *caller) {
	q := r.URL.Query()
	if item := q.Get("rbacItem"); item != "" {
		sc := s.dir.effectiveScope(c.oid)
		if !sc.users[item] && !sc.groups[item] && !sc.sites[item] && !sc.teams[item] {
			forbidden(w, "Access to the specified object is denied.")
			return
		}
	}
	if v := q.Get("isCopy"); v != "" {
		isCopy, err := strconv.ParseBool(v)
		if err != nil {
			badRequest(w, "The value '"+v+"' is not valid for isCopy.")
			return
		}
		if isCopy {
			writeJSON(w, http.StatusOK, []restorePoint{}) // the demo organisation has no backup copy jobs
			return
		}
	}
	writeJSON(w, http.StatusOK, s.points(s.opts.Now()))
}
