// Package demotenant describes Contoso, the demo organisation that the fake
// Entra ID issuer and the fake VB365 server agree on: its people, groups,
// SharePoint sites, teams and VB365 restore-operator roles.
//
// It is plain data with no imports from the rest of the portal, so that both
// fakes can seed themselves from it while staying independent of each other.
// Every identifier is derived deterministically from a name, so a restart gives
// the same ids and a test can name what it expects.
package demotenant

import (
	"crypto/sha1"
	"fmt"
	"strings"
)

// The fixed identities of the demo tenant and of its Restore Portal application.
const (
	Name   = "Contoso"
	Domain = "contoso.onmicrosoft.com"
	// TenantID is the Entra tenant id (the tid claim).
	TenantID = "6b0e5c1a-2f4d-4c8e-9a71-3d5f0b2c8e41"
	// ApplicationID is the Entra application registered for the Restore Portal:
	// the portal signs in with it and VB365 accepts access tokens for api://<ApplicationID>.
	ApplicationID = "9f3c2b7e-51a0-4d6b-8e2f-7a4c1d9e0b53"
	// OrganizationID is the VB365 id of the backed-up organisation.
	OrganizationID = "1c7f4e2a-8b3d-4f60-a5e9-2d8b6c0f3a17"
)

// Role describes what a person may do in the restore portal, as the demo
// sign-in page shows it.
type Role string

// The roles of the demo accounts.
const (
	EndUser  Role = "End user"
	Helpdesk Role = "Helpdesk (restore operator for the Sales group and its sites)"
	Operator Role = "Restore operator (entire organisation)"
)

// User is a person in the tenant with a mailbox and a OneDrive.
type User struct {
	OID         string // Entra object id (the oid claim)
	DisplayName string
	GivenName   string
	Surname     string
	UPN         string // user principal name, also the primary SMTP address
	JobTitle    string
	Department  string
	Role        Role
	HasArchive  bool // an online archive mailbox is enabled
	// AppRoles are the portal's Entra app roles assigned to the person.
	AppRoles []string
}

// AuditorRole is the portal's app role that lets its holders read the audit trail.
const AuditorRole = "Portal.Auditor"

// AdminRole is the portal's app role of its administrators: they manage
// the users of Veeam Backup for Microsoft Azure.
const AdminRole = "Portal.Admin"

// Group is a Microsoft 365 group.
type Group struct {
	ID          string
	DisplayName string
	Mail        string
	Members     []string // user OIDs
}

// Site is a SharePoint site; Parent is the id of the parent site for a subsite.
type Site struct {
	ID     string
	Title  string
	URL    string
	Parent string
}

// Team is a Microsoft Teams team.
type Team struct {
	ID          string
	DisplayName string
	Description string
	Mail        string
	Privacy     string // Public, Private
	Archived    bool
	Members     []string // user OIDs
}

// ItemType names the kind of object a restore-operator role selects or excludes.
type ItemType string

// The kinds of object a role can name, as VB365 spells them.
const (
	ItemUser  ItemType = "User"
	ItemGroup ItemType = "Group"
	ItemSite  ItemType = "Site"
	ItemTeam  ItemType = "Team"
)

// RoleItem names one object selected or excluded by a role.
type RoleItem struct {
	Type ItemType
	ID   string
}

// OperatorRole is a VB365 restore-operator role: who holds it and what it covers.
type OperatorRole struct {
	ID          string
	Name        string
	Description string
	EntireOrg   bool
	Operators   []string // user OIDs
	Selected    []RoleItem
	Excluded    []RoleItem
}

// Tenant is the whole demo organisation.
type Tenant struct {
	ID            string
	Name          string
	Domain        string
	ApplicationID string
	Users         []User
	Groups        []Group
	Sites         []Site
	Teams         []Team
	Roles         []OperatorRole
}

// ID returns a stable UUID for a named object of the demo tenant, so that the
// same name always gives the same id (a name-based UUID, version 5 layout).
func ID(kind, name string) string {
	sum := sha1.Sum([]byte("contoso-demo/" + kind + "/" + strings.ToLower(name)))
	sum[6] = sum[6]&0x0f | 0x50
	sum[8] = sum[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16])
}

// Contoso returns a fresh copy of the demo tenant.
func Contoso() Tenant {
	person := func(alias, given, surname, title, dept string, role Role, archive bool) User {
		upn := alias + "@" + Domain
		return User{
			OID: ID("user", upn), DisplayName: given + " " + surname, GivenName: given, Surname: surname,
			UPN: upn, JobTitle: title, Department: dept, Role: role, HasArchive: archive,
		}
	}
	users := []User{
		person("AdeleV", "Adele", "Vance", "Retail Manager", "Retail", EndUser, true),
		person("AlexW", "Alex", "Wilber", "Marketing Assistant", "Sales & Marketing", EndUser, false),
		person("MeganB", "Megan", "Bowen", "Marketing Manager", "Sales & Marketing", EndUser, true),
		person("DiegoS", "Diego", "Siciliani", "HR Manager", "HR", EndUser, false),
		person("IsaiahL", "Isaiah", "Langer", "Sales Rep", "Sales & Marketing", EndUser, false),
		person("MiriamG", "Miriam", "Graham", "Director", "Sales & Marketing", EndUser, true),
		person("LeeG", "Lee", "Gu", "IT Helpdesk Lead", "IT", Helpdesk, false),
		person("NestorW", "Nestor", "Wilke", "Director of Operations", "Operations", Operator, true),
		person("LynneR", "Lynne", "Robbins", "Planner", "Retail", EndUser, false),
		person("JohannaL", "Johanna", "Lorenz", "Senior Engineer", "Engineering", EndUser, false),
		person("PattiF", "Patti", "Fernandez", "President", "Executive Management", EndUser, true),
		person("PradeepG", "Pradeep", "Gupta", "Accountant", "Finance", EndUser, false),
		person("GradyA", "Grady", "Archie", "Designer", "R&D", EndUser, false),
		person("HenriettaM", "Henrietta", "Mueller", "Developer", "R&D", EndUser, false),
		person("JoniS", "Joni", "Sherman", "Paralegal", "Legal", EndUser, false),
		person("LidiaH", "Lidia", "Holloway", "Product Manager", "Engineering", EndUser, false),
	}
	// Joni Sherman, a paralegal, reviews who restored what; Nestor Wilke
	// runs the backups, administers the portal and reads its trail.
	for i := range users {
		switch users[i].UPN {
		case "JoniS@" + Domain:
			users[i].AppRoles = []string{AuditorRole}
		case "NestorW@" + Domain:
			users[i].AppRoles = []string{AdminRole, AuditorRole}
		}
	}
	oid := func(alias string) string { return ID("user", alias+"@"+Domain) }
	group := func(name, mail string, aliases ...string) Group {
		g := Group{ID: ID("group", name), DisplayName: name, Mail: mail + "@" + Domain}
		for _, a := range aliases {
			g.Members = append(g.Members, oid(a))
		}
		return g
	}
	groups := []Group{
		group("Sales", "sales", "MeganB", "AlexW", "IsaiahL", "MiriamG"),
		group("Retail", "retail", "AdeleV", "LynneR"),
		group("Engineering", "engineering", "JohannaL", "LidiaH", "HenriettaM", "GradyA"),
		group("Legal", "legal", "JoniS", "PattiF"),
		group("Finance", "finance", "PradeepG", "PattiF"),
		group("Web team", "webteam", "JohannaL", "LidiaH"),
	}
	site := func(title, path, parent string) Site {
		u := "https://contoso.sharepoint.com/sites/" + path
		s := Site{ID: ID("site", u), Title: title, URL: u}
		if parent != "" {
			s.Parent = ID("site", "https://contoso.sharepoint.com/sites/"+parent)
		}
		return s
	}
	sites := []Site{
		site("Contoso Intranet", "intranet", ""),
		site("Sales and Marketing", "SalesAndMarketing", ""),
		site("Sales Proposals", "SalesProposals", ""),
		site("Proposals Archive", "SalesProposals/Archive", "SalesProposals"),
		site("Mark 8 Project Team", "Mark8ProjectTeam", ""),
		site("Retail", "Retail", ""),
		site("Legal", "Legal", ""),
	}
	team := func(name, desc, mail, privacy string, archived bool, aliases ...string) Team {
		t := Team{ID: ID("team", name), DisplayName: name, Description: desc, Mail: mail + "@" + Domain, Privacy: privacy, Archived: archived}
		for _, a := range aliases {
			t.Members = append(t.Members, oid(a))
		}
		return t
	}
	teams := []Team{
		team("Mark 8 Project Team", "Everything about the Mark 8 launch", "Mark8ProjectTeam", "Public", false,
			"MeganB", "AlexW", "IsaiahL", "AdeleV", "LidiaH", "JoniS"),
		team("Sales and Marketing", "Pipeline, campaigns and proposals", "SalesAndMarketing", "Private", false,
			"MeganB", "AlexW", "IsaiahL", "MiriamG"),
		team("Retail", "Stores, staffing and stock", "Retail", "Public", false, "AdeleV", "LynneR", "DiegoS"),
		team("Legal Hold", "Matters under legal hold", "LegalHold", "Private", false, "JoniS", "PattiF"),
		team("Contoso Launch 2024", "The 2024 launch, kept for reference", "ContosoLaunch2024", "Public", true,
			"MeganB", "AdeleV", "NestorW"),
	}
	roles := []OperatorRole{
		{
			ID: ID("role", "Sales helpdesk"), Name: "Sales helpdesk",
			Description: "Restores for the Sales group, its sites and its team",
			Operators:   []string{oid("LeeG")},
			Selected: []RoleItem{
				{Type: ItemGroup, ID: ID("group", "Sales")},
				{Type: ItemSite, ID: ID("site", "https://contoso.sharepoint.com/sites/SalesAndMarketing")},
				{Type: ItemSite, ID: ID("site", "https://contoso.sharepoint.com/sites/SalesProposals")},
				{Type: ItemTeam, ID: ID("team", "Sales and Marketing")},
			},
		},
		{
			ID: ID("role", "Operations"), Name: "Operations",
			Description: "Restores for the whole organisation except the executive team",
			EntireOrg:   true,
			Operators:   []string{oid("NestorW")},
			Excluded:    []RoleItem{{Type: ItemUser, ID: oid("PattiF")}},
		},
	}
	return Tenant{
		ID: TenantID, Name: Name, Domain: Domain, ApplicationID: ApplicationID,
		Users: users, Groups: groups, Sites: sites, Teams: teams, Roles: roles,
	}
}

// User returns the user with the given UPN (case-insensitive) or OID.
func (t Tenant) User(key string) (User, bool) {
	for _, u := range t.Users {
		if strings.EqualFold(u.UPN, key) || u.OID == key {
			return u, true
		}
	}
	return User{}, false
}
