package handlers

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v5"

	"github.com/openrestore/portal/audit"
	"github.com/openrestore/portal/store"
	"github.com/openrestore/portal/templates"
	"github.com/openrestore/portal/vmaccess"
)

// The rules of who may restore which Azure VM, for the portal's
// administrators: every change is audited with the rule as it was made,
// and a preview shows which VMs a rule matches before it is saved. Rules
// from the deployment's rules file are shown, not changed, here.

// rulesTenant is the tenant the rules are kept under: the portal serves
// one Entra tenant, and its rules are the deployment's.
const rulesTenant = ""

// rulesPreviewShown caps the VM names a rule's preview lists.
const rulesPreviewShown = 12

// vmRulesPage handles GET /admin/azure/rules: the rules, what each matches
// now, and the form to add one.
func (h *Handler) vmRulesPage(c *echo.Context) error {
	return h.renderRules(c, h.ruleForm(c, vmaccess.Rule{Kind: vmaccess.Group}, ""), http.StatusOK)
}

func (h *Handler) renderRules(c *echo.Context, form templates.VMRuleForm, status int) error {
	ctx := c.Request().Context()
	rules, err := h.store.VMRules(ctx, rulesTenant)
	if err != nil {
		return err
	}
	vmaccess.Sort(rules)
	v := templates.VMRulesView{Form: form, CSRFToken: h.csrfToken(ctx)}
	if h.cfg.VMRulesFile != "" {
		v.FileNote = "Rules marked “from the rules file” come from " + h.cfg.VMRulesFile + ", read when the portal starts: change them there."
	}
	if _, err := h.takeSessionValue(c, azureVMFlash, &v.Flash); err != nil {
		return err
	}
	inv, err := h.inventory(ctx)
	if err != nil {
		h.log.WarnContext(ctx, "azure_inventory_failed", "error", err)
		v.Error = classify(azureVMError(err)).Title + ": the VMs each rule matches are not shown."
		inv = &vmInventory{subs: map[string]string{}}
	}
	loc := h.zone(c)
	for _, r := range rules {
		row := templates.VMRuleRow{Who: r.Label, Kind: ruleKindLabel(r.Kind), Principal: r.Principal, Where: ruleWhere(r, inv),
			Names: cmpOr(r.Names, "any"), FromFile: r.Source == vmaccess.FromFile,
			EditURL: "/admin/azure/rules/" + url.PathEscape(r.ID), RemoveURL: "/admin/azure/rules/" + url.PathEscape(r.ID) + "/remove"}
		if !r.Updated.IsZero() {
			row.Updated = r.Updated.In(loc).Format("2 Jan 2006, 15:04")
			if r.UpdatedBy != "" {
				row.Updated += " by " + r.UpdatedBy
			}
		}
		row.Matches, row.MoreMatches = matching(r, inv)
		v.Rules = append(v.Rules, row)
	}
	m := h.meta(c, "Who may restore which Azure VM")
	m.Nav = "azure-vms"
	return render(c, status, templates.VMRulesPage(m, v))
}

func cmpOr(s, otherwise string) string {
	if s == "" {
		return otherwise
	}
	return s
}

func ruleKindLabel(kind string) string {
	if kind == vmaccess.Role {
		return "app role"
	}
	return "group"
}

// ruleWhere says which subscription and resource group a rule covers.
func ruleWhere(r vmaccess.Rule, inv *vmInventory) string {
	sub := "every subscription"
	if r.Subscription != "" {
		sub = "subscription " + inv.subscription(r.Subscription)
	}
	if r.ResourceGroup == "" {
		return sub + ", every resource group"
	}
	return sub + ", resource group " + r.ResourceGroup
}

// matching are the names of the VMs the rule matches now, the first few.
func matching(r vmaccess.Rule, inv *vmInventory) ([]string, int) {
	var names []string
	for _, v := range inv.vms {
		if r.Matches(v.rulesVM()) {
			names = append(names, v.Name)
		}
	}
	if len(names) > rulesPreviewShown {
		return names[:rulesPreviewShown], len(names) - rulesPreviewShown
	}
	return names, 0
}

// ruleForm lays out the form for a rule, as typed.
func (h *Handler) ruleForm(c *echo.Context, r vmaccess.Rule, id string) templates.VMRuleForm {
	ctx := c.Request().Context()
	f := templates.VMRuleForm{Heading: "Add a rule", Action: "/admin/azure/rules", Submit: "Add the rule", Kind: r.Kind,
		Principal: r.Principal, Label: r.Label, Subscription: r.Subscription, ResourceGroup: r.ResourceGroup, Names: r.Names,
		Errors: map[string]string{}, CSRFToken: h.csrfToken(ctx)}
	if id != "" {
		f.Heading, f.Action, f.Submit, f.CancelURL = "Change the rule for "+r.Label, "/admin/azure/rules/"+url.PathEscape(id), "Save the rule", "/admin/azure/rules"
	}
	f.Subscriptions = []templates.Option{{Value: "", Label: "Every subscription"}}
	known := false
	if inv, err := h.inventory(ctx); err == nil {
		for _, id := range slices.Sorted(maps.Keys(inv.subs)) {
			f.Subscriptions = append(f.Subscriptions, templates.Option{Value: id, Label: inv.subs[id]})
			known = known || strings.EqualFold(id, r.Subscription)
		}
		slices.SortStableFunc(f.Subscriptions[1:], func(a, b templates.Option) int { return strings.Compare(a.Label, b.Label) })
	}
	if r.Subscription != "" && !known {
		f.Subscriptions = append(f.Subscriptions, templates.Option{Value: r.Subscription, Label: r.Subscription + " (not known to VBAzure now)"})
	}
	return f
}

// ruleFromForm reads a rule as typed.
func ruleFromForm(form url.Values) vmaccess.Rule {
	return vmaccess.Rule{Kind: form.Get("kind"), Principal: form.Get("principal"), Label: form.Get("label"),
		Subscription: form.Get("subscription"), ResourceGroup: form.Get("resource_group"), Names: form.Get("names")}.Normalize()
}

// saveRule handles POST /admin/azure/rules (id "") and /admin/azure/rules/:id:
// a preview of the VMs the rule matches, or the rule saved, with its event.
func (h *Handler) saveRule(c *echo.Context, id string, existing *vmaccess.Rule) error {
	form, err := postForm(c)
	if err != nil {
		return err
	}
	r := ruleFromForm(form)
	f := h.ruleForm(c, r, id)
	problems := r.Problems()
	if len(problems) == 0 && form.Get("preview") == "1" {
		f.Previewed = true
		if inv, err := h.inventory(c.Request().Context()); err == nil {
			f.Preview, f.MorePreview = matching(r, inv)
		} else {
			return azureVMError(err)
		}
		return h.renderRuleForm(c, f, id, http.StatusOK)
	}
	if len(problems) > 0 {
		f.Errors = problems
		for _, k := range slices.Sorted(maps.Keys(problems)) {
			f.Problems = append(f.Problems, templates.Problem{Field: ruleFieldID(k), Text: problems[k]})
		}
		return h.renderRuleForm(c, f, id, http.StatusUnprocessableEntity)
	}
	u := userFrom(c)
	action, flash := "rule-add", "The rule for "+r.Label+" is added."
	r.ID = newID()
	if existing != nil {
		action, flash, r.ID = "rule-change", "The rule for "+r.Label+" is saved.", existing.ID
	}
	r.Source, r.Updated, r.UpdatedBy = vmaccess.FromPortal, h.cfg.Now().UTC(), u.Name
	ev := h.ruleEvent(c, action, r)
	if existing != nil {
		ev.Detail = "was: " + describeRule(*existing)
	}
	if err := h.store.PutVMRule(c.Request().Context(), rulesTenant, r, ev); err != nil {
		return err
	}
	h.log.InfoContext(c.Request().Context(), "vm_rule_saved", "rule", r.ID, "action", action, "oid", u.OID)
	if err := h.setSessionValue(c, azureVMFlash, flash); err != nil {
		return err
	}
	return seeOther(c, "/admin/azure/rules")
}

// ruleFieldID is the form's id of a rule's field.
func ruleFieldID(field string) string {
	if field == "resourceGroup" {
		return "resource-group"
	}
	return field
}

// renderRuleForm shows the form where it was: on its own page when
// changing a rule, under the list when adding one.
func (h *Handler) renderRuleForm(c *echo.Context, f templates.VMRuleForm, id string, status int) error {
	if id == "" {
		return h.renderRules(c, f, status)
	}
	m := h.meta(c, f.Heading)
	m.Nav = "azure-vms"
	return render(c, status, templates.VMRulePage(m, f))
}

// describeRule is a rule in one line, for the trail.
func describeRule(r vmaccess.Rule) string {
	return fmt.Sprintf("%s %s (%s): subscription %s, resource group %s, names %s", ruleKindLabel(r.Kind), r.Principal, r.Label,
		cmpOr(r.Subscription, "any"), cmpOr(r.ResourceGroup, "any"), cmpOr(r.Names, "any"))
}

// ruleEvent is the trail's event of a change of a rule.
func (h *Handler) ruleEvent(c *echo.Context, action string, r vmaccess.Rule) audit.Event {
	u := userFrom(c)
	return audit.Event{Time: h.cfg.Now().UTC(), TenantID: u.TenantID, ActorOID: u.OID, ActorUPN: u.UPN, ActorName: u.Name,
		Subject: r.Label, SubjectID: r.ID, Workload: azureWorkload, Action: action, Options: describeRule(r), Outcome: audit.Succeeded}
}

// addRule handles POST /admin/azure/rules.
func (h *Handler) addRule(c *echo.Context) error { return h.saveRule(c, "", nil) }

// portalRule is the rule of the path, one the portal may change.
func (h *Handler) portalRule(c *echo.Context) (vmaccess.Rule, error) {
	id := c.Param("id")
	rules, err := h.store.VMRules(c.Request().Context(), rulesTenant)
	if err != nil {
		return vmaccess.Rule{}, err
	}
	i := slices.IndexFunc(rules, func(r vmaccess.Rule) bool { return r.ID == id })
	if i < 0 {
		return vmaccess.Rule{}, &Error{Status: http.StatusNotFound, Title: "That rule is gone", BackURL: "/admin/azure/rules",
			Message: "Another administrator may have removed it."}
	}
	if rules[i].Source == vmaccess.FromFile {
		return vmaccess.Rule{}, &Error{Status: http.StatusConflict, Title: "This rule comes from the rules file", BackURL: "/admin/azure/rules",
			Message: "Change it in " + cmpOr(h.cfg.VMRulesFile, "the deployment's rules file") + "; the portal reads it when it starts."}
	}
	return rules[i], nil
}

// vmRulePage handles GET /admin/azure/rules/:id: the rule's form.
func (h *Handler) vmRulePage(c *echo.Context) error {
	r, err := h.portalRule(c)
	if err != nil {
		return err
	}
	return h.renderRuleForm(c, h.ruleForm(c, r, r.ID), r.ID, http.StatusOK)
}

// changeRule handles POST /admin/azure/rules/:id.
func (h *Handler) changeRule(c *echo.Context) error {
	r, err := h.portalRule(c)
	if err != nil {
		return err
	}
	return h.saveRule(c, r.ID, &r)
}

// removeRule handles POST /admin/azure/rules/:id/remove.
func (h *Handler) removeRule(c *echo.Context) error {
	r, err := h.portalRule(c)
	if err != nil {
		return err
	}
	err = h.store.DeleteVMRule(c.Request().Context(), rulesTenant, r.ID, h.ruleEvent(c, "rule-remove", r))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err := h.setSessionValue(c, azureVMFlash, "The rule for "+r.Label+" is removed: its people no longer see the VMs only it gave them."); err != nil {
		return err
	}
	return seeOther(c, "/admin/azure/rules")
}

// SeedVMRules makes the rules from the deployment's file the store's, and
// audits a change: the portal calls it at start.
func (h *Handler) SeedVMRules(ctx context.Context, tenantID string, rules []vmaccess.Rule) (bool, error) {
	var lines []string
	for _, r := range rules {
		lines = append(lines, r.ID+": "+describeRule(r))
	}
	ev := audit.Event{Time: h.cfg.Now().UTC(), TenantID: tenantID, ActorOID: "portal", ActorName: "The restore portal",
		Subject: cmpOr(h.cfg.VMRulesFile, "rules file"), Workload: azureWorkload, Action: "rules-file", Outcome: audit.Succeeded,
		Options: strings.Join(lines, "; "), ItemCount: len(rules)}
	return h.store.ReplaceFileRules(ctx, tenantID, rules, ev)
}

// SeedDemoRules gives the demo its rules once, as rules administrators may
// change: it reports whether it added them (the store had none).
func (h *Handler) SeedDemoRules(ctx context.Context, tenantID string, rules []vmaccess.Rule) (bool, error) {
	held, err := h.store.VMRules(ctx, tenantID)
	if err != nil || len(held) > 0 {
		return false, err
	}
	for _, r := range rules {
		r.Source, r.Updated, r.UpdatedBy = vmaccess.FromPortal, h.cfg.Now().UTC(), "the demo"
		ev := audit.Event{Time: h.cfg.Now().UTC(), TenantID: tenantID, ActorOID: "portal", ActorName: "The restore portal (demo)",
			Subject: r.Label, SubjectID: r.ID, Workload: azureWorkload, Action: "rule-add", Options: describeRule(r), Outcome: audit.Succeeded}
		if err := h.store.PutVMRule(ctx, tenantID, r, ev); err != nil {
			return false, err
		}
	}
	return true, nil
}
