package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"masteria/app/model"
	"masteria/app/voice/calls"
	"masteria/app/voice/retell"
	"masteria/app/web/webtest"
)

// retellAccount connects a Retell account to the org with key, as the account page would:
// the key sealed by the vault, bound to the account's id.
func retellAccount(t testing.TB, inst *webtest.Instance, orgID int64, key string) int64 {
	t.Helper()
	db := inst.App.Store.DB()
	var id int64
	if err := db.Get(&id, `INSERT INTO voice_accounts (org_id, api_key_sealed) VALUES ($1, '') RETURNING id`, orgID); err != nil {
		t.Fatal(err)
	}
	sealed, err := inst.App.Vault.SealString(key, calls.KeyAD(id))
	if err != nil {
		t.Fatal(err)
	}
	db.MustExec(`UPDATE voice_accounts SET api_key_sealed = $2 WHERE id = $1`, id, sealed)
	return id
}

// postRetell posts a call event to the account's webhook, signed with key at `at`.
func postRetell(t testing.TB, base string, account any, key string, at time.Time, body []byte) *http.Response {
	t.Helper()
	sig := ""
	if key != "" {
		sig = retell.Sign(body, key, at)
	}
	return postRetellSigned(t, base, account, sig, body)
}

// postRetellSigned posts body with the signature header given.
func postRetellSigned(t testing.TB, base string, account any, sig string, body []byte) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", fmt.Sprintf("%s/webhooks/retell/%v", base, account), bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set("X-Retell-Signature", sig)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}

// retellEvent is a webhook body: an inbound call from `from` as event left it.
func retellEvent(t testing.TB, event, callID, from string) []byte {
	t.Helper()
	call := map[string]any{"call_id": callID, "call_type": "phone_call", "agent_id": "agent_recepcao", "agent_name": "Recepção",
		"agent_version": 1, "direction": "inbound", "from_number": from, "to_number": "+551130001000", "call_status": "ongoing",
		"start_timestamp": time.Now().Add(-2 * time.Minute).UnixMilli()}
	if event != "call_started" {
		call["call_status"] = "ended"
		call["end_timestamp"] = time.Now().UnixMilli()
		call["duration_ms"] = 120000
		call["disconnection_reason"] = "user_hangup"
		call["transcript"] = "Agent: Olá, aqui é a Clínica.\nUser: Quero remarcar minha consulta."
		call["transcript_object"] = []map[string]any{{"role": "agent", "content": "Olá, aqui é a Clínica."},
			{"role": "user", "content": "Quero remarcar minha consulta."}}
	}
	if event == "call_analyzed" {
		call["call_analysis"] = map[string]any{"call_summary": "Paciente pediu para remarcar a consulta.", "user_sentiment": "Neutral",
			"call_successful": true, "in_voicemail": false}
	}
	b, _ := json.Marshal(map[string]any{"event": event, "call": call})
	return b
}

// callFixture stores an analysed inbound call of the org through the webhook and returns
// its id.
func callFixture(t *testing.T, inst *webtest.Instance, orgID int64) int64 {
	t.Helper()
	key := fmt.Sprintf("fixture_key_%d", orgID)
	acct := retellAccount(t, inst, orgID, key)
	for _, ev := range []string{"call_started", "call_ended", "call_analyzed"} {
		if res := postRetell(t, inst.URL, acct, key, time.Now(), retellEvent(t, ev, fmt.Sprintf("call_fixture_%d", orgID), "+5511912345000")); res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", ev, res.StatusCode)
		}
	}
	var id int64
	if err := inst.App.Store.DB().Get(&id, `SELECT id FROM calls WHERE org_id = $1 AND call_id = $2`, orgID, fmt.Sprintf("call_fixture_%d", orgID)); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestRetellWebhookAnswers: the webhook's answer to each kind of delivery, and what it keeps.
func TestRetellWebhookAnswers(t *testing.T) {
	t.Parallel()
	o := newInboxOrg(t)
	key := "key_webhook_0123456789"
	acct := retellAccount(t, o.inst, o.orgID(), key)
	db := o.inst.App.Store.DB()
	now := time.Now()
	ok := retellEvent(t, "call_ended", "call_web_1", "+5511987001122")
	tampered := bytes.Replace(ok, []byte("remarcar"), []byte("cancelar"), 1)
	nul := bytes.Replace(retellEvent(t, "call_ended", "call_web_nul", "+5511987001133"), []byte("remarcar"), []byte(`re\u0000marcar`), 1)
	big := append(append([]byte(`{"event":"call_ended","call":{"call_id":"call_big","transcript":"`), bytes.Repeat([]byte("a"), 3<<20)...), `"}}`...)
	cases := []struct {
		name    string
		account any
		key     string
		at      time.Time
		body    []byte
		want    int
	}{
		{"valid", acct, key, now, ok, 200},
		{"duplicate", acct, key, now.Add(time.Second), ok, 200},
		{"old timestamp", acct, key, now.Add(-6 * time.Minute), ok, 401},
		{"no signature", acct, "", now, ok, 401},
		{"wrong key", acct, "another_key", now, ok, 401},
		{"unknown account", acct + 1000, key, now, ok, 404},
		{"not an id", "abc", key, now, ok, 404},
		{"oversized", acct, key, now, big, 413},
		{"not JSON", acct, key, now, []byte(`{"event":`), 400},
		{"NUL in a field", acct, key, now, nul, 400},
		{"invalid UTF-8", acct, key, now, append([]byte(`{"event":"call_ended","call":{"call_id":"call_utf`), 0xff, '"', '}', '}'), 200},
		{"an event of no interest", acct, key, now, []byte(`{"event":"transcript_updated","call":{"call_id":"call_web_1"}}`), 200},
	}
	for _, tc := range cases {
		if res := postRetell(t, o.inst.URL, tc.account, tc.key, tc.at, tc.body); res.StatusCode != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, res.StatusCode, tc.want)
		}
	}
	// A body changed after Retell signed it.
	if res := postRetellSigned(t, o.inst.URL, acct, retell.Sign(ok, key, now), tampered); res.StatusCode != 401 {
		t.Errorf("tampered body: %d, want 401", res.StatusCode)
	}
	var n int
	_ = db.Get(&n, `SELECT count(*) FROM calls WHERE org_id = $1 AND call_id = 'call_web_1' AND transcript LIKE '%remarcar%'`, o.orgID())
	if n != 1 {
		t.Error("the valid event was not stored as sent")
	}
	_ = db.Get(&n, `SELECT count(*) FROM call_events WHERE org_id = $1`, o.orgID())
	if n != 2 { // call_web_1's call_ended and the invalid UTF-8 one's
		t.Errorf("%d call events stored", n)
	}
	_ = db.Get(&n, `SELECT count(*) FROM calls WHERE call_id IN ('call_web_nul', 'call_big')`)
	if n != 0 {
		t.Error("a refused event left a call")
	}
	// The route takes no GET.
	if res := o.owner.Get(fmt.Sprintf("/webhooks/retell/%d", acct)); res.StatusCode == http.StatusOK {
		t.Errorf("GET: %d", res.StatusCode)
	}
}

// TestCallsAPIKeepsToItsOrg: the API reads the key's org's calls only.
func TestCallsAPIKeepsToItsOrg(t *testing.T) {
	t.Parallel()
	o := newInboxOrg(t)
	mine := callFixture(t, o.inst, o.orgID())
	other := webtest.NewClient(t, o.inst.URL)
	other.Signup("Oficina Vizinha", "Otto", uniqueEmail("otto"), strongPassword)
	var otherOrg int64
	_ = o.inst.App.Store.DB().Get(&otherOrg, `SELECT id FROM orgs WHERE name = 'Oficina Vizinha'`)
	theirs := callFixture(t, o.inst, otherOrg)
	ctx := context.Background()
	key, err := o.inst.App.Account.CreateAPIKeyForOrgName(ctx, o.name, "ERP")
	if err != nil {
		t.Fatal(err)
	}
	res := apiCall(t, o.owner, key, "GET", fmt.Sprintf("/api/v1/calls/%d", mine), "")
	var one struct {
		Call struct {
			model.Call
			Turns []calls.Turn `json:"transcript_turns"`
		} `json:"call"`
	}
	if err := json.Unmarshal([]byte(res.Body), &one); res.StatusCode != 200 || err != nil {
		t.Fatalf("own call: %d %s", res.StatusCode, res.Body)
	}
	if one.Call.Summary != "Paciente pediu para remarcar a consulta." || len(one.Call.Turns) != 2 || one.Call.Turns[1].Role != "user" {
		t.Errorf("call: %s", res.Body)
	}
	if res := apiCall(t, o.owner, key, "GET", fmt.Sprintf("/api/v1/calls/%d", theirs), ""); res.StatusCode != 404 {
		t.Errorf("another org's call: %d", res.StatusCode)
	}
	list := apiCall(t, o.owner, key, "GET", "/api/v1/calls", "")
	if !strings.Contains(list.Body, fmt.Sprintf(`"id":%d,`, mine)) || strings.Contains(list.Body, fmt.Sprintf(`"id":%d,`, theirs)) {
		t.Errorf("list: %s", list.Body)
	}
	var theirContact int64
	_ = o.inst.App.Store.DB().Get(&theirContact, `SELECT contact_id FROM calls WHERE id = $1`, theirs)
	if res := apiCall(t, o.owner, key, "GET", fmt.Sprintf("/api/v1/calls?contact=%d", theirContact), ""); !strings.Contains(res.Body, `"calls":[]`) {
		t.Errorf("another org's contact filter: %s", res.Body)
	}
	for _, q := range []string{"status=gone", "direction=sideways", "from=yesterday", "limit=0", "limit=201", "before=x", "contact=%00"} {
		if res := apiCall(t, o.owner, key, "GET", "/api/v1/calls?"+q, ""); res.StatusCode != 400 {
			t.Errorf("%s: %d %s", q, res.StatusCode, res.Body)
		}
	}
	if res := apiCall(t, o.owner, "", "GET", "/api/v1/calls", ""); res.StatusCode != 401 {
		t.Errorf("no key: %d", res.StatusCode)
	}
}
