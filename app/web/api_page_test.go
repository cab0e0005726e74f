package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"testing"

	"masteria/app/crm"
	"masteria/app/inbox"
	"masteria/app/model"
	"masteria/app/web/webtest"
)

// TestAPIListsPageToTheEnd reads the lists that moved to ?after= a few rows a page: every
// row comes once, in the list's order, and the last page says so with a null next — even
// when rows are added while the pages are read. A neighbour org has rows of every list,
// made between the org's own, and none of them comes.
func TestAPIListsPageToTheEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	inst := webtest.Start(t)
	c, orgID, key := apiOrg(t, inst, "Loja Paginada")
	a := model.Actor{OrgID: orgID, Role: model.RoleOwner}
	db := inst.App.Store.DB()
	post := func(path, body string) int64 {
		t.Helper()
		res := apiCall(t, c, key, "POST", "/api/v1"+path, body)
		var out map[string]struct {
			ID int64 `json:"id"`
		}
		if res.StatusCode >= 300 || json.Unmarshal([]byte(res.Body), &out) != nil {
			t.Fatalf("%s: %d %s", path, res.StatusCode, res.Body)
		}
		for _, v := range out {
			return v.ID
		}
		return 0
	}
	ch, err := inst.App.Inbox.CreateChannel(ctx, a, model.KindSandbox, "Loja", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var conv int64
	for i := range 7 {
		r, err := inst.App.Inbox.Receive(ctx, ch, inbox.Inbound{From: fmt.Sprintf("+551198765%04d", i%3), Body: fmt.Sprintf("Olá %d", i), ProviderID: fmt.Sprintf("pg.%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		conv = r.ConversationID
	}
	for i := range 5 {
		post("/campaigns", fmt.Sprintf(`{"name":"Campanha %d"}`, i))
		post("/knowledge-bases", fmt.Sprintf(`{"name":"Base %d"}`, i))
		if _, err := db.Exec(`INSERT INTO cadences (org_id, name, status) VALUES ($1, $2, 'draft')`, orgID, fmt.Sprintf("Cadência %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	// The lists an org fills by hand, the neighbour's rows between the org's own.
	nc, nOrgID, nKey := apiOrg(t, inst, "Loja Vizinha Paginada")
	for i := range 5 {
		for _, o := range []struct {
			c   *webtest.Client
			id  int64
			key string
		}{{c, orgID, key}, {nc, nOrgID, nKey}} {
			if _, err := inst.App.Inbox.CreateChannel(ctx, model.Actor{OrgID: o.id, Role: model.RoleOwner}, model.KindSandbox,
				fmt.Sprintf("Canal %d", i), nil, nil); err != nil {
				t.Fatal(err)
			}
			for _, p := range [][2]string{{"/tags", fmt.Sprintf(`{"name":"Etiqueta %d"}`, i)}, {"/personas", fmt.Sprintf(`{"name":"Persona %d"}`, i)}} {
				if res := apiCall(t, o.c, o.key, "POST", "/api/v1"+p[0], p[1]); res.StatusCode != 201 {
					t.Fatalf("%s: %d %s", p[0], res.StatusCode, res.Body)
				}
			}
			if _, err := db.Exec(`INSERT INTO contact_fields (org_id, key, label, type, position) VALUES ($1, $2, $3, 'text', $4)`,
				o.id, fmt.Sprintf("campo_%d", i), fmt.Sprintf("Campo %d", i), 5-i); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(`INSERT INTO segments (org_id, name, filter) VALUES ($1, $2, '{"q":"Olá"}')`, o.id, fmt.Sprintf("Segmento %d", i)); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(`INSERT INTO pipelines (org_id, name, position) VALUES ($1, $2, $3)`, o.id, fmt.Sprintf("Funil %d", i), 5-i); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(`INSERT INTO voice_numbers (org_id, phone_number, source, step, status) VALUES ($1, $2, 'linked', 'ready', 'ready')`,
				o.id, fmt.Sprintf("+1415555%04d", i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	var kb int64
	_ = db.Get(&kb, `SELECT max(id) FROM knowledge_bases WHERE org_id = $1`, orgID)
	for i := range 5 {
		post(fmt.Sprintf("/knowledge-bases/%d/documents", kb), fmt.Sprintf(`{"title":"Doc %d","text":"Texto %d"}`, i, i))
	}

	ids := func(q string) []int64 {
		t.Helper()
		var out []int64
		if err := db.Select(&out, q, orgID); err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, tc := range []struct {
		path, items string
		want        []int64
		add         func() // a row added between the first page and the second
		late        string // when set, the rows are these, read after the walk (the added row comes last)
	}{
		{"/campaigns", "campaigns", ids(`SELECT id FROM campaigns WHERE org_id = $1 ORDER BY id DESC`),
			func() { post("/campaigns", `{"name":"Nova"}`) }, ""},
		{"/cadences", "cadences", ids(`SELECT id FROM cadences WHERE org_id = $1 ORDER BY id DESC`), nil, ""},
		{"/knowledge-bases", "knowledge_bases", ids(`SELECT id FROM knowledge_bases WHERE org_id = $1 ORDER BY id`),
			nil, ""},
		{fmt.Sprintf("/knowledge-bases/%d/documents", kb), "documents",
			ids(fmt.Sprintf(`SELECT id FROM kb_documents WHERE org_id = $1 AND knowledge_base_id = %d ORDER BY id DESC`, kb)), nil, ""},
		{fmt.Sprintf("/conversations/%d/messages", conv), "messages",
			ids(fmt.Sprintf(`SELECT id FROM messages WHERE org_id = $1 AND conversation_id = %d ORDER BY id DESC`, conv)),
			func() {
				if _, err := inst.App.Inbox.Receive(ctx, ch, inbox.Inbound{From: "+5511987650000", Body: "Mais uma", ProviderID: "pg.late"}); err != nil {
					t.Fatal(err)
				}
			}, ""},
		{"/conversations", "conversations", ids(`SELECT id FROM conversations WHERE org_id = $1`), nil, ""},
		{"/channels", "channels", nil, func() {
			if _, err := inst.App.Inbox.CreateChannel(ctx, a, model.KindSandbox, "Canal novo", nil, nil); err != nil {
				t.Fatal(err)
			}
		}, `SELECT id FROM channels WHERE org_id = $1 ORDER BY id`},
		{"/tags", "tags", nil, func() { post("/tags", `{"name":"Etiqueta nova"}`) }, `SELECT id FROM tags WHERE org_id = $1 ORDER BY id`},
		{"/custom-fields", "custom_fields", ids(`SELECT id FROM contact_fields WHERE org_id = $1 ORDER BY id`), nil, ""},
		{"/segments", "segments", ids(`SELECT id FROM segments WHERE org_id = $1 ORDER BY id`), nil, ""},
		{"/pipelines", "pipelines", ids(`SELECT id FROM pipelines WHERE org_id = $1 ORDER BY id`), nil, ""},
		{"/personas", "personas", nil, func() { post("/personas", `{"name":"Persona nova"}`) }, `SELECT id FROM personas WHERE org_id = $1 ORDER BY id`},
		{"/voice-numbers", "numbers", ids(`SELECT id FROM voice_numbers WHERE org_id = $1 ORDER BY id DESC`), nil, ""},
	} {
		var got []int64
		after := ""
		for pages := 0; ; pages++ {
			if pages > 20 {
				t.Fatalf("%s: the pages never end", tc.path)
			}
			p := "/api/v1" + tc.path + "?limit=2"
			if after != "" {
				p += "&after=" + url.QueryEscape(after)
			}
			res := apiCall(t, c, key, "GET", p, "")
			var page map[string]json.RawMessage
			var rows []struct{ ID int64 }
			var next *string
			if res.StatusCode != 200 || json.Unmarshal([]byte(res.Body), &page) != nil || json.Unmarshal(page[tc.items], &rows) != nil ||
				json.Unmarshal(page["next"], &next) != nil || len(rows) > 2 {
				t.Fatalf("%s: %d %s", p, res.StatusCode, res.Body)
			}
			for _, r := range rows {
				got = append(got, r.ID)
			}
			if pages == 0 && tc.add != nil {
				tc.add()
			}
			if next == nil {
				break
			}
			if len(rows) != 2 {
				t.Errorf("%s: a short page with a next", p)
			}
			after = *next
		}
		// The largest limit reads one row more than it answers, as every page does.
		res := apiCall(t, c, key, "GET", "/api/v1"+tc.path+"?limit=100", "")
		var whole map[string][]struct{ ID int64 }
		if _ = json.Unmarshal([]byte(res.Body), &whole); res.StatusCode != 200 || len(whole[tc.items]) < len(tc.want) {
			t.Errorf("%s?limit=100: %d %.300s", tc.path, res.StatusCode, res.Body)
		}
		if tc.late != "" {
			tc.want = ids(tc.late)
		}
		if len(tc.want) < 3 {
			t.Fatalf("%s: %d rows fill no second page", tc.path, len(tc.want))
		}
		if tc.items == "conversations" { // latest activity first: the rows, not their order
			slices.Sort(got)
			slices.Sort(tc.want)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s page by page: %v, want %v", tc.path, got, tc.want)
		}
	}

	// A tag's count on any page is how many of the org's contacts carry it (a page counts
	// its tags in one pass; the neighbour's contacts carry the neighbour's tags).
	for _, o := range []int64{orgID, nOrgID} {
		var tags []int64
		if err := db.Select(&tags, `SELECT id FROM tags WHERE org_id = $1 ORDER BY id`, o); err != nil {
			t.Fatal(err)
		}
		for i := range 4 {
			if _, err := inst.App.CRM.Create(ctx, model.Actor{OrgID: o, Role: model.RoleOwner},
				crm.ContactInput{Name: fmt.Sprintf("Cliente %d", i), TagIDs: tags[i:min(i+2+i%2, len(tags))]}); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := map[int64]int64{}
	rows, err := db.Query(`SELECT t.id, (SELECT count(*) FROM contacts c WHERE c.org_id = t.org_id AND c.tag_ids @> ARRAY[t.id])
		FROM tags t WHERE t.org_id = $1`, orgID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		var n int64
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		want[id] = n
	}
	rows.Close()
	got, counted, after := map[int64]int64{}, int64(0), ""
	for pages := 0; pages < 20; pages++ {
		res := apiCall(t, c, key, "GET", "/api/v1/tags?limit=2&after="+url.QueryEscape(after), "")
		var page struct {
			Tags []model.Tag
			Next *string
		}
		if res.StatusCode != 200 || json.Unmarshal([]byte(res.Body), &page) != nil {
			t.Fatalf("/tags: %d %s", res.StatusCode, res.Body)
		}
		for _, tg := range page.Tags {
			got[tg.ID] = tg.Count
			counted += tg.Count
		}
		if page.Next == nil {
			break
		}
		after = *page.Next
	}
	if !maps.Equal(got, want) || counted == 0 {
		t.Errorf("tags' counts page by page: %v, want %v", got, want)
	}
}
