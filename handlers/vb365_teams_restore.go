package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v5"

	"github.com/openrestore/portal/audit"
	"github.com/openrestore/portal/templates"
	"github.com/openrestore/portal/veeamapi"
)

// teamKind is the restore of Teams data: a whole team, a channel's content,
// its tabs, files or posts, or tabs of several channels; and the restore
// list's Teams files.
type teamKind struct {
	h       *Handler
	ref     teamRef
	channel string // "" for the whole team, or tabs of several channels
	across  bool   // tabs of several channels
}

// teamKinds are what a channel's wizard restores.
var teamKinds = map[string]bool{"channel": true, "tabs": true, "files": true, "posts": true}

func (h *Handler) wholeTeamKind(c *echo.Context) (restoreKind, error) {
	ref, err := h.teamRef(c)
	return teamKind{h: h, ref: ref}, err
}

func (h *Handler) teamTabsKind(c *echo.Context) (restoreKind, error) {
	ref, err := h.teamRef(c)
	return teamKind{h: h, ref: ref, across: true}, err
}

func (h *Handler) channelKind(c *echo.Context) (restoreKind, error) {
	ref, err := h.teamRef(c)
	if err != nil {
		return nil, err
	}
	channel, err := h.pathKey(c, "channel")
	return teamKind{h: h, ref: ref, channel: channel}, err
}

func (k teamKind) workload() string { return "teams" }
func (k teamKind) subject() string  { return k.ref.id }

func (k teamKind) base() string {
	switch {
	case k.across:
		return k.ref.base + "/tabs"
	case k.channel != "":
		return k.ref.channelURL(k.channel)
	}
	return k.ref.base
}

func (k teamKind) choose(form url.Values) (url.Values, error) {
	switch {
	case k.across:
		return chooseKeys(form, "tab", "Tick the tabs to restore first.")
	case k.channel == "":
		return url.Values{"kind": {"team"}}, nil
	}
	kind := form.Get("kind")
	if !teamKinds[kind] {
		return nil, badRequest("The form does not say what to restore.")
	}
	out := url.Values{"kind": {kind}}
	switch kind {
	case "tabs":
		if len(form["tab"]) == 0 {
			return nil, nothingSelected("Tick the tabs to restore first.")
		}
		out["tab"] = form["tab"]
	case "files":
		keys, err := chooseKeys(form, "file", "Tick the files to restore first.")
		if err != nil {
			return nil, err
		}
		out["file"] = keys["file"]
	case "posts":
		if len(form["post"]) == 0 {
			return nil, nothingSelected("Tick the posts to restore first.")
		}
		for _, raw := range form["post"] {
			if id, err := strconv.ParseInt(raw, 10, 64); err != nil || id <= 0 {
				return nil, badRequest("The form names a post the portal does not know.")
			}
		}
		out["post"] = form["post"]
	}
	return out, nil
}

// chooseKeys reads ticked keys of one field.
func chooseKeys(form url.Values, field, nothing string) (url.Values, error) {
	keys := form[field]
	if len(keys) == 0 {
		return nil, nothingSelected(nothing)
	}
	if len(keys) > maxRestoreItems {
		return nil, badRequest(fmt.Sprintf("Choose at most %s at once.", countLabel(maxRestoreItems)))
	}
	for _, k := range keys {
		if _, err := unkey(k); err != nil {
			return nil, badRequest("The form names something the portal does not know.")
		}
	}
	return url.Values{field: keys}, nil
}

// nothingSelected is a form that ticked nothing.
func nothingSelected(message string) *Error {
	return &Error{Status: http.StatusBadRequest, Title: "Nothing selected", Message: message}
}

// teamChoice is what a Teams wizard acts on.
type teamChoice struct {
	kind    string // team, channel, tabs, files, posts
	names   []string
	items   []audit.Item
	tabs    []veeamapi.TeamsTab
	tabIDs  []string
	files   []veeamapi.TeamsFile
	posts   []veeamapi.TeamsPost
	private bool   // a private or shared channel, whose members can be restored
	channel string // the channel's name
}

func (k teamKind) prepare(c *echo.Context, chosen url.Values) (*wizard, error) {
	ctx := c.Request().Context()
	v, err := k.h.teamFrame(c, k.ref, k.channel)
	if err != nil {
		return nil, err
	}
	if k.channel != "" && v.Channel == "" {
		return nil, notFoundOrNotYours(fmt.Errorf("channel %q", k.channel))
	}
	ch, err := k.resolve(ctx, c, v, chosen)
	if err != nil {
		return nil, err
	}
	if len(ch.names) == 0 {
		return nil, nothingSelected("Tick what to restore first.")
	}
	w := &wizard{subject: v.Name, subjectID: k.ref.id, backLabel: v.Name, items: ch.items, count: len(ch.items),
		forOthers: true, pointTime: k.ref.session.PointTime} // a team's data is shared
	w.preview, w.more = previewOf(ch.names)
	switch ch.kind {
	case "team":
		w.heading, w.intro, w.count = "Restore the team "+v.Name, "The team "+v.Name+", back where it was, with its channels:", len(v.Channels)
		w.preview, w.more = ch.names, 0
	case "channel":
		w.heading, w.intro = "Restore the channel "+v.Channel, "From "+v.Name+", back where it was:"
		w.backLabel = v.Channel
	default:
		w.heading = "Restore " + countLabel(len(ch.names))
		w.intro, w.backLabel = "From "+v.Name+", channel "+v.Channel+", back where they were:", v.Channel
		if k.across {
			w.intro, w.backLabel = "From "+v.Name+", several channels, back where they were:", "the tabs of "+v.Name
		}
	}
	w.options = func(form url.Values, first bool) restoreOptions {
		o := teamOptions{k: k, choice: ch, missing: true, changed: true, members: true, settings: true}
		if !first {
			o = teamOptions{k: k, choice: ch, missing: form.Get("missing") == "1", changed: form.Get("changed") == "1",
				members: form.Get("members") == "1", settings: form.Get("settings") == "1", allVersions: form.Get("versions") == "all"}
		}
		return o
	}
	return w, nil
}

// resolve reads what was chosen from the backup server.
func (k teamKind) resolve(ctx context.Context, c *echo.Context, v templates.TeamView, chosen url.Values) (teamChoice, error) {
	ch := teamChoice{kind: chosen.Get("kind"), private: v.ChannelType != "" && v.ChannelType != "Standard", channel: v.Channel}
	if k.across {
		ch.channel = "tabs"
	}
	add := func(id, name string) {
		ch.names, ch.items = append(ch.names, name), append(ch.items, audit.Item{ID: id, Name: name})
	}
	switch {
	case k.across:
		ch.kind = "tabs"
		all, err := k.h.allTabs(ctx, k.ref, v)
		if err != nil {
			return ch, err
		}
		for _, key := range chosen["tab"] {
			raw, err := unkey(key)
			if err != nil {
				return ch, badRequest("The form names a tab the portal does not know.")
			}
			chID, tabID, _ := strings.Cut(raw, "\x00")
			found := false
			for _, t := range all {
				if t.tab.ChannelID == chID && t.tab.ID == tabID {
					ch.tabs, found = append(ch.tabs, t.tab), true
					add(t.tab.ID, t.tab.DisplayName+" ("+t.channel+")")
				}
			}
			if !found {
				return ch, notFoundOrNotYours(errors.New("a tab is not in the restore point"))
			}
		}
	case ch.kind == "team":
		for _, c := range v.Channels {
			ch.names = append(ch.names, c.Name+" (channel)")
		}
		ch.items = []audit.Item{{ID: k.ref.id, Name: v.Name + " (team)"}}
	case ch.kind == "channel":
		add(k.channel, v.Channel+" (channel)")
	case ch.kind == "tabs":
		p, err := k.ref.data.Tabs(ctx, k.channel, veeamapi.PageOptions{Limit: 500})
		if err != nil {
			return ch, err
		}
		for _, id := range chosen["tab"] {
			found := false
			for _, t := range p.Results {
				if t.ID == id {
					ch.tabIDs, found = append(ch.tabIDs, id), true
					add(id, t.DisplayName)
				}
			}
			if !found {
				return ch, notFoundOrNotYours(errors.New("a tab is not in the restore point"))
			}
		}
	case ch.kind == "files":
		for _, key := range chosen["file"] {
			id, err := unkey(key)
			if err != nil {
				return ch, badRequest("The form names a file the portal does not know.")
			}
			channel := k.channel
			if channel == "" { // files of the restore list: from any channel of the team
				channel, id, _ = strings.Cut(id, "\x00")
			}
			f, err := k.ref.data.File(ctx, channel, id)
			if err != nil {
				return ch, err
			}
			if f.IsFolder() {
				return ch, badRequest("Choose files: folders are restored with their channel.")
			}
			ch.files = append(ch.files, *f)
			add(f.ID, f.Name)
		}
	case ch.kind == "posts":
		for _, raw := range chosen["post"] {
			id, err := strconv.ParseInt(raw, 10, 64)
			if err != nil || id <= 0 {
				return ch, badRequest("The form names a post the portal does not know.")
			}
			p, err := k.ref.data.Post(ctx, k.channel, id)
			if err != nil {
				return ch, err
			}
			name := p.Subject
			if name == "" {
				name = "Reply by " + p.Author
			}
			ch.posts = append(ch.posts, *p)
			add(raw, name)
		}
	default:
		return ch, badRequest("The form does not say what to restore.")
	}
	return ch, nil
}

// teamOptions is a Teams wizard's choices.
type teamOptions struct {
	k                                                teamKind
	choice                                           teamChoice
	missing, changed, members, settings, allVersions bool
}

func (o teamOptions) problems() map[string]string {
	p := map[string]string{}
	switch o.choice.kind {
	case "posts":
	case "team":
		if !o.missing && !o.changed && !o.members && !o.settings {
			p["which"] = "Choose at least one thing to restore."
		}
	default:
		if !o.missing && !o.changed {
			p["which"] = "Choose “missing” or “changed” or both: with neither, nothing would be restored."
		}
	}
	return p
}

func (o teamOptions) describe() (target, options string) {
	target = "Original location"
	kind := o.choice.kind
	var opts []string
	switch kind {
	case "posts":
		return target, "Deleted posts back in their channel"
	case "team":
		opts = appendIf(opts, o.missing, "missing items")
		opts = appendIf(opts, o.changed, "changed items")
		opts = appendIf(opts, o.members, "membership and permissions")
		opts = appendIf(opts, o.settings, "settings")
		return target, sentence(opts)
	}
	opts = appendIf(opts, o.missing, "missing")
	opts = appendIf(opts, o.changed, "changed")
	s := strings.Join(opts, " and ")
	if s == "" {
		s = "nothing chosen"
	}
	s = strings.ToUpper(s[:1]) + s[1:] + " " + map[string]string{"channel": "content", "tabs": "tabs", "files": "files"}[kind]
	if kind == "channel" && o.members && o.choice.private {
		s += ", with its members"
	}
	if kind == "files" {
		if o.allVersions {
			s += ", every version"
		} else {
			s += ", the restore point's version"
		}
	}
	return target, s
}

func (o teamOptions) fields(problems map[string]string) templ.Component {
	return templates.TeamRestoreOptions(templates.TeamOptionsView{Kind: o.choice.kind, Missing: o.missing, Changed: o.changed,
		Members: o.members, Settings: o.settings, AllVersions: o.allVersions, Errors: problems,
		MembersOffered: o.choice.kind == "channel" && o.choice.private})
}

func (o teamOptions) plans(w *wizard, reason string) []restorePlan {
	ref, ch, channel := o.k.ref, o.choice, o.k.channel
	target, options := o.describe()
	var start func(ctx context.Context) (string, error)
	source := w.subject
	switch {
	case ch.kind == "team":
		opts := veeamapi.TeamRestoreOptions{Changed: o.changed, Missing: o.missing, Members: o.members, Settings: o.settings, Reason: reason}
		start = func(ctx context.Context) (string, error) { return ref.data.Restore(ctx, opts) }
	case o.k.across:
		source = sourceIn(source, "tabs")
		opts := veeamapi.TabsRestoreOptions{Tabs: ch.tabs, Changed: o.changed, Missing: o.missing, Reason: reason}
		start = func(ctx context.Context) (string, error) { return ref.data.RestoreTabsAcross(ctx, opts) }
	case ch.kind == "channel":
		source = sourceIn(source, ch.channel)
		opts := veeamapi.ChannelRestoreOptions{Changed: o.changed, Missing: o.missing, Members: o.members && ch.private, Reason: reason}
		start = func(ctx context.Context) (string, error) { return ref.data.RestoreChannel(ctx, channel, opts) }
	case ch.kind == "tabs":
		source = sourceIn(source, ch.channel)
		opts := veeamapi.TabsRestoreOptions{TabIDs: ch.tabIDs, Changed: o.changed, Missing: o.missing, Reason: reason}
		start = func(ctx context.Context) (string, error) { return ref.data.RestoreTabs(ctx, channel, opts) }
	case ch.kind == "files":
		source = sourceIn(source, ch.channel)
		opts := veeamapi.FilesRestoreOptions{Files: ch.files, AllVersions: o.allVersions, Changed: o.changed, Missing: o.missing, Reason: reason}
		start = func(ctx context.Context) (string, error) { return ref.data.RestoreFiles(ctx, opts) }
	case ch.kind == "posts":
		source = sourceIn(source, ch.channel)
		opts := veeamapi.PostsRestoreOptions{Posts: ch.posts, Reason: reason}
		start = func(ctx context.Context) (string, error) { return ref.data.RestorePosts(ctx, channel, opts) }
	}
	p := w.plan("teams", target, options, reason, len(ch.items), ch.items, start)
	if ch.kind == "team" {
		p.record.ItemCount = len(ch.names)
	}
	p.record.Source = source
	return []restorePlan{p}
}

// teamTab is a tab with its channel, on the team's tabs page.
type teamTab struct {
	channel string
	tab     veeamapi.TeamsTab
}

// allTabs lists the tabs of every channel of the team.
func (h *Handler) allTabs(ctx context.Context, ref teamRef, v templates.TeamView) ([]teamTab, error) {
	var out []teamTab
	for _, ch := range v.Channels {
		id, err := unkey(ch.URL[strings.LastIndex(ch.URL, "/")+1:])
		if err != nil {
			return nil, err
		}
		p, err := ref.data.Tabs(ctx, id, veeamapi.PageOptions{Limit: 500})
		if err != nil {
			return nil, err
		}
		for _, t := range p.Results {
			out = append(out, teamTab{channel: ch.Name, tab: t})
		}
	}
	return out, nil
}

// teamTabsPage handles GET …/teams/:team/tabs: every channel's tabs, to restore several at once.
func (h *Handler) teamTabsPage(c *echo.Context) error {
	ref, err := h.teamRef(c)
	if err != nil {
		return err
	}
	v, err := h.teamFrame(c, ref, "")
	if err != nil {
		return err
	}
	tabs, err := h.allTabs(c.Request().Context(), ref, v)
	if err != nil {
		return err
	}
	tv := templates.TeamTabsView{Team: v, Action: ref.base + "/tabs/restore/new", CSRFToken: h.csrfToken(c.Request().Context())}
	for _, t := range tabs {
		tv.Tabs = append(tv.Tabs, templates.TabRow{ID: t.tab.ChannelID + "\x00" + t.tab.ID, Name: t.tab.DisplayName, Type: t.tab.Type,
			Target: t.tab.ContentURL, Channel: t.channel})
	}
	for i := range tv.Tabs {
		tv.Tabs[i].ID = key(tv.Tabs[i].ID)
	}
	return render(c, http.StatusOK, templates.TeamTabsPage(h.meta(c, "Tabs · "+v.Name), tv))
}

// sourceIn names where in a team a restore's data is: "Sales › General".
func sourceIn(team, channel string) string {
	if channel == "" {
		return team
	}
	return team + " › " + channel
}
