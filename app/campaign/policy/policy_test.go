package policy_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"masteria/app/campaign/policy"
	"masteria/app/i18n"
	"masteria/app/model"
	"masteria/app/store"
	"masteria/app/store/storetest"
)

type env struct {
	t   *testing.T
	ctx context.Context
	st  *store.Store
	p   *policy.Policy
	org int64
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st, _ := storetest.New(t)
	ctx := context.Background()
	o, err := st.CreateOrg(ctx, "Loja")
	if err != nil {
		t.Fatal(err)
	}
	// The org's zone is São Paulo (the default); no quiet hours unless a test sets them.
	e := &env{t: t, ctx: ctx, st: st, p: policy.New(st), org: o.ID}
	e.settings(model.PolicySettings{DailyCap: 0, SMSDedupHours: 24})
	return e
}

func (e *env) settings(p model.PolicySettings) {
	e.t.Helper()
	if err := e.st.SavePolicySettings(e.ctx, e.org, p); err != nil {
		e.t.Fatal(err)
	}
}

// contact creates a contact; phone "" is one known only by a WhatsApp user id.
func (e *env) contact(name, phone string, attrs string) int64 {
	e.t.Helper()
	var ph *string
	if phone != "" {
		ph = &phone
	}
	if attrs == "" {
		attrs = "{}"
	}
	var id int64
	if err := e.st.DB().Get(&id, `INSERT INTO contacts (org_id, name, phone, attributes) VALUES ($1, $2, $3, $4) RETURNING id`,
		e.org, name, ph, attrs); err != nil {
		e.t.Fatal(err)
	}
	return id
}

func (e *env) record(s policy.Send, now time.Time) policy.Verdict {
	e.t.Helper()
	var v policy.Verdict
	err := e.st.Tx(e.ctx, func(tx *store.Store) error {
		var err error
		v, err = e.p.Record(e.ctx, tx, s, now)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return v
}

func (e *env) check(s policy.Send, now time.Time) policy.Verdict {
	e.t.Helper()
	v, err := e.p.Check(e.ctx, nil, s, now)
	if err != nil {
		e.t.Fatal(err)
	}
	return v
}

// noon is 12:00 in São Paulo.
var noon = time.Date(2026, 12, 7, 15, 0, 0, 0, time.UTC)

// TestSMSDedupAcrossSendersAndContacts: a campaign and a cadence send the same SMS text to
// two contacts that share a phone, at the same moment, each in its own transaction from its
// own goroutine, as the engines do: the database lets one through and refuses the other,
// which is told who sent it first and when.
func TestSMSDedupAcrossSendersAndContacts(t *testing.T) {
	e := newEnv(t)
	ana := e.contact("Ana", "+5511987650001", "")
	// Bia has no phone of her own on file; the sender reaches her at the household's.
	bia := e.contact("Bia", "", "")
	const text = "Oi! Sua consulta é amanhã às 10h. Responda SIM para confirmar."
	sends := []policy.Send{
		{OrgID: e.org, ContactID: ana, Channel: policy.ChannelSMS, Phone: "+5511987650001", Text: text,
			Source: policy.SourceCampaign, SourceID: 7, SourceName: "Lembrete"},
		{OrgID: e.org, ContactID: bia, Channel: policy.ChannelSMS, Phone: "+5511987650001", Text: text,
			Source: policy.SourceCadence, SourceID: 9, SourceName: "Boas-vindas"},
	}
	for round := range 10 {
		now := noon.Add(time.Duration(round) * 25 * time.Hour) // each round past the last one's window
		var wg sync.WaitGroup
		verdicts := make([]policy.Verdict, 2)
		errs := make([]error, 2)
		start := make(chan struct{})
		var sent sync.Map
		for i, s := range sends {
			wg.Go(func() {
				<-start
				errs[i] = e.st.Tx(e.ctx, func(tx *store.Store) error {
					v, err := e.p.Record(e.ctx, tx, s, now)
					verdicts[i] = v
					if err == nil && v.OK {
						sent.Store(i, true) // what the engine queues in the same transaction
					}
					return err
				})
			})
		}
		close(start)
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if verdicts[0].OK == verdicts[1].OK {
			t.Fatalf("round %d: want one SMS and one refusal, got %+v", round, verdicts)
		}
		won, lost := 0, 1
		if verdicts[1].OK {
			won, lost = 1, 0
		}
		v := verdicts[lost]
		if v.Reason != policy.ReasonDuplicateSMS {
			t.Fatalf("round %d: refusal %+v", round, v)
		}
		first := sends[won]
		at := now.In(mustZone(t, "America/Sao_Paulo")).Format("15:04")
		want := "same SMS sent at " + at + " by " + first.Source + " " + first.SourceName
		if v.Detail != want {
			t.Fatalf("detail %q, want %q", v.Detail, want)
		}
		if at2, src, name, ok := model.ParseDuplicateSMSDetail(v.Detail); !ok || at2 != at || src != first.Source || name != first.SourceName {
			t.Fatalf("detail reads back as %q %q %q %v", at2, src, name, ok)
		}
		if got := v.Explain(i18n.EN); got != "skipped: "+want {
			t.Fatalf("EN %q", got)
		}
		wantPT := map[string]string{policy.SourceCampaign: "campanha", policy.SourceCadence: "cadência"}[first.Source]
		if got := v.Explain(i18n.PTBR); got != "ignorado: o mesmo SMS foi enviado às "+at+" pela "+wantPT+" "+first.SourceName {
			t.Fatalf("PT %q", got)
		}
	}
	var smsRows, counted int
	_ = e.st.DB().Get(&smsRows, `SELECT count(*) FROM sms_sends`)
	_ = e.st.DB().Get(&counted, `SELECT count(*) FROM automated_sends`)
	if smsRows != 10 || counted != 10 {
		t.Fatalf("%d SMS slots and %d counted sends, want 10 and 10 (a refusal records nothing)", smsRows, counted)
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	z, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return z
}

// TestSMSDedupWindow: the same text within the window is refused, after it goes again; another
// text, or the same text to another phone, goes; the constraint holds for rows written by
// hand too.
func TestSMSDedupWindow(t *testing.T) {
	e := newEnv(t)
	ana := e.contact("Ana", "+5511987650001", "")
	cia := e.contact("Cia", "+5511987650002", "")
	s := policy.Send{OrgID: e.org, ContactID: ana, Channel: policy.ChannelSMS, Text: "Promo: 10% hoje", Source: policy.SourceCampaign, SourceID: 1, SourceName: "Promo"}
	if v := e.record(s, noon); !v.OK {
		t.Fatalf("first: %+v", v)
	}
	if v := e.record(s, noon.Add(23*time.Hour)); v.Reason != policy.ReasonDuplicateSMS {
		t.Fatalf("within 24 h: %+v", v)
	}
	other := s
	other.Text = "Promo: 20% hoje"
	if v := e.record(other, noon.Add(time.Hour)); !v.OK {
		t.Fatalf("another text: %+v", v)
	}
	toCia := s
	toCia.ContactID = cia
	if v := e.record(toCia, noon.Add(time.Hour)); !v.OK {
		t.Fatalf("another phone: %+v", v)
	}
	if v := e.record(s, noon.Add(24*time.Hour)); !v.OK {
		t.Fatalf("after the window: %+v", v)
	}
	// A WhatsApp message with the same text is not an SMS.
	wa := s
	wa.Channel = policy.ChannelWhatsApp
	if v := e.record(wa, noon.Add(24*time.Hour+time.Minute)); !v.OK {
		t.Fatalf("whatsapp: %+v", v)
	}
	// The window is the org's when a text is sent: 48 hours refuses what 24 let through.
	e.settings(model.PolicySettings{SMSDedupHours: 48})
	third := s
	third.Text = "Promo: 30% hoje"
	if v := e.record(third, noon); !v.OK {
		t.Fatalf("third text: %+v", v)
	}
	if v := e.record(third, noon.Add(30*time.Hour)); v.Reason != policy.ReasonDuplicateSMS {
		t.Fatalf("48 h window: %+v", v)
	}
	// The database itself refuses an overlapping row.
	_, err := e.st.DB().Exec(`INSERT INTO sms_sends (org_id, phone, text_hash, sent_at, during, source, source_id)
		VALUES ($1, '+5511987650001', $2, $3::timestamptz, tstzrange($3::timestamptz, $3::timestamptz + interval '1 hour'), 'cadence', 1)`, e.org, policy.TextHash(s.Text), noon.Add(25*time.Hour))
	if err == nil || !strings.Contains(err.Error(), "sms_sends_no_duplicate") {
		t.Fatalf("constraint: %v", err)
	}
}

// TestFrequencyCap: at most the org's cap of automated sends to a contact in 24 hours, across
// campaigns and cadences and channels; Until is when the oldest counted send leaves the 24
// hours; 0 turns the cap off; concurrent sends cannot both take the last slot.
func TestFrequencyCap(t *testing.T) {
	e := newEnv(t)
	e.settings(model.PolicySettings{DailyCap: 2, SMSDedupHours: 24})
	ana := e.contact("Ana", "+5511987650001", "")
	bia := e.contact("Bia", "+5511987650002", "")
	camp := policy.Send{OrgID: e.org, ContactID: ana, Channel: policy.ChannelWhatsApp, Source: policy.SourceCampaign, SourceID: 1, SourceName: "Promo"}
	cad := policy.Send{OrgID: e.org, ContactID: ana, Channel: policy.ChannelSMS, Text: "oi", Source: policy.SourceCadence, SourceID: 2, SourceName: "Boas-vindas"}
	call := policy.Send{OrgID: e.org, ContactID: ana, Channel: policy.ChannelVoice, Source: policy.SourceCadence, SourceID: 2, SourceName: "Boas-vindas"}
	if v := e.record(camp, noon); !v.OK {
		t.Fatal(v)
	}
	if v := e.record(cad, noon.Add(time.Hour)); !v.OK {
		t.Fatal(v)
	}
	v := e.check(call, noon.Add(2*time.Hour))
	if v.OK || v.Reason != policy.ReasonCapped || !v.Until.Equal(noon.Add(24*time.Hour)) {
		t.Fatalf("third send: %+v", v)
	}
	if v := e.record(call, noon.Add(2*time.Hour)); v.Reason != policy.ReasonCapped {
		t.Fatalf("record over the cap: %+v", v)
	}
	if got := v.Explain(i18n.EN); !strings.Contains(got, "Dec 8, 2026 15:00") {
		t.Fatalf("explain: %q", got)
	}
	// Another contact has its own count.
	other := call
	other.ContactID = bia
	if v := e.check(other, noon.Add(2*time.Hour)); !v.OK {
		t.Fatalf("bia: %+v", v)
	}
	// The first send leaves the 24 hours: one slot again.
	if v := e.record(call, noon.Add(24*time.Hour)); !v.OK {
		t.Fatalf("next day: %+v", v)
	}
	if v := e.check(call, noon.Add(24*time.Hour+time.Minute)); v.Reason != policy.ReasonCapped || !v.Until.Equal(noon.Add(25*time.Hour)) {
		t.Fatalf("capped again until the second leaves: %+v", v)
	}
	// Off.
	e.settings(model.PolicySettings{DailyCap: 0})
	if v := e.check(call, noon.Add(24*time.Hour+time.Minute)); !v.OK {
		t.Fatalf("cap off: %+v", v)
	}
	// Eight concurrent sends to a fresh contact with a cap of 3: exactly 3 go.
	e.settings(model.PolicySettings{DailyCap: 3})
	cia := e.contact("Cia", "+5511987650003", "")
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for i := range 8 {
		wg.Go(func() {
			s := camp
			s.ContactID, s.SourceID = cia, int64(100+i)
			err := e.st.Tx(e.ctx, func(tx *store.Store) error {
				v, err := e.p.Record(e.ctx, tx, s, noon)
				if err == nil && v.OK {
					mu.Lock()
					ok++
					mu.Unlock()
				}
				return err
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if ok != 3 {
		t.Fatalf("%d of 8 concurrent sends went, want 3", ok)
	}
}

// TestQuietHoursInTwoZones: at one instant it is night for a contact in Lisbon and day for
// one in São Paulo; the contact's own zone wins over its phone's, the phone's over the
// org's; Until is the end of the quiet hours in the contact's zone.
func TestQuietHoursInTwoZones(t *testing.T) {
	e := newEnv(t)
	e.settings(model.PolicySettings{QuietStart: 21, QuietEnd: 8, SMSDedupHours: 24})
	sp := e.contact("Ana", "+5511987650001", "")                                  // São Paulo by its phone
	lis := e.contact("Bia", "+351912345678", "")                                  // Lisbon by its phone
	moved := e.contact("Cia", "+5511987650003", `{"time_zone": "Europe/Lisbon"}`) // a Brazilian number living in Lisbon
	waOnly := e.contact("Dani", "", "")                                           // no phone: the org's zone
	at := time.Date(2026, 12, 7, 22, 30, 0, 0, time.UTC)                          // 19:30 in São Paulo, 22:30 in Lisbon
	send := func(id int64) policy.Send {
		return policy.Send{OrgID: e.org, ContactID: id, Channel: policy.ChannelWhatsApp, Source: policy.SourceCadence, SourceID: 1, SourceName: "Boas-vindas"}
	}
	if v := e.check(send(sp), at); !v.OK {
		t.Fatalf("São Paulo at 19:30: %+v", v)
	}
	if v := e.check(send(waOnly), at); !v.OK {
		t.Fatalf("org zone at 19:30: %+v", v)
	}
	lisbon := mustZone(t, "Europe/Lisbon")
	wantUntil := time.Date(2026, 12, 8, 8, 0, 0, 0, lisbon)
	for _, id := range []int64{lis, moved} {
		v := e.check(send(id), at)
		if v.OK || v.Reason != policy.ReasonQuietHours || !v.Until.Equal(wantUntil) {
			t.Fatalf("Lisbon at 22:30: %+v", v)
		}
		if v := e.record(send(id), at); v.Reason != policy.ReasonQuietHours {
			t.Fatalf("record in quiet hours: %+v", v)
		}
	}
	// A sender with quiet hours of its own (a campaign's, already applied) is not held again.
	own := send(lis)
	own.OwnQuietHours = true
	if v := e.check(own, at); !v.OK {
		t.Fatalf("own quiet hours: %+v", v)
	}
	// Three hours later it is night in São Paulo too, and the quiet hours end at 08:00 there.
	later := at.Add(3 * time.Hour)
	v := e.check(send(sp), later)
	if v.Reason != policy.ReasonQuietHours || !v.Until.Equal(time.Date(2026, 12, 8, 8, 0, 0, 0, mustZone(t, "America/Sao_Paulo"))) {
		t.Fatalf("São Paulo at 22:30: %+v", v)
	}
	// Capped and quiet: Until is when both allow.
	e.settings(model.PolicySettings{DailyCap: 1, QuietStart: 21, QuietEnd: 8})
	if v := e.record(send(sp), at.Add(-10*time.Hour)); !v.OK { // 09:30 in São Paulo
		t.Fatal(v)
	}
	// The cap frees a slot at 09:30 the next day, outside the quiet hours.
	if v := e.check(send(sp), later); v.Reason != policy.ReasonCapped || !v.Until.Equal(at.Add(14*time.Hour)) {
		t.Fatalf("capped at night: %+v", v)
	}
	// No quiet hours when start = end.
	e.settings(model.PolicySettings{QuietStart: 0, QuietEnd: 0})
	if v := e.check(send(lis), at); !v.OK {
		t.Fatalf("no quiet hours: %+v", v)
	}
}

// TestOptOutOnAnyChannelBlocksAll: an opt-out recorded on one channel refuses automated sends
// on every channel; no phone refuses SMS and calls but not WhatsApp.
func TestOptOutOnAnyChannelBlocksAll(t *testing.T) {
	e := newEnv(t)
	for _, kind := range []string{model.ChannelWhatsApp, model.ChannelSMS, "voice"} {
		id := e.contact("Ana "+kind, "", "")
		if _, err := e.st.SetOptOut(e.ctx, e.org, id, kind, true); err != nil {
			t.Fatal(err)
		}
		for _, ch := range []string{policy.ChannelWhatsApp, policy.ChannelSMS, policy.ChannelVoice} {
			s := policy.Send{OrgID: e.org, ContactID: id, Channel: ch, Phone: "+5511987650009", Text: "x", Source: policy.SourceCampaign, SourceID: 1}
			if v := e.check(s, noon); v.Reason != policy.ReasonOptedOut {
				t.Fatalf("opted out of %s, send on %s: %+v", kind, ch, v)
			}
			if v := e.record(s, noon); v.Reason != policy.ReasonOptedOut {
				t.Fatalf("record: %+v", v)
			}
		}
	}
	wa := e.contact("Só WhatsApp", "", "")
	for ch, want := range map[string]string{policy.ChannelWhatsApp: "", policy.ChannelSMS: policy.ReasonNoPhone, policy.ChannelVoice: policy.ReasonNoPhone} {
		v := e.check(policy.Send{OrgID: e.org, ContactID: wa, Channel: ch, Source: policy.SourceCadence, SourceID: 1}, noon)
		if v.Reason != want || v.OK != (want == "") {
			t.Fatalf("%s without a phone: %+v", ch, v)
		}
	}
	var n int
	_ = e.st.DB().Get(&n, `SELECT count(*) FROM automated_sends`)
	if n != 0 {
		t.Fatalf("%d refused sends recorded", n)
	}
}

// TestBadSends: a foreign contact is not found, an unknown channel or source is refused,
// and Record needs a transaction; settings out of range and a wrong role change nothing.
func TestBadSends(t *testing.T) {
	e := newEnv(t)
	other, err := e.st.CreateOrg(e.ctx, "Outra")
	if err != nil {
		t.Fatal(err)
	}
	ana := e.contact("Ana", "+5511987650001", "")
	foreign := policy.Send{OrgID: other.ID, ContactID: ana, Channel: policy.ChannelSMS, Source: policy.SourceCampaign, SourceID: 1}
	if _, err := e.p.Check(e.ctx, nil, foreign, noon); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("foreign contact: %v", err)
	}
	for _, s := range []policy.Send{
		{OrgID: e.org, ContactID: ana, Channel: "pigeon", Source: policy.SourceCampaign},
		{OrgID: e.org, ContactID: ana, Channel: policy.ChannelSMS, Source: "bot"},
		{OrgID: e.org, Channel: policy.ChannelSMS, Source: policy.SourceCampaign},
	} {
		if _, err := e.p.Check(e.ctx, nil, s, noon); !errors.Is(err, policy.ErrBadSend) {
			t.Fatalf("%+v: %v", s, err)
		}
	}
	if _, err := e.p.Record(e.ctx, e.st, policy.Send{OrgID: e.org, ContactID: ana, Channel: policy.ChannelSMS, Source: policy.SourceCampaign}, noon); err == nil {
		t.Fatal("Record outside a transaction")
	}
	admin := model.Actor{OrgID: e.org, UserID: 1, Role: model.RoleAdmin}
	for _, bad := range []model.PolicySettings{{DailyCap: -1}, {DailyCap: 51}, {QuietStart: 24}, {QuietEnd: -1}, {SMSDedupHours: 721}} {
		if err := e.p.Save(e.ctx, admin, bad); !errors.Is(err, model.ErrInvalid) {
			t.Fatalf("%+v: %v", bad, err)
		}
	}
	good := model.PolicySettings{DailyCap: 5, QuietStart: 22, QuietEnd: 7, SMSDedupHours: 48}
	if err := e.p.Save(e.ctx, model.Actor{OrgID: e.org, UserID: 2, Role: model.RoleManager}, good); !errors.Is(err, model.ErrForbidden) {
		t.Fatalf("manager: %v", err)
	}
	if err := e.p.Save(e.ctx, admin, good); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.p.Settings(e.ctx, e.org); got != good {
		t.Fatalf("saved %+v", got)
	}
	if got, _ := e.p.Settings(e.ctx, other.ID); got != model.DefaultPolicySettings {
		t.Fatalf("another org's: %+v", got)
	}
}

// TestOldSendsAreForgotten: the hourly cleanup drops the sends the cap no longer counts and
// the SMS slots whose window closed, and keeps the others.
func TestOldSendsAreForgotten(t *testing.T) {
	e := newEnv(t)
	ana := e.contact("Ana", "+5511987650001", "")
	s := policy.Send{OrgID: e.org, ContactID: ana, Channel: policy.ChannelSMS, Text: "oi", Source: policy.SourceCampaign, SourceID: 1}
	old, fresh := s, s
	fresh.Text = "olá"
	if v := e.record(old, time.Now().Add(-72*time.Hour)); !v.OK {
		t.Fatal(v)
	}
	if v := e.record(fresh, time.Now().Add(-time.Hour)); !v.OK {
		t.Fatal(v)
	}
	n, err := e.st.DeleteOldPolicySends(e.ctx)
	if err != nil || n != 2 {
		t.Fatalf("deleted %d: %v", n, err)
	}
	var sends, slots int
	_ = e.st.DB().Get(&sends, `SELECT count(*) FROM automated_sends`)
	_ = e.st.DB().Get(&slots, `SELECT count(*) FROM sms_sends`)
	if sends != 1 || slots != 1 {
		t.Fatalf("%d sends and %d slots left, want 1 and 1", sends, slots)
	}
	if v := e.record(fresh, time.Now()); v.Reason != policy.ReasonDuplicateSMS {
		t.Fatalf("the fresh slot still guards: %+v", v)
	}
}

// BenchmarkPolicyRecord records SMS sends to distinct contacts from 8 goroutines, each in
// its own transaction, as campaign batches and cadence steps do: the cost the policy adds
// to a send (lock, read, SMS slot, counted send). Reports records/s.
func BenchmarkPolicyRecord(b *testing.B) {
	st, _ := storetest.New(b)
	ctx := context.Background()
	o, err := st.CreateOrg(ctx, "Loja")
	if err != nil {
		b.Fatal(err)
	}
	if err := st.SavePolicySettings(ctx, o.ID, model.PolicySettings{DailyCap: 5, QuietStart: 0, QuietEnd: 0, SMSDedupHours: 24}); err != nil {
		b.Fatal(err)
	}
	n := b.N
	if _, err := st.DB().Exec(`INSERT INTO contacts (org_id, name, phone)
		SELECT $1, 'Cliente ' || i, '+55119' || lpad(i::text, 8, '0') FROM generate_series(1, $2) i`, o.ID, n); err != nil {
		b.Fatal(err)
	}
	var ids []int64
	if err := st.DB().Select(&ids, `SELECT id FROM contacts WHERE org_id = $1 ORDER BY id`, o.ID); err != nil {
		b.Fatal(err)
	}
	p := policy.New(st)
	next := make(chan int64, len(ids))
	for _, id := range ids {
		next <- id
	}
	close(next)
	now := time.Now()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for id := range next {
				err := st.Tx(ctx, func(tx *store.Store) error {
					v, err := p.Record(ctx, tx, policy.Send{OrgID: o.ID, ContactID: id, Channel: policy.ChannelSMS, Text: "Oferta de maio",
						Source: policy.SourceCampaign, SourceID: 1, SourceName: "Maio"}, now)
					if err == nil && !v.OK {
						b.Errorf("refused: %+v", v)
					}
					return err
				})
				if err != nil {
					b.Error(err)
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "records/s")
}
