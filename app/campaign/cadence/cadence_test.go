package cadence_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"masteria/app/campaign/cadence"
	"masteria/app/model"
	"masteria/app/store"
	"masteria/app/store/storetest"
)

// org is one organization with what a cadence may name: a WhatsApp Cloud channel with an
// approved template (and one waiting for approval), a QR channel, an SMS channel, a
// stage, a tag, a member, a voice number and a segment.
type org struct {
	a                      model.Actor
	cloud, qr, sms         model.Channel
	approved, pending      model.Template
	stage, goal            model.Stage
	tag                    model.Tag
	user                   int64
	number, segment, media int64
}

func newOrg(t *testing.T, st *store.Store, name string) org {
	t.Helper()
	ctx := context.Background()
	o, err := st.CreateOrg(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	g := org{a: model.Actor{OrgID: o.ID, Role: model.RoleManager}}
	ch := func(kind string) model.Channel {
		c, err := st.CreateChannel(ctx, model.Channel{OrgID: o.ID, Kind: kind, Name: kind + " " + name, Rate: 10})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	g.cloud, g.qr, g.sms = ch(model.KindWhatsAppCloud), ch(model.KindWhatsAppQR), ch(model.KindTwilioSMS)
	body := func(text string) json.RawMessage {
		raw, _ := json.Marshal([]map[string]any{{"type": "BODY", "text": text}})
		return raw
	}
	if err := st.ReplaceTemplates(ctx, o.ID, g.cloud.ID, []model.Template{
		{ProviderID: "boas_vindas", Name: "boas_vindas", Language: "pt_BR", Category: "MARKETING", Status: "APPROVED", Components: body("Olá {{1}}, tudo bem?")},
		{ProviderID: "novidade", Name: "novidade", Language: "pt_BR", Category: "MARKETING", Status: "PENDING", Components: body("Novidade!")},
	}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if g.approved, err = st.TemplateByName(ctx, o.ID, g.cloud.ID, "boas_vindas", "pt_BR"); err != nil {
		t.Fatal(err)
	}
	if g.pending, err = st.TemplateByName(ctx, o.ID, g.cloud.ID, "novidade", "pt_BR"); err != nil {
		t.Fatal(err)
	}
	p, err := st.CreatePipeline(ctx, o.ID, "Vendas", "BRL")
	if err != nil {
		t.Fatal(err)
	}
	if g.stage, err = st.CreateStage(ctx, model.Stage{OrgID: o.ID, PipelineID: p.ID, Name: "Novo", Color: "blue", Outcome: "open"}); err != nil {
		t.Fatal(err)
	}
	if g.goal, err = st.CreateStage(ctx, model.Stage{OrgID: o.ID, PipelineID: p.ID, Name: "Ganho", Color: "green", Outcome: "won", Position: 1}); err != nil {
		t.Fatal(err)
	}
	if g.tag, err = st.CreateTag(ctx, o.ID, "quente", "red"); err != nil {
		t.Fatal(err)
	}
	u, err := st.CreateUser(ctx, strings.ToLower(strings.ReplaceAll(name, " ", ""))+"@example.com", "Ana", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.AddMember(ctx, o.ID, u.ID, model.RoleAgent); err != nil {
		t.Fatal(err)
	}
	g.user = u.ID
	n, err := st.CreateVoiceNumber(ctx, o.ID, model.VoiceNumber{PhoneNumber: "+5511955550000", Source: "linked", Step: "ready", Status: "ready"})
	if err != nil {
		t.Fatal(err)
	}
	g.number = n.ID
	if g.segment, err = st.CreateSegment(ctx, o.ID, "Todos", []byte(`{}`), u.ID); err != nil {
		t.Fatal(err)
	}
	return g
}

// steps is the fallback cadence of this org, every kind of step in it.
func (g org) steps() []model.CadenceStep {
	steps := cadence.ReadyMade(g.cloud.ID, g.sms.ID)
	steps[0].Message = &model.Variant{TemplateID: g.approved.ID, Vars: []model.VarMap{{Source: "field", Field: "first_name", Fallback: "cliente"}}}
	steps[4].NumberID, steps[4].Next = g.number, "s6"
	return append(steps,
		model.CadenceStep{ID: "s6", Kind: model.StepAwait, Await: "s5", WithinMinutes: 30, Next: "",
			Branches: []model.AwaitBranch{{Outcomes: []string{model.OutcomeAnswered}, Next: "s7"}}, Otherwise: "s8"},
		model.CadenceStep{ID: "s7", Kind: model.StepStage, StageID: g.stage.ID, Next: "s8"},
		model.CadenceStep{ID: "s8", Kind: model.StepTag, TagID: g.tag.ID, Next: "s9"},
		model.CadenceStep{ID: "s9", Kind: model.StepUntag, TagID: g.tag.ID, Next: "s10"},
		model.CadenceStep{ID: "s10", Kind: model.StepAssign, UserID: g.user, Next: "s11"},
		model.CadenceStep{ID: "s11", Kind: model.StepNotify, UserID: g.user, Note: "Ligar de novo", Next: "s12"},
		model.CadenceStep{ID: "s12", Kind: model.StepClassify},
	)
}

func (g org) cadence(name string) model.Cadence {
	return model.Cadence{Name: name, Steps: g.steps(), ExitOnReply: true, EnrolSegmentID: &g.segment, GoalStageID: &g.goal.ID}
}

func TestCreateReadListAndStatuses(t *testing.T) {
	st, _ := storetest.New(t)
	ctx := context.Background()
	g := newOrg(t, st, "Loja Um")
	svc := cadence.New(st)
	c, err := svc.Create(ctx, g.a, g.cadence("Boas-vindas"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != model.CadenceDraft || c.CurrentVersion != 1 || len(c.Steps) != 12 {
		t.Fatalf("created %+v", c)
	}
	if m := c.Steps[0].Message; m.Template != "boas_vindas" || m.Language != "pt_BR" {
		t.Fatalf("the template's name and language are filled from the template: %+v", m)
	}
	agent := model.Actor{OrgID: g.a.OrgID, UserID: g.user, Role: model.RoleAgent}
	got, err := svc.Cadence(ctx, agent, c.ID)
	if err != nil || len(got.Steps) != 12 || got.Name != "Boas-vindas" {
		t.Fatalf("an agent reads a cadence: %+v %v", got, err)
	}
	list, err := svc.List(ctx, agent, 0, 50)
	if err != nil || len(list) != 1 || list[0].ID != c.ID {
		t.Fatalf("an agent lists: %+v %v", list, err)
	}
	for name, f := range map[string]func() error{
		"create":   func() error { _, err := svc.Create(ctx, agent, g.cadence("x")); return err },
		"update":   func() error { u := g.cadence("x"); u.ID = c.ID; _, err := svc.Update(ctx, agent, u); return err },
		"activate": func() error { _, err := svc.Activate(ctx, agent, c.ID); return err },
		"pause":    func() error { _, err := svc.Pause(ctx, agent, c.ID); return err },
		"archive":  func() error { _, err := svc.Archive(ctx, agent, c.ID); return err },
	} {
		if err := f(); !errors.Is(err, model.ErrForbidden) {
			t.Errorf("an agent may not %s: %v", name, err)
		}
	}
	if _, err := svc.Pause(ctx, g.a, c.ID); !errors.Is(err, cadence.ErrStatus) {
		t.Fatalf("a draft does not pause: %v", err)
	}
	if c, err = svc.Activate(ctx, g.a, c.ID); err != nil || c.Status != model.CadenceActive {
		t.Fatalf("activate: %+v %v", c, err)
	}
	if c, err = svc.Pause(ctx, g.a, c.ID); err != nil || c.Status != model.CadencePaused {
		t.Fatalf("pause: %+v %v", c, err)
	}
	if c, err = svc.Activate(ctx, g.a, c.ID); err != nil || c.Status != model.CadenceActive {
		t.Fatalf("resume: %+v %v", c, err)
	}
	if c, err = svc.Archive(ctx, g.a, c.ID); err != nil || c.Status != model.CadenceArchived {
		t.Fatalf("archive: %+v %v", c, err)
	}
	u := g.cadence("Depois")
	u.ID = c.ID
	if _, err := svc.Update(ctx, g.a, u); !errors.Is(err, cadence.ErrStatus) {
		t.Fatalf("an archived cadence is closed: %v", err)
	}
	if _, err := svc.Activate(ctx, g.a, c.ID); !errors.Is(err, cadence.ErrStatus) {
		t.Fatalf("an archived cadence does not come back: %v", err)
	}

	// Activation checks again: a template no longer approved keeps a draft a draft.
	d, err := svc.Create(ctx, g.a, g.cadence("Outra"))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.ReplaceTemplates(ctx, g.a.OrgID, g.cloud.ID, nil, time.Now()); err != nil {
		t.Fatal(err)
	}
	_, err = svc.Activate(ctx, g.a, d.ID)
	var v *model.ValidationError
	if !errors.Is(err, cadence.ErrNotReady) || !errors.As(err, &v) || v.Fields["steps.s1.message"] == "" {
		t.Fatalf("activating with a template gone: %v", err)
	}
}

// TestValidation: each wrong cadence is refused on the field that is wrong, or as not
// found when it names what another org owns, and nothing is saved.
func TestValidation(t *testing.T) {
	st, _ := storetest.New(t)
	ctx := context.Background()
	g := newOrg(t, st, "Loja Um")
	h := newOrg(t, st, "Loja Dois")
	svc := cadence.New(st)
	edit := func(f func(c *model.Cadence)) model.Cadence {
		c := g.cadence("Teste")
		f(&c)
		return c
	}
	fields := map[string]struct {
		c     model.Cadence
		field string
	}{
		"no name":              {edit(func(c *model.Cadence) { c.Name = "  " }), "name"},
		"a NUL in the name":    {edit(func(c *model.Cadence) { c.Name = "a\x00b" }), "name"},
		"bad UTF-8 name":       {edit(func(c *model.Cadence) { c.Name = "a\xffb" }), "name"},
		"a name too long":      {edit(func(c *model.Cadence) { c.Name = strings.Repeat("a", 121) }), "name"},
		"no steps":             {edit(func(c *model.Cadence) { c.Steps = nil }), "steps"},
		"a step no channel":    {edit(func(c *model.Cadence) { c.Steps[2].ChannelID = 0 }), "steps.s3.channel_id"},
		"a cycle":              {edit(func(c *model.Cadence) { c.Steps[3].Next = "s1" }), "steps.s1"},
		"SMS on WhatsApp":      {edit(func(c *model.Cadence) { c.Steps[2].ChannelID = g.cloud.ID }), "steps.s3.channel_id"},
		"WhatsApp on SMS":      {edit(func(c *model.Cadence) { c.Steps[0].ChannelID = g.sms.ID }), "steps.s1.channel_id"},
		"template pending":     {edit(func(c *model.Cadence) { c.Steps[0].Message.TemplateID = g.pending.ID }), "steps.s1.message"},
		"template on QR":       {edit(func(c *model.Cadence) { c.Steps[0].ChannelID = g.qr.ID }), "steps.s1.message"},
		"template of another":  {edit(func(c *model.Cadence) { c.Steps[0].Message.TemplateID = h.approved.ID }), "steps.s1.message"},
		"vars missing":         {edit(func(c *model.Cadence) { c.Steps[0].Message.Vars = nil }), "steps.s1.vars"},
		"a bad var":            {edit(func(c *model.Cadence) { c.Steps[0].Message.Vars[0].Field = "cpf" }), "steps.s1.vars"},
		"SMS over 1,600":       {edit(func(c *model.Cadence) { c.Steps[2].Message.Text = strings.Repeat("a", 1601) }), "steps.s3.message"},
		"WhatsApp over 4,096":  {edit(func(c *model.Cadence) { c.Steps[0].Message = &model.Variant{Text: strings.Repeat("a", 4097)} }), "steps.s1.message"},
		"a NUL in an SMS":      {edit(func(c *model.Cadence) { c.Steps[2].Message.Text = "oi\x00" }), "steps.s3.message"},
		"bad UTF-8 in an SMS":  {edit(func(c *model.Cadence) { c.Steps[2].Message.Text = "oi \xc3\x28" }), "steps.s3.message"},
		"broken braces":        {edit(func(c *model.Cadence) { c.Steps[2].Message.Text = "oi {{nome" }), "steps.s3.message"},
		"a NUL in a note":      {edit(func(c *model.Cadence) { c.Steps[10].Note = "a\x00" }), "steps.s11.note"},
		"an agent with spaces": {edit(func(c *model.Cadence) { c.Steps[4].AgentID = "a b" }), "steps.s5.agent_id"},
		"await on its own":     {edit(func(c *model.Cadence) { c.Steps[1].Await = "s3" }), "steps.s2.await"},
	}
	for name, tc := range fields {
		t.Run(name, func(t *testing.T) {
			_, err := svc.Create(ctx, g.a, tc.c)
			var v *model.ValidationError
			if !errors.As(err, &v) || v.Fields[tc.field] == "" {
				t.Fatalf("want an error on %s, got %v", tc.field, err)
			}
		})
	}
	foreign := map[string]model.Cadence{
		"a channel":      edit(func(c *model.Cadence) { c.Steps[2].ChannelID = h.sms.ID }),
		"a stage":        edit(func(c *model.Cadence) { c.Steps[6].StageID = h.stage.ID }),
		"a tag":          edit(func(c *model.Cadence) { c.Steps[7].TagID = h.tag.ID }),
		"a member":       edit(func(c *model.Cadence) { c.Steps[9].UserID = h.user }),
		"a number":       edit(func(c *model.Cadence) { c.Steps[4].NumberID = h.number }),
		"a segment":      edit(func(c *model.Cadence) { c.EnrolSegmentID = &h.segment }),
		"an enrol stage": edit(func(c *model.Cadence) { c.EnrolStageID = &h.stage.ID }),
		"a goal stage":   edit(func(c *model.Cadence) { c.GoalStageID = &h.goal.ID }),
		"a stage, with a field wrong too": edit(func(c *model.Cadence) {
			c.Steps[6].StageID = h.stage.ID
			c.Name = ""
		}),
	}
	for name, c := range foreign {
		t.Run("another org's "+name, func(t *testing.T) {
			if _, err := svc.Create(ctx, g.a, c); !errors.Is(err, model.ErrNotFound) {
				t.Fatalf("want not found, got %v", err)
			}
		})
	}
	if list, err := svc.List(ctx, g.a, 0, 50); err != nil || len(list) != 0 {
		t.Fatalf("nothing was saved: %+v %v", list, err)
	}
	// Another org's cadence is not found, to read or to change.
	c, err := svc.Create(ctx, h.a, h.cadence("Deles"))
	if err != nil {
		t.Fatal(err)
	}
	u := g.cadence("Minha agora")
	u.ID = c.ID
	if _, err := svc.Update(ctx, g.a, u); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("update another org's: %v", err)
	}
	if _, err := svc.Cadence(ctx, g.a, c.ID); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("read another org's: %v", err)
	}
	if _, err := svc.Archive(ctx, g.a, c.ID); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("archive another org's: %v", err)
	}
}

// TestVersions: editing a cadence nobody walked rewrites its version; once somebody is
// enrolled, an edit makes a new version and the enrolled stay on theirs.
func TestVersions(t *testing.T) {
	st, _ := storetest.New(t)
	ctx := context.Background()
	g := newOrg(t, st, "Loja Um")
	svc := cadence.New(st)
	c, err := svc.Create(ctx, g.a, g.cadence("Boas-vindas"))
	if err != nil {
		t.Fatal(err)
	}
	u := g.cadence("Boas-vindas 2")
	u.ID = c.ID
	u.Steps[3].WaitMinutes = 120
	if c, err = svc.Update(ctx, g.a, u); err != nil || c.CurrentVersion != 1 || c.Steps[3].WaitMinutes != 120 || c.Name != "Boas-vindas 2" {
		t.Fatalf("nobody walked it: the version is rewritten: %+v %v", c, err)
	}
	// Somebody joins version 1 (the engine's table, written here by hand).
	contact, err := st.CreateContact(ctx, model.Contact{OrgID: g.a.OrgID, Name: "Bia"})
	if err != nil {
		t.Fatal(err)
	}
	var enrolment int64
	if err := st.DB().GetContext(ctx, &enrolment, `INSERT INTO cadence_enrolments (org_id, cadence_id, version, contact_id, step_id)
		VALUES ($1, $2, 1, $3, 's1') RETURNING id`, g.a.OrgID, c.ID, contact); err != nil {
		t.Fatal(err)
	}
	u.Steps[3].WaitMinutes = 180
	if c, err = svc.Update(ctx, g.a, u); err != nil || c.CurrentVersion != 2 || c.Steps[3].WaitMinutes != 180 {
		t.Fatalf("an edit with people in it makes version 2: %+v %v", c, err)
	}
	old, err := st.CadenceSteps(ctx, g.a.OrgID, c.ID, 1)
	if err != nil || old[3].WaitMinutes != 120 {
		t.Fatalf("version 1 stays as it was: %+v %v", old, err)
	}
	var version int
	if err := st.DB().GetContext(ctx, &version, `SELECT version FROM cadence_enrolments WHERE id = $1`, enrolment); err != nil || version != 1 {
		t.Fatalf("the enrolled stay on theirs: %d %v", version, err)
	}
	// Nobody is on version 2 yet: another edit rewrites it.
	u.Steps[3].WaitMinutes = 240
	if c, err = svc.Update(ctx, g.a, u); err != nil || c.CurrentVersion != 2 || c.Steps[3].WaitMinutes != 240 {
		t.Fatalf("version 2 is rewritten: %+v %v", c, err)
	}
	list, err := svc.List(ctx, g.a, 0, 50)
	if err != nil || len(list) != 1 || list[0].Active != 1 || list[0].CurrentVersion != 2 {
		t.Fatalf("the list counts the enrolled: %+v %v", list, err)
	}
	if _, err := st.DB().ExecContext(ctx, `UPDATE cadence_enrolments SET status = 'completed' WHERE id = $1`, enrolment); err != nil {
		t.Fatal(err)
	}
	if list, err = svc.List(ctx, g.a, 0, 50); err != nil || list[0].Active != 0 || list[0].Completed != 1 {
		t.Fatalf("the list counts who finished: %+v %v", list, err)
	}
}

// TestVersionsUnderAnEnrolment: an enrolment being written while the cadence is edited
// holds the edit until it commits (its key share on the cadence row meets the edit's
// lock), so the edit sees it and keeps the version it started on.
func TestVersionsUnderAnEnrolment(t *testing.T) {
	st, _ := storetest.New(t)
	ctx := context.Background()
	g := newOrg(t, st, "Loja Um")
	svc := cadence.New(st)
	c, err := svc.Create(ctx, g.a, g.cadence("Boas-vindas"))
	if err != nil {
		t.Fatal(err)
	}
	contact, err := st.CreateContact(ctx, model.Contact{OrgID: g.a.OrgID, Name: "Bia"})
	if err != nil {
		t.Fatal(err)
	}
	tx, err := st.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO cadence_enrolments (org_id, cadence_id, version, contact_id, step_id) VALUES ($1, $2, 1, $3, 's1')`,
		g.a.OrgID, c.ID, contact); err != nil {
		t.Fatal(err)
	}
	done := make(chan model.Cadence, 1)
	go func() {
		u := g.cadence("Boas-vindas")
		u.ID = c.ID
		u.Steps[3].WaitMinutes = 99
		out, err := svc.Update(ctx, g.a, u)
		if err != nil {
			t.Error(err)
		}
		done <- out
	}()
	select {
	case out := <-done:
		t.Fatalf("the edit did not wait for the enrolment: version %d", out.CurrentVersion)
	case <-time.After(300 * time.Millisecond):
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	out := <-done
	if out.CurrentVersion != 2 || out.Steps[3].WaitMinutes != 99 {
		t.Fatalf("the edit saw the enrolment and made version 2: %+v", out)
	}
	if v1, err := st.CadenceSteps(ctx, g.a.OrgID, c.ID, 1); err != nil || v1[3].WaitMinutes == 99 {
		t.Fatalf("version 1 kept: %+v %v", v1, err)
	}
}
