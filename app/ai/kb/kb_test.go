package kb_test

import (
	"archive/zip"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"masteria/app/ai/kb"
	"masteria/app/model"
	"masteria/app/store"
	"masteria/app/store/storetest"
)

func docx(t *testing.T, body string) []byte {
	t.Helper()
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	w, _ := z.Create("word/document.xml")
	fmt.Fprintf(w, `<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>%s</w:body></w:document>`, body)
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestKBExtract(t *testing.T) {
	d := docx(t, `<w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr><w:r><w:t>Entregas</w:t></w:r></w:p>`+
		`<w:p><w:r><w:t>Entregamos </w:t></w:r><w:r><w:t>no Centro.</w:t></w:r></w:p>`)
	got, err := kb.Extract("FAQ.DOCX", d)
	if err != nil || got != "# Entregas\n\nEntregamos no Centro.\n\n" {
		t.Errorf("docx: %q, %v", got, err)
	}
	if _, err := kb.Extract("quebrado.docx", []byte("PK not a zip")); !errors.Is(err, kb.ErrBrokenDocx) {
		t.Errorf("a broken docx: %v", err)
	}
	if _, err := kb.Extract("sem-documento.docx", func() []byte {
		var b bytes.Buffer
		z := zip.NewWriter(&b)
		_, _ = z.Create("other.xml")
		_ = z.Close()
		return b.Bytes()
	}()); !errors.Is(err, kb.ErrBrokenDocx) {
		t.Errorf("a docx without its document: %v", err)
	}
	if _, err := kb.Extract("menu.pdf", []byte("x")); !errors.Is(err, kb.ErrBrokenPDF) {
		t.Errorf("a .pdf that is not a PDF: %v", err)
	}
	for _, name := range []string{"a.xlsx", "b.exe", "c.png"} {
		if _, err := kb.Extract(name, []byte("x")); !errors.Is(err, kb.ErrUnsupported) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := kb.Extract("big.txt", make([]byte, kb.MaxFileBytes+1)); !errors.Is(err, kb.ErrTooLarge) {
		t.Errorf("too large: %v", err)
	}
	if _, err := kb.Extract("bin.txt", []byte{0, 0xff, 0}); !errors.Is(err, kb.ErrBinary) {
		t.Errorf("binary: %v", err)
	}
	if got, _ := kb.Extract("p.md", []byte("# Oi\n\ntexto")); got != "# Oi\n\ntexto" {
		t.Errorf("md: %q", got)
	}
}

func TestKBPublicAddresses(t *testing.T) {
	for a, want := range map[string]bool{
		"8.8.8.8": true, "2606:4700:4700::1111": true, "200.160.2.3": true,
		"127.0.0.1": false, "127.8.0.1": false, "::1": false, "10.0.0.1": false, "172.16.5.4": false, "192.168.1.1": false,
		"169.254.169.254": false, "fe80::1": false, "fc00::1": false, "0.0.0.0": false, "::": false, "100.64.1.1": false,
		"::ffff:127.0.0.1": false, "::ffff:10.0.0.1": false, "224.0.0.1": false,
	} {
		if got := kb.PublicAddr(netip.MustParseAddr(a)); got != want {
			t.Errorf("%s public: %v, want %v", a, got, want)
		}
	}
}

func TestKBFetchLimits(t *testing.T) {
	ctx := context.Background()
	mux := http.NewServeMux()
	mux.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html><body><p>Pão de queijo quentinho.</p></body></html>"))
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write(bytes.Repeat([]byte("a"), kb.MaxFileBytes+10))
	})
	mux.HandleFunc("/hop/", func(w http.ResponseWriter, r *http.Request) {
		var n int
		_, _ = fmt.Sscanf(r.URL.Path, "/hop/%d", &n)
		if n == 0 {
			http.Redirect(w, r, "/page", http.StatusFound)
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/hop/%d", n-1), http.StatusFound)
	})
	mux.HandleFunc("/gone", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	srv := httptest.NewServer(mux)
	defer srv.Close()

	open := kb.New(nil, kb.Options{AllowPrivateURLs: true})
	if text, err := open.FetchPage(ctx, srv.URL+"/page"); err != nil || !strings.Contains(text, "Pão de queijo") {
		t.Errorf("page: %q, %v", text, err)
	}
	if text, err := open.FetchPage(ctx, srv.URL+"/hop/2"); err != nil || !strings.Contains(text, "Pão de queijo") {
		t.Errorf("3 redirects: %q, %v", text, err)
	}
	if _, err := open.FetchPage(ctx, srv.URL+"/hop/3"); err == nil || !strings.Contains(err.Error(), "redirects") {
		t.Errorf("4 redirects: %v", err)
	}
	if _, err := open.FetchPage(ctx, srv.URL+"/big"); !errors.Is(err, kb.ErrTooLarge) {
		t.Errorf("a page over 5 MB: %v", err)
	}
	if _, err := open.FetchPage(ctx, srv.URL+"/gone"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("404: %v", err)
	}

	closed := kb.New(nil, kb.Options{})
	for _, u := range []string{srv.URL + "/page", "http://10.0.0.1/", "http://169.254.169.254/", "http://localhost/", "http://[::1]/"} {
		if _, err := closed.FetchPage(ctx, u); !errors.Is(err, kb.ErrPrivateURL) {
			t.Errorf("%s: %v", u, err)
		}
	}
}

// hashEmbedder makes deterministic unit vectors from a text's words.
type hashEmbedder struct {
	calls int
	fail  error
}

func (h *hashEmbedder) ModelName() string { return "hash" }

func vec(text string) []float32 {
	v := make([]float32, store.EmbeddingDims)
	for _, w := range strings.Fields(strings.ToLower(text)) {
		f := fnv.New32a()
		_, _ = f.Write([]byte(w))
		v[f.Sum32()%store.EmbeddingDims]++
	}
	var n float64
	for _, x := range v {
		n += float64(x * x)
	}
	for i := range v {
		v[i] /= float32(math.Sqrt(n) + 1e-9)
	}
	return v
}

func (h *hashEmbedder) EmbedDocuments(_ context.Context, texts []string) ([][]float32, error) {
	h.calls++
	if h.fail != nil {
		return nil, h.fail
	}
	out := make([][]float32, len(texts))
	for i, t := range texts {
		out[i] = vec(t)
	}
	return out, nil
}

func (h *hashEmbedder) EmbedQuery(_ context.Context, text string) ([]float32, error) {
	if h.fail != nil {
		return nil, h.fail
	}
	return vec(text), nil
}

type noJobs struct{ n int }

func (j *noJobs) InsertTx(context.Context, *sql.Tx, river.JobArgs, *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	j.n++
	return &rivertype.JobInsertResult{}, nil
}

func TestKBIndexEmbedsAndSearchesHybrid(t *testing.T) {
	st, _ := storetest.New(t)
	ctx := context.Background()
	org, _ := st.CreateOrg(ctx, "Doce Lar")
	other, _ := st.CreateOrg(ctx, "Sem Modelo")
	emb := &hashEmbedder{}
	s := kb.New(st, kb.Options{EmbedderFor: func(_ context.Context, orgID int64) (kb.Embedder, error) {
		if orgID == org.ID {
			return emb, nil
		}
		return nil, nil
	}})
	jobs := &noJobs{}
	s.SetJobs(jobs)
	owner := model.Actor{OrgID: org.ID, Role: model.RoleOwner}
	if _, err := s.CreateBase(ctx, model.Actor{OrgID: org.ID, Role: model.RoleAgent}, "Loja", ""); !errors.Is(err, model.ErrForbidden) {
		t.Errorf("an agent creates a knowledge base: %v", err)
	}
	base, err := s.CreateBase(ctx, owner, "  Loja  ", "")
	if err != nil || base.Name != "Loja" {
		t.Fatalf("%+v %v", base, err)
	}
	var paras []string
	for i := range 100 {
		paras = append(paras, fmt.Sprintf("# Produto %d\n\nO bolo número %d custa %d reais.", i, i, i+10))
	}
	doc, err := s.AddText(ctx, owner, base.ID, "", strings.Join(paras, "\n\n"))
	if err != nil || jobs.n != 1 || doc.Title != "Produto 0" {
		t.Fatalf("add: %+v %v (jobs %d)", doc, err, jobs.n)
	}
	if err := s.Index(ctx, org.ID, doc.ID); err != nil {
		t.Fatal(err)
	}
	d, _ := s.Document(ctx, org.ID, doc.ID)
	if d.Status != model.DocReady || d.Chunks == 0 || emb.calls < 1 {
		t.Fatalf("indexed: %+v, %d embed calls", d, emb.calls)
	}
	if want := (d.Chunks + 63) / 64; emb.calls != want {
		t.Errorf("%d embed calls for %d chunks, want %d batches", emb.calls, d.Chunks, want)
	}
	hits, verr, err := s.Search(ctx, org.ID, []int64{base.ID}, "bolo número 42", 5)
	if err != nil || verr != nil || len(hits) == 0 || hits[0].VectorDistance == nil || !strings.Contains(hits[0].Text, "número 42") {
		t.Fatalf("hybrid search: %+v %v %v", hits, verr, err)
	}
	if !s.VectorOn(ctx, org.ID) || s.VectorOn(ctx, other.ID) {
		t.Error("VectorOn")
	}
	// Another org finds nothing of this one.
	if hits, _, _ := s.Search(ctx, other.ID, nil, "bolo número 42", 5); len(hits) != 0 {
		t.Errorf("another org finds %d chunks", len(hits))
	}

	// The embedder fails: the document fails with the error, yet lexical search finds it;
	// a search falls back to lexical and says why.
	emb.fail = errors.New("provider answered 429")
	if err := s.UpdateDocument(ctx, owner, doc.ID, "Bolos", "Torta de limão por 30 reais."); err != nil {
		t.Fatal(err)
	}
	if err := s.Index(ctx, org.ID, doc.ID); err == nil {
		t.Fatal("indexing with a failing embedder succeeded")
	}
	d, _ = s.Document(ctx, org.ID, doc.ID)
	if d.Status != model.DocFailed || !strings.Contains(d.Error, "429") {
		t.Errorf("failed document: %+v", d)
	}
	hits, verr, err = s.Search(ctx, org.ID, nil, "torta de limão", 5)
	if err != nil || verr == nil || len(hits) != 1 || hits[0].VectorDistance != nil {
		t.Errorf("lexical fallback: %+v %v %v", hits, verr, err)
	}
	// A document of another org is not indexed from here.
	if err := s.Index(ctx, other.ID, doc.ID); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("index another org's document: %v", err)
	}
	if _, err := s.AddText(ctx, model.Actor{OrgID: other.ID, Role: model.RoleOwner}, base.ID, "x", "y"); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("add to another org's knowledge base: %v", err)
	}
}
