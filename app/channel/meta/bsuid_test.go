package meta

import "testing"

func value(v string) []byte {
	return []byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp",` +
		`"metadata":{"display_phone_number":"15550000000","phone_number_id":"123"},` + v + `}}]}]}`)
}

// TestParseUserIDs: user ids, usernames and a withheld phone (Meta's business-scoped user
// ids), identity-change system messages, a shared own number and statuses of messages
// sent by user id.
func TestParseUserIDs(t *testing.T) {
	b, err := Parse(value(`"contacts":[{"profile":{"name":"Ana","username":"ana.doces"},"user_id":"BR.1349","parent_user_id":"BR.ENT.77"}],` +
		`"messages":[{"from_user_id":"BR.1349","id":"wamid.A","timestamp":"1749416383","type":"text","text":{"body":"Oi"}}]`))
	if err != nil {
		t.Fatal(err)
	}
	m := b.Messages[0]
	if m.From != "" || m.UserID != "BR.1349" || m.ParentUserID != "BR.ENT.77" || m.Username != "ana.doces" || m.Name != "Ana" {
		t.Fatalf("no-phone message %+v", m)
	}
	// The user id only in contacts[], the phone in both.
	b, _ = Parse(value(`"contacts":[{"profile":{"name":"Bia"},"wa_id":"5511987654321","user_id":"BR.9"}],` +
		`"messages":[{"from":"5511987654321","id":"wamid.B","timestamp":"1","type":"text","text":{"body":"Oi"}}]`))
	if m := b.Messages[0]; m.From != "+5511987654321" || m.UserID != "BR.9" || m.Name != "Bia" {
		t.Fatalf("phone message %+v", m)
	}
	b, _ = Parse(value(`"messages":[` +
		`{"from":"5511987654321","from_user_id":"BR.9","id":"wamid.C","timestamp":"1","type":"system","system":{"body":"changed","type":"user_changed_number","wa_id":"5511911112222"}},` +
		`{"from":"5511987654321","id":"wamid.D","timestamp":"1","type":"system","system":{"body":"changed","type":"user_changed_user_id","user_id":"BR.10"}},` +
		`{"from_user_id":"BR.9","id":"wamid.E","timestamp":"1","type":"contacts","contacts":[{"name":{"formatted_name":"Bia"},"origin":"contact_request","phones":[{"phone":"+55 11 98765-4321","wa_id":"5511987654321"}]}]}]`))
	if len(b.Messages) != 3 {
		t.Fatalf("%d messages", len(b.Messages))
	}
	if s := b.Messages[0].System; s == nil || s.NewPhone != "+5511911112222" || b.Messages[0].Body != "changed" {
		t.Fatalf("number change %+v", b.Messages[0])
	}
	if s := b.Messages[1].System; s == nil || s.NewUserID != "BR.10" {
		t.Fatalf("user id change %+v", b.Messages[1])
	}
	if b.Messages[2].SharedPhone != "+5511987654321" {
		t.Fatalf("shared phone %+v", b.Messages[2])
	}
	b, _ = Parse(value(`"statuses":[{"id":"wamid.OUT","status":"delivered","timestamp":"1","recipient_user_id":"BR.9"}]`))
	if st := b.Statuses[0]; st.RecipientUser != "BR.9" || st.Recipient != "" {
		t.Fatalf("status %+v", st)
	}
	// A message with no sender at all is refused.
	if _, err := Parse(value(`"messages":[{"id":"wamid.F","timestamp":"1","type":"text","text":{"body":"?"}}]`)); err == nil {
		t.Fatal("a message without a sender parsed")
	}
}
