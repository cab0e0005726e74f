package views_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestViewsAskThePolicy: a page decides what to show by a permission of the role policy
// (ui.May) or a role read from it, never by naming a role itself, so the pages and the
// server cannot drift apart.
func TestViewsAskThePolicy(t *testing.T) {
	named := regexp.MustCompile(`ui\.Can\(ctx, model\.Role[A-Z]`)
	files, err := filepath.Glob("*/*.templ")
	if err != nil || len(files) == 0 {
		t.Fatalf("no templates: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			if named.MatchString(line) {
				t.Errorf("%s:%d names a role: ask ui.May(ctx, model.<Permission>)", f, i+1)
			}
		}
	}
}
