package fakevbazure

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// File-level restore, as the document describes it and the product
// behaves: restoreFile starts a job session whose worker takes a while to
// be ready (Options.FLRReadyAfter); then the session browses and searches
// the restore point's file system and restores its files and folders to
// the VM's live file system, one item after another
// (Options.RestoreItemTime), each with its own result. A session nobody
// uses for Options.FLRIdleTimeout, with no restore running, stops by
// itself; stopping the job session ends it.
//
// What the document leaves open, the fake decides as the product's user
// guide and the other Veeam products do [I]: Keep writes the copy beside
// the original as "RESTORED-<name>"; alternativePath, when given, is the
// folder the items are restored into; a missing original folder without
// one fails the whole request with 500; Windows paths fold case.

// jobSession is a session of the product: a file-level restore (an FLR
// session), a data retrieval, or an earlier one that failed.
type jobSession struct {
	id        string
	typ       string // FileLevelRestore or RestorePointDataRetrieval
	started   time.Time
	stopped   time.Time // zero while it runs
	status    string
	initiator string
	reason    string
	vm        *azVM
	point     *azPoint
	log       []logItem

	// A file-level restore.
	readyAt    time.Time
	failAt     time.Time // the worker finds it cannot go on
	failure    string
	lastUsed   time.Time
	toOriginal bool
	searches   map[string]*search
	restores   map[string]*restoreTask

	// A data retrieval.
	priority   string
	daysToKeep int
}

type logItem struct {
	at      time.Time
	status  string // JobStatus
	message string
}

func (j *jobSession) running() bool { return j.stopped.IsZero() }

func (j *jobSession) ready(now time.Time) bool {
	return j.running() && j.failure == "" && !now.Before(j.readyAt)
}

func (j *jobSession) end(at time.Time, status, message string) {
	for _, t := range j.restores {
		t.cancel(at)
	}
	j.stopped, j.status = at, status
	if message != "" {
		j.log = append(j.log, logItem{at: at, status: status, message: message})
	}
	if j.vm != nil && j.typ == "FileLevelRestore" {
		j.vm.hasRunningFLR = false
	}
}

// search is a search task of an FLR session: the results are found at
// once and served a page at a time, nextPage dropping the page before.
type search struct {
	results []flrItem
	limit   int
	page    int
	readyAt time.Time
}

// restoreTask is a restore of an FLR session.
type restoreTask struct {
	id, typ, alt string
	items        []*restoreItem
}

type restoreItem struct {
	path    string
	names   []string
	startAt time.Time
	doneAt  time.Time
	status  string // Running, Success, Warning, Failed, Cancelled
	log     []logItem
}

func (t *restoreTask) cancel(at time.Time) {
	for _, it := range t.items {
		if it.status == "Running" {
			it.status = "Cancelled"
			it.log = append(it.log, logItem{at: at, status: "Cancelled", message: "The restore was stopped before this item was restored."})
		}
	}
}

// advance brings every session to now: restored items land on the VM,
// sessions become ready, fail, expire, and retrievals end.
func (s *Server) advance(now time.Time) {
	for _, j := range s.jobs {
		if !j.running() {
			continue
		}
		switch j.typ {
		case "RestorePointDataRetrieval":
			if !now.Before(j.point.retrievedAt) {
				j.end(j.point.retrievedAt, "Success", fmt.Sprintf("The data of the restore point of %s is retrieved and kept for %d days.",
					j.point.time.UTC().Format(time.DateOnly), j.daysToKeep))
			}
			continue
		}
		if j.failure != "" && !now.Before(j.failAt) {
			j.end(j.failAt, "Error", j.failure)
			continue
		}
		busyUntil := j.lastUsed
		for _, t := range j.restores {
			for _, it := range t.items {
				if it.status == "Running" && !now.Before(it.doneAt) {
					s.land(j, t, it)
				}
				if it.doneAt.After(busyUntil) && it.status != "Cancelled" {
					busyUntil = it.doneAt
				}
			}
		}
		if idle := busyUntil.Add(s.opts.FLRIdleTimeout); j.ready(now) && !now.Before(idle) {
			j.end(idle, "Success", fmt.Sprintf("The file-level restore session was stopped after %s without activity.", s.opts.FLRIdleTimeout))
		}
	}
}

// job finds a session; FLR operations take only running ones.
func (s *Server) job(id string) *jobSession {
	for _, j := range s.jobs {
		if strings.EqualFold(j.id, id) {
			return j
		}
	}
	return nil
}

// inFLR serves a request to a running, ready FLR session, which it marks
// used; otherwise it answers 404 or 400.
func (s *Server) inFLR(h func(w http.ResponseWriter, r *http.Request, j *jobSession, now time.Time)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		now := s.opts.Now()
		s.mu.Lock()
		defer s.mu.Unlock()
		if j := s.flrSession(w, r, now); j != nil {
			h(w, r, j, now)
		}
	}
}

// flrSession finds the running, ready FLR session of the path and marks it
// used; otherwise it answers 404 or 400 and returns nil.
func (s *Server) flrSession(w http.ResponseWriter, r *http.Request, now time.Time) *jobSession {
	s.advance(now)
	j := s.job(r.PathValue("flrSessionId"))
	if j == nil || j.typ != "FileLevelRestore" || !j.running() {
		problem(w, http.StatusNotFound, "Not Found", "The file-level restore session "+r.PathValue("flrSessionId")+" was not found or has ended.")
		return nil
	}
	if !j.ready(now) {
		badRequest(w, "The file-level restore session is not ready yet: its worker instance is starting.")
		return nil
	}
	j.lastUsed = now
	return j
}

// flrOptions is the document's FlrOptions.
type flrOptions struct {
	Reason           *string `json:"reason"`
	ServiceAccountID *string `json:"serviceAccountId"`
	FlrRto           bool    `json:"flrRto"`
}

// maxReasonLength is the longest reason the product takes [I].
const maxReasonLength = 512

// startFLR handles POST /restorePoints/virtualMachines/{restorePointId}/restoreFile.
func (s *Server) startFLR(w http.ResponseWriter, r *http.Request) {
	var in flrOptions
	if !readJSON(w, r, &in) {
		return
	}
	now := s.opts.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pointByID(r.PathValue("restorePointId"))
	if missing(w, p, "restore point", r.PathValue("restorePointId")) {
		return
	}
	v := p.vm
	switch {
	case len(deref(in.Reason)) > maxReasonLength:
		invalid(w, map[string][]string{"reason": {fmt.Sprintf("The reason must be at most %d characters long.", maxReasonLength)}})
		return
	case p.corrupted:
		badRequest(w, "The restore point is corrupted and cannot be used for restore operations.")
		return
	case !p.readable(now):
		badRequest(w, "The restore point is stored in the archive tier. Retrieve its data before you restore from it.")
		return
	case in.FlrRto && v.seed.Deleted:
		badRequest(w, "The virtual machine "+v.seed.Name+" no longer exists: files of its restore points can only be downloaded.")
		return
	case in.FlrRto && deref(in.ServiceAccountID) == "":
		invalid(w, map[string][]string{"serviceAccountId": {"A service account is required to restore files to the original location."}})
		return
	}
	if in.FlrRto {
		a := s.accountByID(deref(in.ServiceAccountID))
		if a == nil {
			invalid(w, map[string][]string{"serviceAccountId": {"The service account " + deref(in.ServiceAccountID) + " was not found."}})
			return
		}
		if !slices.Contains(a.seed.Purposes, "VirtualMachineRestore") || !slices.Contains(a.subs, v.sub.id) {
			badRequest(w, "The service account "+a.seed.Name+" cannot restore virtual machines of the subscription "+v.sub.name+".")
			return
		}
	}
	j := &jobSession{id: newUUID(), typ: "FileLevelRestore", started: now, status: "Running", initiator: callerOf(r).user.name,
		reason: deref(in.Reason), vm: v, point: p, readyAt: now.Add(s.opts.FLRReadyAfter), lastUsed: now.Add(s.opts.FLRReadyAfter),
		toOriginal: in.FlrRto, searches: map[string]*search{}, restores: map[string]*restoreTask{}}
	j.log = append(j.log, logItem{at: now, status: "Running", message: "Deploying a worker instance in " + regionDisplay(v.seed.Region) + "."},
		logItem{at: now.Add(s.opts.FLRReadyAfter / 2), status: "Running", message: "Mounting the disks of the restore point of " +
			p.time.UTC().Format("2006-01-02 15:04") + " UTC."})
	switch {
	case in.FlrRto && v.seed.DiskEncryption:
		j.failure = "Restoring files to the original location is not supported for virtual machines protected with Azure Disk Encryption."
	case v.seed.Arm:
		j.failure = "File-level recovery is not supported for virtual machines with Arm64 processors (" + v.seed.Size + ")."
	}
	if j.failure != "" {
		j.failAt = now.Add(s.opts.FLRReadyAfter / 2)
	} else {
		for _, vol := range v.seed.Skipped {
			j.log = append(j.log, logItem{at: j.readyAt, status: "Warning", message: "The volume " + vol + " has a file system that file-level recovery does not support; it was skipped."})
		}
		j.log = append(j.log, logItem{at: j.readyAt, status: "Running", message: "The file-level recovery session is ready."})
		if p.files == nil && v.seed.Files != nil {
			p.files = build(v.seed.OS == "Windows", v.seed.Files(p.time))
		}
		v.hasRunningFLR = true
	}
	s.jobs = append(s.jobs, j)
	writeJSON(w, http.StatusAccepted, s.jobRep(j, versionOf(r), now))
}

func (s *Server) accountByID(id string) *azServiceAccount {
	for _, a := range s.accounts {
		if strings.EqualFold(a.id, id) {
			return a
		}
	}
	return nil
}

// addPastSession records an earlier file-level restore session.
func (s *Server) addPastSession(v *azVM, f PastSession) {
	j := &jobSession{id: azID("job", v.seed.Name+"/"+f.At.UTC().Format(time.RFC3339)), typ: "FileLevelRestore", started: f.At,
		status: "Running", initiator: DemoAdminName, vm: v, readyAt: f.At}
	if len(v.points) > 0 {
		j.point = v.points[0]
	}
	j.log = append(j.log, logItem{at: f.At, status: "Running", message: "Deploying a worker instance in " + regionDisplay(v.seed.Region) + "."})
	if f.Failed {
		j.end(f.At.Add(4*time.Minute), "Error", f.Message)
	} else {
		j.log = append(j.log, logItem{at: f.At.Add(2 * time.Minute), status: "Warning", message: f.Message})
		j.end(f.At.Add(40*time.Minute), "Success", "The session was stopped by "+DemoAdminName+".")
	}
	s.jobs = append(s.jobs, j)
}

// jobRep is the document's JobSession.
type jobRep struct {
	ID                 string           `json:"id"`
	Type               string           `json:"type"`
	LocalizedType      string           `json:"localizedType"`
	ExecutionStartTime time.Time        `json:"executionStartTime"`
	ExecutionStopTime  *time.Time       `json:"executionStopTime"`
	ExecutionDuration  string           `json:"executionDuration"`
	Status             string           `json:"status"`
	FLR                *flrJobInfo      `json:"fileLevelRestoreJobInfo,omitempty"`
	Retrieval          *retrievalInfo   `json:"restorePointDataRetrievalJobInfo,omitempty"`
	Links              map[string]*link `json:"_links"`
}

type flrJobInfo struct {
	Initiator                  string     `json:"initiator"`
	Reason                     *string    `json:"reason"`
	FlrLink                    *flrLink   `json:"flrLink"`
	VMID                       string     `json:"vmId"`
	VMName                     string     `json:"vmName"`
	BackupPolicyDisplayName    string     `json:"backupPolicyDisplayName"`
	RestorePointCreatedDateUTC *time.Time `json:"restorePointCreatedDateUtc"`
	IsFlrSessionReady          bool       `json:"isFlrSessionReady"`
}

type flrLink struct {
	URL        string `json:"url"`
	Thumbprint string `json:"thumbprint"`
}

type retrievalInfo struct {
	RestorePointID        string `json:"restorePointId"`
	Initiator             string `json:"initiator"`
	InstanceName          string `json:"instanceName"`
	DaysToKeep            int    `json:"daysToKeep"`
	DataRetrievalPriority string `json:"dataRetrievalPriority"`
}

// timeSpan writes a duration as .NET does: [d.]hh:mm:ss.
func timeSpan(d time.Duration) string {
	d = d.Round(time.Second)
	days := int(d / (24 * time.Hour))
	d -= time.Duration(days) * 24 * time.Hour
	out := fmt.Sprintf("%02d:%02d:%02d", int(d/time.Hour), int(d/time.Minute)%60, int(d/time.Second)%60)
	if days > 0 {
		out = fmt.Sprintf("%d.%s", days, out)
	}
	return out
}

func (s *Server) jobRep(j *jobSession, version string, now time.Time) jobRep {
	r := jobRep{ID: j.id, Type: j.typ, ExecutionStartTime: j.started.UTC(), Status: j.status,
		Links: map[string]*link{"self": {Href: s.opts.BaseURL + "/api/" + version + "/jobSessions/" + j.id}}}
	end := now
	if !j.running() {
		at := j.stopped.UTC()
		r.ExecutionStopTime, end = &at, j.stopped
	}
	r.ExecutionDuration = timeSpan(end.Sub(j.started))
	switch j.typ {
	case "FileLevelRestore":
		r.LocalizedType = "File-level restore"
		info := &flrJobInfo{Initiator: j.initiator, VMID: j.vm.id, VMName: j.vm.seed.Name, BackupPolicyDisplayName: j.vm.seed.Policy,
			IsFlrSessionReady: j.ready(now)}
		if j.reason != "" {
			reason := j.reason
			info.Reason = &reason
		}
		if j.point != nil {
			t := j.point.time.UTC()
			info.RestorePointCreatedDateUTC = &t
		}
		if info.IsFlrSessionReady {
			info.FlrLink = &flrLink{URL: "https://10.20.250." + fmt.Sprint(4+int(j.id[0])%200) + "/flr/" + j.id, Thumbprint: strings.ToUpper(strings.ReplaceAll(j.id, "-", ""))[:40-8] + "0FA1C3E5"}
		}
		r.FLR = info
	case "RestorePointDataRetrieval":
		r.LocalizedType = "Restore point data retrieval"
		r.Retrieval = &retrievalInfo{RestorePointID: j.point.id, Initiator: j.initiator, InstanceName: j.vm.seed.Name, DaysToKeep: j.daysToKeep,
			DataRetrievalPriority: j.priority}
	}
	return r
}

// getJob handles GET /jobSessions/{sessionId}. Looking does not count as using.
func (s *Server) getJob(w http.ResponseWriter, r *http.Request) {
	now := s.opts.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance(now)
	j := s.job(r.PathValue("sessionId"))
	if missing(w, j, "session", r.PathValue("sessionId")) {
		return
	}
	writeJSON(w, http.StatusOK, s.jobRep(j, versionOf(r), now))
}

// listJobs handles GET /jobSessions?Types&Status&ResourceId&Offset&Limit, newest first.
func (s *Server) listJobs(w http.ResponseWriter, r *http.Request) {
	offset, limit, ok := paging(w, r, 100)
	if !ok {
		return
	}
	q := r.URL.Query()
	now := s.opts.Now()
	s.mu.Lock()
	s.advance(now)
	var all []jobRep
	for i := len(s.jobs) - 1; i >= 0; i-- {
		j := s.jobs[i]
		if (len(q["Types"]) > 0 && !slices.Contains(q["Types"], j.typ)) || (len(q["Status"]) > 0 && !slices.Contains(q["Status"], j.status)) ||
			(q.Get("ResourceId") != "" && (j.vm == nil || !strings.EqualFold(q.Get("ResourceId"), j.vm.id))) {
			continue
		}
		all = append(all, s.jobRep(j, versionOf(r), now))
	}
	s.mu.Unlock()
	slices.SortStableFunc(all, func(a, b jobRep) int { return b.ExecutionStartTime.Compare(a.ExecutionStartTime) })
	writeJSON(w, http.StatusOK, pageOf(all, offset, limit))
}

// jobLogRep is the document's JobSessionLog.
type jobLogRep struct {
	JobSessionID string       `json:"jobSessionId"`
	Log          []logItemRep `json:"log"`
}

type logItemRep struct {
	LogTime            time.Time `json:"logTime"`
	Status             string    `json:"status"`
	Message            string    `json:"message"`
	ResourceHashID     string    `json:"resourceHashId,omitempty"`
	ExecutionStartTime time.Time `json:"executionStartTime"`
	ExecutionDuration  string    `json:"executionDuration"`
}

// jobLog handles GET /jobSessions/{sessionId}/log: what happened until now.
func (s *Server) jobLog(w http.ResponseWriter, r *http.Request) {
	now := s.opts.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance(now)
	j := s.job(r.PathValue("sessionId"))
	if missing(w, j, "session", r.PathValue("sessionId")) {
		return
	}
	out := jobLogRep{JobSessionID: j.id, Log: []logItemRep{}}
	for _, l := range j.log {
		if l.at.After(now) {
			continue
		}
		item := logItemRep{LogTime: l.at.UTC(), Status: l.status, Message: l.message, ExecutionStartTime: l.at.UTC(), ExecutionDuration: "00:00:00"}
		if j.vm != nil {
			item.ResourceHashID = j.vm.id
		}
		out.Log = append(out.Log, item)
	}
	writeJSON(w, http.StatusOK, out)
}

// stopJob handles POST /jobSessions/{sessionId}/stop.
func (s *Server) stopJob(w http.ResponseWriter, r *http.Request) {
	now := s.opts.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance(now)
	j := s.job(r.PathValue("sessionId"))
	switch {
	case j == nil:
		problem(w, http.StatusNotFound, "Not Found", "The session "+r.PathValue("sessionId")+" was not found.")
	case !j.running():
		badRequest(w, "The session has already stopped.")
	default:
		status := "Canceled"
		if j.typ == "FileLevelRestore" && j.ready(now) {
			status = "Success" // a session that served its purpose ends well
		}
		j.end(now, status, "The session was stopped by "+callerOf(r).user.name+".")
		w.WriteHeader(http.StatusNoContent)
	}
}

// flrItem is the document's FlrSessionItem.
type flrItem struct {
	ItemPath             string    `json:"itemPath"`
	Name                 string    `json:"name"`
	Type                 string    `json:"type"`
	Size                 int64     `json:"size"`
	LastModificationTime time.Time `json:"lastModificationTime"`
}

func itemOf(dir string, e *entry) flrItem {
	it := flrItem{ItemPath: dir, Name: e.name, Type: "File", Size: e.size, LastModificationTime: e.modified.UTC()}
	if e.folder {
		it.Type, it.Size = "Folder", 0
	}
	return it
}

// pathProblem answers 400 for a path that is not absolute, or 404 for one
// the point does not hold.
func pathProblem(w http.ResponseWriter, field, p string, err error) {
	if err == errRelative {
		invalid(w, map[string][]string{field: {"Relative paths are not allowed: " + p}})
		return
	}
	problem(w, http.StatusNotFound, "Not Found", "The path "+p+" does not exist in the restore point.")
}

// browse handles POST /flr/{flrSessionId}/browse?Offset&Limit: a folder's
// items (the root lists the volumes of a Windows VM).
func (s *Server) browse(w http.ResponseWriter, r *http.Request, j *jobSession, now time.Time) {
	var in struct {
		Path *string `json:"path"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	offset, limit, ok := paging(w, r, 200)
	if !ok {
		return
	}
	fs := j.point.files
	p := deref(in.Path)
	if p == "" {
		p = fs.rootPath()
	}
	e, err := fs.get(p)
	if err != nil {
		pathProblem(w, "path", p, err)
		return
	}
	if !e.folder {
		invalid(w, map[string][]string{"path": {p + " is a file, not a folder."}})
		return
	}
	list := e.list()
	total := len(list)
	part := list[min(offset, total):]
	if limit >= 0 && limit < len(part) {
		part = part[:limit]
	}
	out := page[flrItem]{Offset: offset, Limit: limit, TotalCount: &total, Results: make([]flrItem, len(part))}
	for i, c := range part {
		out.Results[i] = itemOf(p, c)
	}
	writeJSON(w, http.StatusOK, out)
}

// searchStart handles POST /flr/{flrSessionId}/search/start.
func (s *Server) searchStart(w http.ResponseWriter, r *http.Request, j *jobSession, now time.Time) {
	var in struct {
		Path          *string `json:"path"`
		Limit         *int    `json:"limit"`
		Traverse      bool    `json:"traverse"`
		SearchPattern *string `json:"searchPattern"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	if deref(in.SearchPattern) == "" {
		invalid(w, map[string][]string{"searchPattern": {"The search pattern is required."}})
		return
	}
	limit := 100
	if in.Limit != nil {
		limit = *in.Limit
	}
	if limit < -1 || limit == 0 {
		invalid(w, map[string][]string{"limit": {"The limit must be -1 (all) or more than 0."}})
		return
	}
	fs := j.point.files
	p := deref(in.Path)
	if p == "" {
		p = fs.rootPath()
	}
	e, err := fs.get(p)
	if err != nil {
		pathProblem(w, "path", p, err)
		return
	}
	match := matcher(deref(in.SearchPattern))
	sr := &search{limit: limit, readyAt: now.Add(s.opts.SearchTime)}
	fs.walk(p, e, in.Traverse, func(dir string, c *entry) bool {
		if match(c.name) {
			sr.results = append(sr.results, itemOf(dir, c))
		}
		return true
	})
	id := newUUID()
	j.searches[id] = sr
	writeJSON(w, http.StatusOK, struct {
		SearchID string `json:"searchId"`
	}{id})
}

// searchTask finds the search of the path, or answers 404.
func (s *Server) searchTask(w http.ResponseWriter, r *http.Request, j *jobSession) *search {
	sr := j.searches[strings.ToLower(r.PathValue("searchTaskId"))]
	missing(w, sr, "search task", r.PathValue("searchTaskId"))
	return sr
}

// searchResults handles GET /flr/{flrSessionId}/search/{searchTaskId}/results:
// the current page.
func (s *Server) searchResults(w http.ResponseWriter, r *http.Request, j *jobSession, now time.Time) {
	sr := s.searchTask(w, r, j)
	if sr == nil {
		return
	}
	out := struct {
		SearchState string    `json:"searchState"`
		Count       int       `json:"count"`
		Results     []flrItem `json:"results"`
	}{SearchState: "Preparing", Results: []flrItem{}}
	if !now.Before(sr.readyAt) {
		part := sr.results
		if sr.limit > 0 {
			part = part[min(sr.page*sr.limit, len(part)):]
			part = part[:min(sr.limit, len(part))]
		} else if sr.page > 0 {
			part = nil
		}
		out.SearchState, out.Count, out.Results = "Ready", len(part), append(out.Results, part...)
		if len(part) == 0 {
			out.SearchState = "NoData"
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// searchNextPage handles POST …/search/{searchTaskId}/nextPage: the page
// after, which replaces the current one.
func (s *Server) searchNextPage(w http.ResponseWriter, r *http.Request, j *jobSession, now time.Time) {
	if sr := s.searchTask(w, r, j); sr != nil {
		sr.page++
		sr.readyAt = now.Add(s.opts.SearchTime / 2)
		w.WriteHeader(http.StatusAccepted)
	}
}

// searchStop handles POST …/search/{searchTaskId}/stop.
func (s *Server) searchStop(w http.ResponseWriter, r *http.Request, j *jobSession, now time.Time) {
	if sr := s.searchTask(w, r, j); sr != nil {
		delete(j.searches, strings.ToLower(r.PathValue("searchTaskId")))
		w.WriteHeader(http.StatusAccepted)
	}
}

// restoreStart handles POST /flr/{flrSessionId}/restore.
func (s *Server) restoreStart(w http.ResponseWriter, r *http.Request, j *jobSession, now time.Time) {
	var in struct {
		ItemPaths       []string `json:"itemPaths"`
		RestoreType     *string  `json:"restoreType"`
		AlternativePath *string  `json:"alternativePath"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	typ := deref(in.RestoreType)
	errs := map[string][]string{}
	if typ != "Overwrite" && typ != "Keep" {
		errs["restoreType"] = []string{"The restore type must be Overwrite or Keep."}
	}
	if len(in.ItemPaths) == 0 {
		errs["itemPaths"] = []string{"Choose at least one item to restore."}
	}
	src, live := j.point.files, j.vm.live
	t := &restoreTask{id: newUUID(), typ: typ, alt: deref(in.AlternativePath)}
	for _, p := range in.ItemPaths {
		names, err := src.split(p)
		switch {
		case err != nil:
			errs["itemPaths"] = append(errs["itemPaths"], "Relative paths are not allowed: "+p)
		case len(names) == 0 || (src.windows && len(names) == 1):
			errs["itemPaths"] = append(errs["itemPaths"], "A whole volume cannot be restored: "+p)
		case src.lookup(names) == nil:
			errs["itemPaths"] = append(errs["itemPaths"], "The item does not exist in the restore point: "+p)
		default:
			t.items = append(t.items, &restoreItem{path: p, names: names, status: "Running"})
		}
	}
	if t.alt != "" {
		names, err := live.split(t.alt)
		switch {
		case err != nil:
			errs["alternativePath"] = []string{"Relative paths are not allowed: " + t.alt}
		case live.windows && (len(names) == 0 || live.root.children[live.key(names[0])] == nil):
			errs["alternativePath"] = []string{"The volume of " + t.alt + " does not exist on the virtual machine."}
		case live.lookup(names) != nil && !live.lookup(names).folder:
			errs["alternativePath"] = []string{t.alt + " is a file, not a folder."}
		}
	}
	if len(errs) > 0 {
		invalid(w, errs)
		return
	}
	if !j.toOriginal {
		badRequest(w, "This file-level restore session was started without a service account: its files can only be downloaded.")
		return
	}
	if t.alt == "" {
		for _, it := range t.items {
			if d := live.lookup(it.names[:len(it.names)-1]); d == nil || !d.folder {
				problem(w, http.StatusInternalServerError, "Internal Server Error",
					"Directory '"+live.pathOf(it.names[:len(it.names)-1])+"' does not exist on the virtual machine "+j.vm.seed.Name+".")
				return
			}
		}
	}
	at := now
	for _, it := range t.items {
		n := 1
		if e := src.lookup(it.names); e.folder {
			n = max(1, e.count()/500)
		}
		it.startAt, it.doneAt = at, at.Add(time.Duration(n)*s.opts.RestoreItemTime)
		it.log = append(it.log, logItem{at: at, status: "Running", message: "Restoring " + it.path})
		at = it.doneAt
	}
	j.restores[t.id] = t
	writeJSON(w, http.StatusOK, struct {
		RestoreTaskID string `json:"restoreTaskId"`
	}{t.id})
}

// land writes a restored item to the VM's live file system.
func (s *Server) land(j *jobSession, t *restoreTask, it *restoreItem) {
	src, live := j.point.files, j.vm.live
	e := src.lookup(it.names).clone()
	dir := it.names[:len(it.names)-1]
	if t.alt != "" {
		dir, _ = live.split(t.alt)
	}
	where := live.pathOf(dir)
	existing := live.lookup(append(slices.Clone(dir), e.name))
	fail := func(msg string) {
		it.status = "Failed"
		it.log = append(it.log, logItem{at: it.doneAt, status: "Error", message: msg})
	}
	switch {
	case existing != nil && t.typ == "Keep":
		e.name = "RESTORED-" + e.name
		if err := live.put(dir, e, it.doneAt); err != nil {
			fail(err.Error())
			return
		}
		it.log = append(it.log, logItem{at: it.doneAt, status: "Success", message: "Restored as " + live.join(where, e.name) + " beside the current one."})
	case existing != nil && existing.folder != e.folder:
		fail("Cannot overwrite " + live.join(where, e.name) + ": one is a file, the other a folder.")
		return
	case existing != nil && e.folder:
		locked := overwriteInto(live, existing, e, live.join(where, e.name))
		if len(locked) > 0 {
			it.status = "Warning"
			for _, p := range locked {
				it.log = append(it.log, logItem{at: it.doneAt, status: "Warning", message: "The process cannot access the file '" + p + "' because it is being used by another process."})
			}
			return
		}
		it.log = append(it.log, logItem{at: it.doneAt, status: "Success", message: "Restored " + live.join(where, e.name) + ", overwriting what was there."})
	case existing != nil && existing.locked:
		fail("The process cannot access the file '" + live.join(where, e.name) + "' because it is being used by another process.")
		return
	default:
		if err := live.put(dir, e, it.doneAt); err != nil {
			fail(err.Error())
			return
		}
		it.log = append(it.log, logItem{at: it.doneAt, status: "Success", message: "Restored " + live.join(where, e.name) + "."})
	}
	it.status = "Success"
}

// overwriteInto writes the backup's folder src over the live folder dst:
// its files replace theirs, what only the live folder holds stays. It
// returns the paths of locked files it could not replace.
func overwriteInto(live *fsys, dst, src *entry, at string) []string {
	var locked []string
	for k, c := range src.children {
		cur := dst.children[k]
		switch {
		case cur != nil && cur.folder && c.folder:
			locked = append(locked, overwriteInto(live, cur, c, live.join(at, cur.name))...)
		case cur != nil && cur.locked:
			locked = append(locked, live.join(at, cur.name))
		default:
			dst.children[k] = c
			dst.sorted = nil
		}
	}
	slices.Sort(locked)
	return locked
}

// restoreTaskOf finds the restore task of the path, or answers 404.
func (s *Server) restoreTaskOf(w http.ResponseWriter, r *http.Request, j *jobSession) *restoreTask {
	t := j.restores[strings.ToLower(r.PathValue("restoreTaskId"))]
	missing(w, t, "restore task", r.PathValue("restoreTaskId"))
	return t
}

// restoreStatus handles GET /flr/{flrSessionId}/restore/{restoreTaskId}/status.
func (s *Server) restoreStatus(w http.ResponseWriter, r *http.Request, j *jobSession, now time.Time) {
	t := s.restoreTaskOf(w, r, j)
	if t == nil {
		return
	}
	type item struct {
		Path   string `json:"path"`
		Status string `json:"status"`
	}
	out := struct {
		RestoreTaskID string `json:"restoreTaskId"`
		Results       []item `json:"results"`
	}{RestoreTaskID: t.id, Results: []item{}}
	for _, it := range t.items {
		out.Results = append(out.Results, item{it.path, it.status})
	}
	writeJSON(w, http.StatusOK, out)
}

// restoreLogs handles POST …/restore/{restoreTaskId}/logs?Offset&Limit
// {path}: the log of one item, or of every item.
func (s *Server) restoreLogs(w http.ResponseWriter, r *http.Request, j *jobSession, now time.Time) {
	var in struct {
		Path *string `json:"path"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	offset, limit, ok := paging(w, r, 100)
	if !ok {
		return
	}
	t := s.restoreTaskOf(w, r, j)
	if t == nil {
		return
	}
	type logRep struct {
		Message   string     `json:"message"`
		Status    string     `json:"status"`
		ID        int        `json:"id"`
		StartTime time.Time  `json:"startTime"`
		StopTime  *time.Time `json:"stopTime"`
	}
	var all []logRep
	found := deref(in.Path) == ""
	for _, it := range t.items {
		if p := deref(in.Path); p != "" && !strings.EqualFold(p, it.path) {
			continue
		}
		found = true
		for _, l := range it.log {
			rep := logRep{Message: l.message, Status: l.status, ID: len(all) + 1, StartTime: it.startAt.UTC()}
			if l.status != "Running" {
				stop := l.at.UTC()
				rep.StopTime = &stop
			}
			all = append(all, rep)
		}
	}
	if !found {
		problem(w, http.StatusNotFound, "Not Found", "The restore task has no item "+deref(in.Path)+".")
		return
	}
	pg := pageOf(all, offset, limit)
	type pagination struct {
		TotalCount *int `json:"totalCount"`
		Count      int  `json:"count"`
		Offset     int  `json:"offset"`
		Limit      int  `json:"limit"`
	}
	writeJSON(w, http.StatusOK, struct {
		Path       string     `json:"path"`
		Pagination pagination `json:"pagination"`
		Results    []logRep   `json:"results"`
	}{deref(in.Path), pagination{pg.TotalCount, len(pg.Results), offset, limit}, pg.Results})
}

// restoreStop handles POST …/restore/{restoreTaskId}/stop: what is not
// restored yet is cancelled.
func (s *Server) restoreStop(w http.ResponseWriter, r *http.Request, j *jobSession, now time.Time) {
	if t := s.restoreTaskOf(w, r, j); t != nil {
		t.cancel(now)
		w.WriteHeader(http.StatusAccepted)
	}
}

// retrieveData handles POST /restorePoints/virtualMachines/{restorePointId}/retrieveData.
func (s *Server) retrieveData(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Priority                    *string `json:"dataRetrievalPriority"`
		DaysToKeep                  *int    `json:"daysToKeep"`
		NotifyBeforeExpirationHours *int    `json:"notifyBeforeExpirationHours"`
		NotifyAfterComplete         *bool   `json:"notifyAfterComplete"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	errs := map[string][]string{}
	if p := deref(in.Priority); p != "Normal" && p != "High" {
		errs["dataRetrievalPriority"] = []string{"The priority must be Normal or High."}
	}
	days := 7
	if in.DaysToKeep != nil {
		days = *in.DaysToKeep
	}
	if days < 1 || days > 30 {
		errs["daysToKeep"] = []string{"Keep the data for 1 to 30 days."}
	}
	if len(errs) > 0 {
		invalid(w, errs)
		return
	}
	now := s.opts.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance(now)
	p := s.pointByID(r.PathValue("restorePointId"))
	switch {
	case p == nil:
		problem(w, http.StatusNotFound, "Not Found", "The restore point "+r.PathValue("restorePointId")+" was not found.")
		return
	case !p.archive:
		problem(w, http.StatusConflict, "Conflict", "The restore point is not in the archive tier: its data is available.")
		return
	case p.retrievalStatus(now) != "None":
		problem(w, http.StatusConflict, "Conflict", "The data of this restore point is being retrieved or is retrieved already.")
		return
	}
	took := s.opts.RetrievalTime
	if deref(in.Priority) == "High" {
		took /= 4
	}
	p.retrieving, p.retrievedAt = true, now.Add(took)
	p.retrievedUntil = p.retrievedAt.Add(time.Duration(days) * 24 * time.Hour)
	j := &jobSession{id: newUUID(), typ: "RestorePointDataRetrieval", started: now, status: "Running", initiator: callerOf(r).user.name,
		vm: p.vm, point: p, priority: deref(in.Priority), daysToKeep: days}
	j.log = append(j.log, logItem{at: now, status: "Running", message: "Retrieving the data of the restore point from the archive tier (" + j.priority + " priority)."})
	s.jobs = append(s.jobs, j)
	writeJSON(w, http.StatusAccepted, s.jobRep(j, versionOf(r), now))
}
