package fakeveeam

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

const (
	defaultLimit = 30
	maxLimit     = 10000
)

// link is RESTLinkHAL.
type link struct {
	Href string `json:"href"`
}

// page is the PageOf<Resource> envelope.
type page[T any] struct {
	Offset  int             `json:"offset"`
	Limit   int             `json:"limit"`
	SetID   string          `json:"setId,omitempty"`
	Results []T             `json:"results"`
	Links   map[string]link `json:"_links"`
}

// pageParams reads offset and limit, answering 400 when they are malformed.
func pageParams(w http.ResponseWriter, r *http.Request) (offset, limit int, ok bool) {
	q := r.URL.Query()
	offset, limit = 0, defaultLimit
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			badRequest(w, fmt.Sprintf("The value '%s' is not valid for offset.", v))
			return 0, 0, false
		}
		offset = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLimit {
			badRequest(w, fmt.Sprintf("The value '%s' is not valid for limit: it must be between 1 and %d.", v, maxLimit))
			return 0, 0, false
		}
		limit = n
	}
	return offset, limit, true
}

// paginate slices items into a page with relative _links, as v6+ servers give them
// (api-notes §5.1): next only when more items follow, prev when some precede.
func paginate[T any](r *http.Request, items []T, offset, limit int) page[T] {
	end := min(offset+limit, len(items))
	results := []T{}
	if offset < len(items) {
		results = items[offset:end]
	}
	href := func(off int) link {
		q := r.URL.Query()
		q.Set("offset", strconv.Itoa(off))
		q.Set("limit", strconv.Itoa(limit))
		u := url.URL{Path: r.URL.Path, RawQuery: q.Encode()}
		return link{Href: u.String()}
	}
	links := map[string]link{"self": href(offset), "first": href(0)}
	if offset > 0 {
		links["prev"] = href(max(0, offset-limit))
	}
	if end < len(items) {
		links["next"] = href(end)
	}
	return page[T]{Offset: offset, Limit: limit, Results: results, Links: links}
}
