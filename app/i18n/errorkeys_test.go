package i18n

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"masteria/app/model"
	"masteria/app/phone"
)

// errorKeyRE is any string literal that looks like an error message key ("x.error.y"),
// wherever it is written: returned from a helper, kept in a variable, passed on.
var errorKeyRE = regexp.MustCompile(`"([a-z_]+(?:\.[a-z0-9_]+)*\.error\.[a-z0-9_.]*)"`)

// TestErrorKeysExist: every error a screen can show has its text in both languages, so no
// reader ever sees a raw key or an English sentence on a Portuguese screen: error keys
// written anywhere in the code (not only those given straight to T), the keys built from a
// prefix (phone reasons), and the send failures the inbox explains.
func TestErrorKeysExist(t *testing.T) {
	root := repoRoot(t)
	var keys []string
	checked := 0
	for _, dir := range []string{"app", "views"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			name := d.Name()
			if strings.HasSuffix(name, "_test.go") || strings.HasSuffix(name, "_templ.go") || !(strings.HasSuffix(name, ".go") || strings.HasSuffix(name, ".templ")) {
				return nil
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range errorKeyRE.FindAllSubmatch(src, -1) {
				key := string(m[1])
				switch {
				case key == "contacts.error.phone.":
					for _, r := range []string{phone.ReasonEmpty, phone.ReasonNotANumber, phone.ReasonTooShort, phone.ReasonTooLong,
						phone.ReasonInvalidForCountry, phone.ReasonUnknownCountry} {
						keys = append(keys, key+r)
					}
				case strings.HasSuffix(key, "."):
					// Other prefixes are only trimmed off a key (TrimPrefix), never completed.
				case has(EN, key+".other"):
					keys = append(keys, key+".one", key+".other") // counted
				default:
					keys = append(keys, key)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, code := range model.SendFailures {
		keys = append(keys, model.SendFailureKey(code))
	}
	for _, k := range keys {
		checked++
		for _, l := range Supported() {
			if _, ok := catalogs[l][k]; !ok {
				t.Errorf("error key %q missing in %s.json", k, l)
			}
		}
	}
	if checked < 100 {
		t.Fatalf("only %d error keys found: is the pattern still right?", checked)
	}
}
