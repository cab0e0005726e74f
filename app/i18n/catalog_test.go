package i18n

import (
	"bytes"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var placeholderRE = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*)\}`)

func placeholders(s string) []string {
	var names []string
	for _, m := range placeholderRE.FindAllStringSubmatch(s, -1) {
		if !slices.Contains(names, m[1]) {
			names = append(names, m[1])
		}
	}
	slices.Sort(names)
	return names
}

func TestCatalogsParse(t *testing.T) {
	for _, l := range Supported() {
		data, err := files.ReadFile(string(l) + ".json")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := loadCatalog(l); err != nil {
			t.Fatal(err)
		}
		// encoding/json keeps the last of two equal keys; catch the first one silently lost.
		dec := json.NewDecoder(bytes.NewReader(data))
		seen := map[string]bool{}
		if _, err := dec.Token(); err != nil {
			t.Fatal(err)
		}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				t.Fatal(err)
			}
			key := tok.(string)
			if seen[key] {
				t.Errorf("%s.json: key %q appears twice", l, key)
			}
			seen[key] = true
			if _, err := dec.Token(); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := dec.Token(); err != nil && err != io.EOF {
			t.Fatal(err)
		}
	}
}

func TestCatalogsHaveTheSameKeys(t *testing.T) {
	en := catalogs[EN]
	if len(en) == 0 {
		t.Fatal("English catalog is empty")
	}
	for _, l := range Supported() {
		c := catalogs[l]
		for _, key := range sortedKeys(c) {
			text := c[key]
			if strings.TrimSpace(text) == "" {
				t.Errorf("%s: %q has empty text", l, key)
			}
			if text != strings.TrimSpace(text) {
				t.Errorf("%s: %q has leading or trailing space", l, key)
			}
			// A plural group needs both forms: N picks .one or .other.
			if base, ok := strings.CutSuffix(key, ".one"); ok {
				if _, ok := c[base+".other"]; !ok {
					t.Errorf("%s: %q has no %q", l, key, base+".other")
				}
			}
			if base, ok := strings.CutSuffix(key, ".other"); ok {
				if _, ok := c[base+".one"]; !ok {
					t.Errorf("%s: %q has no %q", l, key, base+".one")
				}
			}
		}
		for _, other := range Supported() {
			if other == l {
				continue
			}
			for _, key := range sortedKeys(c) {
				if _, ok := catalogs[other][key]; !ok {
					t.Errorf("%s.json lacks %q (present in %s.json)", other, key, l)
				}
			}
		}
	}
	for _, key := range sortedKeys(en) {
		want := placeholders(en[key])
		for _, l := range Supported()[1:] {
			text, ok := catalogs[l][key]
			if !ok {
				continue
			}
			if got := placeholders(text); !slices.Equal(got, want) {
				t.Errorf("%q: placeholders differ: en has %v, %s has %v", key, want, l, got)
			}
		}
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Keys given as literals to the translation calls; the key is always the second argument.
var (
	usedKeyRE    = regexp.MustCompile(`\bi18n\.(T|Ctx|N|CtxN)\(\s*[^,"]*,\s*"([^"\\]+)"`)
	usedCtxKeyRE = regexp.MustCompile(`(?:^|[^.\w])(T)\(ctx,\s*"([^"\\]+)"`)
	// toast(c, "success", "key") in the web handlers.
	usedToastRE = regexp.MustCompile(`\b(toast)\(c,\s*"\w+",\s*"([^"\\]+)"`)
	// Field errors of the services: model.FieldError("field", "key") and v.Add("field", "key").
	usedFieldErrRE = regexp.MustCompile(`\b(FieldError|\.Add)\("[^"]+",\s*"([a-z][a-z0-9_]*\.[a-z0-9_.]+)"`)
)

func TestEveryUsedKeyExists(t *testing.T) {
	root := repoRoot(t)
	checked := 0
	for _, dir := range []string{"views", "app"} {
		base := filepath.Join(root, dir)
		if _, err := os.Stat(base); err != nil {
			continue
		}
		err := filepath.WalkDir(base, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			name := d.Name()
			if d.IsDir() {
				if path != base && (strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor" || name == "node_modules") {
					return filepath.SkipDir
				}
				return nil
			}
			if strings.HasSuffix(name, "_test.go") || !(strings.HasSuffix(name, ".go") || strings.HasSuffix(name, ".templ")) {
				return nil
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			for _, re := range []*regexp.Regexp{usedKeyRE, usedCtxKeyRE, usedToastRE, usedFieldErrRE} {
				for _, m := range re.FindAllSubmatch(src, -1) {
					fn, key := string(m[1]), string(m[2])
					keys := []string{key}
					if fn == "N" || fn == "CtxN" {
						keys = []string{key + ".one", key + ".other"}
					}
					for _, k := range keys {
						checked++
						for _, l := range Supported() {
							if _, ok := catalogs[l][k]; !ok {
								t.Errorf("%s: %s(…, %q): key %q missing in %s.json", rel, fn, key, k, l)
							}
						}
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("checked %d key uses", checked)
}

// repoRoot walks up from the package directory to the folder holding go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

func TestUsedKeyPattern(t *testing.T) {
	src := `
		{ i18n.Ctx(ctx, "nav.home") }
		i18n.T(loc(c), "members.invited", "email", e)
		i18n.N(l, "members.count", n)
		i18n.CtxN(ctx, "time.days_ago", 2)
		T(ctx, "login.title")
		i18n.T(ctx, "common.save")
		i18n.T(l, key)
	`
	var got []string
	for _, re := range []*regexp.Regexp{usedKeyRE, usedCtxKeyRE, usedToastRE, usedFieldErrRE} {
		for _, m := range re.FindAllStringSubmatch(src, -1) {
			got = append(got, m[1]+":"+m[2])
		}
	}
	want := []string{"Ctx:nav.home", "T:members.invited", "N:members.count", "CtxN:time.days_ago", "T:common.save", "T:login.title"}
	if !slices.Equal(got, want) {
		t.Fatalf("matches = %v, want %v", got, want)
	}
}

// TestTagsAreNotLabels: in Portuguese a contact's tags are "Tags" and the inbox's labels are
// "Etiquetas"; a text that speaks of tags in English must not call them labels.
func TestTagsAreNotLabels(t *testing.T) {
	en, err := loadCatalog("en")
	if err != nil {
		t.Fatal(err)
	}
	pt, err := loadCatalog("pt-BR")
	if err != nil {
		t.Fatal(err)
	}
	tag := regexp.MustCompile(`(?i)\btags?\b`)
	for key, e := range en {
		if strings.Contains(key, "aliases") { // the import's header aliases accept both words on purpose
			continue
		}
		if tag.MatchString(e) && !strings.Contains(strings.ToLower(e), "label") && strings.Contains(strings.ToLower(pt[key]), "etiqueta") {
			t.Errorf("%s: %q says tags, its Portuguese %q says labels", key, e, pt[key])
		}
	}
}
