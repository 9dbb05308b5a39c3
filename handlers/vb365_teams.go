package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/openrestore/portal/audit"
	"github.com/openrestore/portal/searchquery"
	"github.com/openrestore/portal/templates"
	"github.com/openrestore/portal/veeamapi"
)

// teamRef is a team of a Teams restore session this user opened.
type teamRef struct {
	session openedSession
	id      string
	base    string // /sessions/<sid>/teams/<key>
	data    *veeamapi.TeamData
}

func (h *Handler) teamRef(c *echo.Context) (teamRef, error) {
	sid := c.Param("id")
	entry, ok, err := h.opened(c, sid)
	if err != nil {
		return teamRef{}, err
	}
	team, err := unkey(c.Param("team"))
	if !ok || entry.Workload != "teams" || err != nil || !sessionIDPattern.MatchString(team) {
		h.log.WarnContext(c.Request().Context(), "authz_fail", "resource", "team", "oid", userFrom(c).OID)
		return teamRef{}, notFoundOrNotYours(fmt.Errorf("team %q of session %q is not this user's", c.Param("team"), sid))
	}
	return h.teamRefIn(entry, team), nil
}

// teamRefIn is a team of a restore session the user opened.
func (h *Handler) teamRefIn(session openedSession, team string) teamRef {
	return teamRef{session: session, id: team, base: "/sessions/" + url.PathEscape(session.ID) + "/teams/" + key(team),
		data: h.operator().TeamData(session.ID, team)}
}

func (r teamRef) channelURL(id string) string { return r.base + "/c/" + key(id) }

// teamFrame is the part of every team page that does not change: the team and its channels.
func (h *Handler) teamFrame(c *echo.Context, ref teamRef, current string) (templates.TeamView, error) {
	ctx := c.Request().Context()
	type frame struct {
		team     veeamapi.Team
		channels []veeamapi.TeamsChannel
	}
	f, err := cached(h.browse, browseKey(userFrom(c).OID, mailboxRef{session: ref.session, mailbox: "team:" + ref.id}, "frame"), func() (frame, error) {
		t, err := ref.data.Team(ctx)
		if err != nil {
			return frame{}, err
		}
		var chans []veeamapi.TeamsChannel
		for ch, err := range veeamapi.All(ctx, 200, ref.data.Channels) {
			if err != nil {
				return frame{}, err
			}
			if chans = append(chans, ch); len(chans) >= maxChannels {
				break
			}
		}
		return frame{team: *t, channels: chans}, nil
	})
	if err != nil {
		return templates.TeamView{}, err
	}
	loc := h.zone(c)
	v := templates.TeamView{SessionURL: "/sessions/" + url.PathEscape(ref.session.ID), TeamURL: ref.base, CSRFToken: h.csrfToken(ctx),
		TimeZone: loc.String(), Name: f.team.DisplayName,
		Description: f.team.Description, Address: f.team.GroupEmail, Privacy: f.team.Privacy, Archived: f.team.IsArchived,
		PointLabel: ref.session.PointTime.In(loc).Format("Monday 2 January 2006, 15:04 MST"), PointISO: ref.session.PointTime.UTC().Format(time.RFC3339)}
	for _, ch := range f.channels {
		v.Channels = append(v.Channels, templates.ChannelLink{Name: ch.DisplayName, Type: ch.Type, URL: ref.channelURL(ch.ID),
			Current: ch.ID == current})
		if ch.ID == current {
			v.Channel, v.ChannelKey = ch.DisplayName, key(ch.ID)
			v.ChannelType = ch.Type
		}
	}
	return v, nil
}

// teamPage handles GET /sessions/:id/teams/:team: the team and its channels.
func (h *Handler) teamPage(c *echo.Context) error {
	ref, err := h.teamRef(c)
	if err != nil {
		return err
	}
	v, err := h.teamFrame(c, ref, "")
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, templates.TeamPage(h.meta(c, v.Name), v))
}

// channelPage handles GET …/c/:channel[?view=posts|files|tabs&folder=&offset=]:
// a channel's posts (threads), files (a folder at a time) or tabs.
func (h *Handler) channelPage(c *echo.Context) error {
	ref, err := h.teamRef(c)
	if err != nil {
		return err
	}
	channel, err := h.pathKey(c, "channel")
	if err != nil {
		return err
	}
	v, err := h.teamFrame(c, ref, channel)
	if err != nil {
		return err
	}
	if v.Channel == "" {
		return notFoundOrNotYours(fmt.Errorf("channel %q", channel))
	}
	ctx, loc := c.Request().Context(), h.zone(c)
	here := ref.channelURL(channel)
	v.View = c.QueryParam("view")
	v.PostsURL, v.FilesURL, v.TabsURL = here, here+"?view=files", here+"?view=tabs"
	v.ExportURL, v.RestoreURL, v.ListURL, v.CSRFToken = here+"/export", here+"/restore/new", here+"/restore-list", h.csrfToken(ctx)
	v.Here = c.Request().URL.RequestURI()
	when := func(t time.Time) (string, string) {
		return t.In(loc).Format("Mon 2 Jan 2006, 15:04"), t.UTC().Format(time.RFC3339)
	}
	switch v.View {
	case "", "posts":
		v.View = "posts"
		list := func(ctx2 context.Context, p veeamapi.PageOptions) (*veeamapi.Page[veeamapi.TeamsPost], error) {
			return ref.data.Posts(ctx2, channel, 0, p)
		}
		res, err := fetchPage(c, h.lastPages, list, here, url.Values{})
		if err != nil {
			return err
		}
		for _, p := range res.items {
			v.Posts = append(v.Posts, h.postView(ref, channel, p, when))
		}
		v.Pager = res.pager
	case "files":
		folder := ""
		if k := c.QueryParam("folder"); k != "" {
			if folder, err = unkey(k); err != nil {
				return notFoundOrNotYours(err)
			}
		}
		extra := url.Values{"view": {"files"}}
		if folder != "" {
			extra.Set("folder", key(folder))
			f, err := ref.data.File(ctx, channel, folder)
			if err != nil {
				return err
			}
			v.Folder = f.Name
			v.UpURL = here + "?view=files"
		}
		list := func(ctx2 context.Context, p veeamapi.PageOptions) (*veeamapi.Page[veeamapi.TeamsFile], error) {
			return ref.data.Files(ctx2, channel, folder, p)
		}
		res, err := fetchPage(c, h.lastPages, list, here, extra)
		if err != nil {
			return err
		}
		for _, f := range res.items {
			row := templates.TeamFileRow{Key: key(f.ID), Name: f.Name, Folder: f.IsFolder(), ModifiedBy: f.ModifiedBy}
			row.When, row.WhenISO = when(f.Modified)
			if f.IsFolder() {
				row.URL = here + "?view=files&folder=" + key(f.ID)
			} else {
				row.URL = here + "/f/" + key(f.ID)
				row.Size, row.Version = humanSize(f.SizeBytes), f.UIVersion
			}
			v.Files = append(v.Files, row)
		}
		v.Pager = res.pager
	case "tabs":
		p, err := ref.data.Tabs(ctx, channel, veeamapi.PageOptions{Limit: 200})
		if err != nil {
			return err
		}
		for _, t := range p.Results {
			v.Tabs = append(v.Tabs, templates.TabRow{ID: t.ID, Name: t.DisplayName, Type: t.Type, Target: t.ContentURL})
		}
	default:
		return badRequest("Choose posts, files or tabs.")
	}
	return render(c, http.StatusOK, templates.ChannelPage(h.meta(c, v.Channel+" · "+v.Name), v))
}

func (h *Handler) postView(ref teamRef, channel string, p veeamapi.TeamsPost, when func(time.Time) (string, string)) templates.PostView {
	pv := templates.PostView{ID: strconv.FormatInt(p.PostID, 10), Author: p.Author, Subject: p.Subject, Deleted: p.IsDeleted, Important: p.IsImportant,
		ThreadURL: ref.channelURL(channel) + "/p/" + strconv.FormatInt(p.PostID, 10)}
	pv.When, pv.WhenISO = when(p.CreatedTime)
	for _, a := range p.Attachments {
		pv.Attachments = append(pv.Attachments, a.Name)
	}
	return pv
}

// threadPage handles GET …/c/:channel/p/:post: a post and its replies, in order.
func (h *Handler) threadPage(c *echo.Context) error {
	ref, err := h.teamRef(c)
	if err != nil {
		return err
	}
	channel, err := h.pathKey(c, "channel")
	if err != nil {
		return err
	}
	postID, err := strconv.ParseInt(c.Param("post"), 10, 64)
	if err != nil || postID <= 0 {
		return notFoundOrNotYours(fmt.Errorf("post %q", c.Param("post")))
	}
	v, err := h.teamFrame(c, ref, channel)
	if err != nil {
		return err
	}
	ctx, loc := c.Request().Context(), h.zone(c)
	when := func(t time.Time) (string, string) {
		return t.In(loc).Format("Mon 2 Jan 2006, 15:04"), t.UTC().Format(time.RFC3339)
	}
	parent, err := ref.data.Post(ctx, channel, postID)
	if err != nil {
		return err
	}
	tv := templates.ThreadView{Team: v, Parent: h.postView(ref, channel, *parent, when), BackURL: ref.channelURL(channel),
		ExportURL: ref.channelURL(channel) + "/p/" + strconv.FormatInt(postID, 10) + "/export", CSRFToken: h.csrfToken(ctx)}
	for r, err := range veeamapi.All(ctx, 500, ref.data.Replies(channel, postID)) {
		if err != nil {
			return err
		}
		if tv.Replies = append(tv.Replies, h.postView(ref, channel, r, when)); len(tv.Replies) >= maxReplies {
			break
		}
	}
	title := parent.Subject
	if title == "" {
		title = "Post by " + parent.Author
	}
	return render(c, http.StatusOK, templates.ThreadPage(h.meta(c, title+" · "+v.Channel), tv))
}

// teamFilePage handles GET …/c/:channel/f/:file: a file and its versions.
func (h *Handler) teamFilePage(c *echo.Context) error {
	ref, err := h.teamRef(c)
	if err != nil {
		return err
	}
	channel, err := h.pathKey(c, "channel")
	if err != nil {
		return err
	}
	fileID, err := h.pathKey(c, "file")
	if err != nil {
		return err
	}
	v, err := h.teamFrame(c, ref, channel)
	if err != nil {
		return err
	}
	ctx, loc := c.Request().Context(), h.zone(c)
	f, err := ref.data.File(ctx, channel, fileID)
	if err != nil {
		return err
	}
	versions, err := ref.data.FileVersions(ctx, channel, fileID, veeamapi.PageOptions{Limit: 200})
	if err != nil {
		return err
	}
	fv := templates.TeamFileView{Team: v, Key: key(fileID), RestoreURL: ref.channelURL(channel) + "/restore/new", CSRFToken: h.csrfToken(ctx), Name: f.Name, Size: humanSize(f.SizeBytes), Version: f.UIVersion, ModifiedBy: f.ModifiedBy,
		Modified: f.Modified.In(loc).Format("Monday 2 January 2006, 15:04 MST"), BackURL: ref.channelURL(channel) + "?view=files"}
	for _, x := range versions.Results {
		fv.Versions = append(fv.Versions, templates.DocVersionRow{Label: "Version " + x.UIVersion, Size: humanSize(x.SizeBytes),
			ModifiedBy: x.ModifiedBy, When: x.Modified.In(loc).Format("Mon 2 Jan 2006, 15:04"), WhenISO: x.Modified.UTC().Format(time.RFC3339)})
	}
	return render(c, http.StatusOK, templates.TeamFilePage(h.meta(c, f.Name+" · "+v.Channel), fv))
}

// maxExportPosts caps one export.
const maxExportPosts = 1000

// maxChannels and maxReplies are the most channels of a team and replies
// of a post the portal lists.
const (
	maxChannels = 2000
	maxReplies  = 5000
)

// exportThread handles POST …/c/:channel/p/:post/export: a conversation as HTML.
func (h *Handler) exportThread(c *echo.Context) error {
	ref, err := h.teamRef(c)
	if err != nil {
		return err
	}
	channel, err := h.pathKey(c, "channel")
	if err != nil {
		return err
	}
	postID, err := strconv.ParseInt(c.Param("post"), 10, 64)
	if err != nil || postID <= 0 {
		return notFoundOrNotYours(fmt.Errorf("post %q", c.Param("post")))
	}
	ctx := c.Request().Context()
	parent, err := ref.data.Post(ctx, channel, postID)
	if err != nil {
		return err
	}
	posts := []veeamapi.TeamsPost{*parent}
	for r, err := range veeamapi.All(ctx, 500, ref.data.Replies(channel, postID)) {
		if err != nil {
			return err
		}
		if posts = append(posts, r); len(posts) >= maxExportPosts {
			break
		}
	}
	title := parent.Subject
	if title == "" {
		title = "Conversation"
	}
	return h.exportHTML(c, ref, channel, posts, title)
}

// exportPosts handles POST …/c/:channel/export (post=…): the ticked posts as HTML.
func (h *Handler) exportPosts(c *echo.Context) error {
	ref, err := h.teamRef(c)
	if err != nil {
		return err
	}
	channel, err := h.pathKey(c, "channel")
	if err != nil {
		return err
	}
	form, err := postForm(c)
	if err != nil {
		return err
	}
	ids := form["post"]
	if len(ids) == 0 {
		return &Error{Status: http.StatusBadRequest, Title: "Nothing selected", Message: "Tick the posts to export first."}
	}
	if len(ids) > maxExportPosts {
		return badRequest(fmt.Sprintf("Export at most %s posts at once.", thousands(maxExportPosts)))
	}
	ctx := c.Request().Context()
	var posts []veeamapi.TeamsPost
	for _, raw := range ids {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id <= 0 {
			return badRequest("The form names a post the portal does not know.")
		}
		p, err := ref.data.Post(ctx, channel, id)
		if err != nil {
			return err
		}
		posts = append(posts, *p)
	}
	v, err := h.teamFrame(c, ref, channel)
	if err != nil {
		return err
	}
	return h.exportHTML(c, ref, channel, posts, v.Channel+" - "+countLabel(len(posts)))
}

// exportHTML has VB365 prepare the export, spends a one-time code on it —
// server-side: the code never reaches the browser — and streams the HTML.
func (h *Handler) exportHTML(c *echo.Context, ref teamRef, channel string, posts []veeamapi.TeamsPost, title string) error {
	ctx := c.Request().Context()
	ae := auditOf(c)
	ae.SubjectID = ref.id
	if v, err := h.teamFrame(c, ref, channel); err == nil {
		ae.Subject = v.Name
		ae.Options = "posts of " + v.Channel + " as HTML"
	}
	for _, p := range posts {
		name := p.Subject
		if name == "" {
			name = "reply by " + p.Author
		}
		ae.Items = append(ae.Items, audit.Item{ID: strconv.FormatInt(p.PostID, 10), Name: name})
	}
	task, err := ref.data.StartPostsExport(ctx, posts)
	if err != nil {
		return err
	}
	code, err := h.operator().AuthCode(ctx)
	if err != nil {
		return err
	}
	d, err := ref.data.DownloadPostsExport(ctx, task, code)
	if err != nil {
		return downloadError(err)
	}
	return h.stream(c, d, fileName(title, "html"), "html", len(posts))
}

// teamSearchPage handles GET …/teams/:team/search: posts, files or tabs of
// the team or of one channel (in=), found with VB365's search, paged.
func (h *Handler) teamSearchPage(c *echo.Context) error {
	ref, err := h.teamRef(c)
	if err != nil {
		return err
	}
	q := c.QueryParam
	channel := ""
	if k := q("in"); k != "" {
		if channel, err = unkey(k); err != nil {
			return badRequest("The search names a channel the portal does not know.")
		}
	}
	v, err := h.teamFrame(c, ref, channel)
	if err != nil {
		return err
	}
	if channel != "" && v.Channel == "" {
		return notFoundOrNotYours(fmt.Errorf("channel %q", channel))
	}
	loc := h.zone(c)
	sv := templates.TeamSearchView{Team: v, Action: ref.base + "/search", In: q("in"), Kind: q("type"), Text: q("q"), Author: q("author"),
		After: q("after"), Before: q("before"), Advanced: q("advanced"), TimeZone: loc.String()}
	if sv.Kind == "" {
		sv.Kind = "Posts"
	}
	status := http.StatusOK
	build := func() (string, error) {
		if sv.Kind != "Posts" && sv.Kind != "Files" && sv.Kind != "Tabs" {
			return "", badRequest("Choose posts, files or tabs.")
		}
		from, err := day(sv.After, loc, 0)
		if err != nil {
			return "", err
		}
		before, err := day(sv.Before, loc, 1)
		if err != nil {
			return "", err
		}
		query, err := searchquery.Teams{Kind: sv.Kind, Text: sv.Text, Author: sv.Author, From: from, Before: before, Advanced: sv.Advanced}.Build()
		if errors.Is(err, searchquery.ErrEmpty) {
			return "", badRequest("Type words to look for, or fill in a filter.")
		}
		if err != nil {
			return "", badRequest(strings.TrimPrefix(err.Error(), "searchquery: ") + ".")
		}
		return query, nil
	}
	query, err := build()
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			return err
		}
		sv.Error, status = e.Message, e.Status
		return render(c, status, templates.TeamSearchPage(h.meta(c, "Search · "+v.Name), sv))
	}
	list := func(ctx context.Context, p veeamapi.PageOptions) (*veeamapi.Page[veeamapi.TeamsEntity], error) {
		return ref.data.Search(ctx, channel, sv.Kind, query, p)
	}
	params := url.Values{}
	for _, k := range []string{"in", "type", "q", "author", "after", "before", "advanced"} {
		if x := q(k); x != "" {
			params.Set(k, x)
		}
	}
	res, err := fetchPage(c, h.lastPages, list, ref.base+"/search", params)
	if errors.Is(err, veeamapi.ErrBadRequest) {
		sv.Error = "The backup server did not accept this search. Check the advanced query: quotes and parentheses must be closed, and property names spelled as in the VB365 search syntax."
		return render(c, http.StatusBadRequest, templates.TeamSearchPage(h.meta(c, "Search · "+v.Name), sv))
	}
	if err != nil {
		return err
	}
	names := map[string]string{}
	for _, ch := range v.Channels {
		names[ch.URL] = ch.Name
	}
	when := func(t time.Time) (string, string) {
		return t.In(loc).Format("Mon 2 Jan 2006, 15:04"), t.UTC().Format(time.RFC3339)
	}
	for _, e := range res.items {
		chURL := ref.channelURL(e.ChannelID)
		r := templates.TeamHit{Channel: names[chURL], ChannelURL: chURL}
		switch sv.Kind {
		case "Posts":
			r.Title, r.By = e.Subject, e.Author
			if r.Title == "" {
				r.Title = "Reply by " + e.Author
			}
			r.When, r.WhenISO = when(e.CreatedTime)
			thread := e.PostID
			if e.ParentID != nil && *e.ParentID > 0 {
				thread = *e.ParentID
			}
			r.URL = chURL + "/p/" + strconv.FormatInt(thread, 10)
			r.Deleted = e.IsDeleted
		case "Files":
			r.Title, r.By, r.Detail = e.Name, e.ModifiedBy, humanSize(e.SizeBytes)
			r.When, r.WhenISO = when(e.Modified)
			r.URL = chURL + "/f/" + key(e.ID)
		case "Tabs":
			r.Title, r.Detail, r.URL = e.DisplayName, e.Type, chURL+"?view=tabs"
		}
		sv.Hits = append(sv.Hits, r)
	}
	sv.Pager, sv.Searched = res.pager, true
	return render(c, http.StatusOK, templates.TeamSearchPage(h.meta(c, "Search · "+v.Name), sv))
}
