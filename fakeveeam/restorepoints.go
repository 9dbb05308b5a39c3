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
	missEvery, missAt                     int             // a run is missed on days where day%missEvery == missAt
}

// The demo organisation's jobs: mail twice a day, files and sites nightly,
// Teams nightly; each misses a night now and then, as real jobs do.
var backupJobs = []backupJob{
	{name: "Contoso mailboxes", exchange: true, at: []time.Duration{30 * time.Minute, 12*time.Hour + 30*time.Minute}, missEvery: 9, missAt: 4},
	{name: "Contoso OneDrive and SharePoint", oneDrive: true, sharePoint: true, at: []time.Duration{2 * time.Hour}, missEvery: 13, missAt: 6},
	{name: "Contoso Teams", teams: true, at: []time.Duration{3*time.Hour + 15*time.Minute}, missEvery: 10, missAt: 3},
}

// retention is how far back restore points reach.
const retention = 30 * 24 * time.Hour

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
	from := now.Add(-retention)
	for day := from.UTC().Truncate(24 * time.Hour); !day.After(now); day = day.Add(24 * time.Hour) {
		dayNumber := int(day.Unix() / 86400)
		for _, j := range backupJobs {
			if dayNumber%j.missEvery == j.missAt {
				continue
			}
			for _, at := range j.at {
				t := day.Add(at)
				if t.Before(from) || t.After(now) {
					continue
				}
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
