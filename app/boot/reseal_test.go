package boot_test

import (
	"context"
	"testing"

	"masteria/app/account"
	"masteria/app/ai/provider"
	"masteria/app/boot"
	"masteria/app/inbox"
	"masteria/app/model"
	"masteria/app/store/storetest"
	"masteria/app/vault"
	"masteria/app/voice"
	"masteria/app/voice/numbers"
)

func ring(t *testing.T, keys ...string) *vault.Ring {
	t.Helper()
	s := ""
	for i, k := range keys {
		if i > 0 {
			s += ","
		}
		s += k
	}
	r, err := vault.ParseKeyRing(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func newKey(t *testing.T) string {
	t.Helper()
	k, err := vault.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestResealEverySecret: after a key rotation every sealed value the app keeps — an org
// secret, a channel's secrets, the AI and Retell keys, a SIP password — opens with the new
// key alone, so the old one can leave the ring; a second run changes nothing.
func TestResealEverySecret(t *testing.T) {
	ctx := context.Background()
	st, _ := storetest.New(t)
	oldKey, newKeyText := newKey(t), newKey(t)
	old := ring(t, oldKey)
	org, err := st.CreateOrg(ctx, "Loja Chaves")
	if err != nil {
		t.Fatal(err)
	}
	if err := account.NewSecrets(st, old).Put(ctx, org.ID, "media_link_key", "segredo-da-loja"); err != nil {
		t.Fatal(err)
	}
	seal := func(plain string, ad []byte) string {
		t.Helper()
		s, err := old.Seal([]byte(plain), ad)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	var channel, voiceAccount, number int64
	db := st.DB()
	if err := db.Get(&channel, `INSERT INTO channels (org_id, kind, name) VALUES ($1, 'sandbox', 'Teste') RETURNING id`, org.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE channels SET secrets = $2 WHERE id = $1`, channel, seal(`{"access_token":"EAA"}`, inbox.SecretsAD(channel))); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO ai_providers (org_id, base_url, api_key_sealed, chat_model, embedding_model) VALUES ($1, 'https://ai.example', $2, 'm', 'e')`,
		org.ID, seal("sk-ia", provider.KeyAD(org.ID))); err != nil {
		t.Fatal(err)
	}
	if err := db.Get(&voiceAccount, `INSERT INTO voice_accounts (org_id, api_key_sealed) VALUES ($1, '') RETURNING id`, org.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE voice_accounts SET api_key_sealed = $2 WHERE id = $1`, voiceAccount, seal("key_retell", voice.KeyAD(org.ID, voiceAccount))); err != nil {
		t.Fatal(err)
	}
	if err := db.Get(&number, `INSERT INTO voice_numbers (org_id, phone_number) VALUES ($1, '+14155550100') RETURNING id`, org.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE voice_numbers SET sip_password_sealed = $2 WHERE id = $1`, number,
		seal("senha-sip", []byte(numbers.PasswordAD(model.VoiceNumber{ID: number})))); err != nil {
		t.Fatal(err)
	}

	rotated := ring(t, newKeyText, oldKey)
	n, err := boot.Reseal(ctx, st, rotated)
	if err != nil || n != 5 {
		t.Fatalf("re-sealed %d (%v), want 5", n, err)
	}
	if again, err := boot.Reseal(ctx, st, rotated); err != nil || again != 0 {
		t.Fatalf("second run re-sealed %d (%v)", again, err)
	}

	// The new key alone opens every value.
	only := ring(t, newKeyText)
	open := func(what, query string, id any, ad []byte, want string) {
		t.Helper()
		var sealed string
		if err := db.Get(&sealed, query, id); err != nil {
			t.Fatal(err)
		}
		got, err := only.Open(sealed, ad)
		if err != nil || string(got) != want {
			t.Errorf("%s: %q %v", what, got, err)
		}
	}
	open("channel", `SELECT secrets FROM channels WHERE id = $1`, channel, inbox.SecretsAD(channel), `{"access_token":"EAA"}`)
	open("AI key", `SELECT api_key_sealed FROM ai_providers WHERE org_id = $1`, org.ID, provider.KeyAD(org.ID), "sk-ia")
	open("Retell key", `SELECT api_key_sealed FROM voice_accounts WHERE id = $1`, voiceAccount, voice.KeyAD(org.ID, voiceAccount), "key_retell")
	open("SIP password", `SELECT sip_password_sealed FROM voice_numbers WHERE id = $1`, number,
		[]byte(numbers.PasswordAD(model.VoiceNumber{ID: number})), "senha-sip")
	if v, err := account.NewSecrets(st, only).Get(ctx, org.ID, "media_link_key"); err != nil || v != "segredo-da-loja" {
		t.Errorf("org secret: %q %v", v, err)
	}
}
