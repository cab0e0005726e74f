package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"codeberg.org/go-pdf/fpdf"

	"masteria/app/model"
	"masteria/app/web/webtest"
)

// pdfFile writes a one-page PDF of paragraphs with fpdf, or one protected by a password.
func pdfFile(t *testing.T, password string, paragraphs ...string) []byte {
	t.Helper()
	f := fpdf.New("P", "mm", "A4", "")
	if password != "" {
		f.SetProtection(fpdf.CnProtectPrint, password, "dono")
	}
	tr := f.UnicodeTranslatorFromDescriptor("")
	f.AddPage()
	f.SetFont("Helvetica", "", 11)
	for _, p := range paragraphs {
		f.MultiCell(100, 5.5, tr(p), "", "L", false)
		f.Ln(4)
	}
	var b bytes.Buffer
	if err := f.Output(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// multipartBody is a form with fields (in order) and a file.
func multipartBody(fields []string, fileName string, data []byte) (*bytes.Buffer, string) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for i := 0; i+1 < len(fields); i += 2 {
		_ = w.WriteField(fields[i], fields[i+1])
	}
	f, _ := w.CreateFormFile("file", fileName)
	_, _ = f.Write(data)
	_ = w.Close()
	return &b, w.FormDataContentType()
}

// hugeUpload posts a multipart form whose file is n zero bytes, declaring its length or sent
// chunked (without one), and tells how the server answered and how long it took.
func hugeUpload(t *testing.T, c *webtest.Client, path, csrf, bearer string, n int64, declared bool) (*webtest.Response, time.Duration) {
	t.Helper()
	const boundary = "masteriakb"
	head := ""
	if csrf != "" {
		head = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n" + csrf + "\r\n"
	}
	head += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"grande.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\n"
	tail := "\r\n--" + boundary + "--\r\n"
	body := io.MultiReader(strings.NewReader(head), io.LimitReader(zeros{}, n), strings.NewReader(tail))
	req, _ := http.NewRequest(http.MethodPost, c.Base+path, body)
	if declared {
		req.ContentLength = int64(len(head)) + n + int64(len(tail))
	}
	req.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	start := time.Now()
	res := c.Do(req)
	return res, time.Since(start)
}

// A PDF uploaded on the page is read by the job and found; a damaged or protected one is
// accepted and its document fails with the reason in the reader's language; a file that
// is not a PDF is refused at once; a file over 5 MB is refused before its body is read.
func TestKnowledgePDF(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	o := newKBOrg(t, inst)
	menu := pdfFile(t, "", "Cardápio da Doce Lar.", "O bolo de fubá com goiabada custa 32 reais e serve dez pessoas.")
	if res := o.upload("cardapio.pdf", menu); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("a PDF: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	if docs := o.waitDocs(); docs[0].Status != model.DocReady || docs[0].Chunks == 0 || docs[0].FileName != "cardapio.pdf" {
		t.Fatalf("the PDF document: %+v", docs[0])
	}
	found := o.owner.Get(o.kbURL + "/search?q=" + url.QueryEscape("quanto custa o bolo de fubá?"))
	if !strings.Contains(found.Body, "O bolo de fubá com goiabada custa 32 reais e serve dez pessoas.") {
		t.Errorf("the PDF's text is not found: %s", webtest.Text(found.Body))
	}

	if res := o.upload("protegido.pdf", pdfFile(t, "segredo", "Receita secreta.")); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("a protected PDF: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	docs := o.waitDocs()
	if docs[0].Status != model.DocFailed || docs[0].Error != "kb.error.pdf_encrypted" || docs[1].Status != model.DocReady {
		t.Fatalf("documents: %+v", docs)
	}
	page := o.owner.Get(o.kbURL)
	if !strings.Contains(page.Body, `data-testid="kb-doc-error"`) || !strings.Contains(webtest.Text(page.Body), "This PDF is protected by a password.") {
		t.Errorf("the failed PDF's reason: %s", webtest.Text(page.Body))
	}
	if res := o.owner.Post("/locale", url.Values{"locale": {"pt-BR"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("locale: %d", res.StatusCode)
	}
	if page := o.owner.Get(o.kbURL); !strings.Contains(webtest.Text(page.Body), "Este PDF está protegido por senha.") {
		t.Errorf("the reason in Portuguese: %s", webtest.Text(page.Body))
	}
	if res := o.upload("nao-e-pdf.pdf", []byte("<html>oi</html>")); res.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(webtest.Text(res.Body), "Este PDF está danificado") {
		t.Errorf("not a PDF: %d %s", res.StatusCode, webtest.Text(res.Body))
	}

	// Over the limit: refused unread when the length is declared, at the limit when it is
	// not; nothing stored either way.
	for _, declared := range []bool{true, false} {
		res, took := hugeUpload(t, o.owner, o.kbURL+"/documents/file", o.owner.CSRF(), "", 50<<20, declared)
		if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(res.Body, `data-testid="error-413"`) {
			t.Errorf("50 MB, declared %v: %d %s", declared, res.StatusCode, webtest.Text(res.Body))
		}
		t.Logf("50 MB upload, length declared %v: refused in %s", declared, took.Round(time.Millisecond))
	}
	// A little over 5 MB reaches the page, which says what the limit is.
	if res := o.upload("grande.pdf", append([]byte("%PDF-1.4\n"), make([]byte, 5<<20)...)); res.StatusCode != http.StatusRequestEntityTooLarge ||
		!strings.Contains(webtest.Text(res.Body), "5 MB") {
		t.Errorf("5 MB and a bit: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	if n := len(o.waitDocs()); n != 2 {
		t.Errorf("%d documents after refused uploads, want 2", n)
	}
}

// The upload's bad input: no CSRF token, an agent, another org's knowledge base, a file
// name that cannot be stored. Each is refused and stores nothing.
func TestKnowledgePDFBadInput(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	a := newKBOrg(t, inst)
	b := newKBOrg(t, inst)
	menu := pdfFile(t, "", "Pão de queijo a 5 reais.")
	post := func(c *webtest.Client, path string, fields []string, name string) *webtest.Response {
		body, ct := multipartBody(fields, name, menu)
		req, _ := http.NewRequest(http.MethodPost, inst.URL+path, body)
		req.Header.Set("Content-Type", ct)
		return c.Do(req)
	}
	if res := post(a.owner, a.kbURL+"/documents/file", nil, "menu.pdf"); res.StatusCode != http.StatusForbidden {
		t.Errorf("without CSRF: %d", res.StatusCode)
	}
	other := strings.Replace(a.kbURL, a.home, b.home, 1)
	if res := post(b.owner, other+"/documents/file", []string{"_csrf", b.owner.CSRF()}, "menu.pdf"); res.StatusCode != http.StatusNotFound {
		t.Errorf("into another org's knowledge base: %d", res.StatusCode)
	}
	if res := post(b.owner, a.kbURL+"/documents/file", []string{"_csrf", b.owner.CSRF()}, "menu.pdf"); res.StatusCode != http.StatusNotFound && res.StatusCode != http.StatusForbidden {
		t.Errorf("into another org: %d", res.StatusCode)
	}
	agent := webtest.NewClient(t, inst.URL)
	email := uniqueEmail("agente")
	if _, err := inst.App.Account.CreateUserInOrg(context.Background(), a.name, "Ana", email, strongPassword, model.RoleAgent); err != nil {
		t.Fatal(err)
	}
	agent.Login(email, strongPassword)
	if res := post(agent, a.kbURL+"/documents/file", []string{"_csrf", agent.CSRF()}, "menu.pdf"); res.StatusCode != http.StatusForbidden {
		t.Errorf("an agent: %d", res.StatusCode)
	}
	// (A NUL in the file name makes the whole form unreadable, its token too: 403.)
	for _, name := range []string{"me\x00nu.pdf", "men\xffu.pdf"} {
		if res := post(a.owner, a.kbURL+"/documents/file", []string{"_csrf", a.owner.CSRF()}, name); res.StatusCode != http.StatusBadRequest && res.StatusCode != http.StatusForbidden {
			t.Errorf("file name %q: %d", name, res.StatusCode)
		}
	}
	if res := post(a.owner, a.kbURL+"/documents/file", []string{"_csrf", a.owner.CSRF(), "title", "Car\x00dápio"}, "menu.pdf"); res.StatusCode != http.StatusBadRequest {
		t.Errorf("a title with NUL: %d", res.StatusCode)
	}
	for _, o := range []*kbOrg{a, b} {
		var orgID int64
		_, _ = fmt.Sscanf(o.home, "/o/%d", &orgID)
		if docs, _ := inst.App.Knowledge.Documents(context.Background(), orgID, o.kbID); len(docs) != 0 {
			t.Errorf("%s has %d documents after refused uploads", o.name, len(docs))
		}
	}
}

// The API takes a PDF as a multipart file (its bytes are not text), says when one failed
// and why, and refuses a file over 5 MB before reading it.
func TestKnowledgeAPIPDF(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	o := newKBOrg(t, inst)
	key, err := inst.App.Account.CreateAPIKeyForOrgName(context.Background(), o.name, "kb")
	if err != nil {
		t.Fatal(err)
	}
	send := func(name string, data []byte) *webtest.Response {
		body, ct := multipartBody([]string{"title", "Cardápio"}, name, data)
		req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("%s/api/v1/knowledge-bases/%d/documents", inst.URL, o.kbID), body)
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Authorization", "Bearer "+key)
		return o.owner.Do(req)
	}
	menu := pdfFile(t, "", "Sonho de creme a 9 reais, só aos sábados.")
	if utf8.Valid(menu) && !bytes.ContainsRune(menu, 0) {
		t.Fatal("the PDF is plain text: it would not show that a file's bytes pass the API's text check")
	}
	var out struct {
		Document model.KBDocument `json:"document"`
	}
	if res := send("menu.pdf", menu); res.StatusCode != http.StatusAccepted || json.Unmarshal([]byte(res.Body), &out) != nil {
		t.Fatalf("a PDF: %d %s", res.StatusCode, res.Body)
	}
	docPath := func(id int64) string { return fmt.Sprintf("/api/v1/knowledge-bases/%d/documents/%d", o.kbID, id) }
	get := func(path string) *webtest.Response {
		req, _ := http.NewRequest(http.MethodGet, inst.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		return o.owner.Do(req)
	}
	o.waitDocs()
	if res := get(docPath(out.Document.ID)); !strings.Contains(res.Body, `"status":"ready"`) {
		t.Errorf("the PDF document: %s", res.Body)
	}
	if res := get(fmt.Sprintf("/api/v1/knowledge-bases/%d/search?q=%s", o.kbID, url.QueryEscape("sonho de creme"))); !strings.Contains(res.Body, "9 reais") {
		t.Errorf("search: %s", res.Body)
	}
	if res := send("protegido.pdf", pdfFile(t, "segredo", "x")); res.StatusCode != http.StatusAccepted || json.Unmarshal([]byte(res.Body), &out) != nil {
		t.Fatalf("a protected PDF: %d %s", res.StatusCode, res.Body)
	}
	o.waitDocs()
	if res := get(docPath(out.Document.ID)); !strings.Contains(res.Body, `"status":"failed"`) || !strings.Contains(res.Body, "This PDF is protected by a password.") {
		t.Errorf("the protected PDF: %s", res.Body)
	}
	if res := send("lixo.pdf", []byte("GIF89a")); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "damaged") {
		t.Errorf("not a PDF: %d %s", res.StatusCode, res.Body)
	}
	for _, declared := range []bool{true, false} {
		res, took := hugeUpload(t, o.owner, fmt.Sprintf("/api/v1/knowledge-bases/%d/documents", o.kbID), "", key, 50<<20, declared)
		if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(res.Body, `"too_large"`) {
			t.Errorf("50 MB, declared %v: %d %s", declared, res.StatusCode, res.Body)
		}
		t.Logf("50 MB API upload, length declared %v: refused in %s", declared, took.Round(time.Millisecond))
	}
	if docs := o.waitDocs(); len(docs) != 2 {
		t.Errorf("%d documents, want 2", len(docs))
	}
}
