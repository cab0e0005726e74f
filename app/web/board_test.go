package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"masteria/app/model"
	"masteria/app/web/webtest"
)

// boardOrg is an org with an owner client on its board.
type boardOrg struct {
	t      *testing.T
	inst   *webtest.Instance
	owner  *webtest.Client
	home   string // /o/{id}
	name   string
	stages []int64 // the default pipeline's stages, in order
	pid    int64
}

var columnRE = regexp.MustCompile(`<section class="board-column[^"]*" data-stage-id="(\d+)"`)
var pipelineRE = regexp.MustCompile(`data-pipeline="(\d+)"`)

func newBoardOrg(t *testing.T, inst *webtest.Instance, name string) *boardOrg {
	t.Helper()
	c := webtest.NewClient(t, inst.URL)
	home := c.Signup(name, "Ana", uniqueEmail("ana"), strongPassword)
	b := &boardOrg{t: t, inst: inst, owner: c, home: home, name: name}
	res := c.Get(home + "/board")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("board: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	for _, m := range columnRE.FindAllStringSubmatch(res.Body, -1) {
		id, _ := strconv.ParseInt(m[1], 10, 64)
		b.stages = append(b.stages, id)
	}
	m := pipelineRE.FindStringSubmatch(res.Body)
	if len(b.stages) != 6 || m == nil {
		t.Fatalf("default board: %d columns: %s", len(b.stages), webtest.Text(res.Body))
	}
	b.pid, _ = strconv.ParseInt(m[1], 10, 64)
	return b
}

// member adds a member with role and returns their logged-in client.
func (b *boardOrg) member(role model.Role) (*webtest.Client, int64) {
	b.t.Helper()
	email := uniqueEmail(string(role))
	u, err := b.inst.App.Account.CreateUserInOrg(context.Background(), b.name, string(role), email, strongPassword, role)
	if err != nil {
		b.t.Fatal(err)
	}
	c := webtest.NewClient(b.t, b.inst.URL)
	c.Login(email, strongPassword)
	return c, u.User.ID
}

// lead creates a lead in a stage through the form and returns its id.
func (b *boardOrg) lead(c *webtest.Client, stage int64, title, phone string) int64 {
	b.t.Helper()
	res := c.Post(b.home+"/board/leads", url.Values{"stage_id": {fmt.Sprint(stage)}, "title": {title}, "value": {"1.200,50"},
		"contact_name": {"Cliente " + title}, "contact_phone": {phone}, "return": {b.home + "/board"}})
	if res.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("create lead %s: %d %s", title, res.StatusCode, webtest.Text(res.Body))
	}
	var id int64
	if err := b.inst.App.Store.DB().Get(&id, `SELECT id FROM leads WHERE title = $1 ORDER BY id DESC LIMIT 1`, title); err != nil {
		b.t.Fatal(err)
	}
	return id
}

func (b *boardOrg) stageOf(lead int64) int64 {
	b.t.Helper()
	var s int64
	if err := b.inst.App.Store.DB().Get(&s, `SELECT stage_id FROM leads WHERE id = $1`, lead); err != nil {
		b.t.Fatal(err)
	}
	return s
}

// column is the lead ids of a stage in board order.
func (b *boardOrg) column(stage int64) []int64 {
	b.t.Helper()
	var ids []int64
	if err := b.inst.App.Store.DB().Select(&ids, `SELECT id FROM leads WHERE stage_id = $1 ORDER BY rank, id`, stage); err != nil {
		b.t.Fatal(err)
	}
	return ids
}

func htmx(c *webtest.Client, path string, form url.Values) *webtest.Response {
	return c.PostRaw(path, form, "HX-Request", "true", "X-CSRF-Token", c.CSRF())
}

func TestBoardOpensWithTheDefaultPipeline(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	b := newBoardOrg(t, inst, "Doceria Açúcar")
	page := b.owner.Get(b.home + "/board")
	text := webtest.Text(page.Body)
	for _, want := range []string{"Sales", "New", "Qualified", "Proposal", "Negotiation", "Won", "Lost", "New lead"} {
		if !strings.Contains(text, want) {
			t.Errorf("the board does not say %q", want)
		}
	}
	for _, want := range []string{`data-empty="No leads here"`, `hx-trigger="sse:lead.moved, sse:lead.created, sse:lead.updated, sse:lead.deleted, sse:pipeline.changed, sse:lead.suggestion_created, sse:lead.suggestion_closed"`,
		`src="/static/js/board.`, `src="/static/vendor/sortablejs-1.15.7/Sortable.min.`, `nonce="`} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("the board page lacks %s", want)
		}
	}
	// Opening it again creates nothing more.
	b.owner.Get(b.home + "/board")
	var n int
	_ = inst.App.Store.DB().Get(&n, `SELECT count(*) FROM pipelines`)
	if n != 1 {
		t.Fatalf("%d pipelines after opening the board twice", n)
	}
}

func TestBoardLeadLifecycle(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	b := newBoardOrg(t, inst, "Padaria Pão Quente")
	c := b.owner

	l1 := b.lead(c, b.stages[0], "Bolo de aniversário", "+55 11 98765-0001")
	l2 := b.lead(c, b.stages[0], "Salgados para festa", "+5511987650002")
	page := c.Get(b.home + "/board")
	text := webtest.Text(page.Body)
	for _, want := range []string{"Bolo de aniversário", "Cliente Bolo de aniversário", "R$1,200.50", "R$2,401.00"} {
		if !strings.Contains(text, want) {
			t.Errorf("the board does not show %q", want)
		}
	}
	// A drag: l1 into the second column; the answer is the card there.
	res := htmx(c, fmt.Sprintf("%s/board/leads/%d/move", b.home, l1), url.Values{"stage_id": {fmt.Sprint(b.stages[1])}})
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, fmt.Sprintf(`id="lead-%d"`, l1)) ||
		!strings.Contains(res.Body, fmt.Sprintf(`data-stage-id="%d"`, b.stages[1])) || !strings.Contains(res.Body, `data-testid="lead-moved"`) {
		t.Fatalf("move: %d %s", res.StatusCode, res.Body)
	}
	// Then l2 below it, from the card's menu without JavaScript: back to the board.
	res = c.Post(fmt.Sprintf("%s/board/leads/%d/move", b.home, l2), url.Values{"stage_id": {fmt.Sprint(b.stages[1])}, "after_id": {fmt.Sprint(l1)},
		"return": {b.home + "/board?pipeline=" + fmt.Sprint(b.pid) + "&q=o"}})
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), b.home+"/board?pipeline=") {
		t.Fatalf("menu move: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if got := b.column(b.stages[1]); fmt.Sprint(got) != fmt.Sprint([]int64{l1, l2}) {
		t.Fatalf("column %v, want [%d %d]", got, l1, l2)
	}
	// Up and down from the keyboard.
	if res := htmx(c, fmt.Sprintf("%s/board/leads/%d/move", b.home, l2), url.Values{"dir": {"up"}}); res.StatusCode != http.StatusOK {
		t.Fatalf("up: %d", res.StatusCode)
	}
	if got := b.column(b.stages[1]); fmt.Sprint(got) != fmt.Sprint([]int64{l2, l1}) {
		t.Fatalf("after up: %v", got)
	}
	// A return URL elsewhere is not followed.
	res = c.Post(fmt.Sprintf("%s/board/leads/%d/move", b.home, l2), url.Values{"dir": {"down"}, "return": {"https://evil.example/board"}})
	if loc := res.Header.Get("Location"); !strings.HasPrefix(loc, b.home+"/board") {
		t.Fatalf("followed a foreign return URL: %s", loc)
	}

	// The drawer: the lead's form and history; saved through htmx it says so.
	drawer := c.Get(fmt.Sprintf("%s/board/leads/%d", b.home, l1), "HX-Request", "true")
	if drawer.StatusCode != http.StatusOK || strings.Contains(drawer.Body, "<html") || !strings.Contains(webtest.Text(drawer.Body), "From New to Qualified") {
		t.Fatalf("drawer: %d %s", drawer.StatusCode, webtest.Text(drawer.Body))
	}
	if full := c.Get(fmt.Sprintf("%s/board/leads/%d", b.home, l1)); full.StatusCode != http.StatusOK || !strings.Contains(full.Body, "<html") {
		t.Fatalf("lead page without htmx: %d", full.StatusCode)
	}
	res = htmx(c, fmt.Sprintf("%s/board/leads/%d", b.home, l1), url.Values{"title": {"Bolo de 3 andares"}, "value": {"3.000"}, "stage_id": {fmt.Sprint(b.stages[1])},
		"source": {"Indicação"}, "notes": {"Sem glúten."}})
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Header.Get("HX-Trigger"), "leadSaved") || !strings.Contains(res.Header.Get("HX-Trigger"), "toast") {
		t.Fatalf("save: %d %q", res.StatusCode, res.Header.Get("HX-Trigger"))
	}
	var title string
	var value int64
	_ = inst.App.Store.DB().QueryRow(`SELECT title, value_cents FROM leads WHERE id = $1`, l1).Scan(&title, &value)
	if title != "Bolo de 3 andares" || value != 300000 {
		t.Fatalf("saved %q %d", title, value)
	}
	// Without JavaScript the lead's page saves with a plain form, back to the board.
	res = c.Post(fmt.Sprintf("%s/board/leads/%d", b.home, l2), url.Values{"title": {"Salgados para festa"}, "value": {"1.200,50"},
		"stage_id": {fmt.Sprint(b.stages[1])}, "return": {b.home + "/board?q=festa"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != b.home+"/board?q=festa" {
		t.Fatalf("plain save: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if menu := c.Get(fmt.Sprintf("%s/board/leads/%d/menu", b.home, l2), "HX-Request", "true", "HX-Current-URL", inst.URL+b.home+"/board?q=festa"); menu.StatusCode != http.StatusOK ||
		!strings.Contains(menu.Body, `name="return" value="`+b.home+`/board?q=festa"`) || !strings.Contains(menu.Body, `data-testid="lead-move-down"`) {
		t.Fatalf("menu: %d %s", menu.StatusCode, menu.Body)
	}
	// The contact's timeline has the move; the card endpoint follows the filters.
	var kinds int
	_ = inst.App.Store.DB().Get(&kinds, `SELECT count(*) FROM contact_events WHERE kind = 'stage_changed'`)
	if kinds != 2 {
		t.Fatalf("%d stage_changed lines on the timelines, want 2", kinds)
	}
	if res := c.Get(fmt.Sprintf("%s/board/leads/%d/card?q=andares", b.home, l1)); res.StatusCode != http.StatusOK {
		t.Fatalf("card shown by the filter: %d", res.StatusCode)
	}
	if res := c.Get(fmt.Sprintf("%s/board/leads/%d/card?q=nada", b.home, l1)); res.StatusCode != http.StatusNoContent {
		t.Fatalf("card hidden by the filter: %d", res.StatusCode)
	}
	// Filters narrow the board and its totals.
	filtered := webtest.Text(c.Get(b.home + "/board?q=andares&min=2000").Body)
	if !strings.Contains(filtered, "Bolo de 3 andares") || strings.Contains(filtered, "Salgados para festa") {
		t.Fatalf("filtered board: %s", filtered)
	}
	totals := c.Get(fmt.Sprintf("%s/board/totals?pipeline=%d", b.home, b.pid))
	if totals.StatusCode != http.StatusOK || !strings.Contains(totals.Body, `"count":2`) || !strings.Contains(totals.Body, `R$4,200.50`) {
		t.Fatalf("totals: %d %s", totals.StatusCode, totals.Body)
	}

	// Delete through htmx.
	res = htmx(c, fmt.Sprintf("%s/board/leads/%d/delete", b.home, l2), nil)
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Header.Get("HX-Trigger"), "leadDeleted") {
		t.Fatalf("delete: %d %q", res.StatusCode, res.Header.Get("HX-Trigger"))
	}
	if got := b.column(b.stages[1]); len(got) != 1 {
		t.Fatalf("after delete: %v", got)
	}
}

// TestBoardShowMore: a column shows its first cards and a "Show more" that loads the
// next ones after the last key, and says when there are no more.
func TestBoardShowMore(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	inst.App.Board.PerStage = 2
	b := newBoardOrg(t, inst, "Mercado Bom")
	var ids []int64
	for i := 0; i < 3; i++ {
		ids = append(ids, b.lead(b.owner, b.stages[0], fmt.Sprintf("Cesta %d", i), fmt.Sprintf("+55119876506%02d", i)))
	}
	page := b.owner.Get(b.home + "/board")
	if n := strings.Count(page.Body, `data-testid="lead-card"`); n != 2 {
		t.Fatalf("%d cards shown, want 2", n)
	}
	m := regexp.MustCompile(`hx-get="([^"]*/cards[^"]*)"`).FindStringSubmatch(page.Body)
	if m == nil || !strings.Contains(page.Body, `>3</span>`) {
		t.Fatalf("no Show more, or the count is not of all the leads: %s", webtest.Text(page.Body))
	}
	more := b.owner.Get(strings.ReplaceAll(m[1], "&amp;", "&"), "HX-Request", "true")
	if more.StatusCode != http.StatusOK || strings.Count(more.Body, `data-testid="lead-card"`) != 1 ||
		!strings.Contains(more.Body, fmt.Sprintf(`id="lead-%d"`, ids[0])) || strings.Contains(more.Body, `data-testid="column-more"`) ||
		!strings.Contains(more.Body, `hx-swap-oob="true"`) {
		t.Fatalf("next page: %d %s", more.StatusCode, more.Body)
	}
}

// TestBoardBadInput: wrong ids, values and owners get 400, 404 or a 422 form, never 500,
// and change nothing.
func TestBoardBadInput(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	b := newBoardOrg(t, inst, "Loja Certa")
	other := newBoardOrg(t, inst, "Loja Vizinha")
	c := b.owner
	l := b.lead(c, b.stages[0], "Cesta de café", "+5511987650100")
	theirs := other.lead(other.owner, other.stages[0], "Deles", "+5511987650101")
	_, otherUser := other.member(model.RoleAgent)
	move := fmt.Sprintf("%s/board/leads/%d/move", b.home, l)

	for _, tc := range []struct {
		name   string
		method string
		path   string
		form   url.Values
		want   int
	}{
		{"lead id not a number", "GET", b.home + "/board/leads/abc", nil, 404},
		{"lead id zero", "POST", b.home + "/board/leads/0/move", url.Values{"stage_id": {"1"}}, 404},
		{"stage not a number", "POST", move, url.Values{"stage_id": {"abc"}}, 400},
		{"no stage", "POST", move, url.Values{}, 400},
		{"neighbour not a number", "POST", move, url.Values{"stage_id": {fmt.Sprint(b.stages[1])}, "after_id": {"x"}}, 400},
		{"negative neighbour", "POST", move, url.Values{"stage_id": {fmt.Sprint(b.stages[1])}, "before_id": {"-3"}}, 400},
		{"bad direction", "POST", move, url.Values{"dir": {"sideways"}}, 400},
		{"another org's stage", "POST", move, url.Values{"stage_id": {fmt.Sprint(other.stages[1])}}, 404},
		{"unknown stage", "POST", move, url.Values{"stage_id": {"99999999"}}, 404},
		{"another org's lead", "POST", fmt.Sprintf("%s/board/leads/%d/move", b.home, theirs), url.Values{"stage_id": {fmt.Sprint(b.stages[1])}}, 404},
		{"another org's lead page", "GET", fmt.Sprintf("%s/board/leads/%d", b.home, theirs), nil, 404},
		{"save another org's lead", "POST", fmt.Sprintf("%s/board/leads/%d", b.home, theirs), url.Values{"title": {"Hacked"}}, 404},
		{"delete another org's lead", "POST", fmt.Sprintf("%s/board/leads/%d/delete", b.home, theirs), nil, 404},
		{"another org's board", "GET", other.home + "/board", nil, 404},
		{"another org's pipeline", "GET", fmt.Sprintf("%s/board?pipeline=%d", b.home, other.pid), nil, 404},
		{"pipeline not a number", "GET", b.home + "/board?pipeline=abc", nil, 404},
		{"owner filter not a number", "GET", b.home + "/board?owner=abc", nil, 400},
		{"bad value filter", "GET", b.home + "/board?min=muito", nil, 422},
		{"bad page key", "GET", fmt.Sprintf("%s/board/stages/%d/cards?after=%%21%%21", b.home, b.stages[0]), nil, 400},
		{"another org's column", "GET", fmt.Sprintf("%s/board/stages/%d/cards", b.home, other.stages[0]), nil, 404},
		{"new lead in another org's stage", "POST", b.home + "/board/leads", url.Values{"stage_id": {fmt.Sprint(other.stages[0])}, "title": {"X"}, "contact_name": {"Y"}}, 404},
		{"new lead, stage not a number", "POST", b.home + "/board/leads", url.Values{"stage_id": {"1x"}, "title": {"X"}}, 400},
		{"new lead, negative value", "POST", b.home + "/board/leads", url.Values{"stage_id": {fmt.Sprint(b.stages[0])}, "title": {"X"}, "value": {"-50"}, "contact_name": {"Y"}}, 422},
		{"new lead, no title", "POST", b.home + "/board/leads", url.Values{"stage_id": {fmt.Sprint(b.stages[0])}, "title": {" "}, "contact_name": {"Y"}}, 422},
		{"new lead, owner of another org", "POST", b.home + "/board/leads", url.Values{"stage_id": {fmt.Sprint(b.stages[0])}, "title": {"X"}, "owner_id": {fmt.Sprint(otherUser)}, "contact_name": {"Y"}}, 422},
		{"new lead, owner not a number", "POST", b.home + "/board/leads", url.Values{"stage_id": {fmt.Sprint(b.stages[0])}, "title": {"X"}, "owner_id": {"abc"}, "contact_name": {"Y"}}, 422},
		{"new lead, phone too short", "POST", b.home + "/board/leads", url.Values{"stage_id": {fmt.Sprint(b.stages[0])}, "title": {"X"}, "contact_name": {"Y"}, "contact_phone": {"11 9876"}}, 422},
		{"save, no title", "POST", fmt.Sprintf("%s/board/leads/%d", b.home, l), url.Values{"title": {""}, "value": {"10"}}, 422},
		{"save, bad value", "POST", fmt.Sprintf("%s/board/leads/%d", b.home, l), url.Values{"title": {"T"}, "value": {"1,2,3"}}, 422},
		{"save into another pipeline's stage", "POST", fmt.Sprintf("%s/board/leads/%d", b.home, l), url.Values{"title": {"T"}, "stage_id": {fmt.Sprint(other.stages[2])}}, 404},
	} {
		var res *webtest.Response
		if tc.method == "GET" {
			res = c.Get(tc.path)
		} else {
			res = c.Post(tc.path, tc.form)
		}
		if res.StatusCode != tc.want {
			t.Errorf("%s: status %d, want %d (%s)", tc.name, res.StatusCode, tc.want, snippetOf(res.Body))
		}
	}
	// The 422 forms say what is wrong, in the form that was sent.
	res := c.Post(b.home+"/board/leads", url.Values{"stage_id": {fmt.Sprint(b.stages[0])}, "title": {"Kit festa"}, "value": {"-50"}, "contact_name": {"Yara"}})
	if text := webtest.Text(res.Body); !strings.Contains(text, "The value cannot be negative") || !strings.Contains(res.Body, `value="Kit festa"`) {
		t.Fatalf("422 form: %s", text)
	}
	res = postWith(c, fmt.Sprintf("%s/board/leads/%d", b.home, l), url.Values{"title": {"T"}, "owner_id": {fmt.Sprint(otherUser)}}, "HX-Request", "true")
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(webtest.Text(res.Body), "Pick a member of the team") || strings.Contains(res.Body, "<html") {
		t.Fatalf("422 drawer: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	// Nothing changed.
	var n int
	_ = inst.App.Store.DB().Get(&n, `SELECT count(*) FROM leads WHERE org_id = (SELECT org_id FROM leads WHERE id = $1)`, l)
	if n != 1 || b.stageOf(l) != b.stages[0] || other.stageOf(theirs) != other.stages[0] {
		t.Fatalf("refused requests changed leads: %d leads, stages %d %d", n, b.stageOf(l), other.stageOf(theirs))
	}
	var moves int
	_ = inst.App.Store.DB().Get(&moves, `SELECT count(*) FROM lead_moves`)
	if moves != 0 {
		t.Fatalf("%d moves recorded by refused requests", moves)
	}
}

// Post with extra headers.
func postWith(c *webtest.Client, path string, form url.Values, header ...string) *webtest.Response {
	form.Set("_csrf", c.CSRF())
	return c.PostRaw(path, form, header...)
}

func snippetOf(s string) string {
	s = webtest.Text(s)
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

// TestBoardRoles: every member works the board; managers and above edit pipelines;
// agents delete only their own leads.
func TestBoardRoles(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	b := newBoardOrg(t, inst, "Loja dos Papéis")
	clients := map[model.Role]*webtest.Client{model.RoleOwner: b.owner}
	ids := map[model.Role]int64{}
	for _, r := range []model.Role{model.RoleAdmin, model.RoleManager, model.RoleAgent} {
		clients[r], ids[r] = b.member(r)
	}
	for role, c := range clients {
		for _, r := range []struct {
			path string
			min  model.Role
		}{
			{"/board", model.RoleAgent},
			{fmt.Sprintf("/board/leads/new?pipeline=%d", b.pid), model.RoleAgent},
			{"/board/pipelines", model.RoleManager},
			{fmt.Sprintf("/board/pipelines/%d", b.pid), model.RoleManager},
		} {
			want := http.StatusOK
			if !role.AtLeast(r.min) {
				want = http.StatusForbidden
			}
			if res := c.Get(b.home + r.path); res.StatusCode != want {
				t.Errorf("%s as %s: %d, want %d", r.path, role, res.StatusCode, want)
			}
		}
		// Each role can add and move a lead.
		l := b.lead(c, b.stages[0], "Lead de "+string(role), fmt.Sprintf("+55119876502%02d", len(role)))
		if res := htmx(c, fmt.Sprintf("%s/board/leads/%d/move", b.home, l), url.Values{"stage_id": {fmt.Sprint(b.stages[2])}}); res.StatusCode != http.StatusOK {
			t.Errorf("move as %s: %d", role, res.StatusCode)
		}
	}
	agent := clients[model.RoleAgent]
	// Agents do not touch pipelines.
	for _, p := range []string{"/board/pipelines", fmt.Sprintf("/board/pipelines/%d", b.pid), fmt.Sprintf("/board/pipelines/%d/delete", b.pid),
		fmt.Sprintf("/board/pipelines/%d/stages", b.pid), fmt.Sprintf("/board/stages/%d", b.stages[0]), fmt.Sprintf("/board/stages/%d/delete", b.stages[5])} {
		if res := agent.Post(b.home+p, url.Values{"name": {"Do agente"}}); res.StatusCode != http.StatusForbidden {
			t.Errorf("agent POST %s: %d", p, res.StatusCode)
		}
	}
	var pipelines, stages int
	_ = inst.App.Store.DB().Get(&pipelines, `SELECT count(*) FROM pipelines`)
	_ = inst.App.Store.DB().Get(&stages, `SELECT count(*) FROM stages`)
	if pipelines != 1 || stages != 6 {
		t.Fatalf("agents changed pipelines: %d pipelines, %d stages", pipelines, stages)
	}
	// An agent deletes their own lead, not a manager's; the drawer offers only that.
	mine := b.lead(agent, b.stages[0], "Meu lead", "+5511987650299")
	managers := b.lead(clients[model.RoleManager], b.stages[0], "Do gerente", "+5511987650298")
	if page := agent.Get(fmt.Sprintf("%s/board/leads/%d", b.home, managers)); strings.Contains(page.Body, `data-testid="lead-delete"`) {
		t.Error("the drawer offers an agent to delete someone else's lead")
	}
	if res := agent.Post(fmt.Sprintf("%s/board/leads/%d/delete", b.home, managers), nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("agent deletes a manager's lead: %d", res.StatusCode)
	}
	if res := agent.Post(fmt.Sprintf("%s/board/leads/%d/delete", b.home, mine), url.Values{"return": {b.home + "/board"}}); res.StatusCode != http.StatusSeeOther {
		t.Errorf("agent deletes their own lead: %d", res.StatusCode)
	}
	if res := clients[model.RoleManager].Post(fmt.Sprintf("%s/board/leads/%d/delete", b.home, managers), nil); res.StatusCode != http.StatusSeeOther {
		t.Errorf("manager deletes a lead: %d", res.StatusCode)
	}
}

// TestPipelineSettings walks the pipeline pages as a manager: create, rename, stages
// added, edited, reordered by drag and by arrows, and deletes that would lose leads refused.
func TestPipelineSettings(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	b := newBoardOrg(t, inst, "Floricultura Ipê")
	mgr, _ := b.member(model.RoleManager)
	base := b.home + "/board/pipelines"

	res := mgr.Post(base, url.Values{"name": {"Casamentos"}, "currency": {"BRL"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	edit := res.Header.Get("Location")
	if res := mgr.Post(base, url.Values{"name": {"casamentos"}}); res.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(webtest.Text(res.Body), "There is already a pipeline with this name") {
		t.Fatalf("duplicate: %d", res.StatusCode)
	}
	if res := mgr.Post(base, url.Values{"name": {"Eventos"}, "currency": {"JPY"}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad currency: %d", res.StatusCode)
	}
	if res := mgr.Post(edit, url.Values{"name": {"Casamentos e festas"}, "currency": {"USD"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("rename: %d", res.StatusCode)
	}
	page := mgr.Get(edit)
	if page.StatusCode != http.StatusOK || !strings.Contains(webtest.Text(page.Body), "Casamentos e festas") {
		t.Fatalf("edit page: %d", page.StatusCode)
	}
	pid, _ := strconv.ParseInt(edit[strings.LastIndex(edit, "/")+1:], 10, 64)
	stageIDs := func() []int64 {
		var ids []int64
		_ = inst.App.Store.DB().Select(&ids, `SELECT id FROM stages WHERE pipeline_id = $1 ORDER BY position, id`, pid)
		return ids
	}
	if res := mgr.Post(edit+"/stages", url.Values{"name": {"Degustação"}, "color": {"pink"}, "outcome": {"open"}, "description": {"Provou as flores."}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("add stage: %d", res.StatusCode)
	}
	if res := mgr.Post(edit+"/stages", url.Values{"name": {"X"}, "color": {"neon"}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad stage: %d", res.StatusCode)
	}
	ids := stageIDs()
	if len(ids) != 5 {
		t.Fatalf("%d stages", len(ids))
	}
	// Drag order: reversed; an order with a stranger's id is refused.
	form := url.Values{}
	for i := len(ids) - 1; i >= 0; i-- {
		form.Add("ids", fmt.Sprint(ids[i]))
	}
	if res := htmx(mgr, edit+"/stages/order", form); res.StatusCode >= 300 {
		t.Fatalf("order: %d", res.StatusCode)
	}
	if got := stageIDs(); got[0] != ids[4] || got[4] != ids[0] {
		t.Fatalf("after the drag: %v", got)
	}
	bad := url.Values{"ids": {fmt.Sprint(ids[0]), fmt.Sprint(b.stages[0])}}
	if res := htmx(mgr, edit+"/stages/order", bad); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("foreign order: %d", res.StatusCode)
	}
	if res := htmx(mgr, edit+"/stages/order", url.Values{"ids": {"abc"}}); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("order not numbers: %d", res.StatusCode)
	}
	// Arrows.
	if res := mgr.Post(fmt.Sprintf("%s/board/stages/%d/move", b.home, ids[4]), url.Values{"dir": {"down"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("stage down: %d", res.StatusCode)
	}
	if got := stageIDs(); got[1] != ids[4] {
		t.Fatalf("after down: %v", got)
	}
	if res := mgr.Post(fmt.Sprintf("%s/board/stages/%d", b.home, ids[4]), url.Values{"name": {"Prova"}, "color": {"teal"}, "outcome": {"won"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit stage: %d", res.StatusCode)
	}
	if res := mgr.Post(fmt.Sprintf("%s/board/stages/%d", b.home, ids[4]), url.Values{"name": {""}, "color": {"teal"}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("edit stage without a name: %d", res.StatusCode)
	}
	// A stage with a lead and its pipeline are not deleted: the page says why.
	b.lead(mgr, ids[4], "Buquê da noiva", "+5511987650400")
	res = mgr.Post(fmt.Sprintf("%s/board/stages/%d/delete", b.home, ids[4]), nil)
	if res.StatusCode != http.StatusConflict || !strings.Contains(webtest.Text(res.Body), "Not deleted: there are still leads in it (1)") {
		t.Fatalf("delete a stage with a lead: %d %s", res.StatusCode, snippetOf(res.Body))
	}
	res = mgr.Post(edit+"/delete", nil)
	if res.StatusCode != http.StatusConflict || !strings.Contains(webtest.Text(res.Body), "there are still leads in it (1)") {
		t.Fatalf("delete a pipeline with a lead: %d", res.StatusCode)
	}
	if res := mgr.Post(fmt.Sprintf("%s/board/stages/%d/delete", b.home, ids[0]), nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete an empty stage: %d", res.StatusCode)
	}
	// The other pipeline, empty, goes; its board is gone.
	if res := mgr.Post(fmt.Sprintf("%s/%d/delete", base, b.pid), nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete an empty pipeline: %d", res.StatusCode)
	}
	if res := mgr.Get(fmt.Sprintf("%s/board?pipeline=%d", b.home, b.pid)); res.StatusCode != http.StatusNotFound {
		t.Fatalf("board of a deleted pipeline: %d", res.StatusCode)
	}
	list := webtest.Text(mgr.Get(base).Body)
	if !strings.Contains(list, "Casamentos e festas") || strings.Contains(list, "Sales") {
		t.Fatalf("pipelines list: %s", list)
	}
	// The audit log tells who changed the pipelines.
	audit := webtest.Text(b.owner.Get(b.home + "/settings/audit").Body)
	for _, want := range []string{"Created a pipeline", "Reordered stages", "Deleted a pipeline"} {
		if !strings.Contains(audit, want) {
			t.Errorf("the audit log lacks %q", want)
		}
	}
}

// TestBoardLiveMove: a move made through one instance reaches an event stream on another,
// with what a board needs to move the card.
func TestBoardLiveMove(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	b := newBoardOrg(t, inst, "Sorveteria Gelada")
	l := b.lead(b.owner, b.stages[0], "Picolés", "+5511987650500")
	watcher, _ := b.member(model.RoleAgent)
	orgID := strings.TrimPrefix(b.home, "/o/")
	stream := openStream(t, watcher, "/events?org="+orgID, "")
	if res := htmx(b.owner, fmt.Sprintf("%s/board/leads/%d/move", b.home, l), url.Values{"stage_id": {fmt.Sprint(b.stages[3])}}); res.StatusCode != http.StatusOK {
		t.Fatalf("move: %d", res.StatusCode)
	}
	ev := next(t, stream, "lead.moved")
	if ev.Data["lead_id"] != float64(l) || ev.Data["to_stage_id"] != float64(b.stages[3]) || ev.Data["from_stage_id"] != float64(b.stages[0]) ||
		ev.Data["pipeline_id"] != float64(b.pid) || ev.Data["rank"] == "" {
		t.Fatalf("event %+v", ev.Data)
	}
}

// BenchmarkBoardRender measures the server time of the board of a pipeline with 5,000
// leads: the whole handler chain called in process, as BenchmarkHomePage does. The board
// shows the first cards of each column (board.Service.PerStage) with "Show more", and
// every column's count and value over all its leads. It reports the median and p95 in
// milliseconds, the cards on the page and the page's size.
func BenchmarkBoardRender(b *testing.B) {
	inst := webtest.Start(b)
	c := webtest.NewClient(b, inst.URL)
	home := c.Signup("Atacado Grande", "Ana", uniqueEmail("bench"), strongPassword)
	if res := c.Get(home + "/board"); res.StatusCode != http.StatusOK {
		b.Fatalf("board: %d", res.StatusCode)
	}
	orgID, _ := strconv.ParseInt(strings.TrimPrefix(home, "/o/"), 10, 64)
	// 5,000 contacts and leads in one statement, spread over the six stages; keys are
	// "a0" and a fraction that orders them by number.
	_, err := inst.App.Store.DB().Exec(`
		WITH st AS (
			SELECT id, pipeline_id, org_id, (row_number() OVER (ORDER BY position, id) - 1) AS k FROM stages WHERE org_id = $1
		), ct AS (
			INSERT INTO contacts (org_id, name, phone)
			SELECT $1, 'Cliente ' || g, '+5511' || lpad(g::text, 9, '0') FROM generate_series(1, 5000) g
			RETURNING id
		)
		INSERT INTO leads (org_id, pipeline_id, stage_id, contact_id, title, value_cents, owner_id, rank)
		SELECT st.org_id, st.pipeline_id, st.id, ct.id, 'Pedido de atacado nº ' || ct.id, (ct.id % 997) * 1500,
			CASE WHEN ct.id % 3 = 0 THEN (SELECT user_id FROM memberships WHERE org_id = $1 LIMIT 1) END,
			'a0' || lpad(ct.id::text, 6, '0') || '1'
		FROM ct JOIN st ON st.k = ct.id % 6`, orgID)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := inst.App.Store.DB().Exec(`ANALYZE leads; ANALYZE contacts`); err != nil {
		b.Fatal(err)
	}
	u, _ := url.Parse(inst.URL)
	cookies := c.HTTP.Jar.Cookies(u)
	h := inst.App.Web.Handler()
	request := func() *http.Request {
		req := httptest.NewRequest(http.MethodGet, home+"/board", nil)
		req.Header.Set("Accept-Language", "pt-BR")
		for _, ck := range cookies {
			req.AddCookie(ck)
		}
		return req
	}
	first := serve(h, request())
	if first.Code != http.StatusOK {
		b.Fatalf("board: %d", first.Code)
	}
	cards := strings.Count(first.Body.String(), `data-testid="lead-card"`)
	if !strings.Contains(first.Body.String(), `>834</span>`) {
		b.Fatal("the column counts do not add up the 5,000 leads")
	}
	var times []time.Duration
	size := 0
	b.ResetTimer()
	for b.Loop() {
		req := request()
		start := time.Now()
		rec := serve(h, req)
		times = append(times, time.Since(start))
		if rec.Code != http.StatusOK {
			b.Fatalf("board: %d", rec.Code)
		}
		size = rec.Body.Len()
	}
	b.StopTimer()
	b.ReportMetric(ms(percentile(times, 50)), "p50-ms")
	b.ReportMetric(ms(percentile(times, 95)), "p95-ms")
	b.ReportMetric(float64(cards), "leads/page")
	b.ReportMetric(float64(size)/1024, "kB/page")
}
