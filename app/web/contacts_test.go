package web_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"masteria/app/crm/board"
	"masteria/app/model"
	"masteria/app/web"
	"masteria/app/web/webtest"
)

// upload posts a file to the import form as a browser would.
func upload(t *testing.T, c *webtest.Client, path, name string, data []byte) *webtest.Response {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("_csrf", c.CSRF())
	fw, _ := w.CreateFormFile("file", name)
	_, _ = fw.Write(data)
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, c.Base+path, &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return c.Do(req)
}

func TestContactFormBadInput(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	c := webtest.NewClient(t, inst.URL)
	home := c.Signup("Loja de Roupas", "Lia", uniqueEmail("lia"), strongPassword)
	res := c.Post(home+"/contacts", url.Values{"name": {"Ana"}, "phone": {"(11) 98765-4321"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	for name, form := range map[string]url.Values{
		"invalid phone":   {"name": {"Bia"}, "phone": {"123"}},
		"duplicate phone": {"name": {"Bia"}, "phone": {"+55 11 98765 4321"}},
		"bad email":       {"name": {"Bia"}, "email": {"bia@"}},
		"empty":           {},
		"unknown owner":   {"name": {"Bia"}, "owner": {"999999"}},
	} {
		res := c.Post(home+"/contacts", form)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d, want 422", name, res.StatusCode)
		}
	}
	var n int
	_ = inst.App.Store.DB().Get(&n, `SELECT count(*) FROM contacts`)
	if n != 1 {
		t.Fatalf("refused forms stored contacts: %d", n)
	}
	// Another org's contact is not found, for reading and writing.
	var id int64
	_ = inst.App.Store.DB().Get(&id, `SELECT id FROM contacts`)
	other := webtest.NewClient(t, inst.URL)
	otherHome := other.Signup("Outra", "Rui", uniqueEmail("rui"), strongPassword)
	for _, p := range []string{fmt.Sprintf("%s/contacts/%d", otherHome, id), fmt.Sprintf("%s/contacts/%d/edit", otherHome, id)} {
		if res := other.Get(p); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d", p, res.StatusCode)
		}
	}
	if res := other.Post(fmt.Sprintf("%s/contacts/%d", otherHome, id), url.Values{"name": {"x"}}); res.StatusCode != http.StatusNotFound {
		t.Errorf("update of another org's contact: %d", res.StatusCode)
	}
}

var importLink = regexp.MustCompile(`/contacts/imports/(\d+)`)

// TestImportThroughTheBrowserForms uploads a messy CSV, confirms the guessed columns, lets
// the real worker run it, and reads the report and the rejected rows' CSV.
func TestImportThroughTheBrowserForms(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	c := webtest.NewClient(t, inst.URL)
	home := c.Signup("Mercadinho", "Gil", uniqueEmail("gil"), strongPassword)
	csv := "\ufeffNome;Telefone;Coluna Que Ninguém Conhece\r\n" +
		"Ana;(11) 98765-4321;x\r\n" +
		";;\r\n" +
		"\"Bia \"quebrada\";11 97777-6666;y\r\n" +
		"Caio;999;z\r\n" +
		"=HYPERLINK(\"http://mal.example\");123;v\r\n" +
		"Dora;(21) 98888-7777;w\r\n"
	res := upload(t, c, home+"/contacts/import", "clientes.csv", []byte(csv))
	m := importLink.FindStringSubmatch(res.Header.Get("Location"))
	if res.StatusCode != http.StatusSeeOther || m == nil {
		t.Fatalf("upload: %d %q %s", res.StatusCode, res.Header.Get("Location"), webtest.Text(res.Body))
	}
	page := c.Get(res.Header.Get("Location"))
	if !strings.Contains(page.Body, "Coluna Que Ninguém Conhece") || !strings.Contains(page.Body, `data-testid="import-start"`) {
		t.Fatalf("mapping page: %s", webtest.Text(page.Body))
	}
	// Contacts already here: three explicit choices, filling empty fields chosen.
	fill := regexp.MustCompile(`<input[^>]*value="fill"[^>]*checked[^>]*data-testid="import-on-existing-fill"`)
	if !fill.MatchString(page.Body) || !strings.Contains(page.Body, `data-testid="import-on-existing-overwrite"`) || !strings.Contains(page.Body, `data-testid="import-on-existing-skip"`) {
		t.Fatalf("mapping page lacks the three choices for existing contacts")
	}
	// No key column chosen: refused with a clear message.
	if res := c.Post(res.Header.Get("Location"), url.Values{"col": {"ignore", "ignore", "ignore"}, "on_existing": {"update"}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("mapping without phone or name: %d", res.StatusCode)
	}
	start := c.Post(res.Header.Get("Location"), url.Values{"col": {"name", "phone", "ignore"}, "on_existing": {"fill"}})
	if start.StatusCode != http.StatusSeeOther {
		t.Fatalf("start: %d %s", start.StatusCode, webtest.Text(start.Body))
	}
	var status string
	deadline := time.Now().Add(30 * time.Second)
	for status != "done" && time.Now().Before(deadline) {
		_ = inst.App.Store.DB().Get(&status, `SELECT status FROM contact_imports WHERE id = $1`, m[1])
		time.Sleep(100 * time.Millisecond)
	}
	if status != "done" {
		t.Fatalf("import status %q after 30 s", status)
	}
	report := webtest.Text(c.Get(res.Header.Get("Location")).Body)
	for _, want := range []string{"2", "clientes.csv"} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q: %s", want, report)
		}
	}
	rejects := c.Get(res.Header.Get("Location") + "/rejects.csv")
	if rejects.StatusCode != http.StatusOK || !strings.Contains(rejects.Body, "quebrada") || !strings.Contains(rejects.Body, "999") {
		t.Fatalf("rejects.csv: %d\n%s", rejects.StatusCode, rejects.Body)
	}
	// It opens in a Brazilian Excel: a BOM, the upload's ";", and no formula runs.
	if !strings.HasPrefix(rejects.Body, "\ufeff") || !strings.Contains(rejects.Body, ";Caio;999;z") && !strings.Contains(rejects.Body, ";\"Caio;999;z\"") {
		t.Fatalf("rejects.csv is not BOM and ';':\n%q", rejects.Body)
	}
	if strings.Contains(rejects.Body, ";=HYPERLINK") || strings.Contains(rejects.Body, ";\"=HYPERLINK") || !strings.Contains(rejects.Body, "'=HYPERLINK") {
		t.Fatalf("a formula cell is not defused:\n%s", rejects.Body)
	}
	var names []string
	_ = inst.App.Store.DB().Select(&names, `SELECT name FROM contacts ORDER BY name`)
	if strings.Join(names, ",") != "Ana,Dora" {
		t.Fatalf("contacts %v", names)
	}
}

func TestUploadRefusals(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	c := webtest.NewClient(t, inst.URL)
	home := c.Signup("Loja", "Hel", uniqueEmail("hel"), strongPassword)
	big := bytes.Repeat([]byte("Nome,Telefone\nMaria da Silva,11987654321\n"), 50<<20/40)
	if res := upload(t, c, home+"/contacts/import", "grande.csv", big); res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(webtest.Text(res.Body), "20 MB") {
		t.Fatalf("50 MB file: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	for name, data := range map[string][]byte{"vazio.csv": {}, "foto.png": {0x89, 'P', 'N', 'G', 0, 0, 0, 1, 2, 3, 0, 0, 0, 0}} {
		if res := upload(t, c, home+"/contacts/import", name, data); res.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d", name, res.StatusCode)
		}
	}
	var n int
	_ = inst.App.Store.DB().Get(&n, `SELECT count(*) FROM contact_imports`)
	if n != 0 {
		t.Fatalf("refused uploads were stored: %d", n)
	}
}

func TestContactListFiltersLiveInTheURL(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	c := webtest.NewClient(t, inst.URL)
	home := c.Signup("Loja", "Ivo", uniqueEmail("ivo"), strongPassword)
	var orgID, userID int64
	_ = inst.App.Store.DB().Get(&orgID, `SELECT id FROM orgs`)
	_ = inst.App.Store.DB().Get(&userID, `SELECT id FROM users`)
	if err := inst.App.CRM.SeedDemo(context.Background(), model.Actor{OrgID: orgID, UserID: userID, Role: model.RoleOwner}); err != nil {
		t.Fatal(err)
	}
	all := c.Get(home + "/contacts")
	if all.StatusCode != http.StatusOK || strings.Count(all.Body, `data-testid="contacts-row"`) != 12 {
		t.Fatalf("list: %d rows", strings.Count(all.Body, `data-testid="contacts-row"`))
	}
	one := c.Get(home + "/contacts?q=" + url.QueryEscape("ana paula"))
	if strings.Count(one.Body, `data-testid="contacts-row"`) != 1 || !strings.Contains(one.Body, "Ana Paula Ferreira") {
		t.Fatal("search did not narrow the list")
	}
	mine := c.Get(home + "/contacts?owner=me")
	if n := strings.Count(mine.Body, `data-testid="contacts-row"`); n != 4 {
		t.Fatalf("owner=me: %d rows", n)
	}
	if res := c.Get(home + "/contacts?created_from=yesterday&owner=abc"); res.StatusCode != http.StatusOK {
		t.Fatalf("bad filter values must not break the page: %d", res.StatusCode)
	}
	if res := c.Get(home + "/contacts?after=forged"); res.StatusCode != http.StatusOK {
		t.Fatalf("forged cursor: %d", res.StatusCode)
	}
	exp := c.Get(home + "/contacts/export.csv?q=maria")
	if exp.StatusCode != http.StatusOK || !strings.HasPrefix(exp.Body, "\ufeffname,phone") || strings.Count(exp.Body, "\n") != 2 {
		t.Fatalf("export: %d\n%s", exp.StatusCode, exp.Body)
	}
}

func TestAgentsCannotImportOrManage(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	owner := webtest.NewClient(t, inst.URL)
	home := owner.Signup("Loja Papéis", "Ona", uniqueEmail("ona"), strongPassword)
	email := uniqueEmail("agente")
	if _, err := inst.App.Account.CreateUserInOrg(context.Background(), "Loja Papéis", "Agente", email, strongPassword, model.RoleAgent); err != nil {
		t.Fatal(err)
	}
	agent := webtest.NewClient(t, inst.URL)
	agent.Login(email, strongPassword)
	for _, p := range []string{"/contacts/import", "/contacts/manage", "/contacts/export.csv"} {
		if res := agent.Get(home + p); res.StatusCode != http.StatusForbidden {
			t.Errorf("agent GET %s: %d", p, res.StatusCode)
		}
	}
	if res := agent.Get(home + "/contacts"); res.StatusCode != http.StatusOK {
		t.Fatalf("agent list: %d", res.StatusCode)
	}
}

func TestBulkTagFromTheList(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	c := webtest.NewClient(t, inst.URL)
	home := c.Signup("Loja", "Jon", uniqueEmail("jon"), strongPassword)
	var orgID, userID int64
	_ = inst.App.Store.DB().Get(&orgID, `SELECT id FROM orgs`)
	_ = inst.App.Store.DB().Get(&userID, `SELECT id FROM users`)
	if err := inst.App.CRM.SeedDemo(context.Background(), model.Actor{OrgID: orgID, UserID: userID, Role: model.RoleOwner}); err != nil {
		t.Fatal(err)
	}
	var tagID int64
	_ = inst.App.Store.DB().Get(&tagID, `SELECT id FROM tags WHERE name = 'VIP'`)
	var ids []string
	_ = inst.App.Store.DB().Select(&ids, `SELECT id::text FROM contacts WHERE NOT tag_ids @> ARRAY[$1::bigint] ORDER BY id LIMIT 2`, tagID)
	// The filter's own "tag" field rides along and must not be taken for the tag to add.
	res := c.Post(home+"/contacts/bulk", url.Values{"ids": ids, "action": {"tag"}, "tag_id": {fmt.Sprint(tagID)}, "tag": {"999"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("bulk: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	var n int
	_ = inst.App.Store.DB().Get(&n, `SELECT count(*) FROM contacts WHERE tag_ids @> ARRAY[$1::bigint]`, tagID)
	if n != 3+2 {
		t.Fatalf("%d VIP contacts after tagging 2 more (3 before)", n)
	}
	// Nothing selected: a clear message, nothing changes.
	if res := c.Post(home+"/contacts/bulk", url.Values{"action": {"delete"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("empty bulk: %d", res.StatusCode)
	}
	_ = inst.App.Store.DB().Get(&n, `SELECT count(*) FROM contacts`)
	if n != 12 {
		t.Fatalf("%d contacts after an empty bulk delete", n)
	}
}

// TestSegmentOnStageAndFields saves a segment on a board stage, a custom field and last
// activity, and sees its live count.
func TestSegmentOnStageAndFields(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	c := webtest.NewClient(t, inst.URL)
	home := c.Signup("Loja", "Kim", uniqueEmail("kim"), strongPassword)
	ctx := context.Background()
	var orgID, userID int64
	_ = inst.App.Store.DB().Get(&orgID, `SELECT id FROM orgs`)
	_ = inst.App.Store.DB().Get(&userID, `SELECT id FROM users`)
	a := model.Actor{OrgID: orgID, UserID: userID, Role: model.RoleOwner}
	if err := inst.App.CRM.SeedDemo(ctx, a); err != nil {
		t.Fatal(err)
	}
	p, err := inst.App.Board.EnsurePipeline(ctx, a, "pt-BR")
	if err != nil {
		t.Fatal(err)
	}
	stages, _ := inst.App.Board.Stages(ctx, orgID, p.ID)
	var contactID string
	_ = inst.App.Store.DB().Get(&contactID, `SELECT id::text FROM contacts WHERE name = 'Rafael Costa'`)
	if _, err := inst.App.Board.CreateLead(ctx, a, board.LeadInput{StageID: stages[1].ID, Title: "Pedido grande", ContactID: contactID}); err != nil {
		t.Fatal(err)
	}
	list := c.Get(fmt.Sprintf("%s/contacts?stage=%d", home, stages[1].ID))
	if n := strings.Count(list.Body, `data-testid="contacts-row"`); n != 1 || !strings.Contains(list.Body, "Rafael Costa") {
		t.Fatalf("stage filter: %d rows", n)
	}
	pro := c.Get(home + "/contacts?attr_key=plano&attr_op=eq&attr_value=Pro&active_since=2000-01-01")
	if n := strings.Count(pro.Body, `data-testid="contacts-row"`); n != 5 {
		t.Fatalf("field filter: %d rows", n)
	}
	res := c.Post(home+"/contacts/segments", url.Values{"name": {"Plano Pro"}, "attr_key": {"plano"}, "attr_op": {"eq"}, "attr_value": {"Pro"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save segment: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	seg := c.Get(res.Header.Get("Location"))
	if n := strings.Count(seg.Body, `data-testid="contacts-row"`); n != 5 {
		t.Fatalf("segment opens with %d rows", n)
	}
	if res := c.Post(home+"/contacts/segments", url.Values{"name": {""}, "owner": {"me"}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("segment without a name: %d", res.StatusCode)
	}
}

// TestOrgCountryReadsPhones: an org in Portugal reads "912 345 678" as a Portuguese mobile.
func TestOrgCountryReadsPhones(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	c := webtest.NewClient(t, inst.URL)
	home := c.Signup("Pastelaria Lisboa", "Rita", uniqueEmail("rita"), strongPassword)
	if res := c.Post(home+"/settings", url.Values{"name": {"Pastelaria Lisboa"}, "country": {"XX"}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("unknown country: %d", res.StatusCode)
	}
	if res := c.Post(home+"/settings", url.Values{"name": {"Pastelaria Lisboa"}, "country": {"PT"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("set country: %d", res.StatusCode)
	}
	if res := c.Post(home+"/contacts", url.Values{"name": {"Joana"}, "phone": {"912 345 678"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	var p string
	_ = inst.App.Store.DB().Get(&p, `SELECT phone FROM contacts`)
	if p != "+351912345678" {
		t.Fatalf("phone %q", p)
	}
}

// An export that fails after its first rows ends visibly broken: a line in the file says it
// is incomplete and the connection is cut, so the browser reports a failed download
// instead of keeping a file that looks whole.
func TestExportFailingMidwayEndsBroken(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	c := webtest.NewClient(t, inst.URL)
	home := c.Signup("Loja Exporta", "Teo", uniqueEmail("teo"), strongPassword)
	for i := range 30 {
		if res := c.Post(home+"/contacts", url.Values{"name": {fmt.Sprintf("Cliente %02d", i)}, "phone": {fmt.Sprintf("119876500%02d", i)}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("create: %d", res.StatusCode)
		}
	}
	whole := c.Get(home + "/contacts/export.csv")
	if whole.StatusCode != http.StatusOK || strings.Count(whole.Body, "\n") != 31 {
		t.Fatalf("whole export: %d %d lines", whole.StatusCode, strings.Count(whole.Body, "\n"))
	}
	web.FailExportAfter(inst.App.Web, 600)
	res, err := c.HTTP.Get(c.Base + home + "/contacts/export.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err == nil {
		t.Fatalf("the broken export ended like a whole file:\n%s", body)
	}
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "EXPORT FAILED") || !strings.Contains(string(body), "Cliente 00") {
		t.Fatalf("broken export: %d\n%s", res.StatusCode, body)
	}
}
