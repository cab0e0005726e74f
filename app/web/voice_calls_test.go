package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"masteria/app/model"
	"masteria/app/voice/calls"
	"masteria/app/voice/retell"
	"masteria/app/web/webtest"
)

// retellAccount connects a Retell account to the org with key, as the account page does.
func retellAccount(t testing.TB, inst *webtest.Instance, orgID int64, key string) int64 {
	t.Helper()
	acc, err := inst.App.Voice.Connect(context.Background(), model.Actor{OrgID: orgID, Role: model.RoleOwner}, key)
	if err != nil {
		t.Fatal(err)
	}
	return acc.ID
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
	_ = db.Get(&n, `SELECT count(*) FROM contacts WHERE phone = '+5511987001133'`)
	if n != 0 {
		t.Error("a refused event left a contact")
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

// TestCallShowsOnContactAndThread: an inbound call from a customer who wrote before shows
// on the contact's timeline and in the conversation's thread with its outcome, transcript,
// summary and, once copied, the recording's player.
func TestCallShowsOnContactAndThread(t *testing.T) {
	t.Parallel()
	o := newInboxOrg(t)
	r := o.receive("+5511987004455", "Bruna Lima", "Oi, posso ligar?")
	wav := append([]byte("RIFF\x24\x00\x00\x00WAVEfmt "), bytes.Repeat([]byte{0}, 64)...)
	rec := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "audio/wav")
		_, _ = w.Write(wav)
	}))
	t.Cleanup(rec.Close)
	key := "key_thread_0123456789"
	acct := retellAccount(t, o.inst, o.orgID(), key)
	ended := retellEvent(t, "call_ended", "call_thread_1", "+5511987004455")
	var ev map[string]any
	_ = json.Unmarshal(ended, &ev)
	ev["call"].(map[string]any)["recording_url"] = rec.URL + "/rec.wav"
	ended, _ = json.Marshal(ev)
	for _, b := range [][]byte{retellEvent(t, "call_started", "call_thread_1", "+5511987004455"), ended,
		retellEvent(t, "call_analyzed", "call_thread_1", "+5511987004455")} {
		if res := postRetell(t, o.inst.URL, acct, key, time.Now(), b); res.StatusCode != 200 {
			t.Fatalf("webhook: %d", res.StatusCode)
		}
	}
	db := o.inst.App.Store.DB()
	var k model.Call
	deadline := time.Now().Add(20 * time.Second)
	for {
		if err := db.Get(&k, `SELECT id, contact_id, conversation_id, recording_file_id FROM calls WHERE org_id = $1 AND call_id = 'call_thread_1'`, o.orgID()); err != nil {
			t.Fatal(err)
		}
		if k.RecordingFileID != nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if k.ContactID == nil || *k.ContactID != r.ContactID || k.ConversationID == nil || *k.ConversationID != r.ConversationID {
		t.Fatalf("call tied to contact %v conversation %v, want %d %d", k.ContactID, k.ConversationID, r.ContactID, r.ConversationID)
	}
	if k.RecordingFileID == nil {
		t.Fatal("the recording was not copied")
	}
	if res := o.owner.Get(fmt.Sprintf("%s/media/%d", o.home, *k.RecordingFileID)); res.StatusCode != 200 || res.Body != string(wav) {
		t.Errorf("recording copy: %d, %d bytes", res.StatusCode, len(res.Body))
	}
	for _, page := range []string{fmt.Sprintf("%s/contacts/%d", o.home, r.ContactID), fmt.Sprintf("%s/inbox/%d", o.home, r.ConversationID)} {
		body := o.owner.Get(page).Body
		text := webtest.Text(body)
		for _, want := range []string{"Inbound call", "The customer hung up", "2:00", "Paciente pediu para remarcar a consulta.",
			"Quero remarcar minha consulta.", "Goal reached", "Neutral"} {
			if !strings.Contains(text, want) {
				t.Errorf("%s lacks %q", page, want)
			}
		}
		if !strings.Contains(body, fmt.Sprintf(`src="%s/media/%d"`, o.home, *k.RecordingFileID)) || !strings.Contains(body, `data-testid="call-player"`) {
			t.Errorf("%s has no player of the recording", page)
		}
	}
	// Another org's member sees none of it.
	stranger := webtest.NewClient(t, o.inst.URL)
	home := stranger.Signup("Outra Loja", "Sara", uniqueEmail("sara"), strongPassword)
	if res := stranger.Get(fmt.Sprintf("%s/media/%d", home, *k.RecordingFileID)); res.StatusCode != 404 {
		t.Errorf("another org's recording: %d", res.StatusCode)
	}
}

// TestCallAnalyticsPage: the tab's figures over a period, the period checked, and agents
// kept out.
func TestCallAnalyticsPage(t *testing.T) {
	t.Parallel()
	o := newInboxOrg(t)
	db := o.inst.App.Store.DB()
	// Ten calls yesterday and today: 8 answered (2 of them voicemail), 1 no answer, 1 busy.
	for i := range 10 {
		status, reason, vm := "ended", "user_hangup", false
		switch {
		case i == 8:
			status, reason = "not_connected", "dial_no_answer"
		case i == 9:
			status, reason = "ended", "dial_busy"
		case i < 2:
			reason, vm = "voicemail_reached", true
		}
		db.MustExec(`INSERT INTO calls (org_id, call_id, direction, agent_id, agent_name, status, event_rank, disconnection_reason,
			duration_ms, in_voicemail, successful, sentiment, cost_cents, created_at)
			VALUES ($1, $2, 'outbound', 'ag1', 'Vendas', $3, 3, $4, $5, $6, $7, $8, 10, now() - ($9 || ' hours')::interval)`,
			o.orgID(), fmt.Sprintf("c%d", i), status, reason, map[bool]int{true: 60000, false: 0}[status == "ended" && reason != "dial_busy"],
			vm, i%2 == 0, map[bool]string{true: "Positive", false: "Negative"}[i%3 == 0], fmt.Sprint(i))
	}
	// The minute job stores the days' figures; the page reads them.
	if days, err := o.inst.App.Calls.RefreshStats(context.Background(), o.orgID()); err != nil || days == 0 {
		t.Fatalf("refresh: %d days, %v", days, err)
	}
	res := o.owner.Get(o.home + "/settings/voice/analytics")
	text := webtest.Text(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("page: %d", res.StatusCode)
	}
	for _, want := range []string{"Calls 10", "Answer rate 80.0%", "Voicemail rate 25.0%", "Average duration 1:00", "Total duration 8:00",
		"Success rate 50.0%", "Cost $1.00", "Vendas"} {
		if !strings.Contains(text, want) {
			t.Errorf("page lacks %q: %s", want, text)
		}
	}
	// A call that arrives, or changes, after the figures were stored counts at the next view
	// (its day worked out from the calls until the job stores it again).
	db.MustExec(`INSERT INTO calls (org_id, call_id, direction, status, event_rank, duration_ms, cost_cents)
		VALUES ($1, 'c-late', 'inbound', 'ended', 2, 120000, 0)`, o.orgID())
	db.MustExec(`UPDATE calls SET successful = true, updated_at = now() WHERE org_id = $1 AND call_id = 'c1'`, o.orgID())
	again := webtest.Text(o.owner.Get(o.home + "/settings/voice/analytics").Body)
	for _, want := range []string{"Calls 11", "Answer rate 81.8%", "Total duration 10:00", "Success rate 60.0%"} {
		if !strings.Contains(again, want) {
			t.Errorf("after a new call and a late analysis, the page lacks %q: %s", want, again)
		}
	}
	far := o.owner.Get(o.home + "/settings/voice/analytics?from=2020-01-01&to=2020-01-31")
	if far.StatusCode != 200 || !strings.Contains(far.Body, `data-testid="calls-none"`) {
		t.Errorf("an empty period: %d", far.StatusCode)
	}
	for _, q := range []string{"from=2026-02-10&to=2026-02-01", "from=yesterday&to=today", "from=2020-01-01&to=2026-01-01"} {
		if res := o.owner.Get(o.home + "/settings/voice/analytics?" + q); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, `data-testid="calls-error"`) {
			t.Errorf("%s: %d", q, res.StatusCode)
		}
	}
	if res := o.owner.Get(o.home + "/settings/voice/analytics?from=%00&to=2026-01-01"); res.StatusCode != http.StatusBadRequest {
		t.Errorf("a NUL byte: %d", res.StatusCode)
	}
	agent, _ := o.member(model.RoleAgent)
	if res := agent.Get(o.home + "/settings/voice/analytics"); res.StatusCode != http.StatusForbidden {
		t.Errorf("agent: %d", res.StatusCode)
	}
	stranger := webtest.NewClient(t, o.inst.URL)
	stranger.Signup("Outra Loja", "Sara", uniqueEmail("sara"), strongPassword)
	if res := stranger.Get(o.home + "/settings/voice/analytics"); res.StatusCode != http.StatusNotFound && res.StatusCode != http.StatusForbidden {
		t.Errorf("another org's member: %d", res.StatusCode)
	}
}

// TestCallEventsReachTheStream: a call's three events, delivered at once (so that the
// ingest may apply them in one statement and announce them in one notification), reach a
// member's live stream each once, with the call's id.
func TestCallEventsReachTheStream(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	c := webtest.NewClient(t, inst.URL)
	home := c.Signup("Clínica Sorriso", "Rui", uniqueEmail("stream"), strongPassword)
	var orgID int64
	if err := inst.App.Store.DB().Get(&orgID, `SELECT id FROM orgs`); err != nil {
		t.Fatal(err)
	}
	const key = "key_stream_0123456789"
	acct := retellAccount(t, inst, orgID, key)
	stream := openStream(t, c, "/events?org="+strings.TrimPrefix(home, "/o/"), "")
	var wg sync.WaitGroup
	for _, ev := range []string{"call_analyzed", "call_ended", "call_started"} {
		b := retellEvent(t, ev, "call_stream", "+5511912340000")
		wg.Go(func() {
			if res := postRetell(t, inst.URL, acct, key, time.Now(), b); res.StatusCode != http.StatusOK {
				t.Errorf("%s: %d", ev, res.StatusCode)
			}
		})
	}
	wg.Wait()
	got := map[string]int{}
	deadline := time.After(20 * time.Second)
	for len(got) < 3 {
		select {
		case ev, ok := <-stream:
			if !ok {
				t.Fatal("the stream closed")
			}
			if strings.HasPrefix(ev.Type, "call.") {
				if ev.Data["call_id"] != "call_stream" {
					t.Fatalf("%+v", ev)
				}
				got[ev.Type]++
			}
		case <-deadline:
			t.Fatalf("call events seen: %v", got)
		}
	}
	select {
	case ev := <-stream:
		if strings.HasPrefix(ev.Type, "call.") {
			got[ev.Type]++
		}
	case <-time.After(300 * time.Millisecond):
	}
	if got["call.started"] != 1 || got["call.ended"] != 1 || got["call.analyzed"] != 1 || len(got) != 3 {
		t.Fatalf("call events: %v", got)
	}
}
