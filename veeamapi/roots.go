package veeamapi

import "context"

// Mailbox is a backed-up mailbox (RESTExchangeMailbox).
type Mailbox struct {
	ID        string  `json:"id"`
	Name      string  `json:"name"`
	Email     string  `json:"email"`
	IsArchive bool    `json:"isArchive"`
	IsPublic  bool    `json:"isPublic"`
	Actions   Actions `json:"_actions"`
}

// Mailboxes lists the mailboxes of an Exchange restore session.
//
// VB365: GET /v8/RestoreSessions/{restoreSessionId}/organization/mailboxes
func (o *Operator) Mailboxes(ctx context.Context, sessionID string, page PageOptions) (*Page[Mailbox], error) {
	var p Page[Mailbox]
	if err := o.get(ctx, pathf("/v8/RestoreSessions/%s/organization/mailboxes", sessionID), page.query(), &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// OneDriveInfo is a backed-up OneDrive (RESTOneDrive).
type OneDriveInfo struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	URL  string `json:"url"`
}

// OneDrives lists the OneDrives of a OneDrive restore session.
//
// VB365: GET /v8/RestoreSessions/{restoreSessionId}/Organization/OneDrives
func (o *Operator) OneDrives(ctx context.Context, sessionID string, page PageOptions) (*Page[OneDriveInfo], error) {
	var p Page[OneDriveInfo]
	if err := o.get(ctx, pathf("/v8/RestoreSessions/%s/Organization/OneDrives", sessionID), page.query(), &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// Site is a backed-up SharePoint site (RESTSharePointSite).
type Site struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	URL  string `json:"url"`
}

// SitesOptions selects sites: ParentID "root" lists top-level sites only, a
// site id that site's subsites; empty lists top-level sites with their subsites.
type SitesOptions struct {
	PageOptions
	ParentID string
}

// Sites lists the sites of a SharePoint restore session.
//
// VB365: GET /v8/RestoreSessions/{restoreSessionId}/Organization/Sites
func (o *Operator) Sites(ctx context.Context, sessionID string, opts SitesOptions) (*Page[Site], error) {
	q := opts.query()
	if opts.ParentID != "" {
		q.Set("parentId", opts.ParentID)
	}
	var p Page[Site]
	if err := o.get(ctx, pathf("/v8/RestoreSessions/%s/Organization/Sites", sessionID), q, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// Team is a backed-up team (RESTTeamsTeam).
type Team struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	Description string `json:"description"`
	GroupEmail  string `json:"groupEmail"`
	Alias       string `json:"alias"`
	Privacy     string `json:"privacy"` // Public, Private, HiddenMembership
	IsArchived  bool   `json:"isArchived"`
}

// TeamsOptions selects teams; DisplayName filters by a contained name, with * and ? wildcards.
type TeamsOptions struct {
	PageOptions
	DisplayName string
}

// Teams lists the teams of a Teams restore session.
//
// VB365: GET /v8/RestoreSessions/{restoreSessionId}/organization/teams
func (o *Operator) Teams(ctx context.Context, sessionID string, opts TeamsOptions) (*Page[Team], error) {
	q := opts.query()
	if opts.DisplayName != "" {
		q.Set("displayName", opts.DisplayName)
	}
	var p Page[Team]
	if err := o.get(ctx, pathf("/v8/RestoreSessions/%s/organization/teams", sessionID), q, &p); err != nil {
		return nil, err
	}
	return &p, nil
}
