package fakeveeam

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"
)

// Teams search (search-parameters.md, "Search Parameters for Posts, Files
// and Tabs"): a language for each kind, searched over a team or a channel.

type teamsPostHit struct {
	ch *teamChannel
	p  *teamPost
}

type teamsFileHit struct {
	ch *teamChannel
	f  *teamFile
	n  int
}

type teamsTabHit struct {
	ch *teamChannel
	t  *teamTab
}

var teamsPostLanguage = &language[teamsPostHit]{props: func() map[string]*property[teamsPostHit] {
	props := map[string]*property[teamsPostHit]{}
	set := func(p *property[teamsPostHit], names ...string) {
		for _, n := range names {
			props[n] = p
		}
	}
	set(texts(func(h teamsPostHit) []string { return h.p.attachments }), "system.message.attachmentnames")
	set(texts(func(h teamsPostHit) []string { return h.p.attachments }), "system.message.attachmentcontents", "attachment")
	set(texts(func(h teamsPostHit) []string { return []string{h.p.author} }), "system.author", "author")
	set(dates(func(h teamsPostHit) time.Time { return h.p.created }), "system.datecreated", "datecreated", "created")
	set(dates(func(h teamsPostHit) time.Time { return h.p.created }), "system.datemodified", "datemodified", "modified")
	set(&property[teamsPostHit]{kind: propBool, flag: func(h teamsPostHit) bool { return len(h.p.attachments) > 0 }},
		"system.message.hasattachments", "hasattachment")
	set(&property[teamsPostHit]{kind: propBool, flag: func(h teamsPostHit) bool { return h.p.important }}, "system.importance")
	set(texts(func(h teamsPostHit) []string { return []string{h.p.subject, h.p.body} }), "system.search.contents", "body", "contents", "content")
	set(texts(func(h teamsPostHit) []string { return []string{h.p.subject} }), "system.subject", "subject")
	return props
}(), text: func(h teamsPostHit) []string { return []string{h.p.subject, h.p.body, h.p.author} }}

var teamsFileLanguage = &language[teamsFileHit]{props: func() map[string]*property[teamsFileHit] {
	props := map[string]*property[teamsFileHit]{}
	set := func(p *property[teamsFileHit], names ...string) {
		for _, n := range names {
			props[n] = p
		}
	}
	set(texts(func(h teamsFileHit) []string { return []string{h.f.versions[0].by} }), "system.author", "author")
	set(dates(func(h teamsFileHit) time.Time { return h.f.versions[0].at }), "system.datecreated", "datecreated", "created")
	set(dates(func(h teamsFileHit) time.Time { return h.f.versions[h.n-1].at }), "system.datemodified", "datemodified", "modified")
	set(texts(func(h teamsFileHit) []string { return []string{h.f.versions[h.n-1].by} }), "system.document.lastauthor")
	set(texts(func(h teamsFileHit) []string { return []string{fmt.Sprintf("%d.0", h.n)} }), "system.document.version")
	set(texts(func(h teamsFileHit) []string {
		e := strings.TrimPrefix(path.Ext(h.f.name), ".")
		return []string{e, "." + e}
	}), "system.fileextension", "ext")
	set(texts(func(h teamsFileHit) []string { return []string{h.f.name} }), "system.filename", "filename")
	set(&property[teamsFileHit]{kind: propSize, size: func(h teamsFileHit) int64 { return h.f.versions[h.n-1].size }}, "system.size", "size")
	return props
}(), text: func(h teamsFileHit) []string { return []string{h.f.name, h.f.versions[h.n-1].by} }}

var teamsTabLanguage = &language[teamsTabHit]{props: map[string]*property[teamsTabHit]{
	"system.itemnamedisplay": texts(func(h teamsTabHit) []string { return []string{h.t.name} }),
	"name":                   texts(func(h teamsTabHit) []string { return []string{h.t.name} }),
}, text: func(h teamsTabHit) []string { return []string{h.t.name, h.t.typ} }}

// teamsSearch is POST …/teams/{teamId}/search and …/channels/{channelId}/search.
func (s *Server) teamsSearch(w http.ResponseWriter, r *http.Request, ts *teamScope, only *teamChannel) {
	offset, limit, ok := pageParams(w, r)
	if !ok {
		return
	}
	var body struct {
		Type  string `json:"type"`
		Query string `json:"query"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		badRequest(w, "The request body is not a valid RESTTeamsSearchOptions object.")
		return
	}
	chans := []*teamChannel{only}
	if only == nil {
		chans = nil
		for _, ch := range ts.td.channels {
			if existedAt(ch.created, ch.deleted, ts.at) {
				chans = append(chans, ch)
			}
		}
	}
	var out []any
	fail := func(err error) { badRequest(w, "The search query is not valid: "+err.Error()) }
	switch body.Type {
	case "Posts":
		q, err := teamsPostLanguage.parse(body.Query)
		if err != nil {
			fail(err)
			return
		}
		var hits []teamsPostHit
		for _, ch := range chans {
			for _, p := range ts.visiblePosts(ch) {
				if h := (teamsPostHit{ch, p}); q.match(h) {
					hits = append(hits, h)
				}
			}
		}
		slices.SortFunc(hits, func(a, b teamsPostHit) int { return b.p.created.Compare(a.p.created) })
		for _, h := range hits {
			out = append(out, ts.postView(h.ch, h.p))
		}
	case "Files":
		q, err := teamsFileLanguage.parse(body.Query)
		if err != nil {
			fail(err)
			return
		}
		for _, ch := range chans {
			for _, f := range ts.visibleFiles(ch) {
				if h := (teamsFileHit{ch, f, f.versionAt(ts.at)}); !f.folder && q.match(h) {
					out = append(out, ts.fileView(ch, f, h.n))
				}
			}
		}
	case "Tabs":
		q, err := teamsTabLanguage.parse(body.Query)
		if err != nil {
			fail(err)
			return
		}
		for _, ch := range chans {
			for _, t := range ts.visibleTabs(ch) {
				if q.match(teamsTabHit{ch, t}) {
					out = append(out, ts.tabView(ch, t))
				}
			}
		}
	default:
		badRequest(w, "type must be Posts, Files or Tabs.")
		return
	}
	writeJSON(w, http.StatusOK, paginate(r, out, offset, limit))
}
