package veeamapi

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// RestorePortalSettings tells how the server's Restore Portal signs users in.
type RestorePortalSettings struct {
	// ApplicationID is the Entra application for the Restore Portal.
	ApplicationID string `json:"applicationId"`
	// MSALAuthorityURI is the Entra authority, https://login.microsoftonline.com/<tenant>.
	MSALAuthorityURI string `json:"msalAuthorityUri"`
	RestorePortalURI string `json:"restorePortalUri"`
	IsEnabled        bool   `json:"isEnabled"`
}

// RestorePortalSettings reads the Restore Portal settings; no token is needed.
//
// VB365: GET /v8/RestorePortalSettings
func (c *Client) RestorePortalSettings(ctx context.Context) (*RestorePortalSettings, error) {
	var s RestorePortalSettings
	if err := c.call(ctx, c.timeout, request{Method: http.MethodGet, Path: "/v8/RestorePortalSettings"}, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// LoggedInUser is the operator as the server knows them (RESTRbacLoggedInUser).
type LoggedInUser struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// LoggedInUser returns the operator the token belongs to.
//
// VB365: GET /v8/Organization/LoggedInUser
func (o *Operator) LoggedInUser(ctx context.Context) (*LoggedInUser, error) {
	var u LoggedInUser
	if err := o.get(ctx, "/v8/Organization/LoggedInUser", nil, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// OperatorInfo tells whether the user holds a restore-operator role (RESTOperatorInfo).
type OperatorInfo struct {
	IsOperator bool `json:"isOperator"`
}

// OperatorInfo tells whether the user is a restore operator or a self-service end user.
//
// VB365: GET /v8/Organization/LoggedInUser/OperatorInfo
func (o *Operator) OperatorInfo(ctx context.Context) (*OperatorInfo, error) {
	var info OperatorInfo
	if err := o.get(ctx, "/v8/Organization/LoggedInUser/OperatorInfo", nil, &info); err != nil {
		return nil, err
	}
	return &info, nil
}

// ScopeItemType is the kind of a managed object (RESTRbacItemType).
type ScopeItemType string

// The kinds of managed object.
const (
	ScopeUser  ScopeItemType = "User"
	ScopeGroup ScopeItemType = "Group"
	ScopeSite  ScopeItemType = "Site"
	ScopeTeam  ScopeItemType = "Team"
)

// ScopeUserInfo is a person or mailbox in a scope (RESTRbacUser).
type ScopeUserInfo struct {
	ID            string  `json:"id"`
	OnPremisesSID string  `json:"onPremisesSid,omitempty"`
	DisplayName   string  `json:"displayName"`
	Name          string  `json:"name"` // the e-mail address
	Type          *string `json:"type,omitempty"`
}

// ScopeSiteInfo is a SharePoint site in a scope (RESTRbacSite).
type ScopeSiteInfo struct {
	ID         string  `json:"id"`
	URL        *string `json:"url"`
	Title      string  `json:"title"`
	ParentURL  string  `json:"parentUrl,omitempty"`
	IsCloud    *bool   `json:"isCloud"`
	IsPersonal *bool   `json:"isPersonal"`
}

// ScopeGroupInfo is a group in a scope (RESTRbacGroup).
type ScopeGroupInfo struct {
	ID            string  `json:"id"`
	OnPremisesSID *string `json:"onPremisesSid,omitempty"`
	DisplayName   string  `json:"displayName"`
	Name          *string `json:"name"`
	Type          *string `json:"type"`
}

// ScopeTeamInfo is a team in a scope (RESTRbacTeam).
type ScopeTeamInfo struct {
	ID          string `json:"id"`
	Description string `json:"description"`
	DisplayName string `json:"displayName"`
	Mail        string `json:"mail"`
}

// ScopeItem is one managed object (RESTRbacItemComposed); the field that
// matches Type is set.
type ScopeItem struct {
	Type  ScopeItemType   `json:"type"`
	ID    string          `json:"id"`
	User  *ScopeUserInfo  `json:"user,omitempty"`
	Site  *ScopeSiteInfo  `json:"site,omitempty"`
	Group *ScopeGroupInfo `json:"group,omitempty"`
	Team  *ScopeTeamInfo  `json:"team,omitempty"`
}

// EffectiveScope is what the operator may restore (RESTRbacEffectiveScope).
// The schema has no group list: groups appear among Users as items of type Group.
type EffectiveScope struct {
	Users []ScopeItem `json:"users"`
	Sites []ScopeItem `json:"sites"`
	Teams []ScopeItem `json:"teams"`
}

// EffectiveScope returns the objects the operator may explore and restore.
//
// VB365: GET /v8/Organization/LoggedInUser/EffectiveScope
func (o *Operator) EffectiveScope(ctx context.Context) (*EffectiveScope, error) {
	var s EffectiveScope
	if err := o.get(ctx, "/v8/Organization/LoggedInUser/EffectiveScope", nil, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// Workload is a restore session type.
type Workload string

// The workloads.
const (
	Exchange   Workload = "Vex"
	OneDrive   Workload = "Veod"
	SharePoint Workload = "Vesp"
	Teams      Workload = "Vet"
)

// RestorePoint is a point in time the organisation can be restored from (RESTRestorePoint).
type RestorePoint struct {
	ID             string    `json:"id"`
	IsDeleted      bool      `json:"isDeleted"`
	RepositoryID   string    `json:"repositoryId"`
	BackupTime     time.Time `json:"backupTime"`
	JobID          string    `json:"jobId"`
	OrganizationID string    `json:"organizationId"`
	IsExchange     bool      `json:"isExchange"`
	IsSharePoint   bool      `json:"isSharePoint"`
	IsOneDrive     bool      `json:"isOneDrive"`
	IsTeams        bool      `json:"isTeams"`
	IsLongTermCopy bool      `json:"isLongTermCopy"`
	IsCopy         bool      `json:"isCopy"`
	IsRetrieved    bool      `json:"isRetrieved"`
}

// Covers reports whether the point holds data of workload w.
func (p RestorePoint) Covers(w Workload) bool {
	switch w {
	case Exchange:
		return p.IsExchange
	case OneDrive:
		return p.IsOneDrive
	case SharePoint:
		return p.IsSharePoint
	case Teams:
		return p.IsTeams
	}
	return false
}

// RestorePointsOptions filters restore points.
type RestorePointsOptions struct {
	// ScopeItemID limits the points to those of one managed object.
	ScopeItemID string
	// Copies asks for the points of backup copy jobs instead.
	Copies bool
}

// RestorePoints lists the operator's restore points. The answer is a plain
// array, not a page.
//
// VB365: GET /v8/Organization/LoggedInUser/RestorePoints
func (o *Operator) RestorePoints(ctx context.Context, opts RestorePointsOptions) ([]RestorePoint, error) {
	q := url.Values{}
	if opts.ScopeItemID != "" {
		q.Set("rbacItem", opts.ScopeItemID)
	}
	if opts.Copies {
		q.Set("isCopy", strconv.FormatBool(true))
	}
	var points []RestorePoint
	if err := o.get(ctx, "/v8/Organization/LoggedInUser/RestorePoints", q, &points); err != nil {
		return nil, err
	}
	return points, nil
}
