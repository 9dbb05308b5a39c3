package fakeveeam

import (
	"net/http"
	"regexp"
	"strings"
)

// mailbox is RESTExchangeMailbox.
type mailbox struct {
	ID        string            `json:"id"`
	Name      string            `json:"name"`
	Email     string            `json:"email"`
	IsArchive bool              `json:"isArchive"`
	IsPublic  bool              `json:"isPublic"`
	Links     map[string]link   `json:"_links"`
	Actions   map[string]action `json:"_actions,omitempty"`
}

// oneDrive is RESTOneDrive.
type oneDrive struct {
	ID    string          `json:"id"`
	Name  string          `json:"name"`
	URL   string          `json:"url"`
	Links map[string]link `json:"_links"`
}

// site is RESTSharePointSite.
type site struct {
	ID    string          `json:"id"`
	Name  string          `json:"name"`
	URL   string          `json:"url"`
	Links map[string]link `json:"_links"`
}

// team is RESTTeamsTeam.
type team struct {
	ID          string          `json:"id"`
	DisplayName string          `json:"displayName"`
	Description string          `json:"description"`
	GroupEmail  string          `json:"groupEmail"`
	Alias       string          `json:"alias"`
	Privacy     string          `json:"privacy"`
	IsArchived  bool            `json:"isArchived"`
	Links       map[string]link `json:"_links"`
}

// MailboxID is the VB365 id of a user's primary mailbox (archive: the archive's).
func MailboxID(oid string, archive bool) string {
	if archive {
		return stableID("archive", oid)
	}
	return stableID("mailbox", oid)
}

func (s *Server) mailboxes(w http.ResponseWriter, r *http.Request, rs *restoreSession) {
	offset, limit, ok := pageParams(w, r)
	if !ok {
		return
	}
	base := "/v8/RestoreSessions/" + rs.id + "/organization/mailboxes/"
	var out []mailbox
	for _, u := range s.dir.sortedUsers(rs.scope.users) {
		id := MailboxID(u.OID, false)
		out = append(out, mailbox{ID: id, Name: u.DisplayName, Email: u.UPN, Links: map[string]link{"self": {Href: base + id}}})
		if u.HasArchive {
			id := MailboxID(u.OID, true)
			out = append(out, mailbox{ID: id, Name: "In-Place Archive - " + u.DisplayName, Email: u.UPN, IsArchive: true,
				Links: map[string]link{"self": {Href: base + id}}})
		}
	}
	writeJSON(w, http.StatusOK, paginate(r, out, offset, limit))
}

func (s *Server) oneDrives(w http.ResponseWriter, r *http.Request, rs *restoreSession) {
	offset, limit, ok := pageParams(w, r)
	if !ok {
		return
	}
	base := "/v8/RestoreSessions/" + rs.id + "/Organization/OneDrives/"
	var out []oneDrive
	for _, u := range s.dir.sortedUsers(rs.scope.users) {
		id := stableID("onedrive", u.OID)
		personal := strings.NewReplacer("@", "_", ".", "_").Replace(strings.ToLower(u.UPN))
		host := strings.Split(s.dir.org.Domain, ".")[0]
		out = append(out, oneDrive{ID: id, Name: u.DisplayName, URL: "https://" + host + "-my.sharepoint.com/personal/" + personal,
			Links: map[string]link{"self": {Href: base + id}}})
	}
	writeJSON(w, http.StatusOK, paginate(r, out, offset, limit))
}

// sites lists sites: parentId=root gives top-level sites only, parentId=<site>
// that site's subsites, and no parentId top-level sites with their subsites.
func (s *Server) sites(w http.ResponseWriter, r *http.Request, rs *restoreSession) {
	offset, limit, ok := pageParams(w, r)
	if !ok {
		return
	}
	parent := r.URL.Query().Get("parentId")
	if parent != "" && parent != "root" {
		if _, known := s.dir.sites[parent]; !known || !rs.scope.sites[parent] {
			notFound(w, "The SharePoint site with the specified ID was not found.")
			return
		}
	}
	base := "/v8/RestoreSessions/" + rs.id + "/Organization/Sites/"
	var out []site
	for _, st := range s.dir.sortedSites(rs.scope.sites) {
		inParent := rs.scope.sites[st.Parent]
		switch {
		case parent == "root" && inParent:
			continue // a subsite of a site in scope is listed under its parent
		case parent != "" && parent != "root" && st.Parent != parent:
			continue
		}
		out = append(out, site{ID: st.ID, Name: st.Title, URL: st.URL, Links: map[string]link{"self": {Href: base + st.ID}}})
	}
	writeJSON(w, http.StatusOK, paginate(r, out, offset, limit))
}

// teams lists teams; displayName filters by a contained string with * and ? wildcards.
func (s *Server) teams(w http.ResponseWriter, r *http.Request, rs *restoreSession) {
	offset, limit, ok := pageParams(w, r)
	if !ok {
		return
	}
	filter := wildcard(r.URL.Query().Get("displayName"))
	base := "/v8/RestoreSessions/" + rs.id + "/organization/teams/"
	var out []team
	for _, t := range s.dir.sortedTeams(rs.scope.teams) {
		if filter != nil && !filter.MatchString(t.DisplayName) {
			continue
		}
		out = append(out, team{ID: t.ID, DisplayName: t.DisplayName, Description: t.Description, GroupEmail: t.Mail,
			Alias: strings.Split(t.Mail, "@")[0], Privacy: t.Privacy, IsArchived: t.Archived,
			Links: map[string]link{"self": {Href: base + t.ID}}})
	}
	writeJSON(w, http.StatusOK, paginate(r, out, offset, limit))
}

// wildcard compiles a VB365 name filter: a case-insensitive "contains" match
// in which * stands for any run of characters and ? for any one. Empty gives nil.
func wildcard(filter string) *regexp.Regexp {
	if filter == "" {
		return nil
	}
	q := regexp.QuoteMeta(filter)
	q = strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(q)
	return regexp.MustCompile("(?is)" + q)
}
