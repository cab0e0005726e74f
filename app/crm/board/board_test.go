package board_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"masteria/app/crm/board"
	"masteria/app/events"
	"masteria/app/i18n"
	"masteria/app/model"
	"masteria/app/store"
	"masteria/app/store/storetest"
)

// fixture is one test's database with an org, its owner and the board service.
type fixture struct {
	t     *testing.T
	ctx   context.Context
	st    *store.Store
	svc   *board.Service
	org   model.Org
	owner model.User
	as    model.Actor
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	t.Parallel()
	st, _ := storetest.New(t)
	f := &fixture{t: t, ctx: context.Background(), st: st, svc: board.New(st)}
	f.org, f.owner, f.as = f.newOrg("Loja da Ana", "ana")
	return f
}

var seq sync.Mutex
var n int

func (f *fixture) newOrg(name, who string) (model.Org, model.User, model.Actor) {
	f.t.Helper()
	seq.Lock()
	n++
	email := fmt.Sprintf("%s.%d@loja.com.br", who, n)
	seq.Unlock()
	o, err := f.st.CreateOrg(f.ctx, name)
	if err != nil {
		f.t.Fatal(err)
	}
	u := f.user(o, email, who, model.RoleOwner)
	return o, u, model.Actor{UserID: u.ID, OrgID: o.ID, Role: model.RoleOwner}
}

func (f *fixture) user(o model.Org, email, name string, role model.Role) model.User {
	f.t.Helper()
	u, err := f.st.CreateUser(f.ctx, email, name, nil, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.st.AddMember(f.ctx, o.ID, u.ID, role); err != nil {
		f.t.Fatal(err)
	}
	return u
}

// pipeline is the org's default pipeline and its stages.
func (f *fixture) pipeline(a model.Actor) (model.Pipeline, []model.Stage) {
	f.t.Helper()
	p, err := f.svc.EnsurePipeline(f.ctx, a, i18n.PTBR)
	if err != nil {
		f.t.Fatal(err)
	}
	ss, err := f.svc.Stages(f.ctx, a.OrgID, p.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return p, ss
}

func (f *fixture) lead(a model.Actor, stage model.Stage, title, phone string) model.Lead {
	f.t.Helper()
	l, err := f.svc.CreateLead(f.ctx, a, board.LeadInput{StageID: stage.ID, Title: title, Value: "1.500,00",
		ContactName: "Cliente " + title, ContactPhone: phone})
	if err != nil {
		f.t.Fatalf("create lead %s: %v", title, err)
	}
	return l
}

// column is the ids of a stage's leads in board order, and checks their keys are strictly
// increasing.
func (f *fixture) column(orgID int64, stage model.Stage) []int64 {
	f.t.Helper()
	ls, err := f.st.StageCards(f.ctx, orgID, stage.ID, model.LeadFilter{}, "", 10000)
	if err != nil {
		f.t.Fatal(err)
	}
	ids := make([]int64, len(ls))
	for i, l := range ls {
		ids[i] = l.ID
		if i > 0 && !(ls[i-1].Rank < l.Rank) {
			f.t.Fatalf("keys not strictly increasing: %q then %q", ls[i-1].Rank, l.Rank)
		}
	}
	return ids
}

func (f *fixture) events(orgID int64, typ string) []map[string]any {
	f.t.Helper()
	var raw []string
	if err := f.st.DB().Select(&raw, `SELECT payload::text FROM events WHERE org_id = $1 AND type = $2 ORDER BY id`, orgID, typ); err != nil {
		f.t.Fatal(err)
	}
	out := make([]map[string]any, len(raw))
	for i, r := range raw {
		_ = json.Unmarshal([]byte(r), &out[i])
	}
	return out
}

func (f *fixture) count(query string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.st.DB().Get(&n, query, args...); err != nil {
		f.t.Fatal(err)
	}
	return n
}

func ids(ls ...model.Lead) []int64 {
	out := make([]int64, len(ls))
	for i, l := range ls {
		out[i] = l.ID
	}
	return out
}

func TestEnsurePipelineCreatesTheDefaultOnce(t *testing.T) {
	f := newFixture(t)
	var wg sync.WaitGroup
	got := make([]model.Pipeline, 4)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := f.svc.EnsurePipeline(f.ctx, f.as, i18n.PTBR)
			if err != nil {
				t.Error(err)
			}
			got[i] = p
		}()
	}
	wg.Wait()
	for _, p := range got {
		if p.ID != got[0].ID || p.Name != "Vendas" || p.Currency != "BRL" {
			t.Fatalf("pipelines %+v", got)
		}
	}
	if n := f.count(`SELECT count(*) FROM pipelines WHERE org_id = $1`, f.org.ID); n != 1 {
		t.Fatalf("%d pipelines, want 1", n)
	}
	ss, _ := f.svc.Stages(f.ctx, f.org.ID, got[0].ID)
	var names []string
	for _, s := range ss {
		names = append(names, s.Name+":"+s.Outcome)
		if s.Description == "" {
			t.Errorf("stage %s has no description", s.Name)
		}
	}
	want := []string{"Novo:open", "Qualificado:open", "Proposta:open", "Negociação:open", "Ganho:won", "Perdido:lost"}
	if !slices.Equal(names, want) {
		t.Fatalf("stages %v, want %v", names, want)
	}
	if evs := f.events(f.org.ID, events.PipelineChanged.Name()); len(evs) != 1 {
		t.Fatalf("%d pipeline events, want 1", len(evs))
	}
}

func TestPipelineAndStageCRUD(t *testing.T) {
	f := newFixture(t)
	p, ss := f.pipeline(f.as)

	// A second pipeline: starter stages; the same name again is a field error.
	p2, err := f.svc.CreatePipeline(f.ctx, f.as, board.PipelineInput{Name: "  Pós-venda  ", Currency: "USD"}, i18n.EN)
	if err != nil || p2.Name != "Pós-venda" || p2.Currency != "USD" {
		t.Fatalf("create: %+v %v", p2, err)
	}
	if st, _ := f.svc.Stages(f.ctx, f.org.ID, p2.ID); len(st) != 4 || st[0].Name != "New" {
		t.Fatalf("starter stages %+v", st)
	}
	var v *model.ValidationError
	if _, err := f.svc.CreatePipeline(f.ctx, f.as, board.PipelineInput{Name: "pós-VENDA"}, i18n.EN); !errors.As(err, &v) || v.Fields["name"] != "board.error.pipeline_taken" {
		t.Fatalf("duplicate name: %v", err)
	}
	if _, err := f.svc.CreatePipeline(f.ctx, f.as, board.PipelineInput{Name: " ", Currency: "XYZ"}, i18n.EN); !errors.As(err, &v) || v.Fields["name"] == "" || v.Fields["currency"] == "" {
		t.Fatalf("bad input: %v", err)
	}
	if p2, err = f.svc.UpdatePipeline(f.ctx, f.as, p2.ID, board.PipelineInput{Name: "Renovações", Currency: "BRL"}); err != nil || p2.Name != "Renovações" {
		t.Fatalf("update: %+v %v", p2, err)
	}

	// Stages: add, edit, reorder by steps and by a full order.
	st, err := f.svc.CreateStage(f.ctx, f.as, p.ID, board.StageInput{Name: "Demonstração", Color: "teal", Description: "Viu o produto funcionando."})
	if err != nil || st.Position != 7 {
		t.Fatalf("create stage: %+v %v", st, err)
	}
	if _, err := f.svc.CreateStage(f.ctx, f.as, p.ID, board.StageInput{Name: "x", Color: "neon", Outcome: "maybe"}); !errors.As(err, &v) || v.Fields["color"] == "" || v.Fields["outcome"] == "" {
		t.Fatalf("bad stage: %v", err)
	}
	if st, err = f.svc.UpdateStage(f.ctx, f.as, st.ID, board.StageInput{Name: "Demo", Color: "pink", Outcome: "open"}); err != nil || st.Name != "Demo" || st.Color != "pink" {
		t.Fatalf("update stage: %+v %v", st, err)
	}
	if _, err := f.svc.StepStage(f.ctx, f.as, st.ID, -1); err != nil {
		t.Fatal(err)
	}
	order := func() []string {
		all, _ := f.svc.Stages(f.ctx, f.org.ID, p.ID)
		var out []string
		for _, s := range all {
			out = append(out, s.Name)
		}
		return out
	}
	if got := order(); !slices.Equal(got, []string{"Novo", "Qualificado", "Proposta", "Negociação", "Ganho", "Demo", "Perdido"}) {
		t.Fatalf("after a step left: %v", got)
	}
	if _, err := f.svc.StepStage(f.ctx, f.as, ss[0].ID, -1); err != nil { // already first: stays
		t.Fatal(err)
	}
	all, _ := f.svc.Stages(f.ctx, f.org.ID, p.ID)
	var rev []int64
	for i := len(all) - 1; i >= 0; i-- {
		rev = append(rev, all[i].ID)
	}
	if err := f.svc.ReorderStages(f.ctx, f.as, p.ID, rev); err != nil {
		t.Fatal(err)
	}
	if got := order(); got[0] != "Perdido" || got[6] != "Novo" {
		t.Fatalf("after reversing: %v", got)
	}
	if err := f.svc.ReorderStages(f.ctx, f.as, p.ID, rev[1:]); !errors.Is(err, model.ErrInvalid) {
		t.Fatalf("an order missing a stage: %v", err)
	}
	if err := f.svc.ReorderStages(f.ctx, f.as, p.ID, append(rev[1:], p2.ID)); !errors.Is(err, model.ErrInvalid) {
		t.Fatalf("an order with a foreign id: %v", err)
	}

	// A stage or pipeline with leads is not deleted; an empty one is.
	f.lead(f.as, ss[0], "Bolo de casamento", "+5511987650001")
	var hl *board.HasLeadsError
	if err := f.svc.DeleteStage(f.ctx, f.as, ss[0].ID); !errors.As(err, &hl) || hl.Leads != 1 || !errors.Is(err, model.ErrConflict) {
		t.Fatalf("delete a stage with leads: %v", err)
	}
	if err := f.svc.DeletePipeline(f.ctx, f.as, p.ID); !errors.As(err, &hl) || hl.Leads != 1 {
		t.Fatalf("delete a pipeline with leads: %v", err)
	}
	if err := f.svc.DeleteStage(f.ctx, f.as, st.ID); err != nil {
		t.Fatalf("delete an empty stage: %v", err)
	}
	p2Stages, _ := f.svc.Stages(f.ctx, f.org.ID, p2.ID)
	for _, s := range p2Stages[1:] {
		if err := f.svc.DeleteStage(f.ctx, f.as, s.ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.svc.DeleteStage(f.ctx, f.as, p2Stages[0].ID); !errors.Is(err, board.ErrLastStage) {
		t.Fatalf("delete the last stage: %v", err)
	}
	if err := f.svc.DeletePipeline(f.ctx, f.as, p2.ID); err != nil {
		t.Fatalf("delete an empty pipeline: %v", err)
	}
	if n := f.count(`SELECT count(*) FROM stages WHERE pipeline_id = $1`, p2.ID); n != 0 {
		t.Fatalf("%d stages left of the deleted pipeline", n)
	}

	// Another org cannot touch them.
	_, _, other := f.newOrg("Outra Loja", "bia")
	for name, err := range map[string]error{
		"update pipeline": second(f.svc.UpdatePipeline(f.ctx, other, p.ID, board.PipelineInput{Name: "Hacked"})),
		"delete pipeline": f.svc.DeletePipeline(f.ctx, other, p.ID),
		"create stage":    second(f.svc.CreateStage(f.ctx, other, p.ID, board.StageInput{Name: "Hacked"})),
		"update stage":    second(f.svc.UpdateStage(f.ctx, other, ss[1].ID, board.StageInput{Name: "Hacked"})),
		"delete stage":    f.svc.DeleteStage(f.ctx, other, ss[1].ID),
		"step stage":      second(f.svc.StepStage(f.ctx, other, ss[1].ID, 1)),
		"reorder":         f.svc.ReorderStages(f.ctx, other, p.ID, rev),
	} {
		if !errors.Is(err, model.ErrNotFound) {
			t.Errorf("%s from another org: %v, want ErrNotFound", name, err)
		}
	}
	if got := order(); got[0] != "Perdido" || slices.Contains(got, "Hacked") {
		t.Fatalf("another org changed the stages: %v", got)
	}
	var actions []string
	_ = f.st.DB().Select(&actions, `SELECT action FROM audit_log WHERE org_id = $1 ORDER BY id`, f.org.ID)
	for _, want := range []string{"pipeline.created", "pipeline.updated", "stage.created", "stage.updated", "stages.reordered", "stage.deleted", "pipeline.deleted"} {
		if !slices.Contains(actions, want) {
			t.Errorf("no %s in the audit log %v", want, actions)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func TestCreateLead(t *testing.T) {
	f := newFixture(t)
	_, ss := f.pipeline(f.as)
	bruno := f.user(f.org, "bruno@loja.com.br", "Bruno", model.RoleAgent)

	l, err := f.svc.CreateLead(f.ctx, f.as, board.LeadInput{StageID: ss[0].ID, Title: " Festa  de 15 anos ", Value: "R$ 2.350,50",
		OwnerID: fmt.Sprint(bruno.ID), Source: "Instagram", Notes: "Quer orçamento até sexta.",
		ContactName: "Carla Dias", ContactPhone: "(11) 98765-4321"})
	if err != nil {
		t.Fatal(err)
	}
	if l.Title != "Festa de 15 anos" || l.ValueCents != 235050 || l.OwnerName == nil || *l.OwnerName != "Bruno" ||
		l.ContactName != "Carla Dias" || l.ContactPhone == nil || *l.ContactPhone != "+5511987654321" || l.Source != "Instagram" || l.CreatedBy == nil {
		t.Fatalf("lead %+v", l)
	}
	// The same phone finds the same contact, which keeps its name; new leads go on top.
	l2, err := f.svc.CreateLead(f.ctx, f.as, board.LeadInput{StageID: ss[0].ID, Title: "Bolo", ContactName: "Carla D.", ContactPhone: "+5511987654321"})
	if err != nil || l2.ContactID != l.ContactID || l2.ContactName != "Carla Dias" {
		t.Fatalf("same phone: %+v %v", l2, err)
	}
	// An existing contact by id.
	l3, err := f.svc.CreateLead(f.ctx, f.as, board.LeadInput{StageID: ss[1].ID, Title: "Doces", ContactID: fmt.Sprint(l.ContactID)})
	if err != nil || l3.ContactID != l.ContactID {
		t.Fatalf("by contact id: %+v %v", l3, err)
	}
	if got := f.column(f.org.ID, ss[0]); !slices.Equal(got, ids(l2, l)) {
		t.Fatalf("column %v, want the newest on top %v", got, ids(l2, l))
	}
	if evs := f.events(f.org.ID, events.LeadCreated.Name()); len(evs) != 3 || evs[0]["lead_id"] != float64(l.ID) || evs[0]["stage_id"] != float64(ss[0].ID) {
		t.Fatalf("created events %v", evs)
	}

	// Bad input: field errors, nothing written.
	otherOrg, other, otherActor := f.newOrg("Outra Loja", "caio")
	otherContact, _ := f.st.LeadContact(f.ctx, otherOrg.ID, "Estranho", nil)
	before := f.count(`SELECT count(*) FROM leads`)
	contacts := f.count(`SELECT count(*) FROM contacts`)
	for _, c := range []struct {
		in     board.LeadInput
		fields []string
	}{
		{board.LeadInput{Title: " ", Value: "-10", ContactName: "A"}, []string{"title", "value"}},
		{board.LeadInput{Title: "T", Value: "dez reais", ContactName: "A"}, []string{"value"}},
		{board.LeadInput{Title: "T", OwnerID: fmt.Sprint(other.ID), ContactName: "A"}, []string{"owner"}},
		{board.LeadInput{Title: "T", OwnerID: "abc", ContactName: "A"}, []string{"owner"}},
		{board.LeadInput{Title: "T", ContactName: ""}, []string{"contact_name"}},
		{board.LeadInput{Title: "T", ContactName: "A", ContactPhone: "11 98765"}, []string{"contact_phone"}},
		{board.LeadInput{Title: "T", ContactID: fmt.Sprint(otherContact)}, []string{"contact"}},
	} {
		c.in.StageID = ss[0].ID
		_, err := f.svc.CreateLead(f.ctx, f.as, c.in)
		var v *model.ValidationError
		if !errors.As(err, &v) {
			t.Errorf("%+v: err %v, want field errors %v", c.in, err, c.fields)
			continue
		}
		for _, field := range c.fields {
			if v.Fields[field] == "" {
				t.Errorf("%+v: no error on %s (%v)", c.in, field, v.Fields)
			}
		}
		if c.in.Value == "-10" && v.Fields["value"] != "board.error.value_negative" {
			t.Errorf("negative value: %q", v.Fields["value"])
		}
	}
	// A stage of another org is not found.
	_, otherStages := f.pipeline(otherActor)
	if _, err := f.svc.CreateLead(f.ctx, f.as, board.LeadInput{StageID: otherStages[0].ID, Title: "T", ContactName: "A"}); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("a stage of another org: %v", err)
	}
	if f.count(`SELECT count(*) FROM leads`) != before || f.count(`SELECT count(*) FROM contacts`) != contacts {
		t.Fatal("refused leads wrote rows")
	}
}

func TestUpdateAndDeleteLead(t *testing.T) {
	f := newFixture(t)
	_, ss := f.pipeline(f.as)
	agent := f.user(f.org, "davi@loja.com.br", "Davi", model.RoleAgent)
	asAgent := model.Actor{UserID: agent.ID, OrgID: f.org.ID, Role: model.RoleAgent}
	l := f.lead(f.as, ss[0], "Coxinhas", "+5511987650002")

	u, err := f.svc.UpdateLead(f.ctx, f.as, l.ID, board.LeadInput{StageID: ss[2].ID, Title: "Coxinhas (500)", Value: "1,234.56",
		OwnerID: fmt.Sprint(agent.ID), Source: "Site", Notes: "Retirar no sábado."})
	if err != nil {
		t.Fatal(err)
	}
	if u.Title != "Coxinhas (500)" || u.ValueCents != 123456 || u.StageID != ss[2].ID || *u.OwnerName != "Davi" || u.Notes != "Retirar no sábado." || u.MovedAt == nil {
		t.Fatalf("updated %+v", u)
	}
	if n := f.count(`SELECT count(*) FROM lead_moves WHERE lead_id = $1`, l.ID); n != 1 {
		t.Fatalf("%d moves after a stage change in the form", n)
	}
	if len(f.events(f.org.ID, events.LeadUpdated.Name())) != 1 || len(f.events(f.org.ID, events.LeadMoved.Name())) != 1 {
		t.Fatal("update events missing")
	}

	// An agent deletes their own lead, not another's.
	theirs := f.lead(f.as, ss[0], "Empadas", "+5511987650003")
	if err := f.svc.DeleteLead(f.ctx, asAgent, theirs.ID); !errors.Is(err, model.ErrForbidden) {
		t.Fatalf("agent deletes another's lead: %v", err)
	}
	if err := f.svc.DeleteLead(f.ctx, asAgent, l.ID); err != nil {
		t.Fatalf("agent deletes their own lead: %v", err)
	}
	if err := f.svc.DeleteLead(f.ctx, f.as, theirs.ID); err != nil {
		t.Fatalf("owner deletes: %v", err)
	}
	if err := f.svc.DeleteLead(f.ctx, f.as, theirs.ID); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
	if n := f.count(`SELECT count(*) FROM leads WHERE org_id = $1`, f.org.ID); n != 0 {
		t.Fatalf("%d leads left", n)
	}
	if evs := f.events(f.org.ID, events.LeadDeleted.Name()); len(evs) != 2 {
		t.Fatalf("deleted events %v", evs)
	}
}

func TestMoveWithinAndBetweenColumns(t *testing.T) {
	f := newFixture(t)
	_, ss := f.pipeline(f.as)
	a, b := ss[0], ss[1]
	// Created on top one after the other: the column reads e d c b a.
	var ls []model.Lead
	for i, name := range []string{"a", "b", "c", "d", "e"} {
		ls = append(ls, f.lead(f.as, a, name, fmt.Sprintf("+55119876500%02d", 10+i)))
	}
	la, lb, lc, ld, le := ls[0], ls[1], ls[2], ls[3], ls[4]
	if got := f.column(f.org.ID, a); !slices.Equal(got, ids(le, ld, lc, lb, la)) {
		t.Fatalf("start %v", got)
	}
	move := func(l model.Lead, st model.Stage, after, before int64) board.Placement {
		t.Helper()
		pl, err := f.svc.MoveLead(f.ctx, f.as, l.ID, board.MoveInput{StageID: st.ID, AfterID: after, BeforeID: before})
		if err != nil {
			t.Fatalf("move %s: %v", l.Title, err)
		}
		return pl
	}
	// Within the column: a to the top, e to the bottom, c between b and d (now above d).
	move(la, a, 0, le.ID)
	move(le, a, lb.ID, 0)
	pl := move(lc, a, ld.ID, lb.ID)
	if got := f.column(f.org.ID, a); !slices.Equal(got, ids(la, ld, lc, lb, le)) {
		t.Fatalf("after moves within: %v", got)
	}
	if pl.AfterID != ld.ID || pl.BeforeID != lb.ID || pl.FromID != a.ID {
		t.Fatalf("placement %+v", pl)
	}
	// Between columns: into the empty column, then above and below it.
	move(ld, b, 0, 0)
	move(la, b, 0, ld.ID)
	move(le, b, ld.ID, 0)
	if got := f.column(f.org.ID, b); !slices.Equal(got, ids(la, ld, le)) {
		t.Fatalf("column b %v", got)
	}
	if got := f.column(f.org.ID, a); !slices.Equal(got, ids(lc, lb)) {
		t.Fatalf("column a %v", got)
	}
	// Neighbours that left the column meanwhile: after the one still there, else before
	// the other, else the top.
	move(lb, b, lc.ID, le.ID) // lc is not in b: before le
	if got := f.column(f.org.ID, b); !slices.Equal(got, ids(la, ld, lb, le)) {
		t.Fatalf("stale after_id: %v", got)
	}
	move(lc, b, 999999, 999998) // unknown: top
	if got := f.column(f.org.ID, b); !slices.Equal(got, ids(lc, la, ld, lb, le)) {
		t.Fatalf("stale both: %v", got)
	}
	// One card up and down from the keyboard.
	if _, ok, err := f.svc.StepLead(f.ctx, f.as, lb.ID, -1); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if _, ok, err := f.svc.StepLead(f.ctx, f.as, lc.ID, -1); err != nil || ok {
		t.Fatalf("the top card moved up: %v %v", ok, err)
	}
	if _, ok, err := f.svc.StepLead(f.ctx, f.as, la.ID, 1); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if got := f.column(f.org.ID, b); !slices.Equal(got, ids(lc, lb, la, ld, le)) {
		t.Fatalf("after steps: %v", got)
	}
}

func TestMoveRecordsHistoryAndEvent(t *testing.T) {
	f := newFixture(t)
	p, ss := f.pipeline(f.as)
	l := f.lead(f.as, ss[0], "Torta", "+5511987650100")
	other := f.lead(f.as, ss[1], "Pudim", "+5511987650101")

	pl, err := f.svc.MoveLead(f.ctx, f.as, l.ID, board.MoveInput{StageID: ss[1].ID, AfterID: other.ID})
	if err != nil {
		t.Fatal(err)
	}
	if pl.Lead.StageID != ss[1].ID || pl.Lead.MovedAt == nil || pl.Lead.MovedByName == nil || *pl.Lead.MovedByName != "ana" {
		t.Fatalf("moved lead %+v", pl.Lead)
	}
	moves, err := f.svc.LeadMoves(f.ctx, f.org.ID, l.ID)
	if err != nil || len(moves) != 1 || moves[0].FromName != "Novo" || moves[0].ToName != "Qualificado" || *moves[0].ActorName != "ana" {
		t.Fatalf("moves %+v %v", moves, err)
	}
	var kind, data string
	if err := f.st.DB().QueryRow(`SELECT kind, data::text FROM contact_events WHERE org_id = $1 AND contact_id = $2 AND kind = 'stage_changed'`, f.org.ID, l.ContactID).Scan(&kind, &data); err != nil {
		t.Fatal(err)
	}
	var d map[string]any
	_ = json.Unmarshal([]byte(data), &d)
	if kind != "stage_changed" || d["lead_id"] != float64(l.ID) || d["from"] != float64(ss[0].ID) || d["to"] != float64(ss[1].ID) ||
		d["from_name"] != "Novo" || d["to_name"] != "Qualificado" {
		t.Fatalf("timeline %s %s", kind, data)
	}
	evs := f.events(f.org.ID, events.LeadMoved.Name())
	if len(evs) != 1 {
		t.Fatalf("%d moved events", len(evs))
	}
	e := evs[0]
	if e["lead_id"] != float64(l.ID) || e["pipeline_id"] != float64(p.ID) || e["from_stage_id"] != float64(ss[0].ID) ||
		e["to_stage_id"] != float64(ss[1].ID) || e["after_id"] != float64(other.ID) || e["before_id"] != float64(0) || e["rank"] != pl.Lead.Rank {
		t.Fatalf("event %v", e)
	}
	// A move within the column is no change of stage: no history line, still an event.
	if _, err := f.svc.MoveLead(f.ctx, f.as, l.ID, board.MoveInput{StageID: ss[1].ID, BeforeID: other.ID}); err != nil {
		t.Fatal(err)
	}
	if n := f.count(`SELECT count(*) FROM lead_moves`); n != 1 {
		t.Fatalf("%d lead moves after a reorder", n)
	}
	if n := f.count(`SELECT count(*) FROM contact_events WHERE kind = 'stage_changed'`); n != 1 {
		t.Fatalf("%d stage lines on the timeline after a reorder", n)
	}
	if len(f.events(f.org.ID, events.LeadMoved.Name())) != 2 {
		t.Fatal("no event for the reorder")
	}
}

func TestMoveToForeignStageIsNotFound(t *testing.T) {
	f := newFixture(t)
	_, ss := f.pipeline(f.as)
	p2, err := f.svc.CreatePipeline(f.ctx, f.as, board.PipelineInput{Name: "Outro funil"}, i18n.PTBR)
	if err != nil {
		t.Fatal(err)
	}
	ss2, _ := f.svc.Stages(f.ctx, f.org.ID, p2.ID)
	o2, _, a2 := f.newOrg("Loja Vizinha", "eva")
	_, foreign := f.pipeline(a2)
	l := f.lead(f.as, ss[0], "Sonho", "+5511987650200")
	theirs := f.lead(a2, foreign[0], "Deles", "+5511987650201")

	for name, in := range map[string]board.MoveInput{
		"another pipeline":  {StageID: ss2[0].ID},
		"another org":       {StageID: foreign[0].ID},
		"no stage":          {StageID: 987654},
		"foreign neighbour": {StageID: foreign[0].ID, AfterID: theirs.ID},
	} {
		if _, err := f.svc.MoveLead(f.ctx, f.as, l.ID, in); !errors.Is(err, model.ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", name, err)
		}
	}
	// Another org's lead cannot be moved, even into its own org's stage.
	if _, err := f.svc.MoveLead(f.ctx, f.as, theirs.ID, board.MoveInput{StageID: foreign[1].ID}); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("move another org's lead: %v", err)
	}
	if _, _, err := f.svc.StepLead(f.ctx, f.as, theirs.ID, 1); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("step another org's lead: %v", err)
	}
	if _, err := f.svc.UpdateLead(f.ctx, f.as, l.ID, board.LeadInput{Title: "Sonho", StageID: ss2[1].ID}); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("update into another pipeline: %v", err)
	}
	if err := f.svc.DeleteLead(f.ctx, f.as, theirs.ID); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("delete another org's lead: %v", err)
	}
	got, _ := f.svc.Lead(f.ctx, f.org.ID, l.ID)
	if got.StageID != ss[0].ID || got.Rank != l.Rank || got.Title != "Sonho" {
		t.Fatalf("the refused moves changed the lead: %+v", got)
	}
	if len(f.events(f.org.ID, events.LeadMoved.Name()))+len(f.events(o2.ID, events.LeadMoved.Name())) != 0 {
		t.Fatal("a refused move published an event")
	}
}

// TestConcurrentMovesInOneColumn has two agents drop two different cards into the same
// column between the same two neighbours at the same moment, again and again. The stage
// lock makes the second move read the first one's key, so the keys stay unique and the
// order is total, and every reader sees the same order.
func TestConcurrentMovesInOneColumn(t *testing.T) {
	f := newFixture(t)
	_, ss := f.pipeline(f.as)
	agent := f.user(f.org, "gil@loja.com.br", "Gil", model.RoleAgent)
	agents := []model.Actor{f.as, {UserID: agent.ID, OrgID: f.org.ID, Role: model.RoleAgent}}
	dst := ss[2]
	top := f.lead(f.as, dst, "topo", "+5511987650300")
	bottom := f.lead(f.as, dst, "base", "+5511987650301")
	if _, err := f.svc.MoveLead(f.ctx, f.as, bottom.ID, board.MoveInput{StageID: dst.ID, AfterID: top.ID}); err != nil {
		t.Fatal(err)
	}
	var movers []model.Lead
	for i := 0; i < 2; i++ {
		movers = append(movers, f.lead(f.as, ss[0], fmt.Sprintf("card %d", i), fmt.Sprintf("+55119876503%02d", 10+i)))
	}
	for round := 0; round < 20; round++ {
		// Both back to the first column, then both into dst between top and bottom at once.
		for _, m := range movers {
			if _, err := f.svc.MoveLead(f.ctx, f.as, m.ID, board.MoveInput{StageID: ss[0].ID}); err != nil {
				t.Fatal(err)
			}
		}
		start := make(chan struct{})
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range movers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[i] = f.svc.MoveLead(f.ctx, agents[i], movers[i].ID, board.MoveInput{StageID: dst.ID, AfterID: top.ID, BeforeID: bottom.ID})
			}()
		}
		close(start)
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		got := f.column(f.org.ID, dst) // checks the keys strictly increase
		if len(got) != 4 || got[0] != top.ID || got[3] != bottom.ID || !slices.Contains(got, movers[0].ID) || !slices.Contains(got, movers[1].ID) {
			t.Fatalf("round %d: column %v", round, got)
		}
		// Everyone reads the same order: the board query and a plain ORDER BY rank, id.
		var plain []int64
		if err := f.st.DB().Select(&plain, `SELECT id FROM leads WHERE org_id = $1 AND stage_id = $2 ORDER BY rank, id`, f.org.ID, dst.ID); err != nil {
			t.Fatal(err)
		}
		b, err := f.svc.Board(f.ctx, f.org.ID, dst.PipelineID, model.LeadFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(plain, got) || !slices.Equal(ids(b.Cards[dst.ID]...), got) {
			t.Fatalf("round %d: orders differ: %v %v %v", round, got, plain, ids(b.Cards[dst.ID]...))
		}
	}
	var dup int
	_ = f.st.DB().Get(&dup, `SELECT count(*) FROM (SELECT stage_id, rank FROM leads GROUP BY 1, 2 HAVING count(*) > 1) d`)
	if dup != 0 {
		t.Fatalf("%d duplicate keys", dup)
	}
}

func TestBoardFiltersAndPages(t *testing.T) {
	f := newFixture(t)
	p, ss := f.pipeline(f.as)
	f.svc.PerStage = 3
	bia := f.user(f.org, "bia@loja.com.br", "Bia", model.RoleAgent)
	for i := 0; i < 5; i++ {
		in := board.LeadInput{StageID: ss[0].ID, Title: fmt.Sprintf("Pedido %d", i), Value: fmt.Sprint(100 * (i + 1)),
			ContactName: fmt.Sprintf("Cliente %d", i), ContactPhone: fmt.Sprintf("+55119876504%02d", i)}
		if i%2 == 0 {
			in.OwnerID = fmt.Sprint(bia.ID)
		}
		if i == 4 {
			in.Title, in.ContactName = "Bolo 100% chocolate", "Joana Prado"
		}
		if _, err := f.svc.CreateLead(f.ctx, f.as, in); err != nil {
			t.Fatal(err)
		}
	}
	b, err := f.svc.Board(f.ctx, f.org.ID, p.ID, model.LeadFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Cards[ss[0].ID]) != 3 || !b.More[ss[0].ID] || b.Totals[ss[0].ID].Count != 5 || b.Totals[ss[0].ID].SumCents != 150000 || len(b.Stages) != 6 {
		t.Fatalf("board: %d cards, more %v, totals %+v", len(b.Cards[ss[0].ID]), b.More, b.Totals)
	}
	last := b.Cards[ss[0].ID][2]
	rest, more, err := f.svc.StageCards(f.ctx, f.org.ID, ss[0].ID, model.LeadFilter{}, last.Rank)
	if err != nil || len(rest) != 2 || more {
		t.Fatalf("next page: %d %v %v", len(rest), more, err)
	}
	if _, _, err := f.svc.StageCards(f.ctx, f.org.ID, ss[0].ID, model.LeadFilter{}, "not a key!"); !errors.Is(err, model.ErrInvalid) {
		t.Fatalf("a bad key: %v", err)
	}
	min, max := int64(20000), int64(40000)
	for name, c := range map[string]struct {
		f    model.LeadFilter
		want int64
	}{
		"owner":        {model.LeadFilter{OwnerID: bia.ID}, 3},
		"no owner":     {model.LeadFilter{OwnerID: model.NoOwner}, 2},
		"title":        {model.LeadFilter{Search: "pedido"}, 4},
		"contact":      {model.LeadFilter{Search: "JOANA"}, 1},
		"literal %":    {model.LeadFilter{Search: "100%"}, 1},
		"value range":  {model.LeadFilter{Min: &min, Max: &max}, 3},
		"all together": {model.LeadFilter{OwnerID: bia.ID, Search: "pedido", Min: &min}, 1},
	} {
		ts, err := f.svc.Totals(f.ctx, f.org.ID, p.ID, c.f)
		if err != nil {
			t.Fatal(err)
		}
		if ts[ss[0].ID].Count != c.want {
			t.Errorf("%s: %d leads, want %d", name, ts[ss[0].ID].Count, c.want)
		}
	}
	if _, err := f.svc.LeadCard(f.ctx, f.org.ID, last.ID, model.LeadFilter{Search: "nada disso"}); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("a filtered-out card: %v", err)
	}
	cs, err := f.svc.SearchContacts(f.ctx, f.org.ID, "joana")
	if err != nil || len(cs) != 1 || cs[0].Name != "Joana Prado" {
		t.Fatalf("contact search %+v %v", cs, err)
	}
}

func TestParseMoney(t *testing.T) {
	for in, want := range map[string]int64{
		"0": 0, "10": 1000, "1.000": 100000, "1.234,56": 123456, "1,234.56": 123456, "1234.5": 123450, "1,5": 150,
		"R$ 99": 9900, "R$ 2.350,50": 235050, " 12 ": 1200, "1.000.000": 100000000, ".5": 50, "US$ 3.10": 310,
	} {
		if got, err := board.ParseMoney(in); err != nil || got != want {
			t.Errorf("ParseMoney(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-5", "abc", "1.23.4", "12,34,5", "1e5", "1.0000", "99999999999999999", ",", "1..0"} {
		if got, err := board.ParseMoney(in); err == nil {
			t.Errorf("ParseMoney(%q) = %d, want an error", in, got)
		}
	}
}
