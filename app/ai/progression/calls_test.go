package progression_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"masteria/app/model"
	"masteria/app/vault"
	"masteria/app/voice"
	"masteria/app/voice/calls"
	"masteria/app/voice/retell"
)

// TestProgressionReadsCalls: an analysed call of a lead's contact, through the calls'
// hook and the real queue, classifies the lead with the call's outcome, summary and
// transcript among the messages; the same call delivered again asks nothing more; another
// org's call does not touch this org's lead.
func TestProgressionReadsCalls(t *testing.T) {
	t.Parallel()
	e := setup(t, 300*time.Millisecond)
	o := e.org
	org := o.owner.OrgID
	l, r := e.customer(o, "+5511977770000", "Carla", "Oi, vi o anúncio dos bolos.", "Bolo de aniversário")
	olead, or := e.customer(e.other, "+5511977770001", "Otto", "Oi", "Revisão")
	e.on(o, 0.8)
	e.on(e.other, 0.8)

	k, _ := vault.GenerateKey()
	ring, err := vault.ParseKeyRing(k)
	if err != nil {
		t.Fatal(err)
	}
	accounts := voice.New(e.st, ring, "http://127.0.0.1:1")
	cs := calls.New(e.st, calls.Options{WebhookKey: accounts.WebhookKey})
	cs.AddHook(e.svc.CallHook)
	const key = "key_progression_calls_0123"
	acct := map[int64]int64{}
	for _, a := range []model.Actor{o.owner, e.other.owner} {
		acc, err := accounts.Connect(e.ctx, a, key)
		if err != nil {
			t.Fatal(err)
		}
		acct[a.OrgID] = acc.ID
	}
	send := func(orgID int64, event, id string, contact, lead int64) {
		t.Helper()
		call := map[string]any{"call_id": id, "call_type": "phone_call", "direction": "outbound", "agent_id": "agent_vendas",
			"from_number": "+551130001000", "to_number": "+5511977770000", "call_status": "ended",
			"start_timestamp": time.Now().Add(-2 * time.Minute).UnixMilli(), "end_timestamp": time.Now().UnixMilli(), "duration_ms": 95000,
			"disconnection_reason": "user_hangup", "metadata": map[string]int64{"contact_id": contact, "lead_id": lead},
			"transcript": "Agent: Oi Carla, aqui é da Padaria.\nUser: Fecho o bolo se fizer 10% de desconto."}
		if event == "call_analyzed" {
			call["call_analysis"] = map[string]any{"call_summary": "Cliente pediu 10% de desconto para fechar o bolo.", "call_successful": true}
		}
		b, _ := json.Marshal(map[string]any{"event": event, "call": call})
		if _, err := cs.Ingest(e.ctx, acct[orgID], retell.Sign(b, key, time.Now()), b); err != nil {
			t.Fatal(err)
		}
	}

	before := len(e.chatRequests())
	e.verdict("Negociação", 0.9, "Na ligação pediu desconto para fechar.")
	send(org, "call_ended", "call_prog_1", r.ContactID, l.ID)
	send(org, "call_analyzed", "call_prog_1", r.ContactID, l.ID)
	e.waitFor("the AI move after the call", func() bool { return e.stageOf(org, l.ID) == o.stages["Negociação"].ID })
	reqs := e.chatRequests()
	if len(reqs) != before+1 {
		t.Fatalf("%d model requests after one call, want 1", len(reqs)-before)
	}
	user := reqs[len(reqs)-1].LastUser()
	for _, want := range []string{"Customer: Oi, vi o anúncio dos bolos.",
		"Phone call: the business called the customer; answered; 1:35. Summary: Cliente pediu 10% de desconto para fechar o bolo.",
		"Transcript: Agent: Oi Carla, aqui é da Padaria. / User: Fecho o bolo se fizer 10% de desconto."} {
		if !strings.Contains(user, want) {
			t.Errorf("the prompt lacks %q:\n%s", want, user)
		}
	}
	ds := e.decisions(org, l.ID)
	if len(ds) != 1 || ds[0].Reason != "Na ligação pediu desconto para fechar." {
		t.Fatalf("decisions %+v", ds)
	}

	// The same call again (Retell retries): nothing new, nothing asked.
	e.waitFor("jobs to settle", func() bool { _, p := e.jobsOf(l.ID); return p == 0 })
	n := len(e.chatRequests())
	send(org, "call_analyzed", "call_prog_1", r.ContactID, l.ID)
	time.Sleep(600 * time.Millisecond)
	e.waitFor("jobs to settle", func() bool { _, p := e.jobsOf(l.ID); return p == 0 })
	if len(e.chatRequests()) != n {
		t.Errorf("a repeated call event asked the model again")
	}

	// The other org's call names this org's lead in its metadata: only its own lead is read.
	e.verdict("Proposta", 0.95, "Outra empresa.")
	send(e.other.owner.OrgID, "call_analyzed", "call_prog_other", or.ContactID, l.ID)
	e.waitFor("the other org's lead to be classified", func() bool { return e.stageOf(e.other.owner.OrgID, olead.ID) != e.other.stages["Novo"].ID })
	if e.stageOf(org, l.ID) != o.stages["Negociação"].ID {
		t.Error("another org's call moved this org's lead")
	}
}
