package boot

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "masteria"

// areas are the packages of the product's areas: the channel layer must know none.
var areas = []string{"inbox", "crm", "campaign", "ai", "voice", "web"}

func under(pkg, root string) bool { return pkg == root || strings.HasPrefix(pkg, root+"/") }

// archViolations checks the seams between layers over a package → imports map:
// app/web imports no provider package (app/channel/<provider>), and nothing under
// app/channel imports an area package.
func archViolations(imports map[string][]string) []string {
	var out []string
	for pkg, imps := range imports {
		for _, imp := range imps {
			switch {
			case pkg == module+"/app/web" && strings.HasPrefix(imp, module+"/app/channel/"):
				out = append(out, pkg+" imports the provider package "+imp)
			case under(pkg, module+"/app/channel"):
				for _, a := range areas {
					if under(imp, module+"/app/"+a) {
						out = append(out, pkg+" imports the area package "+imp)
					}
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// packageImports reads the imports of every package under app/, test files left out.
func packageImports(t *testing.T) map[string][]string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found at %s: %v", root, err)
	}
	out := map[string][]string{}
	fset := token.NewFileSet()
	err = filepath.WalkDir(filepath.Join(root, "app"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		pkg := module + "/" + filepath.ToSlash(rel)
		for _, imp := range f.Imports {
			out[pkg] = append(out[pkg], strings.Trim(imp.Path.Value, `"`))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSeams: the web layer reaches providers only through the channel registry and its
// interfaces, and providers hand what they receive to a channel.Receiver.
func TestSeams(t *testing.T) {
	imports := packageImports(t)
	for _, want := range []string{module + "/app/web", module + "/app/channel/meta", module + "/app/channel/wameow"} {
		if len(imports[want]) == 0 {
			t.Fatalf("no imports read for %s: the walk is broken", want)
		}
	}
	for _, v := range archViolations(imports) {
		t.Error(v)
	}
}

// TestSeamsCheckCanFail: the check above catches each kind of crossing.
func TestSeamsCheckCanFail(t *testing.T) {
	for name, tc := range map[string]struct {
		imports map[string][]string
		want    int
	}{
		"web imports a provider":  {map[string][]string{module + "/app/web": {module + "/app/channel/wameow"}}, 1},
		"provider imports inbox":  {map[string][]string{module + "/app/channel/meta": {module + "/app/inbox"}}, 1},
		"channel imports crm sub": {map[string][]string{module + "/app/channel": {module + "/app/crm/board"}}, 1},
		"provider imports web":    {map[string][]string{module + "/app/channel/twilio": {module + "/app/web", module + "/app/model"}}, 1},
		"allowed": {map[string][]string{
			module + "/app/web":            {module + "/app/channel", module + "/app/inbox"},
			module + "/app/channel/wameow": {module + "/app/channel", module + "/app/store", module + "/app/events"},
			module + "/app/inbox":          {module + "/app/channel/meta"},
			module + "/app/webhooks":       {module + "/app/channel/meta"}, // not app/web
		}, 0},
	} {
		if got := archViolations(tc.imports); len(got) != tc.want {
			t.Errorf("%s: %d violations %v, want %d", name, len(got), got, tc.want)
		}
	}
}
