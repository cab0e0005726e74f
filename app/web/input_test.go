package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"masteria/app/model"
	"masteria/app/web/webtest"
)

// hostileFields are the names forms, filters and API bodies use; every one gets the
// hostile value, so whichever a handler reads, it reads that.
var hostileFields = []string{"q", "name", "title", "body", "text", "phone", "email", "status", "view", "label", "tag", "tags",
	"note", "org", "password", "shortcut", "value", "kind", "stage", "pipeline", "after", "before", "sort", "to", "channel_id", "mode"}

// TestHostileTextNever500 walks every route of the router as a logged-in owner (pages) and
// with an API key (API), putting a NUL byte or invalid UTF-8 in the path, the query, the
// form and the JSON body: each answers 400 with a readable message, never a 500, and
// nothing is stored. Webhooks have their own parsers and tests.
func TestHostileTextNever500(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	inst := webtest.Start(t)
	c := webtest.NewClient(t, inst.URL)
	c.Lang = "pt-BR"
	home := c.Signup("Loja Hostil", "Rui", uniqueEmail("rui"), strongPassword)
	orgID := strings.TrimPrefix(home, "/o/")
	key, err := inst.App.Account.CreateAPIKeyForOrgName(ctx, "Loja Hostil", "hostile")
	if err != nil {
		t.Fatal(err)
	}
	var oid int64
	_ = inst.App.Store.DB().Get(&oid, `SELECT id FROM orgs`)
	if _, err := inst.App.Inbox.CreateChannel(ctx, model.Actor{OrgID: oid, Role: model.RoleOwner}, model.KindSandbox, "Demo", nil, nil); err != nil {
		t.Fatal(err)
	}
	count := func() (n int) {
		_ = inst.App.Store.DB().Get(&n, `SELECT (SELECT count(*) FROM contacts) + (SELECT count(*) FROM messages) + (SELECT count(*) FROM channels) + (SELECT count(*) FROM leads)`)
		return n
	}
	before := count()

	param := regexp.MustCompile(`:\w+`)
	hostile := map[string]string{"nul": "a\x00b", "utf8": "ol\xe1 \xff"}
	jsonHostile := map[string]string{"nul": `a\u0000b`, "utf8": "ol\xe1 \xff"}
	walked := 0
	for _, r := range inst.App.Web.Endpoints() {
		switch r.Method {
		case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		default:
			continue
		}
		if strings.HasPrefix(r.Path, "/webhooks/") || strings.HasPrefix(r.Path, "/static/") {
			continue
		}
		api := strings.HasPrefix(r.Path, "/api/") && r.Path != "/api/v1/openapi.yaml"
		guarded := api || r.Path != "/api/v1/openapi.yaml" && !strings.HasPrefix(r.Path, "/media/") && r.Path != "/health" && r.Path != "/sw.js" &&
			r.Path != "/manifest.webmanifest" && r.Path != "/favicon.ico"
		for name, h := range hostile {
			path := param.ReplaceAllStringFunc(r.Path, func(p string) string {
				switch p {
				case ":org":
					return orgID
				case ":id", ":user", ":conv", ":lead", ":contact", ":pipeline", ":stage", ":exp":
					return "1"
				}
				return url.PathEscape(h) // string params: tokens, providers, signatures
			})
			path = strings.ReplaceAll(path, "*", "x")
			q := url.Values{}
			for _, f := range hostileFields {
				q.Set(f, h)
			}
			// In the query.
			req, _ := http.NewRequest(r.Method, inst.URL+path+"?"+q.Encode(), nil)
			if api {
				req.Header.Set("Authorization", "Bearer "+key)
			} else if r.Method != http.MethodGet {
				req.Header.Set("X-CSRF-Token", c.CSRF())
			}
			res := c.Do(req)
			walked++
			if res.StatusCode >= 500 || guarded && res.StatusCode != http.StatusBadRequest {
				t.Errorf("%s %s with %s in the query: %d", r.Method, r.Path, name, res.StatusCode)
			}
			if r.Method == http.MethodGet {
				continue
			}
			// In the body: a form for pages, JSON for the API.
			var body string
			if api {
				var parts []string
				for _, f := range hostileFields {
					parts = append(parts, fmt.Sprintf("%q:\"%s\"", f, jsonHostile[name]))
				}
				body = "{" + strings.Join(parts, ",") + "}"
				req, _ = http.NewRequest(r.Method, inst.URL+path, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+key)
			} else {
				q.Set("_csrf", c.CSRF())
				req, _ = http.NewRequest(r.Method, inst.URL+path, strings.NewReader(q.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("HX-Request", "true")
			}
			res = c.Do(req)
			if res.StatusCode >= 500 || guarded && res.StatusCode != http.StatusBadRequest {
				t.Errorf("%s %s with %s in the body: %d %s", r.Method, r.Path, name, res.StatusCode, res.Body)
			}
			if !guarded || res.StatusCode != http.StatusBadRequest {
				continue
			}
			if api && !strings.Contains(res.Body, "character we can't store") {
				t.Errorf("%s %s: the API does not say what is wrong: %s", r.Method, r.Path, res.Body)
			}
			if !api && !strings.Contains(res.Header.Get("HX-Trigger"), "caractere") {
				t.Errorf("%s %s: no toast in Portuguese: %q", r.Method, r.Path, res.Header.Get("HX-Trigger"))
			}
		}
	}
	if walked < 50 {
		t.Fatalf("walked only %d routes", walked)
	}
	if n := count(); n != before {
		t.Fatalf("hostile requests stored things: %d rows before, %d after", before, n)
	}
	// A plain form post gets a page that says why, in the reader's language.
	res := c.Post(home+"/contacts", url.Values{"name": {"Ana\x00"}, "phone": {"11987654321"}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(webtest.Text(res.Body), "caractere") {
		t.Fatalf("plain form: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	// A file whose name cannot be stored (the import keeps it). A NUL in a part's header
	// makes the whole form unreadable, so its CSRF token too: 403 then.
	for name, want := range map[string]int{"clientes\x00.csv": http.StatusForbidden, "clientes\xff.csv": http.StatusBadRequest} {
		if res := upload(t, c, home+"/contacts/import", name, []byte("nome,telefone\nAna,11987654321\n")); res.StatusCode != want {
			t.Errorf("upload named %q: %d, want %d", name, res.StatusCode, want)
		}
	}
	var imports int
	_ = inst.App.Store.DB().Get(&imports, `SELECT count(*) FROM contact_imports`)
	if imports != 0 {
		t.Fatalf("%d imports stored from refused uploads", imports)
	}
	// Clean text still goes through.
	if res := c.Post(home+"/contacts", url.Values{"name": {"Ana"}, "phone": {"11987654321"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("clean form: %d", res.StatusCode)
	}
}
