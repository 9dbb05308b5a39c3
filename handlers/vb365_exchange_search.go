package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/openrestore/portal/searchquery"
	"github.com/openrestore/portal/templates"
	"github.com/openrestore/portal/veeamapi"
)

// searchFields are the search form's fields, as they travel in URLs and in
// the "restore all results" form.
var searchFields = []string{"q", "from", "to", "subject", "body", "attachments", "after", "before", "advanced", "folder"}

// mailSearch is a search form read from a request.
type mailSearch struct {
	params url.Values // the fields as given, for links and forms
	folder string     // a folder to search in, or "" for the whole mailbox
	query  string     // the VB365 query
	view   templates.SearchView
}

// readSearch turns the search form into a VB365 query, with the received
// dates read as whole days in the user's zone and converted to UTC.
func readSearch(get func(string) string, loc *time.Location) (mailSearch, error) {
	s := mailSearch{params: url.Values{}}
	for _, f := range searchFields {
		if v := strings.TrimSpace(get(f)); v != "" {
			if len(v) > 1024 {
				return s, badRequest("A search field is longer than 1,024 characters.")
			}
			s.params.Set(f, v)
		}
	}
	p := s.params.Get
	s.view = templates.SearchView{
		Text: p("q"), From: p("from"), To: p("to"), Subject: p("subject"), Body: p("body"), After: p("after"), Before: p("before"),
		Advanced: p("advanced"), HasAttachments: p("attachments") == "1", TimeZone: loc.String(),
		Open: p("from")+p("to")+p("subject")+p("body")+p("after")+p("before")+p("advanced")+p("attachments") != "",
	}
	if f := p("folder"); f != "" {
		id, err := unkey(f)
		if err != nil {
			return s, badRequest("The search names a folder the portal does not know.")
		}
		s.folder, s.view.ThisFolder = id, true
	}
	m := searchquery.Mail{Text: p("q"), From: p("from"), To: p("to"), Subject: p("subject"), Body: p("body"),
		HasAttachments: p("attachments") == "1", Advanced: p("advanced")}
	var err error
	if m.ReceivedFrom, err = day(p("after"), loc, 0); err != nil {
		return s, err
	}
	if m.ReceivedBefore, err = day(p("before"), loc, 1); err != nil {
		return s, err
	}
	s.query, err = m.Build()
	switch {
	case errors.Is(err, searchquery.ErrEmpty):
		return s, errSearchEmpty
	case err != nil:
		return s, badRequest(strings.TrimPrefix(err.Error(), "searchquery: ") + ".")
	}
	return s, nil
}

var errSearchEmpty = errors.New("nothing to search for")

// day reads a YYYY-MM-DD day in loc and returns its start, plus add days.
func day(v string, loc *time.Location, add int) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation("2006-01-02", v, loc)
	if err != nil {
		return time.Time{}, badRequest(fmt.Sprintf("The date %q is not valid; pick it from the calendar.", v))
	}
	return t.AddDate(0, 0, add), nil
}

// dayRange reads the days from= and to= of a filter in loc: the start of
// the first and the end of the last (both days included); zero when absent.
func dayRange(q func(string) string, loc *time.Location) (from, to time.Time, err error) {
	if from, err = day(q("from"), loc, 0); err != nil {
		return from, to, err
	}
	if to, err = day(q("to"), loc, 1); err != nil {
		return from, to, err
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		return from, to, badRequest("The first day is after the last.")
	}
	return from, to, nil
}

// searchPage handles GET /sessions/:id/mailboxes/:mb/search: the form and a
// page of results. A query VB365 refuses is shown with the form, not as a failure.
func (h *Handler) searchPage(c *echo.Context) error {
	ref, err := h.mailboxRef(c)
	if err != nil {
		return err
	}
	loc := h.zone(c)
	s, err := readSearch(c.QueryParam, loc)
	status, problem := http.StatusOK, ""
	var list *templates.ItemListView
	switch {
	case errors.Is(err, errSearchEmpty):
		status, problem = http.StatusBadRequest, "Type words to look for, or fill in a filter."
	case err != nil:
		var e *Error
		if !errors.As(err, &e) {
			return err
		}
		status, problem = e.Status, e.Message
	default:
		page, err := h.searchResults(c, ref, s)
		switch {
		case errors.Is(err, veeamapi.ErrBadRequest):
			status, problem = http.StatusBadRequest, "The backup server did not accept this search. Check the advanced query: quotes and parentheses must be closed, and property names spelled as in the VB365 search syntax."
		case err != nil:
			return err
		default:
			list = &page
		}
	}
	if isPartial(c) && c.Request().Header.Get("HX-Target") == templates.ItemListID && list != nil {
		return render(c, status, templates.ItemList(*list))
	}
	v, err := h.frame(c, ref, "")
	if err != nil {
		return err
	}
	folderName := ""
	if s.folder != "" {
		if f, err := h.cachedFolder(c.Request().Context(), userFrom(c).OID, ref, s.folder); err == nil {
			folderName = f.Name
		}
	}
	s.view.Action, s.view.Error = v.Search.Action, problem
	s.view.FolderKey, s.view.FolderName = s.params.Get("folder"), folderName
	v.Search, v.List, v.Heading = s.view, list, "Search results"
	if folderName != "" {
		v.Heading = "Search results in " + folderName
	}
	return render(c, status, templates.MailboxPage(h.meta(c, "Search · "+v.Name), v))
}

// searchResults runs the search and lays out the page asked for.
func (h *Handler) searchResults(c *echo.Context, ref mailboxRef, s mailSearch) (templates.ItemListView, error) {
	setID := c.QueryParam("set")
	if setID != "" && !sessionIDPattern.MatchString(setID) {
		setID = ""
	}
	list := func(ctx context.Context, p veeamapi.PageOptions) (*veeamapi.Page[veeamapi.Item], error) {
		p.SetID = setID
		return ref.data.Search(ctx, s.folder, s.query, p)
	}
	page, err := h.itemPage(c, ref, list, ref.base+"/search", s.params, "Nothing in the restore point matches this search.")
	if err != nil {
		return page, err
	}
	for _, f := range searchFields {
		if v := s.params.Get(f); v != "" {
			page.AllScope = append(page.AllScope, templates.Hidden{Name: "s_" + f, Value: v})
		}
	}
	page.AllScope = append(page.AllScope, templates.Hidden{Name: "all_search", Value: "1"})
	page.AllLabel = "Restore all results…"
	page.Caption = "Search results"
	return page, nil
}
