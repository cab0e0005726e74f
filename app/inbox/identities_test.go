package inbox_test

import (
	"testing"

	"masteria/app/inbox"
	"masteria/app/model"
	"masteria/app/store"
)

// TestPhoneJoinsTheContactLater: a person known by a WhatsApp user id shares their number
// (the answer to a contact request), and an agent's edit gives another user-id contact
// its phone: later messages from those phones land on the same contacts. A phone another
// contact holds stays with it.
func TestPhoneJoinsTheContactLater(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ch := e.channel(t, model.KindSandbox)
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := e.st.DB().Get(&n, q, args...); err != nil {
			t.Fatal(err)
		}
		return n
	}
	ana, err := e.svc.Receive(e.ctx, ch, inbox.Inbound{UserID: "BR.100", Username: "ana", ProviderID: "m1", Body: "Oi"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Receive(e.ctx, ch, inbox.Inbound{UserID: "BR.100", ProviderID: "m2", Kind: "contacts", SharedPhone: "+5511987650500"}); err != nil {
		t.Fatal(err)
	}
	if n := count(`SELECT count(*) FROM contacts WHERE id = $1 AND phone = '+5511987650500'`, ana.ContactID); n != 1 {
		t.Fatal("the shared phone did not join the contact")
	}
	byPhone, err := e.svc.Receive(e.ctx, ch, inbox.Inbound{From: "+5511987650500", ProviderID: "m3", Body: "Sou eu"})
	if err != nil || byPhone.ContactID != ana.ContactID || byPhone.ConversationID != ana.ConversationID {
		t.Fatalf("a message from the shared phone went to contact %d, want %d (%v)", byPhone.ContactID, ana.ContactID, err)
	}

	// An agent types the phone of a user-id contact.
	bia, _ := e.svc.Receive(e.ctx, ch, inbox.Inbound{UserID: "BR.200", ProviderID: "m4", Body: "Oi"})
	if _, err := e.st.DB().Exec(`UPDATE contacts SET phone = '+5511987650600' WHERE id = $1`, bia.ContactID); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.svc.Receive(e.ctx, ch, inbox.Inbound{From: "+5511987650600", ProviderID: "m5", Body: "Oi"}); got.ContactID != bia.ContactID {
		t.Fatalf("a message from the typed phone went to contact %d, want %d", got.ContactID, bia.ContactID)
	}

	// A third person shares a phone that Ana has: it stays Ana's.
	caio, _ := e.svc.Receive(e.ctx, ch, inbox.Inbound{UserID: "BR.300", ProviderID: "m6", Body: "Oi"})
	if _, err := e.svc.Receive(e.ctx, ch, inbox.Inbound{UserID: "BR.300", ProviderID: "m7", Kind: "contacts", SharedPhone: "+5511987650500"}); err != nil {
		t.Fatal(err)
	}
	if n := count(`SELECT count(*) FROM contacts WHERE id = $1 AND phone IS NULL`, caio.ContactID); n != 1 {
		t.Fatal("a phone another contact holds moved")
	}
	// A message with neither phone nor identity is refused.
	if _, err := e.svc.Receive(e.ctx, ch, inbox.Inbound{ProviderID: "m8", Body: "?"}); err == nil {
		t.Fatal("a message without a sender was stored")
	}
	if n := count(`SELECT count(*) FROM contacts`); n != 3 {
		t.Fatalf("%d contacts, want 3", n)
	}
}

// TestMergedPhoneFindsTheKeptContact: two records of one person, each with its own phone,
// are merged; a later message from the merged-away number lands on the kept contact and
// its conversation instead of making the duplicate again.
func TestMergedPhoneFindsTheKeptContact(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ch := e.channel(t, model.KindSandbox)
	kept, err := e.svc.Receive(e.ctx, ch, inbox.Inbound{From: "+5511987650701", ProviderID: "k1", Body: "Oi"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := e.svc.Receive(e.ctx, ch, inbox.Inbound{From: "+5511987650702", ProviderID: "o1", Body: "Oi, do outro número"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.Tx(e.ctx, func(tx *store.Store) error {
		_, _, err := tx.MergeContacts(e.ctx, e.a.OrgID, kept.ContactID, other.ContactID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	got, err := e.svc.Receive(e.ctx, ch, inbox.Inbound{From: "+5511987650702", ProviderID: "o2", Body: "De novo"})
	if err != nil {
		t.Fatal(err)
	}
	if got.ContactID != kept.ContactID || got.ConversationID != kept.ConversationID {
		t.Fatalf("a message from the merged number went to contact %d conversation %d, want %d and %d",
			got.ContactID, got.ConversationID, kept.ContactID, kept.ConversationID)
	}
	var n int
	_ = e.st.DB().Get(&n, `SELECT count(*) FROM contacts WHERE org_id = $1`, e.a.OrgID)
	if n != 1 {
		t.Fatalf("%d contacts after the merge and a new message, want 1", n)
	}
}
