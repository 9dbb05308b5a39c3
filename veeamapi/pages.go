package veeamapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"iter"
	"net/url"
	"slices"
	"strconv"
	"unicode/utf8"
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

// UnmarshalJSON reads the keys of the _actions object and skips the values.
func (a *Actions) UnmarshalJSON(b []byte) error {
	*a = nil
	s := scanner{b: b}
	s.space()
	if s.peek() == 'n' {
		return nil // null
	}
	if !s.take('{') {
		return errors.New("veeamapi: _actions is not an object")
	}
	*a = Actions{} // present, perhaps empty: not the same as absent
	for {
		s.space()
		if s.take('}') {
			return nil
		}
		key, err := s.str()
		if err != nil {
			return err
		}
		s.space()
		if !s.take(':') {
			return errors.New("veeamapi: _actions: missing colon")
		}
		if err := s.skip(); err != nil {
			return err
		}
		*a = append(*a, key)
		s.space()
		if !s.take(',') && s.peek() != '}' {
			return errors.New("veeamapi: _actions: missing comma")
		}
	}
}

// scanner walks JSON the decoder has already checked is valid.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *scanner) take(c byte) bool {
	if s.peek() == c {
		s.i++
		return true
	}
	return false
}

func (s *scanner) space() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n' || s.b[s.i] == '\r') {
		s.i++
	}
}

// str reads a string; one with escapes or invalid UTF-8 goes through the
// standard decoder, so that it reads exactly as encoding/json reads it.
func (s *scanner) str() (string, error) {
	start := s.i
	if !s.take('"') {
		return "", errors.New("veeamapi: expected a string")
	}
	escaped := false
	for {
		j := bytes.IndexByte(s.b[s.i:], '"')
		if j < 0 {
			return "", errors.New("veeamapi: unterminated string")
		}
		seg := s.b[s.i : s.i+j]
		s.i += j + 1
		if bytes.IndexByte(seg, '\\') < 0 {
			break
		}
		escaped = true
		k := len(seg) // an odd run of backslashes before the quote escapes it
		for k > 0 && seg[k-1] == '\\' {
			k--
		}
		if (len(seg)-k)%2 == 0 {
			break
		}
	}
	if raw := s.b[start+1 : s.i-1]; !escaped && utf8.Valid(raw) {
		return string(raw), nil
	}
	var out string
	err := json.Unmarshal(s.b[start:s.i], &out)
	return out, err
}

// skip passes over one value.
func (s *scanner) skip() error {
	s.space()
	depth := 0
	for s.i < len(s.b) {
		switch c := s.b[s.i]; c {
		case '"':
			if _, err := s.str(); err != nil {
				return err
			}
			if depth == 0 {
				return nil
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return nil // the end of the enclosing object
			}
			depth--
			if depth == 0 {
				s.i++
				return nil
			}
		case ',':
			if depth == 0 {
				return nil
			}
		}
		s.i++
	}
	return nil
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
