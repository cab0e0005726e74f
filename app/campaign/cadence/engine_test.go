package cadence_test

import (
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"masteria/app/campaign/cadence"
	"masteria/app/crm/board"
	"masteria/app/i18n"
	"masteria/app/model"
)

// fallback is WhatsApp, then an await of its delivery within `within` minutes, then an
// SMS when it was not delivered (timeout, failure, no WhatsApp).
func (e env) fallback(t *testing.T, within int) int64 {
	return e.cadence(t, "Boas-vindas", []model.CadenceStep{
		e.whatsApp("s1", "s2"),
		{ID: "s2", Kind: model.StepAwait, Await: "s1", WithinMinutes: within,
			Branches: []model.AwaitBranch{{Outcomes: []string{model.OutcomeDelivered}, Next: ""}}, Otherwise: "s3"},
		e.smsStep("s3", "", "Oi {{first_name}}, vimos que não deu certo no WhatsApp."),
	})
}

// The Meta sim accepts the message but never delivers it: "sent" decides nothing, and the
// SMS goes when the await's time limit passes.
func TestWhatsAppNeverDeliveredFallsBackToSMS(t *testing.T) {
	e := newEnv(t)
	e.ms.SetAutoStatuses("sent")
	cid := e.fallback(t, 2)
	contact := e.contact(t, 1)
	start := time.Now()
	id := e.enrol(t, cid, contact)
	en := e.waitEnded(t, id, 15*time.Second)
	if en.Status != model.EnrolmentCompleted || line(en, "s1").Outcome != model.OutcomeSent ||
		line(en, "s2").Outcome != model.OutcomeTimeout || line(en, "s3").Status != model.StepDone {
		t.Fatalf("timeline: %s", timeline(en))
	}
	if took := time.Since(start); took < 2*minute {
		t.Fatalf("the SMS went after %v, before the await's limit", took)
	}
	wait(t, 5*time.Second, "the SMS at the sim", func() bool { return e.smsTo(phoneOf(1)) == 1 })
	if n := e.ms.SentTo(waID(1)); n != 1 {
		t.Fatalf("WhatsApp sends: %d", n)
	}
	if en.Steps[0].MessageID == nil || line(en, "s3").MessageID == nil {
		t.Fatalf("send steps without their messages: %s", timeline(en))
	}
}

// Delivered late, but within the limit: the await takes the delivered branch at once (the
// status webhook wakes it) and no SMS goes.
func TestWhatsAppDeliveredLateWithinLimit(t *testing.T) {
	e := newEnv(t)
	e.ms.SetAutoStatuses("sent")
	cid := e.fallback(t, 30) // 12 s
	contact := e.contact(t, 2)
	id := e.enrol(t, cid, contact)
	wait(t, 10*time.Second, "the WhatsApp send", func() bool { return e.ms.SentTo(waID(2)) == 1 })
	time.Sleep(3 * minute / 2)
	if en := e.enrolment(t, id); en.StepID != "s2" || !en.Running() {
		t.Fatalf("before delivery: %s at %s", timeline(en), en.StepID)
	}
	wamid := e.ms.Sent()[0].ID
	start := time.Now()
	if _, err := e.ms.SendStatus(e.ctx, phoneNumberID, wamid, "delivered"); err != nil {
		t.Fatal(err)
	}
	en := e.waitEnded(t, id, 10*time.Second)
	if time.Since(start) > 5*time.Second {
		t.Fatalf("the await woke after %v", time.Since(start))
	}
	if en.Status != model.EnrolmentCompleted || line(en, "s2").Outcome != model.OutcomeDelivered || line(en, "s3").Status != "" {
		t.Fatalf("timeline: %s", timeline(en))
	}
	if n := e.smsTo(phoneOf(2)); n != 0 {
		t.Fatalf("SMS sent: %d", n)
	}
}

// The number has no WhatsApp (131026) or the send fails: the await need not wait for its
// limit, the SMS goes at once, and the outcome says why.
func TestWhatsAppFailedOrNoWhatsAppSendsSMSAtOnce(t *testing.T) {
	e := newEnv(t)
	cid := e.fallback(t, 100) // 40 s: far beyond the test's wait
	e.ms.SetUndeliverable(waID(3), 131026, "Message undeliverable")
	e.ms.SetUndeliverable(waID(4), 131000, "Something went wrong")
	id3 := e.enrol(t, cid, e.contact(t, 3))
	id4 := e.enrol(t, cid, e.contact(t, 4))
	for id, want := range map[int64]string{id3: model.OutcomeNoWhatsApp, id4: model.OutcomeSendFailed} {
		en := e.waitEnded(t, id, 15*time.Second)
		if en.Status != model.EnrolmentCompleted || line(en, "s1").Outcome != want || line(en, "s2").Outcome != want ||
			line(en, "s3").Status != model.StepDone {
			t.Fatalf("want %s: %s", want, timeline(en))
		}
	}
	wait(t, 5*time.Second, "the SMS", func() bool { return e.smsTo(phoneOf(3)) == 1 && e.smsTo(phoneOf(4)) == 1 })
}

// A reply by SMS while the cadence waits on WhatsApp ends the enrolment (it exits on a
// reply on any channel); nothing more is sent.
func TestExitOnSMSReplyWhileWaitingOnWhatsApp(t *testing.T) {
	e := newEnv(t)
	e.ms.SetAutoStatuses("sent")
	cid := e.fallback(t, 100)
	contact := e.contact(t, 5)
	id := e.enrol(t, cid, contact)
	wait(t, 10*time.Second, "the wait on WhatsApp", func() bool {
		en := e.enrolment(t, id)
		return en.StepID == "s2" && line(en, "s2").Status == model.StepWaiting
	})
	if _, err := e.ts.Inbound(e.ctx, e.sid, phoneOf(5), "Oi, recebi sim"); err != nil {
		t.Fatal(err)
	}
	en := e.waitEnded(t, id, 10*time.Second)
	if en.Status != model.EnrolmentExited || en.ExitReason != model.ExitReplied || line(en, "s1").Outcome != model.OutcomeReplied {
		t.Fatalf("timeline: %s", timeline(en))
	}
	time.Sleep(2 * minute)
	if n := e.smsTo(phoneOf(5)); n != 0 {
		t.Fatalf("SMS sent after the reply: %d", n)
	}
}

// Running a step many times at once (retries, two instances) sends it once.
func TestStepRunTwiceSendsOnce(t *testing.T) {
	e := newEnv(t)
	cid := e.cadence(t, "Uma vez", []model.CadenceStep{e.smsStep("s1", "s2", "Uma mensagem só"), {ID: "s2", Kind: model.StepTag, TagID: e.tag(t, "visto")}})
	contact := e.contact(t, 6)
	id := e.enrol(t, cid, contact)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.eng.RunStep(e.ctx, cadence.StepArgs{OrgID: e.a.OrgID, EnrolmentID: id, StepID: "s1"})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// …and again after it ended.
	en := e.waitEnded(t, id, 10*time.Second)
	if _, err := e.eng.RunStep(e.ctx, cadence.StepArgs{OrgID: e.a.OrgID, EnrolmentID: id, StepID: "s1"}); err != nil {
		t.Fatal(err)
	}
	wait(t, 5*time.Second, "the SMS", func() bool { return e.smsTo(phoneOf(6)) >= 1 })
	time.Sleep(500 * time.Millisecond)
	var msgs int
	if err := e.st.DB().QueryRow(`SELECT count(*) FROM messages WHERE org_id = $1 AND direction = 'out'`, e.a.OrgID).Scan(&msgs); err != nil {
		t.Fatal(err)
	}
	if n := e.smsTo(phoneOf(6)); n != 1 || msgs != 1 || en.Status != model.EnrolmentCompleted {
		t.Fatalf("SMS at the sim %d, messages %d: %s", n, msgs, timeline(en))
	}
}

// Enrolling again is a no-op counted in the answer; other orgs' contacts are not found.
func TestEnrolOnceAtATime(t *testing.T) {
	e := newEnv(t)
	cid := e.cadence(t, "Espera", []model.CadenceStep{{ID: "s1", Kind: model.StepWait, WaitMinutes: 1000}})
	a, b := e.contact(t, 7), e.contact(t, 8)
	res, err := e.eng.Enrol(e.ctx, e.a, cid, []int64{a, b, a}, model.EnrolManual)
	if err != nil || res.Enrolled != 2 || res.Already != 0 {
		t.Fatalf("%+v %v", res, err)
	}
	other, _ := e.st.CreateOrg(e.ctx, "Outra")
	p := "+5511999990000"
	foreign, _ := e.st.CreateContact(e.ctx, model.Contact{OrgID: other.ID, Phone: &p})
	res, err = e.eng.Enrol(e.ctx, e.a, cid, []int64{a, b, foreign}, model.EnrolAPI)
	if err != nil || res.Enrolled != 0 || res.Already != 2 || res.NotFound != 1 {
		t.Fatalf("again: %+v %v", res, err)
	}
	if _, err := e.eng.Enrol(e.ctx, model.Actor{OrgID: other.ID, Role: model.RoleOwner}, cid, []int64{foreign}, model.EnrolManual); err == nil {
		t.Fatal("another org enrolled in the cadence")
	}
	if _, err := e.eng.Enrol(e.ctx, model.Actor{OrgID: e.a.OrgID, Role: model.RoleAgent}, cid, []int64{a}, model.EnrolManual); err == nil {
		t.Fatal("an agent enrolled")
	}
}

func (e env) tag(t testing.TB, name string) int64 {
	t.Helper()
	var id int64
	if err := e.st.DB().QueryRow(`INSERT INTO tags (org_id, name) VALUES ($1, $2) RETURNING id`, e.a.OrgID, name).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// The steps that act on the contact and its lead: tag, untag, assign, notify, wait, stage
// (recorded as by the cadence, which does not end on its own move), classify; the goal
// stage ends the enrolment.
func TestActionSteps(t *testing.T) {
	e := newEnv(t)
	hot, cold := e.tag(t, "quente"), e.tag(t, "frio")
	owner := e.member(t)
	p, err := e.inst.App.Board.CreatePipeline(e.ctx, e.a, board.PipelineInput{Name: "Vendas"}, i18n.PTBR)
	if err != nil {
		t.Fatal(err)
	}
	stages, err := e.st.Stages(e.ctx, e.a.OrgID, p.ID)
	if err != nil || len(stages) < 3 {
		t.Fatalf("stages %v %v", stages, err)
	}
	contact := e.contact(t, 9)
	if _, err := e.st.TagContacts(e.ctx, e.a.OrgID, []int64{contact}, cold); err != nil {
		t.Fatal(err)
	}
	if _, err := e.inst.App.Board.CreateLead(e.ctx, e.a, board.LeadInput{StageID: stages[0].ID, Title: "Negócio",
		ContactID: strconv.FormatInt(contact, 10)}); err != nil {
		t.Fatal(err)
	}
	conv, err := e.st.OpenConversation(e.ctx, e.a.OrgID, e.wa.ID, contact)
	if err != nil {
		t.Fatal(err)
	}
	cid := e.cadence(t, "Ações", []model.CadenceStep{
		{ID: "a", Kind: model.StepTag, TagID: hot, Next: "b"},
		{ID: "b", Kind: model.StepUntag, TagID: cold, Next: "c"},
		{ID: "c", Kind: model.StepAssign, UserID: owner, Next: "d"},
		{ID: "d", Kind: model.StepNotify, Note: "Ligar amanhã", Next: "e"},
		{ID: "e", Kind: model.StepWait, WaitMinutes: 1, Next: "f"},
		{ID: "f", Kind: model.StepStage, StageID: stages[1].ID, Next: "g"},
		{ID: "g", Kind: model.StepClassify, Next: "h"},
		{ID: "h", Kind: model.StepStage, StageID: stages[2].ID},
	}, "UPDATE cadences SET exit_on_stage_change = true, goal_stage_id = "+strconv.FormatInt(stages[2].ID, 10))
	id := e.enrol(t, cid, contact)
	en := e.waitEnded(t, id, 15*time.Second)
	if en.Status != model.EnrolmentExited || en.ExitReason != model.ExitGoal {
		t.Fatalf("timeline: %s", timeline(en))
	}
	for _, s := range []string{"a", "b", "c", "d", "e", "f", "g"} {
		if line(en, s).Status != model.StepDone {
			t.Fatalf("step %s: %s", s, timeline(en))
		}
	}
	c, err := e.st.Contact(e.ctx, e.a.OrgID, contact)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.TagIDs) != 1 || c.TagIDs[0] != hot || c.OwnerID == nil || *c.OwnerID != owner {
		t.Fatalf("contact after the steps: tags %v owner %v", c.TagIDs, c.OwnerID)
	}
	var notes, stageEvents int
	_ = e.st.DB().QueryRow(`SELECT count(*) FILTER (WHERE kind = 'cadence_notify'), count(*) FILTER (WHERE kind = 'cadence_stage')
		FROM contact_events WHERE org_id = $1 AND contact_id = $2`, e.a.OrgID, contact).Scan(&notes, &stageEvents)
	if notes != 1 || stageEvents != 2 {
		t.Fatalf("contact events: notify %d stage %d", notes, stageEvents)
	}
	// The notify step's note waits for the agent in the contact's conversation.
	var note string
	_ = e.st.DB().Get(&note, `SELECT body FROM messages WHERE org_id = $1 AND conversation_id = $2 AND direction = 'note'`, e.a.OrgID, conv)
	if note != "@Dono · Ações: Ligar amanhã" {
		t.Fatalf("note in the conversation: %q", note)
	}
	var stage int64
	_ = e.st.DB().QueryRow(`SELECT stage_id FROM leads WHERE org_id = $1 AND contact_id = $2`, e.a.OrgID, contact).Scan(&stage)
	if stage != stages[2].ID {
		t.Fatalf("lead at stage %d", stage)
	}
	if w := line(en, "e"); w.FinishedAt == nil || w.FinishedAt.Sub(w.StartedAt) < minute {
		t.Fatalf("the wait did not wait: %+v", w)
	}
}

// A member's move of the lead ends enrolments of cadences that exit on a stage change, and
// enrols it in the cadences that enrol the stage it entered.
func TestStageChangeExitsAndEnrols(t *testing.T) {
	e := newEnv(t)
	p, err := e.inst.App.Board.CreatePipeline(e.ctx, e.a, board.PipelineInput{Name: "Vendas"}, i18n.PTBR)
	if err != nil {
		t.Fatal(err)
	}
	stages, _ := e.st.Stages(e.ctx, e.a.OrgID, p.ID)
	contact := e.contact(t, 10)
	lead, err := e.inst.App.Board.CreateLead(e.ctx, e.a, board.LeadInput{StageID: stages[0].ID, Title: "Negócio", ContactID: strconv.FormatInt(contact, 10)})
	if err != nil {
		t.Fatal(err)
	}
	long := []model.CadenceStep{{ID: "s1", Kind: model.StepWait, WaitMinutes: 1000}}
	leaving := e.cadence(t, "Sai", long, "UPDATE cadences SET exit_on_stage_change = true")
	staying := e.cadence(t, "Fica", long)
	joining := e.cadence(t, "Entra", long, "UPDATE cadences SET enrol_stage_id = "+strconv.FormatInt(stages[1].ID, 10))
	idLeave, idStay := e.enrol(t, leaving, contact), e.enrol(t, staying, contact)
	if _, err := e.inst.App.Board.MoveLead(e.ctx, e.a, lead.ID, board.MoveInput{StageID: stages[1].ID}); err != nil {
		t.Fatal(err)
	}
	if en := e.enrolment(t, idLeave); en.Status != model.EnrolmentExited || en.ExitReason != model.ExitStage {
		t.Fatalf("leaving: %s", timeline(en))
	}
	if en := e.enrolment(t, idStay); !en.Running() {
		t.Fatalf("staying: %s", timeline(en))
	}
	list, err := e.eng.Enrolments(e.ctx, e.a.OrgID, joining, "", 0, 10)
	if err != nil || len(list) != 1 || list[0].ContactID != contact || list[0].Source != model.EnrolStage {
		t.Fatalf("joining: %+v %v", list, err)
	}
	// A lead created right in the enrolling stage enrols its contact too; a second lead of a
	// contact already in a cadence that exits on a stage change is no change of stage.
	other := e.contact(t, 11)
	if _, err := e.inst.App.Board.CreateLead(e.ctx, e.a, board.LeadInput{StageID: stages[1].ID, Title: "Novo", ContactID: strconv.FormatInt(other, 10)}); err != nil {
		t.Fatal(err)
	}
	idLeave2 := e.enrol(t, leaving, other)
	if _, err := e.inst.App.Board.CreateLead(e.ctx, e.a, board.LeadInput{StageID: stages[0].ID, Title: "Outro", ContactID: strconv.FormatInt(other, 10)}); err != nil {
		t.Fatal(err)
	}
	list, err = e.eng.Enrolments(e.ctx, e.a.OrgID, joining, "", 0, 10)
	if err != nil || len(list) != 2 || list[0].ContactID != other || list[0].Source != model.EnrolStage {
		t.Fatalf("joining after a new lead: %+v %v", list, err)
	}
	if en := e.enrolment(t, idLeave2); !en.Running() {
		t.Fatalf("a new lead ended an enrolment: %s", timeline(en))
	}
}

// Archiving a cadence ends the enrolments still in it at once, each with its event.
func TestArchiveEndsEnrolments(t *testing.T) {
	e := newEnv(t)
	cid := e.cadence(t, "Longa", []model.CadenceStep{{ID: "s1", Kind: model.StepWait, WaitMinutes: 1000}})
	a, b := e.enrol(t, cid, e.contact(t, 12)), e.enrol(t, cid, e.contact(t, 13))
	if err := e.eng.PauseEnrolment(e.ctx, e.a, b); err != nil {
		t.Fatal(err)
	}
	if _, err := e.inst.App.Cadences.Archive(e.ctx, e.a, cid); err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{a, b} {
		if en := e.enrolment(t, id); en.Status != model.EnrolmentExited || en.ExitReason != model.ExitArchived || en.FinishedAt == nil {
			t.Fatalf("enrolment %d after the archive: %s %s", id, en.Status, en.ExitReason)
		}
	}
	var exited int
	_ = e.st.DB().Get(&exited, `SELECT count(*) FROM events WHERE org_id = $1 AND type = 'cadence.exited' AND payload->>'reason' = 'archived'`, e.a.OrgID)
	if exited != 2 {
		t.Fatalf("%d cadence.exited events", exited)
	}
	// Archived is final: a second archive is refused and changes nothing.
	if _, err := e.inst.App.Cadences.Archive(e.ctx, e.a, cid); !errors.Is(err, cadence.ErrStatus) {
		t.Fatalf("second archive: %v", err)
	}
}

func (e env) member(t testing.TB) int64 {
	t.Helper()
	u, err := e.st.CreateUser(e.ctx, "dono"+strconv.FormatInt(time.Now().UnixNano(), 10)+"@example.com", "Dono", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.DB().Exec(`INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, 'manager')`, e.a.OrgID, u.ID); err != nil {
		t.Fatal(err)
	}
	return u.ID
}
