package vmaccess

import (
	"strings"
	"testing"
)

const (
	prod    = "3b1f6c2a-9d4e-4f5a-8b7c-1d2e3f4a5b6c"
	dev     = "7c8d9e0f-1a2b-4c3d-9e4f-5a6b7c8d9e0f"
	finance = "0f1e2d3c-4b5a-4968-8776-655443322110"
)

func TestMatches(t *testing.T) {
	t.Parallel()
	fin := VM{Name: "FIN-FS-01", SubscriptionID: prod, ResourceGroup: "rg-finance"}
	web := VM{Name: "web-01", SubscriptionID: prod, ResourceGroup: "RG-Web"}
	build := VM{Name: "dev-build-01", SubscriptionID: dev, ResourceGroup: "rg-dev"}
	for _, tc := range []struct {
		name string
		rule Rule
		want []bool // fin, web, build
	}{
		{"everything", Rule{}, []bool{true, true, true}},
		{"a subscription", Rule{Subscription: prod}, []bool{true, true, false}},
		{"a subscription, in capitals", Rule{Subscription: strings.ToUpper(prod)}, []bool{true, true, false}},
		{"a resource group, any case", Rule{ResourceGroup: "rg-web"}, []bool{false, true, false}},
		{"a pattern, any case", Rule{Names: "fin-*"}, []bool{true, false, false}},
		{"one character", Rule{Names: "web-0?"}, []bool{false, true, false}},
		{"a pattern in the middle", Rule{Names: "*-build-*"}, []bool{false, false, true}},
		{"all three", Rule{Subscription: prod, ResourceGroup: "rg-finance", Names: "fin-*"}, []bool{true, false, false}},
		{"a group of another subscription", Rule{Subscription: dev, ResourceGroup: "rg-finance"}, []bool{false, false, false}},
		{"an exact name", Rule{Names: "web-01"}, []bool{false, true, false}},
		{"not a prefix", Rule{Names: "web"}, []bool{false, false, false}},
	} {
		for i, vm := range []VM{fin, web, build} {
			if got := tc.rule.Matches(vm); got != tc.want[i] {
				t.Errorf("%s: %s: %v, want %v", tc.name, vm.Name, got, tc.want[i])
			}
		}
	}
}

func TestFor(t *testing.T) {
	t.Parallel()
	rules := []Rule{
		{ID: "a", Kind: Group, Principal: finance, Names: "fin-*"},
		{ID: "b", Kind: Role, Principal: "Portal.Admin"},
	}
	for _, tc := range []struct {
		name string
		p    Person
		want string
	}{
		{"a member of the group", Person{Groups: []string{"x", strings.ToUpper(finance)}}, "a"},
		{"the role", Person{Roles: []string{"portal.admin"}}, "b"},
		{"both", Person{Roles: []string{"Portal.Admin"}, Groups: []string{finance}}, "ab"},
		{"the role's value as a group", Person{Groups: []string{"Portal.Admin"}}, ""},
		{"the group's id as a role", Person{Roles: []string{finance}}, ""},
		{"nobody", Person{}, ""},
	} {
		got := ""
		for _, r := range tc.p.Of(rules) {
			got += r.ID
		}
		if got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
	if Allowed(nil, VM{Name: "x"}) {
		t.Error("no rules allow")
	}
}

func TestProblems(t *testing.T) {
	t.Parallel()
	good := Rule{Kind: Group, Principal: finance, Label: "Finance", Subscription: prod, ResourceGroup: "rg-finance", Names: "fin-*"}
	if p := good.Problems(); len(p) != 0 {
		t.Fatalf("a good rule: %v", p)
	}
	for _, tc := range []struct {
		field  string
		change func(*Rule)
	}{
		{"kind", func(r *Rule) { r.Kind = "user" }},
		{"principal", func(r *Rule) { r.Principal = "Finance" }},
		{"principal", func(r *Rule) { r.Kind, r.Principal = Role, "Portal Admin" }},
		{"label", func(r *Rule) { r.Label = " " }},
		{"label", func(r *Rule) { r.Label = strings.Repeat("x", 81) }},
		{"label", func(r *Rule) { r.Label = "a\x00b" }},
		{"subscription", func(r *Rule) { r.Subscription = "Contoso Production" }},
		{"resourceGroup", func(r *Rule) { r.ResourceGroup = "rg finance" }},
		{"resourceGroup", func(r *Rule) { r.ResourceGroup = "rg." }},
		{"names", func(r *Rule) { r.Names = "<script>" }},
	} {
		r := good
		tc.change(&r)
		if p := r.Problems(); p[tc.field] == "" || len(p) != 1 {
			t.Errorf("%+v: %v, want a problem with %s", r, p, tc.field)
		}
	}
	n := Rule{Kind: Group, Principal: " " + strings.ToUpper(finance) + " ", Label: " Finance ", Subscription: strings.ToUpper(prod), Names: "*"}.Normalize()
	if n.Principal != finance || n.Label != "Finance" || n.Subscription != prod || n.Names != "" {
		t.Errorf("normalized: %+v", n)
	}
	if !good.Same(Rule{Kind: Group, Principal: strings.ToUpper(finance), Label: "Finance", Subscription: prod, ResourceGroup: "RG-FINANCE", Names: "FIN-*"}) {
		t.Error("the same rule, in other cases, differs")
	}
}

func TestParseFile(t *testing.T) {
	t.Parallel()
	rules, err := ParseFile([]byte(`{"rules": [
		{"id": "finance", "kind": "group", "principal": "` + finance + `", "label": "Finance", "subscription": "` + prod + `", "resourceGroup": "rg-finance", "names": "fin-*"},
		{"id": "admins", "kind": "role", "principal": "Portal.Admin", "label": "Portal administrators"}]}`))
	if err != nil || len(rules) != 2 || rules[0].Source != FromFile || rules[1].Names != "" {
		t.Fatalf("%+v %v", rules, err)
	}
	_, err = ParseFile([]byte(`{"rules": [
		{"id": "Finance!", "kind": "group", "principal": "nope", "label": "Finance"},
		{"id": "x", "kind": "role", "principal": "A", "label": ""},
		{"id": "x", "kind": "role", "principal": "A", "label": "A"}]}`))
	for _, want := range []string{"rule 1 (Finance!): id", "rule 1 (Finance!): principal", "rule 2 (x): label", "rule 3 (x): id: another rule has it"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in %v", want, err)
		}
	}
	if _, err := ParseFile([]byte(`{"rules": [{"id": "a", "who": "x"}]}`)); err == nil {
		t.Error("an unknown field taken")
	}
}
