package kb_test

import (
	"bytes"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"
	"time"

	"codeberg.org/go-pdf/fpdf"

	"masteria/app/ai/kb"
	"masteria/app/model"
	"masteria/app/store/storetest"
)

// makePDF writes a PDF with fpdf (A4, millimetres, Helvetica in Windows-1252, as most
// office programs write Portuguese).
func makePDF(t testing.TB, draw func(f *fpdf.Fpdf, tr func(string) string)) []byte {
	t.Helper()
	f := fpdf.New("P", "mm", "A4", "")
	f.SetCreationDate(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	draw(f, f.UnicodeTranslatorFromDescriptor(""))
	var b bytes.Buffer
	if err := f.Output(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

const (
	entregas = "Entregamos bolos, tortas e salgados em toda a cidade de terça a domingo, das 9 às 18 horas. " +
		"A taxa de entrega é de 8 reais no Centro e de 12 reais nos outros bairros; pedidos acima de 150 reais não pagam entrega."
	encomendas = "Encomendas de bolos decorados precisam de pelo menos três dias de antecedência e de um sinal de metade do valor, " +
		"pago por Pix ou cartão. Bolos de casamento são combinados em uma visita à loja, com prova de sabores."
	horario = "Abrimos de segunda a sábado das 7 às 20 horas e aos domingos das 7 às 13 horas. Nos feriados o horário é o de domingo."
)

// bakeryPDF is two pages: a title, headings, paragraphs that wrap over several lines, a
// list, a paragraph that goes on from the first page to the second, page numbers.
func bakeryPDF(t testing.TB) []byte {
	return makePDF(t, func(f *fpdf.Fpdf, tr func(string) string) {
		f.SetFooterFunc(func() {
			f.SetY(-15)
			f.SetFont("Helvetica", "", 9)
			f.CellFormat(0, 10, tr(fmt.Sprintf("Página %d", f.PageNo())), "", 0, "C", false, 0, "")
		})
		f.AddPage()
		f.SetFont("Helvetica", "B", 20)
		f.MultiCell(0, 10, tr("Confeitaria Doce Lar"), "", "L", false)
		f.Ln(4)
		f.SetFont("Helvetica", "B", 14)
		f.MultiCell(0, 8, tr("Entregas"), "", "L", false)
		f.SetFont("Helvetica", "", 11)
		f.MultiCell(120, 5.5, tr(entregas), "", "L", false)
		f.Ln(3)
		f.MultiCell(120, 5.5, tr("Aceitamos:"), "", "L", false)
		for _, item := range []string{"- Pix", "- cartão de crédito ou débito", "- dinheiro"} {
			f.MultiCell(120, 5.5, tr(item), "", "L", false)
		}
		f.Ln(3)
		f.SetFont("Helvetica", "B", 14)
		f.MultiCell(0, 8, tr("Encomendas"), "", "L", false)
		f.SetFont("Helvetica", "", 11)
		f.SetY(262) // the paragraph goes on to the next page
		f.MultiCell(120, 5.5, tr(encomendas), "", "L", false)
		f.Ln(3)
		f.SetFont("Helvetica", "B", 14)
		f.MultiCell(0, 8, tr("Horário"), "", "L", false)
		f.SetFont("Helvetica", "", 11)
		f.MultiCell(120, 5.5, tr(horario), "", "L", false)
	})
}

func TestKBPDFText(t *testing.T) {
	data := bakeryPDF(t)
	text, err := kb.ExtractPDF(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d bytes of PDF:\n%s", len(data), text)
	paras := strings.Split(text, "\n\n")
	want := []string{
		"# Confeitaria Doce Lar",
		"## Entregas",
		entregas,
		"Aceitamos:",
		"- Pix",
		"- cartão de crédito ou débito",
		"- dinheiro",
		"## Encomendas",
		encomendas,
		"## Horário",
		horario,
	}
	if len(paras) != len(want) {
		t.Fatalf("%d paragraphs, want %d:\n%q", len(paras), len(want), paras)
	}
	for i := range want {
		if paras[i] != want[i] {
			t.Errorf("paragraph %d:\n got %q\nwant %q", i, paras[i], want[i])
		}
	}
	if strings.Contains(text, "Página") {
		t.Error("page numbers kept")
	}
	// Through Extract, by the file's name.
	if got, err := kb.Extract("Cardápio.PDF", data); err != nil || got != text {
		t.Errorf("Extract: %v", err)
	}
}

// rawPDF writes a PDF by hand: objects 1… in order (each the text between "n 0 obj" and
// "endobj"), with a correct cross-reference table, catalog 1 and page tree 2.
func rawPDF(header string, objects ...string) []byte {
	var b bytes.Buffer
	b.WriteString(header + "\n")
	offsets := make([]int, len(objects))
	for i, o := range objects {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objects)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objects)+1, xref)
	return b.Bytes()
}

func stream(content []byte, flate bool) string {
	if flate {
		var z bytes.Buffer
		w := zlib.NewWriter(&z)
		_, _ = w.Write(content)
		_ = w.Close()
		return fmt.Sprintf("<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream", z.Len(), z.Bytes())
	}
	return fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content)
}

// pagesPDF is a PDF whose pages draw the given content streams with Helvetica (F1).
func pagesPDF(header string, contents [][]byte, flate bool) []byte {
	n := len(contents)
	kids := make([]string, n)
	objs := []string{"<< /Type /Catalog /Pages 2 0 R >>", "", "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"}
	for i := range contents {
		page, content := 4+2*i, 5+2*i
		kids[i] = fmt.Sprintf("%d 0 R", page)
		objs = append(objs,
			fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>", content),
			stream(contents[i], flate))
	}
	objs[1] = fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), n)
	return rawPDF(header, objs...)
}

func TestKBPDFHandMade(t *testing.T) {
	ctx := context.Background()
	page := []byte("BT /F1 12 Tf 72 700 Td (Pao de queijo quentinho) Tj 0 -14 Td [(sai ) -250 (as 7 horas.)] TJ ET")
	for _, c := range []struct {
		name   string
		header string
		flate  bool
	}{{"1.4", "%PDF-1.4", false}, {"2.0", "%PDF-2.0", true}, {"a space after the header", "%PDF-1.7 ", true}} {
		got, err := kb.ExtractPDF(ctx, pagesPDF(c.header, [][]byte{page}, c.flate))
		if want := "Pao de queijo quentinho sai as 7 horas."; err != nil || got != want {
			t.Errorf("%s: %q, %v; want %q", c.name, got, err, want)
		}
	}
	// Bytes after the end of the file are ignored.
	junk := append(pagesPDF("%PDF-1.4", [][]byte{page}, false), "\x00\x00 trailing junk\n"...)
	if got, err := kb.ExtractPDF(ctx, junk); err != nil || !strings.Contains(got, "quentinho") {
		t.Errorf("junk after %%%%EOF: %q, %v", got, err)
	}
	// A page drawn through a form (XObject) is read; a form drawing itself stops.
	form := rawPDF("%PDF-1.4",
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
		"<< /Type /Page /Parent 2 0 R /Resources << /XObject << /X1 5 0 R >> >> /Contents 6 0 R >>",
		strings.Replace(stream([]byte("BT /F1 12 Tf 10 10 Td (Dentro do formulario) Tj ET /X1 Do"), false),
			"<< ", "<< /Type /XObject /Subtype /Form /BBox [0 0 500 500] /Resources << /Font << /F1 3 0 R >> /XObject << /X1 5 0 R >> >> ", 1),
		stream([]byte("q 1 0 0 1 50 600 cm /X1 Do Q"), false))
	if got, err := kb.ExtractPDF(ctx, form); err != nil || !strings.HasPrefix(got, "Dentro do formulario") {
		t.Errorf("form: %q, %v", got, err)
	}
	// A page tree that loops back on itself is damaged.
	loop := rawPDF("%PDF-1.4", "<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [2 0 R] /Count 1 >>")
	if _, err := kb.ExtractPDF(ctx, loop); !errors.Is(err, kb.ErrBrokenPDF) {
		t.Errorf("a looping page tree: %v", err)
	}
	// A page whose content unpacks to more than 4 MB is left out (a compression bomb);
	// the other pages are read.
	bomb := append([]byte("%"), bytes.Repeat([]byte("x"), 5<<20)...)
	got, err := kb.ExtractPDF(ctx, pagesPDF("%PDF-1.4", [][]byte{bomb, page}, true))
	if err != nil || !strings.Contains(got, "quentinho") {
		t.Errorf("a bomb page and a good one: %q, %v", got, err)
	}
	if _, err := kb.ExtractPDF(ctx, pagesPDF("%PDF-1.4", [][]byte{bomb}, true)); !errors.Is(err, kb.ErrBrokenPDF) {
		t.Errorf("only a bomb page: %v", err)
	}
	// All pages together may unpack to 64 MB.
	big := append([]byte("%"), bytes.Repeat([]byte("x"), 4<<20-100)...)
	many := make([][]byte, 17)
	for i := range many {
		many[i] = big
	}
	if _, err := kb.ExtractPDF(ctx, pagesPDF("%PDF-1.4", many, true)); !errors.Is(err, kb.ErrPDFComplex) {
		t.Errorf("pages that unpack to 68 MB: %v", err)
	}
}

func TestKBPDFRefused(t *testing.T) {
	ctx := context.Background()
	good := bakeryPDF(t)
	for _, c := range []struct {
		name string
		data []byte
		want error
	}{
		{"truncated", good[:len(good)/2], kb.ErrBrokenPDF},
		{"cut before its end", good[:len(good)-40], kb.ErrBrokenPDF},
		{"garbage after a header", append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef}, 500)...), kb.ErrBrokenPDF},
		{"garbage with an end", []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage\nstartxref\n9\n%%EOF\n"), kb.ErrBrokenPDF},
		{"not a PDF", []byte("PK\x03\x04 a zip file"), kb.ErrBrokenPDF},
		{"empty", nil, kb.ErrBrokenPDF},
		{"a page without text", makePDF(t, func(f *fpdf.Fpdf, _ func(string) string) { f.AddPage() }), kb.ErrNoTextPDF},
		{"a scan", makePDF(t, func(f *fpdf.Fpdf, _ func(string) string) {
			img := image.NewGray(image.Rect(0, 0, 60, 80))
			for i := range img.Pix {
				img.Pix[i] = uint8(i * 7)
			}
			img.Set(3, 3, color.Black)
			var b bytes.Buffer
			_ = png.Encode(&b, img)
			f.RegisterImageOptionsReader("scan", fpdf.ImageOptions{ImageType: "PNG"}, &b)
			for range 2 {
				f.AddPage()
				f.ImageOptions("scan", 10, 10, 190, 270, false, fpdf.ImageOptions{ImageType: "PNG"}, 0, "")
			}
		}), kb.ErrNoTextPDF},
		{"a password", makePDF(t, func(f *fpdf.Fpdf, tr func(string) string) {
			f.SetProtection(fpdf.CnProtectPrint, "segredo", "dono")
			f.AddPage()
			f.SetFont("Helvetica", "", 12)
			f.Cell(0, 10, tr("Receita secreta"))
		}), kb.ErrEncryptedPDF},
		{"501 pages", makePDF(t, func(f *fpdf.Fpdf, _ func(string) string) {
			f.SetFont("Helvetica", "", 12)
			for i := range 501 {
				f.AddPage()
				f.Cell(0, 10, fmt.Sprint("page ", i))
			}
		}), kb.ErrPDFPages},
	} {
		if got, err := kb.ExtractPDF(ctx, c.data); !errors.Is(err, c.want) {
			t.Errorf("%s: %q, %v; want %v", c.name, got, err, c.want)
		}
	}
	// Protected only against changes (no password to open): read, or (the streams of some
	// writers do not decrypt) said to be protected, never damaged.
	owner := makePDF(t, func(f *fpdf.Fpdf, tr func(string) string) {
		f.SetProtection(fpdf.CnProtectPrint, "", "dono")
		f.AddPage()
		f.SetFont("Helvetica", "", 12)
		f.Cell(0, 10, tr("Receita da casa: pão de mel."))
	})
	if got, err := kb.ExtractPDF(ctx, owner); !errors.Is(err, kb.ErrEncryptedPDF) && (err != nil || got != "Receita da casa: pão de mel.") {
		t.Errorf("a PDF with an owner password only: %q, %v", got, err)
	}
	if _, err := kb.ExtractPDF(ctx, make([]byte, kb.MaxFileBytes+1)); !errors.Is(err, kb.ErrTooLarge) {
		t.Errorf("over 5 MB: %v", err)
	}
	// Longer than the time limit: too complex. A caller that gives up gets its own error.
	defer kb.SetPDFTimeLimit(time.Nanosecond)()
	if _, err := kb.ExtractPDF(ctx, good); !errors.Is(err, kb.ErrPDFComplex) {
		t.Errorf("over the time limit: %v", err)
	}
	gone, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := kb.ExtractPDF(gone, good); !errors.Is(err, context.Canceled) {
		t.Errorf("the caller gave up: %v", err)
	}
}

// A PDF is kept as uploaded and read by the index job: its text indexed and found, the
// file dropped. A damaged or protected one leaves its document failed with the reason's
// message key, the file kept for another try, the other documents untouched; a file that
// is not a PDF at all is refused at once, nothing stored.
func TestKBPDFIndexed(t *testing.T) {
	st, _ := storetest.New(t)
	ctx := context.Background()
	org, _ := st.CreateOrg(ctx, "Doce Lar")
	other, _ := st.CreateOrg(ctx, "Outra")
	s := kb.New(st, kb.Options{})
	jobs := &noJobs{}
	s.SetJobs(jobs)
	owner := model.Actor{OrgID: org.ID, Role: model.RoleOwner}
	base, err := s.CreateBase(ctx, owner, "Loja", "")
	if err != nil {
		t.Fatal(err)
	}
	text, err := s.AddText(ctx, owner, base.ID, "Pães", "Pão francês sai do forno às 7 horas.")
	if err != nil || s.Index(ctx, org.ID, text.ID) != nil {
		t.Fatalf("text: %v", err)
	}

	doc, err := s.AddFile(ctx, owner, base.ID, "", "Cardápio.pdf", bakeryPDF(t))
	if err != nil || doc.Status != model.DocPending || doc.Title != "Cardápio.pdf" || jobs.n != 2 {
		t.Fatalf("add: %+v %v (jobs %d)", doc, err, jobs.n)
	}
	if _, err := st.DocumentFile(ctx, org.ID, doc.ID); err != nil {
		t.Fatalf("the file is not kept for the job: %v", err)
	}
	if _, err := st.DocumentFile(ctx, other.ID, doc.ID); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("another org reads the file: %v", err)
	}
	if err := s.Index(ctx, org.ID, doc.ID); err != nil {
		t.Fatal(err)
	}
	d, _ := s.Document(ctx, org.ID, doc.ID)
	if d.Status != model.DocReady || d.Chunks < 3 || !strings.Contains(d.Content, entregas) {
		t.Fatalf("indexed: %+v", d)
	}
	if _, err := st.DocumentFile(ctx, org.ID, doc.ID); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("the file is kept after its text was read: %v", err)
	}
	hits, _, err := s.Search(ctx, org.ID, nil, "qual a taxa de entrega no centro?", 5)
	if err != nil || len(hits) == 0 || hits[0].DocumentID != doc.ID || hits[0].Heading != "Confeitaria Doce Lar > Entregas" {
		t.Errorf("search: %+v %v", hits, err)
	}
	// Indexed again: the text read stays (the file is gone).
	if err := s.Reindex(ctx, owner, doc.ID); err != nil || s.Index(ctx, org.ID, doc.ID) != nil {
		t.Fatalf("reindex: %v", err)
	}
	if d2, _ := s.Document(ctx, org.ID, doc.ID); d2.Status != model.DocReady || d2.Chunks != d.Chunks {
		t.Errorf("reindexed: %+v", d2)
	}

	protected := makePDF(t, func(f *fpdf.Fpdf, tr func(string) string) {
		f.SetProtection(fpdf.CnProtectPrint, "segredo", "dono")
		f.AddPage()
		f.SetFont("Helvetica", "", 12)
		f.Cell(0, 10, "Receita")
	})
	good := bakeryPDF(t)
	for _, c := range []struct {
		name string
		data []byte
		key  string
	}{
		{"damaged.pdf", good[:len(good)/2], "kb.error.pdf_broken"},
		{"protegido.pdf", protected, "kb.error.pdf_encrypted"},
		{"vazio.pdf", makePDF(t, func(f *fpdf.Fpdf, _ func(string) string) { f.AddPage() }), "kb.error.pdf_no_text"},
	} {
		bad, err := s.AddFile(ctx, owner, base.ID, "", c.name, c.data)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if err := s.Index(ctx, org.ID, bad.ID); err == nil {
			t.Errorf("%s indexed", c.name)
		}
		d, _ := s.Document(ctx, org.ID, bad.ID)
		if d.Status != model.DocFailed || d.Error != c.key || d.Chunks != 0 {
			t.Errorf("%s: %+v, want failed with %s", c.name, d, c.key)
		}
		if _, err := st.DocumentFile(ctx, org.ID, bad.ID); err != nil {
			t.Errorf("%s: the file is not kept for another try: %v", c.name, err)
		}
	}
	// A text written over a failed PDF wins: the file goes, the text is indexed.
	docs, _ := s.Documents(ctx, org.ID, base.ID)
	failed := docs[0]
	if err := s.UpdateDocument(ctx, owner, failed.ID, "Vazio", "Agora com texto: sonho de creme."); err != nil || s.Index(ctx, org.ID, failed.ID) != nil {
		t.Fatalf("edit a failed PDF: %v", err)
	}
	if d, _ := s.Document(ctx, org.ID, failed.ID); d.Status != model.DocReady || d.Error != "" {
		t.Errorf("edited: %+v", d)
	}
	if _, err := st.DocumentFile(ctx, org.ID, failed.ID); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("the file stays after an edit: %v", err)
	}
	// Nothing else was lost.
	if d, _ := s.Document(ctx, org.ID, text.ID); d.Status != model.DocReady {
		t.Errorf("the text document: %+v", d)
	}
	if hits, _, _ := s.Search(ctx, org.ID, nil, "pão francês", 5); len(hits) == 0 || hits[0].DocumentID != text.ID {
		t.Errorf("the text document is not found: %+v", hits)
	}

	// Not a PDF at all, or too large: refused now, nothing stored.
	before, _ := s.Documents(ctx, org.ID, base.ID)
	if _, err := s.AddFile(ctx, owner, base.ID, "", "menu.pdf", []byte("PK\x03\x04 not a pdf")); !errors.Is(err, kb.ErrBrokenPDF) {
		t.Errorf("not a PDF: %v", err)
	}
	if _, err := s.AddFile(ctx, owner, base.ID, "", "big.pdf", append([]byte("%PDF-1.4\n"), make([]byte, kb.MaxFileBytes)...)); !errors.Is(err, kb.ErrTooLarge) {
		t.Errorf("over 5 MB: %v", err)
	}
	if _, err := s.AddFile(ctx, model.Actor{OrgID: other.ID, Role: model.RoleOwner}, base.ID, "", "x.pdf", good); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("into another org's knowledge base: %v", err)
	}
	if _, err := s.AddFile(ctx, model.Actor{OrgID: org.ID, Role: model.RoleAgent}, base.ID, "", "x.pdf", good); !errors.Is(err, model.ErrForbidden) {
		t.Errorf("an agent: %v", err)
	}
	if after, _ := s.Documents(ctx, org.ID, base.ID); len(after) != len(before) {
		t.Errorf("%d documents after refused files, want %d", len(after), len(before))
	}
}
