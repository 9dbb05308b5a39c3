package fakeveeam

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"slices"
	"time"
)

// workloadNames are the restore session types and what they hold.
var workloadNames = map[string]string{"Vex": "Exchange", "Veod": "OneDrive", "Vesp": "SharePoint", "Vet": "Teams"}

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// restoreSession is the server's state of one restore session.
type restoreSession struct {
	id, typ, owner  string
	name            string
	created         time.Time
	end             *time.Time
	state, result   string
	initiatedBy     string
	scopeName       string
	clientHost      string
	reason          string
	eTag            int64
	point           restorePoint
	showDeleted     bool
	showAllVersions bool
	scope           scopeSet
	lastUsed        time.Time
	events          []sessionEvent
	job             *restoreJob // set for the session of an operatorRestore
}

// restoreSessionJSON is RESTRestoreSession.
type restoreSessionJSON struct {
	ID           string          `json:"id"`
	Name         string          `json:"name"`
	Organization string          `json:"organization"`
	Type         string          `json:"type"`
	CreationTime time.Time       `json:"creationTime"`
	EndTime      *time.Time      `json:"endTime"`
	State        string          `json:"state"`
	Result       string          `json:"result"`
	InitiatedBy  string          `json:"initiatedBy"`
	Details      string          `json:"details"`
	ScopeName    string          `json:"scopeName"`
	ClientHost   string          `json:"clientHost"`
	Reason       string          `json:"reason"`
	ETag         int64           `json:"eTag"`
	Links        map[string]link `json:"_links"`
}

// sessionEvent is RESTRestoreSessionEvent.
type sessionEvent struct {
	ID            string          `json:"id"`
	Type          string          `json:"type"`
	Status        string          `json:"status"`
	StartTime     time.Time       `json:"startTime"`
	EndTime       *time.Time      `json:"endTime"`
	Duration      string          `json:"duration"`
	Title         string          `json:"title"`
	Message       string          `json:"message"`
	Order         int             `json:"order"`
	ItemName      string          `json:"itemName,omitempty"`
	ItemType      string          `json:"itemType,omitempty"`
	ItemSizeBytes int64           `json:"itemSizeBytes,omitempty"`
	Source        string          `json:"source,omitempty"`
	Target        string          `json:"target,omitempty"`
	Links         map[string]link `json:"_links"`
}

// exploreOptions is RESTOperatorExploreOptions.
type exploreOptions struct {
	DateTime        *time.Time `json:"dateTime"`
	Type            *string    `json:"type"`
	ShowDeleted     *bool      `json:"showDeleted"`
	ShowAllVersions *bool      `json:"showAllVersions"`
	Scope           *struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	} `json:"scope"`
	RepositoryID *string `json:"repositoryId"`
	Reason       string  `json:"reason"`
}

// SessionInfo is a snapshot of a restore session, for tests.
type SessionInfo struct {
	ID        string
	Name      string
	Type      string
	Restore   bool   // the session of an operatorRestore, rather than of an explore
	Owner     string // OID of the operator who opened it
	State     string
	ScopeName string
	Reason    string
	PointTime time.Time
}

// RestoreSessions lists the restore sessions opened by the operator with this OID.
func (s *Server) RestoreSessions(oid string) []SessionInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	var out []SessionInfo
	for _, rs := range s.sessions {
		if rs.owner != oid {
			continue
		}
		s.stopIfIdle(rs, now)
		out = append(out, SessionInfo{ID: rs.id, Name: rs.name, Type: rs.typ, Restore: rs.job != nil, Owner: rs.owner, State: rs.state,
			ScopeName: rs.scopeName, Reason: rs.reason, PointTime: rs.point.BackupTime})
	}
	slices.SortFunc(out, func(a, b SessionInfo) int { return a.PointTime.Compare(b.PointTime) })
	return out
}

func (s *Server) operatorExplore(w http.ResponseWriter, r *http.Request, c *caller) {
	var opts exploreOptions
	if err := json.NewDecoder(r.Body).Decode(&opts); err != nil {
		badRequest(w, "The request body is not a valid RESTOperatorExploreOptions object.")
		return
	}
	if opts.Type == nil || workloadNames[*opts.Type] == "" {
		badRequest(w, "The type parameter must be one of Vex, Veod, Vesp, Vet.")
		return
	}
	typ := *opts.Type
	now := s.opts.Now()
	at := now
	if opts.DateTime != nil {
		at = *opts.DateTime
	}
	point, ok := s.pointAt(typ, at)
	if !ok {
		badRequest(w, fmt.Sprintf("There are no %s restore points at or before %s.", workloadNames[typ], at.UTC().Format(time.RFC3339)))
		return
	}
	if opts.RepositoryID != nil && *opts.RepositoryID != point.RepositoryID {
		notFound(w, "The repository with the specified ID was not found.")
		return
	}
	caller := s.dir.effectiveScope(c.oid)
	scope, scopeName := caller, "Entire scope"
	if opts.Scope != nil {
		narrowed, name, ok := s.dir.narrow(caller, opts.Scope.Type, opts.Scope.ID)
		if !ok {
			// Out-of-scope objects are refused as access denied (api-notes §10).
			forbidden(w, "Access to the specified object is denied.")
			return
		}
		scope, scopeName = narrowed, name
	}
	u, _ := s.dir.user(c.oid)
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	rs := &restoreSession{
		id: newID(), typ: typ, owner: c.oid,
		name:    fmt.Sprintf("Restore Portal: %s, %s", workloadNames[typ], point.BackupTime.UTC().Format("2006-01-02 15:04 UTC")),
		created: now, state: "Working", result: "Success", initiatedBy: u.UPN, scopeName: scopeName,
		clientHost: host, reason: opts.Reason, eTag: 1, point: point, scope: scope, lastUsed: now,
		showDeleted: opts.ShowDeleted != nil && *opts.ShowDeleted, showAllVersions: opts.ShowAllVersions != nil && *opts.ShowAllVersions,
	}
	rs.addEvent(now, "Success", "Restore session started",
		fmt.Sprintf("%s restore session started by %s for the restore point of %s.", workloadNames[typ], u.UPN, point.BackupTime.UTC().Format(time.RFC3339)))
	s.mu.Lock()
	s.sessions[rs.id] = rs
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, s.sessionJSON(rs))
}

func (rs *restoreSession) addEvent(now time.Time, status, title, message string) {
	var end *time.Time
	if status != "Running" {
		end = &now
	}
	rs.events = append(rs.events, sessionEvent{
		ID: newID(), Type: "None", Status: status, StartTime: now, EndTime: end, Duration: "00:00:00",
		Title: title, Message: message, Order: len(rs.events) + 1,
	})
}

// stopIfIdle stops a session nobody used for the idle timeout. Call with s.mu held.
func (s *Server) stopIfIdle(rs *restoreSession, now time.Time) {
	if rs.job != nil || rs.state != "Working" || now.Sub(rs.lastUsed) < s.opts.SessionIdleTimeout {
		return
	}
	end := rs.lastUsed.Add(s.opts.SessionIdleTimeout)
	rs.state, rs.end = "Stopped", &end
	rs.eTag++
	rs.addEvent(end, "Success", "Restore session stopped", "The restore session was stopped after a period of inactivity.")
}

func (s *Server) sessionJSON(rs *restoreSession) restoreSessionJSON {
	base := "/v8/RestoreSessions/" + rs.id
	return restoreSessionJSON{
		ID: rs.id, Name: rs.name, Organization: s.dir.org.Name, Type: rs.typ, CreationTime: rs.created.UTC(),
		EndTime: rs.end, State: rs.state, Result: rs.result, InitiatedBy: rs.initiatedBy, ScopeName: rs.scopeName,
		ClientHost: rs.clientHost, Reason: rs.reason, ETag: rs.eTag,
		Links: map[string]link{"self": {Href: base}, "events": {Href: base + "/Events"}, "organization": {Href: base + "/organization"}},
	}
}

// session finds the caller's session, refusing malformed ids and other
// operators' sessions (as not found, which reveals nothing). It marks the
// session used. The returned session must be read under s.mu.
func (s *Server) session(w http.ResponseWriter, r *http.Request, c *caller) (*restoreSession, bool) {
	id := r.PathValue("restoreSessionId")
	if !uuidPattern.MatchString(id) {
		badRequest(w, fmt.Sprintf("The value '%s' is not valid for restoreSessionId.", id))
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rs, ok := s.sessions[id]
	if !ok || rs.owner != c.oid {
		notFound(w, fmt.Sprintf("Restore session with ID %s was not found.", id))
		return nil, false
	}
	now := s.opts.Now()
	if rs.job != nil {
		s.advance(rs, now)
		return rs, true
	}
	s.stopIfIdle(rs, now)
	if rs.state == "Working" {
		rs.lastUsed = now
	}
	return rs, true
}

func (s *Server) getSession(w http.ResponseWriter, r *http.Request, c *caller) {
	rs, ok := s.session(w, r, c)
	if !ok {
		return
	}
	s.mu.Lock()
	out := s.sessionJSON(rs)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) stopSession(w http.ResponseWriter, r *http.Request, c *caller) {
	rs, ok := s.session(w, r, c)
	if !ok {
		return
	}
	now := s.opts.Now()
	s.mu.Lock()
	if job := rs.job; job != nil && rs.state == "Working" {
		for i := range job.targets {
			if t := &job.targets[i]; !t.done {
				t.done, t.status, t.message = true, "Skipped", "The restore was stopped before this item."
			}
		}
	}
	if rs.state == "Working" {
		rs.state, rs.end = "Stopped", &now
		rs.eTag++
		rs.addEvent(now, "Success", "Restore session stopped", "The restore session was stopped by "+rs.initiatedBy+".")
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) sessionEvents(w http.ResponseWriter, r *http.Request, c *caller) {
	offset, limit, ok := pageParams(w, r)
	if !ok {
		return
	}
	rs, ok := s.session(w, r, c)
	if !ok {
		return
	}
	s.mu.Lock()
	events := slices.Clone(rs.events)
	s.mu.Unlock()
	for i := range events {
		events[i].Links = map[string]link{"self": {Href: "/v8/RestoreSessions/" + rs.id + "/Events/" + events[i].ID}}
	}
	writeJSON(w, http.StatusOK, paginate(r, events, offset, limit))
}

// inSession serves a listing inside a working session of the given type.
func (s *Server) inSession(typ string, h func(http.ResponseWriter, *http.Request, *restoreSession)) func(http.ResponseWriter, *http.Request, *caller) {
	return func(w http.ResponseWriter, r *http.Request, c *caller) {
		rs, ok := s.session(w, r, c)
		if !ok {
			return
		}
		s.mu.Lock()
		state, actual := rs.state, rs.typ
		s.mu.Unlock()
		switch {
		case actual != typ:
			badRequest(w, fmt.Sprintf("Restore session %s is a %s session, not %s.", rs.id, workloadNames[actual], workloadNames[typ]))
		case state != "Working":
			writeError(w, http.StatusConflict, errOperationConflict, fmt.Sprintf("Restore session %s has been stopped.", rs.id))
		default:
			h(w, r, rs)
		}
	}
}
