package crm_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"masteria/app/crm"
	"masteria/app/model"
	"masteria/app/store"
	"masteria/app/store/storetest"
)

// env is one org with an owner, on its own database.
type env struct {
	url string
	st  *store.Store
	svc *crm.Service
	a   model.Actor
	ctx context.Context
}

func newEnv(t testing.TB) env {
	t.Helper()
	st, url := storetest.New(t)
	ctx := context.Background()
	o, err := st.CreateOrg(ctx, "Loja da Ana")
	if err != nil {
		t.Fatal(err)
	}
	u, err := st.CreateUser(ctx, "ana@loja.com.br", "Ana", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.AddMember(ctx, o.ID, u.ID, model.RoleOwner); err != nil {
		t.Fatal(err)
	}
	return env{url: url, st: st, svc: crm.New(st), a: model.Actor{UserID: u.ID, OrgID: o.ID, Role: model.RoleOwner}, ctx: ctx}
}

func fieldErr(t testing.TB, err error, field, key string) {
	t.Helper()
	var v *model.ValidationError
	if !errors.As(err, &v) {
		t.Fatalf("want a field error on %s, got %v", field, err)
	}
	if got := v.Fields[field]; got != key && !(key == "*" && got != "") {
		t.Fatalf("field %s: got %q, want %q (all: %v)", field, got, key, v.Fields)
	}
}

func TestCreateNormalizesThePhone(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c, err := e.svc.Create(e.ctx, e.a, crm.ContactInput{Name: "  João   da Silva ", Phone: "(11) 98765-4321", Email: " Joao@Exemplo.com "})
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "João da Silva" || c.Phone == nil || *c.Phone != "+5511987654321" || *c.Email != "joao@exemplo.com" {
		t.Fatalf("%+v", c)
	}
	evs, _ := e.svc.Timeline(e.ctx, e.a.OrgID, c.ID, 0)
	if len(evs) != 1 || evs[0].Kind != "created" {
		t.Fatalf("timeline %+v", evs)
	}
}

func TestContactBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if _, err := e.svc.Create(e.ctx, e.a, crm.ContactInput{Name: "Ana", Phone: "+55 11 98765-4321"}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		in    crm.ContactInput
		field string
		key   string
	}{
		{"invalid phone", crm.ContactInput{Name: "Bia", Phone: "12"}, "phone", "*"},
		{"letters as phone", crm.ContactInput{Name: "Bia", Phone: "abc"}, "phone", "*"},
		{"duplicate phone in another format", crm.ContactInput{Name: "Bia", Phone: "011 98765 4321"}, "phone", "contacts.error.phone_taken"},
		{"duplicate phone, international", crm.ContactInput{Name: "Bia", Phone: "5511987654321"}, "phone", "contacts.error.phone_taken"},
		{"bad email", crm.ContactInput{Name: "Bia", Email: "bia@"}, "email", "signup.error.invalid_email"},
		{"nothing at all", crm.ContactInput{}, "name", "contacts.error.name_or_phone"},
		{"unknown owner", crm.ContactInput{Name: "Bia", OwnerID: 999999}, "owner", "contacts.error.owner"},
		{"unknown tag", crm.ContactInput{Name: "Bia", TagIDs: []int64{999999}}, "tags", "contacts.error.tags"},
		{"unknown channel", crm.ContactInput{Name: "Bia", OptedOut: []string{"pigeon"}}, "opted_out", "contacts.error.opted_out"},
		{"unknown custom field", crm.ContactInput{Name: "Bia", Attributes: map[string]string{"shoe_size": "42"}}, "attr.shoe_size", "contacts.error.field_unknown"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.Create(e.ctx, e.a, tc.in)
			fieldErr(t, err, tc.field, tc.key)
		})
	}
	n, _ := e.svc.Count(e.ctx, e.a, model.ContactFilter{})
	if n != 1 {
		t.Fatalf("refused contacts were stored: %d contacts", n)
	}
}

func TestCustomFieldsAreTyped(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, f := range []struct{ label, typ string }{{"Aniversário", "date"}, {"Pontos", "number"}, {"Plano", "choice"}, {"Apelido", "text"}} {
		var choices []string
		if f.typ == "choice" {
			choices = []string{"Básico", "Pro"}
		}
		if _, err := e.svc.CreateField(e.ctx, e.a, f.label, f.typ, choices); err != nil {
			t.Fatal(err)
		}
	}
	_, err := e.svc.CreateField(e.ctx, e.a, "Aniversário", "date", nil)
	fieldErr(t, err, "label", "contacts.error.field_taken")
	_, err = e.svc.CreateField(e.ctx, e.a, "Cor", "choice", nil)
	fieldErr(t, err, "choices", "contacts.error.choices_required")

	c, err := e.svc.Create(e.ctx, e.a, crm.ContactInput{Name: "Caio", Attributes: map[string]string{"aniversario": "25/12/1990", "pontos": "12,5", "plano": "pro", "apelido": "Caião"}})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(c.Attributes, &got); err != nil || got["aniversario"] != "1990-12-25" || got["pontos"] != 12.5 || got["plano"] != "Pro" || got["apelido"] != "Caião" {
		t.Fatalf("attributes %s (%v)", c.Attributes, err)
	}
	for key, bad := range map[string]string{"aniversario": "31/02/1990", "pontos": "muitos", "plano": "Ouro"} {
		_, err := e.svc.Create(e.ctx, e.a, crm.ContactInput{Name: "X", Attributes: map[string]string{key: bad}})
		fieldErr(t, err, "attr."+key, "*")
	}
	// Filters on custom fields.
	n, err := e.svc.Count(e.ctx, e.a, model.ContactFilter{Attrs: []model.AttrCond{{Key: "pontos", Op: "gt", Value: "10"}}})
	if err != nil || n != 1 {
		t.Fatalf("gt filter: %d %v", n, err)
	}
	n, _ = e.svc.Count(e.ctx, e.a, model.ContactFilter{Attrs: []model.AttrCond{{Key: "plano", Op: "eq", Value: "Básico"}}})
	if n != 0 {
		t.Fatalf("eq filter: %d", n)
	}
}

func TestUpdateWritesTheTimeline(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tag, err := e.svc.CreateTag(e.ctx, e.a, "VIP", "purple")
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.svc.Create(e.ctx, e.a, crm.ContactInput{Name: "Dora", Phone: "11987650000"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Update(e.ctx, e.a, c.ID, crm.ContactInput{Name: "Dora Lima", Phone: "11987650000", TagIDs: []int64{tag.ID}, OwnerID: e.a.UserID, OptedOut: []string{model.ChannelSMS}})
	if err != nil {
		t.Fatal(err)
	}
	evs, _ := e.svc.Timeline(e.ctx, e.a.OrgID, c.ID, 0)
	kinds := map[string]bool{}
	for _, ev := range evs {
		kinds[ev.Kind] = true
	}
	for _, k := range []string{"created", "updated", "tagged", "owner_changed", "opted_out"} {
		if !kinds[k] {
			t.Errorf("timeline lacks %s: %v", k, kinds)
		}
	}
	// Updating another org's contact is not found.
	other := e.a
	other.OrgID = e.a.OrgID + 1000
	if _, err := e.svc.Update(e.ctx, other, c.ID, crm.ContactInput{Name: "X"}); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("cross-org update: %v", err)
	}
}

func TestListFiltersAndKeysetPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	vip, _ := e.svc.CreateTag(e.ctx, e.a, "VIP", "")
	for i := 0; i < 120; i++ {
		in := crm.ContactInput{Name: "Cliente " + string(rune('A'+i%26)) + strings.Repeat("x", i%3), Phone: "+551198765" + leftPad(i)}
		if i%10 == 0 {
			in.TagIDs = []int64{vip.ID}
			in.OwnerID = e.a.UserID
		}
		if i%7 == 0 {
			in.OptedOut = []string{model.ChannelWhatsApp}
		}
		if _, err := e.svc.Create(e.ctx, e.a, in); err != nil {
			t.Fatal(err)
		}
	}
	// Walk every page of each sort: each contact once, in order.
	for _, sort := range []model.ContactSort{{By: "created"}, {By: "created", Desc: true}, {By: "name"}, {By: "name", Desc: true}, {By: "activity", Desc: true}} {
		seen := map[int64]bool{}
		after, pages := "", 0
		var prev string
		for {
			p, err := e.svc.List(e.ctx, e.a, model.ContactFilter{}, sort, after)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range p.Contacts {
				if seen[c.ID] {
					t.Fatalf("%+v: contact %d twice", sort, c.ID)
				}
				seen[c.ID] = true
				if sort.By == "name" {
					key := strings.ToLower(c.Name)
					if prev != "" && ((!sort.Desc && key < prev) || (sort.Desc && key > prev)) {
						t.Fatalf("%+v: out of order %q after %q", sort, key, prev)
					}
					prev = key
				}
			}
			pages++
			if p.Next == "" {
				break
			}
			after = p.Next
		}
		if len(seen) != 120 || pages != 3 {
			t.Fatalf("%+v: %d contacts in %d pages", sort, len(seen), pages)
		}
	}
	count := func(f model.ContactFilter) int64 {
		n, err := e.svc.Count(e.ctx, e.a, f)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(model.ContactFilter{TagIDs: []int64{vip.ID}}); n != 12 {
		t.Errorf("tag filter: %d", n)
	}
	if n := count(model.ContactFilter{Owner: "me"}); n != 12 {
		t.Errorf("owner filter: %d", n)
	}
	if n := count(model.ContactFilter{Owner: "none"}); n != 108 {
		t.Errorf("unassigned filter: %d", n)
	}
	if n := count(model.ContactFilter{OptedOut: "whatsapp"}); n != 18 {
		t.Errorf("opted-out filter: %d", n)
	}
	if n := count(model.ContactFilter{Query: "cliente bxx"}); n == 0 {
		t.Errorf("search by name found nothing")
	}
	if n := count(model.ContactFilter{Query: "(11) 98765-0007"}); n != 1 {
		t.Errorf("search by phone digits: %d", n)
	}
	if n := count(model.ContactFilter{Query: "100%_"}); n != 0 {
		t.Errorf("LIKE wildcards are not escaped: %d", n)
	}
	if _, err := e.svc.List(e.ctx, e.a, model.ContactFilter{}, model.ContactSort{}, "not-a-cursor"); err == nil {
		t.Error("a forged cursor was accepted")
	}
}

func leftPad(i int) string {
	s := "0000" + itoa(i)
	return s[len(s)-4:]
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

func TestBulkActions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tag, _ := e.svc.CreateTag(e.ctx, e.a, "Black Friday", "orange")
	var ids []int64
	for i := 0; i < 5; i++ {
		c, err := e.svc.Create(e.ctx, e.a, crm.ContactInput{Name: "P" + itoa(i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	n, err := e.svc.Bulk(e.ctx, e.a, crm.BulkTag, ids[:3], false, model.ContactFilter{}, tag.ID)
	if err != nil || n != 3 {
		t.Fatalf("tag: %d %v", n, err)
	}
	if n, _ := e.svc.Bulk(e.ctx, e.a, crm.BulkTag, ids[:3], false, model.ContactFilter{}, tag.ID); n != 0 {
		t.Fatalf("tagging twice changed %d", n)
	}
	n, err = e.svc.Bulk(e.ctx, e.a, crm.BulkAssign, nil, true, model.ContactFilter{TagIDs: []int64{tag.ID}}, e.a.UserID)
	if err != nil || n != 3 {
		t.Fatalf("assign all matching: %d %v", n, err)
	}
	_, err = e.svc.Bulk(e.ctx, e.a, crm.BulkTag, ids, false, model.ContactFilter{}, 999999)
	fieldErr(t, err, "tag", "contacts.error.tags")
	_, err = e.svc.Bulk(e.ctx, e.a, crm.BulkTag, nil, false, model.ContactFilter{}, tag.ID)
	fieldErr(t, err, "ids", "contacts.error.bulk_none")
	agent := e.a
	agent.Role = model.RoleAgent
	if _, err := e.svc.Bulk(e.ctx, agent, crm.BulkDelete, ids, false, model.ContactFilter{}, 0); !errors.Is(err, model.ErrForbidden) {
		t.Fatalf("agent bulk delete: %v", err)
	}
	n, err = e.svc.Bulk(e.ctx, e.a, crm.BulkDelete, append(ids[:2:2], 424242), false, model.ContactFilter{}, 0)
	if err != nil || n != 2 {
		t.Fatalf("delete: %d %v", n, err)
	}
	if total, _ := e.svc.Count(e.ctx, e.a, model.ContactFilter{}); total != 3 {
		t.Fatalf("%d contacts left", total)
	}
}

func TestSegments(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tag, _ := e.svc.CreateTag(e.ctx, e.a, "Atacado", "")
	for i := 0; i < 4; i++ {
		in := crm.ContactInput{Name: "S" + itoa(i)}
		if i%2 == 0 {
			in.TagIDs = []int64{tag.ID}
		}
		if _, err := e.svc.Create(e.ctx, e.a, in); err != nil {
			t.Fatal(err)
		}
	}
	id, err := e.svc.SaveSegment(e.ctx, e.a, 0, "Atacadistas", model.ContactFilter{TagIDs: []int64{tag.ID}})
	if err != nil {
		t.Fatal(err)
	}
	sg, f, err := e.svc.Segment(e.ctx, e.a.OrgID, id)
	if err != nil || sg.Name != "Atacadistas" {
		t.Fatal(err)
	}
	if n, _ := e.svc.Count(e.ctx, e.a, f); n != 2 {
		t.Fatalf("segment count %d", n)
	}
	_, err = e.svc.SaveSegment(e.ctx, e.a, 0, "  ", f)
	fieldErr(t, err, "name", "contacts.error.segment_name")
	if _, _, err := e.svc.Segment(e.ctx, e.a.OrgID+99, id); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("another org's segment: %v", err)
	}
}

func TestExportIsCSVAndDefusesFormulas(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if _, err := e.svc.Create(e.ctx, e.a, crm.ContactInput{Name: "=HYPERLINK(\"http://x\")", Phone: "11987654321"}); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := e.svc.Export(e.ctx, e.a, model.ContactFilter{}, &b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.HasPrefix(out, "\ufeffname,phone,email,tags,owner,opted_out,created_at,last_activity_at\n") || !strings.Contains(out, `"'=HYPERLINK(""http://x"")",+5511987654321`) {
		t.Fatalf("export:\n%s", out)
	}
}

func TestSeedDemoOnlyOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if err := e.svc.SeedDemo(e.ctx, e.a); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SeedDemo(e.ctx, e.a); err != nil {
		t.Fatal(err)
	}
	if n, _ := e.svc.Count(e.ctx, e.a, model.ContactFilter{}); n != 12 {
		t.Fatalf("%d demo contacts", n)
	}
}
