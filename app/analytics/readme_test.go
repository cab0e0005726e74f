package analytics_test

import (
	"os"
	"strings"
	"testing"

	"masteria/app/analytics"
	"masteria/app/i18n"
)

// TestReadmeListsTheMetrics keeps the README's metric definitions in step with
// Definitions and their English texts.
func TestReadmeListsTheMetrics(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	want, err := analytics.Readme(readme)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != string(readme) {
		t.Fatal("README.md's metric definitions are out of step with app/analytics: run go tool task generate")
	}
	for _, d := range analytics.Definitions {
		if !strings.Contains(string(readme), "| `"+d.Key+"` |") {
			t.Errorf("README does not list %s", d.Key)
		}
	}
}

// Every family of a definition is one the page and the README group by.
func TestEveryFamilyIsListed(t *testing.T) {
	for _, d := range analytics.Definitions {
		found := false
		for _, f := range analytics.Families {
			found = found || f == d.Family
		}
		if !found {
			t.Errorf("%s: family %q is not in analytics.Families", d.Key, d.Family)
		}
	}
}

// TestEveryMetricIsWritten: every metric has its name and written definition in both
// languages (analytics.metric.<key>.name and .about).
func TestEveryMetricIsWritten(t *testing.T) {
	for _, l := range i18n.Supported() {
		var missing []string
		for _, d := range analytics.Definitions {
			for _, part := range []string{"name", "about"} {
				if k := "analytics.metric." + d.Key + "." + part; !i18n.Has(l, k) {
					missing = append(missing, k)
				}
			}
		}
		if len(missing) > 0 {
			t.Errorf("%s: %d metric texts not written yet (the metric families write them): %s", l, len(missing), strings.Join(missing, ", "))
		}
	}
}
