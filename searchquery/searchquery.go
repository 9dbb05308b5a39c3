// Package searchquery builds VB365 item search queries (User Guide, Appendix
// A) from what a user types into a search form. Values are quoted and
// escaped so that they stay values: a subject containing "OR", a colon or a
// quote cannot change the query's meaning. Dates arrive as instants and are
// written in UTC, the only zone the VB365 search knows.
package searchquery

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
)

// MaxLength bounds a built query.
const MaxLength = 2048

// Mail is a search over mailbox items.
type Mail struct {
	// Text is free text: every word must occur somewhere in the item.
	Text    string
	From    string
	To      string
	Subject string
	Body    string
	// HasAttachments limits the search to items with attachments.
	HasAttachments bool
	// ReceivedFrom and ReceivedBefore bound the received time: From
	// inclusive, Before exclusive. Zero means unbounded.
	ReceivedFrom   time.Time
	ReceivedBefore time.Time
	// Advanced is raw query syntax, added as it is (in parentheses).
	Advanced string
}

// ErrEmpty says the form asks for nothing.
var ErrEmpty = errors.New("searchquery: give at least one word or filter")

// Build returns the query for m.
func (m Mail) Build() (string, error) {
	var terms []string
	terms = append(terms, words(m.Text)...)
	for _, f := range []struct{ name, value string }{
		{"from", m.From}, {"to", m.To}, {"subject", m.Subject}, {"body", m.Body},
	} {
		if v := strings.TrimSpace(f.value); v != "" {
			terms = append(terms, f.name+":"+Quote(v))
		}
	}
	if m.HasAttachments {
		terms = append(terms, "hasattachments:true")
	}
	if !m.ReceivedFrom.IsZero() && !m.ReceivedBefore.IsZero() && !m.ReceivedFrom.Before(m.ReceivedBefore) {
		return "", errors.New("searchquery: the received range ends before it starts")
	}
	if !m.ReceivedFrom.IsZero() {
		terms = append(terms, "received:>="+m.ReceivedFrom.UTC().Format(time.RFC3339))
	}
	if !m.ReceivedBefore.IsZero() {
		terms = append(terms, "received:<"+m.ReceivedBefore.UTC().Format(time.RFC3339))
	}
	if a := strings.TrimSpace(m.Advanced); a != "" {
		terms = append(terms, "("+a+")")
	}
	if len(terms) == 0 {
		return "", ErrEmpty
	}
	q := strings.Join(terms, " ")
	if len(q) > MaxLength {
		return "", fmt.Errorf("searchquery: the search is longer than %d characters", MaxLength)
	}
	return q, nil
}

// words turns free text into terms: each word on its own (all must match),
// quoted when it is not a plain word. * and ? stay wildcards in plain words.
func words(text string) []string {
	var out []string
	for _, w := range strings.Fields(text) {
		if plain(w, true) {
			out = append(out, w)
		} else {
			out = append(out, Quote(w))
		}
	}
	return out
}

var keywords = map[string]bool{"AND": true, "OR": true, "NOT": true}

// plain reports whether w can stand unquoted: letters, digits and a few
// punctuation marks that mean nothing to the query language.
func plain(w string, wildcards bool) bool {
	if w == "" || keywords[w] {
		return false
	}
	for _, r := range w {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
		case strings.ContainsRune("._@-+&'", r):
		case wildcards && (r == '*' || r == '?'):
		default:
			return false
		}
	}
	return true
}

// Quote makes v one value: as it is when plain, else in double quotes with
// backslashes and quotes escaped. Wildcards inside quotes are literal.
func Quote(v string) string {
	if plain(v, false) {
		return v
	}
	v = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, v)
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
}

// Docs is a search over OneDrive or SharePoint documents and list items.
type Docs struct {
	// Text is free text: every word must occur in the name, title, path or people.
	Text string
	// Name is part of the file name.
	Name string
	// Extension is a file type such as xlsx (a leading dot is dropped).
	Extension string
	// Person created or last changed the document.
	Person string
	// ModifiedFrom and ModifiedBefore bound the last change: From inclusive,
	// Before exclusive. Zero means unbounded.
	ModifiedFrom   time.Time
	ModifiedBefore time.Time
	// Advanced is raw query syntax, added as it is (in parentheses).
	Advanced string
}

// Build returns the query for d.
func (d Docs) Build() (string, error) {
	terms := words(d.Text)
	if v := strings.TrimSpace(d.Name); v != "" {
		terms = append(terms, "filename:"+Quote(v))
	}
	if v := strings.TrimPrefix(strings.TrimSpace(d.Extension), "."); v != "" {
		terms = append(terms, "System.FileExtension:"+Quote(v))
	}
	if v := strings.TrimSpace(d.Person); v != "" {
		terms = append(terms, "(System.Author:"+Quote(v)+" OR System.Document.LastAuthor:"+Quote(v)+")")
	}
	if !d.ModifiedFrom.IsZero() && !d.ModifiedBefore.IsZero() && !d.ModifiedFrom.Before(d.ModifiedBefore) {
		return "", errors.New("searchquery: the modified range ends before it starts")
	}
	if !d.ModifiedFrom.IsZero() {
		terms = append(terms, "datemodified:>="+d.ModifiedFrom.UTC().Format(time.RFC3339))
	}
	if !d.ModifiedBefore.IsZero() {
		terms = append(terms, "datemodified:<"+d.ModifiedBefore.UTC().Format(time.RFC3339))
	}
	if a := strings.TrimSpace(d.Advanced); a != "" {
		terms = append(terms, "("+a+")")
	}
	if len(terms) == 0 {
		return "", ErrEmpty
	}
	q := strings.Join(terms, " ")
	if len(q) > MaxLength {
		return "", fmt.Errorf("searchquery: the search is longer than %d characters", MaxLength)
	}
	return q, nil
}

// Teams is a search over a team's or channel's posts, files or tabs.
type Teams struct {
	// Kind is Posts, Files or Tabs.
	Kind string
	// Text is free text: every word must occur (posts: subject, content and
	// author; files: name and author; tabs: name and kind).
	Text string
	// Author wrote the post, or created the file.
	Author string
	// From and Before bound when the post was written or the file changed:
	// From inclusive, Before exclusive. Zero means unbounded.
	From   time.Time
	Before time.Time
	// Advanced is raw query syntax, added as it is (in parentheses).
	Advanced string
}

// Build returns the query for t.
func (t Teams) Build() (string, error) {
	terms := words(t.Text)
	dateProp := "created"
	if t.Kind == "Files" {
		dateProp = "modified"
	}
	if v := strings.TrimSpace(t.Author); v != "" {
		if t.Kind == "Tabs" {
			return "", errors.New("searchquery: tabs have no author")
		}
		terms = append(terms, "author:"+Quote(v))
	}
	if !t.From.IsZero() && !t.Before.IsZero() && !t.From.Before(t.Before) {
		return "", errors.New("searchquery: the date range ends before it starts")
	}
	if (!t.From.IsZero() || !t.Before.IsZero()) && t.Kind == "Tabs" {
		return "", errors.New("searchquery: tabs have no dates")
	}
	if !t.From.IsZero() {
		terms = append(terms, dateProp+":>="+t.From.UTC().Format(time.RFC3339))
	}
	if !t.Before.IsZero() {
		terms = append(terms, dateProp+":<"+t.Before.UTC().Format(time.RFC3339))
	}
	if a := strings.TrimSpace(t.Advanced); a != "" {
		terms = append(terms, "("+a+")")
	}
	if len(terms) == 0 {
		return "", ErrEmpty
	}
	q := strings.Join(terms, " ")
	if len(q) > MaxLength {
		return "", fmt.Errorf("searchquery: the search is longer than %d characters", MaxLength)
	}
	return q, nil
}
