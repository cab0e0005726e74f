package campaign_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"masteria/app/campaign"
	"masteria/app/model"
)

// TestCampaignSendsOnceToEveryoneItShould launches a template campaign over the Meta
// simulator: every person gets exactly one message, with the contact's first name or the
// fallback, the skipped are skipped for the right reason, and the ticks arrive.
func TestCampaignSendsOnceToEveryoneItShould(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ids := e.contacts(t, 40)
	// No name: the fallback. Opted out of SMS: opted out of every automated send.
	noName := phoneOf(100)
	nn, _ := e.st.CreateContact(e.ctx, model.Contact{OrgID: e.a.OrgID, Phone: &noName})
	opted := phoneOf(101)
	op, _ := e.st.CreateContact(e.ctx, model.Contact{OrgID: e.a.OrgID, Name: "Olga", Phone: &opted})
	if _, err := e.st.SetOptOut(e.ctx, e.a.OrgID, op, "sms", true); err != nil {
		t.Fatal(err)
	}
	// One person, two contacts: a Brazilian mobile with and without its ninth digit.
	nine, eight := "+5511987650123", "+551187650123"
	d1, _ := e.st.CreateContact(e.ctx, model.Contact{OrgID: e.a.OrgID, Name: "Duda", Phone: &nine})
	d2, _ := e.st.CreateContact(e.ctx, model.Contact{OrgID: e.a.OrgID, Name: "Duda antiga", Phone: &eight})
	noPhone, _ := e.st.CreateContact(e.ctx, model.Contact{OrgID: e.a.OrgID, Name: "Sem telefone"})
	all := append(ids, nn, op, d1, d2, noPhone)
	c := e.draft(t, all)

	report, err := e.svc.Check(e.ctx, e.a, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if report.Audience != int64(len(all)) || report.Sendable != 42 || report.Skips[model.SkipOptedOut] != 1 ||
		report.Skips[model.SkipNoAddress] != 1 || report.Skips[model.SkipDuplicate] != 1 || len(report.Dupes) != 1 {
		t.Fatalf("check: %+v", report)
	}
	if report.Cost <= 0 || report.Currency == "" || report.Duration <= 0 {
		t.Fatalf("check estimates: cost %v %s, duration %v", report.Cost, report.Currency, report.Duration)
	}

	if _, err := e.svc.Launch(e.ctx, e.a, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Launch(e.ctx, e.a, c.ID); !errors.Is(err, campaign.ErrStarted) {
		t.Fatalf("a second launch: %v", err)
	}
	p := e.waitDone(t, c.ID, 30*time.Second)
	wait(t, 10*time.Second, "the read ticks", func() bool { return e.progress(t, c.ID).Count(model.RecipientRead) == 42 })
	p = e.progress(t, c.ID)
	if p.Count(model.RecipientSkipped) != 3 || p.Total != int64(len(all)) {
		t.Fatalf("progress %+v", p)
	}
	sent := e.sentTimes()
	if len(sent) != 42 {
		t.Fatalf("the sim got messages for %d people, want 42", len(sent))
	}
	for to, n := range sent {
		if n != 1 {
			t.Fatalf("%s got %d messages", to, n)
		}
	}
	// The first name, or the fallback for the contact without a name.
	for _, m := range e.ms.Sent() {
		raw := string(m.Raw)
		switch digits(m.To) {
		case digits(noName):
			if !strings.Contains(raw, `"cliente"`) {
				t.Fatalf("no fallback for the nameless contact: %s", raw)
			}
		case digits(phoneOf(7)):
			if !strings.Contains(raw, `"Cliente"`) || !strings.Contains(raw, `"maio"`) {
				t.Fatalf("params: %s", raw)
			}
		}
	}
	// The duplicate kept is the most recently active of the two; the thread shows the send.
	recs, err := e.svc.Recipients(e.ctx, e.a, c.ID, model.RecipientSkipped, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var dup *model.Recipient
	for i := range recs {
		if recs[i].SkipReason == model.SkipDuplicate {
			dup = &recs[i]
		}
	}
	if dup == nil || dup.KeptContactID == nil {
		t.Fatalf("duplicate row: %+v", recs)
	}
	read, _ := e.svc.Recipients(e.ctx, e.a, c.ID, model.RecipientRead, 0, 1)
	if len(read) != 1 || read[0].ConversationID == nil || read[0].ProviderID == nil || read[0].SentAt == nil {
		t.Fatalf("a read recipient: %+v", read)
	}
	thread, _ := e.st.Messages(e.ctx, e.a.OrgID, *read[0].ConversationID, 0, 10)
	if len(thread) != 1 || thread[0].Kind != "template" || !strings.Contains(thread[0].Body, "a promoção de maio chegou") {
		t.Fatalf("thread: %+v", thread)
	}
}

// TestQuietHoursInTheContactsZone: with quiet hours that cover now in São Paulo but not in
// Lisbon, the Portuguese number goes now and the Brazilian one waits for its window.
func TestQuietHoursInTheContactsZone(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sp, lx := "+5511987000001", "+351912345678"
	a, _ := e.st.CreateContact(e.ctx, model.Contact{OrgID: e.a.OrgID, Name: "Ana", Phone: &sp})
	b, _ := e.st.CreateContact(e.ctx, model.Contact{OrgID: e.a.OrgID, Name: "Bruno", Phone: &lx})
	saoPaulo, _ := time.LoadLocation("America/Sao_Paulo")
	h := time.Now().In(saoPaulo).Hour()
	lisbon, _ := time.LoadLocation("Europe/Lisbon")
	hl := time.Now().In(lisbon).Hour()
	if h == hl {
		t.Skip("São Paulo and Lisbon show the same hour today")
	}
	// Quiet for this one hour in São Paulo only.
	c := e.draft(t, []int64{a, b}, func(c *model.Campaign) { c.Settings.QuietStart, c.Settings.QuietEnd = h, (h+1)%24 })
	if _, err := e.svc.Launch(e.ctx, e.a, c.ID); err != nil {
		t.Fatal(err)
	}
	wait(t, 20*time.Second, "the Lisbon send", func() bool { return e.sentTimes()[digits(lx)] == 1 })
	recs, _ := e.svc.Recipients(e.ctx, e.a, c.ID, model.RecipientPending, 0, 10)
	if len(recs) != 1 || recs[0].Address != sp || recs[0].NotBefore.Before(time.Now()) {
		t.Fatalf("the São Paulo recipient should wait for its window: %+v", recs)
	}
	want := time.Now().In(saoPaulo).Truncate(time.Hour).Add(time.Hour)
	if got := recs[0].NotBefore; got.Sub(want).Abs() > time.Minute {
		t.Fatalf("waits until %v, want %v", got, want)
	}
	if e.status(t, c.ID) != model.CampaignRunning {
		t.Fatalf("the campaign should still run: %s", e.status(t, c.ID))
	}
}

// TestThrottlingSlowsDownAndNeverFails: 429s, 130429 and a pair-rate 131056 delay the sends
// and a 500 is retried; nobody fails and nobody gets two messages.
func TestThrottlingSlowsDownAndNeverFails(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ids := e.contacts(t, 12)
	e.ms.SetFailNextHTTP(429, 2)
	c := e.draft(t, ids)
	if _, err := e.svc.Launch(e.ctx, e.a, c.ID); err != nil {
		t.Fatal(err)
	}
	wait(t, 20*time.Second, "a few sends", func() bool { return len(e.sentTimes()) >= 3 })
	e.ms.SetFailNext(130429, "")
	e.ms.SetFailNext(131056, "")
	e.ms.SetFailNextHTTP(500, 1)
	p := e.waitDone(t, c.ID, 60*time.Second)
	if p.Count(model.RecipientFailed) != 0 || p.Reached(model.RecipientSent) != 12 {
		t.Fatalf("progress %+v", p)
	}
	for to, n := range e.sentTimes() {
		if n != 1 {
			t.Fatalf("%s got %d", to, n)
		}
	}
}

// TestPermanentErrorsFailWithTheProvidersWords, and a spam block (131048) pauses the
// campaign with its reason.
func TestSpamBlockPausesTheCampaign(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ids := e.contacts(t, 30)
	e.ms.SetFailNext(131048, "")
	c := e.draft(t, ids)
	if _, err := e.svc.Launch(e.ctx, e.a, c.ID); err != nil {
		t.Fatal(err)
	}
	wait(t, 20*time.Second, "the pause", func() bool { return e.status(t, c.ID) == model.CampaignPaused })
	got, _ := e.st.Campaign(e.ctx, e.a.OrgID, c.ID)
	if got.PauseReason != model.PauseSpam || !strings.Contains(got.PauseDetail, "131048") {
		t.Fatalf("paused for %q (%q)", got.PauseReason, got.PauseDetail)
	}
	failed, _ := e.svc.Recipients(e.ctx, e.a, c.ID, model.RecipientFailed, 0, 10)
	if len(failed) != 1 || failed[0].ErrorCode != "131048" || failed[0].ErrorTitle == "" {
		t.Fatalf("failed: %+v", failed)
	}
	// Resume goes on exactly where it stopped: everyone else gets one message.
	if err := e.svc.Resume(e.ctx, e.a, c.ID); err != nil {
		t.Fatal(err)
	}
	p := e.waitDone(t, c.ID, 30*time.Second)
	if p.Reached(model.RecipientSent) != 29 || p.Count(model.RecipientFailed) != 1 {
		t.Fatalf("progress %+v", p)
	}
	for to, n := range e.sentTimes() {
		if n != 1 {
			t.Fatalf("%s got %d", to, n)
		}
	}
}

// TestLateCappedStatusAndRetry: a 131049 that arrives after the 200 makes the recipient
// capped, not failed; "retry failed" leaves it alone and sends again a transient failure.
func TestLateCappedStatus(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ids := e.contacts(t, 5)
	e.ms.SetFailDeliveryFor(digits(phoneOf(2)), 131049, "")
	c := e.draft(t, ids, func(c *model.Campaign) { c.Settings.CappedRetryDays = 3 })
	if _, err := e.svc.Launch(e.ctx, e.a, c.ID); err != nil {
		t.Fatal(err)
	}
	e.waitDone(t, c.ID, 30*time.Second)
	wait(t, 10*time.Second, "the capped status", func() bool { return e.progress(t, c.ID).Count(model.RecipientCapped) == 1 })
	capped, _ := e.svc.Recipients(e.ctx, e.a, c.ID, model.RecipientCapped, 0, 10)
	if len(capped) != 1 || capped[0].Address != phoneOf(2) || capped[0].ErrorCode != "131049" ||
		capped[0].NotBefore.Before(time.Now().Add(71*time.Hour)) {
		t.Fatalf("capped: %+v", capped)
	}
}

// TestPauseResumeCancel: a pause stops the sends within a second, resume finishes the
// campaign with every recipient sent once, and a cancelled campaign sends nothing more.
func TestPauseResumeCancel(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	slow := e.cloudChannel(t, "556", wabaID, 10)
	tmpl := e.template(t, slow, "promo_maio", "Olá {{1}}, a promoção de {{2}} chegou!")
	onSlow := func(c *model.Campaign) { c.ChannelID, c.Message.Variants[0].TemplateID = &slow.ID, tmpl.ID }
	ids := e.contacts(t, 60)
	c := e.draft(t, ids, onSlow)
	if _, err := e.svc.Launch(e.ctx, e.a, c.ID); err != nil {
		t.Fatal(err)
	}
	wait(t, 20*time.Second, "some sends", func() bool { return len(e.sentTimes()) >= 5 })
	if err := e.svc.Pause(e.ctx, e.a, c.ID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // what was in flight lands
	frozen := len(e.sentTimes())
	time.Sleep(1500 * time.Millisecond)
	if now := len(e.sentTimes()); now != frozen {
		t.Fatalf("sends went on after the pause: %d then %d", frozen, now)
	}
	if frozen >= 60 {
		t.Fatalf("everything went before the pause")
	}
	if err := e.svc.Pause(e.ctx, e.a, c.ID); err == nil {
		t.Fatal("pausing a paused campaign should be refused")
	}
	if err := e.svc.Resume(e.ctx, e.a, c.ID); err != nil {
		t.Fatal(err)
	}
	p := e.waitDone(t, c.ID, 60*time.Second)
	if p.Reached(model.RecipientSent) != 60 {
		t.Fatalf("progress %+v", p)
	}
	for to, n := range e.sentTimes() {
		if n != 1 {
			t.Fatalf("%s got %d", to, n)
		}
	}

	other := e.draft(t, e.contacts2(t, 30), onSlow)
	if _, err := e.svc.Launch(e.ctx, e.a, other.ID); err != nil {
		t.Fatal(err)
	}
	before := len(e.sentTimes())
	wait(t, 20*time.Second, "some sends", func() bool { return len(e.sentTimes()) >= before+3 })
	if err := e.svc.Cancel(e.ctx, e.a, other.ID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	frozen = len(e.sentTimes())
	time.Sleep(1500 * time.Millisecond)
	if now := len(e.sentTimes()); now != frozen || e.status(t, other.ID) != model.CampaignCancelled {
		t.Fatalf("after cancel: %d then %d, %s", frozen, now, e.status(t, other.ID))
	}
	if err := e.svc.Resume(e.ctx, e.a, other.ID); err == nil {
		t.Fatal("a cancelled campaign resumed")
	}
}

// contacts2 creates n more contacts with other phones.
func (e env) contacts2(t *testing.T, n int) []int64 {
	t.Helper()
	ids := make([]int64, n)
	for i := range n {
		p := fmt.Sprintf("+5521987%06d", i)
		id, err := e.st.CreateContact(e.ctx, model.Contact{OrgID: e.a.OrgID, Name: fmt.Sprintf("Outro %d", i), Phone: &p})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = id
	}
	return ids
}

var _ = json.Marshal
