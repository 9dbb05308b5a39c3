package fakeveeam

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// authCode is a one-time code of POST /v8/token/AuthCode: it is bound to the
// operator who asked for it, valid for AuthCodeLifetime, and used once.
type authCode struct {
	oid     string
	expires time.Time
	used    bool
}

// exportTask is an export of posts prepared for an operator.
type exportTask struct {
	id, owner, session, team string
	channel                  *teamChannel
	posts                    []*teamPost
	teamName                 string
}

// newAuthCode is POST /v8/token/AuthCode.
func (s *Server) newAuthCode(w http.ResponseWriter, r *http.Request, c *caller) {
	code := randomToken()
	s.mu.Lock()
	s.authCodes[code] = &authCode{oid: c.oid, expires: s.opts.Now().Add(s.opts.AuthCodeLifetime)}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"authCode": code})
}

// useAuthCode spends a code: it must be the caller's, unused and unexpired.
func (s *Server) useAuthCode(code, oid string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.authCodes[code]
	if !ok || a.used || a.oid != oid || !s.opts.Now().Before(a.expires) {
		return false
	}
	a.used = true
	return true
}

// AuthCodesIssued counts the one-time codes handed out, for tests.
func (s *Server) AuthCodesIssued() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for code := range s.authCodes {
		out = append(out, code)
	}
	return out
}

func (s *Server) exportRoutes(m *http.ServeMux) {
	tm := "/v8/RestoreSessions/{restoreSessionId}/organization/teams/{teamId}"
	handle := func(pattern string, h func(http.ResponseWriter, *http.Request, *teamScope)) {
		m.HandleFunc(pattern, s.authed(s.inTeam(h)))
	}
	handle("POST "+tm+"/posts/operatorStartExportTask", s.startExport)
	handle("GET "+tm+"/posts/operatorExport/{requestExportId}", s.downloadExport)
}

// startExport is POST …/posts/operatorStartExportTask: the posts (all of one channel).
func (s *Server) startExport(w http.ResponseWriter, r *http.Request, ts *teamScope) {
	c := ts.c
	var body struct {
		Posts []struct {
			PostID    int64  `json:"postId"`
			ChannelID string `json:"channelId"`
		} `json:"posts"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || len(body.Posts) == 0 {
		badRequest(w, "Specify the posts to export.")
		return
	}
	channelID := body.Posts[0].ChannelID
	ch, ok := ts.channel(channelID)
	if !ok {
		notFound(w, fmt.Sprintf("The channel with ID %s was not found.", channelID))
		return
	}
	visible := ts.visiblePosts(ch)
	var posts []*teamPost
	for _, p := range body.Posts {
		if p.ChannelID != channelID {
			badRequest(w, "The posts to export must reside in the same channel.")
			return
		}
		i := slices.IndexFunc(visible, func(x *teamPost) bool { return x.id == p.PostID })
		if i < 0 {
			notFound(w, fmt.Sprintf("The post with ID %d was not found.", p.PostID))
			return
		}
		if !slices.Contains(posts, visible[i]) {
			posts = append(posts, visible[i])
		}
	}
	slices.SortFunc(posts, func(a, b *teamPost) int { return a.created.Compare(b.created) })
	task := &exportTask{id: newID(), owner: c.oid, session: ts.rs.id, team: ts.td.team.ID, channel: ch, posts: posts,
		teamName: ts.td.team.DisplayName}
	s.mu.Lock()
	s.exports[task.id] = task
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"exportTaskId": task.id})
}

// downloadExport is GET …/posts/operatorExport/{id}?authCode=: the HTML, once per code.
func (s *Server) downloadExport(w http.ResponseWriter, r *http.Request, ts *teamScope) {
	c := ts.c
	s.mu.Lock()
	task, ok := s.exports[r.PathValue("requestExportId")]
	s.mu.Unlock()
	if !ok || task.owner != c.oid || task.session != ts.rs.id || task.team != ts.td.team.ID {
		notFound(w, "The export task with the specified ID was not found.")
		return
	}
	if !s.useAuthCode(r.URL.Query().Get("authCode"), c.oid) {
		forbidden(w, "The authorization code is not valid: it is unknown, expired, already used or not yours.")
		return
	}
	var b strings.Builder
	e := html.EscapeString
	fmt.Fprintf(&b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>%s - %s</title></head><body>\n",
		e(task.teamName), e(task.channel.name))
	fmt.Fprintf(&b, "<h1>%s</h1>\n<h2>%s</h2>\n", e(task.teamName), e(task.channel.name))
	for _, p := range task.posts {
		fmt.Fprintf(&b, "<article class=\"post\" data-post-id=\"%d\">\n<p class=\"author\">%s</p>\n<time datetime=\"%s\">%s</time>\n",
			p.id, e(p.author), p.created.UTC().Format(time.RFC3339), p.created.UTC().Format("2 Jan 2006 15:04 UTC"))
		if p.subject != "" {
			fmt.Fprintf(&b, "<h3>%s</h3>\n", e(p.subject))
		}
		fmt.Fprintf(&b, "<p>%s</p>\n", e(p.body))
		for _, a := range p.attachments {
			fmt.Fprintf(&b, "<p class=\"attachment\">%s</p>\n", e(a))
		}
		b.WriteString("</article>\n")
	}
	b.WriteString("</body></html>\n")
	doc := b.String()
	s.streamDownload(w, "html", len(task.posts), int64(len(doc)), func(out io.Writer) error {
		_, err := io.WriteString(out, doc)
		return err
	})
}
