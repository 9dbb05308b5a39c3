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

// query is a parsed search.
type query struct{ root node }

type node interface {
	eval(it *mailItem, f *itemFields) bool
}

type andNode struct{ l, r node }
type orNode struct{ l, r node }
type notNode struct{ n node }

func (n andNode) eval(it *mailItem, f *itemFields) bool { return n.l.eval(it, f) && n.r.eval(it, f) }
func (n orNode) eval(it *mailItem, f *itemFields) bool  { return n.l.eval(it, f) || n.r.eval(it, f) }
func (n notNode) eval(it *mailItem, f *itemFields) bool { return !n.n.eval(it, f) }

func (q *query) match(it *mailItem, f *itemFields) bool { return q.root.eval(it, f) }

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
type parser struct {
	toks []token
	pos  int
}

func (p *parser) peek() *token {
	if p.pos < len(p.toks) {
		return &p.toks[p.pos]
	}
	return nil
}

func (p *parser) isKeyword(t *token, kw string) bool {
	return t != nil && t.kind == tWord && !t.quoted && t.text == kw
}

func parseQuery(s string) (*query, error) {
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
	p := &parser{toks: toks}
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
	return &query{root: n}, nil
}

func (p *parser) or() (node, error) {
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
		l = orNode{l, r}
	}
	return l, nil
}

func (p *parser) and() (node, error) {
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
		l = andNode{l, r}
	}
}

func (p *parser) unary() (node, error) {
	t := p.peek()
	if p.isKeyword(t, "NOT") {
		p.pos++
		n, err := p.unary()
		if err != nil {
			return nil, err
		}
		return notNode{n}, nil
	}
	return p.primary()
}

func (p *parser) primary() (node, error) {
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
func (p *parser) term(t *token) (node, error) {
	name, value, hasColon := strings.Cut(t.text, ":")
	if t.phrase || !hasColon || !propName.MatchString(name) {
		return textTerm(nil, t.text, t.quoted)
	}
	prop, ok := properties[strings.ToLower(name)]
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
		return boolTerm{prop, b}, nil
	case propSize:
		return sizeTerm(prop, value)
	}
	return textTerm(prop, value, quoted)
}

type propKind int

const (
	propText propKind = iota
	propDate
	propBool
	propSize
)

// property is a searchable property of items.
type property struct {
	kind propKind
	text func(it *mailItem, f *itemFields) []string
	date func(it *mailItem, f *itemFields) time.Time
	flag func(it *mailItem, f *itemFields) bool
	size func(it *mailItem, f *itemFields) int64
}

func texts(fn func(it *mailItem, f *itemFields) []string) *property {
	return &property{kind: propText, text: fn}
}
func dates(fn func(it *mailItem, f *itemFields) time.Time) *property {
	return &property{kind: propDate, date: fn}
}

func attachmentNames(f *itemFields) []string {
	var out []string
	for _, a := range f.Attachments {
		out = append(out, a.Name)
	}
	return out
}

// properties are the Exchange item properties, by shortcut and canonical name.
var properties = func() map[string]*property {
	subject := texts(func(_ *mailItem, f *itemFields) []string { return []string{f.Subject} })
	body := texts(func(_ *mailItem, f *itemFields) []string { return []string{f.Subject, f.Body} })
	from := texts(func(_ *mailItem, f *itemFields) []string { return []string{f.From, f.Organizer} })
	to := texts(func(_ *mailItem, f *itemFields) []string { return []string{f.To, f.Attendees} })
	cc := texts(func(_ *mailItem, f *itemFields) []string { return []string{f.Cc} })
	bcc := texts(func(_ *mailItem, f *itemFields) []string { return nil })
	attachments := texts(func(_ *mailItem, f *itemFields) []string { return attachmentNames(f) })
	received := dates(func(it *mailItem, _ *itemFields) time.Time { return it.created })
	sent := dates(func(it *mailItem, _ *itemFields) time.Time { return it.sent })
	modified := dates(func(it *mailItem, f *itemFields) time.Time { return it.versions[len(it.versions)-1].since })
	start := dates(func(_ *mailItem, f *itemFields) time.Time { return f.Start })
	has := &property{kind: propBool, flag: func(_ *mailItem, f *itemFields) bool { return len(f.Attachments) > 0 }}
	recurring := &property{kind: propBool, flag: func(_ *mailItem, f *itemFields) bool { return f.Recurring }}
	size := &property{kind: propSize, size: func(it *mailItem, f *itemFields) int64 { return itemSizeFields(f) }}
	field := func(get func(f *itemFields) string) *property {
		return texts(func(_ *mailItem, f *itemFields) []string { return []string{get(f)} })
	}
	m := map[string]*property{
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
		"enddate":        dates(func(_ *mailItem, f *itemFields) time.Time { return f.End }),
		"due":            dates(func(_ *mailItem, f *itemFields) time.Time { return f.Due }),
		"duedate":        dates(func(_ *mailItem, f *itemFields) time.Time { return f.Due }),
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
		"system.message.messageclass": texts(func(it *mailItem, _ *itemFields) []string { return []string{it.kind.class()} }),
	}
	return m
}()

// textTerm matches a property's text (or, with prop nil, the item's text):
// a plain value is contained, case-insensitively; with * or ? the pattern
// matches the whole text or one of its words.
func textTerm(prop *property, value string, quoted bool) (node, error) {
	if strings.TrimSpace(value) == "" {
		return nil, errors.New("a term has an empty value")
	}
	get := func(it *mailItem, f *itemFields) []string {
		if prop != nil {
			return prop.text(it, f)
		}
		return append([]string{f.Subject, f.Body, f.From, f.To, f.Cc, f.Location, f.FullName, f.Company}, attachmentNames(f)...)
	}
	if !quoted && strings.ContainsAny(value, "*?") {
		q := regexp.QuoteMeta(strings.ToLower(value))
		q = strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(q)
		re := regexp.MustCompile("^" + q + "$")
		return funcNode(func(it *mailItem, f *itemFields) bool {
			for _, s := range get(it, f) {
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
	return funcNode(func(it *mailItem, f *itemFields) bool {
		for _, s := range get(it, f) {
			if strings.Contains(strings.ToLower(s), needle) {
				return true
			}
		}
		return false
	}), nil
}

type funcNode func(it *mailItem, f *itemFields) bool

func (n funcNode) eval(it *mailItem, f *itemFields) bool { return n(it, f) }

type boolTerm struct {
	prop *property
	want bool
}

func (n boolTerm) eval(it *mailItem, f *itemFields) bool { return n.prop.flag(it, f) == n.want }

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
func dateTerm(prop *property, v string) (node, error) {
	in := func(from, to time.Time) node {
		return funcNode(func(it *mailItem, f *itemFields) bool {
			d := prop.date(it, f)
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
func sizeTerm(prop *property, v string) (node, error) {
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
	return funcNode(func(it *mailItem, f *itemFields) bool {
		s := prop.size(it, f)
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
