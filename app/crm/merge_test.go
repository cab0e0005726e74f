package crm_test

import (
	"errors"
	"testing"

	"masteria/app/crm"
	"masteria/app/model"
)

// TestMergeMovesEverything: the other contact's conversations (messages folded into the
// kept one's conversation on the same channel), leads, identities, tags, opt-outs, custom
// fields and timeline move to the kept contact; the other is gone; the merge is on the
// timeline and published.
func TestMergeMovesEverything(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	db := e.st.DB()
	t1, _ := e.st.CreateTag(e.ctx, e.a.OrgID, "vip", "red")
	t2, _ := e.st.CreateTag(e.ctx, e.a.OrgID, "atacado", "blue")
	keep, err := e.svc.Create(e.ctx, e.a, crm.ContactInput{Name: "Ana", TagIDs: []int64{t1.ID}})
	if err != nil {
		t.Fatal(err)
	}
	other, err := e.svc.Create(e.ctx, e.a, crm.ContactInput{Name: "Ana Souza", Phone: "+5511987650100", Email: "ana@souza.com",
		TagIDs: []int64{t2.ID}, OptedOut: []string{model.ChannelSMS}})
	if err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`INSERT INTO contact_identities (org_id, contact_id, kind, value) VALUES ($1, $2, 'wa_user_id', 'BR.111'), ($1, $3, 'wa_user_id', 'BR.222')`,
		e.a.OrgID, keep.ID, other.ID)
	var wa, sms, pipe, stage int64
	_ = db.Get(&wa, `INSERT INTO channels (org_id, kind, name) VALUES ($1, 'whatsapp_cloud', 'WA') RETURNING id`, e.a.OrgID)
	_ = db.Get(&sms, `INSERT INTO channels (org_id, kind, name) VALUES ($1, 'twilio_sms', 'SMS') RETURNING id`, e.a.OrgID)
	conv := func(contact, channel int64, unread int, at string) int64 {
		var id int64
		if err := db.Get(&id, `INSERT INTO conversations (org_id, channel_id, contact_id, unread, last_message_at, preview, status)
			VALUES ($1, $2, $3, $4, $5::timestamptz, $6, 'closed') RETURNING id`, e.a.OrgID, channel, contact, unread, at, at); err != nil {
			t.Fatal(err)
		}
		exec(`INSERT INTO messages (org_id, conversation_id, channel_id, direction, body, created_at) VALUES ($1, $2, $3, 'in', $4, $5::timestamptz)`,
			e.a.OrgID, id, channel, at, at)
		return id
	}
	keptWA := conv(keep.ID, wa, 1, "2026-01-01T10:00:00Z")
	otherWA := conv(other.ID, wa, 2, "2026-01-02T10:00:00Z")
	otherSMS := conv(other.ID, sms, 0, "2026-01-03T10:00:00Z")
	exec(`INSERT INTO messages (org_id, conversation_id, channel_id, direction, body, created_at) VALUES ($1, $2, $3, 'in', 'Tem panetone de chocolate?', now())`,
		e.a.OrgID, otherWA, wa)
	_ = db.Get(&pipe, `INSERT INTO pipelines (org_id, name) VALUES ($1, 'Vendas') RETURNING id`, e.a.OrgID)
	_ = db.Get(&stage, `INSERT INTO stages (org_id, pipeline_id, name) VALUES ($1, $2, 'Novo') RETURNING id`, e.a.OrgID, pipe)
	exec(`INSERT INTO leads (org_id, pipeline_id, stage_id, contact_id, title, rank) VALUES ($1, $2, $3, $4, 'Bolo', 'a')`, e.a.OrgID, pipe, stage, other.ID)
	exec(`UPDATE contacts SET attributes = '{"cidade":"Rio","plano":"ouro"}' WHERE id = $1`, other.ID)
	exec(`UPDATE contacts SET attributes = '{"cidade":"São Paulo"}' WHERE id = $1`, keep.ID)

	preview, err := e.svc.PreviewMerge(e.ctx, e.a, keep.ID, other.ID)
	if err != nil || preview.Conversations != 2 || preview.Leads != 1 || preview.Identities != 2 || preview.Tags != 1 {
		t.Fatalf("preview %+v %v", preview, err)
	}
	if _, err := e.svc.Merge(e.ctx, e.a, keep.ID, other.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.Contact(e.ctx, e.a.OrgID, other.ID); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("the other contact is still there: %v", err)
	}
	got, err := e.st.Contact(e.ctx, e.a.OrgID, keep.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Ana" || got.Phone == nil || *got.Phone != "+5511987650100" || got.Email == nil || *got.Email != "ana@souza.com" {
		t.Fatalf("kept contact %+v", got)
	}
	if len(got.TagIDs) != 2 || !got.OptedOutOf(model.ChannelSMS) {
		t.Fatalf("tags %v opt-outs %v", got.TagIDs, got.OptedOut)
	}
	if string(got.Attributes) != `{"plano": "ouro", "cidade": "São Paulo"}` {
		t.Fatalf("custom fields %s: the kept contact's values must stay and the missing ones be filled", got.Attributes)
	}
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := db.Get(&n, q, args...); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(`SELECT count(*) FROM conversations WHERE contact_id = $1`, keep.ID); n != 2 {
		t.Fatalf("%d conversations, want the WhatsApp one (folded) and the SMS one", n)
	}
	if n := count(`SELECT count(*) FROM conversations WHERE id = $1`, otherWA); n != 0 {
		t.Fatal("the other's WhatsApp conversation was not folded into the kept one")
	}
	if n := count(`SELECT count(*) FROM messages WHERE conversation_id = $1`, keptWA); n != 3 {
		t.Fatalf("%d messages in the kept WhatsApp conversation, want 3", n)
	}
	// The inbox search finds the folded messages' words in the kept conversation.
	if n := count(`SELECT count(*) FROM conversations WHERE org_id = $1 AND id = $2 AND search @@ search_query_words('panetone')`, e.a.OrgID, keptWA); n != 1 {
		t.Fatal("the kept conversation did not learn the folded messages' words")
	}
	if n := count(`SELECT unread FROM conversations WHERE id = $1`, keptWA); n != 3 {
		t.Fatalf("unread %d, want 3", n)
	}
	if n := count(`SELECT count(*) FROM conversations WHERE id = $1 AND contact_id = $2`, otherSMS, keep.ID); n != 1 {
		t.Fatal("the other's SMS conversation did not move")
	}
	if n := count(`SELECT count(*) FROM leads WHERE contact_id = $1`, keep.ID); n != 1 {
		t.Fatal("the lead did not move")
	}
	if n := count(`SELECT count(*) FROM contact_identities WHERE contact_id = $1`, keep.ID); n != 3 {
		t.Fatalf("%d identities, want both user ids and the phone", n)
	}
	if n := count(`SELECT count(*) FROM contact_events WHERE contact_id = $1 AND kind = 'created'`, keep.ID); n != 2 {
		t.Fatal("the other's timeline did not move")
	}
	if n := count(`SELECT count(*) FROM contact_events WHERE contact_id = $1 AND kind = 'merged' AND data->>'other_name' = 'Ana Souza'`, keep.ID); n != 1 {
		t.Fatal("the merge is not on the timeline")
	}
	if n := count(`SELECT count(*) FROM events WHERE type = 'contact.merged' AND payload->>'removed_id' = $1::text`, other.ID); n != 1 {
		t.Fatal("no contact.merged event")
	}
}

func TestMergeBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, _ := e.svc.Create(e.ctx, e.a, crm.ContactInput{Name: "A"})
	b, _ := e.svc.Create(e.ctx, e.a, crm.ContactInput{Name: "B"})
	foreign, _ := e.st.CreateOrg(e.ctx, "Outra loja")
	var f int64
	_ = e.st.DB().Get(&f, `INSERT INTO contacts (org_id, name) VALUES ($1, 'F') RETURNING id`, foreign.ID)
	if _, err := e.svc.Merge(e.ctx, e.a, a.ID, f); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("another org's contact: %v", err)
	}
	if _, err := e.svc.Merge(e.ctx, e.a, f, a.ID); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("keeping another org's contact: %v", err)
	}
	_, err := e.svc.Merge(e.ctx, e.a, a.ID, a.ID)
	fieldErr(t, err, "other_id", "contacts.merge.error.same")
	agent := e.a
	agent.Role = model.RoleAgent
	if _, err := e.svc.Merge(e.ctx, agent, a.ID, b.ID); !errors.Is(err, model.ErrForbidden) {
		t.Fatalf("an agent merged: %v", err)
	}
	var n int
	_ = e.st.DB().Get(&n, `SELECT count(*) FROM contacts`)
	if n != 3 {
		t.Fatalf("%d contacts after refused merges, want 3", n)
	}
}
