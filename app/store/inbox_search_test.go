package store_test

import (
	"context"
	"slices"
	"testing"

	"masteria/app/model"
	"masteria/app/store"
	"masteria/app/store/storetest"
)

// The conversation search starts from the matching contacts when they are few and walks the
// recent list when they are many; either way it must list exactly what a plain LIKE lists, in
// the same order, page after page, and never another org's conversations.
func TestConversationSearchMatchesAPlainFilter(t *testing.T) {
	st, _ := storetest.New(t)
	ctx := context.Background()
	db := st.DB()
	var orgs []int64
	for _, name := range []string{"Loja", "Outra"} {
		o, err := st.CreateOrg(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		ch, err := st.CreateChannel(ctx, model.Channel{OrgID: o.ID, Kind: model.KindSandbox, Name: "Demo", Rate: 1})
		if err != nil {
			t.Fatal(err)
		}
		// 2,100 "Ana Silva …" (more than a search starts from), 40 "Bruno Costa …", a few others;
		// last_message_at repeats so the keyset's id tie-break matters.
		_, err = db.Exec(`
			WITH c AS (
				INSERT INTO contacts (org_id, name, phone)
				SELECT $1, CASE WHEN g <= 2100 THEN 'Ana Silva ' || g WHEN g <= 2140 THEN 'Bruno Costa ' || g ELSE 'Carla ' || g END,
				       '+55119' || lpad((g + $3)::text, 8, '0')
				FROM generate_series(1, 2150) g RETURNING id)
			INSERT INTO conversations (org_id, channel_id, contact_id, status, last_message_at)
			SELECT $1, $2, id, CASE WHEN id % 3 = 0 THEN 'closed' ELSE 'open' END, now() - (id % 97) * interval '1 minute' FROM c`,
			o.ID, ch.ID, len(orgs)*10000)
		if err != nil {
			t.Fatal(err)
		}
		orgs = append(orgs, o.ID)
	}
	org := orgs[0]
	for _, q := range []string{"bruno", "ana silva", "an", "Carla 2145", "119000021", "nobody", "silva 20"} {
		for _, status := range []string{"", "open"} {
			var want []int64
			err := db.Select(&want, `SELECT v.id FROM conversations v JOIN contacts c ON c.id = v.contact_id
				WHERE v.org_id = $1 AND c.search LIKE '%' || lower($2) || '%' AND ($3 = '' OR v.status = $3)
				ORDER BY v.last_message_at DESC, v.id DESC`, org, q, status)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			after := ""
			for range 200 {
				page, next, err := st.Conversations(ctx, org, store.ConversationFilter{Query: q, Status: status}, after, 500)
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
			if !slices.Equal(got, want) {
				t.Errorf("search %q status %q: %d conversations, want %d (same order)", q, status, len(got), len(want))
			}
		}
	}
}
