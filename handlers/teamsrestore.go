package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v5"

	"github.com/openrestore/portal/audit"
	"github.com/openrestore/portal/history"
	"github.com/openrestore/portal/templates"
	"github.com/openrestore/portal/veeamapi"
)

// teamRestoreKinds are what a Teams restore acts on.
var teamRestoreKinds = map[string]string{"channel": "the channel", "tabs": "tabs", "files": "files", "posts": "posts"}

// teamRestore handles POST …/c/:channel/restore/new (the wizard) and POST …/c/:channel/restore.
func (h *Handler) teamRestore(submit bool) echo.HandlerFunc {
	return func(c *echo.Context) error {
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
		kind := form.Get("kind")
		if _, ok := teamRestoreKinds[kind]; !ok {
			return badRequest("The form does not say what to restore.")
		}
		ctx := c.Request().Context()
		v, err := h.teamFrame(c, ref, channel)
		if err != nil {
			return err
		}
		if v.Channel == "" {
			return notFoundOrNotYours(fmt.Errorf("channel %q", channel))
		}
		ae := auditOf(c)
		ae.Subject, ae.SubjectID = v.Name, ref.id
		// What is chosen, with names for the page and the trail.
		var names, tabIDs []string
		var files []veeamapi.TeamsFile
		var posts []veeamapi.TeamsPost
		hidden := []templates.Hidden{{Name: "kind", Value: kind}}
		switch kind {
		case "channel":
			names = []string{v.Channel + " (channel)"}
		case "tabs":
			p, err := ref.data.Tabs(ctx, channel, veeamapi.PageOptions{Limit: 500})
			if err != nil {
				return err
			}
			for _, id := range form["tab"] {
				for _, t := range p.Results {
					if t.ID == id {
						tabIDs, names = append(tabIDs, id), append(names, t.DisplayName)
						hidden = append(hidden, templates.Hidden{Name: "tab", Value: id})
					}
				}
			}
			if len(tabIDs) != len(form["tab"]) {
				return notFoundOrNotYours(errors.New("a tab is not in the restore point"))
			}
		case "files":
			for _, k := range form["file"] {
				id, err := unkey(k)
				if err != nil {
					return badRequest("The form names a file the portal does not know.")
				}
				f, err := ref.data.File(ctx, channel, id)
				if err != nil {
					return err
				}
				if f.IsFolder() {
					return badRequest("Choose files: folders are restored with their channel.")
				}
				files, names = append(files, *f), append(names, f.Name)
				hidden = append(hidden, templates.Hidden{Name: "file", Value: k})
			}
		case "posts":
			for _, raw := range form["post"] {
				id, err := strconv.ParseInt(raw, 10, 64)
				if err != nil || id <= 0 {
					return badRequest("The form names a post the portal does not know.")
				}
				p, err := ref.data.Post(ctx, channel, id)
				if err != nil {
					return err
				}
				name := p.Subject
				if name == "" {
					name = "Reply by " + p.Author
				}
				posts, names = append(posts, *p), append(names, name)
				hidden = append(hidden, templates.Hidden{Name: "post", Value: raw})
			}
		}
		if len(names) == 0 {
			return &Error{Status: http.StatusBadRequest, Title: "Nothing selected", Message: "Tick what to restore first."}
		}
		for i, n := range names {
			id := strconv.Itoa(i)
			switch {
			case i < len(tabIDs):
				id = tabIDs[i]
			case i < len(files):
				id = files[i].ID
			case i < len(posts):
				id = strconv.FormatInt(posts[i].PostID, 10)
			case kind == "channel":
				id = channel
			}
			ae.Items = append(ae.Items, audit.Item{ID: id, Name: n})
		}
		first := form.Get("confirm") == ""
		f := teamRestoreForm{missing: true, changed: true, members: true}
		if !first {
			f = teamRestoreForm{missing: form.Get("missing") == "1", changed: form.Get("changed") == "1", members: form.Get("members") == "1",
				allVersions: form.Get("versions") == "all", reason: strings.TrimSpace(form.Get("reason"))}
		}
		required := h.cfg.RestoreReason == "required" || h.cfg.RestoreReason == "others"
		var problems []string
		if submit && !first {
			if kind != "posts" && !f.missing && !f.changed {
				problems = append(problems, "Choose “missing” or “changed” or both: with neither, nothing would be restored.")
			}
			problems = append(problems, restoreForm{missing: true, reason: f.reason}.problems(required)...)
		}
		ae.Options, ae.Reason = f.options(kind, v.ChannelType), f.reason
		ae.skip = ae.skip || first
		if len(problems) > 0 {
			ae.Outcome, ae.Detail = audit.Refused, strings.Join(problems, " ")
		}
		if !submit || first || len(problems) > 0 {
			wv := templates.TeamRestoreWizardView{Team: v.Name, Channel: v.Channel, BackURL: ref.channelURL(channel), Kind: kind,
				Action: ref.channelURL(channel) + "/restore", Preview: names, CountLabel: countLabel(len(names)), Selection: hidden,
				Missing: f.missing, Changed: f.changed, Members: f.members, AllVersions: f.allVersions,
				MembersOffered: kind == "channel" && v.ChannelType != "Standard", Reason: f.reason, ReasonRequired: required,
				Errors: problems, CSRFToken: h.auth.CSRFToken(ctx)}
			if kind == "channel" {
				wv.CountLabel = "the channel " + v.Channel
			}
			status := http.StatusOK
			if len(problems) > 0 {
				status = http.StatusUnprocessableEntity
			}
			return render(c, status, templates.TeamRestoreWizardPage(h.meta(c, "Restore "+wv.CountLabel), wv))
		}
		// Not cancelled with the browser: a restore is not half-started.
		rctx := context.WithoutCancel(ctx)
		var id string
		switch kind {
		case "channel":
			id, err = ref.data.RestoreChannel(rctx, channel, f.changed, f.missing, f.members && v.ChannelType != "Standard", f.reason)
		case "tabs":
			id, err = ref.data.RestoreTabs(rctx, channel, tabIDs, f.changed, f.missing, f.reason)
		case "files":
			id, err = ref.data.RestoreFiles(rctx, files, f.allVersions, f.changed, f.missing, f.reason)
		case "posts":
			id, err = ref.data.RestorePosts(rctx, channel, posts, f.reason)
		}
		if err != nil {
			return restoreRefused(err)
		}
		ae.Outcome, ae.SessionID = audit.Started, id
		rec := history.Record{ID: id, Workload: "teams",
			Source: v.Name + " › " + v.Channel, SourceID: ref.id, Items: len(names), Target: "Original location",
			Options: f.options(kind, v.ChannelType), Reason: f.reason, ForOthers: true, PointTime: ref.session.PointTime}
		if err := h.recordRestore(c, rec); err != nil {
			return err
		}
		return seeOther(c, "/restores/"+url.PathEscape(id))
	}
}

type teamRestoreForm struct {
	missing, changed, members, allVersions, settings bool
	reason                                           string
}

func (f teamRestoreForm) options(kind, channelType string) string {
	if kind == "posts" {
		return "Deleted posts back in their channel"
	}
	var o []string
	if f.missing {
		o = append(o, "missing")
	}
	if f.changed {
		o = append(o, "changed")
	}
	s := strings.Join(o, " and ")
	if s == "" {
		s = "nothing chosen"
	}
	s = strings.ToUpper(s[:1]) + s[1:] + " " + map[string]string{"channel": "content", "tabs": "tabs", "files": "files"}[kind]
	if kind == "channel" && f.members && channelType != "Standard" {
		s += ", with its members"
	}
	if kind == "files" {
		if f.allVersions {
			s += ", every version"
		} else {
			s += ", the restore point's version"
		}
	}
	return s
}

// wholeTeamRestore handles POST …/teams/:team/restore/new and …/restore: a whole team.
func (h *Handler) wholeTeamRestore(submit bool) echo.HandlerFunc {
	return func(c *echo.Context) error {
		ref, err := h.teamRef(c)
		if err != nil {
			return err
		}
		form, err := postForm(c)
		if err != nil {
			return err
		}
		ctx := c.Request().Context()
		v, err := h.teamFrame(c, ref, "")
		if err != nil {
			return err
		}
		ae := auditOf(c)
		ae.Subject, ae.SubjectID = v.Name, ref.id
		ae.Items = []audit.Item{{ID: ref.id, Name: v.Name + " (team)"}}
		first := form.Get("confirm") == ""
		f := teamRestoreForm{missing: true, changed: true, members: true, settings: true}
		if !first {
			f = teamRestoreForm{missing: form.Get("missing") == "1", changed: form.Get("changed") == "1", members: form.Get("members") == "1",
				settings: form.Get("settings") == "1", reason: strings.TrimSpace(form.Get("reason"))}
		}
		required := h.cfg.RestoreReason == "required" || h.cfg.RestoreReason == "others"
		var problems []string
		if submit && !first {
			if !f.missing && !f.changed && !f.members && !f.settings {
				problems = append(problems, "Choose at least one thing to restore.")
			}
			problems = append(problems, restoreForm{missing: true, reason: f.reason}.problems(required)...)
		}
		ae.Options, ae.Reason = f.teamOptions(), f.reason
		ae.skip = ae.skip || first
		if len(problems) > 0 {
			ae.Outcome, ae.Detail = audit.Refused, strings.Join(problems, " ")
		}
		if !submit || first || len(problems) > 0 {
			var names []string
			for _, ch := range v.Channels {
				names = append(names, ch.Name+" (channel)")
			}
			wv := templates.TeamRestoreWizardView{Team: v.Name, Channel: v.Name, BackURL: ref.base, Kind: "team", Action: ref.base + "/restore",
				Preview: names, CountLabel: "the team " + v.Name, Selection: []templates.Hidden{{Name: "kind", Value: "team"}},
				Missing: f.missing, Changed: f.changed, Members: f.members, Settings: f.settings, MembersOffered: true,
				Reason: f.reason, ReasonRequired: required, Errors: problems, CSRFToken: h.auth.CSRFToken(ctx)}
			status := http.StatusOK
			if len(problems) > 0 {
				status = http.StatusUnprocessableEntity
			}
			return render(c, status, templates.TeamRestoreWizardPage(h.meta(c, "Restore "+wv.CountLabel), wv))
		}
		id, err := h.operator().RestoreTeam(context.WithoutCancel(ctx), ref.session.ID, ref.id, f.changed, f.missing, f.members, f.settings, f.reason)
		if err != nil {
			return restoreRefused(err)
		}
		ae.Outcome, ae.SessionID = audit.Started, id
		rec := history.Record{ID: id, Workload: "teams", Source: v.Name,
			SourceID: ref.id, Items: len(v.Channels), Target: "Original location", Options: f.teamOptions(), Reason: f.reason, ForOthers: true,
			PointTime: ref.session.PointTime}
		if err := h.recordRestore(c, rec); err != nil {
			return err
		}
		return seeOther(c, "/restores/"+url.PathEscape(id))
	}
}

func (f teamRestoreForm) teamOptions() string {
	var o []string
	if f.missing {
		o = append(o, "missing items")
	}
	if f.changed {
		o = append(o, "changed items")
	}
	if f.members {
		o = append(o, "membership and permissions")
	}
	if f.settings {
		o = append(o, "settings")
	}
	if len(o) == 0 {
		return "Nothing chosen"
	}
	s := strings.Join(o, ", ")
	return strings.ToUpper(s[:1]) + s[1:]
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
	tv := templates.TeamTabsView{Team: v, Action: ref.base + "/tabs/restore/new", CSRFToken: h.auth.CSRFToken(c.Request().Context())}
	for _, t := range tabs {
		tv.Tabs = append(tv.Tabs, templates.TabRow{ID: t.tab.ChannelID + "\x00" + t.tab.ID, Name: t.tab.DisplayName, Type: t.tab.Type,
			Target: t.tab.ContentURL, Channel: t.channel})
	}
	for i := range tv.Tabs {
		tv.Tabs[i].ID = key(tv.Tabs[i].ID)
	}
	return render(c, http.StatusOK, templates.TeamTabsPage(h.meta(c, "Tabs · "+v.Name), tv))
}

// teamTabsRestore handles POST …/teams/:team/tabs/restore/new and …/tabs/restore: tabs of several channels.
func (h *Handler) teamTabsRestore(submit bool) echo.HandlerFunc {
	return func(c *echo.Context) error {
		ref, err := h.teamRef(c)
		if err != nil {
			return err
		}
		form, err := postForm(c)
		if err != nil {
			return err
		}
		ctx := c.Request().Context()
		v, err := h.teamFrame(c, ref, "")
		if err != nil {
			return err
		}
		all, err := h.allTabs(ctx, ref, v)
		if err != nil {
			return err
		}
		var chosen []veeamapi.TeamsTab
		var names []string
		hidden := []templates.Hidden{}
		for _, k := range form["tab"] {
			raw, err := unkey(k)
			if err != nil {
				return badRequest("The form names a tab the portal does not know.")
			}
			chID, tabID, _ := strings.Cut(raw, "\x00")
			found := false
			for _, t := range all {
				if t.tab.ChannelID == chID && t.tab.ID == tabID {
					chosen, names, found = append(chosen, t.tab), append(names, t.tab.DisplayName+" ("+t.channel+")"), true
					hidden = append(hidden, templates.Hidden{Name: "tab", Value: k})
				}
			}
			if !found {
				return notFoundOrNotYours(errors.New("a tab is not in the restore point"))
			}
		}
		if len(chosen) == 0 {
			return &Error{Status: http.StatusBadRequest, Title: "Nothing selected", Message: "Tick the tabs to restore first."}
		}
		ae := auditOf(c)
		ae.Subject, ae.SubjectID = v.Name, ref.id
		for i, t := range chosen {
			ae.Items = append(ae.Items, audit.Item{ID: t.ID, Name: names[i]})
		}
		first := form.Get("confirm") == ""
		f := teamRestoreForm{missing: true, changed: true}
		if !first {
			f = teamRestoreForm{missing: form.Get("missing") == "1", changed: form.Get("changed") == "1", reason: strings.TrimSpace(form.Get("reason"))}
		}
		required := h.cfg.RestoreReason == "required" || h.cfg.RestoreReason == "others"
		var problems []string
		if submit && !first {
			if !f.missing && !f.changed {
				problems = append(problems, "Choose “missing” or “changed” or both: with neither, nothing would be restored.")
			}
			problems = append(problems, restoreForm{missing: true, reason: f.reason}.problems(required)...)
		}
		ae.Options, ae.Reason = f.options("tabs", ""), f.reason
		ae.skip = ae.skip || first
		if len(problems) > 0 {
			ae.Outcome, ae.Detail = audit.Refused, strings.Join(problems, " ")
		}
		if !submit || first || len(problems) > 0 {
			wv := templates.TeamRestoreWizardView{Team: v.Name, Channel: "several channels", BackURL: ref.base + "/tabs", Kind: "tabs",
				Action: ref.base + "/tabs/restore", Preview: names, CountLabel: countLabel(len(names)), Selection: hidden,
				Missing: f.missing, Changed: f.changed, Reason: f.reason, ReasonRequired: required, Errors: problems, CSRFToken: h.auth.CSRFToken(ctx)}
			status := http.StatusOK
			if len(problems) > 0 {
				status = http.StatusUnprocessableEntity
			}
			return render(c, status, templates.TeamRestoreWizardPage(h.meta(c, "Restore "+wv.CountLabel), wv))
		}
		id, err := ref.data.RestoreTabsAcross(context.WithoutCancel(ctx), chosen, f.changed, f.missing, f.reason)
		if err != nil {
			return restoreRefused(err)
		}
		ae.Outcome, ae.SessionID = audit.Started, id
		rec := history.Record{ID: id, Workload: "teams", Source: v.Name + " › tabs",
			SourceID: ref.id, Items: len(chosen), Target: "Original location", Options: f.options("tabs", ""), Reason: f.reason, ForOthers: true,
			PointTime: ref.session.PointTime}
		if err := h.recordRestore(c, rec); err != nil {
			return err
		}
		return seeOther(c, "/restores/"+url.PathEscape(id))
	}
}
