package handlers

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/openrestore/portal/templates"
	"github.com/openrestore/portal/veeamapi"
)

// pointsQuery is what the start page's URL selects: a workload, a month and a day.
type pointsQuery struct {
	workload workload
	azure    bool      // the Azure VMs tab
	month    time.Time // first of the month, in the user's zone; zero: the latest point's month
	day      time.Time // midnight in the user's zone; zero: no day chosen
}

// parsePointsQuery reads ?workload=&month=YYYY-MM&day=YYYY-MM-DD.
func parsePointsQuery(q url.Values, loc *time.Location) (pointsQuery, error) {
	pq := pointsQuery{workload: workloads[0]}
	for k, vs := range q {
		if len(vs) > 1 {
			return pq, badRequest(fmt.Sprintf("The link gives %q more than once.", k))
		}
	}
	if k := q.Get("workload"); k == azureTab {
		pq.azure = true
	} else if k != "" {
		w, ok := workloadByKey(k)
		if !ok {
			return pq, badRequest("The link names a workload the portal does not know.")
		}
		pq.workload = w
	}
	if m := q.Get("month"); m != "" {
		t, err := time.ParseInLocation("2006-01", m, loc)
		if err != nil {
			return pq, badRequest("The link's month is not valid; it should look like 2026-11.")
		}
		pq.month = t
	}
	if d := q.Get("day"); d != "" {
		t, err := time.ParseInLocation("2006-01-02", d, loc)
		if err != nil {
			return pq, badRequest("The link's day is not valid; it should look like 2026-11-20.")
		}
		pq.day = t
		if pq.month.IsZero() {
			pq.month = firstOfMonth(t)
		}
	}
	return pq, nil
}

func firstOfMonth(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, t.Location())
}

func dayKey(t time.Time) string { return t.Format("2006-01-02") }

// pointsURL is the start page showing a workload, month and (optional) day.
func pointsURL(w workload, month time.Time, day string) string {
	q := url.Values{"workload": {w.key}, "month": {month.Format("2006-01")}}
	if day != "" {
		q.Set("day", day)
	}
	return "/?" + q.Encode()
}

// pointView shows a point in the user's zone: "Friday 20 November 2026, 01:30 CET".
func pointView(p veeamapi.RestorePoint, loc *time.Location) templates.PointView {
	t := p.BackupTime.In(loc)
	return templates.PointView{
		ID: p.ID, Time: t.Format("15:04"), Label: t.Format("Monday 2 January 2006, 15:04 MST"),
		DateTime: p.BackupTime.UTC().Format(time.RFC3339),
	}
}

// buildPointsView lays out one workload's restore points in the user's time
// zone: the latest point, a Monday-first month grid marking the days that
// have points, and the chosen day's points. Months without points before the
// first or after the last point are not offered.
func buildPointsView(all []veeamapi.RestorePoint, pq pointsQuery, loc *time.Location) templates.PointsView {
	w := pq.workload
	v := templates.PointsView{Workload: w.key, WorkloadLabel: w.label}
	for _, x := range workloads {
		v.Workloads = append(v.Workloads, templates.WorkloadTab{
			Key: x.key, Label: x.label, URL: "/?workload=" + x.key, Current: x.key == w.key,
		})
	}
	var points []veeamapi.RestorePoint
	for _, p := range all {
		if p.Covers(w.api) && !p.IsDeleted {
			points = append(points, p)
		}
	}
	if len(points) == 0 {
		v.Empty = true
		return v
	}
	slices.SortFunc(points, func(a, b veeamapi.RestorePoint) int { return a.BackupTime.Compare(b.BackupTime) })
	latest := pointView(points[len(points)-1], loc)
	v.Latest = &latest
	times := make([]time.Time, len(points))
	for i, p := range points {
		times[i] = p.BackupTime
	}
	cal := buildCalendar(times, pq.month, pq.day, loc, func(month time.Time, day string) string { return pointsURL(w, month, day) })
	v.Calendar = cal.view
	if cal.selected != "" {
		day := &templates.DayView{Heading: pq.day.Format("Monday 2 January 2006")}
		for _, i := range cal.byDay[cal.selected] {
			day.Points = append(day.Points, pointView(points[i], loc))
		}
		if len(day.Points) == 0 {
			day.Heading += ": no restore points"
		}
		v.Day = day
	}
	return v
}

func clampMonth(m, first, last time.Time) time.Time {
	if m.Before(first) {
		return first
	}
	if m.After(last) {
		return last
	}
	return m
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// findPoint finds a restore point of the workload by id; "latest" means the newest.
func findPoint(points []veeamapi.RestorePoint, w workload, id string) (veeamapi.RestorePoint, bool) {
	var best veeamapi.RestorePoint
	found := false
	for _, p := range points {
		if !p.Covers(w.api) || p.IsDeleted {
			continue
		}
		if id == "latest" {
			if !found || p.BackupTime.After(best.BackupTime) {
				best, found = p, true
			}
		} else if p.ID == id {
			return p, true
		}
	}
	return best, found
}
