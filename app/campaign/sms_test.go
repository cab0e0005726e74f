package campaign_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"masteria/app/campaign"
	"masteria/app/campaign/compose"
	"masteria/app/config"
	"masteria/app/model"
	"masteria/app/sim/twiliosim"
	"masteria/app/store"
	"masteria/app/web/webtest"
)

// smsEnv is a running Master IA whose Twilio SMS channel talks to the Twilio simulator over
// real HTTP, both ways: sends go to the sim, the sim's signed status callbacks (to the
// StatusCallback URL the send named, its ref included) come back to the app. The app
// listens at its public URL, since Twilio signs the full URL it calls.
type smsEnv struct {
	ctx  context.Context
	inst *webtest.Instance
	st   *store.Store
	svc  *campaign.Service
	ts   *twiliosim.Server
	a    model.Actor
	ch   model.Channel
}

const (
	smsAccount = "AC0123456789abcdef0123456789abcdef"
	smsToken   = "tw-token"
	smsFrom    = "+5511900000001"
)

func newSMSEnv(t testing.TB, opts ...twiliosim.Option) smsEnv {
	t.Helper()
	ts := twiliosim.New(append([]twiliosim.Option{twiliosim.WithStatusDelays(10*time.Millisecond, 10*time.Millisecond)}, opts...)...)
	api, err := ts.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ts.Close)
	inst := webtest.StartAt(t, webtest.FreeBase(t), func(c *config.Config) {
		c.TwilioAPIURL = api
		c.CampaignTick = time.Second
	})
	e := smsEnv{ctx: context.Background(), inst: inst, st: inst.App.Store, svc: inst.App.Campaigns, ts: ts}
	e.svc.SendTimeout = 2 * time.Second
	e.svc.Lease = 3 * time.Second
	e.svc.Slice = 3 * time.Second
	org, err := e.st.CreateOrg(e.ctx, "Loja SMS")
	if err != nil {
		t.Fatal(err)
	}
	e.a = model.Actor{OrgID: org.ID, Role: model.RoleOwner}
	e.ch, err = inst.App.Inbox.CreateChannel(e.ctx, e.a, model.KindTwilioSMS, "SMS",
		map[string]string{"account_sid": smsAccount, "from": smsFrom}, map[string]string{"auth_token": smsToken})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.SetChannelSendSettings(e.ctx, e.a.OrgID, e.ch.ID, json.RawMessage(`{}`), 50); err != nil {
		t.Fatal(err)
	}
	if e.ch, err = e.st.Channel(e.ctx, e.a.OrgID, e.ch.ID); err != nil {
		t.Fatal(err)
	}
	ts.AddAccount(smsAccount, smsToken)
	if _, err := ts.AddNumber(smsAccount, smsFrom, fmt.Sprintf("%s/webhooks/twilio/%d", inst.App.Config.BaseURL, e.ch.ID)); err != nil {
		t.Fatal(err)
	}
	return e
}

// contacts creates n contacts "Nome<i> Silva" with phones +5521987<first><i>; every
// fifth has no name (the fallback goes in its place).
func (e smsEnv) contacts(t testing.TB, first, n int) []int64 {
	t.Helper()
	ids := make([]int64, n)
	for i := range n {
		p := smsPhone(first, i)
		name := fmt.Sprintf("Nome%d Silva", i)
		if i%5 == 4 {
			name = ""
		}
		id, err := e.st.CreateContact(e.ctx, model.Contact{OrgID: e.a.OrgID, Name: name, Phone: &p})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = id
	}
	return ids
}

func smsPhone(first, i int) string { return fmt.Sprintf("+5521987%02d%04d", first, i) }

// draft creates a ready SMS campaign of text to contacts.
func (e smsEnv) draft(t testing.TB, text string, ids []int64) model.Campaign {
	t.Helper()
	chID := e.ch.ID
	c := model.Campaign{Name: "SMS de maio", ChannelID: &chID, Audience: model.Audience{ContactIDs: ids},
		Message: model.CampaignMessage{Variants: []model.Variant{{Text: text}}}, Settings: model.DefaultCampaignSettings()}
	c.Settings.QuietStart, c.Settings.QuietEnd = 0, 0
	c, err := e.svc.Create(e.ctx, e.a, c)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (e smsEnv) status(t testing.TB, id int64) string {
	t.Helper()
	c, err := e.st.Campaign(e.ctx, e.a.OrgID, id)
	if err != nil {
		t.Fatal(err)
	}
	return c.Status
}

func (e smsEnv) progress(t testing.TB, id int64) model.Progress {
	t.Helper()
	p, err := e.st.CampaignProgress(e.ctx, e.a.OrgID, id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// waitDelivered waits for the campaign to complete and for n of its recipients to be
// delivered (the sim's status callbacks).
func (e smsEnv) waitDelivered(t testing.TB, id int64, n int64, d time.Duration) model.Progress {
	t.Helper()
	wait(t, d, "the campaign to complete", func() bool { return e.status(t, id) == model.CampaignCompleted })
	wait(t, 10*time.Second, "the delivery callbacks", func() bool { return e.progress(t, id).Count(model.RecipientDelivered) >= n })
	return e.progress(t, id)
}

// sentTimes maps each number the sim got a message for to how many it got.
func (e smsEnv) sentTimes() map[string]int {
	out := map[string]int{}
	for _, m := range e.ts.Sent() {
		out[m.To]++
	}
	return out
}

// TestSMSCampaign sends a text with a first name (and its fallback) and spintax to 20
// contacts over the Twilio sim: the check prices it per segment in the right encoding,
// everyone gets exactly one SMS with their words, and the status callbacks move them.
func TestSMSCampaign(t *testing.T) {
	t.Parallel()
	e := newSMSEnv(t)
	ids := e.contacts(t, 1, 20)
	const text = "{Oi|Olá} {{primeiro_nome|cliente}}, a oferta de maio chegou na loja!"
	c := e.draft(t, text, ids)

	report, err := e.svc.Check(e.ctx, e.a, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	// "á" is not in the GSM-7 alphabet: the "Olá" variation goes as UCS-2.
	if report.Sendable != 20 || report.Kind != model.KindTwilioSMS || report.Segments != 1 || report.Encoding != twiliosim.EncodingUCS2 {
		t.Fatalf("check: %+v", report)
	}
	price, _ := compose.DefaultPrices().Price(model.KindTwilioSMS, "BR", compose.CategoryAny)
	if report.Currency != "USD" || math.Abs(report.Cost-20*price) > 1e-9 {
		t.Fatalf("cost %v %s, want %v", report.Cost, report.Currency, 20*price)
	}

	// The check's encoding and parts, text by text, and the cost per segment.
	for _, tc := range []struct {
		text     string
		segments int
		encoding string
	}{
		{"Oi {{primeiro_nome|cliente}}, a oferta de maio chegou na loja!", 1, twiliosim.EncodingGSM7},
		{"Oi {{primeiro_nome|cliente}}, é hoje: Ü ñ à ø Ç!", 1, twiliosim.EncodingGSM7},
		{"Oi {{primeiro_nome|cliente}}, a promoção de maio chegou!", 1, twiliosim.EncodingUCS2}, // ç, ã
		{"Oi {{primeiro_nome|cliente}} 🎉", 1, twiliosim.EncodingUCS2},
		{"Oi {{primeiro_nome|cliente}}! " + strings.Repeat("Oferta valida ate domingo. ", 7), 2, twiliosim.EncodingGSM7},
		{"Oi {{primeiro_nome|cliente}}! " + strings.Repeat("Promoção até domingo. ", 4), 2, twiliosim.EncodingUCS2},
		// Priced as people get it: the placeholder, 24 characters written, is a short first
		// name, so 150 characters of text with it still go in one part.
		{"Oi {{primeiro_nome|cliente}}! " + strings.Repeat("x", 150-len("Oi Cliente! ")), 1, twiliosim.EncodingGSM7},
	} {
		d := e.draft(t, tc.text, ids)
		r, err := e.svc.Check(e.ctx, e.a, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if r.Segments != tc.segments || r.Encoding != tc.encoding || math.Abs(r.Cost-float64(20*tc.segments)*price) > 1e-9 {
			t.Errorf("%q: %d segments of %s costing %v, want %d of %s", tc.text, r.Segments, r.Encoding, r.Cost, tc.segments, tc.encoding)
		}
	}

	if _, err := e.svc.Launch(e.ctx, e.a, c.ID); err != nil {
		t.Fatal(err)
	}
	p := e.waitDelivered(t, c.ID, 20, 30*time.Second)
	if p.Total != 20 || p.Count(model.RecipientDelivered) != 20 || p.Count(model.RecipientFailed) != 0 {
		t.Fatalf("progress %+v", p)
	}
	sent := e.ts.Sent()
	if len(sent) != 20 {
		t.Fatalf("the sim got %d messages, want 20", len(sent))
	}
	byTo := map[string]twiliosim.Message{}
	for _, m := range sent {
		if _, twice := byTo[m.To]; twice {
			t.Fatalf("%s got two messages", m.To)
		}
		byTo[m.To] = m
	}
	greetings := map[string]int{}
	for i := range 20 {
		m, ok := byTo[smsPhone(1, i)]
		if !ok {
			t.Fatalf("%s got nothing", smsPhone(1, i))
		}
		name := fmt.Sprintf("Nome%d", i)
		if i%5 == 4 {
			name = "cliente"
		}
		greeting, rest, _ := strings.Cut(m.Body, " ")
		if (greeting != "Oi" && greeting != "Olá") || rest != name+", a oferta de maio chegou na loja!" {
			t.Fatalf("%s got %q", m.To, m.Body)
		}
		greetings[greeting]++
		if m.From != smsFrom || m.NumSegments > report.Segments || !strings.Contains(m.StatusCallback, "ref=m") {
			t.Fatalf("message %+v", m)
		}
		if greeting == "Oi" && m.Encoding != twiliosim.EncodingGSM7 || greeting == "Olá" && m.Encoding != twiliosim.EncodingUCS2 {
			t.Fatalf("%q went as %s", m.Body, m.Encoding)
		}
	}
	if greetings["Oi"] == 0 || greetings["Olá"] == 0 {
		t.Fatalf("20 recipients, one variation only: %v", greetings)
	}
	// Each recipient names its SMS and carries its delivery.
	recs, err := e.svc.Recipients(e.ctx, e.a, c.ID, model.RecipientDelivered, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 20 {
		t.Fatalf("%d delivered recipients", len(recs))
	}
	for _, r := range recs {
		m, ok := byTo[r.Address]
		if !ok || r.ProviderID == nil || *r.ProviderID != m.Sid || r.SentAt == nil || r.DeliveredAt == nil {
			t.Fatalf("recipient %+v, sim message %+v", r, m)
		}
	}
}

// TestSMSThrottling: Twilio's 20429 (too many requests) for a few sends delays them;
// nobody fails and nobody gets two.
func TestSMSThrottling(t *testing.T) {
	t.Parallel()
	e := newSMSEnv(t)
	ids := e.contacts(t, 2, 8)
	e.ts.SetThrottle(2)
	e.ts.SetFailNext(20429, "Too Many Requests", 429)
	c := e.draft(t, "Oi {{primeiro_nome|cliente}}, chegou a oferta de maio!", ids)
	if _, err := e.svc.Launch(e.ctx, e.a, c.ID); err != nil {
		t.Fatal(err)
	}
	p := e.waitDelivered(t, c.ID, 8, 60*time.Second)
	if p.Count(model.RecipientFailed) != 0 || p.Count(model.RecipientDelivered) != 8 {
		t.Fatalf("progress %+v", p)
	}
	sent := e.sentTimes()
	if len(sent) != 8 {
		t.Fatalf("%d people reached, want 8", len(sent))
	}
	for to, n := range sent {
		if n != 1 {
			t.Fatalf("%s got %d", to, n)
		}
	}
	var factor float64
	_ = e.st.DB().Get(&factor, `SELECT factor FROM channel_pace WHERE channel_id = $1`, e.ch.ID)
	if factor > 0.75 {
		t.Fatalf("the channel's pace was not cut (factor %v)", factor)
	}
}

// TestSMSSlowPaceSendsOnce: a channel that throttling slowed a moment ago has its next
// sending slots seconds away, longer than the claims' lease (3 s here). The runner holding
// the claims waits for its slots; the housekeeping must not hand those claims to the other
// runner meanwhile, or both send them.
func TestSMSSlowPaceSendsOnce(t *testing.T) {
	t.Parallel()
	e := newSMSEnv(t)
	ids := e.contacts(t, 5, 6)
	// What a 429 with an 8-second Retry-After leaves after a send: the channel's next slot
	// 8 s away.
	if _, _, err := e.st.ReservePace(e.ctx, e.a.OrgID, e.ch.ID, 0.02); err != nil {
		t.Fatal(err)
	}
	if err := e.st.SlowDownPace(e.ctx, e.a.OrgID, e.ch.ID, 8*time.Second); err != nil {
		t.Fatal(err)
	}
	c := e.draft(t, "Oi {{primeiro_nome|cliente}}, chegou a oferta de maio!", ids)
	if _, err := e.svc.Launch(e.ctx, e.a, c.ID); err != nil {
		t.Fatal(err)
	}
	p := e.waitDelivered(t, c.ID, 6, 60*time.Second)
	if p.Count(model.RecipientDelivered) != 6 || p.Count(model.RecipientFailed) != 0 {
		t.Fatalf("progress %+v", p)
	}
	sent := e.sentTimes()
	if len(sent) != 6 {
		t.Fatalf("%d people reached, want 6", len(sent))
	}
	for to, n := range sent {
		if n != 1 {
			t.Fatalf("%s got %d messages: a claim waiting for its slot was sent by two runners", to, n)
		}
	}
}

// TestSMSLostAnswer: the sim takes a send but its answer is lost (the engine's send times
// out). The status callback names the send by the ref in its URL, so the recipient is
// recorded as sent, then delivered, and never sent again.
func TestSMSLostAnswer(t *testing.T) {
	t.Parallel()
	e := newSMSEnv(t)
	e.svc.SendTimeout = 500 * time.Millisecond
	ids := e.contacts(t, 3, 5)
	e.ts.SetHangNext(2*time.Second, true)
	c := e.draft(t, "Oi {{primeiro_nome|cliente}}, chegou a oferta de maio!", ids)
	if _, err := e.svc.Launch(e.ctx, e.a, c.ID); err != nil {
		t.Fatal(err)
	}
	p := e.waitDelivered(t, c.ID, 5, 60*time.Second)
	if p.Count(model.RecipientDelivered) != 5 || p.Count(model.RecipientFailed) != 0 {
		t.Fatalf("progress %+v", p)
	}
	sent := e.sentTimes()
	if len(sent) != 5 {
		t.Fatalf("%d people reached, want 5", len(sent))
	}
	for to, n := range sent {
		if n != 1 {
			t.Fatalf("%s got %d messages: the lost answer was sent again", to, n)
		}
	}
	recs, err := e.svc.Recipients(e.ctx, e.a, c.ID, model.RecipientDelivered, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	byTo := map[string]string{}
	for _, m := range e.ts.Sent() {
		byTo[m.To] = m.Sid
	}
	for _, r := range recs {
		if r.ProviderID == nil || *r.ProviderID != byTo[r.Address] {
			t.Fatalf("recipient %s has provider id %v, the sim's is %s", r.Address, r.ProviderID, byTo[r.Address])
		}
	}
}

// TestSMSCutAnswer: the sim takes a send, then drops the connection with no answer (not a
// timeout: a reset). Its status report comes 9 s later, after the 5 s retry of a plain
// temporary error: a send whose answer was lost waits for it like a timed-out one, so the
// recipient is reconciled as sent and never sent again.
func TestSMSCutAnswer(t *testing.T) {
	t.Parallel()
	e := newSMSEnv(t, twiliosim.WithStatusDelays(9*time.Second, 10*time.Millisecond))
	ids := e.contacts(t, 6, 3)
	e.ts.SetCutNext()
	c := e.draft(t, "Oi {{primeiro_nome|cliente}}, chegou a oferta de maio!", ids)
	if _, err := e.svc.Launch(e.ctx, e.a, c.ID); err != nil {
		t.Fatal(err)
	}
	p := e.waitDelivered(t, c.ID, 3, 60*time.Second)
	if p.Count(model.RecipientDelivered) != 3 || p.Count(model.RecipientFailed) != 0 {
		t.Fatalf("progress %+v", p)
	}
	sent := e.sentTimes()
	if len(sent) != 3 {
		t.Fatalf("%d people reached, want 3", len(sent))
	}
	for to, n := range sent {
		if n != 1 {
			t.Fatalf("%s got %d messages: the send whose connection was cut went again", to, n)
		}
	}
}

// TestSMSSkips: a contact who opted out of SMS and one without a phone are skipped, each
// with its reason; the others get their SMS.
func TestSMSSkips(t *testing.T) {
	t.Parallel()
	e := newSMSEnv(t)
	ids := e.contacts(t, 4, 3)
	opted := smsPhone(4, 100)
	op, err := e.st.CreateContact(e.ctx, model.Contact{OrgID: e.a.OrgID, Name: "Olga", Phone: &opted})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.SetOptOut(e.ctx, e.a.OrgID, op, "sms", true); err != nil {
		t.Fatal(err)
	}
	email := "sem.telefone@example.com"
	noPhone, err := e.st.CreateContact(e.ctx, model.Contact{OrgID: e.a.OrgID, Name: "Sem Telefone", Email: &email})
	if err != nil {
		t.Fatal(err)
	}
	c := e.draft(t, "Oi {{primeiro_nome|cliente}}, chegou a oferta de maio!", append(ids, op, noPhone))
	report, err := e.svc.Check(e.ctx, e.a, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if report.Audience != 5 || report.Sendable != 3 || report.Skips[model.SkipOptedOut] != 1 || report.Skips[model.SkipNoAddress] != 1 {
		t.Fatalf("check: %+v", report)
	}
	if _, err := e.svc.Launch(e.ctx, e.a, c.ID); err != nil {
		t.Fatal(err)
	}
	p := e.waitDelivered(t, c.ID, 3, 30*time.Second)
	if p.Total != 5 || p.Count(model.RecipientSkipped) != 2 || p.Count(model.RecipientDelivered) != 3 {
		t.Fatalf("progress %+v", p)
	}
	skipped, err := e.svc.Recipients(e.ctx, e.a, c.ID, model.RecipientSkipped, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[int64]string{}
	for _, r := range skipped {
		if r.ContactID != nil {
			reasons[*r.ContactID] = r.SkipReason
		}
	}
	if len(reasons) != 2 || reasons[op] != model.SkipOptedOut || reasons[noPhone] != model.SkipNoAddress {
		t.Fatalf("skipped %+v", skipped)
	}
	sent := e.sentTimes()
	if len(sent) != 3 || sent[opted] != 0 {
		t.Fatalf("sent %v", sent)
	}
}
