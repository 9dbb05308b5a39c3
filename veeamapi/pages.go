package veeamapi

import (
	"bytes"
	"context"
	"errors"
	"iter"
	"net/url"
	"slices"
	"strconv"

	"github.com/go-json-experiment/json/jsontext"
)

// MaxLimit is the largest page the server serves.
const MaxLimit = 10000

// Link is a HAL link (RESTLinkHAL).
type Link struct {
	Href string `json:"href"`
}

// Actions are the operations the server allows on a resource: the names in
// its _actions object (RESTAction). Only the names are kept: the client
// builds every path itself, and lists of a hundred items decode much faster
// without a URI per action per item.
type Actions []string

// Has reports whether the named action is allowed.
func (a Actions) Has(name string) bool { return slices.Contains(a, name) }

// UnmarshalJSON is UnmarshalJSONFrom for encoding/json.
func (a *Actions) UnmarshalJSON(b []byte) error {
	return a.UnmarshalJSONFrom(jsontext.NewDecoder(bytes.NewReader(b), jsontext.AllowInvalidUTF8(true), jsontext.AllowDuplicateNames(true)))
}

// UnmarshalJSONFrom reads the keys of the _actions object and skips the
// values (the client's decoder is github.com/go-json-experiment/json).
func (a *Actions) UnmarshalJSONFrom(d *jsontext.Decoder) error {
	switch d.PeekKind() {
	case 'n':
		*a = nil
		_, err := d.ReadToken()
		return err
	case '{':
	default:
		return errors.New("veeamapi: _actions is not an object")
	}
	if _, err := d.ReadToken(); err != nil {
		return err
	}
	*a = Actions{} // present, perhaps empty: not the same as absent
	for d.PeekKind() != '}' {
		name, err := d.ReadToken()
		if err != nil {
			return err
		}
		*a = append(*a, name.String())
		if err := d.SkipValue(); err != nil {
			return err
		}
	}
	_, err := d.ReadToken()
	return err
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

// newPage is a page to decode a list's answer into, its results sized for
// the limit asked for (up to a thousand): grown while decoding, a 100-item
// page of messages was copied seven times over.
func newPage[T any](o PageOptions) *Page[T] {
	return &Page[T]{Results: make([]T, 0, min(max(o.Limit, 0), 1000))}
}

// getPage gets a page of a list at path.
func getPage[T any](ctx context.Context, o *Operator, path string, query url.Values, page PageOptions) (*Page[T], error) {
	p := newPage[T](page)
	if err := o.get(ctx, path, query, p); err != nil {
		return nil, err
	}
	return p, nil
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

// All reads a whole list, page after page of limit items, for callers that
// need every item:
//
//	for d, err := range veeamapi.All(ctx, 1000, docs.Lists) { … }
//
// It follows the server's next links (keeping a search's set id) and ends
// at the first error, which it yields with a zero item. A caller that
// stops early stops the reading.
func All[T any](ctx context.Context, limit int, list func(context.Context, PageOptions) (*Page[T], error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		opts := PageOptions{Limit: limit}
		for {
			p, err := list(ctx, opts)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, x := range p.Results {
				if !yield(x, nil) {
					return
				}
			}
			next, more := p.Next()
			if !more || len(p.Results) == 0 {
				return
			}
			opts = next
		}
	}
}
