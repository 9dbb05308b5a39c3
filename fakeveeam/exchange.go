package fakeveeam

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// The Exchange endpoints of a restore session. Mailbox, folder and item ids
// in paths are checked against the session's scope and restore point: an
// object the operator may not see is "not found" (api-notes §10).

// folderJSON is RESTExchangeFolder.
type folderJSON struct {
	ID        string            `json:"id"`
	Name      string            `json:"name"`
	Type      string            `json:"type"`
	Category  string            `json:"category"`
	MailboxID string            `json:"mailboxId"`
	Links     map[string]link   `json:"_links"`
	Actions   map[string]action `json:"_actions,omitempty"`
}

// action is RESTAction.
type action struct {
	URI    string `json:"uri"`
	Method string `json:"method"`
}

type attachmentJSON struct {
	Name      string `json:"name"`
	SizeBytes int64  `json:"sizeBytes"`
}

// itemJSON is RESTExchangeItemsComposed: the fields of every variant, those
// of the item's kind set.
type itemJSON struct {
	ID          string            `json:"id"`
	MailboxID   string            `json:"mailboxId"`
	ItemClass   string            `json:"itemClass"`
	Subject     string            `json:"subject,omitempty"`
	From        string            `json:"from,omitempty"`
	To          string            `json:"to,omitempty"`
	Cc          string            `json:"cc,omitempty"`
	Bcc         string            `json:"bcc,omitempty"`
	Sent        *time.Time        `json:"sent,omitempty"`
	Received    *time.Time        `json:"received,omitempty"`
	Reminder    *bool             `json:"reminder,omitempty"`
	Importance  string            `json:"importance,omitempty"`
	Attachments []attachmentJSON  `json:"attachments,omitempty"`
	Organizer   string            `json:"organizer,omitempty"`
	Attendees   string            `json:"attendees,omitempty"`
	StartTime   *time.Time        `json:"startTime,omitempty"`
	EndTime     *time.Time        `json:"endTime,omitempty"`
	Location    string            `json:"location,omitempty"`
	Recurring   *bool             `json:"recurring,omitempty"`
	FullName    string            `json:"fullName,omitempty"`
	Email       string            `json:"email,omitempty"`
	Company     string            `json:"company,omitempty"`
	JobTitle    string            `json:"jobTitle,omitempty"`
	Business    string            `json:"businessPhone,omitempty"`
	Mobile      string            `json:"mobile,omitempty"`
	Address     string            `json:"address,omitempty"`
	FileAs      string            `json:"fileAs,omitempty"`
	DisplayAs   string            `json:"displayAs,omitempty"`
	Status      string            `json:"status,omitempty"`
	Percent     *float64          `json:"percentComplete,omitempty"`
	StartDate   *time.Time        `json:"startDate,omitempty"`
	DueDate     *time.Time        `json:"dueDate,omitempty"`
	Owner       string            `json:"owner,omitempty"`
	Date        *time.Time        `json:"date,omitempty"`
	Links       map[string]link   `json:"_links"`
	Actions     map[string]action `json:"_actions,omitempty"`
}

func ptrTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// mailboxBase is the path of a mailbox in a session.
func mailboxBase(rs *restoreSession, m *mailboxData) string {
	return "/v8/RestoreSessions/" + rs.id + "/organization/mailboxes/" + m.id
}

func (s *Server) mayDownload(c *caller) bool { return !s.opts.DenyDownloads(c.oid) }

func (s *Server) itemView(rs *restoreSession, m *mailboxData, it *mailItem, ver int, id string, c *caller) itemJSON {
	f := it.versions[ver].fields
	base := mailboxBase(rs, m) + "/items/" + url.PathEscape(id)
	v := itemJSON{ID: id, MailboxID: m.id, ItemClass: it.kind.class(), Subject: f.Subject, Links: map[string]link{"self": {Href: base}}}
	if s.mayDownload(c) {
		v.Actions = map[string]action{
			"save":        {URI: base + "/save", Method: "POST"},
			"exportToPst": {URI: base + "/exportToPst", Method: "POST"},
		}
	}
	no := false
	for _, a := range f.Attachments {
		v.Attachments = append(v.Attachments, attachmentJSON{Name: a.Name, SizeBytes: a.Size})
	}
	switch it.kind {
	case kindMessage:
		v.From, v.To, v.Cc, v.Importance = f.From, f.To, f.Cc, f.Importance
		v.Sent, v.Received, v.Reminder = ptrTime(it.sent), ptrTime(it.created), &no
	case kindAppointment:
		v.Organizer, v.Attendees, v.Location = f.Organizer, f.Attendees, f.Location
		v.StartTime, v.EndTime, v.Recurring = ptrTime(f.Start), ptrTime(f.End), &f.Recurring
	case kindContact:
		v.FullName, v.Email, v.Company, v.JobTitle = f.FullName, f.Email, f.Company, f.JobTitle
		v.Business, v.Mobile, v.Address, v.FileAs, v.DisplayAs = f.BusinessPhone, f.Mobile, f.Address, f.FullName, f.FullName
		v.Attachments = nil
	case kindTask:
		v.Status, v.Percent, v.StartDate, v.DueDate, v.Owner = f.Status, &f.Percent, ptrTime(f.Start), ptrTime(f.Due), f.Owner
		v.Attachments = nil
	case kindNote:
		v.Date = ptrTime(it.created)
		v.Attachments = nil
	}
	return v
}

func (s *Server) folderView(rs *restoreSession, m *mailboxData, f *mailFolder, c *caller) folderJSON {
	base := mailboxBase(rs, m) + "/folders/" + url.PathEscape(f.id)
	v := folderJSON{ID: f.id, Name: f.name, Type: f.typ, Category: f.category, MailboxID: m.id, Links: map[string]link{"self": {Href: base}}}
	if f.parent != "" {
		v.Links["parent"] = link{Href: mailboxBase(rs, m) + "/folders/" + url.PathEscape(f.parent)}
	}
	if s.mayDownload(c) {
		v.Actions = map[string]action{"exportToPst": {URI: base + "/exportToPst", Method: "POST"}}
	}
	return v
}

func (s *Server) exchangeRoutes(m *http.ServeMux) {
	mb := "/v8/RestoreSessions/{restoreSessionId}/organization/mailboxes/{mailboxId}"
	handle := func(pattern string, h func(http.ResponseWriter, *http.Request, *restoreSession, *mailboxData, *caller)) {
		m.HandleFunc(pattern, s.authed(s.inMailbox(h)))
	}
	handle("GET "+mb, s.getMailbox)
	handle("GET "+mb+"/folders", s.listFolders)
	handle("GET "+mb+"/folders/{folderId}", s.getFolder)
	handle("GET "+mb+"/items", s.listItems)
	handle("GET "+mb+"/items/{itemId}", s.getItem)
	handle("POST "+mb+"/search", s.search)
	handle("POST "+mb+"/folders/{folderId}/search", s.search)
	handle("POST "+mb+"/items/operatorRestore", s.operatorRestore)
	handle("POST "+mb+"/items/Save", s.saveItems)
	handle("POST "+mb+"/items/{itemId}/save", s.saveItem)
	handle("POST "+mb+"/items/exportToPst", s.exportItems)
	handle("POST "+mb+"/items/{itemId}/exportToPst", s.exportItem)
	handle("POST "+mb+"/folders/{folderId}/exportToPst", s.exportFolder)
	handle("POST "+mb+"/exportToPst", s.exportFolder)
}

// inMailbox serves a request about one mailbox of a working Exchange session,
// refusing mailboxes outside the session's scope as not found.
func (s *Server) inMailbox(h func(http.ResponseWriter, *http.Request, *restoreSession, *mailboxData, *caller)) func(http.ResponseWriter, *http.Request, *caller) {
	return s.inSessionC("Vex", func(w http.ResponseWriter, r *http.Request, rs *restoreSession, c *caller) {
		id := r.PathValue("mailboxId")
		if !uuidPattern.MatchString(id) {
			badRequest(w, fmt.Sprintf("The value '%s' is not valid for mailboxId.", id))
			return
		}
		m, ok := s.mail.mailbox(id)
		s.mu.Lock()
		visible := ok && rs.scope.users[m.owner.OID]
		s.mu.Unlock()
		if !visible {
			notFound(w, fmt.Sprintf("Mailbox with ID %s was not found.", id))
			return
		}
		h(w, r, rs, m, c)
	})
}

func (s *Server) getMailbox(w http.ResponseWriter, r *http.Request, rs *restoreSession, m *mailboxData, c *caller) {
	v := mailbox{ID: m.id, Name: m.name(), Email: m.owner.UPN, IsArchive: m.archive, Links: map[string]link{"self": {Href: mailboxBase(rs, m)}}}
	if s.mayDownload(c) {
		v.Actions = map[string]action{"exportToPst": {URI: mailboxBase(rs, m) + "/exportToPst", Method: "POST"}}
	}
	writeJSON(w, http.StatusOK, v)
}

// folders lists folders: parentId=root the top-level ones, parentId=<folder>
// its subfolders, none at all every folder; name filters with * and ?.
func (s *Server) listFolders(w http.ResponseWriter, r *http.Request, rs *restoreSession, m *mailboxData, c *caller) {
	offset, limit, ok := pageParams(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	parent := q.Get("parentId")
	if parent != "" && parent != "root" && m.folder[parent] == nil {
		notFound(w, "The folder with the specified ID was not found.")
		return
	}
	filter := wildcard(q.Get("name"))
	var out []folderJSON
	for _, f := range m.folders {
		switch {
		case parent == "root" && f.parent != "":
			continue
		case parent != "" && parent != "root" && f.parent != parent:
			continue
		case filter != nil && !filter.MatchString(f.name):
			continue
		}
		out = append(out, s.folderView(rs, m, f, c))
	}
	writeJSON(w, http.StatusOK, paginate(r, out, offset, limit))
}

func (s *Server) getFolder(w http.ResponseWriter, r *http.Request, rs *restoreSession, m *mailboxData, c *caller) {
	f := m.folder[r.PathValue("folderId")]
	if f == nil {
		notFound(w, "The folder with the specified ID was not found.")
		return
	}
	writeJSON(w, http.StatusOK, s.folderView(rs, m, f, c))
}

// visible lists the items of folder (every folder if "") in the session's
// restore point, newest first; with showAllVersions, earlier versions of
// changed items follow them as items of their own ("<id>.<n>").
func (s *Server) visible(rs *restoreSession, m *mailboxData, folder string) []itemRef {
	s.mu.Lock()
	point, showDeleted, allVersions := rs.point.BackupTime, rs.showDeleted, rs.showAllVersions
	s.mu.Unlock()
	pool := m.items
	if folder != "" {
		pool = m.byFolder[folder]
	}
	out := make([]itemRef, 0, len(pool))
	for _, it := range pool {
		if !it.existsAt(point, showDeleted) || (folder != "" && it.folderAt(point) != folder) {
			continue
		}
		cur := it.versionAt(point)
		out = append(out, itemRef{it, cur, it.id})
		if allVersions {
			for v := cur - 1; v >= 0; v-- {
				out = append(out, itemRef{it, v, fmt.Sprintf("%s.%d", it.id, v)})
			}
		}
	}
	return out
}

// itemRef is an item at one version, under the id it is listed with.
type itemRef struct {
	item    *mailItem
	version int
	id      string
}

func (s *Server) listItems(w http.ResponseWriter, r *http.Request, rs *restoreSession, m *mailboxData, c *caller) {
	offset, limit, ok := pageParams(w, r)
	if !ok {
		return
	}
	parent := r.URL.Query().Get("parentId")
	if parent == "root" {
		parent = ""
	}
	if parent != "" && m.folder[parent] == nil {
		notFound(w, "The folder with the specified ID was not found.")
		return
	}
	refs := s.visible(rs, m, parent)
	s.writeItems(w, r, rs, m, c, refs, offset, limit, "")
}

func (s *Server) writeItems(w http.ResponseWriter, r *http.Request, rs *restoreSession, m *mailboxData, c *caller, refs []itemRef, offset, limit int, setID string) {
	p := paginate(r, refs, offset, limit)
	out := page[itemJSON]{Offset: p.Offset, Limit: p.Limit, SetID: setID, Links: p.Links, Results: make([]itemJSON, 0, len(p.Results))}
	for _, ref := range p.Results {
		out.Results = append(out.Results, s.itemView(rs, m, ref.item, ref.version, ref.id, c))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getItem(w http.ResponseWriter, r *http.Request, rs *restoreSession, m *mailboxData, c *caller) {
	s.mu.Lock()
	point, showDeleted := rs.point.BackupTime, rs.showDeleted
	s.mu.Unlock()
	id := r.PathValue("itemId")
	it, ver, ok := m.lookup(id, point, showDeleted)
	if !ok {
		notFound(w, "The item with the specified ID was not found.")
		return
	}
	writeJSON(w, http.StatusOK, s.itemView(rs, m, it, ver, id, c))
}

// searchSet is a cached search result, named by the setId of its pages.
type searchSet struct {
	session string
	refs    []itemRef
}

// search runs a query over the mailbox, or one folder of it. A setId from an
// earlier page reuses that result instead of searching again.
func (s *Server) search(w http.ResponseWriter, r *http.Request, rs *restoreSession, m *mailboxData, c *caller) {
	offset, limit, ok := pageParams(w, r)
	if !ok {
		return
	}
	folder := r.PathValue("folderId")
	if folder != "" && m.folder[folder] == nil {
		notFound(w, "The folder with the specified ID was not found.")
		return
	}
	var body struct {
		Query string `json:"query"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		badRequest(w, "The request body is not a valid RESTSearchOptions object.")
		return
	}
	setID := r.URL.Query().Get("setId")
	s.mu.Lock()
	set := s.searches[setID]
	s.mu.Unlock()
	if set == nil || set.session != rs.id {
		q, err := parseQuery(body.Query)
		if err != nil {
			badRequest(w, "The search query is not valid: "+err.Error())
			return
		}
		var hits []itemRef
		for _, ref := range s.visible(rs, m, folder) {
			if q.match(mail{ref.item, ref.item.versions[ref.version].fields}) {
				hits = append(hits, ref)
			}
		}
		setID = newID()
		set = &searchSet{session: rs.id, refs: hits}
		s.mu.Lock()
		s.searches[setID] = set
		s.mu.Unlock()
	}
	s.writeItems(w, r, rs, m, c, set.refs, offset, limit, setID)
}

// inSessionC is inSession for handlers that need the caller too.
func (s *Server) inSessionC(typ string, h func(http.ResponseWriter, *http.Request, *restoreSession, *caller)) func(http.ResponseWriter, *http.Request, *caller) {
	return func(w http.ResponseWriter, r *http.Request, c *caller) {
		s.inSession(typ, func(w http.ResponseWriter, r *http.Request, rs *restoreSession) { h(w, r, rs, c) })(w, r, c)
	}
}
