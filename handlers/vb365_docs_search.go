package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/openrestore/portal/searchquery"
	"github.com/openrestore/portal/templates"
	"github.com/openrestore/portal/veeamapi"
)

// docSearchFields are the document search form's fields, as they travel in
// URLs and in the "restore all results" form.
var docSearchFields = []string{"q", "name", "ext", "person", "after", "before", "advanced", "type", "in"}

// docSearch is a document search form read from a request.
type docSearch struct {
	params   url.Values
	in       veeamapi.SearchIn
	inKey    string
	itemType string
	query    string
	view     templates.DocSearchView
}

// readDocSearch turns the form into a VB365 query, with the change dates
// read as whole days in the user's zone.
func readDocSearch(get func(string) string, loc *time.Location, sharePoint bool) (docSearch, error) {
	s := docSearch{params: url.Values{}}
	for _, f := range docSearchFields {
		if v := strings.TrimSpace(get(f)); v != "" {
			if len(v) > 1024 {
				return s, badRequest("A search field is longer than 1,024 characters.")
			}
			s.params.Set(f, v)
		}
	}
	p := s.params.Get
	s.view = templates.DocSearchView{Text: p("q"), Name: p("name"), Extension: p("ext"), Person: p("person"), After: p("after"),
		Before: p("before"), Advanced: p("advanced"), ItemType: p("type"), TimeZone: loc.String(),
		Open: p("name")+p("ext")+p("person")+p("after")+p("before")+p("advanced")+p("type") != ""}
	switch t := p("type"); t {
	case "", "Folders":
		s.itemType = t
	case "Documents":
		if sharePoint {
			return s, badRequest("Choose what to look for from the list.")
		}
		s.itemType = t
	case "Items":
		if !sharePoint {
			return s, badRequest("Choose what to look for from the list.")
		}
		s.itemType = t
	default:
		return s, badRequest("Choose what to look for from the list.")
	}
	if k := p("in"); k != "" {
		kind, id, err := parseNode(k)
		if err != nil {
			return s, badRequest("The search names a place the portal does not know.")
		}
		switch kind {
		case nodeFolder:
			s.in.Folder = id
		case nodeLibrary:
			s.in.Library = id
		case nodeList:
			s.in.List = id
		default:
			return s, badRequest("The search names a place the portal does not know.")
		}
		s.inKey, s.view.ThisScope = k, true
	}
	d := searchquery.Docs{Text: p("q"), Name: p("name"), Extension: p("ext"), Person: p("person"), Advanced: p("advanced")}
	var err error
	if d.ModifiedFrom, err = day(p("after"), loc, 0); err != nil {
		return s, err
	}
	if d.ModifiedBefore, err = day(p("before"), loc, 1); err != nil {
		return s, err
	}
	s.query, err = d.Build()
	switch {
	case errors.Is(err, searchquery.ErrEmpty):
		return s, errSearchEmpty
	case err != nil:
		return s, badRequest(strings.TrimPrefix(err.Error(), "searchquery: ") + ".")
	}
	return s, nil
}

// docSearchPage handles GET …/search: the form and a page of results. A
// query VB365 refuses is shown with the form, not as a failure.
func (h *Handler) docSearchPage(workload string) echo.HandlerFunc {
	return func(c *echo.Context) error {
		ref, err := h.docsRef(c, workload)
		if err != nil {
			return err
		}
		loc := h.zone(c)
		s, err := readDocSearch(c.QueryParam, loc, ref.sharePoint())
		status, problem := http.StatusOK, ""
		var list *templates.DocListView
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
			page, err := h.docSearchResults(c, ref, s)
			switch {
			case errors.Is(err, veeamapi.ErrBadRequest):
				status, problem = http.StatusBadRequest, "The backup server did not accept this search. Check the advanced query: quotes and parentheses must be closed, and property names spelled as in the VB365 search syntax."
			case err != nil:
				return err
			default:
				list = &page
			}
		}
		if isPartial(c) && c.Request().Header.Get("HX-Target") == templates.DocListID && list != nil {
			return render(c, status, templates.DocList(*list))
		}
		v, err := h.docsFrame(c, ref)
		if err != nil {
			return err
		}
		scopeName := ""
		if s.inKey != "" {
			scopeName = h.nodeName(c.Request().Context(), ref, s.inKey)
		}
		itemTypes := v.Search.ItemTypes
		s.view.Action, s.view.Error, s.view.ItemTypes = v.Search.Action, problem, itemTypes
		s.view.ScopeKey, s.view.ScopeName = s.inKey, scopeName
		v.Search, v.List, v.Heading = s.view, list, "Search results"
		if scopeName != "" {
			v.Heading = "Search results in " + scopeName
		}
		return render(c, status, templates.DocsPage(h.meta(c, "Search · "+v.Title), v))
	}
}

// nodeName is the name of a folder, library or list, or "" when it cannot be found.
func (h *Handler) nodeName(ctx context.Context, ref docsRef, k string) string {
	kind, id, err := parseNode(k)
	if err != nil {
		return ""
	}
	switch kind {
	case nodeFolder:
		if f, err := h.cachedFolderDoc(ctx, ref, id); err == nil {
			return f.Name
		}
	case nodeLibrary, nodeList:
		if cs, err := h.cachedContainers(ctx, ref); err == nil {
			if ct, ok := findContainer(cs, id); ok {
				return ct.list.Name
			}
		}
	}
	return ""
}

// docSearchResults runs the search and lays out the page asked for.
func (h *Handler) docSearchResults(c *echo.Context, ref docsRef, s docSearch) (templates.DocListView, error) {
	setID := c.QueryParam("set")
	if setID != "" && !sessionIDPattern.MatchString(setID) {
		setID = ""
	}
	list := func(ctx context.Context, p veeamapi.PageOptions) (*veeamapi.Page[veeamapi.Doc], error) {
		p.SetID = setID
		return ref.docs.Search(ctx, s.in, s.query, s.itemType, p)
	}
	page, docs, err := h.docListPage(c, ref, list, ref.base+"/search", s.params, "Nothing in the restore point matches this search.")
	if err != nil {
		return page, err
	}
	for i, where := range h.locations(c.Request().Context(), ref, docs) {
		page.Rows[i].Location = where
	}
	for _, f := range docSearchFields {
		if v := s.params.Get(f); v != "" {
			page.AllScope = append(page.AllScope, templates.Hidden{Name: "s_" + f, Value: v})
		}
	}
	page.AllScope = append(page.AllScope, templates.Hidden{Name: "all_search", Value: "1"})
	page.AllLabel = "Restore all results…"
	page.Caption = "Search results"
	return page, nil
}
