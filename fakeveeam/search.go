package fakeveeam

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// The item search language of VB365 (User Guide, Appendix A; api-notes §4):
// terms are "name:value" with a shortcut or canonical property name, or bare
// words matched against the item's text. Values with spaces are quoted;
// upper-case AND, OR and NOT combine terms, juxtaposition means AND, and
// parentheses group. * and ? are wildcards. Dates take >=, <=, >, <, = or a
// range a..b, as ISO 8601 dates or date-times, or M/D/YYYY; they are UTC, as
// the documentation says. An unknown property or a malformed query is an error.

const maxQuery = 4096

// query is a parsed search over subjects of type T (a mail item, a document).
type query[T any] struct{ root node[T] }

type node[T any] interface {
	eval(v T) bool
}

type andNode[T any] struct{ l, r node[T] }
type orNode[T any] struct{ l, r node[T] }
type notNode[T any] struct{ n node[T] }

func (n andNode[T]) eval(v T) bool { return n.l.eval(v) && n.r.eval(v) }
func (n orNode[T]) eval(v T) bool  { return n.l.eval(v) || n.r.eval(v) }
func (n notNode[T]) eval(v T) bool { return !n.n.eval(v) }

func (q *query[T]) match(v T) bool { return q.root.eval(v) }

// language is the search language over one kind of subject: its properties
// by shortcut and canonical name, and the text a bare word is looked for in.
type language[T any] struct {
	props map[string]*property[T]
	text  func(v T) []string
}

// token is a lexical token.
type token struct {
	kind   int // tWord, tOpen, tClose
	text   string
	quoted bool // some of it was in quotes
	phrase bool // it began with a quote: all text, never name:value
}

const (
	tWord = iota
	tOpen
	tClose
)

func tokenize(s string) ([]token, error) {
	var out []token
	rs := []rune(s)
	for i := 0; i < len(rs); {
		c := rs[i]
		switch {
		case unicode.IsSpace(c):
			i++
		case c == '(':
			out = append(out, token{kind: tOpen})
			i++
		case c == ')':
			out = append(out, token{kind: tClose})
			i++
		default:
			// A word, possibly with quoted parts: subject:"a b" is one token.
			var b strings.Builder
			quoted, phrase := false, rs[i] == '"'
			for i < len(rs) && !unicode.IsSpace(rs[i]) && rs[i] != '(' && rs[i] != ')' {
				if rs[i] != '"' {
					b.WriteRune(rs[i])
					i++
					continue
				}
				quoted = true
				i++
				closed := false
				for i < len(rs) {
					if rs[i] == '\\' && i+1 < len(rs) {
						b.WriteRune(rs[i+1])
						i += 2
						continue
					}
					if rs[i] == '"' {
						closed = true
						i++
						break
					}
					b.WriteRune(rs[i])
					i++
				}
				if !closed {
					return nil, errors.New("a quoted value is not closed")
				}
			}
			out = append(out, token{kind: tWord, text: b.String(), quoted: quoted, phrase: phrase})
		}
	}
	return out, nil
}

// parser is a recursive-descent parser over the tokens.
type parser[T any] struct {
	lang *language[T]
	toks []token
	pos  int
}

func (p *parser[T]) peek() *token {
	if p.pos < len(p.toks) {
		return &p.toks[p.pos]
	}
	return nil
}

func (p *parser[T]) isKeyword(t *token, kw string) bool {
	return t != nil && t.kind == tWord && !t.quoted && t.text == kw
}

func (l *language[T]) parse(s string) (*query[T], error) {
	if len(s) > maxQuery {
		return nil, fmt.Errorf("the query is longer than %d characters", maxQuery)
	}
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("the query is empty")
	}
	toks, err := tokenize(s)
	if err != nil {
		return nil, err
	}
	p := &parser[T]{lang: l, toks: toks}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t != nil {
		if t.kind == tClose {
			return nil, errors.New("a ')' has no matching '('")
		}
		return nil, fmt.Errorf("unexpected %q", t.text)
	}
	return &query[T]{root: n}, nil
}

func (p *parser[T]) or() (node[T], error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.isKeyword(p.peek(), "OR") {
		p.pos++
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = orNode[T]{l, r}
	}
	return l, nil
}

func (p *parser[T]) and() (node[T], error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if t == nil || t.kind == tClose || p.isKeyword(t, "OR") {
			return l, nil
		}
		if p.isKeyword(t, "AND") {
			p.pos++
		}
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = andNode[T]{l, r}
	}
}

func (p *parser[T]) unary() (node[T], error) {
	t := p.peek()
	if p.isKeyword(t, "NOT") {
		p.pos++
		n, err := p.unary()
		if err != nil {
			return nil, err
		}
		return notNode[T]{n}, nil
	}
	return p.primary()
}

func (p *parser[T]) primary() (node[T], error) {
	t := p.peek()
	switch {
	case t == nil:
		return nil, errors.New("the query ends where a term was expected")
	case t.kind == tOpen:
		p.pos++
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if c := p.peek(); c == nil || c.kind != tClose {
			return nil, errors.New("a '(' is not closed")
		}
		p.pos++
		return n, nil
	case t.kind == tClose:
		return nil, errors.New("a ')' has no matching '('")
	case p.isKeyword(t, "AND") || p.isKeyword(t, "OR"):
		return nil, fmt.Errorf("%s needs a term on both sides", t.text)
	}
	p.pos++
	return p.term(t)
}

var propName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9.]*$`)

// term makes a node of "name:value" (the value may be the next token, as in
// "from: megan") or a bare word.
func (p *parser[T]) term(t *token) (node[T], error) {
	name, value, hasColon := strings.Cut(t.text, ":")
	if t.phrase || !hasColon || !propName.MatchString(name) {
		return textTerm(p.lang.text, t.text, t.quoted)
	}
	prop, ok := p.lang.props[strings.ToLower(name)]
	if !ok {
		return nil, fmt.Errorf("unknown search property %q", name)
	}
	quoted := t.quoted
	if value == "" && !t.quoted {
		next := p.peek()
		if next == nil || next.kind != tWord {
			return nil, fmt.Errorf("%s: has no value", name)
		}
		p.pos++
		value, quoted = next.text, next.quoted
	}
	switch prop.kind {
	case propDate:
		return dateTerm(prop, value)
	case propBool:
		b, err := parseBool(value)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return boolTerm[T]{prop, b}, nil
	case propSize:
		return sizeTerm(prop, value)
	}
	return textTerm(prop.text, value, quoted)
}

type propKind int

const (
	propText propKind = iota
	propDate
	propBool
	propSize
)

// property is a searchable property of subjects of type T.
type property[T any] struct {
	kind propKind
	text func(v T) []string
	date func(v T) time.Time
	flag func(v T) bool
	size func(v T) int64
}

func texts[T any](fn func(v T) []string) *property[T]  { return &property[T]{kind: propText, text: fn} }
func dates[T any](fn func(v T) time.Time) *property[T] { return &property[T]{kind: propDate, date: fn} }

// mail is what a search of mailbox items looks at: an item in one version.
type mail struct {
	it *mailItem
	f  *itemFields
}

func parseQuery(s string) (*query[mail], error) { return mailLanguage.parse(s) }

func attachmentNames(f *itemFields) []string {
	var out []string
	for _, a := range f.Attachments {
		out = append(out, a.Name)
	}
	return out
}

// mailLanguage searches Exchange items: their properties by shortcut and
// canonical name; a bare word is looked for in the subject, body, people,
// location, contact names and attachment names.
var mailLanguage = &language[mail]{props: func() map[string]*property[mail] {
	subject := texts(func(m mail) []string { return []string{m.f.Subject} })
	body := texts(func(m mail) []string { return []string{m.f.Subject, m.f.Body} })
	from := texts(func(m mail) []string { return []string{m.f.From, m.f.Organizer} })
	to := texts(func(m mail) []string { return []string{m.f.To, m.f.Attendees} })
	cc := texts(func(m mail) []string { return []string{m.f.Cc} })
	bcc := texts(func(m mail) []string { return nil })
	attachments := texts(func(m mail) []string { return attachmentNames(m.f) })
	received := dates(func(m mail) time.Time { return m.it.created })
	sent := dates(func(m mail) time.Time { return m.it.sent })
	modified := dates(func(m mail) time.Time { return m.it.versions[len(m.it.versions)-1].since })
	start := dates(func(m mail) time.Time { return m.f.Start })
	has := &property[mail]{kind: propBool, flag: func(m mail) bool { return len(m.f.Attachments) > 0 }}
	recurring := &property[mail]{kind: propBool, flag: func(m mail) bool { return m.f.Recurring }}
	size := &property[mail]{kind: propSize, size: func(m mail) int64 { return itemSizeFields(m.f) }}
	field := func(get func(f *itemFields) string) *property[mail] {
		return texts(func(m mail) []string { return []string{get(m.f)} })
	}
	props := map[string]*property[mail]{
		"subject": subject, "system.subject": subject, "title": subject, "system.title": subject,
		"body": body, "content": body, "contents": body, "system.search.contents": body,
		"from": from, "system.message.fromaddress": from, "system.message.fromname": from,
		"system.message.senderaddress": from, "system.message.sendername": from,
		"organizer": from, "by": from, "system.calendar.organizername": from, "system.calendar.organizeraddress": from,
		"to": to, "toaddress": to, "system.message.toaddress": to, "system.message.toname": to,
		"cc": cc, "ccaddress": cc, "ccname": cc, "system.message.ccaddress": cc, "system.message.ccname": cc,
		"bcc": bcc, "bccaddress": bcc, "bccname": bcc, "system.message.bccaddress": bcc, "system.message.bccname": bcc,
		"attachments": attachments, "system.message.attachmentnames": attachments,
		"received": received, "system.message.datereceived": received,
		"sent": sent, "system.message.datesent": sent,
		"datecreated": received, "system.datecreated": received,
		"datemodified": modified, "system.datemodified": modified,
		"start": start, "system.startdate": start,
		"enddate":        dates(func(m mail) time.Time { return m.f.End }),
		"due":            dates(func(m mail) time.Time { return m.f.Due }),
		"duedate":        dates(func(m mail) time.Time { return m.f.Due }),
		"hasattachments": has, "system.message.hasattachments": has,
		"recurring": recurring, "isrecurring": recurring, "system.calendar.isrecurring": recurring,
		"size": size, "system.size": size,
		"importance":                  field(func(f *itemFields) string { return f.Importance }),
		"system.importance":           field(func(f *itemFields) string { return f.Importance }),
		"location":                    field(func(f *itemFields) string { return f.Location }),
		"system.calendar.location":    field(func(f *itemFields) string { return f.Location }),
		"company":                     field(func(f *itemFields) string { return f.Company }),
		"system.company":              field(func(f *itemFields) string { return f.Company }),
		"fullname":                    field(func(f *itemFields) string { return f.FullName }),
		"system.contact.fullname":     field(func(f *itemFields) string { return f.FullName }),
		"emailaddress":                field(func(f *itemFields) string { return f.Email }),
		"system.contact.emailaddress": field(func(f *itemFields) string { return f.Email }),
		"jobtitle":                    field(func(f *itemFields) string { return f.JobTitle }),
		"system.contact.jobtitle":     field(func(f *itemFields) string { return f.JobTitle }),
		"mobilephone":                 field(func(f *itemFields) string { return f.Mobile }),
		"businessphone":               field(func(f *itemFields) string { return f.BusinessPhone }),
		"taskowner":                   field(func(f *itemFields) string { return f.Owner }),
		"system.task.owner":           field(func(f *itemFields) string { return f.Owner }),
		"category":                    bcc,
		"system.category":             bcc,
		"system.message.messageclass": texts(func(m mail) []string { return []string{m.it.kind.class()} }),
	}
	return props
}(), text: func(m mail) []string {
	return append([]string{m.f.Subject, m.f.Body, m.f.From, m.f.To, m.f.Cc, m.f.Location, m.f.FullName, m.f.Company}, attachmentNames(m.f)...)
}}

// textTerm matches the texts get returns: a plain value is contained,
// case-insensitively; with * or ? the pattern matches the whole text or one
// of its words.
func textTerm[T any](get func(v T) []string, value string, quoted bool) (node[T], error) {
	if strings.TrimSpace(value) == "" {
		return nil, errors.New("a term has an empty value")
	}
	if !quoted && strings.ContainsAny(value, "*?") {
		q := regexp.QuoteMeta(strings.ToLower(value))
		q = strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(q)
		re := regexp.MustCompile("^" + q + "$")
		return funcNode[T](func(v T) bool {
			for _, s := range get(v) {
				s = strings.ToLower(s)
				if re.MatchString(s) {
					return true
				}
				for _, w := range strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
					if re.MatchString(w) {
						return true
					}
				}
			}
			return false
		}), nil
	}
	needle := strings.ToLower(value)
	return funcNode[T](func(v T) bool {
		for _, s := range get(v) {
			if strings.Contains(strings.ToLower(s), needle) {
				return true
			}
		}
		return false
	}), nil
}

type funcNode[T any] func(v T) bool

func (n funcNode[T]) eval(v T) bool { return n(v) }

type boolTerm[T any] struct {
	prop *property[T]
	want bool
}

func (n boolTerm[T]) eval(v T) bool { return n.prop.flag(v) == n.want }

func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "true", "yes", "1", "on":
		return true, nil
	case "false", "no", "0", "off":
		return false, nil
	}
	return false, fmt.Errorf("%q is not true or false", v)
}

// parseDate reads an ISO date, an ISO date-time or M/D/YYYY. A date without
// a time covers the whole day: span is its length.
func parseDate(v string) (t time.Time, span time.Duration, err error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, 0, nil
	}
	for _, layout := range []string{"2006-01-02", "1/2/2006"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, 24 * time.Hour, nil
		}
	}
	return time.Time{}, 0, fmt.Errorf("%q is not a date (use 2026-11-20, 2026-11-20T08:00:00Z or 11/20/2026)", v)
}

// dateTerm handles >=, <=, >, <, = and a..b.
func dateTerm[T any](prop *property[T], v string) (node[T], error) {
	in := func(from, to time.Time) node[T] {
		return funcNode[T](func(x T) bool {
			d := prop.date(x)
			return !d.IsZero() && !d.Before(from) && d.Before(to)
		})
	}
	if a, b, ok := strings.Cut(v, ".."); ok {
		from, _, err := parseDate(a)
		if err != nil {
			return nil, err
		}
		to, span, err := parseDate(b)
		if err != nil {
			return nil, err
		}
		if span == 0 {
			span = time.Nanosecond // a date-time end is inclusive
		}
		if to.Add(span).Before(from) {
			return nil, fmt.Errorf("the range %s ends before it starts", v)
		}
		return in(from, to.Add(span)), nil
	}
	op := ""
	for _, o := range []string{">=", "<=", ">", "<", "="} {
		if strings.HasPrefix(v, o) {
			op, v = o, v[len(o):]
			break
		}
	}
	t, span, err := parseDate(v)
	if err != nil {
		return nil, err
	}
	far := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	switch op {
	case ">=":
		return in(t, far), nil
	case ">":
		return in(t.Add(max(span, time.Nanosecond)), far), nil
	case "<=":
		return in(time.Time{}.Add(time.Nanosecond), t.Add(max(span, time.Nanosecond))), nil
	case "<":
		return in(time.Time{}.Add(time.Nanosecond), t), nil
	}
	if span == 0 {
		span = time.Second
	}
	return in(t, t.Add(span)), nil
}

// sizeTerm compares sizes given in bytes or with KB, MB or GB.
func sizeTerm[T any](prop *property[T], v string) (node[T], error) {
	op := ""
	for _, o := range []string{">=", "<=", ">", "<", "="} {
		if strings.HasPrefix(v, o) {
			op, v = o, v[len(o):]
			break
		}
	}
	mult := int64(1)
	upper := strings.ToUpper(v)
	for suffix, m := range map[string]int64{"KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30} {
		if strings.HasSuffix(upper, suffix) {
			v, mult = v[:len(v)-2], m
		}
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || n < 0 {
		return nil, fmt.Errorf("%q is not a size", v)
	}
	limit := int64(n * float64(mult))
	return funcNode[T](func(x T) bool {
		s := prop.size(x)
		switch op {
		case ">=":
			return s >= limit
		case "<=":
			return s <= limit
		case ">":
			return s > limit
		case "<":
			return s < limit
		}
		return s == limit
	}), nil
}
