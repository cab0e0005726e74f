package web_test

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"masteria/app/config"
	"masteria/app/model"
	"masteria/app/store/storetest"
	"masteria/app/web/webtest"
)

// kbOrg is an org with a knowledge base, as its owner sees it.
type kbOrg struct {
	t     *testing.T
	inst  *webtest.Instance
	owner *webtest.Client
	home  string
	name  string
	kbURL string
	kbID  int64
}

func newKBOrg(t *testing.T, inst *webtest.Instance) *kbOrg {
	t.Helper()
	o := &kbOrg{t: t, inst: inst, owner: webtest.NewClient(t, inst.URL), name: fmt.Sprintf("Padaria %d", time.Now().UnixNano())}
	o.home = o.owner.Signup(o.name, "Paula", uniqueEmail("paula"), strongPassword)
	if res := o.owner.Get(o.home + "/knowledge"); res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `data-testid="kb-empty"`) {
		t.Fatalf("knowledge page: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	res := o.owner.Post(o.home+"/knowledge", url.Values{"name": {"Padaria"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create knowledge base: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	o.kbURL = res.Header.Get("Location")
	if _, err := fmt.Sscanf(strings.TrimPrefix(o.kbURL, o.home), "/knowledge/%d", &o.kbID); err != nil {
		t.Fatalf("location %q: %v", o.kbURL, err)
	}
	return o
}

// waitDocs waits until every document of the knowledge base left pending and indexing.
func (o *kbOrg) waitDocs() []model.KBDocument {
	o.t.Helper()
	var orgID int64
	_, _ = fmt.Sscanf(o.home, "/o/%d", &orgID)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		docs, err := o.inst.App.Knowledge.Documents(context.Background(), orgID, o.kbID)
		if err != nil {
			o.t.Fatal(err)
		}
		done := len(docs) > 0
		for _, d := range docs {
			if d.Status == model.DocPending || d.Status == model.DocIndexing {
				done = false
			}
		}
		if done {
			return docs
		}
		if time.Now().After(deadline) {
			o.t.Fatalf("documents not indexed in 30 s: %+v", docs)
		}
	}
}

func (o *kbOrg) upload(name string, data []byte) *webtest.Response {
	o.t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	_ = w.WriteField("_csrf", o.owner.CSRF())
	f, _ := w.CreateFormFile("file", name)
	_, _ = f.Write(data)
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, o.inst.URL+o.kbURL+"/documents/file", &b)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return o.owner.Do(req)
}

func TestKnowledgeTextIndexedAndFound(t *testing.T) {
	t.Parallel()
	o := newKBOrg(t, webtest.Start(t))
	res := o.owner.Post(o.kbURL+"/documents/text", url.Values{"title": {"Entregas"},
		"text": {"# Entregas\n\nEntregamos bolos em toda a cidade de terça a domingo. A taxa de entrega é de 8 reais.\n\n# Horário\n\nAbrimos às 7 horas."}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("add text: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	docs := o.waitDocs()
	if docs[0].Status != model.DocReady || docs[0].Chunks != 2 {
		t.Fatalf("document: %+v", docs[0])
	}
	page := o.owner.Get(o.kbURL)
	if !strings.Contains(page.Body, `data-status="ready"`) || !strings.Contains(page.Body, `sse:kb.document.status"`) {
		t.Errorf("the page does not show the ready document live: %s", webtest.Text(page.Body))
	}
	list := o.owner.Get(o.home + "/knowledge")
	if !strings.Contains(list.Body, `data-testid="kb-row"`) {
		t.Errorf("the list does not show the knowledge base: %s", webtest.Text(list.Body))
	}
	found := o.owner.Get(o.kbURL+"/search?q="+url.QueryEscape("qual a taxa de entrega?"), "HX-Request", "true")
	if found.StatusCode != http.StatusOK || !strings.Contains(found.Body, `data-testid="kb-hit"`) || !strings.Contains(found.Body, "8 reais") {
		t.Fatalf("playground: %d %s", found.StatusCode, found.Body)
	}
	if strings.Contains(found.Body, "<html") {
		t.Error("an htmx search answers the whole page")
	}
	if nothing := o.owner.Get(o.kbURL + "/search?q=" + url.QueryEscape("xilofone")); !strings.Contains(nothing.Body, `data-testid="kb-no-results"`) {
		t.Errorf("no 'nothing found': %s", webtest.Text(nothing.Body))
	}

	// Renamed; an empty name is refused.
	if res := o.owner.Post(o.kbURL, url.Values{"name": {"Padaria Central"}}); res.StatusCode != http.StatusSeeOther {
		t.Errorf("rename: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	if res := o.owner.Post(o.kbURL, url.Values{"name": {"  "}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("rename to nothing: %d", res.StatusCode)
	}
	if page := o.owner.Get(o.kbURL); !strings.Contains(page.Body, "Padaria Central") {
		t.Error("the new name is not shown")
	}
	// Indexed again on demand.
	if res := o.owner.Post(fmt.Sprintf("%s/documents/%d/reindex", o.kbURL, docs[0].ID), nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("reindex: %d", res.StatusCode)
	}
	if docs = o.waitDocs(); docs[0].Status != model.DocReady || docs[0].Chunks != 2 {
		t.Fatalf("reindexed: %+v", docs[0])
	}

	// Edited: indexed again, the old words gone.
	doc := fmt.Sprintf("%s/documents/%d", o.kbURL, docs[0].ID)
	if res := o.owner.Post(doc, url.Values{"title": {"Entregas"}, "text": {"Retiramos encomendas na loja."}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	docs = o.waitDocs()
	if docs[0].Status != model.DocReady || docs[0].Chunks != 1 {
		t.Fatalf("edited document: %+v", docs[0])
	}
	if found := o.owner.Get(o.kbURL + "/search?q=" + url.QueryEscape("taxa de entrega")); strings.Contains(found.Body, "8 reais") {
		t.Error("the old text is still found after an edit")
	}
	// Removed.
	if res := o.owner.Post(doc+"/delete", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove: %d", res.StatusCode)
	}
	if found := o.owner.Get(o.kbURL + "/search?q=" + url.QueryEscape("encomendas")); strings.Contains(found.Body, `data-testid="kb-hit"`) {
		t.Error("a removed document is still found")
	}
	if res := o.owner.Post(o.kbURL+"/delete", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete knowledge base: %d", res.StatusCode)
	}
	if res := o.owner.Get(o.kbURL); res.StatusCode != http.StatusNotFound {
		t.Errorf("a deleted knowledge base: %d", res.StatusCode)
	}
}

func TestKnowledgeFiles(t *testing.T) {
	t.Parallel()
	o := newKBOrg(t, webtest.Start(t))
	if res := o.upload("big.txt", bytes.Repeat([]byte("pão "), 5<<20/4+10)); res.StatusCode != http.StatusRequestEntityTooLarge ||
		!strings.Contains(webtest.Text(res.Body), "5 MB") {
		t.Errorf("a file over 5 MB: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	for _, name := range []string{"planilha.xlsx", "foto.png"} {
		if res := o.upload(name, []byte("%PDF-1.4 whatever")); res.StatusCode != http.StatusUnprocessableEntity ||
			!strings.Contains(webtest.Text(res.Body), "not supported") {
			t.Errorf("%s: %d %s", name, res.StatusCode, webtest.Text(res.Body))
		}
	}
	if res := o.upload("lixo.txt", []byte{0, 0xff, 0xfe, 0}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("a binary .txt: %d", res.StatusCode)
	}
	if res := o.upload("pagina.html", []byte(`<html><head><style>p{}</style></head><body><h1>Bolos</h1><p>Bolo de cenoura com chocolate.</p><script>alert(1)</script></body></html>`)); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("html: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	docs := o.waitDocs()
	if docs[0].Status != model.DocReady {
		t.Fatalf("html document: %+v", docs[0])
	}
	found := o.owner.Get(o.kbURL + "/search?q=" + url.QueryEscape("bolo de cenoura"))
	if !strings.Contains(found.Body, "Bolo de cenoura com chocolate.") || strings.Contains(found.Body, "alert(1)") {
		t.Errorf("html text: %s", webtest.Text(found.Body))
	}
}

func TestKnowledgeURLs(t *testing.T) {
	t.Parallel()
	var served atomic.Int32
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		days := "dois"
		if served.Add(1) > 1 {
			days = "cinco"
		}
		_, _ = w.Write([]byte("<html><body><h1>Encomendas</h1><p>Encomendas de tortas com " + days + " dias de antecedência.</p></body></html>"))
	}))
	defer page.Close()
	o := newKBOrg(t, webtest.Start(t))
	for _, u := range []string{"http://127.0.0.1/", "http://10.1.2.3/x", "http://169.254.169.254/latest/meta-data/", "http://[::1]:8080/",
		"http://localhost/", page.URL} {
		res := o.owner.Post(o.kbURL+"/documents/url", url.Values{"url": {u}})
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(webtest.Text(res.Body), "private network") {
			t.Errorf("%s: %d %s", u, res.StatusCode, webtest.Text(res.Body))
		}
	}
	for _, u := range []string{"ftp://example.com/", "not a url", "http://user:pw@example.com/"} {
		if res := o.owner.Post(o.kbURL+"/documents/url", url.Values{"url": {u}}); res.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d", u, res.StatusCode)
		}
	}

	// With the server setting on, the same page is fetched by the job.
	open := webtest.StartOn(t, storetest.URL(t), func(c *config.Config) { c.KBPrivateURLs = true })
	o2 := newKBOrg(t, open)
	if res := o2.owner.Post(o2.kbURL+"/documents/url", url.Values{"url": {page.URL + "/tortas"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("allowed URL: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	docs := o2.waitDocs()
	if docs[0].Status != model.DocReady || docs[0].Source != model.DocSourceURL {
		t.Fatalf("fetched page: %+v", docs[0])
	}
	if found := o2.owner.Get(o2.kbURL + "/search?q=" + url.QueryEscape("encomenda de torta")); !strings.Contains(found.Body, "dois dias") {
		t.Errorf("the fetched page is not found: %s", webtest.Text(found.Body))
	}
	// Fetched again: the page's new text replaces the old.
	if res := o2.owner.Post(fmt.Sprintf("%s/documents/%d/reindex", o2.kbURL, docs[0].ID), nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("fetch again: %d", res.StatusCode)
	}
	o2.waitDocs()
	if found := o2.owner.Get(o2.kbURL + "/search?q=" + url.QueryEscape("encomenda de torta")); !strings.Contains(found.Body, "cinco dias") || strings.Contains(found.Body, "dois dias") {
		t.Errorf("the page fetched again: %s", webtest.Text(found.Body))
	}
}

func TestKnowledgeTenantAndRoles(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	a := newKBOrg(t, inst)
	b := newKBOrg(t, inst)
	if res := a.owner.Post(a.kbURL+"/documents/text", url.Values{"title": {"Segredo"}, "text": {"Receita secreta do pão de queijo."}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("add: %d", res.StatusCode)
	}
	docs := a.waitDocs()
	other := strings.Replace(a.kbURL, a.home, b.home, 1) // a's knowledge base under b's org
	doc := fmt.Sprintf("%s/documents/%d", other, docs[0].ID)
	for _, p := range []string{other, other + "/search?q=receita", doc} {
		if res := b.owner.Get(p); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s from another org: %d", p, res.StatusCode)
		}
	}
	for _, p := range []string{other + "/delete", other + "/documents/text", doc, doc + "/delete"} {
		if res := b.owner.Post(p, url.Values{"title": {"x"}, "text": {"y"}}); res.StatusCode != http.StatusNotFound {
			t.Errorf("POST %s from another org: %d", p, res.StatusCode)
		}
	}
	// b's own knowledge base under b with a's document id.
	if res := b.owner.Get(fmt.Sprintf("%s/documents/%d", b.kbURL, docs[0].ID)); res.StatusCode != http.StatusNotFound {
		t.Errorf("another org's document: %d", res.StatusCode)
	}
	if found := b.owner.Get(b.kbURL + "/search?q=receita"); strings.Contains(found.Body, "secreta") {
		t.Error("another org's chunks are found")
	}

	// An agent may not see knowledge bases; a manager may.
	agent := webtest.NewClient(t, inst.URL)
	email := uniqueEmail("agente")
	if _, err := inst.App.Account.CreateUserInOrg(context.Background(), a.name, "Ana", email, strongPassword, model.RoleAgent); err != nil {
		t.Fatal(err)
	}
	agent.Login(email, strongPassword)
	if res := agent.Get(a.kbURL); res.StatusCode != http.StatusForbidden {
		t.Errorf("agent GET: %d", res.StatusCode)
	}
	if res := agent.Post(a.kbURL+"/documents/text", url.Values{"text": {"x"}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("agent POST: %d", res.StatusCode)
	}
	if home := agent.Get(a.home); strings.Contains(home.Body, "/knowledge\"") {
		t.Error("the agent's nav offers knowledge bases")
	}
	manager := webtest.NewClient(t, inst.URL)
	email = uniqueEmail("gerente")
	if _, err := inst.App.Account.CreateUserInOrg(context.Background(), a.name, "Gil", email, strongPassword, model.RoleManager); err != nil {
		t.Fatal(err)
	}
	manager.Login(email, strongPassword)
	if res := manager.Get(a.kbURL); res.StatusCode != http.StatusOK {
		t.Errorf("manager GET: %d", res.StatusCode)
	}
	// No CSRF token: refused, nothing added.
	if res := a.owner.PostRaw(a.kbURL+"/documents/text", url.Values{"text": {"sem token"}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("without CSRF: %d", res.StatusCode)
	}
	// NUL and invalid UTF-8: 400, nothing stored.
	for _, bad := range []string{"a\x00b", "ol\xe1 \xff"} {
		if res := a.owner.Post(a.kbURL+"/documents/text", url.Values{"text": {bad}}); res.StatusCode != http.StatusBadRequest {
			t.Errorf("hostile text %q: %d", bad, res.StatusCode)
		}
	}
	if n := len(a.waitDocs()); n != 1 {
		t.Errorf("%d documents after refused posts, want 1", n)
	}
}

func TestKnowledgeAPIFiles(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	o := newKBOrg(t, inst)
	key, err := inst.App.Account.CreateAPIKeyForOrgName(context.Background(), o.name, "kb")
	if err != nil {
		t.Fatal(err)
	}
	send := func(name string, data []byte) *webtest.Response {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		_ = w.WriteField("title", "Cardápio")
		f, _ := w.CreateFormFile("file", name)
		_, _ = f.Write(data)
		_ = w.Close()
		req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("%s/api/v1/knowledge-bases/%d/documents", inst.URL, o.kbID), &b)
		req.Header.Set("Content-Type", w.FormDataContentType())
		req.Header.Set("Authorization", "Bearer "+key)
		return o.owner.Do(req)
	}
	if res := send("menu.md", []byte("# Pães\n\nPão francês a 1 real.")); res.StatusCode != http.StatusAccepted || !strings.Contains(res.Body, `"status":"pending"`) {
		t.Errorf("upload: %d %s", res.StatusCode, res.Body)
	}
	if res := send("big.txt", bytes.Repeat([]byte("a"), 5<<20+1)); res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(res.Body, "too_large") {
		t.Errorf("6 MB: %d %s", res.StatusCode, res.Body)
	}
	if res := send("menu.xlsx", []byte("PK")); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "not supported") {
		t.Errorf("xlsx: %d %s", res.StatusCode, res.Body)
	}
	if docs := o.waitDocs(); len(docs) != 1 || docs[0].Status != model.DocReady || docs[0].Title != "Cardápio" {
		t.Errorf("documents: %+v", docs)
	}
}
