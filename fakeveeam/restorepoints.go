package fakeveeam

import (
	"slices"
	"time"
)

// backupJob is a scheduled backup job of the organisation.
type backupJob struct {
	name                                  string
	exchange, oneDrive, sharePoint, teams bool
	at                                    []time.Duration // run times after midnight UTC
	// missed are the days, counted back from the anchor's day (UTC), on
	// which the job did not run. They are counted from the anchor rather
	// than from the calendar so that the stories of the last ten days always
	// have their restore points, whatever the day the demo starts.
	missed []int
}

// The demo organisation's jobs: mail twice a day, files and sites nightly,
// Teams nightly; each misses a night now and then, as real jobs do.
var backupJobs = []backupJob{
	{name: "Contoso mailboxes", exchange: true, at: []time.Duration{30 * time.Minute, 12*time.Hour + 30*time.Minute}, missed: []int{12, 21, 29}},
	{name: "Contoso OneDrive and SharePoint", oneDrive: true, sharePoint: true, at: []time.Duration{2 * time.Hour}, missed: []int{14, 27}},
	{name: "Contoso Teams", teams: true, at: []time.Duration{3*time.Hour + 15*time.Minute}, missed: []int{11, 23}},
}

// retention is how far back restore points reach.
const retention = 30 * 24 * time.Hour

// runs lists the times the job ran from from to to (both included), oldest first.
func (j backupJob) runs(anchor, from, to time.Time) []time.Time {
	var out []time.Time
	anchorDay := anchor.UTC().Truncate(24 * time.Hour)
	for day := from.UTC().Truncate(24 * time.Hour); !day.After(to); day = day.Add(24 * time.Hour) {
		if slices.Contains(j.missed, int(anchorDay.Sub(day)/(24*time.Hour))) {
			continue
		}
		for _, at := range j.at {
			if t := day.Add(at); !t.Before(from) && !t.After(to) {
				out = append(out, t)
			}
		}
	}
	return out
}

// lastRun is the job's latest run at or before t.
func (j backupJob) lastRun(anchor, t time.Time) time.Time {
	runs := j.runs(anchor, t.Add(-3*24*time.Hour), t)
	if len(runs) == 0 {
		return t.Add(-24 * time.Hour) // cannot happen: no job misses three days in a row
	}
	return runs[len(runs)-1]
}

// jobOf is the job that backs up a workload ("Vex", "Veod", "Vesp", "Vet").
func jobOf(workload string) backupJob {
	for _, j := range backupJobs {
		if (restorePoint{IsExchange: j.exchange, IsOneDrive: j.oneDrive, IsSharePoint: j.sharePoint, IsTeams: j.teams}).covers(workload) {
			return j
		}
	}
	panic("fakeveeam: no backup job for " + workload)
}

// sinceLastBackup is a moment between the workload's last backup before
// the anchor and the anchor: what happened then is in no restore point yet,
// and what the last backup holds is what was there just before. The demo's
// "overwritten this morning" stories happen then.
func sinceLastBackup(workload string, anchor time.Time) time.Time {
	last := jobOf(workload).lastRun(anchor, anchor)
	return last.Add(anchor.Sub(last) / 2)
}

// dataAnchor is the moment the server's data is generated around: now, or a
// second later when now is exactly a backup's time, so that whatever
// happened "since the last backup" has a moment to happen in.
func dataAnchor(now time.Time) time.Time {
	for _, j := range backupJobs {
		if j.lastRun(now, now).Equal(now) {
			return now.Add(time.Second)
		}
	}
	return now
}

// restorePoint is RESTRestorePoint.
type restorePoint struct {
	ID             string          `json:"id"`
	IsDeleted      bool            `json:"isDeleted"`
	RepositoryID   string          `json:"repositoryId"`
	BackupTime     time.Time       `json:"backupTime"`
	JobID          string          `json:"jobId"`
	OrganizationID string          `json:"organizationId"`
	IsExchange     bool            `json:"isExchange"`
	IsSharePoint   bool            `json:"isSharePoint"`
	IsOneDrive     bool            `json:"isOneDrive"`
	IsTeams        bool            `json:"isTeams"`
	IsLongTermCopy bool            `json:"isLongTermCopy"`
	IsCopy         bool            `json:"isCopy"`
	IsRetrieved    bool            `json:"isRetrieved"`
	ETag           int64           `json:"eTag"`
	ObjectsETag    int64           `json:"objectsEtag"`
	Links          map[string]link `json:"_links"`
}

func (p restorePoint) covers(workload string) bool {
	switch workload {
	case "Vex":
		return p.IsExchange
	case "Veod":
		return p.IsOneDrive
	case "Vesp":
		return p.IsSharePoint
	case "Vet":
		return p.IsTeams
	}
	return false
}

func (s *Server) repositoryID() string { return stableID("repository", s.dir.org.ID) }

func (s *Server) organizationID() string { return stableID("organization", s.dir.org.ID) }

// points lists the restore points of the last 30 days up to now, oldest first.
func (s *Server) points(now time.Time) []restorePoint {
	var out []restorePoint
	for _, j := range backupJobs {
		for _, t := range j.runs(s.anchor, now.Add(-retention), now) {
			id := stableID("point", j.name, t.Format(time.RFC3339))
			out = append(out, restorePoint{
				ID: id, RepositoryID: s.repositoryID(), BackupTime: t, JobID: stableID("job", j.name),
				OrganizationID: s.organizationID(),
				IsExchange:     j.exchange, IsSharePoint: j.sharePoint, IsOneDrive: j.oneDrive, IsTeams: j.teams,
				ETag: t.Unix(), ObjectsETag: t.Unix(),
				Links: map[string]link{"self": {Href: "/v8/RestorePoints/" + id}},
			})
		}
	}
	slices.SortFunc(out, func(a, b restorePoint) int { return a.BackupTime.Compare(b.BackupTime) })
	return out
}

// pointAt is the newest restore point of the workload taken at or before t.
func (s *Server) pointAt(workload string, t time.Time) (restorePoint, bool) {
	pts := s.points(s.opts.Now())
	for i := len(pts) - 1; i >= 0; i-- {
		if pts[i].covers(workload) && !pts[i].BackupTime.After(t) {
			return pts[i], true
		}
	}
	return restorePoint{}, false
}
