package campaign_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"

	"masteria/app/campaign"
	"masteria/app/config"
	"masteria/app/model"
	"masteria/app/sim/metasim"
	"masteria/app/web/webtest"
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

// TestThrottlingSlowsDownAndNeverFails: HTTP 429s, 130429 (the number's pace), 131056
// (one person's pair rate) and 5xx answers delay the sends; nobody fails and nobody gets
// two messages, and a channel-wide throttle halves the channel's shared pace.
func TestThrottlingSlowsDownAndNeverFails(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cases := []struct {
		name   string
		inject func()
		slowed bool
	}{
		{"http 429", func() { e.ms.SetFailNextHTTP(429, 2) }, true},
		{"130429", func() { e.ms.SetFailNext(130429, "") }, true},
		{"131056", func() { e.ms.SetFailNext(131056, "") }, false},
		{"http 500", func() { e.ms.SetFailNextHTTP(500, 1) }, false},
		{"http 503", func() { e.ms.SetFailNextHTTP(503, 2) }, false},
	}
	for i, tc := range cases {
		ids := make([]int64, 3)
		for j := range ids {
			p := fmt.Sprintf("+55319870%02d%03d", i, j)
			ids[j], _ = e.st.CreateContact(e.ctx, model.Contact{OrgID: e.a.OrgID, Name: "Pessoa", Phone: &p})
		}
		before := len(e.sentTimes())
		tc.inject()
		c := e.draft(t, ids)
		if _, err := e.svc.Launch(e.ctx, e.a, c.ID); err != nil {
			t.Fatal(err)
		}
		p := e.waitDone(t, c.ID, 60*time.Second)
		if p.Count(model.RecipientFailed) != 0 || p.Reached(model.RecipientSent) != 3 || len(e.sentTimes()) != before+3 {
			t.Fatalf("%s: progress %+v, %d sent", tc.name, p, len(e.sentTimes())-before)
		}
		var factor float64
		_ = e.st.DB().Get(&factor, `SELECT factor FROM channel_pace WHERE channel_id = $1`, e.ch.ID)
		if tc.slowed && factor > 0.75 {
			t.Fatalf("%s: the channel's pace was not cut (factor %v)", tc.name, factor)
		}
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
	// The refusal must reach the engine: with the tests' 2 s send timeout a loaded machine
	// can give up on the very request Meta refused, and the retry then goes through (the
	// campaign completed with every message read, in a full run).
	e.svc.SendTimeout, e.svc.Lease = 15*time.Second, 20*time.Second
	ids := e.contacts(t, 30)
	e.ms.SetFailNext(131048, "")
	c := e.draft(t, ids)
	if _, err := e.svc.Launch(e.ctx, e.a, c.ID); err != nil {
		t.Fatal(err)
	}
	// A minute: with the other packages' tests running beside it the runner's job can wait
	// its turn; what the campaign did is logged if it never pauses.
	for deadline := time.Now().Add(time.Minute); e.status(t, c.ID) != model.CampaignPaused; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			p := e.progress(t, c.ID)
			t.Fatalf("no pause: status %s, progress %+v, simulator sends %d", e.status(t, c.ID), p, len(e.sentTimes()))
		}
	}
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

// TestSpamRefusalSurvivesADeadlock: the batch's record transaction runs beside the status
// webhooks of the same messages and recipients, and PostgreSQL may pick it as a deadlock's
// victim (seen in loaded test runs: recipients-sent against recipients-by-message). The
// refusal it carried must not be lost: before, the claim was left to the lease, the
// refused recipient went again and was taken, and nobody paused. A trigger fails the
// refusal's write once with the deadlock's code.
func TestSpamRefusalSurvivesADeadlock(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, q := range []string{
		`CREATE SEQUENCE test_deadlocks`,
		`CREATE FUNCTION test_deadlock_once() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF nextval('test_deadlocks') = 1 THEN
				RAISE EXCEPTION 'deadlock detected (test)' USING ERRCODE = '40P01';
			END IF;
			RETURN NULL;
		END $$`,
		`CREATE TRIGGER test_deadlock_once AFTER UPDATE ON messages FOR EACH ROW
			WHEN (NEW.status = 'failed' AND NEW.error_code = '131048') EXECUTE FUNCTION test_deadlock_once()`,
	} {
		if _, err := e.st.DB().Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	ids := e.contacts(t, 10)
	e.ms.SetFailNext(131048, "")
	c := e.draft(t, ids)
	if _, err := e.svc.Launch(e.ctx, e.a, c.ID); err != nil {
		t.Fatal(err)
	}
	wait(t, time.Minute, "the campaign to stop", func() bool { return e.status(t, c.ID) != model.CampaignRunning })
	_ = e.ms.WaitDeliveries(e.ctx)
	var fired int64
	if err := e.st.DB().Get(&fired, `SELECT last_value FROM test_deadlocks`); err != nil || fired < 1 {
		t.Fatalf("the trigger never failed the record (%d, %v)", fired, err)
	}
	got, _ := e.st.Campaign(e.ctx, e.a.OrgID, c.ID)
	if got.Status != model.CampaignPaused || got.PauseReason != model.PauseSpam {
		t.Fatalf("status %s (%q), progress %+v, simulator sends %d", got.Status, got.PauseReason, e.progress(t, c.ID), len(e.sentTimes()))
	}
	failed, _ := e.svc.Recipients(e.ctx, e.a, c.ID, model.RecipientFailed, 0, 10)
	if len(failed) != 1 || failed[0].ErrorCode != "131048" {
		t.Fatalf("failed: %+v", failed)
	}
	// Nobody was sent twice, and the refused person was not sent again.
	sent := e.sentTimes()
	if len(sent) != 9 || sent[digits(failed[0].Address)] != 0 {
		t.Fatalf("simulator sends %v, refused %s", sent, failed[0].Address)
	}
	for to, n := range sent {
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
func (e env) contacts2(t testing.TB, n int) []int64 {
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

// TestLostAnswersAreReconciledNotResent: the sim takes a send but its answer never comes
// back (the client times out). The status report names the send by its Ref, so the
// recipient is recorded as sent and never sent again; a send the sim did not take goes again.
func TestLostAnswersAreReconciledNotResent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ids := e.contacts(t, 6)
	e.ms.SetHangNext(3*time.Second, true) // longer than the engine's 2 s send timeout
	c := e.draft(t, ids)
	if _, err := e.svc.Launch(e.ctx, e.a, c.ID); err != nil {
		t.Fatal(err)
	}
	p := e.waitDone(t, c.ID, 60*time.Second)
	if p.Reached(model.RecipientSent) != 6 || p.Count(model.RecipientFailed) != 0 {
		t.Fatalf("progress %+v", p)
	}
	for to, n := range e.sentTimes() {
		if n != 1 {
			t.Fatalf("%s got %d messages: the lost answer was sent again", to, n)
		}
	}

	// Not taken: the timeout is retried after its wait, and then goes once.
	e.ms.SetHangNext(3*time.Second, false)
	more := e.draft(t, e.contacts2(t, 3))
	if _, err := e.svc.Launch(e.ctx, e.a, more.ID); err != nil {
		t.Fatal(err)
	}
	wait(t, 10*time.Second, "the timed-out recipient to wait", func() bool {
		recs, _ := e.svc.Recipients(e.ctx, e.a, more.ID, model.RecipientPending, 0, 10)
		return len(recs) == 1 && recs[0].ErrorCode == "timeout"
	})
	got := e.sentTimes()
	if len(got) != 8 {
		t.Fatalf("%d people reached, want 8 while one waits", len(got))
	}
}

// TestMissingVariablesWithoutFallbackAreSkipped: a custom field some contacts lack skips
// them when it has no fallback, and fills in the fallback when it has one.
func TestMissingVariablesWithoutFallbackAreSkipped(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ids := e.contacts(t, 4)
	if _, err := e.st.DB().Exec(`UPDATE contacts SET attributes = '{"cidade": "Recife"}' WHERE id = ANY($1)`, pqArray(ids[:2])); err != nil {
		t.Fatal(err)
	}
	city := func(fallback string) func(*model.Campaign) {
		return func(c *model.Campaign) {
			c.Message.Variants[0].Vars[1] = model.VarMap{Source: "custom", Key: "cidade", Fallback: fallback}
		}
	}
	strict := e.draft(t, ids, city(""))
	r, err := e.svc.Check(e.ctx, e.a, strict.ID)
	if err != nil || r.Sendable != 2 || r.Skips[model.SkipMissingVar] != 2 {
		t.Fatalf("without a fallback: %+v %v", r, err)
	}
	kind := e.draft(t, ids, city("sua cidade"))
	r, err = e.svc.Check(e.ctx, e.a, kind.ID)
	if err != nil || r.Sendable != 4 || r.Skips[model.SkipMissingVar] != 0 {
		t.Fatalf("with a fallback: %+v %v", r, err)
	}
	if _, err := e.svc.Launch(e.ctx, e.a, kind.ID); err != nil {
		t.Fatal(err)
	}
	e.waitDone(t, kind.ID, 30*time.Second)
	var recife, fallback int
	for _, m := range e.ms.Sent() {
		recife += strings.Count(string(m.Raw), `"Recife"`)
		fallback += strings.Count(string(m.Raw), `"sua cidade"`)
	}
	if recife != 2 || fallback != 2 {
		t.Fatalf("Recife %d, fallback %d", recife, fallback)
	}
}

// TestProviderNoticesPauseCampaigns: a quality downgrade of the number and a paused
// template, both as signed webhooks from the sim, pause the campaigns they concern.
func TestProviderNoticesPauseCampaigns(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	slow := e.cloudChannel(t, "557", wabaID, 5)
	tmpl := e.template(t, slow, "oferta", "Oi {{1}}, temos uma oferta: {{2}}")
	onSlow := func(c *model.Campaign) { c.ChannelID, c.Message.Variants[0].TemplateID = &slow.ID, tmpl.ID }
	c := e.draft(t, e.contacts(t, 40), onSlow)
	if _, err := e.svc.Launch(e.ctx, e.a, c.ID); err != nil {
		t.Fatal(err)
	}
	wait(t, 10*time.Second, "a send", func() bool { return len(e.sentTimes()) > 0 })
	if code, err := e.ms.NumberQuality(e.ctx, "557", "DOWNGRADE", "TIER_2K"); err != nil || code != 200 {
		t.Fatalf("quality webhook: %d %v", code, err)
	}
	got, _ := e.st.Campaign(e.ctx, e.a.OrgID, c.ID)
	if got.Status != model.CampaignPaused || got.PauseReason != model.PauseQuality {
		t.Fatalf("after a downgrade: %s %q", got.Status, got.PauseReason)
	}
	limits, _ := e.st.ChannelLimits(e.ctx, e.a.OrgID, slow.ID)
	if limits.MessagingLimit != 2000 {
		t.Fatalf("the new limit was not kept: %+v", limits)
	}

	if err := e.svc.Resume(e.ctx, e.a, c.ID); err != nil {
		t.Fatal(err)
	}
	if code, err := e.ms.TemplateStatus(e.ctx, "557", "oferta", "pt_BR", "PAUSED", "NONE"); err != nil || code != 200 {
		t.Fatalf("template webhook: %d %v", code, err)
	}
	got, _ = e.st.Campaign(e.ctx, e.a.OrgID, c.ID)
	if got.Status != model.CampaignPaused || got.PauseReason != model.PauseTemplate {
		t.Fatalf("after the template paused: %s %q", got.Status, got.PauseReason)
	}
	// A template no longer approved cannot be resumed into sends: the runner pauses again.
	if err := e.svc.Resume(e.ctx, e.a, c.ID); err != nil {
		t.Fatal(err)
	}
	wait(t, 10*time.Second, "the pause", func() bool { return e.status(t, c.ID) == model.CampaignPaused })
	got, _ = e.st.Campaign(e.ctx, e.a.OrgID, c.ID)
	// A runner that loaded the campaign before sees Meta refuse the template (132015); a new
	// one sees it is not approved any more: either way the campaign pauses for its template.
	if got.PauseReason != model.PauseTemplateGone && got.PauseReason != model.PauseTemplate {
		t.Fatalf("resumed with a paused template: %q", got.PauseReason)
	}
	for to, n := range e.sentTimes() {
		if n != 1 {
			t.Fatalf("%s got %d", to, n)
		}
	}
}

// TestFailureRatePauses: when too many of the last sends fail (here: numbers not on
// WhatsApp, reported after the send), the campaign pauses itself and says so.
func TestFailureRatePauses(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	slow := e.cloudChannel(t, "558", wabaID, 10)
	tmpl := e.template(t, slow, "aviso", "Oi {{1}}, aviso de {{2}}")
	ids := e.contacts(t, 60)
	for i := range 48 {
		e.ms.SetUndeliverable(digits(phoneOf(i)), 131026, "")
	}
	c := e.draft(t, ids, func(c *model.Campaign) {
		c.ChannelID, c.Message.Variants[0].TemplateID = &slow.ID, tmpl.ID
		c.Settings.FailurePct, c.Settings.FailureWindow = 30, 10
	})
	if _, err := e.svc.Launch(e.ctx, e.a, c.ID); err != nil {
		t.Fatal(err)
	}
	wait(t, 30*time.Second, "the pause", func() bool { return e.status(t, c.ID) == model.CampaignPaused })
	got, _ := e.st.Campaign(e.ctx, e.a.OrgID, c.ID)
	if got.PauseReason != model.PauseFailureRate || !strings.Contains(got.PauseDetail, "/") {
		t.Fatalf("paused for %q (%q)", got.PauseReason, got.PauseDetail)
	}
	if p := e.progress(t, c.ID); p.Count(model.RecipientPending) == 0 {
		t.Fatalf("it should have stopped early: %+v", p)
	}
}

// TestRetryFailed sends again what failed for a passing reason, and not what cannot pass.
func TestRetryFailed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.svc.MaxAttempts = 1
	ids := e.contacts(t, 5)
	e.ms.SetFailNextHTTP(503, 1)
	e.ms.SetFailDeliveryFor(digits(phoneOf(4)), 131026, "")
	c := e.draft(t, ids)
	if _, err := e.svc.Launch(e.ctx, e.a, c.ID); err != nil {
		t.Fatal(err)
	}
	e.waitDone(t, c.ID, 30*time.Second)
	wait(t, 10*time.Second, "two failures", func() bool { return e.progress(t, c.ID).Count(model.RecipientFailed) == 2 })
	n, err := e.svc.RetryFailed(e.ctx, e.a, c.ID)
	if err != nil || n != 1 {
		t.Fatalf("retry failed: %d %v", n, err)
	}
	p := e.waitDone(t, c.ID, 30*time.Second)
	if p.Count(model.RecipientFailed) != 1 || p.Reached(model.RecipientSent) != 4 {
		t.Fatalf("progress %+v", p)
	}
}

func pqArray(ids []int64) any { return pq.Array(ids) }

// TestTwoInstancesShareACampaign: two instances on one database send one campaign
// together: each sends a part, and nobody gets two messages.
func TestTwoInstancesShareACampaign(t *testing.T) {
	t.Parallel()
	// Two job workers each and four runners: neither instance can take every runner.
	e := newEnvWith(t, func(c *config.Config) { c.Workers = 2 })
	e.svc.Runners = 4
	second := webtest.StartOn(t, e.inst.App.Config.DatabaseURL, func(c *config.Config) {
		c.MetaGraphURL = e.inst.App.Config.MetaGraphURL
		c.CampaignTick = time.Second
		c.Workers = 2
	})
	second.App.Campaigns.Runners = 4
	slow := e.cloudChannel(t, "559", wabaID, 100)
	tmpl := e.template(t, slow, "promo_junho", "Oi {{1}}, {{2}}")
	ids := e.contacts(t, 400)
	c := e.draft(t, ids, func(c *model.Campaign) { c.ChannelID, c.Message.Variants[0].TemplateID = &slow.ID, tmpl.ID })
	if _, err := e.svc.Launch(e.ctx, e.a, c.ID); err != nil {
		t.Fatal(err)
	}
	p := e.waitDone(t, c.ID, 60*time.Second)
	if p.Reached(model.RecipientSent) != 400 {
		t.Fatalf("progress %+v", p)
	}
	for to, n := range e.sentTimes() {
		if n != 1 {
			t.Fatalf("%s got %d", to, n)
		}
	}
	// Both instances' queue clients ran runners of the campaign.
	var clients int
	_ = e.st.DB().Get(&clients, `SELECT count(DISTINCT by) FROM river_job, unnest(attempted_by) AS by WHERE kind = 'campaign.run'`)
	if clients < 2 {
		t.Fatalf("runners ran on %d instance(s)", clients)
	}
}

// TestDailyLimitWarnsAndSpreads: WhatsApp's 24-hour limit, counted from the ledger, makes
// the check warn; without spreading the campaign pauses at the limit, with it the rest waits.
func TestDailyLimitWarnsAndSpreads(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if err := e.st.SetChannelLimits(e.ctx, e.a.OrgID, e.ch.ID, 250, "GREEN"); err != nil {
		t.Fatal(err)
	}
	first := e.draft(t, e.contacts(t, 200))
	if _, err := e.svc.Launch(e.ctx, e.a, first.ID); err != nil {
		t.Fatal(err)
	}
	e.waitDone(t, first.ID, 30*time.Second)

	strict := e.draft(t, e.contacts2(t, 100))
	r, err := e.svc.Check(e.ctx, e.a, strict.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r.DailyLimit != 250 || r.ReachedDay != 200 || r.Remaining != 50 || r.OverLimit != 50 || !slices.Contains(r.Warnings, "over_daily_limit") {
		t.Fatalf("check: %+v", r)
	}
	if _, err := e.svc.Launch(e.ctx, e.a, strict.ID); err != nil {
		t.Fatal(err)
	}
	wait(t, 30*time.Second, "the pause at the limit", func() bool {
		return e.status(t, strict.ID) == model.CampaignPaused && e.progress(t, strict.ID).Count(model.RecipientClaimed) == 0
	})
	got, _ := e.st.Campaign(e.ctx, e.a.OrgID, strict.ID)
	if p := e.progress(t, strict.ID); got.PauseReason != model.PauseDailyLimit || p.Reached(model.RecipientSent) != 50 {
		t.Fatalf("paused for %q after %+v", got.PauseReason, p)
	}

	// Spreading: the check says how many days, and the campaign waits instead of pausing.
	if _, err := e.st.DB().Exec(`UPDATE campaigns SET status = 'cancelled' WHERE id = $1`, strict.ID); err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, 20)
	for i := range ids {
		p := fmt.Sprintf("+5541987%06d", i)
		ids[i], _ = e.st.CreateContact(e.ctx, model.Contact{OrgID: e.a.OrgID, Name: "X", Phone: &p})
	}
	spread := e.draft(t, ids, func(c *model.Campaign) { c.Settings.Spread = true })
	r, err = e.svc.Check(e.ctx, e.a, spread.ID)
	if err != nil || r.Remaining != 0 || r.SpreadDays != 2 {
		t.Fatalf("spread check: %+v %v", r, err)
	}
	if _, err := e.svc.Launch(e.ctx, e.a, spread.ID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	if st, p := e.status(t, spread.ID), e.progress(t, spread.ID); st != model.CampaignRunning || p.Count(model.RecipientPending) != 20 {
		t.Fatalf("spreading: %s %+v", st, p)
	}
}

// TestABTestAndReplies: half the audience is split between two versions, the rest waits
// for the winner; a customer who writes back within the reply window counts as a reply,
// and the winner (chosen here by a click) goes to the rest.
func TestABTestAndReplies(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	other := e.template(t, e.ch, "promo_b", "Oi {{1}}! Só hoje: {{2}}")
	ids := e.contacts(t, 20)
	c := e.draft(t, ids, func(c *model.Campaign) {
		b := c.Message.Variants[0]
		b.TemplateID = other.ID
		c.Message.Variants = append(c.Message.Variants, b)
		c.Settings.TestPct, c.Settings.TestHours, c.Settings.AutoWinner = 50, 24, false
	})
	if _, err := e.svc.Launch(e.ctx, e.a, c.ID); err != nil {
		t.Fatal(err)
	}
	wait(t, 20*time.Second, "the test half", func() bool {
		p := e.progress(t, c.ID)
		return p.Reached(model.RecipientSent) == 10 && p.Count(model.RecipientClaimed) == 0
	})
	stats, err := e.svc.Variants(e.ctx, e.a, c.ID)
	if err != nil || len(stats) != 2 || stats[0].Sent != 5 || stats[1].Sent != 5 {
		t.Fatalf("variants: %+v %v", stats, err)
	}
	// Someone who got version B answers.
	var to string
	for _, m := range e.ms.Sent() {
		if m.Template == "promo_b" {
			to = m.To
			break
		}
	}
	if _, status, err := e.ms.InboundText(e.ctx, phoneNumberID, metasim.Sender{WaID: digits(to), Name: "Cliente"}, "Quero!"); err != nil || status != 200 {
		t.Fatalf("reply: %d %v", status, err)
	}
	stats, _ = e.svc.Variants(e.ctx, e.a, c.ID)
	if stats[1].Replied != 1 || stats[0].Replied != 0 {
		t.Fatalf("replies by variant: %+v", stats)
	}
	if err := e.svc.ChooseWinner(e.ctx, e.a, c.ID, 1); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.ChooseWinner(e.ctx, e.a, c.ID, 0); err == nil {
		t.Fatal("a second winner was accepted")
	}
	e.waitDone(t, c.ID, 30*time.Second)
	stats, _ = e.svc.Variants(e.ctx, e.a, c.ID)
	if stats[0].Sent != 5 || stats[1].Sent != 15 {
		t.Fatalf("after the winner: %+v", stats)
	}
	for to, n := range e.sentTimes() {
		if n != 1 {
			t.Fatalf("%s got %d", to, n)
		}
	}
}

// TestCappedRecipientsGoAgainAfterTheirWait: when a capped recipient's wait is over, the
// housekeeping puts them back and the completed campaign sends to them again.
func TestCappedRecipientsGoAgainAfterTheirWait(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ids := e.contacts(t, 3)
	e.ms.SetFailDeliveryFor(digits(phoneOf(1)), 131049, "")
	c := e.draft(t, ids, func(c *model.Campaign) { c.Settings.CappedRetryDays = 2 })
	if _, err := e.svc.Launch(e.ctx, e.a, c.ID); err != nil {
		t.Fatal(err)
	}
	e.waitDone(t, c.ID, 30*time.Second)
	wait(t, 10*time.Second, "the capped status", func() bool { return e.progress(t, c.ID).Count(model.RecipientCapped) == 1 })
	// Two days pass.
	if _, err := e.st.DB().Exec(`UPDATE campaign_recipients SET not_before = now() - interval '1 minute' WHERE status = 'capped'`); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Tick(e.ctx); err != nil {
		t.Fatal(err)
	}
	wait(t, 30*time.Second, "the second send", func() bool { return e.sentTimes()[digits(phoneOf(1))] == 2 })
	p := e.waitDone(t, c.ID, 30*time.Second)
	if p.Count(model.RecipientCapped) != 0 || p.Reached(model.RecipientSent) != 3 {
		t.Fatalf("progress %+v", p)
	}
}
