package metrics

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v4"
)

// alertRules is the shape of a Prometheus rules file.
type alertRules struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// promQL words that are not metrics.
var promQLWords = map[string]bool{
	"sum": true, "max": true, "min": true, "avg": true, "count": true, "rate": true, "increase": true, "irate": true,
	"histogram_quantile": true, "by": true, "without": true, "and": true, "or": true, "unless": true, "on": true,
	"ignoring": true, "group_left": true, "group_right": true, "offset": true, "bool": true, "abs": true, "absent": true,
}

var (
	selector   = regexp.MustCompile(`([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\})?`)
	matcher    = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"`)
	grouping   = regexp.MustCompile(`\b(?:by|without|on|ignoring)\s*\(([^)]*)\)`)
	quoted     = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	rangeOrNum = regexp.MustCompile(`\[[^\]]*\]|\b[0-9][0-9.]*[a-z]*\b`)
)

// readmeRules returns the README's example alert rules: the yaml block
// under "What to alert on".
func readmeRules(t *testing.T) alertRules {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(b), "**What to alert on.**")
	if !ok {
		t.Fatal("the README has no alert rules section")
	}
	_, block, ok := strings.Cut(after, "```yaml\n")
	block, _, ok2 := strings.Cut(block, "```")
	if !ok || !ok2 {
		t.Fatal("the README's alert rules are not in a yaml block")
	}
	var rules alertRules
	if err := yaml.Unmarshal([]byte(block), &rules); err != nil {
		t.Fatalf("the README's alert rules do not parse: %v", err)
	}
	return rules
}

// TestREADMEAlertRules: the README's alert rules are a valid rules file
// whose every metric and label is one the portal exposes.
func TestREADMEAlertRules(t *testing.T) {
	t.Parallel()
	m := New()
	m.ActiveSessions(func() (int, error) { return 0, nil })
	catalog, err := m.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	// Prometheus adds these to every series it scrapes.
	targetLabels := []string{"job", "instance"}
	rules := readmeRules(t)
	n := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			n++
			if r.Alert == "" || r.Expr == "" || r.Annotations["summary"] == "" || r.Labels["severity"] == "" {
				t.Errorf("rule %q lacks a name, an expression, a summary or a severity", r.Alert)
			}
			if _, err := model.ParseDuration(r.For); err != nil {
				t.Errorf("%s: for %q: %v", r.Alert, r.For, err)
			}
			if strings.Count(r.Expr, "(") != strings.Count(r.Expr, ")") {
				t.Errorf("%s: unbalanced parentheses in %s", r.Alert, r.Expr)
			}
			checkExpr(t, r.Alert, r.Expr, catalog, targetLabels)
		}
	}
	if n < 5 {
		t.Errorf("the README has %d alert rules", n)
	}
}

func checkExpr(t *testing.T, alert, expr string, catalog map[string][]string, targetLabels []string) {
	t.Helper()
	var used []string // every metric the expression reads
	for _, sm := range selector.FindAllStringSubmatch(rangeOrNum.ReplaceAllString(expr, " "), -1) {
		name, sel := sm[1], sm[2]
		if promQLWords[name] {
			continue
		}
		labels, known := catalog[name]
		if name == "up" {
			labels, known = nil, true
		}
		if !known {
			// A grouping label (by (service)) is read as a word: it must be a label then.
			if !isGroupingLabel(expr, name) {
				t.Errorf("%s: %q is not a metric of the portal", alert, name)
			}
			continue
		}
		used = append(used, name)
		for _, lm := range matcher.FindAllStringSubmatch(quoted.ReplaceAllString(sel, `""`), -1) {
			if !slices.Contains(labels, lm[1]) && !slices.Contains(targetLabels, lm[1]) {
				t.Errorf("%s: %s has no label %q (it has %v)", alert, name, lm[1], labels)
			}
		}
	}
	for _, gm := range grouping.FindAllStringSubmatch(expr, -1) {
		for _, l := range strings.Split(gm[1], ",") {
			l = strings.TrimSpace(l)
			found := slices.Contains(targetLabels, l)
			for _, name := range used {
				found = found || slices.Contains(catalog[name], l)
			}
			if !found {
				t.Errorf("%s: no metric it reads has the label %q", alert, l)
			}
		}
	}
	if len(used) == 0 {
		t.Errorf("%s reads no metric: %s", alert, expr)
	}
}

func isGroupingLabel(expr, word string) bool {
	for _, gm := range grouping.FindAllStringSubmatch(expr, -1) {
		for _, l := range strings.Split(gm[1], ",") {
			if strings.TrimSpace(l) == word {
				return true
			}
		}
	}
	return false
}
