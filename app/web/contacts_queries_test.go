package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"masteria/app/crm/board"
	"masteria/app/model"
)

// TestContactListQueriesStayFixed: the contact list asks the database the same number of
// times with one pipeline and one segment as with six of each (it used to read the stages
// of each pipeline and count each segment apart), and still shows every stage and count.
func TestContactListQueriesStayFixed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	o := newInboxOrg(t)
	app := o.inst.App
	var ownerID int64
	if err := app.Store.DB().Get(&ownerID, `SELECT user_id FROM memberships WHERE org_id = $1`, o.orgID()); err != nil {
		t.Fatal(err)
	}
	a := model.Actor{OrgID: o.orgID(), UserID: ownerID, Role: model.RoleOwner}
	o.receive("+5511987650090", "Rita Souza", "Oi")
	o.receive("+5511987650091", "Caio Prado", "Olá")
	if _, err := app.CRM.SaveSegment(ctx, a, 0, "Segmento 0", model.ContactFilter{Query: "rita"}); err != nil {
		t.Fatal(err)
	}
	// queries is the fewest statements one GET of the list took over ten tries (a
	// background job may slip one in).
	queries := func() int64 {
		best := int64(-1)
		for range 10 {
			before := app.Store.Statements()
			if res := o.owner.Get(o.home + "/contacts"); res.StatusCode != http.StatusOK {
				t.Fatalf("list: %d", res.StatusCode)
			}
			if n := app.Store.Statements() - before; best < 0 || n < best {
				best = n
			}
		}
		return best
	}
	few := queries()
	for i := 1; i <= 5; i++ {
		if _, err := app.Board.CreatePipeline(ctx, a, board.PipelineInput{Name: fmt.Sprintf("Funil %d", i), Currency: "BRL"}, "pt-BR"); err != nil {
			t.Fatal(err)
		}
		if _, err := app.CRM.SaveSegment(ctx, a, 0, fmt.Sprintf("Segmento %d", i), model.ContactFilter{Query: "caio"}); err != nil {
			t.Fatal(err)
		}
	}
	many := queries()
	if many != few || few == 0 {
		t.Fatalf("the list took %d queries with 1 pipeline and 1 segment, %d with 6 of each", few, many)
	}
	res := o.owner.Get(o.home + "/contacts")
	for _, want := range []string{"Funil 5 · ", "Segmento 5", "Segmento 0"} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("the list lacks %q", want)
		}
	}
	st, _ := app.Store.StageOptions(ctx, o.orgID())
	stages, _ := app.Board.Pipelines(ctx, o.orgID())
	if len(stages) != 6 || len(st) < 6 {
		t.Fatalf("%d pipelines, %d stage options", len(stages), len(st))
	}
	counts, err := app.CRM.CountEach(ctx, a, []model.ContactFilter{{Query: "rita"}, {Query: "caio"}, {}, {Query: "nobody"}})
	if err != nil || fmt.Sprint(counts) != "[1 1 2 0]" {
		t.Fatalf("counts %v %v", counts, err)
	}
}
