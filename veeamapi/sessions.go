package veeamapi

import (
	"context"
	"time"
)

// ExploreOptions opens a restore session (RESTOperatorExploreOptions).
type ExploreOptions struct {
	// Type is the workload to explore.
	Type Workload `json:"type"`
	// DateTime picks the newest restore point at or before it; nil means the latest.
	DateTime *time.Time `json:"dateTime,omitempty"`
	// RepositoryID is the repository of the chosen point (v8).
	RepositoryID string `json:"repositoryId,omitempty"`
	// Scope narrows the session to one managed object from EffectiveScope;
	// nil explores everything in the operator's scope.
	Scope           *ScopeItem `json:"scope,omitempty"`
	ShowDeleted     *bool      `json:"showDeleted,omitempty"`
	ShowAllVersions *bool      `json:"showAllVersions,omitempty"`
	Reason          string     `json:"reason,omitempty"`
}

// Session states.
const (
	SessionWorking = "Working"
	SessionStopped = "Stopped"
)

// RestoreSession is a restore session (RESTRestoreSession).
type RestoreSession struct {
	ID           string     `json:"id"`
	Name         string     `json:"name"`
	Organization string     `json:"organization"`
	Type         Workload   `json:"type"`
	CreationTime time.Time  `json:"creationTime"`
	EndTime      *time.Time `json:"endTime"`
	State        string     `json:"state"`  // Working, Stopped
	Result       string     `json:"result"` // Success, Warning, Failed
	InitiatedBy  string     `json:"initiatedBy"`
	Details      string     `json:"details"`
	ScopeName    string     `json:"scopeName"`
	ClientHost   string     `json:"clientHost"`
	Reason       string     `json:"reason"`
	ETag         int64      `json:"eTag"`
}

// Explore opens a restore session for the operator.
//
// VB365: POST /v8/Organization/OperatorExplore
func (o *Operator) Explore(ctx context.Context, opts ExploreOptions) (*RestoreSession, error) {
	var s RestoreSession
	if err := o.post(ctx, "/v8/Organization/OperatorExplore", opts, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// RestoreSession returns a restore session.
//
// VB365: GET /v8/RestoreSessions/{restoreSessionId}
func (o *Operator) RestoreSession(ctx context.Context, id string) (*RestoreSession, error) {
	var s RestoreSession
	if err := o.get(ctx, pathf("/v8/RestoreSessions/%s", id), nil, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// StopRestoreSession stops a restore session.
//
// VB365: POST /v8/RestoreSessions/{restoreSessionId}/Stop
func (o *Operator) StopRestoreSession(ctx context.Context, id string) error {
	return o.post(ctx, pathf("/v8/RestoreSessions/%s/Stop", id), nil, nil)
}

// RestoreSessionEvent is one event of a restore session (RESTRestoreSessionEvent).
type RestoreSessionEvent struct {
	ID            string     `json:"id"`
	Type          string     `json:"type"`   // None, Save, Export, Send, Restore, View
	Status        string     `json:"status"` // Running, Success, Warning, Failed, Cancelled, Skipped
	StartTime     time.Time  `json:"startTime"`
	EndTime       *time.Time `json:"endTime"`
	Duration      string     `json:"duration"`
	Title         string     `json:"title"`
	Message       string     `json:"message"`
	Order         int        `json:"order"`
	ItemName      string     `json:"itemName"`
	ItemType      string     `json:"itemType"`
	ItemSizeBytes int64      `json:"itemSizeBytes"`
	Source        string     `json:"source"`
	Target        string     `json:"target"`
}

// RestoreSessionEvents lists a page of a restore session's events.
//
// VB365: GET /v8/RestoreSessions/{restoreSessionId}/Events
func (o *Operator) RestoreSessionEvents(ctx context.Context, id string, page PageOptions) (*Page[RestoreSessionEvent], error) {
	var p Page[RestoreSessionEvent]
	if err := o.get(ctx, pathf("/v8/RestoreSessions/%s/Events", id), page.query(), &p); err != nil {
		return nil, err
	}
	return &p, nil
}
