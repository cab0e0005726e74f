package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"masteria/app/crm"
	"masteria/app/crm/board"
	"masteria/app/model"
	"masteria/app/web/webtest"
)

// contractCall is TestAPIAnswersMatchOpenAPI's call: a request checked against the
// document, answered with the status want.
type contractCall func(method, path, body, key string, want int, checkRequest bool) string

// crmOrg is an org with a full key, two tags, a custom field and a member, and a second org
// whose ids are foreign to it.
type crmOrg struct {
	inst               *webtest.Instance
	key                string
	id, owner          int64
	vip, late          model.Tag
	foreignTag         int64
	foreignContact     int64
	foreignSegment     int64
	foreignLead        int64
	foreignStage       int64
	foreignPipeline    int64
	api                func(method, path, body string) (int, string, string)
	apiWith            func(key, method, path, body string) (int, string, string)
	countContactsWhere func(cond string, args ...any) int
	createContact      func(name, phone string) model.Contact
	actor              model.Actor
}

func newCRMOrg(t *testing.T, inst *webtest.Instance, name string) *crmOrg {
	t.Helper()
	ctx := context.Background()
	c, orgID, key := apiOrg(t, inst, name)
	o := &crmOrg{inst: inst, key: key, id: orgID}
	_ = inst.App.Store.DB().Get(&o.owner, `SELECT user_id FROM memberships WHERE org_id = $1`, orgID)
	o.actor = model.Actor{OrgID: orgID, UserID: o.owner, Role: model.RoleOwner}
	var err error
	if o.vip, err = inst.App.CRM.CreateTag(ctx, o.actor, "VIP", "green"); err != nil {
		t.Fatal(err)
	}
	if o.late, err = inst.App.CRM.CreateTag(ctx, o.actor, "Atrasado", "red"); err != nil {
		t.Fatal(err)
	}
	if _, err := inst.App.CRM.CreateField(ctx, o.actor, "Cidade", model.FieldText, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := inst.App.CRM.CreateField(ctx, o.actor, "Pedidos", model.FieldNumber, nil); err != nil {
		t.Fatal(err)
	}
	o.apiWith = func(k, method, path, body string) (int, string, string) {
		t.Helper()
		res := apiCall(t, c, k, method, "/api/v1"+path, body)
		return res.StatusCode, apiCode(t, res), res.Body
	}
	o.api = func(method, path, body string) (int, string, string) {
		t.Helper()
		return o.apiWith(o.key, method, path, body)
	}
	o.countContactsWhere = func(cond string, args ...any) (n int) {
		t.Helper()
		if err := inst.App.Store.DB().Get(&n, `SELECT count(*) FROM contacts WHERE org_id = $1 AND `+cond, append([]any{orgID}, args...)...); err != nil {
			t.Fatal(err)
		}
		return n
	}
	o.createContact = func(name, phone string) model.Contact {
		t.Helper()
		ct, err := inst.App.CRM.Create(ctx, o.actor, crm.ContactInput{Name: name, Phone: phone})
		if err != nil {
			t.Fatal(err)
		}
		return ct
	}
	return o
}

// foreign gives o ids of another org: a tag, a contact, a segment, a pipeline, a stage and
// a lead.
func (o *crmOrg) foreign(t *testing.T, other *crmOrg) {
	t.Helper()
	ctx := context.Background()
	o.foreignTag = other.vip.ID
	o.foreignContact = other.createContact("Outra Org", "+5511987659999").ID
	sid, err := o.inst.App.CRM.SaveSegment(ctx, other.actor, 0, "Deles", model.ContactFilter{Query: "x"})
	if err != nil {
		t.Fatal(err)
	}
	o.foreignSegment = sid
	ps, err := o.inst.App.Board.Pipelines(ctx, other.id)
	if err != nil || len(ps) == 0 {
		t.Fatalf("pipelines: %v", err)
	}
	stages, err := o.inst.App.Board.Stages(ctx, other.id, ps[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	o.foreignPipeline, o.foreignStage = ps[0].ID, stages[0].ID
	var lead int64
	if err := o.inst.App.Store.DB().Get(&lead, `INSERT INTO leads (org_id, pipeline_id, stage_id, contact_id, title, rank)
		VALUES ($1, $2, $3, $4, 'Deles', 'm') RETURNING id`, other.id, ps[0].ID, stages[0].ID, o.foreignContact); err != nil {
		t.Fatal(err)
	}
	o.foreignLead = lead
}

// TestAPIContacts: create, read, change, tag, opt out and delete a contact through the API,
// each change on the contact's history; another org's ids are not found; every bad input
// is refused with its code and changes nothing.
func TestAPIContacts(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	o := newCRMOrg(t, inst, "Loja Contatos API")
	o.foreign(t, newCRMOrg(t, inst, "Loja Vizinha"))

	status, _, res := o.api("POST", "/contacts", fmt.Sprintf(`{"name":"  Ana   Souza ","phone":"(11) 98765-4321","email":"ANA@x.com.br","owner_id":%d,"tag_ids":[%d],"attributes":{"cidade":"Recife","pedidos":3}}`, o.owner, o.vip.ID))
	var out struct{ Contact model.Contact }
	if err := json.Unmarshal([]byte(res), &out); status != 201 || err != nil {
		t.Fatalf("create: %d %s", status, res)
	}
	ct := out.Contact
	if ct.Name != "Ana Souza" || *ct.Phone != "+5511987654321" || *ct.Email != "ana@x.com.br" || len(ct.TagIDs) != 1 ||
		!strings.Contains(string(ct.Attributes), `"pedidos":3`) || ct.OwnerID == nil || *ct.OwnerID != o.owner {
		t.Fatalf("created as %s", res)
	}
	var source string
	_ = inst.App.Store.DB().Get(&source, `SELECT data->>'source' FROM contact_events WHERE org_id = $1 AND contact_id = $2 AND kind = 'created'`, o.id, ct.ID)
	if source != "api" {
		t.Errorf("the history says the contact came from %q", source)
	}
	path := fmt.Sprintf("/contacts/%d", ct.ID)
	if status, _, res := o.api("GET", path, ""); status != 200 || !strings.Contains(res, `"name":"Ana Souza"`) {
		t.Fatalf("read: %d %s", status, res)
	}
	// PATCH changes what it names: the rest stays.
	status, _, res = o.api("PATCH", path, `{"email":"ana@loja.com","attributes":{"pedidos":"4,5","cidade":null},"owner_id":null}`)
	out.Contact = model.Contact{}
	_ = json.Unmarshal([]byte(res), &out)
	if status != 200 || *out.Contact.Email != "ana@loja.com" || out.Contact.Name != "Ana Souza" || *out.Contact.Phone != "+5511987654321" ||
		string(out.Contact.Attributes) != `{"pedidos": 4.5}` && string(out.Contact.Attributes) != `{"pedidos":4.5}` || out.Contact.OwnerID != nil || len(out.Contact.TagIDs) != 1 {
		t.Fatalf("patch: %d %s", status, res)
	}
	// Tags: add (twice is once), take off, and a tag it never had.
	if status, _, res := o.api("POST", path+"/tags", fmt.Sprintf(`{"tag_ids":[%d,%d]}`, o.late.ID, o.late.ID)); status != 200 || !strings.Contains(res, fmt.Sprintf(`"tag_ids":[%d,%d]`, o.vip.ID, o.late.ID)) {
		t.Fatalf("tag: %d %s", status, res)
	}
	if status, _, res := o.api("DELETE", fmt.Sprintf("%s/tags/%d", path, o.vip.ID), ""); status != 200 || !strings.Contains(res, fmt.Sprintf(`"tag_ids":[%d]`, o.late.ID)) {
		t.Fatalf("untag: %d %s", status, res)
	}
	if status, _, _ := o.api("DELETE", fmt.Sprintf("%s/tags/%d", path, o.vip.ID), ""); status != 200 {
		t.Fatalf("untag again: %d", status)
	}
	// Opt-outs: an agent's mark, on the history, and the policy's filter sees it.
	if status, _, res := o.api("PUT", path+"/opt-outs", `{"sms":true,"voice":true}`); status != 200 || !strings.Contains(res, `"opted_out":["sms","voice"]`) &&
		!strings.Contains(res, `"opted_out":["voice","sms"]`) {
		t.Fatalf("opt out: %d %s", status, res)
	}
	if status, _, res := o.api("PUT", path+"/opt-outs", `{"voice":false}`); status != 200 || !strings.Contains(res, `"opted_out":["sms"]`) {
		t.Fatalf("opt back in: %d %s", status, res)
	}
	var kinds string
	_ = inst.App.Store.DB().Get(&kinds, `SELECT string_agg(kind || ':' || coalesce(data->>'channel', data->>'tag_name', ''), ',' ORDER BY id) FROM contact_events
		WHERE org_id = $1 AND contact_id = $2 AND kind IN ('tagged', 'untagged', 'opted_out', 'opted_in')`, o.id, ct.ID)
	for _, want := range []string{"tagged:Atrasado", "untagged:VIP", "opted_out:sms", "opted_out:voice", "opted_in:voice"} {
		if !strings.Contains(kinds, want) {
			t.Errorf("the history lacks %s: %s", want, kinds)
		}
	}
	if strings.Count(kinds, "untagged") != 1 {
		t.Errorf("taking off a tag the contact did not have wrote history: %s", kinds)
	}
	if status, _, res := o.api("GET", "/contacts?opted_out=sms", ""); status != 200 || !strings.Contains(res, fmt.Sprintf(`"id":%d`, ct.ID)) {
		t.Errorf("filter opted_out=sms: %d %s", status, res)
	}

	// Another org's ids: not found, never forbidden, nothing changed.
	fc := fmt.Sprintf("/contacts/%d", o.foreignContact)
	for _, tc := range []struct{ method, path, body string }{
		{"GET", fc, ""},
		{"PATCH", fc, `{"name":"Minha"}`},
		{"DELETE", fc, ""},
		{"POST", fc + "/tags", fmt.Sprintf(`{"tag_ids":[%d]}`, o.vip.ID)},
		{"DELETE", fmt.Sprintf("%s/tags/%d", fc, o.vip.ID), ""},
		{"PUT", fc + "/opt-outs", `{"sms":true}`},
		{"POST", "/contacts", fmt.Sprintf(`{"name":"x","tag_ids":[%d]}`, o.foreignTag)},
		{"PATCH", path, fmt.Sprintf(`{"tag_ids":[%d]}`, o.foreignTag)},
		{"POST", path + "/tags", fmt.Sprintf(`{"tag_ids":[%d]}`, o.foreignTag)},
		{"DELETE", fmt.Sprintf("%s/tags/%d", path, o.foreignTag), ""},
		{"GET", fmt.Sprintf("/contacts?segment_id=%d", o.foreignSegment), ""},
		{"GET", fmt.Sprintf("/contacts?tag=%d", o.foreignTag), ""},
		{"GET", fmt.Sprintf("/contacts?stage=%d", o.foreignStage), ""},
		{"GET", "/contacts/abc", ""},
		{"GET", "/contacts/-1", ""},
	} {
		if status, code, res := o.api(tc.method, tc.path, tc.body); status != 404 || code != "not_found" {
			t.Errorf("%s %s: %d %s, want 404 not_found", tc.method, tc.path, status, res)
		}
	}
	if o.countContactsWhere("true") != 1 {
		t.Errorf("a refused create stored a contact")
	}

	// Bad input on every route: 400 bad JSON, unknown fields, NUL and invalid UTF-8, 413,
	// 422 invalid with fields; nothing changes.
	before := o.countContactsWhere("true")
	var updatedAt string
	_ = inst.App.Store.DB().Get(&updatedAt, `SELECT updated_at::text FROM contacts WHERE id = $1`, ct.ID)
	big := `{"name":"` + strings.Repeat("a", 3<<20) + `"}`
	for name, tc := range map[string]struct {
		method, path, body string
		status             int
		code, fields       string
	}{
		"create not json":        {"POST", "/contacts", `{"name":`, 400, "bad_json", ""},
		"create unknown field":   {"POST", "/contacts", `{"name":"x","nickname":"y"}`, 400, "bad_json", ""},
		"create two objects":     {"POST", "/contacts", `{"name":"x"}{"name":"y"}`, 400, "bad_json", ""},
		"create NUL":             {"POST", "/contacts", `{"name":"a\u0000b"}`, 400, "", ""},
		"create invalid UTF-8":   {"POST", "/contacts", "{\"name\":\"a\xffb\"}", 400, "", ""},
		"create too big":         {"POST", "/contacts", big, 413, "", ""},
		"create nothing":         {"POST", "/contacts", `{}`, 422, "invalid", `"name":"Fill in at least a name or a phone."`},
		"create bad phone":       {"POST", "/contacts", `{"phone":"12"}`, 422, "invalid", `"phone":`},
		"create phone taken":     {"POST", "/contacts", `{"name":"Outra","phone":"+5511987654321"}`, 422, "invalid", `"phone":"Another contact already has this phone."`},
		"create bad email":       {"POST", "/contacts", `{"name":"x","email":"nope"}`, 422, "invalid", `"email":`},
		"create unknown attr":    {"POST", "/contacts", `{"name":"x","attributes":{"sapato":"40"}}`, 422, "invalid", `"attr.sapato":`},
		"create bad number":      {"POST", "/contacts", `{"name":"x","attributes":{"pedidos":"muitos"}}`, 422, "invalid", `"attr.pedidos":"Enter a number."`},
		"create attr object":     {"POST", "/contacts", `{"name":"x","attributes":{"cidade":{"a":1}}}`, 422, "invalid", `"attr.cidade":`},
		"create bad channel":     {"POST", "/contacts", `{"name":"x","opted_out":["fax"]}`, 422, "invalid", `"opted_out":`},
		"create unknown owner":   {"POST", "/contacts", `{"name":"x","owner_id":999999}`, 422, "invalid", `"owner":`},
		"create owner as text":   {"POST", "/contacts", `{"name":"x","owner_id":"1"}`, 422, "invalid", `"owner_id":`},
		"create long name":       {"POST", "/contacts", `{"name":"` + strings.Repeat("a", 201) + `"}`, 422, "invalid", `"name":`},
		"patch not json":         {"PATCH", path, `[`, 400, "bad_json", ""},
		"patch unknown field":    {"PATCH", path, `{"nome":"x"}`, 400, "bad_json", ""},
		"patch NUL":              {"PATCH", path, `{"name":"\u0000"}`, 400, "", ""},
		"patch invalid UTF-8":    {"PATCH", path, "{\"name\":\"\xc3\x28\"}", 400, "", ""},
		"patch too big":          {"PATCH", path, big, 413, "", ""},
		"patch bad phone":        {"PATCH", path, `{"phone":"abc"}`, 422, "invalid", `"phone":`},
		"tags not json":          {"POST", path + "/tags", `{"tag_ids":`, 400, "bad_json", ""},
		"tags unknown field":     {"POST", path + "/tags", `{"tags":[1]}`, 400, "bad_json", ""},
		"tags none":              {"POST", path + "/tags", `{"tag_ids":[]}`, 422, "invalid", `"tag_ids":`},
		"tags too big":           {"POST", path + "/tags", `{"tag_ids":[` + strings.Repeat("1,", 1<<20) + `1]}`, 413, "", ""},
		"opt-outs not json":      {"PUT", path + "/opt-outs", `{"sms":`, 400, "bad_json", ""},
		"opt-outs not a boolean": {"PUT", path + "/opt-outs", `{"sms":"yes"}`, 400, "bad_json", ""},
		"opt-outs unknown":       {"PUT", path + "/opt-outs", `{"fax":true}`, 400, "bad_json", ""},
		"opt-outs NUL key":       {"PUT", path + "/opt-outs", `{"sms\u0000":true}`, 400, "", ""},
		"list unknown param":     {"GET", "/contacts?tags=1", "", 400, "bad_request", ""},
		"list limit 0":           {"GET", "/contacts?limit=0", "", 400, "bad_request", ""},
		"list limit 101":         {"GET", "/contacts?limit=101", "", 400, "bad_request", ""},
		"list bad cursor":        {"GET", "/contacts?after=forged", "", 400, "bad_cursor", ""},
		"list bad sort":          {"GET", "/contacts?sort=random", "", 400, "bad_request", ""},
		"list bad tag":           {"GET", "/contacts?tag=x", "", 422, "invalid", `"tag":`},
		"list bad date":          {"GET", "/contacts?created_from=31/12/2025", "", 422, "invalid", `"created_from":`},
		"list bad opted_out":     {"GET", "/contacts?opted_out=fax", "", 422, "invalid", `"opted_out":`},
		"list owner me":          {"GET", "/contacts?owner=me", "", 422, "invalid", `"owner":`},
		"list NUL in q":          {"GET", "/contacts?q=a%00b", "", 400, "", ""},
		"list invalid UTF-8":     {"GET", "/contacts?q=%ff", "", 400, "", ""},
	} {
		status, code, res := o.api(tc.method, tc.path, tc.body)
		if status != tc.status || (tc.code != "" && code != tc.code) || !strings.Contains(res, tc.fields) {
			t.Errorf("%s: %d %s, want %d %s %s", name, status, res[:min(len(res), 300)], tc.status, tc.code, tc.fields)
		}
		if strings.Contains(res, "contacts.error") || strings.Contains(res, "api.error") {
			t.Errorf("%s: the API answered a translation key: %s", name, res)
		}
	}
	var nowUpdated string
	_ = inst.App.Store.DB().Get(&nowUpdated, `SELECT updated_at::text FROM contacts WHERE id = $1`, ct.ID)
	if n := o.countContactsWhere("true"); n != before || nowUpdated != updatedAt {
		t.Errorf("bad requests changed contacts: %d → %d, updated %s → %s", before, n, updatedAt, nowUpdated)
	}

	if status, _, _ := o.api("DELETE", path, ""); status != 204 {
		t.Fatalf("delete: %d", status)
	}
	if status, code, _ := o.api("GET", path, ""); status != 404 || code != "not_found" {
		t.Fatalf("read deleted: %d %s", status, code)
	}
	if status, _, _ := o.api("DELETE", path, ""); status != 404 {
		t.Fatalf("delete again: %d", status)
	}
	// The same events as the pages publish, each change once.
	var types string
	_ = inst.App.Store.DB().Get(&types, `SELECT string_agg(type, ',' ORDER BY id) FROM events WHERE org_id = $1 AND type LIKE 'contact%'`, o.id)
	if types != "contact.created,contact.updated,contact.updated,contact.updated,contact.updated,contact.updated,contact.updated,contacts.deleted" {
		t.Errorf("events: %s", types)
	}
}

// TestAPIContactsListPages: the list's filters select what the page's filters select,
// and pages walked to the end (any sort, any size) give every contact once.
func TestAPIContactsListPages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	inst := webtest.Start(t)
	o := newCRMOrg(t, inst, "Loja Páginas")
	const n = 53
	for i := range n {
		in := crm.ContactInput{Name: fmt.Sprintf("Cliente %02d", i), Phone: fmt.Sprintf("+55119876%05d", i)}
		if i%3 == 0 {
			in.TagIDs = []int64{o.vip.ID}
		}
		if i%5 == 0 {
			in.OwnerID = o.owner
		}
		if i%7 == 0 {
			in.OptedOut = []string{model.ChannelWhatsApp}
		}
		if _, err := inst.App.CRM.Create(ctx, o.actor, in); err != nil {
			t.Fatal(err)
		}
	}
	// Some share a creation time, so the cursor's tie-break by id is walked too.
	if _, err := inst.App.Store.DB().Exec(`UPDATE contacts SET created_at = date_trunc('minute', now()) WHERE org_id = $1 AND id % 2 = 0`, o.id); err != nil {
		t.Fatal(err)
	}
	walk := func(query string, limit int) []int64 {
		t.Helper()
		var ids []int64
		after := ""
		for pages := 0; ; pages++ {
			if pages > n+2 {
				t.Fatalf("%s: the pages never end", query)
			}
			p := fmt.Sprintf("/contacts?limit=%d&%s", limit, query)
			if after != "" {
				p += "&after=" + after
			}
			status, _, res := o.api("GET", p, "")
			var page struct {
				Contacts []model.Contact
				Next     *string
			}
			if err := json.Unmarshal([]byte(res), &page); status != 200 || err != nil {
				t.Fatalf("%s: %d %s", p, status, res)
			}
			if len(page.Contacts) > limit {
				t.Fatalf("%s: %d contacts on a page of %d", p, len(page.Contacts), limit)
			}
			for _, c := range page.Contacts {
				ids = append(ids, c.ID)
			}
			if page.Next == nil {
				return ids
			}
			after = strings.NewReplacer("+", "%2B", "=", "%3D", "/", "%2F").Replace(*page.Next)
		}
	}
	want := func(cond string, args ...any) map[int64]bool {
		var ids []int64
		if err := inst.App.Store.DB().Select(&ids, `SELECT id FROM contacts WHERE org_id = $1 AND `+cond, append([]any{o.id}, args...)...); err != nil {
			t.Fatal(err)
		}
		m := map[int64]bool{}
		for _, id := range ids {
			m[id] = true
		}
		return m
	}
	segment, err := inst.App.CRM.SaveSegment(ctx, o.actor, 0, "VIPs", model.ContactFilter{TagIDs: []int64{o.vip.ID}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		query string
		limit int
		want  map[int64]bool
	}{
		{"", 7, want("true")},
		{"sort=name", 10, want("true")},
		{"sort=oldest", 100, want("true")},
		{"sort=activity", 9, want("true")},
		{fmt.Sprintf("tag=%d", o.vip.ID), 4, want("$2 = ANY(tag_ids)", o.vip.ID)},
		{fmt.Sprintf("tag=%d&tag=%d", o.vip.ID, o.late.ID), 4, map[int64]bool{}},
		{fmt.Sprintf("segment_id=%d", segment), 5, want("$2 = ANY(tag_ids)", o.vip.ID)},
		{fmt.Sprintf("segment_id=%d&owner=%d", segment, o.owner), 2, want("$2 = ANY(tag_ids) AND owner_id = $3", o.vip.ID, o.owner)},
		{fmt.Sprintf("owner=%d", o.owner), 3, want("owner_id = $2", o.owner)},
		{"owner=none", 50, want("owner_id IS NULL")},
		{"opted_out=whatsapp", 2, want("'whatsapp' = ANY(opted_out)")},
		{"opted_out=none", 11, want("opted_out = '{}'")},
		{"q=cliente+0", 3, want("name LIKE 'Cliente 0%'")},
		{"q=98760001", 3, want("phone LIKE '+551198760001%'")},
		{"created_from=2000-01-01&created_to=2999-12-31", 20, want("true")},
		{"created_to=2000-01-01", 20, map[int64]bool{}},
	} {
		got := walk(tc.query, tc.limit)
		seen := map[int64]bool{}
		for _, id := range got {
			if seen[id] {
				t.Errorf("%q: contact %d twice", tc.query, id)
			}
			seen[id] = true
			if !tc.want[id] {
				t.Errorf("%q: contact %d should not be listed", tc.query, id)
			}
		}
		if len(seen) != len(tc.want) {
			t.Errorf("%q (limit %d): %d contacts, want %d", tc.query, tc.limit, len(seen), len(tc.want))
		}
	}
}

// TestAPIContactsIdempotentAndScoped: a create repeated with its Idempotency-Key makes
// one contact; a contacts:read key reads but does not write; a board:write key moves leads
// but does not touch contacts.
func TestAPIContactsIdempotentAndScoped(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	inst := webtest.Start(t)
	o := newCRMOrg(t, inst, "Loja Chaves")
	c := webtest.NewClient(t, inst.URL)
	create := func(key, idem, body string) (int, string) {
		req, _ := http.NewRequest("POST", inst.URL+"/api/v1/contacts", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", idem)
		res := c.Do(req)
		return res.StatusCode, res.Body + res.Header.Get("Idempotent-Replayed")
	}
	s1, b1 := create(o.key, "crm-1", `{"name":"Rui","phone":"+5511987650123"}`)
	s2, b2 := create(o.key, "crm-1", `{"name":"Rui","phone":"+5511987650123"}`)
	if s1 != 201 || s2 != 201 || !strings.HasSuffix(b2, "true") || strings.TrimSuffix(b2, "true") != b1 {
		t.Fatalf("the same create twice: %d %s / %d %s", s1, b1, s2, b2)
	}
	if n := o.countContactsWhere("phone = '+5511987650123'"); n != 1 {
		t.Fatalf("%d contacts made by one key used twice", n)
	}
	// The same key sent by eight clients at once: one contact, one answer.
	var wg sync.WaitGroup
	answers := make([]string, 8)
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, body := create(o.key, "crm-2", `{"name":"Téo","phone":"+5511987650125"}`)
			answers[i] = fmt.Sprint(st) + strings.TrimSuffix(body, "true")
		}()
	}
	wg.Wait()
	for _, ans := range answers[1:] {
		if ans != answers[0] || !strings.HasPrefix(ans, "201") {
			t.Fatalf("concurrent repeats answered differently: %q vs %q", ans, answers[0])
		}
	}
	if n := o.countContactsWhere("phone = '+5511987650125'"); n != 1 {
		t.Fatalf("%d contacts made by one key sent at once", n)
	}

	scoped := func(scope string) string {
		_, key, err := inst.App.Account.CreateScopedAPIKey(ctx, o.actor, "chave "+scope, scope)
		if err != nil {
			t.Fatal(err)
		}
		return key
	}
	read, boardWrite := scoped("contacts:read"), scoped("board:write")
	ct := o.createContact("Lia", "+5511987650124")
	path := fmt.Sprintf("/contacts/%d", ct.ID)
	for _, tc := range []struct {
		key, method, path, body string
		want                    int
	}{
		{read, "GET", "/contacts", "", 200},
		{read, "GET", path, "", 200},
		{read, "POST", "/contacts", `{"name":"x"}`, 403},
		{read, "PATCH", path, `{"name":"x"}`, 403},
		{read, "DELETE", path, "", 403},
		{read, "POST", path + "/tags", fmt.Sprintf(`{"tag_ids":[%d]}`, o.vip.ID), 403},
		{read, "PUT", path + "/opt-outs", `{"sms":true}`, 403},
		{boardWrite, "GET", path, "", 403},
		{boardWrite, "PATCH", path, `{"name":"x"}`, 403},
	} {
		status, code, res := o.apiWith(tc.key, tc.method, tc.path, tc.body)
		if status != tc.want || (tc.want == 403 && code != "insufficient_scope") {
			t.Errorf("%s %s with a scoped key: %d %s, want %d", tc.method, tc.path, status, res, tc.want)
		}
	}
	if n := o.countContactsWhere("name = 'x' OR opted_out <> '{}'"); n != 0 {
		t.Errorf("refused keys changed %d contacts", n)
	}
}

// crmContract calls every contacts route for TestAPIAnswersMatchOpenAPI.
func crmContract(t *testing.T, inst *webtest.Instance, orgID int64, key string, call contractCall) {
	t.Helper()
	ctx := context.Background()
	a := model.Actor{OrgID: orgID, Role: model.RoleOwner}
	tag, err := inst.App.CRM.CreateTag(ctx, a, "Contrato", "blue")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := inst.App.CRM.CreateField(ctx, a, "Cidade", model.FieldText, nil); err != nil {
		t.Fatal(err)
	}
	var out struct{ Contact model.Contact }
	_ = json.Unmarshal([]byte(call("POST", "/contacts", fmt.Sprintf(`{"name":"Contrato","phone":"+5511987653000","tag_ids":[%d],"attributes":{"cidade":"Natal"}}`, tag.ID), key, 201, true)), &out)
	p := fmt.Sprintf("/contacts/%d", out.Contact.ID)
	call("POST", "/contacts", `{"name":`, key, 400, false)
	call("POST", "/contacts", `{"name":"x","tag_ids":[999999]}`, key, 404, true)
	call("POST", "/contacts", `{"phone":"1"}`, key, 422, true)
	call("POST", "/contacts", `{"name":"`+strings.Repeat("a", 3<<20)+`"}`, key, 413, false)
	call("GET", "/contacts", "", key, 200, true)
	call("GET", fmt.Sprintf("/contacts?tag=%d&opted_out=none&sort=name&limit=1", tag.ID), "", key, 200, true)
	call("GET", "/contacts?after=forged", "", key, 400, true)
	call("GET", "/contacts?segment_id=999999", "", key, 404, true)
	call("GET", "/contacts?owner=me", "", key, 422, true)
	call("GET", "/contacts?tag=999999", "", key, 404, true)
	call("GET", p, "", key, 200, true)
	call("GET", "/contacts/999999", "", key, 404, true)
	call("PATCH", p, `{"email":"contrato@loja.com","attributes":{"cidade":null}}`, key, 200, true)
	call("PATCH", p, `{"emial":"x"}`, key, 400, false)
	call("PATCH", p, `{"name":"`+strings.Repeat("a", 3<<20)+`"}`, key, 413, false)
	call("PATCH", p, `{"email":"nope"}`, key, 422, true)
	call("PATCH", "/contacts/999999", `{"name":"x"}`, key, 404, true)
	call("POST", p+"/tags", fmt.Sprintf(`{"tag_ids":[%d]}`, tag.ID), key, 200, true)
	call("POST", p+"/tags", `{"tag_ids":[`, key, 400, false)
	call("POST", p+"/tags", `{"tag_ids":[999999]}`, key, 404, true)
	call("POST", p+"/tags", `{"tag_ids":[]}`, key, 422, false)
	call("DELETE", fmt.Sprintf("%s/tags/%d", p, tag.ID), "", key, 200, true)
	call("DELETE", p+"/tags/999999", "", key, 404, true)
	call("PUT", p+"/opt-outs", `{"whatsapp":true,"sms":false}`, key, 200, true)
	call("PUT", p+"/opt-outs", `{"fax":true}`, key, 400, false)
	call("PUT", "/contacts/999999/opt-outs", `{"sms":true}`, key, 404, true)
	call("DELETE", p, "", key, 204, true)
	call("DELETE", p, "", key, 404, true)
}

// pipelineOf is the org's first pipeline and its stages.
func (o *crmOrg) pipelineOf(t *testing.T) (int64, []model.Stage) {
	t.Helper()
	ctx := context.Background()
	ps, err := o.inst.App.Board.Pipelines(ctx, o.id)
	if err != nil || len(ps) == 0 {
		t.Fatalf("pipelines: %v", err)
	}
	stages, err := o.inst.App.Board.Stages(ctx, o.id, ps[0].ID)
	if err != nil || len(stages) < 3 {
		t.Fatalf("stages: %v %d", err, len(stages))
	}
	return ps[0].ID, stages
}

// TestAPILeads: pipelines read with their stages; leads created (for a contact, or for a
// phone), read, changed, moved between and within stages, listed page by page and
// deleted, through the board's service (a cadence's enrol stage enrols); another org's
// ids are not found and bad input is refused, changing nothing.
func TestAPILeads(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	o := newCRMOrg(t, inst, "Loja Funil API")
	o.foreign(t, newCRMOrg(t, inst, "Loja Funil Vizinha"))
	pipeline, stages := o.pipelineOf(t)
	ana := o.createContact("Ana", "+5511987654400")

	if status, _, res := o.api("GET", "/pipelines", ""); status != 200 || !strings.Contains(res, fmt.Sprintf(`"id":%d`, pipeline)) || !strings.Contains(res, `"stage_count":`) {
		t.Fatalf("pipelines: %d %s", status, res)
	}
	status, _, res := o.api("GET", fmt.Sprintf("/pipelines/%d", pipeline), "")
	var pl struct {
		Stages []struct{ ID int64 }
	}
	if err := json.Unmarshal([]byte(res), &pl); status != 200 || err != nil || len(pl.Stages) != len(stages) {
		t.Fatalf("pipeline: %d %s", status, res)
	}
	for i := range stages {
		if pl.Stages[i].ID != stages[i].ID {
			t.Fatalf("stages out of order: %s", res)
		}
	}

	// A cadence that enrols whoever gets a lead in the second stage.
	var cadenceID int64
	db := inst.App.Store.DB()
	if err := db.Get(&cadenceID, `INSERT INTO cadences (org_id, name, status, enrol_stage_id) VALUES ($1, 'Proposta', 'active', $2) RETURNING id`, o.id, stages[1].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO cadence_versions (org_id, cadence_id, version, steps) VALUES ($1, $2, 1, '[{"id":"s1","kind":"wait","wait_minutes":600}]')`, o.id, cadenceID); err != nil {
		t.Fatal(err)
	}

	create := func(body string) apiLeadOut {
		t.Helper()
		status, _, res := o.api("POST", "/leads", body)
		var out struct{ Lead apiLeadOut }
		if err := json.Unmarshal([]byte(res), &out); status != 201 || err != nil {
			t.Fatalf("create %s: %d %s", body, status, res)
		}
		return out.Lead
	}
	l1 := create(fmt.Sprintf(`{"stage_id":%d,"title":"Bolo de casamento","value_cents":45050,"contact_id":%d,"owner_id":%d,"source":"site"}`, stages[0].ID, ana.ID, o.owner))
	if l1.Title != "Bolo de casamento" || l1.ValueCents != 45050 || l1.ContactID != ana.ID || l1.OwnerID == nil || l1.PipelineID != pipeline || l1.Currency == "" {
		t.Fatalf("created %+v", l1)
	}
	l2 := create(fmt.Sprintf(`{"stage_id":%d,"title":"Doces","contact":{"name":"Bia","phone":"(11) 98765-4401"}}`, stages[1].ID))
	if l2.ContactName != "Bia" || l2.ContactPhone == nil || *l2.ContactPhone != "+5511987654401" {
		t.Fatalf("created with a new contact %+v", l2)
	}
	var enrolled int
	_ = db.Get(&enrolled, `SELECT count(*) FROM cadence_enrolments WHERE org_id = $1 AND cadence_id = $2 AND contact_id = $3`, o.id, cadenceID, l2.ContactID)
	if enrolled != 1 {
		t.Errorf("a lead created by the API in the enrol stage enrolled its contact %d times", enrolled)
	}
	l3 := create(fmt.Sprintf(`{"stage_id":%d,"title":"Salgados","contact_id":%d}`, stages[1].ID, ana.ID))

	p1 := fmt.Sprintf("/leads/%d", l1.ID)
	if status, _, res := o.api("GET", p1, ""); status != 200 || !strings.Contains(res, `"source":"site"`) {
		t.Fatalf("read: %d %s", status, res)
	}
	status, _, res = o.api("PATCH", p1, `{"title":"Bolo de noivado","owner_id":null,"notes":"três andares"}`)
	var patched struct{ Lead apiLeadOut }
	_ = json.Unmarshal([]byte(res), &patched)
	if status != 200 || patched.Lead.Title != "Bolo de noivado" || patched.Lead.OwnerID != nil || patched.Lead.ValueCents != 45050 ||
		patched.Lead.Source != "site" || patched.Lead.Notes != "três andares" || patched.Lead.StageID != stages[0].ID {
		t.Fatalf("patch: %d %s", status, res)
	}
	// A move into the enrol stage, under l3: the order of the stage says where it went.
	status, _, res = o.api("POST", p1+"/move", fmt.Sprintf(`{"stage_id":%d,"after_id":%d}`, stages[1].ID, l3.ID))
	if status != 200 || !strings.Contains(res, fmt.Sprintf(`"after_id":%d`, l3.ID)) || !strings.Contains(res, fmt.Sprintf(`"from_stage_id":%d`, stages[0].ID)) {
		t.Fatalf("move: %d %s", status, res)
	}
	var order []int64
	_ = db.Select(&order, `SELECT id FROM leads WHERE org_id = $1 AND stage_id = $2 ORDER BY rank`, o.id, stages[1].ID)
	if fmt.Sprint(order) != fmt.Sprint([]int64{l3.ID, l1.ID, l2.ID}) {
		t.Errorf("the stage reads %v, want %v", order, []int64{l3.ID, l1.ID, l2.ID})
	}
	_ = db.Get(&enrolled, `SELECT count(*) FROM cadence_enrolments WHERE org_id = $1 AND cadence_id = $2 AND contact_id = $3`, o.id, cadenceID, ana.ID)
	if enrolled != 1 {
		t.Errorf("Ana is in the cadence %d times", enrolled)
	}
	if status, _, _ := o.api("POST", p1+"/move", fmt.Sprintf(`{"stage_id":%d,"before_id":%d}`, stages[1].ID, l3.ID)); status != 200 {
		t.Fatalf("move within the stage: %d", status)
	}
	_ = db.Select(&order, `SELECT id FROM leads WHERE org_id = $1 AND stage_id = $2 ORDER BY rank`, o.id, stages[1].ID)
	if fmt.Sprint(order) != fmt.Sprint([]int64{l1.ID, l3.ID, l2.ID}) {
		t.Errorf("after a move above l3 the stage reads %v", order)
	}
	var moves int
	_ = db.Get(&moves, `SELECT count(*) FROM lead_moves WHERE org_id = $1 AND lead_id = $2`, o.id, l1.ID)
	if moves != 1 {
		t.Errorf("%d moves recorded, want 1 (a move within a stage is not a change of stage)", moves)
	}

	// Another org's ids: not found, and nothing changed.
	fl := fmt.Sprintf("/leads/%d", o.foreignLead)
	for _, tc := range []struct{ method, path, body string }{
		{"GET", fmt.Sprintf("/pipelines/%d", o.foreignPipeline), ""},
		{"GET", fl, ""},
		{"PATCH", fl, `{"title":"Minha"}`},
		{"DELETE", fl, ""},
		{"POST", fl + "/move", fmt.Sprintf(`{"stage_id":%d}`, stages[0].ID)},
		{"POST", p1 + "/move", fmt.Sprintf(`{"stage_id":%d}`, o.foreignStage)},
		{"PATCH", p1, fmt.Sprintf(`{"stage_id":%d}`, o.foreignStage)},
		{"POST", "/leads", fmt.Sprintf(`{"stage_id":%d,"title":"x","contact_id":%d}`, o.foreignStage, ana.ID)},
		{"POST", "/leads", fmt.Sprintf(`{"stage_id":%d,"title":"x","contact_id":%d}`, stages[0].ID, o.foreignContact)},
		{"GET", "/leads/abc", ""},
	} {
		if status, code, res := o.api(tc.method, tc.path, tc.body); status != 404 || code != "not_found" {
			t.Errorf("%s %s: %d %s, want 404 not_found", tc.method, tc.path, status, res)
		}
	}
	for _, q := range []string{fmt.Sprintf("contact_id=%d", o.foreignContact), fmt.Sprintf("stage_id=%d", o.foreignStage), fmt.Sprintf("pipeline_id=%d", o.foreignPipeline)} {
		if status, code, res := o.api("GET", "/leads?"+q, ""); status != 404 || code != "not_found" {
			t.Errorf("another org's id as a filter (%s): %d %s", q, status, res)
		}
	}

	// Bad input.
	var leadsBefore int
	var l1Before string
	_ = db.Get(&leadsBefore, `SELECT count(*) FROM leads WHERE org_id = $1`, o.id)
	_ = db.Get(&l1Before, `SELECT row_to_json(l)::text FROM leads l WHERE id = $1`, l1.ID)
	big := `{"title":"` + strings.Repeat("a", 3<<20) + `"}`
	for name, tc := range map[string]struct {
		method, path, body string
		status             int
		code, fields       string
	}{
		"create not json":       {"POST", "/leads", `{"title":`, 400, "bad_json", ""},
		"create unknown field":  {"POST", "/leads", `{"title":"x","value":1}`, 400, "bad_json", ""},
		"create NUL":            {"POST", "/leads", `{"title":"a\u0000"}`, 400, "", ""},
		"create invalid UTF-8":  {"POST", "/leads", "{\"title\":\"\xff\"}", 400, "", ""},
		"create too big":        {"POST", "/leads", big, 413, "", ""},
		"create no stage":       {"POST", "/leads", fmt.Sprintf(`{"title":"x","contact_id":%d}`, ana.ID), 422, "invalid", `"stage_id":`},
		"create no contact":     {"POST", "/leads", fmt.Sprintf(`{"stage_id":%d,"title":"x"}`, stages[0].ID), 422, "invalid", `"contact":`},
		"create both contacts":  {"POST", "/leads", fmt.Sprintf(`{"stage_id":%d,"title":"x","contact_id":%d,"contact":{"name":"Z"}}`, stages[0].ID, ana.ID), 422, "invalid", `"contact":`},
		"create no title":       {"POST", "/leads", fmt.Sprintf(`{"stage_id":%d,"title":" ","contact_id":%d}`, stages[0].ID, ana.ID), 422, "invalid", `"title":`},
		"create negative value": {"POST", "/leads", fmt.Sprintf(`{"stage_id":%d,"title":"x","value_cents":-5,"contact_id":%d}`, stages[0].ID, ana.ID), 422, "invalid", `"value":`},
		"create bad phone":      {"POST", "/leads", fmt.Sprintf(`{"stage_id":%d,"title":"x","contact":{"name":"Z","phone":"12"}}`, stages[0].ID), 422, "invalid", `"contact_phone":`},
		"create unknown owner":  {"POST", "/leads", fmt.Sprintf(`{"stage_id":%d,"title":"x","contact_id":%d,"owner_id":999999}`, stages[0].ID, ana.ID), 422, "invalid", `"owner":`},
		"patch not json":        {"PATCH", p1, `[`, 400, "bad_json", ""},
		"patch unknown field":   {"PATCH", p1, `{"titel":"x"}`, 400, "bad_json", ""},
		"patch NUL":             {"PATCH", p1, `{"notes":"\u0000"}`, 400, "", ""},
		"patch too big":         {"PATCH", p1, big, 413, "", ""},
		"patch the contact":     {"PATCH", p1, fmt.Sprintf(`{"contact_id":%d}`, ana.ID), 422, "invalid", `"contact":`},
		"patch long title":      {"PATCH", p1, `{"title":"` + strings.Repeat("a", 201) + `"}`, 422, "invalid", `"title":`},
		"patch owner as text":   {"PATCH", p1, `{"owner_id":"1"}`, 422, "invalid", `"owner_id":`},
		"move not json":         {"POST", p1 + "/move", `{"stage_id":`, 400, "bad_json", ""},
		"move unknown field":    {"POST", p1 + "/move", `{"stage":1}`, 400, "bad_json", ""},
		"move no stage":         {"POST", p1 + "/move", `{}`, 422, "invalid", `"stage_id":`},
		"move invalid UTF-8":    {"POST", p1 + "/move", "{\"stage_id\":1,\"x\":\"\xff\"}", 400, "", ""},
		"list unknown param":    {"GET", "/leads?stage=1", "", 400, "bad_request", ""},
		"list limit":            {"GET", "/leads?limit=1000", "", 400, "bad_request", ""},
		"list bad cursor":       {"GET", "/leads?after=x", "", 400, "bad_cursor", ""},
		"list bad stage":        {"GET", "/leads?stage_id=-1", "", 422, "invalid", `"stage_id":`},
		"list bad owner":        {"GET", "/leads?owner=me", "", 422, "invalid", `"owner":`},
		"list NUL":              {"GET", "/leads?owner=%00", "", 400, "", ""},
	} {
		status, code, res := o.api(tc.method, tc.path, tc.body)
		if status != tc.status || (tc.code != "" && code != tc.code) || !strings.Contains(res, tc.fields) {
			t.Errorf("%s: %d %s, want %d %s %s", name, status, res[:min(len(res), 300)], tc.status, tc.code, tc.fields)
		}
		if strings.Contains(res, ".error.") {
			t.Errorf("%s: the API answered a translation key: %s", name, res)
		}
	}
	var leadsAfter int
	var l1After string
	_ = db.Get(&leadsAfter, `SELECT count(*) FROM leads WHERE org_id = $1`, o.id)
	_ = db.Get(&l1After, `SELECT row_to_json(l)::text FROM leads l WHERE id = $1`, l1.ID)
	if leadsAfter != leadsBefore || l1After != l1Before {
		t.Errorf("bad requests changed leads: %d → %d\n%s\n%s", leadsBefore, leadsAfter, l1Before, l1After)
	}

	// Scopes: board:write moves leads; contacts:write does not.
	_, boardKey, err := inst.App.Account.CreateScopedAPIKey(context.Background(), o.actor, "quadro", "board:write")
	if err != nil {
		t.Fatal(err)
	}
	_, contactsKey, err := inst.App.Account.CreateScopedAPIKey(context.Background(), o.actor, "contatos", "contacts:write")
	if err != nil {
		t.Fatal(err)
	}
	if status, code, res := o.apiWith(contactsKey, "POST", p1+"/move", fmt.Sprintf(`{"stage_id":%d}`, stages[2].ID)); status != 403 || code != "insufficient_scope" {
		t.Errorf("a contacts key moved a lead: %d %s", status, res)
	}
	if status, _, res := o.apiWith(boardKey, "POST", p1+"/move", fmt.Sprintf(`{"stage_id":%d}`, stages[2].ID)); status != 200 {
		t.Errorf("a board:write key could not move a lead: %d %s", status, res)
	}

	if status, _, _ := o.api("DELETE", p1, ""); status != 204 {
		t.Fatalf("delete: %d", status)
	}
	if status, _, _ := o.api("GET", p1, ""); status != 404 {
		t.Fatalf("read deleted: %d", status)
	}
	if _, err := inst.App.CRM.Contact(context.Background(), o.id, ana.ID); err != nil {
		t.Errorf("deleting a lead deleted its contact: %v", err)
	}
	var types string
	_ = db.Get(&types, `SELECT string_agg(type, ',' ORDER BY id) FROM events WHERE org_id = $1 AND type LIKE 'lead.%' AND payload->>'lead_id' = $2`, o.id, fmt.Sprint(l1.ID))
	if types != "lead.created,lead.updated,lead.moved,lead.moved,lead.moved,lead.deleted" {
		t.Errorf("events of the lead: %s", types)
	}
}

type apiLeadOut struct {
	ID           int64   `json:"id"`
	PipelineID   int64   `json:"pipeline_id"`
	StageID      int64   `json:"stage_id"`
	ContactID    int64   `json:"contact_id"`
	ContactName  string  `json:"contact_name"`
	ContactPhone *string `json:"contact_phone"`
	Title        string  `json:"title"`
	ValueCents   int64   `json:"value_cents"`
	Currency     string  `json:"currency"`
	OwnerID      *int64  `json:"owner_id"`
	Source       string  `json:"source"`
	Notes        string  `json:"notes"`
}

// TestAPILeadsPages: the lead list's filters, walked page by page to the end, give every
// lead they select once.
func TestAPILeadsPages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	inst := webtest.Start(t)
	o := newCRMOrg(t, inst, "Loja Muitos Leads")
	pipeline, stages := o.pipelineOf(t)
	contacts := []model.Contact{o.createContact("Caio", "+5511987654500"), o.createContact("Duda", "+5511987654501")}
	for i := range 37 {
		in := board.LeadInput{StageID: stages[i%3].ID, Title: fmt.Sprintf("Lead %d", i), ContactID: fmt.Sprint(contacts[i%2].ID)}
		if i%4 == 0 {
			in.OwnerID = fmt.Sprint(o.owner)
		}
		if _, err := inst.App.Board.CreateLead(ctx, o.actor, in); err != nil {
			t.Fatal(err)
		}
	}
	want := func(cond string, args ...any) map[int64]bool {
		var ids []int64
		if err := inst.App.Store.DB().Select(&ids, `SELECT id FROM leads WHERE org_id = $1 AND `+cond, append([]any{o.id}, args...)...); err != nil {
			t.Fatal(err)
		}
		m := map[int64]bool{}
		for _, id := range ids {
			m[id] = true
		}
		return m
	}
	for _, tc := range []struct {
		query string
		limit int
		want  map[int64]bool
	}{
		{"", 5, want("true")},
		{"", 100, want("true")},
		{fmt.Sprintf("pipeline_id=%d", pipeline), 37, want("true")},
		{fmt.Sprintf("stage_id=%d", stages[1].ID), 4, want("stage_id = $2", stages[1].ID)},
		{fmt.Sprintf("contact_id=%d", contacts[0].ID), 6, want("contact_id = $2", contacts[0].ID)},
		{fmt.Sprintf("owner=%d", o.owner), 3, want("owner_id = $2", o.owner)},
		{"owner=none", 8, want("owner_id IS NULL")},
		{fmt.Sprintf("stage_id=%d&contact_id=%d&owner=none", stages[0].ID, contacts[1].ID), 1, want("stage_id = $2 AND contact_id = $3 AND owner_id IS NULL", stages[0].ID, contacts[1].ID)},
	} {
		seen := map[int64]bool{}
		after := ""
		for pages := 0; ; pages++ {
			if pages > 40 {
				t.Fatalf("%q: the pages never end", tc.query)
			}
			p := fmt.Sprintf("/leads?limit=%d&%s&after=%s", tc.limit, tc.query, after)
			if after == "" {
				p = fmt.Sprintf("/leads?limit=%d&%s", tc.limit, tc.query)
			}
			status, _, res := o.api("GET", p, "")
			var page struct {
				Leads []apiLeadOut
				Next  *string
			}
			if err := json.Unmarshal([]byte(res), &page); status != 200 || err != nil || len(page.Leads) > tc.limit {
				t.Fatalf("%s: %d %s", p, status, res)
			}
			for _, l := range page.Leads {
				if seen[l.ID] || !tc.want[l.ID] {
					t.Errorf("%q: lead %d twice or not selected", tc.query, l.ID)
				}
				seen[l.ID] = true
			}
			if page.Next == nil {
				break
			}
			after = *page.Next
		}
		if len(seen) != len(tc.want) {
			t.Errorf("%q (limit %d): %d leads, want %d", tc.query, tc.limit, len(seen), len(tc.want))
		}
	}
}

// boardContract calls every pipeline and lead route for TestAPIAnswersMatchOpenAPI.
func boardContract(t *testing.T, inst *webtest.Instance, orgID int64, key string, call contractCall) {
	t.Helper()
	ctx := context.Background()
	a := model.Actor{OrgID: orgID, Role: model.RoleOwner}
	ps, err := inst.App.Board.Pipelines(ctx, orgID)
	if err != nil || len(ps) == 0 {
		t.Fatalf("pipelines: %v", err)
	}
	stages, err := inst.App.Board.Stages(ctx, orgID, ps[0].ID)
	if err != nil || len(stages) < 2 {
		t.Fatalf("stages: %v", err)
	}
	ct, err := inst.App.CRM.Create(ctx, a, crm.ContactInput{Name: "Funil", Phone: "+5511987653100"})
	if err != nil {
		t.Fatal(err)
	}
	call("GET", "/pipelines", "", key, 200, true)
	call("GET", fmt.Sprintf("/pipelines/%d", ps[0].ID), "", key, 200, true)
	call("GET", "/pipelines/999999", "", key, 404, true)
	var out struct{ Lead apiLeadOut }
	_ = json.Unmarshal([]byte(call("POST", "/leads", fmt.Sprintf(`{"stage_id":%d,"title":"Contrato","value_cents":1000,"contact_id":%d}`, stages[0].ID, ct.ID), key, 201, true)), &out)
	call("POST", "/leads", fmt.Sprintf(`{"stage_id":%d,"title":"Outro","contact":{"name":"Novo","phone":"+5511987653101"}}`, stages[0].ID), key, 201, true)
	call("POST", "/leads", `{"title":`, key, 400, false)
	call("POST", "/leads", fmt.Sprintf(`{"stage_id":999999,"title":"x","contact_id":%d}`, ct.ID), key, 404, true)
	call("POST", "/leads", fmt.Sprintf(`{"stage_id":%d,"title":"x"}`, stages[0].ID), key, 422, true)
	call("POST", "/leads", `{"title":"`+strings.Repeat("a", 3<<20)+`"}`, key, 413, false)
	call("GET", "/leads", "", key, 200, true)
	call("GET", fmt.Sprintf("/leads?pipeline_id=%d&stage_id=%d&contact_id=%d&owner=none&limit=1", ps[0].ID, stages[0].ID, ct.ID), "", key, 200, true)
	call("GET", "/leads?after=x", "", key, 400, true)
	call("GET", "/leads?owner=me", "", key, 422, true)
	call("GET", "/leads?stage_id=999999", "", key, 404, true)
	p := fmt.Sprintf("/leads/%d", out.Lead.ID)
	call("GET", p, "", key, 200, true)
	call("GET", "/leads/999999", "", key, 404, true)
	call("PATCH", p, `{"title":"Contrato 2","owner_id":null}`, key, 200, true)
	call("PATCH", p, `{"titel":"x"}`, key, 400, false)
	call("PATCH", p, `{"title":"`+strings.Repeat("a", 3<<20)+`"}`, key, 413, false)
	call("PATCH", p, `{"title":" "}`, key, 422, true)
	call("PATCH", "/leads/999999", `{"title":"x"}`, key, 404, true)
	call("POST", p+"/move", fmt.Sprintf(`{"stage_id":%d}`, stages[1].ID), key, 200, true)
	call("POST", p+"/move", `{"stage_id":`, key, 400, false)
	call("POST", p+"/move", `{"stage_id":999999}`, key, 404, true)
	call("POST", p+"/move", `{"stage_id":0}`, key, 422, true)
	call("DELETE", p, "", key, 204, true)
	call("DELETE", p, "", key, 404, true)
}

// TestAPITagsFieldsSegments: tags created, renamed and deleted (leaving their contacts);
// custom fields and segments read with the filter and count the pages use; another org's
// ids are not found; bad input refused and nothing changed.
func TestAPITagsFieldsSegments(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	inst := webtest.Start(t)
	o := newCRMOrg(t, inst, "Loja Tags API")
	o.foreign(t, newCRMOrg(t, inst, "Loja Tags Vizinha"))
	db := inst.App.Store.DB()

	status, _, res := o.api("POST", "/tags", `{"name":"  Cliente   fiel ","color":"purple"}`)
	var out struct{ Tag model.Tag }
	if err := json.Unmarshal([]byte(res), &out); status != 201 || err != nil || out.Tag.Name != "Cliente fiel" || out.Tag.Color != "purple" {
		t.Fatalf("create: %d %s", status, res)
	}
	tp := fmt.Sprintf("/tags/%d", out.Tag.ID)
	if status, _, res := o.api("POST", "/tags", `{"name":"Sem cor"}`); status != 201 || !strings.Contains(res, `"color":"gray"`) {
		t.Fatalf("create without a colour: %d %s", status, res)
	}
	ct, err := inst.App.CRM.Create(ctx, o.actor, crm.ContactInput{Name: "Eva", TagIDs: []int64{out.Tag.ID, o.vip.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if status, _, res := o.api("PATCH", tp, `{"name":"Fiel"}`); status != 200 || !strings.Contains(res, `"name":"Fiel"`) || !strings.Contains(res, `"color":"purple"`) || !strings.Contains(res, `"count":1`) {
		t.Fatalf("rename: %d %s", status, res)
	}
	if status, _, res := o.api("GET", "/tags", ""); status != 200 || !strings.Contains(res, `"name":"Fiel"`) || !strings.Contains(res, `"name":"VIP"`) {
		t.Fatalf("list: %d %s", status, res)
	}

	// Bad input and another org's tags.
	var before string
	_ = db.Get(&before, `SELECT string_agg(name || color, ',' ORDER BY id) FROM tags WHERE org_id = $1`, o.id)
	for name, tc := range map[string]struct {
		method, path, body string
		status             int
		code, fields       string
	}{
		"create not json":      {"POST", "/tags", `{"name":`, 400, "bad_json", ""},
		"create unknown field": {"POST", "/tags", `{"name":"x","colour":"red"}`, 400, "bad_json", ""},
		"create NUL":           {"POST", "/tags", `{"name":"a\u0000"}`, 400, "", ""},
		"create invalid UTF-8": {"POST", "/tags", "{\"name\":\"\xff\"}", 400, "", ""},
		"create too big":       {"POST", "/tags", `{"name":"` + strings.Repeat("a", 3<<20) + `"}`, 413, "", ""},
		"create no name":       {"POST", "/tags", `{"name":" "}`, 422, "invalid", `"name":`},
		"create name taken":    {"POST", "/tags", `{"name":"VIP"}`, 422, "invalid", `"name":"There is already a tag with this name."`},
		"create bad colour":    {"POST", "/tags", `{"name":"x","color":"black"}`, 422, "invalid", `"color":`},
		"patch not json":       {"PATCH", tp, `{`, 400, "bad_json", ""},
		"patch unknown field":  {"PATCH", tp, `{"nome":"x"}`, 400, "bad_json", ""},
		"patch taken":          {"PATCH", tp, `{"name":"VIP"}`, 422, "invalid", `"name":`},
		"patch long":           {"PATCH", tp, `{"name":"` + strings.Repeat("a", 61) + `"}`, 422, "invalid", `"name":`},
		"patch foreign":        {"PATCH", fmt.Sprintf("/tags/%d", o.foreignTag), `{"name":"Meu"}`, 404, "not_found", ""},
		"delete foreign":       {"DELETE", fmt.Sprintf("/tags/%d", o.foreignTag), "", 404, "not_found", ""},
		"patch no number":      {"PATCH", "/tags/abc", `{"name":"x"}`, 404, "not_found", ""},
		"segment foreign":      {"GET", fmt.Sprintf("/segments/%d", o.foreignSegment), "", 404, "not_found", ""},
		"count foreign":        {"GET", fmt.Sprintf("/segments/%d/count", o.foreignSegment), "", 404, "not_found", ""},
		"segment no number":    {"GET", "/segments/0", "", 404, "not_found", ""},
	} {
		status, code, res := o.api(tc.method, tc.path, tc.body)
		if status != tc.status || (tc.code != "" && code != tc.code) || !strings.Contains(res, tc.fields) {
			t.Errorf("%s: %d %s, want %d %s %s", name, status, res[:min(len(res), 300)], tc.status, tc.code, tc.fields)
		}
	}
	var after string
	_ = db.Get(&after, `SELECT string_agg(name || color, ',' ORDER BY id) FROM tags WHERE org_id = $1`, o.id)
	var foreignTag string
	_ = db.Get(&foreignTag, `SELECT name FROM tags WHERE id = $1`, o.foreignTag)
	if after != before || foreignTag != "VIP" {
		t.Errorf("bad requests changed tags: %s → %s; the other org's is %q", before, after, foreignTag)
	}

	if status, _, _ := o.api("DELETE", tp, ""); status != 204 {
		t.Fatalf("delete: %d", status)
	}
	if got, err := inst.App.CRM.Contact(ctx, o.id, ct.ID); err != nil || fmt.Sprint(got.TagIDs) != fmt.Sprint([]int64{o.vip.ID}) {
		t.Fatalf("the contact after its tag was deleted: %v %v", got.TagIDs, err)
	}
	if status, _, _ := o.api("DELETE", tp, ""); status != 404 {
		t.Fatalf("delete again: %d", status)
	}

	if status, _, res := o.api("GET", "/custom-fields", ""); status != 200 || !strings.Contains(res, `"key":"cidade"`) || !strings.Contains(res, `"type":"number"`) {
		t.Fatalf("custom fields: %d %s", status, res)
	}

	// Segments: the filter as saved, the count as the page counts, the same contacts as
	// GET /contacts?segment_id=; "owner: me" is the member who saved it.
	for i := range 4 {
		in := crm.ContactInput{Name: fmt.Sprintf("Seg %d", i), TagIDs: []int64{o.vip.ID}}
		if i%2 == 0 {
			in.OwnerID = o.owner
		}
		if _, err := inst.App.CRM.Create(ctx, o.actor, in); err != nil {
			t.Fatal(err)
		}
	}
	vips, err := inst.App.CRM.SaveSegment(ctx, o.actor, 0, "VIPs", model.ContactFilter{TagIDs: []int64{o.vip.ID}})
	if err != nil {
		t.Fatal(err)
	}
	mine, err := inst.App.CRM.SaveSegment(ctx, o.actor, 0, "Meus VIPs", model.ContactFilter{TagIDs: []int64{o.vip.ID}, Owner: "me"})
	if err != nil {
		t.Fatal(err)
	}
	if status, _, res := o.api("GET", "/segments", ""); status != 200 || !strings.Contains(res, `"name":"VIPs"`) || !strings.Contains(res, fmt.Sprintf(`"tags":[%d]`, o.vip.ID)) {
		t.Fatalf("segments: %d %s", status, res)
	}
	if status, _, res := o.api("GET", fmt.Sprintf("/segments/%d", mine), ""); status != 200 || !strings.Contains(res, `"owner":"me"`) {
		t.Fatalf("segment: %d %s", status, res)
	}
	for _, tc := range []struct {
		id   int64
		want int
	}{{vips, 5}, {mine, 2}} {
		status, _, res := o.api("GET", fmt.Sprintf("/segments/%d/count", tc.id), "")
		if status != 200 || !strings.Contains(res, fmt.Sprintf(`"count":%d`, tc.want)) {
			t.Errorf("segment %d count: %d %s, want %d", tc.id, status, res, tc.want)
		}
		_, _, res = o.api("GET", fmt.Sprintf("/contacts?segment_id=%d&limit=100", tc.id), "")
		if n := strings.Count(res, `"last_activity_at"`); n != tc.want {
			t.Errorf("segment %d lists %d contacts, counts %d", tc.id, n, tc.want)
		}
	}
}

// tagContract calls every tag, custom field and segment route for
// TestAPIAnswersMatchOpenAPI.
func tagContract(t *testing.T, inst *webtest.Instance, orgID int64, key string, call contractCall) {
	t.Helper()
	ctx := context.Background()
	a := model.Actor{OrgID: orgID, Role: model.RoleOwner}
	_ = inst.App.Store.DB().Get(&a.UserID, `SELECT user_id FROM memberships WHERE org_id = $1 LIMIT 1`, orgID)
	if _, err := inst.App.CRM.CreateField(ctx, a, "Tamanho", model.FieldChoice, []string{"P", "M", "G"}); err != nil {
		t.Fatal(err)
	}
	sg, err := inst.App.CRM.SaveSegment(ctx, a, 0, "Contrato", model.ContactFilter{Query: "a", OptedOut: "none",
		Attrs: []model.AttrCond{{Key: "tamanho", Op: "eq", Value: "M"}}})
	if err != nil {
		t.Fatal(err)
	}
	var out struct{ Tag model.Tag }
	_ = json.Unmarshal([]byte(call("POST", "/tags", `{"name":"Contrato 2","color":"teal"}`, key, 201, true)), &out)
	call("POST", "/tags", `{"name":`, key, 400, false)
	call("POST", "/tags", `{"name":"Contrato 2"}`, key, 422, true)
	call("POST", "/tags", `{"name":"`+strings.Repeat("a", 3<<20)+`"}`, key, 413, false)
	call("GET", "/tags", "", key, 200, true)
	p := fmt.Sprintf("/tags/%d", out.Tag.ID)
	call("PATCH", p, `{"color":"red"}`, key, 200, true)
	call("PATCH", p, `{"colour":"red"}`, key, 400, false)
	call("PATCH", p, `{"name":" "}`, key, 422, true)
	call("PATCH", "/tags/999999", `{"name":"x"}`, key, 404, true)
	call("DELETE", p, "", key, 204, true)
	call("DELETE", p, "", key, 404, true)
	call("GET", "/custom-fields", "", key, 200, true)
	call("GET", "/segments", "", key, 200, true)
	call("GET", fmt.Sprintf("/segments/%d", sg), "", key, 200, true)
	call("GET", "/segments/999999", "", key, 404, true)
	call("GET", fmt.Sprintf("/segments/%d/count", sg), "", key, 200, true)
	call("GET", "/segments/999999/count", "", key, 404, true)
}
