package metasim_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"masteria/app/sim/metasim"
)

// TestSendByUserID: "recipient" addresses a user by business-scoped user id (answered
// with user_id, not wa_id, and its statuses carry recipient_user_id); "to" wins when both
// are sent; a malformed user id is refused; the 24-hour window holds per user id too.
func TestSendByUserID(t *testing.T) {
	s, base, app := newSim(t)
	s.SetAutoStatuses(metasim.StatusSent)
	uid := metasim.MintUserID(wabaID, customer)
	byID := func(recipient string) map[string]any {
		b := textBody("", "Olá")
		delete(b, "to")
		b["recipient"] = recipient
		return b
	}
	if a := call(t, "POST", base+"/v21.0/"+phoneID+"/messages", token, byID(uid)); a.status != http.StatusBadRequest {
		t.Fatalf("outside the window: %d %v", a.status, a.body)
	}
	// The user writes with the phone withheld: the window opens for their user id.
	if _, status, err := s.InboundText(context.Background(), phoneID, metasim.Sender{WaID: customer, HidePhone: true}, "oi"); err != nil || status != http.StatusOK {
		t.Fatalf("inbound: %d %v", status, err)
	}
	a := call(t, "POST", base+"/v21.0/"+phoneID+"/messages", token, byID(uid))
	if a.status != http.StatusOK {
		t.Fatalf("send by user id: %d %v", a.status, a.body)
	}
	c := a.body["contacts"].([]any)[0].(map[string]any)
	if c["input"] != uid || c["user_id"] != uid || c["wa_id"] != nil {
		t.Fatalf("contacts %v", c)
	}
	if a := call(t, "POST", base+"/v21.0/"+phoneID+"/messages", token, byID("not a user id")); a.status != http.StatusBadRequest {
		t.Fatalf("malformed user id: %d", a.status)
	}
	both := textBody(customer, "Olá")
	both["recipient"] = uid
	s.SetLastInbound(phoneID, customer, time.Now())
	if a := call(t, "POST", base+"/v21.0/"+phoneID+"/messages", token, both); a.status != http.StatusOK {
		t.Fatalf("to and recipient: %d %v", a.status, a.body)
	}
	sent, err := s.WaitSent(context.Background(), 2)
	if err != nil {
		t.Fatal(err)
	}
	if sent[0].UserID != uid || sent[0].WaID != "" || sent[1].WaID != customer || sent[1].UserID != "" {
		t.Fatalf("sent %+v", sent)
	}
	for _, st := range statusesOf(t, app.wait(t, 3)) { // the inbound message, then a status of each send
		byUserID := st.ID == sent[0].ID
		if byUserID && (st.RecipientUserID != uid || st.RecipientID != "") || !byUserID && (st.RecipientID != customer || st.RecipientUserID != "") {
			t.Fatalf("status %+v", st)
		}
	}
}
