package crm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/riverqueue/river"

	"masteria/app/crm"
	"masteria/app/crm/csvimport"
	"masteria/app/jobs"
	"masteria/app/model"
)

// withQueue gives the service a real River client (insert-only) on the test database, and
// returns a function that runs the import job of an import the way a worker does.
func withQueue(t testing.TB, e env) func(id int64) {
	t.Helper()
	reg := jobs.NewRegistry()
	crm.Register(reg, e.svc)
	q, err := jobs.New(e.ctx, e.st.DB().DB, e.url, reg, jobs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = q.Stop(context.Background()) })
	e.svc.SetJobs(q)
	return func(id int64) {
		t.Helper()
		w := &crm.ImportWorker{Service: e.svc}
		job := &river.Job[crm.ImportArgs]{Args: crm.ImportArgs{OrgID: e.a.OrgID, ImportID: id, ActorID: e.a.UserID}}
		if err := w.Work(e.ctx, job); err != nil {
			t.Fatalf("import job: %v", err)
		}
	}
}

// importCSV uploads data, confirms the guessed mapping and runs the job; it returns the
// finished import and its rejected rows.
func importCSV(t testing.TB, e env, run func(int64), data string, onExisting string) (model.ContactImport, []model.ImportReject) {
	t.Helper()
	id, err := e.svc.Upload(e.ctx, e.a, "clientes.csv", []byte(data))
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	p, err := e.svc.Preview(e.ctx, e.a.OrgID, id)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.StartImport(e.ctx, e.a, id, p.Mapping, onExisting); err != nil {
		t.Fatalf("start: %v", err)
	}
	// Pressing Import twice queues one job.
	if err := e.svc.StartImport(e.ctx, e.a, id, p.Mapping, onExisting); err != nil {
		t.Fatalf("second start: %v", err)
	}
	var queued int
	_ = e.st.DB().Get(&queued, `SELECT count(*) FROM river_job WHERE kind = 'crm.import' AND args->>'import_id' = $1`, itoa(int(id)))
	if queued != 1 {
		t.Fatalf("%d jobs queued for one import", queued)
	}
	run(id)
	im, err := e.svc.Import(e.ctx, e.a.OrgID, id)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := e.svc.Rejects(e.ctx, e.a.OrgID, id)
	if err != nil {
		t.Fatal(err)
	}
	return im, rs
}

func TestImportRealWorldFile(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	run := withQueue(t, e)
	if _, err := e.svc.CreateField(e.ctx, e.a, "Cidade", "text", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Create(e.ctx, e.a, crm.ContactInput{Name: "Já Existe", Phone: "(11) 90000-0001", Email: "ja@existe.com"}); err != nil {
		t.Fatal(err)
	}
	// Excel in Portuguese: a BOM, semicolons, an unknown column, blank rows, a bad phone,
	// a bad email, a row with broken quoting in the middle, the same phone twice, CRLF.
	data := "\ufeffNome;Celular;E-mail;Etiquetas;Cidade;Coluna Estranha\r\n" +
		"Ana Souza;(11) 98765-4321;ana@loja.com;VIP, Atacado;São Paulo;x\r\n" +
		";;;;;\r\n" +
		"Bruno;12;bruno@loja.com;;Rio;y\r\n" +
		"Carla;11 97777-0000;carla@;;;z\r\n" +
		"Dani \"a\" Lima;11 96666-0000;;;;\r\n" +
		"Eva;11 95555-0000;;VIP;Campinas;\r\n" +
		"Eva Maria;+55 11 95555-0000;eva@loja.com;;;\r\n" +
		"Já Existe de Novo;11 90000-0001;;Novo;;\r\n" +
		"\r\n" +
		"Fábio;;fabio@loja.com;;;\r\n"
	im, rs := importCSV(t, e, run, data, "update")
	if im.Status != "done" {
		t.Fatalf("status %s: %s", im.Status, im.Error)
	}
	reasons := map[int]string{}
	for _, r := range rs {
		reasons[r.Line] = r.Reason
	}
	if reasons[4] == "" || !strings.HasPrefix(reasons[4], "phone.") || reasons[5] != "invalid_email" || reasons[6] != "csv.bad_quote" {
		t.Fatalf("rejects %+v", rs)
	}
	// Ana, Eva (then merged by Eva Maria), Fábio new; Já Existe updated (and Eva Maria's row).
	if im.Imported != 3 || im.Updated != 2 || im.Rejected != 3 || im.Skipped != 0 {
		t.Fatalf("counts %+v", im)
	}
	c, err := e.svc.List(e.ctx, e.a, model.ContactFilter{Query: "95555"}, model.ContactSort{}, "")
	if err != nil || len(c.Contacts) != 1 || c.Contacts[0].Name != "Eva Maria" || *c.Contacts[0].Email != "eva@loja.com" || len(c.Contacts[0].TagIDs) != 1 {
		t.Fatalf("merged Eva: %+v %v", c.Contacts, err)
	}
	var attrs map[string]any
	ana, _ := e.svc.List(e.ctx, e.a, model.ContactFilter{Query: "ana souza"}, model.ContactSort{}, "")
	_ = json.Unmarshal(ana.Contacts[0].Attributes, &attrs)
	if attrs["cidade"] != "São Paulo" || len(ana.Contacts[0].TagIDs) != 2 {
		t.Fatalf("Ana: %+v %s", ana.Contacts[0], ana.Contacts[0].Attributes)
	}
	old, _ := e.svc.List(e.ctx, e.a, model.ContactFilter{Query: "90000"}, model.ContactSort{}, "")
	if old.Contacts[0].Name != "Já Existe de Novo" || *old.Contacts[0].Email != "ja@existe.com" {
		t.Fatalf("update mode must fill in, never blank: %+v", old.Contacts[0])
	}
	evs, _ := e.svc.Timeline(e.ctx, e.a.OrgID, ana.Contacts[0].ID, 0)
	if len(evs) == 0 || evs[0].Kind != "imported" {
		t.Fatalf("timeline %+v", evs)
	}
	// The upload is dropped once read; the report stays.
	var left int
	_ = e.st.DB().Get(&left, `SELECT count(*) FROM contact_imports WHERE data IS NOT NULL`)
	if left != 0 {
		t.Fatal("the uploaded file was kept after the import")
	}
}

func TestImportSkipModeLeavesExistingContacts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	run := withQueue(t, e)
	if _, err := e.svc.Create(e.ctx, e.a, crm.ContactInput{Name: "Original", Phone: "11988887777"}); err != nil {
		t.Fatal(err)
	}
	im, _ := importCSV(t, e, run, "name,phone\nOutro Nome,11988887777\nNovo,11977776666\n", "skip")
	if im.Imported != 1 || im.Skipped != 1 || im.Updated != 0 {
		t.Fatalf("counts %+v", im)
	}
	c, _ := e.svc.List(e.ctx, e.a, model.ContactFilter{Query: "88887777"}, model.ContactSort{}, "")
	if c.Contacts[0].Name != "Original" {
		t.Fatalf("skip mode changed the contact: %q", c.Contacts[0].Name)
	}
}

func TestImportCommaFileWithSemicolonsInsideQuotes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	run := withQueue(t, e)
	im, rs := importCSV(t, e, run, "name,phone,notes\n\"Silva; Irmãos\",11911112222,\"a, b\"\nOutra,11911113333,c\n", "update")
	if im.Imported != 2 || len(rs) != 0 {
		t.Fatalf("counts %+v rejects %+v", im, rs)
	}
}

func TestUploadBadFiles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for name, data := range map[string][]byte{
		"empty":     {},
		"binary":    {0x89, 'P', 'N', 'G', 0, 0, 0, 0x0d, 1, 2, 3, 0, 0, 0xff, 0xfe, 0},
		"too large": bytes.Repeat([]byte("nome,telefone\n"), crm.MaxImportSize/14+10),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := e.svc.Upload(e.ctx, e.a, name+".csv", data)
			fieldErr(t, err, "file", "*")
		})
	}
	var n int
	_ = e.st.DB().Get(&n, `SELECT count(*) FROM contact_imports`)
	if n != 0 {
		t.Fatalf("bad uploads were stored: %d", n)
	}
	// A file with neither a phone nor a name column cannot start.
	id, err := e.svc.Upload(e.ctx, e.a, "x.csv", []byte("cor,tamanho\nazul,M\n"))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := e.svc.Preview(e.ctx, e.a.OrgID, id)
	err = e.svc.StartImport(e.ctx, e.a, id, p.Mapping, "update")
	fieldErr(t, err, "mapping", "contacts.import.error.no_key_column")
	err = e.svc.StartImport(e.ctx, e.a, id, csvimport.Mapping{csvimport.Target("phone"), ""}, "sometimes")
	fieldErr(t, err, "on_existing", "contacts.import.error.on_existing")
	other := e.a
	other.OrgID += 1000
	if err := e.svc.StartImport(e.ctx, other, id, csvimport.Mapping{"phone", ""}, "update"); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("another org's import: %v", err)
	}
}

// "Contacts already here" is an explicit choice: fill only what the contact has empty, or
// overwrite with what the file has. Neither ever blanks a field with an empty cell.
func TestImportFillOrOverwrite(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{model.ImportFill, model.ImportOverwrite} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			run := withQueue(t, e)
			if _, err := e.svc.CreateField(e.ctx, e.a, "Cidade", "text", nil); err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.Create(e.ctx, e.a, crm.ContactInput{Name: "Ana Original", Phone: "11988880001", Email: "ana@velho.com",
				Attributes: map[string]string{"cidade": "Rio"}}); err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.Create(e.ctx, e.a, crm.ContactInput{Name: "Bia", Phone: "11988880002"}); err != nil {
				t.Fatal(err)
			}
			im, _ := importCSV(t, e, run, "nome,telefone,email,cidade\n"+
				"Ana Nova,11988880001,ana@novo.com,São Paulo\n"+
				",11988880002,bia@novo.com,Campinas\n", mode)
			if im.Status != "done" || im.OnExisting != mode || im.Updated != 2 || im.Imported != 0 {
				t.Fatalf("import %+v", im)
			}
			get := func(q string) (string, string, string) {
				l, err := e.svc.List(e.ctx, e.a, model.ContactFilter{Query: q}, model.ContactSort{}, "")
				if err != nil || len(l.Contacts) != 1 {
					t.Fatalf("%s: %v %d", q, err, len(l.Contacts))
				}
				c := l.Contacts[0]
				var attrs map[string]any
				_ = json.Unmarshal(c.Attributes, &attrs)
				email := ""
				if c.Email != nil {
					email = *c.Email
				}
				city, _ := attrs["cidade"].(string)
				return c.Name, email, city
			}
			name, email, city := get("88880001")
			want := [3]string{"Ana Original", "ana@velho.com", "Rio"}
			if mode == model.ImportOverwrite {
				want = [3]string{"Ana Nova", "ana@novo.com", "São Paulo"}
			}
			if [3]string{name, email, city} != want {
				t.Errorf("Ana after %s: %q %q %q, want %q", mode, name, email, city, want)
			}
			// Bia had no email nor city: both modes fill them; the empty name cell erases nothing.
			if name, email, city := get("88880002"); name != "Bia" || email != "bia@novo.com" || city != "Campinas" {
				t.Errorf("Bia after %s: %q %q %q", mode, name, email, city)
			}
		})
	}
	e := newEnv(t)
	fieldErr(t, e.svc.StartImport(e.ctx, e.a, 1, csvimport.Mapping{"name", "phone"}, "merge"), "on_existing", "contacts.import.error.on_existing")
}

// Every row of the file is counted once: created + updated + skipped + rejected = rows read,
// the total the page shows — a row with broken quoting included.
func TestImportCountersAddUp(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	run := withQueue(t, e)
	if _, err := e.svc.Create(e.ctx, e.a, crm.ContactInput{Name: "Já Existe", Phone: "11988887777"}); err != nil {
		t.Fatal(err)
	}
	data := "name;phone\n" +
		"Nova;11977776666\n" + // created
		"Já Existe;11988887777\n" + // skipped
		"Curto;12\n" + // rejected: phone
		"Ci \"ta\" ;11955554444\n" + // rejected: quoting
		"\n" + // a blank line is no row
		"Outra;11966665555\n" // created
	im, rs := importCSV(t, e, run, data, model.ImportSkip)
	if im.Imported != 2 || im.Skipped != 1 || im.Rejected != 2 || im.Updated != 0 || len(rs) != 2 {
		t.Fatalf("counts %+v, rejects %+v", im, rs)
	}
	if sum := im.Imported + im.Updated + im.Skipped + im.Rejected; sum != 5 || im.Total != 5 || im.Processed != 5 {
		t.Fatalf("created+updated+skipped+rejected = %d, total %d, processed %d; the file has 5 rows", sum, im.Total, im.Processed)
	}
	var delim string
	_ = e.st.DB().Get(&delim, `SELECT delimiter FROM contact_imports WHERE id = $1`, im.ID)
	if delim != ";" || im.Delimiter != ";" {
		t.Fatalf("the upload's delimiter is not kept: %q %q", delim, im.Delimiter)
	}
}

// A NUL byte or invalid UTF-8 in a cell past the part of the file that is sniffed never
// fails the import: the cell is cleaned, the row imported, and every row is counted.
func TestImportHostileCellsAreCleaned(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	run := withQueue(t, e)
	var b strings.Builder
	b.WriteString("nome,telefone,email\n")
	rows := 0
	for b.Len() < 80<<10 {
		fmt.Fprintf(&b, "Cliente %d,+55 11 9%08d,cliente%d@loja.com\n", rows, rows, rows)
		rows++
	}
	b.WriteString("Ana\x00 Paula,+55 11 977770001,\n")
	b.WriteString("Jo\xe3o \xff,+55 11 977770002,\n")
	rows += 2
	im, rs := importCSV(t, e, run, b.String(), model.ImportFill)
	if im.Status != "done" || im.Imported+im.Updated+im.Skipped+im.Rejected != rows || im.Total != rows {
		t.Fatalf("import %s %q: %d+%d+%d+%d of %d rows (total %d), rejects %v", im.Status, im.Error, im.Imported, im.Updated, im.Skipped, im.Rejected, rows, im.Total, rs)
	}
	var names []string
	_ = e.st.DB().Select(&names, `SELECT name FROM contacts WHERE phone IN ('+5511977770001', '+5511977770002') ORDER BY phone`)
	if len(names) != 2 || names[0] != "Ana Paula" || strings.ContainsRune(names[1], 0) || !strings.HasPrefix(names[1], "Jo") {
		t.Fatalf("cleaned names %q", names)
	}
}
