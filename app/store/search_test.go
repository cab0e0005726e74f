package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"masteria/app/model"
	"masteria/app/store"
	"masteria/app/store/storetest"
)

// searchOrg is an org with accented contacts, a conversation each and some messages.
type searchOrg struct {
	id, channel int64
	conv        map[string]int64 // by contact name
}

func newSearchOrg(t *testing.T, st *store.Store, name string, phoneBase int) searchOrg {
	t.Helper()
	ctx := context.Background()
	o, err := st.CreateOrg(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := st.CreateChannel(ctx, model.Channel{OrgID: o.ID, Kind: model.KindSandbox, Name: "Demo", Rate: 1})
	if err != nil {
		t.Fatal(err)
	}
	so := searchOrg{id: o.ID, channel: ch.ID, conv: map[string]int64{}}
	people := []struct{ name, email, text string }{
		{"João Silva", "", "Oi, tudo bem?"},
		{"Vinícius Souza", "vini@exemplo.com.br", "Pode mandar o orçamento da festa?"},
		{"Ana Lúcia", "", "Quero encomendar um bolo de chocolate para sexta"},
		{"Márcia Gonçalves", "", "Obrigada pelo atendimento"},
	}
	for i, p := range people {
		phone := fmt.Sprintf("+55119%08d", phoneBase+i)
		c := model.Contact{OrgID: o.ID, Name: p.name, Phone: &phone}
		if p.email != "" {
			c.Email = &p.email
		}
		cid, err := st.CreateContact(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		conv, err := st.OpenConversation(ctx, o.ID, ch.ID, cid)
		if err != nil {
			t.Fatal(err)
		}
		at := time.Now().Add(time.Duration(i) * time.Minute)
		if _, _, err := st.InsertMessage(ctx, model.Message{OrgID: o.ID, ConversationID: conv, ChannelID: ch.ID,
			Direction: "in", Kind: "text", Body: p.text, Status: "received", CreatedAt: at}); err != nil {
			t.Fatal(err)
		}
		if err := st.TouchConversation(ctx, o.ID, conv, at, p.text, true); err != nil {
			t.Fatal(err)
		}
		so.conv[p.name] = conv
	}
	return so
}

// badSearches are what a search box may receive from a broken client or an attacker.
var badSearches = []string{"\x00", "ana\x00silva", "\xff\xfe", "jo\xc3", strings.Repeat("joão ", 2048), "%", "_", `\`, "'", `"bolo`, "-", "!", "&|:*", "()", "<->"}

func TestContactSearchIgnoresAccentsAndCase(t *testing.T) {
	st, _ := storetest.New(t)
	ctx := context.Background()
	org := newSearchOrg(t, st, "Loja", 0)
	newSearchOrg(t, st, "Outra", 1000) // the same names in another org: never listed
	names := func(q string) []string {
		t.Helper()
		page, err := st.Contacts(ctx, org.id, 0, model.ContactFilter{Query: q}, model.ContactSort{By: "name"}, "", 50)
		if err != nil {
			t.Fatalf("%q: %v", q, err)
		}
		var out []string
		for _, c := range page.Contacts {
			if c.OrgID != org.id {
				t.Fatalf("%q: contact of org %d", q, c.OrgID)
			}
			out = append(out, c.Name)
		}
		return out
	}
	for q, want := range map[string][]string{
		"joao":            {"João Silva"},
		"JOÃO":            {"João Silva"},
		"vinicius":        {"Vinícius Souza"},
		"Vinícius":        {"Vinícius Souza"},
		"lucia":           {"Ana Lúcia"},
		"goncalves":       {"Márcia Gonçalves"},
		"MARCIA GONÇ":     {"Márcia Gonçalves"},
		"vini@exemp":      {"Vinícius Souza"},
		"(11) 90000-0001": {"Vinícius Souza"}, // digits still find the phone
		"nobody":          nil,
	} {
		if got := names(q); !slices.Equal(got, want) {
			t.Errorf("search %q: %v, want %v", q, got, want)
		}
	}
	// A custom field's "contains" folds too.
	if _, err := st.DB().Exec(`UPDATE contacts SET attributes = '{"cidade":"São Paulo"}' WHERE org_id = $1 AND name = 'Ana Lúcia'`, org.id); err != nil {
		t.Fatal(err)
	}
	page, err := st.Contacts(ctx, org.id, 0, model.ContactFilter{Attrs: []model.AttrCond{{Key: "cidade", Op: "contains", Value: "SAO PAU"}}}, model.ContactSort{}, "", 50)
	if err != nil || len(page.Contacts) != 1 || page.Contacts[0].Name != "Ana Lúcia" {
		t.Fatalf("attribute contains: %+v %v", page.Contacts, err)
	}
	for _, q := range badSearches {
		if _, err := st.Contacts(ctx, org.id, 0, model.ContactFilter{Query: q}, model.ContactSort{}, "", 50); err != nil {
			t.Errorf("search %q: %v", q, err)
		}
	}
}

func TestInboxSearchFindsNamesAndMessageText(t *testing.T) {
	st, _ := storetest.New(t)
	ctx := context.Background()
	org := newSearchOrg(t, st, "Loja", 0)
	other := newSearchOrg(t, st, "Outra", 1000)
	type hit struct {
		id      int64
		snippet string
	}
	search := func(q string) []hit {
		t.Helper()
		list, _, err := st.Conversations(ctx, org.id, store.ConversationFilter{Query: q}, "", 30)
		if err != nil {
			t.Fatalf("%q: %v", q, err)
		}
		var out []hit
		for _, c := range list {
			if c.OrgID != org.id {
				t.Fatalf("%q: conversation of org %d", q, c.OrgID)
			}
			out = append(out, hit{c.ID, c.Snippet})
		}
		return out
	}
	mark := func(s string) string { return string(model.SnippetMark) + s + string(model.SnippetEnd) }

	for q, want := range map[string]struct {
		conv    string
		snippet string // "" when found by the contact
	}{
		"joao":                {"João Silva", ""},
		"vinicius":            {"Vinícius Souza", ""},
		"bolo":                {"Ana Lúcia", mark("bolo")},
		"BOLO":                {"Ana Lúcia", mark("bolo")},
		"ORCAMENTO":           {"Vinícius Souza", mark("orçamento")},
		"orçamentos":          {"Vinícius Souza", mark("orçamento")}, // the same word, stemmed
		"bolo chocolate":      {"Ana Lúcia", mark("bolo") + " de " + mark("chocolate")},
		`"bolo de chocolate"`: {"Ana Lúcia", mark("bolo") + " de " + mark("chocolate")},
		"atendimento":         {"Márcia Gonçalves", mark("atendimento")},
	} {
		got := search(q)
		if len(got) != 1 || got[0].id != org.conv[want.conv] {
			t.Errorf("search %q: %+v, want the conversation of %s", q, got, want.conv)
			continue
		}
		if want.snippet == "" && got[0].snippet != "" || !strings.Contains(got[0].snippet, want.snippet) {
			t.Errorf("search %q: snippet %q, want it to hold %q", q, got[0].snippet, want.snippet)
		}
	}
	for _, q := range []string{"panetone", "bolo -chocolate", "de", "zzz"} {
		if got := search(q); len(got) != 0 {
			t.Errorf("search %q: %+v, want nothing", q, got)
		}
	}
	// A conversation found both by its contact and by a message gets its snippet.
	if _, _, err := st.InsertMessage(ctx, model.Message{OrgID: org.id, ConversationID: org.conv["João Silva"], ChannelID: org.channel,
		Direction: "out", Kind: "text", Body: "O João já confirmou", Status: "sent", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if got := search("joão"); len(got) != 1 || !strings.Contains(got[0].snippet, mark("João")) {
		t.Errorf("search joão: %+v", got)
	}
	// The other org's messages never show.
	if _, _, err := st.InsertMessage(ctx, model.Message{OrgID: other.id, ConversationID: other.conv["João Silva"], ChannelID: other.channel,
		Direction: "in", Kind: "text", Body: "Tem panetone?", Status: "received", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if got := search("panetone"); len(got) != 0 {
		t.Errorf("another org's message found: %+v", got)
	}
	for _, q := range badSearches {
		if _, _, err := st.Conversations(ctx, org.id, store.ConversationFilter{Query: q}, "", 30); err != nil {
			t.Errorf("search %q: %v", q, err)
		}
	}
}

// The text search starts from the matching conversations when they are few and walks the
// recent list when they are many, and either side may be joined by contacts found by name;
// every way must list exactly what one plain query over the messages lists (a conversation
// matches when its messages used every word), in the same order, page after page.
func TestInboxTextSearchMatchesAPlainFilter(t *testing.T) {
	st, _ := storetest.New(t)
	ctx := context.Background()
	db := st.DB()
	var orgs []int64
	for i, name := range []string{"Loja", "Outra"} {
		o, err := st.CreateOrg(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		ch, err := st.CreateChannel(ctx, model.Channel{OrgID: o.ID, Kind: model.KindSandbox, Name: "Demo", Rate: 1})
		if err != nil {
			t.Fatal(err)
		}
		// 1,500 conversations; "bolo" in 1,200 messages (more than the search starts from),
		// "panetone" in 40, "joão" in 25 messages and the names of 50 contacts.
		_, err = db.Exec(`
			WITH c AS (
				INSERT INTO contacts (org_id, name, phone)
				SELECT $1, CASE WHEN g % 30 = 0 THEN 'João ' || g ELSE 'Cliente ' || g END, '+55119' || lpad((g + $3)::text, 8, '0')
				FROM generate_series(1, 1500) g RETURNING id),
			v AS (
				INSERT INTO conversations (org_id, channel_id, contact_id, status, last_message_at)
				SELECT $1, $2, id, CASE WHEN id % 3 = 0 THEN 'closed' ELSE 'open' END, now() - (id % 97) * interval '1 minute' FROM c
				RETURNING id)
			INSERT INTO messages (org_id, conversation_id, channel_id, direction, body)
			SELECT $1, v.id, $2, 'in', CASE WHEN k <= 1200 THEN 'Quero um bolo' WHEN k <= 1240 THEN 'Tem panetone?'
			                                WHEN k <= 1265 THEN 'Aqui é o João' ELSE 'Bom dia' END
			FROM (SELECT id, row_number() OVER (ORDER BY random()) AS k FROM v) v`,
			o.ID, ch.ID, i*10000)
		if err != nil {
			t.Fatal(err)
		}
		// "pão" in 1,100 messages of one conversation, then in one message of another: the
		// search must see that many messages match, however few conversations hold them.
		for _, sql := range []string{
			`INSERT INTO messages (org_id, conversation_id, channel_id, direction, body)
			 SELECT $1, (SELECT min(id) FROM conversations WHERE org_id = $1 AND status = 'open'), $2, 'in', 'Tem pão?' FROM generate_series(1, 1100)`,
			`INSERT INTO messages (org_id, conversation_id, channel_id, direction, body)
			 SELECT $1, (SELECT max(id) FROM conversations WHERE org_id = $1 AND status = 'open'), $2, 'in', 'Tem pão?'`,
		} {
			if _, err := db.Exec(sql, o.ID, ch.ID); err != nil {
				t.Fatal(err)
			}
		}
		orgs = append(orgs, o.ID)
	}
	// Statistics, so the planner's estimates tell common words ("bolo": most conversations)
	// from rare ones and both ways of searching run.
	if _, err := db.Exec(`ANALYZE conversations, contacts, messages`); err != nil {
		t.Fatal(err)
	}
	org := orgs[0]
	for _, q := range []string{"bolo", "panetone", "joao", "JOÃO 3", "quero bolo", "panetone OR joão", "cliente 14", "pao", `"tem pao"`} {
		for _, status := range []string{"", "open"} {
			var want []int64
			err := db.Select(&want, `SELECT v.id FROM conversations v JOIN contacts c ON c.id = v.contact_id
				WHERE v.org_id = $1 AND ($3 = '' OR v.status = $3)
				  AND (c.search LIKE '%' || fold($2) || '%'
				       OR (SELECT search_union(strip(m.search)) FROM messages m WHERE m.org_id = v.org_id AND m.conversation_id = v.id)
				          @@ search_query_words($2))
				ORDER BY v.last_message_at DESC, v.id DESC`, org, q, status)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			after := ""
			for range 200 {
				page, next, err := st.Conversations(ctx, org, store.ConversationFilter{Query: q, Status: status}, after, 100)
				if err != nil {
					t.Fatalf("%q: %v", q, err)
				}
				for _, c := range page {
					if c.OrgID != org {
						t.Fatalf("%q: conversation %d of org %d", q, c.ID, c.OrgID)
					}
					got = append(got, c.ID)
				}
				if after = next; next == "" {
					break
				}
			}
			if (status == "" && len(want) == 0) || !slices.Equal(got, want) {
				t.Errorf("search %q status %q: %d conversations, want %d (same order)", q, status, len(got), len(want))
			}
		}
	}
}

func TestBoardSearchIgnoresAccentsAndCase(t *testing.T) {
	st, _ := storetest.New(t)
	ctx := context.Background()
	org := newSearchOrg(t, st, "Loja", 0)
	p, err := st.CreatePipeline(ctx, org.id, "Vendas", "BRL")
	if err != nil {
		t.Fatal(err)
	}
	stage, err := st.CreateStage(ctx, model.Stage{OrgID: org.id, PipelineID: p.ID, Name: "Novo", Color: "gray", Outcome: "open"})
	if err != nil {
		t.Fatal(err)
	}
	var contacts map[string]int64 = map[string]int64{}
	rows, err := st.DB().Query(`SELECT name, id FROM contacts WHERE org_id = $1`, org.id)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		var id int64
		if err := rows.Scan(&n, &id); err != nil {
			t.Fatal(err)
		}
		contacts[n] = id
	}
	rows.Close()
	for i, l := range []struct{ title, contact string }{
		{"Orçamento de casamento", "Ana Lúcia"},
		{"Festa de aniversário", "João Silva"},
		{"Coffee break", "Vinícius Souza"},
	} {
		if _, err := st.CreateLead(ctx, model.Lead{OrgID: org.id, PipelineID: p.ID, StageID: stage.ID, ContactID: contacts[l.contact],
			Title: l.title, Rank: fmt.Sprintf("m%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	for q, want := range map[string][]string{
		"orcamento":   {"Orçamento de casamento"},
		"ANIVERSARIO": {"Festa de aniversário"},
		"joao":        {"Festa de aniversário"}, // the contact's name
		"VINÍCIUS":    {"Coffee break"},
		"lúcia":       {"Orçamento de casamento"},
		"zzz":         nil,
	} {
		cards, err := st.BoardCards(ctx, org.id, p.ID, model.LeadFilter{Search: q}, 50)
		if err != nil {
			t.Fatalf("%q: %v", q, err)
		}
		var got []string
		for _, c := range cards {
			got = append(got, c.Title)
		}
		if !slices.Equal(got, want) {
			t.Errorf("board search %q: %v, want %v", q, got, want)
		}
		totals, err := st.BoardTotals(ctx, org.id, p.ID, model.LeadFilter{Search: q})
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		for _, tt := range totals {
			n += tt.Count
		}
		if int(n) != len(want) {
			t.Errorf("board totals %q: %d, want %d", q, n, len(want))
		}
		more, err := st.StageCards(ctx, org.id, stage.ID, model.LeadFilter{Search: q}, "", 50)
		if err != nil || len(more) != len(want) {
			t.Errorf("stage cards %q: %d %v", q, len(more), err)
		}
	}
	// The lead form's contact picker.
	for q, want := range map[string]string{"joao": "João Silva", "VINICIUS": "Vinícius Souza", "goncalves": "Márcia Gonçalves"} {
		cs, err := st.SearchBoardContacts(ctx, org.id, q, 8)
		if err != nil || len(cs) != 1 || cs[0].Name != want {
			t.Errorf("contact picker %q: %+v %v", q, cs, err)
		}
	}
	for _, q := range badSearches {
		if _, err := st.BoardCards(ctx, org.id, p.ID, model.LeadFilter{Search: q}, 50); err != nil {
			t.Errorf("board search %q: %v", q, err)
		}
		if _, err := st.BoardTotals(ctx, org.id, p.ID, model.LeadFilter{Search: q}); err != nil {
			t.Errorf("board totals %q: %v", q, err)
		}
		if _, err := st.SearchBoardContacts(ctx, org.id, q, 8); err != nil {
			t.Errorf("contact picker %q: %v", q, err)
		}
	}
}

func TestQuickReplySearchIgnoresAccentsAndCase(t *testing.T) {
	st, _ := storetest.New(t)
	ctx := context.Background()
	org := newSearchOrg(t, st, "Loja", 0)
	other := newSearchOrg(t, st, "Outra", 1000)
	for _, o := range []int64{org.id, other.id} {
		for _, q := range []model.QuickReply{
			{Shortcut: "orcamento", Title: "Envio de Orçamento", Body: "Segue o orçamento"},
			{Shortcut: "horario", Title: "Horário de funcionamento", Body: "Abrimos às 8h"},
			{Shortcut: "pix", Title: "Chave PIX", Body: "A chave é o CNPJ"},
		} {
			q.OrgID = o
			if _, err := st.CreateQuickReply(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
	}
	for prefix, want := range map[string][]string{
		"orç":     {"orcamento"}, // the shortcut, folded
		"ORCAM":   {"orcamento"},
		"envio":   {"orcamento"}, // a word of the title
		"funcion": {"horario"},
		"chave":   {"pix"},
		"o":       {"orcamento"}, // titles match at the start of a word only
		"%":       nil,
		"":        {"horario", "orcamento", "pix"},
	} {
		qs, err := st.QuickRepliesPrefix(ctx, org.id, prefix, 8)
		if err != nil {
			t.Fatalf("%q: %v", prefix, err)
		}
		var got []string
		for _, q := range qs {
			if q.OrgID != org.id {
				t.Fatalf("%q: quick reply of org %d", prefix, q.OrgID)
			}
			got = append(got, q.Shortcut)
		}
		if !slices.Equal(got, want) {
			t.Errorf("quick replies %q: %v, want %v", prefix, got, want)
		}
	}
	for _, q := range badSearches {
		if _, err := st.QuickRepliesPrefix(ctx, org.id, q, 8); err != nil {
			t.Errorf("quick replies %q: %v", q, err)
		}
	}
}

// A conversation learns each new word of its messages, and stops at 20,000 words without
// ever failing a message.
func TestConversationLearnsWordsUpToALimit(t *testing.T) {
	st, _ := storetest.New(t)
	ctx := context.Background()
	org := newSearchOrg(t, st, "Loja", 0)
	conv := org.conv["Márcia Gonçalves"]
	words := func() int {
		var n int
		if err := st.DB().Get(&n, `SELECT length(search) FROM conversations WHERE org_id = $1 AND id = $2`, org.id, conv); err != nil {
			t.Fatal(err)
		}
		return n
	}
	insert := func(body string) {
		t.Helper()
		if _, _, err := st.InsertMessage(ctx, model.Message{OrgID: org.id, ConversationID: conv, ChannelID: org.channel,
			Direction: "in", Kind: "text", Body: body, Status: "received", CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	knows := func(word string) bool {
		var ok bool
		if err := st.DB().Get(&ok, `SELECT search @@ search_query_words($3) FROM conversations WHERE org_id = $1 AND id = $2`, org.id, conv, word); err != nil {
			t.Fatal(err)
		}
		return ok
	}
	before := words()
	insert("Obrigada! Amanhã passo aí")
	if got := words(); got <= before || !knows("amanha") || !knows("obrigada") {
		t.Fatalf("words: %d (were %d)", got, before)
	}
	same := words()
	insert("Obrigada, amanhã") // nothing new to learn
	if got := words(); got != same {
		t.Fatalf("words: %d, want %d", got, same)
	}
	if _, err := st.DB().Exec(`UPDATE conversations SET search = (SELECT strip(to_tsvector('simple', string_agg('w' || g, ' '))) FROM generate_series(1, 20000) g)
		WHERE org_id = $1 AND id = $2`, org.id, conv); err != nil {
		t.Fatal(err)
	}
	insert("panetone trufado")
	if got := words(); got != 20000 || knows("panetone") {
		t.Fatalf("a full conversation learned words: %d", got)
	}
}
