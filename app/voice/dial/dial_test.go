package dial_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"masteria/app/model"
	"masteria/app/sim/retellsim"
	"masteria/app/store"
	"masteria/app/store/storetest"
	"masteria/app/vault"
	"masteria/app/voice"
	"masteria/app/voice/calls"
	"masteria/app/voice/dial"
	"masteria/app/voice/retell"
)

// env is two orgs connected to one simulated Retell, each with a ready number, and the
// webhook that brings the calls' events back, over real HTTP.
type env struct {
	t     *testing.T
	ctx   context.Context
	st    *store.Store
	sim   *retellsim.Server
	dial  *dial.Service
	calls *calls.Service
	a, b  org
	now   time.Time
}

type org struct {
	id, account, number, contact, lead, conv int64
	from                                     string
}

const key = "key_dial_0123456789"

func setup(t *testing.T) *env {
	t.Helper()
	st, _ := storetest.New(t)
	k, _ := vault.GenerateKey()
	ring, err := vault.ParseKeyRing(k)
	if err != nil {
		t.Fatal(err)
	}
	sim := retellsim.New(retellsim.WithAPIKeys(key), retellsim.WithRetryDelay(10*time.Millisecond))
	base, err := sim.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	sim.AddAgent(retell.Agent{AgentID: "agent_vendas", AgentName: "Vendas"})
	sim.AddAgent(retell.Agent{AgentID: "agent_cobranca", AgentName: "Cobrança"})

	// Monday 2026-12-07 14:00 in São Paulo: within the default hours.
	e := &env{t: t, ctx: context.Background(), st: st, sim: sim, now: time.Date(2026, 12, 7, 17, 0, 0, 0, time.UTC)}
	accounts := voice.New(st, ring, base)
	e.dial = dial.New(st, accounts)
	e.dial.SetClock(func() time.Time { return e.now })
	e.calls = calls.New(st, calls.Options{WebhookKey: accounts.WebhookKey})
	e.a = e.newOrg(accounts, "Padaria Bom Pão", "+5511930001000")
	e.b = e.newOrg(accounts, "Oficina Vizinha", "+5521930002000")

	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		id, _ := strconv.ParseInt(strings.TrimPrefix(r.URL.Path, "/webhooks/retell/"), 10, 64)
		if _, err := e.calls.Ingest(r.Context(), id, r.Header.Get("X-Retell-Signature"), b); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
	}))
	t.Cleanup(hook.Close)
	sim.SetWebhook(hook.URL + voice.WebhookPath(e.a.account))
	return e
}

func (e *env) newOrg(accounts *voice.Service, name, from string) org {
	e.t.Helper()
	o, err := e.st.CreateOrg(e.ctx, name)
	if err != nil {
		e.t.Fatal(err)
	}
	out := org{id: o.ID, from: from}
	acc, err := accounts.Connect(e.ctx, model.Actor{OrgID: o.ID, Role: model.RoleOwner}, key)
	if err != nil {
		e.t.Fatal(err)
	}
	out.account = acc.ID
	e.sim.AddPhoneNumber(retell.PhoneNumber{PhoneNumber: from, OutboundAgents: []retell.AgentWeight{{AgentID: "agent_vendas", Weight: 1}}})
	e.exec(`INSERT INTO voice_numbers (org_id, phone_number, source, step, status, outbound_agent_id)
		VALUES ($1, $2, 'linked', 'ready', 'ready', 'agent_vendas')`, o.ID, from)
	out.number = e.one(`SELECT id FROM voice_numbers WHERE org_id = $1`, o.ID)

	p := "+5511987650000"
	out.contact, err = e.st.CreateContact(e.ctx, model.Contact{OrgID: o.ID, Name: "Maria Souza", Phone: &p,
		Attributes: json.RawMessage(`{"empresa": "Doces da Maria", "plano": "ouro", "pedidos": 12}`)})
	if err != nil {
		e.t.Fatal(err)
	}
	pl, err := e.st.CreatePipeline(e.ctx, o.ID, "Vendas", "BRL")
	if err != nil {
		e.t.Fatal(err)
	}
	st, err := e.st.CreateStage(e.ctx, model.Stage{OrgID: o.ID, PipelineID: pl.ID, Name: "Proposta", Color: "blue", Outcome: "open"})
	if err != nil {
		e.t.Fatal(err)
	}
	out.lead, err = e.st.CreateLead(e.ctx, model.Lead{OrgID: o.ID, PipelineID: pl.ID, StageID: st.ID, ContactID: out.contact,
		Title: "Encomenda de Natal", ValueCents: 125050, Rank: "a"})
	if err != nil {
		e.t.Fatal(err)
	}
	ch, err := e.st.CreateChannel(e.ctx, model.Channel{OrgID: o.ID, Kind: model.KindSandbox, Name: "Sandbox", Rate: 10})
	if err != nil {
		e.t.Fatal(err)
	}
	if out.conv, err = e.st.OpenConversation(e.ctx, o.ID, ch.ID, out.contact); err != nil {
		e.t.Fatal(err)
	}
	return out
}

func (e *env) exec(q string, args ...any) {
	e.t.Helper()
	if _, err := e.st.DB().Exec(q, args...); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) one(q string, args ...any) int64 {
	e.t.Helper()
	var n int64
	if err := e.st.DB().Get(&n, q, args...); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *env) contact(o org, p string, attrs string) int64 {
	e.t.Helper()
	c := model.Contact{OrgID: o.id, Name: "Outro Cliente", Attributes: json.RawMessage(attrs)}
	if p != "" {
		c.Phone = &p
	}
	id, err := e.st.CreateContact(e.ctx, c)
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

func TestStartFillsVariablesAndTiesTheEventsBack(t *testing.T) {
	e := setup(t)
	c, err := e.dial.Start(e.ctx, dial.Request{OrgID: e.a.id, ContactID: e.a.contact})
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != model.CallRegistered || c.Direction != "outbound" || !strings.HasPrefix(c.CallID, "call_") {
		t.Fatalf("call %+v", c)
	}
	if c.LeadID == nil || *c.LeadID != e.a.lead || c.ConversationID == nil || *c.ConversationID != e.a.conv ||
		c.NumberID == nil || *c.NumberID != e.a.number {
		t.Fatalf("links: lead %v conversation %v number %v", c.LeadID, c.ConversationID, c.NumberID)
	}
	got, ok := e.sim.Call(c.CallID)
	if !ok {
		t.Fatal("Retell did not get the call")
	}
	if got.FromNumber != e.a.from || got.ToNumber != "+5511987650000" || got.AgentID != "agent_vendas" {
		t.Fatalf("retell call %+v", got)
	}
	want := map[string]string{"name": "Maria Souza", "first_name": "Maria", "phone": "+5511987650000", "company": "Doces da Maria",
		"plano": "ouro", "pedidos": "12", "lead_title": "Encomenda de Natal", "stage": "Proposta", "pipeline": "Vendas",
		"lead_value": "1250.50", "currency": "BRL"}
	for k, v := range want {
		if got.DynamicVariables[k] != v {
			t.Errorf("variable %s = %q, want %q", k, got.DynamicVariables[k], v)
		}
	}
	var meta map[string]int64
	if err := json.Unmarshal(got.Metadata, &meta); err != nil {
		t.Fatal(err)
	}
	if meta["contact_id"] != e.a.contact || meta["lead_id"] != e.a.lead || meta["conversation_id"] != e.a.conv {
		t.Fatalf("metadata %v", meta)
	}

	// The simulator plays the call: its events land on the same row.
	if _, err := e.sim.PlayCall(e.ctx, retellsim.CallScript{CallID: c.CallID}); err != nil {
		t.Fatal(err)
	}
	if n := e.one(`SELECT count(*) FROM calls WHERE org_id = $1`, e.a.id); n != 1 {
		t.Fatalf("%d call rows, want 1", n)
	}
	after, err := e.calls.Call(e.ctx, e.a.id, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if after.Status != model.CallEnded || after.Summary == "" || after.ContactID == nil || *after.ContactID != e.a.contact {
		t.Fatalf("after the events: %+v", after)
	}
	if n := e.one(`SELECT count(*) FROM events WHERE org_id = $1 AND type = 'call.registered'`, e.a.id); n != 1 {
		t.Fatalf("%d call.registered events", n)
	}

	// From a lead alone, another agent and extra variables.
	c2, err := e.dial.Start(e.ctx, dial.Request{OrgID: e.a.id, LeadID: e.a.lead, AgentID: "agent_cobranca",
		Variables: map[string]string{"motivo": "segunda via"}})
	if err != nil {
		t.Fatal(err)
	}
	got, _ = e.sim.Call(c2.CallID)
	if got.AgentID != "agent_cobranca" || got.DynamicVariables["motivo"] != "segunda via" || *c2.ContactID != e.a.contact {
		t.Fatalf("from a lead: %+v", got)
	}
}

func TestStartRefusesForeignIDsAndWhatCannotBeCalled(t *testing.T) {
	e := setup(t)
	foreign := []dial.Request{
		{OrgID: e.a.id, ContactID: e.b.contact},
		{OrgID: e.a.id, LeadID: e.b.lead},
		{OrgID: e.a.id, ConversationID: e.b.conv},
		{OrgID: e.a.id, ContactID: e.a.contact, LeadID: e.b.lead},
		{OrgID: e.a.id, ContactID: e.a.contact, ConversationID: e.b.conv},
		{OrgID: e.a.id, ContactID: e.a.contact, NumberID: e.b.number},
		{OrgID: e.a.id, ContactID: 999999},
		{OrgID: e.a.id},
	}
	for i, r := range foreign {
		if _, err := e.dial.Start(e.ctx, r); !errors.Is(err, model.ErrNotFound) {
			t.Errorf("request %d: %v, want not found", i, err)
		}
	}
	other := e.contact(e.a, "+5511912345678", `{}`)
	if _, err := e.dial.Start(e.ctx, dial.Request{OrgID: e.a.id, ContactID: other, LeadID: e.a.lead}); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("another contact's lead: %v", err)
	}

	cases := map[string]struct {
		contact int64
		prep    string
		field   string
	}{
		"no phone":  {e.contact(e.a, "", `{}`), "", "contact"},
		"opted out": {e.contact(e.a, "+5511911112222", `{}`), `UPDATE contacts SET opted_out = '{voice}' WHERE phone = '+5511911112222'`, "contact"},
	}
	for name, c := range cases {
		if c.prep != "" {
			e.exec(c.prep)
		}
		_, err := e.dial.Start(e.ctx, dial.Request{OrgID: e.a.id, ContactID: c.contact})
		var ve *model.ValidationError
		if !errors.As(err, &ve) || ve.Fields[c.field] == "" {
			t.Errorf("%s: %v", name, err)
		}
	}
	e.exec(`UPDATE voice_numbers SET status = 'failed' WHERE org_id = $1`, e.a.id)
	_, err := e.dial.Start(e.ctx, dial.Request{OrgID: e.a.id, ContactID: e.a.contact})
	var ve *model.ValidationError
	if !errors.As(err, &ve) || ve.Fields["number"] != "call.error.no_number" {
		t.Errorf("no ready number: %v", err)
	}
	e.exec(`DELETE FROM voice_accounts WHERE org_id = $1`, e.a.id)
	if _, err := e.dial.Start(e.ctx, dial.Request{OrgID: e.a.id, ContactID: e.a.contact}); !errors.As(err, &ve) || ve.Fields["voice"] == "" {
		t.Errorf("no Retell account: %v", err)
	}
	if n := e.one(`SELECT count(*) FROM calls`); n != 0 || len(e.sim.Calls()) != 0 {
		t.Fatalf("%d rows, %d Retell calls after refusals", n, len(e.sim.Calls()))
	}
}

func TestStartKeepsTheLimitOfCallsAtOnce(t *testing.T) {
	e := setup(t)
	e.exec(`UPDATE voice_accounts SET max_concurrent = 2 WHERE org_id = $1`, e.a.id)
	contacts := []int64{e.a.contact}
	for i := range 5 {
		contacts = append(contacts, e.contact(e.a, "+55119888800"+strconv.Itoa(i+10), `{}`))
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var started []model.Call
	busy := 0
	for _, id := range contacts {
		wg.Go(func() {
			c, err := e.dial.Start(e.ctx, dial.Request{OrgID: e.a.id, ContactID: id})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.Is(err, dial.ErrBusy):
				busy++
			case err != nil:
				t.Error(err)
			default:
				started = append(started, c)
			}
		})
	}
	wg.Wait()
	if len(started) != 2 || busy != 4 || len(e.sim.Calls()) != 2 {
		t.Fatalf("%d started, %d busy, Retell saw %d; want 2, 4, 2", len(started), busy, len(e.sim.Calls()))
	}
	// The other org has its own limit.
	if _, err := e.dial.Start(e.ctx, dial.Request{OrgID: e.b.id, ContactID: e.b.contact}); err != nil {
		t.Fatalf("org b: %v", err)
	}
	// A call that ends frees its slot.
	if _, err := e.sim.PlayCall(e.ctx, retellsim.CallScript{CallID: started[0].CallID, Kind: retellsim.KindNoAnswer}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.dial.Start(e.ctx, dial.Request{OrgID: e.a.id, ContactID: contacts[5]}); err != nil {
		t.Fatalf("after a call ended: %v", err)
	}
	// A reservation left by a crash stops counting after two hours.
	e.exec(`UPDATE calls SET created_at = now() - interval '3 hours' WHERE org_id = $1 AND status = 'registered'`, e.a.id)
	if _, err := e.dial.Start(e.ctx, dial.Request{OrgID: e.a.id, ContactID: contacts[4]}); err != nil {
		t.Fatalf("after stale calls: %v", err)
	}
}

func TestStartTurnsRetellRefusalsIntoClearErrors(t *testing.T) {
	e := setup(t)
	e.sim.FailNext("/v2/create-phone-call", http.StatusTooManyRequests, "Concurrency limit reached", 1)
	if _, err := e.dial.Start(e.ctx, dial.Request{OrgID: e.a.id, ContactID: e.a.contact}); !errors.Is(err, dial.ErrBusy) {
		t.Fatalf("Retell's 429: %v", err)
	}
	e.sim.FailNext("/v2/create-phone-call", http.StatusInternalServerError, "Internal error", 1)
	_, err := e.dial.Start(e.ctx, dial.Request{OrgID: e.a.id, ContactID: e.a.contact})
	var re *retell.Error
	if !errors.As(err, &re) || re.Status != 500 {
		t.Fatalf("Retell's 500: %v", err)
	}
	if n := e.one(`SELECT count(*) FROM calls`); n != 0 {
		t.Fatalf("%d rows left by refused calls", n)
	}
	// Then a call goes through.
	if _, err := e.dial.Start(e.ctx, dial.Request{OrgID: e.a.id, ContactID: e.a.contact}); err != nil {
		t.Fatal(err)
	}
}

func TestStartWithinCallingHoursOfTheContact(t *testing.T) {
	e := setup(t)
	sp, _ := time.LoadLocation("America/Sao_Paulo")
	// Sunday 6 December, 11:00 in São Paulo: no calls on Sundays by default.
	e.now = time.Date(2026, 12, 6, 11, 0, 0, 0, sp)
	_, err := e.dial.Start(e.ctx, dial.Request{OrgID: e.a.id, ContactID: e.a.contact})
	var oh *dial.OutsideHours
	if !errors.As(err, &oh) || !oh.Next.Equal(time.Date(2026, 12, 7, 9, 0, 0, 0, sp)) || oh.Zone != "America/Sao_Paulo" {
		t.Fatalf("Sunday: %v", err)
	}
	// Monday 19:30 in São Paulo is 22:30 in Lisbon: a contact stored there waits for Tuesday 9:00 Lisbon.
	e.now = time.Date(2026, 12, 7, 19, 30, 0, 0, sp)
	lisbon := e.contact(e.a, "+351912345678", `{"time_zone": "Europe/Lisbon"}`)
	if _, err := e.dial.Start(e.ctx, dial.Request{OrgID: e.a.id, ContactID: lisbon}); !errors.As(err, &oh) || oh.Zone != "Europe/Lisbon" ||
		!oh.Next.Equal(time.Date(2026, 12, 8, 9, 0, 0, 0, mustZone(t, "Europe/Lisbon"))) {
		t.Fatalf("Lisbon: %v", err)
	}
	// The São Paulo contact is still within hours.
	if _, err := e.dial.Start(e.ctx, dial.Request{OrgID: e.a.id, ContactID: e.a.contact}); err != nil {
		t.Fatal(err)
	}
	// A number from Manaus (an hour behind) with no stored zone: read from its area code.
	e.now = time.Date(2026, 12, 7, 9, 30, 0, 0, sp) // 8:30 in Manaus
	manaus := e.contact(e.a, "+5592981234567", `{}`)
	if _, err := e.dial.Start(e.ctx, dial.Request{OrgID: e.a.id, ContactID: manaus}); !errors.As(err, &oh) || oh.Zone != "America/Manaus" {
		t.Fatalf("Manaus: %v", err)
	}
	// Hours set to every day, 0 to 24: always.
	e.exec(`UPDATE voice_accounts SET call_hours_start = 0, call_hours_end = 24, call_days = 127 WHERE org_id = $1`, e.a.id)
	if _, err := e.dial.Start(e.ctx, dial.Request{OrgID: e.a.id, ContactID: manaus}); err != nil {
		t.Fatal(err)
	}
}

func TestStartLosesTheRaceToAnEarlyEventGracefully(t *testing.T) {
	e := setup(t)
	id, ok, err := e.st.ReserveCall(e.ctx, e.a.id, store.CallReservation{Placeholder: "pending:x", From: e.a.from, To: "+5511987650000",
		NumberID: e.a.number, Max: 5})
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	// call_started of the call comes before Retell's answer was recorded.
	e.exec(`INSERT INTO calls (org_id, call_id, direction, status) VALUES ($1, 'call_early', 'outbound', 'ongoing')`, e.a.id)
	mine, err := e.st.ConfirmCall(e.ctx, e.a.id, id, "call_early", "agent_vendas", func(*store.Store) error { return nil })
	if err != nil || mine {
		t.Fatalf("confirm: %v %v", mine, err)
	}
	if n := e.one(`SELECT count(*) FROM calls WHERE org_id = $1`, e.a.id); n != 1 {
		t.Fatalf("%d rows, want the event's alone", n)
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	z, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return z
}
