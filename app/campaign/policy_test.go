package campaign_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"masteria/app/campaign/policy"
	"masteria/app/inbox"
	"masteria/app/model"
	"masteria/app/store"
)

// TestSMSDedupCampaignAndCadence: an SMS campaign and a cadence-like sender (the contact
// policy's Record in its own transaction, then the inbox's send) send the same text at the
// same moment, from two goroutines, to two contacts who share a phone: the campaign's
// contact has it on file, the cadence reaches the other at it. The Twilio simulator gets one
// SMS; the other send is skipped and says which send went first and when. Three rounds: the
// cadence's transaction holds its slot, uncommitted, while the campaign's runner tries to
// take the same one (it waits on the database constraint, then is refused); the campaign
// goes first and the cadence comes after; both are let go at once.
func TestSMSDedupCampaignAndCadence(t *testing.T) {
	t.Parallel()
	e := newSMSEnv(t)
	pol := policy.New(e.st)
	zone, _ := time.LoadLocation("America/Sao_Paulo")
	// No quiet hours or cap: the test runs at any hour and sends many SMS.
	if err := e.st.SavePolicySettings(e.ctx, e.a.OrgID, model.PolicySettings{SMSDedupHours: 24}); err != nil {
		t.Fatal(err)
	}
	for round := range 3 {
		phone := smsPhone(90+round, 1)
		ana, err := e.st.CreateContact(e.ctx, model.Contact{OrgID: e.a.OrgID, Name: "Ana", Phone: &phone})
		if err != nil {
			t.Fatal(err)
		}
		bia, err := e.st.CreateContact(e.ctx, model.Contact{OrgID: e.a.OrgID, Name: "Bia"}) // no phone of her own
		if err != nil {
			t.Fatal(err)
		}
		text := fmt.Sprintf("Sua consulta é amanhã às 1%dh. Responda SIM para confirmar.", round)
		c := e.draft(t, text, []int64{ana})

		start := make(chan struct{})
		var wg sync.WaitGroup
		var launchErr, cadErr error
		var cadVerdict policy.Verdict
		held := make(chan struct{}) // round 0: the cadence holds its slot before the campaign starts
		wg.Go(func() {
			<-start
			if round == 0 {
				<-held
			}
			_, launchErr = e.svc.Launch(e.ctx, e.a, c.ID)
		})
		wg.Go(func() {
			<-start
			s := policy.Send{OrgID: e.a.OrgID, ContactID: bia, Channel: policy.ChannelSMS, Phone: phone, Text: text,
				Source: policy.SourceCadence, SourceID: 42, SourceName: "Boas-vindas"}
			if round == 1 { // the campaign first
				wait(t, 20*time.Second, "the campaign's SMS", func() bool { return e.sentTimes()[phone] == 1 })
			}
			cadErr = e.st.Tx(e.ctx, func(tx *store.Store) error {
				var err error
				cadVerdict, err = pol.Record(e.ctx, tx, s, time.Now())
				if round == 0 {
					close(held)
				}
				if err != nil || round != 0 {
					return err
				}
				// Hold the slot until the campaign's runner waits on it.
				wait(t, 20*time.Second, "the campaign's runner to wait on the slot", func() bool {
					var n int
					_ = e.st.DB().Get(&n, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
						AND wait_event_type = 'Lock' AND query LIKE '%sms_sends%'`)
					return n > 0
				})
				return nil
			})
			if cadErr == nil && cadVerdict.OK {
				_, cadErr = e.inst.App.Inbox.Start(e.ctx, e.a, inbox.StartInput{ChannelID: e.ch.ID, Phone: phone, Text: text, Source: "api"})
			}
		})
		close(start)
		wg.Wait()
		if launchErr != nil || cadErr != nil {
			t.Fatalf("round %d: launch %v, cadence %v", round, launchErr, cadErr)
		}
		wait(t, 20*time.Second, "the campaign to complete", func() bool { return e.status(t, c.ID) == model.CampaignCompleted })
		var rec struct {
			Status string  `db:"status"`
			Skip   string  `db:"skip_reason"`
			Code   *string `db:"error_code"`
			Title  *string `db:"error_title"`
		}
		if err := e.st.DB().Get(&rec, `SELECT status, skip_reason, error_code, error_title FROM campaign_recipients WHERE org_id = $1 AND campaign_id = $2`, e.a.OrgID, c.ID); err != nil {
			t.Fatal(err)
		}
		wait(t, 10*time.Second, "the SMS at the simulator", func() bool { return e.sentTimes()[phone] >= 1 })
		time.Sleep(200 * time.Millisecond) // a second SMS, if one went, lands too
		if n := e.sentTimes()[phone]; n != 1 {
			t.Fatalf("round %d: %d SMS to %s, want 1 (campaign %+v, cadence %+v)", round, n, phone, rec, cadVerdict)
		}
		var first time.Time
		if cadVerdict.OK { // the cadence went first: the campaign's recipient is skipped with the reason
			if err := e.st.DB().Get(&first, `SELECT sent_at FROM sms_sends WHERE org_id = $1 AND phone = $2 AND source = 'cadence'`, e.a.OrgID, phone); err != nil {
				t.Fatal(err)
			}
			want := "same SMS sent at " + first.In(zone).Format("15:04") + " by cadence Boas-vindas"
			if rec.Status != model.RecipientSkipped || rec.Skip != model.SkipDuplicateSMS || rec.Code == nil || *rec.Code != model.SkipDuplicateSMS || rec.Title == nil || *rec.Title != want {
				t.Fatalf("round %d: the campaign's recipient is %+v, want skipped: %s", round, rec, want)
			}
			t.Logf("round %d: cadence first; campaign skipped: %s", round, *rec.Title)
		} else { // the campaign went first: the cadence is told so
			if err := e.st.DB().Get(&first, `SELECT sent_at FROM sms_sends WHERE org_id = $1 AND phone = $2 AND source = 'campaign'`, e.a.OrgID, phone); err != nil {
				t.Fatal(err)
			}
			want := "same SMS sent at " + first.In(zone).Format("15:04") + " by campaign " + c.Name
			if rec.Status == model.RecipientSkipped || cadVerdict.Reason != policy.ReasonDuplicateSMS || cadVerdict.Detail != want {
				t.Fatalf("round %d: campaign %+v, cadence %+v, want %q", round, rec, cadVerdict, want)
			}
			t.Logf("round %d: campaign first; cadence skipped: %s", round, cadVerdict.Detail)
		}
	}
}
