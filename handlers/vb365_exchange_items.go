package handlers

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/openrestore/portal/templates"
	"github.com/openrestore/portal/veeamapi"
)

// kindNames are how item kinds are shown: icon key and label.
var kindNames = map[veeamapi.ItemKind][2]string{
	veeamapi.KindMessage: {"mail", "Mail"}, veeamapi.KindAppointment: {"meeting", "Meeting"},
	veeamapi.KindContact: {"contact", "Contact"}, veeamapi.KindContactGroup: {"contact", "Contact group"},
	veeamapi.KindTask: {"task", "Task"}, veeamapi.KindNote: {"note", "Note"},
	veeamapi.KindDiscussion: {"mail", "Discussion"}, veeamapi.KindJournal: {"note", "Journal entry"},
}

// itemWhen is the date an item is listed by: received for mail, start for a
// meeting, due for a task, created for a note; contacts have none.
func itemWhen(it *veeamapi.Item) *time.Time {
	for _, t := range []*time.Time{it.Received, it.StartTime, it.DueDate, it.Date, it.PostedOn, it.Sent} {
		if t != nil && !t.IsZero() {
			return t
		}
	}
	return nil
}

// itemTitle is what a list shows as an item's subject.
func itemTitle(it *veeamapi.Item) string {
	switch {
	case it.Subject != "":
		return it.Subject
	case it.FullName != "":
		return it.FullName
	}
	return it.Name
}

// itemRows lays out a page of items, newest first within the page (VB365
// lists newest first; this keeps a page in order even if it did not).
func itemRows(ref mailboxRef, items []veeamapi.Item, loc *time.Location, current string) []templates.ItemRow {
	// Sorted by reference: an item is 700 bytes, a pointer 8.
	sorted := make([]*veeamapi.Item, len(items))
	for i := range items {
		sorted[i] = &items[i]
	}
	slices.SortStableFunc(sorted, func(a, b *veeamapi.Item) int {
		ta, tb := itemWhen(a), itemWhen(b)
		switch {
		case ta == nil && tb == nil:
			return 0
		case ta == nil:
			return 1
		case tb == nil:
			return -1
		}
		return tb.Compare(*ta)
	})
	rows := make([]templates.ItemRow, 0, len(sorted))
	for _, it := range sorted {
		names := kindNames[it.Kind()]
		k := key(it.ID)
		r := templates.ItemRow{
			Key: k, URL: ref.base + "/items/" + k, Kind: names[0], KindLabel: names[1],
			From: displayName(cmp.Or(it.From, it.Organizer, it.Owner, it.Company)), Subject: itemTitle(it),
			Attachments: len(it.Attachments) > 0, Current: current != "" && current == k,
		}
		if t := itemWhen(it); t != nil {
			r.When, r.WhenISO = t.In(loc).Format("Mon 2 Jan 2006, 15:04"), t.UTC().Format(time.RFC3339)
		}
		rows = append(rows, r)
	}
	return rows
}

// displayName shortens "Name <address>" to the name.
func displayName(s string) string {
	if i := strings.LastIndex(s, " <"); i > 0 && strings.HasSuffix(s, ">") {
		return s[:i]
	}
	return s
}

// itemDetail shows an item's fields for its kind.
func itemDetail(ref mailboxRef, it *veeamapi.Item, loc *time.Location) templates.ItemDetailView {
	names := kindNames[it.Kind()]
	v := templates.ItemDetailView{
		Key: key(it.ID), Kind: names[0], KindLabel: names[1], Subject: itemTitle(it),
		DownloadURL: ref.itemURL(it.ID) + "/download", RestoreURL: ref.base + "/restore/new",
		CanMsg: it.Can("save"), CanPST: it.Can("exportToPst"),
	}
	when := func(t *time.Time) string {
		if t == nil || t.IsZero() {
			return ""
		}
		return t.In(loc).Format("Monday 2 January 2006, 15:04 MST")
	}
	add := func(label, value string) {
		if value != "" {
			v.Fields = append(v.Fields, templates.Field{Label: label, Value: value})
		}
	}
	switch it.Kind() {
	case veeamapi.KindAppointment:
		add("Organizer", it.Organizer)
		add("Attendees", it.Attendees)
		add("Location", it.Location)
		add("Starts", when(it.StartTime))
		add("Ends", when(it.EndTime))
		if it.Recurring != nil && *it.Recurring {
			add("Repeats", cmp.Or(it.Recurrence, "Yes"))
		}
	case veeamapi.KindContact:
		add("Name", it.FullName)
		add("E-mail", it.Email)
		add("Company", it.Company)
		add("Job title", it.JobTitle)
		add("Business phone", it.Business)
		add("Mobile", it.Mobile)
		add("Home phone", it.HomePhone)
		add("Fax", it.Fax)
		add("Address", it.Address)
		add("Web page", it.WebPage)
	case veeamapi.KindTask:
		add("Status", taskStatus(it.Status))
		if it.Percent != nil {
			add("Complete", fmt.Sprintf("%.0f%%", *it.Percent))
		}
		add("Starts", when(it.StartDate))
		add("Due", when(it.DueDate))
		add("Owner", it.Owner)
	case veeamapi.KindNote:
		add("Date", when(it.Date))
	default:
		add("From", it.From)
		add("To", it.To)
		add("Cc", it.Cc)
		add("Bcc", it.Bcc)
		add("Sent", when(it.Sent))
		add("Received", when(cmp.Or(it.Received, it.PostedOn)))
		add("Importance", it.Importance)
	}
	for _, a := range it.Attachments {
		v.Attachments = append(v.Attachments, templates.Field{Label: a.Name, Value: humanSize(a.SizeBytes)})
	}
	return v
}

func taskStatus(s string) string {
	switch s {
	case "NotStarted":
		return "Not started"
	case "InProgress":
		return "In progress"
	case "WaitingOnSomeoneElse":
		return "Waiting on someone else"
	}
	return s
}

// humanSize writes a size for people: 2.4 MB.
func humanSize(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d bytes", n)
	case n < 1000*1000:
		return fmt.Sprintf("%.0f KB", float64(n)/1000)
	case n < 1000*1000*1000:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
	return fmt.Sprintf("%.2f GB", float64(n)/1e9)
}
