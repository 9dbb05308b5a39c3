// Package vmaccess decides who may restore files of which Azure VM.
// Veeam Backup for Microsoft Azure has no per-person scope: the portal
// restores with one service account, so the portal's rules are the only
// thing between a person and a VM. A rule gives the members of an Entra
// group, or the holders of an app role, the VMs of a subscription (or of
// every one), of a resource group (or every one), whose names match a
// pattern. A person may restore a VM when any rule of theirs matches it.
//
// It is pure: no I/O; the store keeps the rules, the handlers apply them.
package vmaccess

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/openrestore/portal/internal/glob"
)

// Principal kinds.
const (
	Group = "group" // an Entra group's object id
	Role  = "role"  // an app role's value
)

// Where a rule comes from.
const (
	FromPortal = "portal" // an administrator made it on the rules page
	FromFile   = "file"   // the deployment's rules file; changed there only
)

// Rule gives people the restore of the VMs it matches.
type Rule struct {
	ID string `json:"id"`
	// Kind and Principal name who: an Entra group (object id) or an app
	// role (value). Label is how pages name them ("Finance").
	Kind      string `json:"kind"`
	Principal string `json:"principal"`
	Label     string `json:"label"`
	// Subscription is a subscription id, "" for every one.
	Subscription string `json:"subscription,omitempty"`
	// ResourceGroup is a resource group's name, "" for every one. Azure
	// compares these names without regard to case, and so does the rule.
	ResourceGroup string `json:"resourceGroup,omitempty"`
	// Names is a pattern of VM names: * any run of characters, ? one; ""
	// for every VM. Case does not matter.
	Names  string `json:"names,omitempty"`
	Source string `json:"-"`
	// Updated and UpdatedBy tell who last changed it, and when.
	Updated   time.Time `json:"-"`
	UpdatedBy string    `json:"-"`
}

// VM is what a rule matches on.
type VM struct {
	ID             string
	Name           string
	SubscriptionID string
	ResourceGroup  string
}

// Matches reports whether the rule covers the VM.
func (r Rule) Matches(vm VM) bool {
	return (r.Subscription == "" || strings.EqualFold(r.Subscription, vm.SubscriptionID)) &&
		(r.ResourceGroup == "" || strings.EqualFold(r.ResourceGroup, vm.ResourceGroup)) &&
		(r.Names == "" || glob.Match(strings.ToLower(r.Names), strings.ToLower(vm.Name)))
}

// For reports whether the rule is for someone with these app roles and groups.
func (r Rule) For(roles, groups []string) bool {
	have := groups
	if r.Kind == Role {
		have = roles
	}
	return slices.ContainsFunc(have, func(h string) bool { return strings.EqualFold(h, r.Principal) })
}

// Person is whom rules are applied to.
type Person struct {
	Roles  []string
	Groups []string
}

// Of keeps the rules that are for the person.
func (p Person) Of(rules []Rule) []Rule {
	var out []Rule
	for _, r := range rules {
		if r.For(p.Roles, p.Groups) {
			out = append(out, r)
		}
	}
	return out
}

// Allowed reports whether any of the rules matches the VM.
func Allowed(rules []Rule, vm VM) bool {
	return slices.ContainsFunc(rules, func(r Rule) bool { return r.Matches(vm) })
}

var (
	guidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	// Azure's resource group names: letters, digits, underscores,
	// hyphens, periods and parentheses, not ending in a period, 1 to 90.
	groupPattern = regexp.MustCompile(`^[\p{L}\p{N}_\-.()]{1,90}$`)
	// Azure's VM names are letters, digits, hyphens (and periods,
	// underscores on Linux); a pattern adds * and ?.
	namesPattern = regexp.MustCompile(`^[A-Za-z0-9_.*?-]{1,80}$`)
	// App role values have no spaces.
	rolePattern = regexp.MustCompile(`^[!-~]{1,120}$`)
)

// MaxLabel is the longest label.
const MaxLabel = 80

// Problems says what is wrong with a rule, by field: kind, principal,
// label, subscription, resourceGroup, names. None: an empty map.
func (r Rule) Problems() map[string]string {
	p := map[string]string{}
	switch r.Kind {
	case Group:
		if !guidPattern.MatchString(r.Principal) {
			p["principal"] = "Give the group's object id, as Entra shows it: 8-4-4-4-12 hexadecimal digits."
		}
	case Role:
		if !rolePattern.MatchString(r.Principal) {
			p["principal"] = "Give the app role's value, as the application's manifest has it: no spaces, at most 120 characters."
		}
	default:
		p["kind"] = "Choose whether the rule is for a group or an app role."
	}
	switch n := utf8.RuneCountInString(strings.TrimSpace(r.Label)); {
	case n == 0:
		p["label"] = "Name whom the rule is for, as people know them (for example Finance)."
	case n > MaxLabel:
		p["label"] = fmt.Sprintf("The name is %d characters long; use %d at most.", n, MaxLabel)
	case strings.ContainsFunc(r.Label, func(c rune) bool { return c < 0x20 || c == 0x7f }):
		p["label"] = "The name cannot contain control characters."
	}
	if r.Subscription != "" && !guidPattern.MatchString(r.Subscription) {
		p["subscription"] = "Choose a subscription from the list, or every subscription."
	}
	if r.ResourceGroup != "" && (!groupPattern.MatchString(r.ResourceGroup) || strings.HasSuffix(r.ResourceGroup, ".")) {
		p["resourceGroup"] = "A resource group's name has 1 to 90 letters, digits, underscores, hyphens, periods and parentheses, and does not end with a period."
	}
	if r.Names != "" && !namesPattern.MatchString(r.Names) {
		p["names"] = "Use letters, digits, hyphens, underscores and periods, with * for any characters and ? for one (for example fin-*)."
	}
	return p
}

// Normalize trims what people type around the values.
func (r Rule) Normalize() Rule {
	r.Principal, r.Label = strings.TrimSpace(r.Principal), strings.TrimSpace(r.Label)
	r.Subscription, r.ResourceGroup = strings.ToLower(strings.TrimSpace(r.Subscription)), strings.TrimSpace(r.ResourceGroup)
	r.Names = strings.TrimSpace(r.Names)
	if r.Names == "*" {
		r.Names = ""
	}
	if r.Kind == Group {
		r.Principal = strings.ToLower(r.Principal)
	}
	return r
}

// Same reports whether two rules say the same thing (who and what).
func (r Rule) Same(o Rule) bool {
	a, b := r.Normalize(), o.Normalize()
	return a.Kind == b.Kind && strings.EqualFold(a.Principal, b.Principal) && a.Label == b.Label && a.Subscription == b.Subscription &&
		strings.EqualFold(a.ResourceGroup, b.ResourceGroup) && strings.EqualFold(a.Names, b.Names)
}

// Sort orders rules for pages: by whom, then by what.
func Sort(rules []Rule) {
	slices.SortStableFunc(rules, func(a, b Rule) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.Label), strings.ToLower(b.Label)), cmp.Compare(a.Subscription, b.Subscription),
			cmp.Compare(strings.ToLower(a.ResourceGroup), strings.ToLower(b.ResourceGroup)), cmp.Compare(a.Names, b.Names))
	})
}

// File is the rules file a deployment seeds the rules from:
//
//	{"rules": [{"id": "finance-servers", "kind": "group", "principal": "<object id>",
//	  "label": "Finance", "subscription": "<id>", "resourceGroup": "rg-finance", "names": "fin-*"}]}
type File struct {
	Rules []Rule `json:"rules"`
}

// idPattern is a rule id in a file: stable, so that a rule keeps its
// history when the file changes around it.
var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// ParseFile reads a rules file and reports every problem at once.
func ParseFile(b []byte) ([]Rule, error) {
	var f File
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("the rules file is not the expected JSON: %w", err)
	}
	var problems []string
	seen := map[string]bool{}
	out := make([]Rule, 0, len(f.Rules))
	for i, r := range f.Rules {
		r = r.Normalize()
		r.Source = FromFile
		where := fmt.Sprintf("rule %d", i+1)
		if r.ID != "" {
			where += " (" + r.ID + ")"
		}
		switch {
		case !idPattern.MatchString(r.ID):
			problems = append(problems, where+": id: use 1 to 63 lower-case letters, digits and hyphens")
		case seen[r.ID]:
			problems = append(problems, where+": id: another rule has it")
		}
		seen[r.ID] = true
		fields := r.Problems()
		for _, k := range slices.Sorted(maps.Keys(fields)) {
			problems = append(problems, where+": "+k+": "+fields[k])
		}
		out = append(out, r)
	}
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "; "))
	}
	return out, nil
}
