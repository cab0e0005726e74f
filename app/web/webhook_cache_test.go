package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"masteria/app/channel/meta"
	"masteria/app/model"
	"masteria/app/web/webtest"
)

// Webhooks reuse a channel's opened secrets for a few seconds; a secret changed meanwhile
// is still seen at once: a signature the cached secret refuses is checked against the
// stored one, and the old secret stops working.
func TestWebhookSeesANewSecretAtOnce(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	c := webtest.NewClient(t, inst.URL)
	c.Signup("Loja", "Rui", uniqueEmail("rui"), strongPassword)
	var orgID, userID int64
	_ = inst.App.Store.DB().Get(&orgID, `SELECT id FROM orgs`)
	_ = inst.App.Store.DB().Get(&userID, `SELECT id FROM users`)
	ctx := context.Background()
	ch, err := inst.App.Inbox.CreateChannel(ctx, model.Actor{OrgID: orgID, UserID: userID, Role: model.RoleOwner},
		model.KindWhatsAppCloud, "WhatsApp", map[string]string{"phone_number_id": "123"},
		map[string]string{"app_secret": "old-secret", "verify_token": "tok", "access_token": "EAA"})
	if err != nil {
		t.Fatal(err)
	}
	path := fmt.Sprintf("/webhooks/whatsapp/%d", ch.ID)
	msg := func(id string) []byte {
		return whatsappBody(`"contacts":[{"profile":{"name":"Ana"},"wa_id":"5511987654321"}],"messages":[{"from":"5511987654321","id":"` + id +
			`","timestamp":"1749416383","type":"text","text":{"body":"Oi!"}}]`)
	}
	if code := postWebhook(t, c, path, msg("wamid.C1"), meta.Sign(msg("wamid.C1"), "old-secret")); code != http.StatusOK {
		t.Fatalf("first webhook: %d", code)
	}
	// The app secret changes in the database (as a second instance would change it).
	b, _ := json.Marshal(map[string]string{"app_secret": "new-secret", "verify_token": "tok", "access_token": "EAA"})
	sealed, err := inst.App.Vault.Seal(b, fmt.Appendf(nil, "channel:%d:secrets", ch.ID))
	if err != nil {
		t.Fatal(err)
	}
	if err := inst.App.Store.SetChannelSecrets(ctx, orgID, ch.ID, sealed); err != nil {
		t.Fatal(err)
	}
	if code := postWebhook(t, c, path, msg("wamid.C2"), meta.Sign(msg("wamid.C2"), "new-secret")); code != http.StatusOK {
		t.Errorf("signed with the new secret: %d, want 200", code)
	}
	if code := postWebhook(t, c, path, msg("wamid.C3"), meta.Sign(msg("wamid.C3"), "old-secret")); code != http.StatusUnauthorized {
		t.Errorf("signed with the old secret: %d, want 401", code)
	}
	var n int
	_ = inst.App.Store.DB().Get(&n, `SELECT count(*) FROM messages WHERE channel_id = $1`, ch.ID)
	if n != 2 {
		t.Errorf("%d messages stored, want 2", n)
	}
}
