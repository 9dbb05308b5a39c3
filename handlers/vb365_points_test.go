package handlers

import (
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/openrestore/portal/veeamapi"
)

func mail(id string, t time.Time) veeamapi.RestorePoint {
	return veeamapi.RestorePoint{ID: id, BackupTime: t, IsExchange: true}
}

func TestBuildPointsViewInTheUsersZone(t *testing.T) {
	t.Parallel()
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	points := []veeamapi.RestorePoint{
		mail("p1", time.Date(2026, 10, 30, 12, 30, 0, 0, time.UTC)),
		mail("p2", time.Date(2026, 10, 31, 16, 0, 0, 0, time.UTC)), // 1 November 01:00 in Tokyo
		mail("p3", time.Date(2026, 11, 2, 0, 30, 0, 0, time.UTC)),
		{ID: "teams", BackupTime: time.Date(2026, 11, 3, 3, 15, 0, 0, time.UTC), IsTeams: true},
		{ID: "gone", BackupTime: time.Date(2026, 11, 4, 0, 30, 0, 0, time.UTC), IsExchange: true, IsDeleted: true},
	}
	pq := pointsQuery{workload: workloads[0], day: time.Date(2026, 11, 1, 0, 0, 0, 0, tokyo), month: time.Date(2026, 11, 1, 0, 0, 0, 0, tokyo)}
	v := buildPointsView(points, pq, tokyo)

	if v.Latest == nil || v.Latest.ID != "p3" || v.Latest.Label != "Monday 2 November 2026, 09:30 JST" {
		t.Errorf("latest = %+v", v.Latest)
	}
	if v.Calendar.Caption != "November 2026" || v.Calendar.PrevLabel != "October 2026" || v.Calendar.NextURL != "" {
		t.Errorf("calendar = %q prev %q next %q", v.Calendar.Caption, v.Calendar.PrevLabel, v.Calendar.NextURL)
	}
	// November 2026 starts on a Sunday: the grid starts on Monday 26 October.
	first := v.Calendar.Weeks[0]
	if first[0].Day != 26 || first[0].InMonth || first[6].Day != 1 || !first[6].InMonth {
		t.Errorf("first week = %+v", first)
	}
	if len(v.Calendar.Weeks) != 6 {
		t.Errorf("%d weeks", len(v.Calendar.Weeks))
	}
	marked := map[int]int{}
	for _, w := range v.Calendar.Weeks {
		for _, d := range w {
			if d.InMonth && d.Count > 0 {
				marked[d.Day] = d.Count
			}
		}
	}
	if diff := cmp.Diff(map[int]int{1: 1, 2: 1}, marked); diff != "" {
		t.Errorf("marked days (-want +got):\n%s", diff)
	}
	if !first[6].Selected || first[6].Label != "Sunday 1 November 2026, 1 restore point" {
		t.Errorf("1 November = %+v", first[6])
	}
	u, _ := url.Parse(first[6].URL)
	if u.Query().Get("day") != "2026-11-01" || u.Query().Get("workload") != "exchange" {
		t.Errorf("day URL %s", first[6].URL)
	}
	if v.Day == nil || v.Day.Heading != "Sunday 1 November 2026" || len(v.Day.Points) != 1 || v.Day.Points[0].Time != "01:00" {
		t.Errorf("day = %+v", v.Day)
	}
	if len(v.Workloads) != 4 || !v.Workloads[0].Current || v.Workloads[3].URL != "/?workload=teams" {
		t.Errorf("tabs = %+v", v.Workloads)
	}
}

func TestBuildPointsViewWithoutPoints(t *testing.T) {
	t.Parallel()
	v := buildPointsView(nil, pointsQuery{workload: workloads[2]}, time.UTC)
	if !v.Empty || v.WorkloadLabel != "SharePoint" || v.Latest != nil {
		t.Errorf("view = %+v", v)
	}
}

func TestMonthsOutsideThePointsAreClamped(t *testing.T) {
	t.Parallel()
	points := []veeamapi.RestorePoint{mail("a", time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC)), mail("b", time.Date(2026, 11, 20, 0, 30, 0, 0, time.UTC))}
	v := buildPointsView(points, pointsQuery{workload: workloads[0], month: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}, time.UTC)
	if v.Calendar.Caption != "October 2026" || v.Calendar.PrevURL != "" || v.Calendar.NextLabel != "November 2026" {
		t.Errorf("calendar = %+v", v.Calendar)
	}
}

func TestParsePointsQuery(t *testing.T) {
	t.Parallel()
	berlin, _ := time.LoadLocation("Europe/Berlin")
	tests := []struct {
		raw string
		ok  bool
	}{
		{"", true},
		{"workload=teams&month=2026-11", true},
		{"day=2026-11-20", true},
		{"workload=fax", false},
		{"month=2026-13", false},
		{"month=November", false},
		{"day=2026-11-31", false},
		{"workload=teams&workload=exchange", false},
	}
	for _, tt := range tests {
		q, _ := url.ParseQuery(tt.raw)
		pq, err := parsePointsQuery(q, berlin)
		if (err == nil) != tt.ok {
			t.Errorf("%q: %v", tt.raw, err)
		}
		if tt.raw == "day=2026-11-20" && (pq.month.Month() != time.November || pq.day.Location() != berlin) {
			t.Errorf("day sets the month in the user's zone: %+v", pq)
		}
	}
}

func TestFindPoint(t *testing.T) {
	t.Parallel()
	points := []veeamapi.RestorePoint{
		mail("old", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)),
		mail("new", time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)),
		{ID: "files", BackupTime: time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC), IsOneDrive: true},
	}
	if p, ok := findPoint(points, workloads[0], "latest"); !ok || p.ID != "new" {
		t.Errorf("latest = %s", p.ID)
	}
	if _, ok := findPoint(points, workloads[0], "files"); ok {
		t.Error("a OneDrive point was found as an Exchange point")
	}
	if _, ok := findPoint(points, workloads[3], "latest"); ok {
		t.Error("a Teams point was found")
	}
}

func TestPager(t *testing.T) {
	t.Parallel()
	tests := []struct {
		offset, n int
		more      bool
		want      string
	}{
		{0, 50, true, "|/s?offset=50|Items 1 to 50"},
		{50, 50, true, "/s|/s?offset=100|Items 51 to 100"},
		{100, 7, false, "/s?offset=50||Items 101 to 107"},
		{0, 7, false, "||"},
	}
	for _, tt := range tests {
		p := pager("/s", tt.offset, tt.n, tt.more)
		if got := p.PrevURL + "|" + p.NextURL + "|" + p.Summary; got != tt.want {
			t.Errorf("pager(%d, %d, %v) = %q, want %q", tt.offset, tt.n, tt.more, got, tt.want)
		}
	}
}
