package fakeveeam

import (
	"cmp"
	"slices"
	"strings"

	"github.com/openrestore/portal/demotenant"
)

// directory is the backed-up organisation with lookups by id.
type directory struct {
	org    demotenant.Tenant
	users  map[string]demotenant.User
	groups map[string]demotenant.Group
	sites  map[string]demotenant.Site
	teams  map[string]demotenant.Team
}

func newDirectory(t demotenant.Tenant) *directory {
	d := &directory{
		org:    t,
		users:  map[string]demotenant.User{},
		groups: map[string]demotenant.Group{},
		sites:  map[string]demotenant.Site{},
		teams:  map[string]demotenant.Team{},
	}
	for _, u := range t.Users {
		d.users[u.OID] = u
	}
	for _, g := range t.Groups {
		d.groups[g.ID] = g
	}
	for _, s := range t.Sites {
		d.sites[s.ID] = s
	}
	for _, tm := range t.Teams {
		d.teams[tm.ID] = tm
	}
	return d
}

func (d *directory) user(oid string) (demotenant.User, bool) {
	u, ok := d.users[oid]
	return u, ok
}

// scopeSet is what a caller may explore: people (their mailboxes and
// OneDrives), the groups that brought some of them in, sites and teams.
type scopeSet struct {
	users  map[string]bool
	groups map[string]bool
	sites  map[string]bool
	teams  map[string]bool
}

func newScopeSet() scopeSet {
	return scopeSet{users: map[string]bool{}, groups: map[string]bool{}, sites: map[string]bool{}, teams: map[string]bool{}}
}

// isOperator reports whether oid holds any restore-operator role.
func (d *directory) isOperator(oid string) bool {
	for _, r := range d.org.Roles {
		if slices.Contains(r.Operators, oid) {
			return true
		}
	}
	return false
}

// effectiveScope is what oid may restore: their own data (self-service: their
// mailbox, archive, OneDrive and the teams they belong to) plus whatever their
// restore-operator roles select, minus what the roles exclude. Groups count
// through their members, sites through their subsites too.
func (d *directory) effectiveScope(oid string) scopeSet {
	s := newScopeSet()
	for _, r := range d.org.Roles {
		if !slices.Contains(r.Operators, oid) {
			continue
		}
		if r.EntireOrg {
			for id := range d.users {
				s.users[id] = true
			}
			for id := range d.groups {
				s.groups[id] = true
			}
			for id := range d.sites {
				s.sites[id] = true
			}
			for id := range d.teams {
				s.teams[id] = true
			}
		}
		for _, it := range r.Selected {
			d.add(s, it)
		}
		for _, it := range r.Excluded {
			d.remove(s, it)
		}
	}
	if _, ok := d.users[oid]; ok {
		s.users[oid] = true
		for id, t := range d.teams {
			if slices.Contains(t.Members, oid) {
				s.teams[id] = true
			}
		}
	}
	return s
}

func (d *directory) add(s scopeSet, it demotenant.RoleItem) {
	switch it.Type {
	case demotenant.ItemUser:
		s.users[it.ID] = true
	case demotenant.ItemGroup:
		s.groups[it.ID] = true
		for _, m := range d.groups[it.ID].Members {
			s.users[m] = true
		}
	case demotenant.ItemSite:
		for _, id := range d.siteTree(it.ID) {
			s.sites[id] = true
		}
	case demotenant.ItemTeam:
		s.teams[it.ID] = true
	}
}

func (d *directory) remove(s scopeSet, it demotenant.RoleItem) {
	switch it.Type {
	case demotenant.ItemUser:
		delete(s.users, it.ID)
	case demotenant.ItemGroup:
		delete(s.groups, it.ID)
		for _, m := range d.groups[it.ID].Members {
			delete(s.users, m)
		}
	case demotenant.ItemSite:
		for _, id := range d.siteTree(it.ID) {
			delete(s.sites, id)
		}
	case demotenant.ItemTeam:
		delete(s.teams, it.ID)
	}
}

// siteTree is a site and all its subsites.
func (d *directory) siteTree(id string) []string {
	out := []string{id}
	for _, s := range d.org.Sites {
		if s.Parent == id {
			out = append(out, d.siteTree(s.ID)...)
		}
	}
	return out
}

// narrow restricts the caller's scope to one managed object, as
// OperatorExplore's scope does. ok is false when the object is not in scope.
func (d *directory) narrow(caller scopeSet, typ, id string) (s scopeSet, name string, ok bool) {
	s = newScopeSet()
	switch typ {
	case string(demotenant.ItemUser):
		u, known := d.users[id]
		if !known || !caller.users[id] {
			return s, "", false
		}
		s.users[id] = true
		for tid := range caller.teams {
			if slices.Contains(d.teams[tid].Members, id) {
				s.teams[tid] = true
			}
		}
		return s, u.DisplayName, true
	case string(demotenant.ItemGroup):
		g, known := d.groups[id]
		if !known || !caller.groups[id] {
			return s, "", false
		}
		s.groups[id] = true
		for _, m := range g.Members {
			if caller.users[m] {
				s.users[m] = true
			}
		}
		return s, g.DisplayName, true
	case string(demotenant.ItemSite):
		site, known := d.sites[id]
		if !known || !caller.sites[id] {
			return s, "", false
		}
		for _, sid := range d.siteTree(id) {
			if caller.sites[sid] {
				s.sites[sid] = true
			}
		}
		return s, site.Title, true
	case string(demotenant.ItemTeam):
		t, known := d.teams[id]
		if !known || !caller.teams[id] {
			return s, "", false
		}
		s.teams[id] = true
		return s, t.DisplayName, true
	}
	return s, "", false
}

// sorted returns the objects of ids found in all, ordered by key.
func sorted[T any](ids map[string]bool, all map[string]T, key func(T) string) []T {
	var out []T
	for id := range ids {
		if x, ok := all[id]; ok {
			out = append(out, x)
		}
	}
	slices.SortFunc(out, func(a, b T) int { return cmp.Compare(key(a), key(b)) })
	return out
}

func (d *directory) sortedUsers(ids map[string]bool) []demotenant.User {
	return sorted(ids, d.users, func(u demotenant.User) string { return u.DisplayName })
}

func (d *directory) sortedGroups(ids map[string]bool) []demotenant.Group {
	return sorted(ids, d.groups, func(g demotenant.Group) string { return g.DisplayName })
}

// sortedSites orders sites by URL, so subsites follow their parent.
func (d *directory) sortedSites(ids map[string]bool) []demotenant.Site {
	return sorted(ids, d.sites, func(s demotenant.Site) string { return strings.ToLower(s.URL) })
}

func (d *directory) sortedTeams(ids map[string]bool) []demotenant.Team {
	return sorted(ids, d.teams, func(t demotenant.Team) string { return t.DisplayName })
}

// parentURL is the URL of a subsite's parent site, empty for a top-level site.
func (d *directory) parentURL(s demotenant.Site) string {
	if p, ok := d.sites[s.Parent]; ok {
		return p.URL
	}
	return ""
}
