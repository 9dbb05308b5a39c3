package handlers

import (
	"time"

	"github.com/openrestore/portal/templates"
)

// calendar lays restore points out in the user's zone: a Monday-first
// month grid marking the days with points, and which points each day has.
// Months before the first point or after the last are not offered.
type calendar struct {
	view     templates.CalendarView
	byDay    map[string][]int // day key → indexes into the times, in order
	selected string           // the chosen day's key, or ""
}

// buildCalendar shows month (zero: the last point's) of times, which are
// in order, with day chosen (zero: none); link makes a month's address
// (and a day's, when day is not "").
func buildCalendar(times []time.Time, month, day time.Time, loc *time.Location, link func(month time.Time, day string) string) calendar {
	cal := calendar{byDay: map[string][]int{}}
	if len(times) == 0 {
		return cal
	}
	for i, t := range times {
		k := dayKey(t.In(loc))
		cal.byDay[k] = append(cal.byDay[k], i)
	}
	first := firstOfMonth(times[0].In(loc))
	last := firstOfMonth(times[len(times)-1].In(loc))
	if month.IsZero() {
		month = last
	}
	month = clampMonth(month, first, last)
	v := templates.CalendarView{Caption: month.Format("January 2006")}
	if prev := month.AddDate(0, -1, 0); !prev.Before(first) {
		v.PrevURL, v.PrevLabel = link(prev, ""), prev.Format("January 2006")
	}
	if next := month.AddDate(0, 1, 0); !next.After(last) {
		v.NextURL, v.NextLabel = link(next, ""), next.Format("January 2006")
	}
	if !day.IsZero() {
		cal.selected = dayKey(day)
	}
	// From the Monday on or before the 1st to the Sunday on or after the month's end.
	start := month.AddDate(0, 0, -((int(month.Weekday()) + 6) % 7))
	end := month.AddDate(0, 1, -1)
	var week []templates.DayCell
	for d := start; ; d = d.AddDate(0, 0, 1) {
		k := dayKey(d)
		n := len(cal.byDay[k])
		cell := templates.DayCell{Day: d.Day(), InMonth: d.Month() == month.Month(), Count: n, Selected: k == cal.selected}
		if cell.InMonth && n > 0 {
			cell.URL = link(month, k)
			cell.Label = d.Format("Monday 2 January 2006") + ", " + plural(n, "restore point")
		}
		week = append(week, cell)
		if len(week) == 7 {
			v.Weeks = append(v.Weeks, week)
			week = nil
			if d.After(end) || dayKey(d) == dayKey(end) {
				break
			}
		}
	}
	cal.view = v
	return cal
}
