package veeamapi

import (
	"net/url"
	"strconv"
)

// MaxLimit is the largest page the server serves.
const MaxLimit = 10000

// Link is a HAL link (RESTLinkHAL).
type Link struct {
	Href string `json:"href"`
}

// Action is an operation the server allows on a resource (RESTAction).
type Action struct {
	URI    string `json:"uri"`
	Method string `json:"method"`
}

// PageOptions selects a page of a collection. Zero values leave the
// server's defaults (offset 0, limit 30).
type PageOptions struct {
	Offset int
	Limit  int
	// SetID names a cached search result set (search endpoints only).
	SetID string
}

func (o PageOptions) query() url.Values {
	q := url.Values{}
	if o.Offset > 0 {
		q.Set("offset", strconv.Itoa(o.Offset))
	}
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(min(o.Limit, MaxLimit)))
	}
	if o.SetID != "" {
		q.Set("setId", o.SetID)
	}
	return q
}

// Page is one page of a collection (PageOf<Resource>).
type Page[T any] struct {
	Offset  int             `json:"offset"`
	Limit   int             `json:"limit"`
	SetID   string          `json:"setId"`
	Results []T             `json:"results"`
	Links   map[string]Link `json:"_links"`
}

// Next returns the options for the following page, if the server says there is one.
func (p *Page[T]) Next() (PageOptions, bool) { return p.link("next") }

// Prev returns the options for the preceding page, if there is one.
func (p *Page[T]) Prev() (PageOptions, bool) { return p.link("prev") }

// link reads a page link. Links are relative (v6+); an absolute link to any
// host is ignored, so a server cannot steer the client elsewhere.
func (p *Page[T]) link(name string) (PageOptions, bool) {
	l, ok := p.Links[name]
	if !ok || l.Href == "" {
		return PageOptions{}, false
	}
	u, err := url.Parse(l.Href)
	if err != nil || u.IsAbs() || u.Host != "" {
		return PageOptions{}, false
	}
	q := u.Query()
	offset, err1 := strconv.Atoi(q.Get("offset"))
	limit, err2 := strconv.Atoi(q.Get("limit"))
	if err1 != nil || err2 != nil || offset < 0 || limit < 1 {
		return PageOptions{}, false
	}
	return PageOptions{Offset: offset, Limit: limit, SetID: p.SetID}, true
}
