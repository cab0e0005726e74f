package web_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"masteria/app/ai/persona"
	"masteria/app/crm"
	"masteria/app/crm/board"
	"masteria/app/hooks"
	"masteria/app/inbox"
	"masteria/app/model"
	"masteria/app/web/webtest"
)

// TestGETChangesNothing visits every GET route of the router, with real ids of an org
// that has a conversation with unread messages, a contact, a lead and a second org with no
// pipeline yet, and checks that no tenant table changed: not a row count, not a value.
// (Opening a conversation used to mark it read and opening the board used to create the
// default pipeline.) A new GET route is visited as soon as it is added; a new kind of :id
// needs its place in ids below.
func TestGETChangesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	o := newInboxOrg(t)
	orgID := o.orgID()
	app := o.inst.App
	r := o.receive("+5511987650077", "Rita Souza", "Tem bolo de cenoura hoje?")
	var ownerID int64
	if err := app.Store.DB().Get(&ownerID, `SELECT user_id FROM memberships WHERE org_id = $1`, orgID); err != nil {
		t.Fatal(err)
	}
	a := model.Actor{OrgID: orgID, UserID: ownerID, Role: model.RoleOwner}
	ct, err := app.CRM.Create(ctx, a, crm.ContactInput{Name: "Caio Prado", Phone: "+5511987650078"})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := app.Board.Pipelines(ctx, orgID)
	if err != nil || len(ps) == 0 {
		t.Fatalf("a new org has no pipeline: %v", err)
	}
	stages, err := app.Board.Stages(ctx, orgID, ps[0].ID)
	if err != nil || len(stages) == 0 {
		t.Fatalf("stages: %v", err)
	}
	lead, err := app.Board.CreateLead(ctx, a, board.LeadInput{StageID: stages[0].ID, Title: "Bolo de aniversário",
		ContactID: fmt.Sprint(ct.ID)})
	if err != nil {
		t.Fatal(err)
	}
	qr, err := app.Inbox.CreateQuickReply(ctx, a, inbox.QuickReplyInput{Shortcut: "oi", Title: "Oi", Body: "Olá! Como posso ajudar?"})
	if err != nil {
		t.Fatal(err)
	}
	bare, err := app.Account.CreateOrg(ctx, ownerID, "Confeitaria Sem Funil", "", "")
	if err != nil {
		t.Fatal(err)
	}
	camp, err := app.Campaigns.Create(ctx, a, model.Campaign{Name: "Promoção", ChannelID: &o.ch.ID,
		Audience: model.Audience{ContactIDs: []int64{ct.ID}}, Message: model.CampaignMessage{Variants: []model.Variant{{Text: "Oi {{nome}}"}}}})
	if err != nil {
		t.Fatal(err)
	}

	base, err := app.Knowledge.CreateBase(ctx, a, "Cardápio", "")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := app.Knowledge.AddText(ctx, a, base.ID, "Bolos", "Bolo de cenoura todos os dias.")
	if err != nil {
		t.Fatal(err)
	}
	pers := persona.Defaults()
	pers.Name, pers.KnowledgeBases = "Ana", model.IDs{base.ID}
	pers, err = app.Personas.Create(ctx, a, pers)
	if err != nil {
		t.Fatal(err)
	}

	cad, err := app.Cadences.Create(ctx, a, model.Cadence{Name: "Boas-vindas", Steps: []model.CadenceStep{{ID: "s1", Kind: model.StepWait, WaitMinutes: 60}}})
	if err != nil {
		t.Fatal(err)
	}
	// Another cadence, active, the contact is enrolled in (it only waits: nothing is sent).
	var cadenceID int64
	if err := app.Store.DB().Get(&cadenceID, `INSERT INTO cadences (org_id, name, status) VALUES ($1, 'Espera', 'active') RETURNING id`, orgID); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Store.DB().Exec(`INSERT INTO cadence_versions (org_id, cadence_id, version, steps)
		VALUES ($1, $2, 1, '[{"id":"s1","kind":"wait","wait_minutes":600}]')`, orgID, cadenceID); err != nil {
		t.Fatal(err)
	}
	enrolled, err := app.CadenceEngine.Enrol(ctx, a, cadenceID, []int64{ct.ID}, model.EnrolManual)
	if err != nil || len(enrolled.IDs) != 1 {
		t.Fatalf("enrol: %+v %v", enrolled, err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) { // its wait step claimed before the walk
		var lines int
		_ = app.Store.DB().Get(&lines, `SELECT count(*) FROM cadence_steps WHERE org_id = $1`, orgID)
		if lines == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the cadence's first step did not run in 30 s")
		}
	}

	segment, err := app.CRM.SaveSegment(ctx, a, 0, "Clientes", model.ContactFilter{Query: "Caio"})
	if err != nil {
		t.Fatal(err)
	}
	// A webhook endpoint for an event nothing here publishes (no delivery runs during the walk).
	hook, err := app.Hooks.Create(ctx, a, hooks.Input{URL: "https://hooks.example.com/in", EventTypes: []string{"webhook.endpoint_disabled"}})
	if err != nil {
		t.Fatal(err)
	}
	// ids gives each :param its value by the path segment before it.
	ids := map[string]string{
		"inbox": fmt.Sprint(r.ConversationID), "conversations": fmt.Sprint(r.ConversationID), "contacts": fmt.Sprint(ct.ID), "leads": fmt.Sprint(lead.ID),
		"stages": fmt.Sprint(stages[0].ID), "pipelines": fmt.Sprint(ps[0].ID), "channels": fmt.Sprint(o.ch.ID),
		"quick-replies": fmt.Sprint(qr.ID), "imports": "1", "media": "1", "sessions": "1", "invites": "1",
		"members": fmt.Sprint(ownerID), "campaigns": fmt.Sprint(camp.ID),
		"knowledge": fmt.Sprint(base.ID), "documents": fmt.Sprint(doc.ID), "knowledge-bases": fmt.Sprint(base.ID),
		"personas": fmt.Sprint(pers.ID), "calls": "1", "voice-numbers": "1",
		"cadences": fmt.Sprint(cad.ID), "enrolments": fmt.Sprint(enrolled.IDs[0]), "segments": fmt.Sprint(segment),
		"webhooks": fmt.Sprint(hook.Endpoint.ID), "webhook-endpoints": fmt.Sprint(hook.Endpoint.ID),
		"tables": "agents", "funnels": "campaign",
	}
	// A campaign sent to the contact, settled (every recipient read) before the walk.
	sent, err := app.Campaigns.Create(ctx, a, model.Campaign{Name: "Fornada", ChannelID: &o.ch.ID,
		Audience: model.Audience{ContactIDs: []int64{ct.ID}}, Message: model.CampaignMessage{Variants: []model.Variant{{Text: "Olá {{nome}}"}}},
		Settings: model.CampaignSettings{ReplyHours: 72}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.Campaigns.Launch(ctx, a, sent.ID); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var unsettled int
		_ = app.Store.DB().Get(&unsettled, `SELECT (SELECT count(*) FROM campaigns WHERE id = $1 AND status <> 'completed') +
			(SELECT count(*) FROM campaign_recipients WHERE campaign_id = $1 AND status <> 'read')`, sent.ID)
		if unsettled == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the campaign did not settle in 30 s")
		}
	}
	ids["campaigns"] = fmt.Sprint(sent.ID)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if d, err := app.Knowledge.Document(ctx, orgID, doc.ID); err == nil && d.Status == model.DocReady {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the knowledge document was not indexed in 30 s")
		}
	}
	named := map[string]string{":provider": "google", ":token": "not-a-token", ":exp": "1", ":sig": "x", ":channel": fmt.Sprint(o.ch.ID),
		":user": fmt.Sprint(ownerID), ":doc": fmt.Sprint(doc.ID)}
	fill := func(route string, org int64) (string, bool) {
		segs := strings.Split(route, "/")
		for i, s := range segs {
			switch {
			case s == ":org":
				segs[i] = fmt.Sprint(org)
			case s == "*":
				segs[i] = "css/app.css"
			case strings.HasPrefix(s, ":") && named[s] != "":
				segs[i] = named[s]
			case strings.HasPrefix(s, ":"):
				v, ok := ids[segs[i-1]]
				if !ok {
					return route, false
				}
				segs[i] = v
			}
		}
		return strings.Join(segs, "/"), true
	}
	var paths []string
	for _, route := range app.Web.RoutesOf(http.MethodGet) {
		if route == "/events" { // a stream: it never ends, and only reads
			continue
		}
		p, ok := fill(route, orgID)
		if !ok {
			t.Errorf("GET %s: no id for its parameter: add one to ids", route)
			continue
		}
		paths = append(paths, p)
		if strings.HasPrefix(route, "/o/:org") {
			bp, _ := fill(route, bare.ID)
			paths = append(paths, bp)
		}
	}
	slices.Sort(paths)
	paths = slices.Compact(paths)

	// The analytics rollup job (every second) works out the marks the set-up's writes left;
	// the walk starts once it has, so what it changes is not taken for the GETs'.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var marks int
		if err := o.inst.App.Store.DB().Get(&marks, `SELECT count(*) FROM analytics_dirty`); err != nil {
			t.Fatal(err)
		}
		if marks == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the analytics rollups did not catch up in 30 s")
		}
	}
	before := tenantSnapshot(t, o.inst)
	for _, p := range paths {
		for _, hx := range []bool{false, true} {
			var res *webtest.Response
			if hx {
				res = o.owner.Get(p, "HX-Request", "true")
			} else {
				res = o.owner.Get(p)
			}
			if res.StatusCode >= 500 {
				t.Errorf("GET %s (htmx %v): %d", p, hx, res.StatusCode)
			}
		}
	}
	after := tenantSnapshot(t, o.inst)
	for table, was := range before {
		if after[table] != was {
			t.Errorf("GET requests changed %s", table)
		}
	}
	if len(paths) < 30 || !slices.Contains(paths, fmt.Sprintf("/o/%d/inbox/%d", orgID, r.ConversationID)) ||
		!slices.Contains(paths, fmt.Sprintf("/o/%d/board", bare.ID)) {
		t.Fatalf("the walk missed pages: %v", paths)
	}
	// The pages the old GETs changed still offer the change as a POST.
	if res := o.owner.Get(fmt.Sprintf("/o/%d/board", bare.ID)); !strings.Contains(res.Body, `data-testid="board-start"`) {
		t.Errorf("the board of an org without a pipeline does not offer to start it: %s", webtest.Text(res.Body))
	}
}

// tenantSnapshot fingerprints every table with an org_id column: its row count and a hash
// of all its rows.
func tenantSnapshot(t *testing.T, inst *webtest.Instance) map[string]string {
	t.Helper()
	db := inst.App.Store.DB()
	var tables []string
	err := db.Select(&tables, `SELECT c.table_name FROM information_schema.columns c
		JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE c.table_schema = 'public' AND c.column_name = 'org_id' AND t.table_type = 'BASE TABLE' ORDER BY 1`)
	if err != nil || len(tables) < 10 {
		t.Fatalf("tenant tables: %v %v", tables, err)
	}
	name := regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)
	out := map[string]string{}
	for _, tb := range tables {
		if !name.MatchString(tb) {
			t.Fatalf("odd table name %q", tb)
		}
		var fp string
		q := fmt.Sprintf(`SELECT count(*) || ':' || coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') FROM %s x`, tb)
		if err := db.Get(&fp, q); err != nil {
			t.Fatalf("%s: %v", tb, err)
		}
		out[tb] = fp
	}
	return out
}

// TestBoardStart: the board of an org without a pipeline starts with a POST (CSRF
// checked), which creates the default pipeline once however often it is pressed.
func TestBoardStart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	o := newInboxOrg(t)
	var ownerID int64
	if err := o.inst.App.Store.DB().Get(&ownerID, `SELECT user_id FROM memberships WHERE org_id = $1`, o.orgID()); err != nil {
		t.Fatal(err)
	}
	bare, err := o.inst.App.Account.CreateOrg(ctx, ownerID, "Confeitaria Sem Funil", "", "")
	if err != nil {
		t.Fatal(err)
	}
	home := fmt.Sprintf("/o/%d", bare.ID)
	count := func() (n int) {
		_ = o.inst.App.Store.DB().Get(&n, `SELECT count(*) FROM pipelines WHERE org_id = $1`, bare.ID)
		return n
	}
	if res := o.owner.PostRaw(home+"/board/start", nil); res.StatusCode != http.StatusForbidden || count() != 0 {
		t.Fatalf("start without CSRF: %d, %d pipelines", res.StatusCode, count())
	}
	outsider := newInboxOrg(t)
	if res := outsider.owner.Post(home+"/board/start", nil); res.StatusCode != http.StatusNotFound || count() != 0 {
		t.Fatalf("start by another org's member: %d, %d pipelines", res.StatusCode, count())
	}
	for range 2 {
		res := o.owner.Post(home+"/board/start", nil)
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), home+"/board?pipeline=") {
			t.Fatalf("start: %d %q", res.StatusCode, res.Header.Get("Location"))
		}
	}
	if n := count(); n != 1 {
		t.Fatalf("%d pipelines, want 1", n)
	}
	if res := o.owner.Get(home + "/board"); res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `data-testid="board-columns"`) {
		t.Fatalf("the started board: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
}
