package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"masteria/app/model"
	"masteria/app/web/webtest"
)

// cadenceOrg is an org with a WhatsApp QR and a Twilio SMS channel, a stage, and another
// org with its own channel and stage.
type cadenceOrg struct {
	*inboxOrg
	id             int64
	qr, sms        model.Channel
	stage          model.Stage
	foreignCh      model.Channel
	foreignStage   model.Stage
	foreignCadence int64
}

func newCadenceOrg(t *testing.T) *cadenceOrg {
	t.Helper()
	ctx := context.Background()
	o := &cadenceOrg{inboxOrg: newInboxOrg(t)}
	o.id = o.inboxOrg.orgID()
	st := o.inst.App.Store
	mk := func(org int64, kind, name string) model.Channel {
		ch, err := st.CreateChannel(ctx, model.Channel{OrgID: org, Kind: kind, Name: name, Rate: 10})
		if err != nil {
			t.Fatal(err)
		}
		return ch
	}
	stage := func(org int64) model.Stage {
		p, err := st.CreatePipeline(ctx, org, "Vendas", "BRL")
		if err != nil {
			t.Fatal(err)
		}
		s, err := st.CreateStage(ctx, model.Stage{OrgID: org, PipelineID: p.ID, Name: "Quente", Color: "red", Outcome: "open"})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	o.qr, o.sms, o.stage = mk(o.id, model.KindWhatsAppQR, "WhatsApp Loja"), mk(o.id, model.KindTwilioSMS, "SMS Loja"), stage(o.id)
	other, err := st.CreateOrg(ctx, "Concorrente")
	if err != nil {
		t.Fatal(err)
	}
	o.foreignCh, o.foreignStage = mk(other.ID, model.KindTwilioSMS, "SMS deles"), stage(other.ID)
	c, err := o.inst.App.Cadences.Create(ctx, model.Actor{OrgID: other.ID, Role: model.RoleOwner}, model.Cadence{Name: "Deles",
		Steps: []model.CadenceStep{{ID: "s1", Kind: model.StepWait, WaitMinutes: 5}}})
	if err != nil {
		t.Fatal(err)
	}
	o.foreignCadence = c.ID
	return o
}

// readyForm is the ready-made cadence as the builder posts it: WhatsApp; if not delivered
// (read, replied) in 10 minutes, an SMS; wait a day; an AI call.
func (o *cadenceOrg) readyForm() url.Values {
	return url.Values{
		"name":   {"Boas-vindas"},
		"st0_id": {"s1"}, "st0_kind": {"whatsapp"}, "st0_channel": {fmt.Sprint(o.qr.ID)}, "st0_text": {"Oi {{primeiro_nome}}!"}, "st0_next": {""},
		"st1_id": {"s2"}, "st1_kind": {"await"}, "st1_await": {"s1"}, "st1_within": {"10"}, "st1_within_unit": {"minutes"},
		"st1_on_delivered": {"s4"}, "st1_on_read": {"s4"}, "st1_on_replied": {"s4"}, "st1_on_timeout": {""}, "st1_otherwise": {""},
		"st2_id": {"s3"}, "st2_kind": {"sms"}, "st2_channel": {fmt.Sprint(o.sms.ID)}, "st2_text": {"Oi {{primeiro_nome}}, tentamos pelo WhatsApp."}, "st2_next": {""},
		"st3_id": {"s4"}, "st3_kind": {"wait"}, "st3_wait": {"1"}, "st3_wait_unit": {"days"}, "st3_next": {""},
		"st4_id": {"s5"}, "st4_kind": {"call"}, "st4_number": {"0"}, "st4_agent": {""}, "st4_next": {""},
		"exit_on_reply": {"1"}, "goal_stage": {fmt.Sprint(o.stage.ID)},
	}
}

func withForm(f url.Values, kv ...string) url.Values {
	out := url.Values{}
	for k, v := range f {
		out[k] = append([]string(nil), v...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out.Set(kv[i], kv[i+1])
	}
	return out
}

var cardRE = regexp.MustCompile(`data-testid="cadence-step" data-step-id="([a-z0-9_-]+)" data-kind="([a-z]+)"`)

// cards are the builder's cards as "id:kind", in order.
func cards(body string) []string {
	var out []string
	for _, m := range cardRE.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1]+":"+m[2])
	}
	return out
}

// card is the HTML of one card.
func card(body, id string) string {
	i := strings.Index(body, `data-step-id="`+id+`"`)
	if i < 0 {
		return ""
	}
	rest := body[i:]
	if j := strings.Index(rest[1:], `data-testid="cadence-step"`); j > 0 {
		rest = rest[:j]
	}
	return rest
}

func TestCadenceBuilder(t *testing.T) {
	t.Parallel()
	o := newCadenceOrg(t)
	ctx := context.Background()
	res := o.owner.Get(o.home + "/cadences")
	if res.StatusCode != 200 || !strings.Contains(res.Body, `data-testid="cadences-empty"`) || !strings.Contains(res.Body, `href="`+o.home+`/cadences"`) {
		t.Fatalf("empty list: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	// The ready-made cadence, on the org's channels.
	res = o.owner.Get(o.home + "/cadences/new?from=ready")
	if got := strings.Join(cards(res.Body), " "); res.StatusCode != 200 || got != "s1:whatsapp s2:await s3:sms s4:wait s5:call" {
		t.Fatalf("ready-made: %d %q", res.StatusCode, got)
	}
	if !strings.Contains(card(res.Body, "s3"), fmt.Sprintf(`value="%d" selected`, o.sms.ID)) {
		t.Fatalf("the SMS step uses the org's SMS channel: %s", card(res.Body, "s3"))
	}
	// Changing the form without saving: add a tag step below the SMS, move it up, remove it.
	f := o.readyForm()
	res = o.owner.Post(o.home+"/cadences", withForm(f, "op", "add:3", "add_kind_3", "tag"))
	if got := strings.Join(cards(res.Body), " "); res.StatusCode != 200 || got != "s1:whatsapp s2:await s3:sms s6:tag s4:wait s5:call" {
		t.Fatalf("add: %d %q", res.StatusCode, got)
	}
	res = o.owner.Post(o.home+"/cadences", withForm(f, "op", "up:2"))
	if got := strings.Join(cards(res.Body), " "); res.StatusCode != 200 || got != "s1:whatsapp s3:sms s2:await s4:wait s5:call" {
		t.Fatalf("up: %d %q", res.StatusCode, got)
	}
	res = o.owner.Post(o.home+"/cadences", withForm(f, "op", "remove:2"))
	if got := strings.Join(cards(res.Body), " "); res.StatusCode != 200 || got != "s1:whatsapp s2:await s4:wait s5:call" {
		t.Fatalf("remove: %d %q", res.StatusCode, got)
	}
	res = o.owner.Post(o.home+"/cadences", withForm(f, "op", "add:9", "add_kind_9", "tag"))
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("add at a place that does not exist: %d", res.StatusCode)
	}
	res = o.owner.Post(o.home+"/cadences", withForm(f, "op", "add:1", "add_kind_1", "fax"))
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("add a kind that does not exist: %d", res.StatusCode)
	}
	// htmx gets the form only.
	res = o.owner.PostRaw(o.home+"/cadences", withForm(f, "op", "refresh", "_csrf", o.owner.CSRF()), "HX-Request", "true")
	if res.StatusCode != 200 || !strings.HasPrefix(strings.TrimSpace(res.Body), `<form id="cadence-form"`) {
		t.Fatalf("htmx refresh: %d %.200s", res.StatusCode, res.Body)
	}
	if n := count(t, o, "SELECT count(*) FROM cadences WHERE org_id = $1"); n != 0 {
		t.Fatalf("changing the form saves nothing: %d", n)
	}

	// Save: the cadence as built, the next of each card the card below.
	res = o.owner.Post(o.home+"/cadences", f)
	if res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "/cadences/") {
		t.Fatalf("save: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	var id int64
	_, _ = fmt.Sscanf(strings.TrimPrefix(res.Header.Get("Location"), o.home), "/cadences/%d", &id)
	c, err := o.inst.App.Cadences.Definition(ctx, o.id, id)
	if err != nil {
		t.Fatal(err)
	}
	s := c.Steps
	if c.Name != "Boas-vindas" || len(s) != 5 || s[0].Next != "s2" || s[1].Await != "s1" || s[1].WithinMinutes != 10 ||
		len(s[1].Branches) != 1 || s[1].Branches[0].Next != "s4" || strings.Join(s[1].Branches[0].Outcomes, ",") != "delivered,read,replied" ||
		s[1].Otherwise != "s3" || s[2].Next != "s4" || s[3].WaitMinutes != 24*60 || s[3].Next != "s5" || s[4].Next != "" ||
		!c.ExitOnReply || c.GoalStageID == nil || *c.GoalStageID != o.stage.ID {
		t.Fatalf("saved: %+v", c)
	}
	page := o.owner.Get(o.home + fmt.Sprintf("/cadences/%d", id))
	if page.StatusCode != 200 || !strings.Contains(page.Body, `data-testid="cadence-page-version">Version 1<`) ||
		strings.Join(cards(page.Body), " ") != "s1:whatsapp s2:await s3:sms s4:wait s5:call" {
		t.Fatalf("page: %d %s", page.StatusCode, webtest.Text(page.Body))
	}
	// Saving it again as the page shows it changes nothing.
	if res := o.owner.Post(o.home+fmt.Sprintf("/cadences/%d", id), f); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save again: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	if again, _ := o.inst.App.Cadences.Definition(ctx, o.id, id); fmt.Sprint(again.Steps) != fmt.Sprint(c.Steps) || again.CurrentVersion != 1 {
		t.Fatalf("again: %+v", again)
	}

	// Versions: once somebody is in version 1, a save makes version 2 and the page says so.
	contact, err := o.inst.App.Store.CreateContact(ctx, model.Contact{OrgID: o.id, Name: "Bia"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.inst.App.Store.DB().Exec(`INSERT INTO cadence_enrolments (org_id, cadence_id, version, contact_id, step_id) VALUES ($1, $2, 1, $3, 's1')`,
		o.id, id, contact); err != nil {
		t.Fatal(err)
	}
	if res := o.owner.Post(o.home+fmt.Sprintf("/cadences/%d", id), withForm(f, "st3_wait", "2")); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save with people in it: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	page = o.owner.Get(o.home + fmt.Sprintf("/cadences/%d", id))
	if !strings.Contains(page.Body, `data-testid="cadence-page-version">Version 2<`) {
		t.Fatalf("version 2: %s", webtest.Text(page.Body))
	}
	if v1, _ := o.inst.App.Store.CadenceSteps(ctx, o.id, id, 1); v1[3].WaitMinutes != 24*60 {
		t.Fatalf("version 1 stays: %+v", v1)
	}
	list := o.owner.Get(o.home + "/cadences")
	// The count of people in it links to them (the People tab, the active ones).
	people := fmt.Sprintf(`href="%s/cadences/%d/people?status=active" data-testid="cadence-active-link">1<`, o.home, id)
	if !strings.Contains(list.Body, people) || !strings.Contains(list.Body, "Version 2") {
		t.Fatalf("list: %s", webtest.Text(list.Body))
	}

	// Statuses.
	for _, step := range []struct{ action, status string }{{"activate", "active"}, {"pause", "paused"}, {"activate", "active"}, {"archive", "archived"}} {
		if res := o.owner.Post(o.home+fmt.Sprintf("/cadences/%d/%s", id, step.action), nil); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: %d %s", step.action, res.StatusCode, webtest.Text(res.Body))
		}
		if got, _ := o.inst.App.Store.Cadence(ctx, o.id, id); got.Status != step.status {
			t.Fatalf("after %s: %s", step.action, got.Status)
		}
	}
	if res := o.owner.Post(o.home+fmt.Sprintf("/cadences/%d/pause", id), nil); res.StatusCode != http.StatusConflict {
		t.Fatalf("pause an archived cadence: %d", res.StatusCode)
	}
	if res := o.owner.Post(o.home+fmt.Sprintf("/cadences/%d", id), f); res.StatusCode != http.StatusConflict {
		t.Fatalf("edit an archived cadence: %d", res.StatusCode)
	}
}

func count(t *testing.T, o *cadenceOrg, q string) (n int) {
	t.Helper()
	if err := o.inst.App.Store.DB().Get(&n, q, o.id); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestCadencePagesRefuse: every bad input is refused with its answer and saves nothing.
func TestCadencePagesRefuse(t *testing.T) {
	t.Parallel()
	o := newCadenceOrg(t)
	f := o.readyForm()
	// Field errors: 422, the form again, the message on the card that is wrong.
	for name, tc := range map[string]struct {
		form      url.Values
		card, say string
	}{
		"a step with no channel": {withForm(f, "st2_channel", ""), "s3", "Choose the channel to send from."},
		"a cycle in branches":    {withForm(f, "st3_next", "s1"), "s1", "go round in a circle"},
		"SMS on a WhatsApp":      {withForm(f, "st2_channel", fmt.Sprint(o.qr.ID)), "s3", "cannot send this kind"},
		"an SMS too long":        {withForm(f, "st2_text", strings.Repeat("a", 1601)), "s3", "at most 1,600"},
		"no name":                {withForm(f, "name", " "), "", "Give the cadence a name"},
		"a number not a number":  {withForm(f, "st3_wait", "muito"), "s4", "Say how long to wait"},
		"an await on nothing":    {withForm(f, "st1_await", ""), "s2", "Choose which message"},
	} {
		res := o.owner.Post(o.home+"/cadences", tc.form)
		where := res.Body
		if tc.card != "" {
			where = card(res.Body, tc.card)
		}
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(webtest.Text(where), tc.say) {
			t.Errorf("%s: %d; card %s: %s", name, res.StatusCode, tc.card, webtest.Text(where))
		}
	}
	// Another org's ids: not found.
	for name, form := range map[string]url.Values{
		"a foreign stage":   withForm(f, "st4_id", "s5", "st4_kind", "stage", "st4_stage", fmt.Sprint(o.foreignStage.ID)),
		"a foreign goal":    withForm(f, "goal_stage", fmt.Sprint(o.foreignStage.ID)),
		"a foreign channel": withForm(f, "st2_channel", fmt.Sprint(o.foreignCh.ID)),
	} {
		if res := o.owner.Post(o.home+"/cadences", form); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d", name, res.StatusCode)
		}
	}
	foreign := fmt.Sprintf("/cadences/%d", o.foreignCadence)
	if res := o.owner.Get(o.home + foreign); res.StatusCode != http.StatusNotFound {
		t.Errorf("another org's cadence: %d", res.StatusCode)
	}
	for _, p := range []string{foreign, foreign + "/activate", foreign + "/archive", "/cadences/abc", "/cadences/0/pause"} {
		if res := o.owner.Post(o.home+p, f); res.StatusCode != http.StatusNotFound {
			t.Errorf("POST %s: %d", p, res.StatusCode)
		}
	}
	// No CSRF, NUL bytes, invalid UTF-8, a body too big.
	noToken := withForm(f)
	noToken.Del("_csrf")
	if res := o.owner.PostRaw(o.home+"/cadences", noToken); res.StatusCode != http.StatusForbidden {
		t.Errorf("no CSRF: %d", res.StatusCode)
	}
	if res := o.owner.Post(o.home+"/cadences", withForm(f, "name", "Boas\x00vindas")); res.StatusCode != http.StatusBadRequest {
		t.Errorf("NUL: %d", res.StatusCode)
	}
	if res := o.owner.Post(o.home+"/cadences", withForm(f, "st2_text", "Oi \xff\xfe")); res.StatusCode != http.StatusBadRequest {
		t.Errorf("invalid UTF-8: %d", res.StatusCode)
	}
	if res := o.owner.Post(o.home+"/cadences", withForm(f, "st2_text", strings.Repeat("a", 3<<20))); res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("too big: %d", res.StatusCode)
	}
	if n := count(t, o, "SELECT count(*) FROM cadences WHERE org_id = $1"); n != 0 {
		t.Fatalf("nothing was saved: %d", n)
	}

	// Agents read the list and a cadence (read-only) but build nothing.
	res := o.owner.Post(o.home+"/cadences", f)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	mine := strings.TrimPrefix(res.Header.Get("Location"), o.home)
	mine = mine[:strings.Index(mine, "?")]
	agent, _ := o.member(model.RoleAgent)
	if res := agent.Get(o.home + "/cadences"); res.StatusCode != 200 || !strings.Contains(res.Body, "Boas-vindas") || strings.Contains(res.Body, `data-testid="cadences-new"`) {
		t.Errorf("agent list: %d", res.StatusCode)
	}
	if res := agent.Get(o.home + mine); res.StatusCode != 200 || !strings.Contains(res.Body, "<fieldset class=\"fieldset stack\" disabled") ||
		strings.Contains(res.Body, `data-testid="cadence-save"`) || strings.Contains(res.Body, `data-testid="cadence-activate"`) {
		t.Errorf("agent page: %d", res.StatusCode)
	}
	if res := agent.Get(o.home + "/cadences/new"); res.StatusCode != http.StatusForbidden {
		t.Errorf("agent new: %d", res.StatusCode)
	}
	for _, p := range []string{"/cadences", mine, mine + "/activate", mine + "/pause", mine + "/archive"} {
		if res := agent.Post(o.home+p, f); res.StatusCode != http.StatusForbidden {
			t.Errorf("agent POST %s: %d", p, res.StatusCode)
		}
	}
	if n := count(t, o, "SELECT count(*) FROM cadences WHERE org_id = $1 AND status = 'draft'"); n != 1 {
		t.Fatalf("the agent changed nothing: %d", n)
	}
	// Activation checks the steps again: the SMS number became another kind of channel
	// since the cadence was saved, so it stays a draft and the SMS card says why.
	if _, err := o.inst.App.Store.DB().Exec(`UPDATE channels SET kind = 'sandbox' WHERE id = $1`, o.sms.ID); err != nil {
		t.Fatal(err)
	}
	res = o.owner.Post(o.home+mine+"/activate", nil)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(webtest.Text(card(res.Body, "s3")), "cannot send this kind") ||
		!strings.Contains(webtest.Text(res.Body), "cannot start yet") {
		t.Fatalf("activate with a wrong channel: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	if n := count(t, o, "SELECT count(*) FROM cadences WHERE org_id = $1 AND status = 'draft'"); n != 1 {
		t.Fatalf("it stays a draft: %d", n)
	}
}
