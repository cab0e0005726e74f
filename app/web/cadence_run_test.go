package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"masteria/app/model"
	"masteria/app/web/webtest"
)

// cadenceRunOrg is an inbox org with an active cadence that only waits (nothing is sent) and
// a contact.
type cadenceRunOrg struct {
	*inboxOrg
	cadence int64
	contact int64
}

func newCadenceRunOrg(t *testing.T) *cadenceRunOrg {
	t.Helper()
	o := &cadenceRunOrg{inboxOrg: newInboxOrg(t)}
	db := o.inst.App.Store.DB()
	if err := db.Get(&o.cadence, `INSERT INTO cadences (org_id, name, status) VALUES ($1, 'Boas-vindas', 'active') RETURNING id`, o.orgID()); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO cadence_versions (org_id, cadence_id, version, steps)
		VALUES ($1, $2, 1, '[{"id":"s1","kind":"wait","wait_minutes":600,"next":"s2"},{"id":"s2","kind":"classify"}]')`, o.orgID(), o.cadence); err != nil {
		t.Fatal(err)
	}
	o.contact = o.receive("+5511955550101", "Rita Gomes", "Oi").ContactID
	return o
}

func (o *cadenceRunOrg) enrolments(status string) (n int) {
	_ = o.inst.App.Store.DB().Get(&n, `SELECT count(*) FROM cadence_enrolments WHERE org_id = $1 AND ($2 = '' OR status = $2)`, o.orgID(), status)
	return n
}

// TestCadenceRunPages: a manager enrols a contact from its page, sees it in the cadence's
// People tab and its timeline, pauses, resumes and removes it; enrolling twice is a no-op.
func TestCadenceRunPages(t *testing.T) {
	t.Parallel()
	o := newCadenceRunOrg(t)
	contactPath := fmt.Sprintf("%s/contacts/%d", o.home, o.contact)
	page := o.owner.Get(contactPath)
	if page.StatusCode != http.StatusOK || !strings.Contains(page.Body, `data-testid="contact-cadences"`) ||
		!strings.Contains(page.Body, `data-testid="contact-enrol-cadence"`) {
		t.Fatalf("contact page: %d %s", page.StatusCode, webtest.Text(page.Body))
	}
	form := url.Values{"cadence_id": {fmt.Sprint(o.cadence)}, "contact_id": {fmt.Sprint(o.contact)}}
	if res := o.owner.Post(o.home+"/cadences/enrol", form); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != contactPath {
		t.Fatalf("enrol: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if res := o.owner.Post(o.home+"/cadences/enrol", form); res.StatusCode != http.StatusSeeOther || o.enrolments("") != 1 {
		t.Fatalf("enrol again: %d, %d enrolments", res.StatusCode, o.enrolments(""))
	}
	// In it now: its page no longer offers the cadence (the org's only active one).
	if page := o.owner.Get(contactPath); strings.Contains(page.Body, `data-testid="contact-enrol-cadence"`) {
		t.Fatalf("the contact page offers the cadence the contact is in: %s", webtest.Text(page.Body))
	}
	var eid int64
	_ = o.inst.App.Store.DB().Get(&eid, `SELECT id FROM cadence_enrolments WHERE org_id = $1`, o.orgID())
	people := fmt.Sprintf("%s/cadences/%d/people", o.home, o.cadence)
	res := o.owner.Get(people)
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, "Rita Gomes") || !strings.Contains(res.Body, `data-testid="cadence-funnel-s1"`) {
		t.Fatalf("people: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	if res := o.owner.Get(people, hxHeader...); res.StatusCode != http.StatusOK || strings.Contains(res.Body, "<html") ||
		!strings.Contains(res.Body, `id="cadence-people"`) {
		t.Fatalf("people fragment: %d", res.StatusCode)
	}
	if res := o.owner.Get(people + "?status=exited"); res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `data-testid="cadence-enrolments-empty"`) {
		t.Fatalf("people, exited: %d", res.StatusCode)
	}
	enrolment := fmt.Sprintf("%s/enrolments/%d", o.home, eid)
	waitFor(t, "the wait step's line", func() bool {
		return strings.Contains(o.owner.Get(enrolment).Body, `data-step="s1"`)
	})
	for _, step := range []struct{ action, want string }{{"pause", "paused"}, {"resume", "active"}, {"exit", "exited"}} {
		if res := o.owner.Post(enrolment+"/"+step.action, nil); res.StatusCode != http.StatusSeeOther || o.enrolments(step.want) != 1 {
			t.Fatalf("%s: %d, %d %s", step.action, res.StatusCode, o.enrolments(step.want), step.want)
		}
	}
	if res := o.owner.Get(enrolment); !strings.Contains(res.Body, `data-testid="enrolment-exit-reason"`) {
		t.Fatalf("the timeline does not say why it ended: %s", webtest.Text(res.Body))
	}
	// Many from the contacts list's bulk bar, one from a board card's menu (back to the board).
	second := o.receive("+5511955550102", "Caio Reis", "Olá").ContactID
	list := o.owner.Get(o.home + "/contacts")
	if !strings.Contains(list.Body, `data-testid="bulk-cadence"`) || !strings.Contains(list.Body, `value="enrol"`) {
		t.Fatalf("the bulk bar has no enrol action")
	}
	if res := o.owner.Post(o.home+"/contacts/bulk", url.Values{"action": {"enrol"}, "cadence_id": {fmt.Sprint(o.cadence)},
		"ids": {fmt.Sprint(o.contact), fmt.Sprint(second)}}); res.StatusCode != http.StatusSeeOther || o.enrolments(model.EnrolmentActive) != 2 {
		t.Fatalf("bulk enrol: %d, %d active", res.StatusCode, o.enrolments(model.EnrolmentActive))
	}
	third := o.receive("+5511955550103", "Bia Lins", "Oi").ContactID
	var pipeline, stage int64
	_ = o.inst.App.Store.DB().Get(&pipeline, `SELECT id FROM pipelines WHERE org_id = $1 ORDER BY id LIMIT 1`, o.orgID())
	_ = o.inst.App.Store.DB().Get(&stage, `SELECT id FROM stages WHERE org_id = $1 AND pipeline_id = $2 ORDER BY position LIMIT 1`, o.orgID(), pipeline)
	lead, err := o.inst.App.Store.CreateLead(context.Background(), model.Lead{OrgID: o.orgID(), PipelineID: pipeline, StageID: stage,
		ContactID: third, Title: "Bolo", Rank: "a"})
	if err != nil {
		t.Fatal(err)
	}
	menu := o.owner.Get(fmt.Sprintf("%s/board/leads/%d/menu", o.home, lead), hxHeader...)
	if !strings.Contains(menu.Body, `data-testid="lead-enrol"`) {
		t.Fatalf("the card menu has no enrol form: %s", webtest.Text(menu.Body))
	}
	if res := o.owner.Post(o.home+"/cadences/enrol", url.Values{"cadence_id": {fmt.Sprint(o.cadence)}, "contact_id": {fmt.Sprint(third)},
		"return": {o.home + "/board"}}); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != o.home+"/board" {
		t.Fatalf("enrol from the board: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if n := o.enrolments(model.EnrolmentActive); n != 3 {
		t.Fatalf("%d active enrolments, want 3", n)
	}

	// Portuguese.
	if res := o.owner.Post("/locale", url.Values{"locale": {"pt-BR"}}); res.StatusCode >= 400 {
		t.Fatalf("locale: %d", res.StatusCode)
	}
	if res := o.owner.Get(people); !strings.Contains(res.Body, "Pessoas nesta cadência") {
		t.Fatalf("people in Portuguese: %s", webtest.Text(res.Body))
	}
}

// TestCadenceRunBadInput: agents, other orgs, missing CSRF, NUL and invalid UTF-8, bodies
// too large, filters that are not statuses, in the pages and the API.
func TestCadenceRunBadInput(t *testing.T) {
	t.Parallel()
	o := newCadenceRunOrg(t)
	ctx := context.Background()
	res, err := o.inst.App.CadenceEngine.Enrol(ctx, model.Actor{OrgID: o.orgID(), Role: model.RoleOwner}, o.cadence, []int64{o.contact}, model.EnrolManual)
	if err != nil || res.Enrolled != 1 {
		t.Fatalf("enrol: %+v %v", res, err)
	}
	eid := res.IDs[0]
	enrolment := fmt.Sprintf("%s/enrolments/%d", o.home, eid)
	people := fmt.Sprintf("%s/cadences/%d/people", o.home, o.cadence)
	enrol := url.Values{"cadence_id": {fmt.Sprint(o.cadence)}, "contact_id": {fmt.Sprint(o.contact)}}

	agent, _ := o.member(model.RoleAgent)
	for _, p := range []string{people, enrolment} {
		if r := agent.Get(p); r.StatusCode != http.StatusForbidden {
			t.Errorf("agent GET %s: %d", p, r.StatusCode)
		}
	}
	for _, p := range []string{enrolment + "/pause", enrolment + "/exit", o.home + "/cadences/enrol"} {
		if r := agent.Post(p, url.Values{"cadence_id": enrol["cadence_id"], "contact_id": enrol["contact_id"]}); r.StatusCode != http.StatusForbidden {
			t.Errorf("agent POST %s: %d", p, r.StatusCode)
		}
	}
	card := agent.Get(fmt.Sprintf("%s/contacts/%d/cadences", o.home, o.contact))
	if card.StatusCode != http.StatusOK || !strings.Contains(card.Body, "Boas-vindas") || strings.Contains(card.Body, "contact-enrol") ||
		strings.Contains(card.Body, "contact-cadence-exit") {
		t.Errorf("agent's card: %d %s", card.StatusCode, webtest.Text(card.Body))
	}

	// Another org on the same instance, with a contact of its own.
	other := &inboxOrg{t: t, inst: o.inst, owner: webtest.NewClient(t, o.inst.URL), name: "Sorveteria Polo Norte"}
	other.home = other.owner.Signup(other.name, "Otto", uniqueEmail("otto"), strongPassword)
	var otherContact int64
	if err := o.inst.App.Store.DB().Get(&otherContact, `INSERT INTO contacts (org_id, name, phone) VALUES ($1, 'Outro', '+5511955550199') RETURNING id`, other.orgID()); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{
		fmt.Sprintf("%s/cadences/%d/people", other.home, o.cadence),
		fmt.Sprintf("%s/enrolments/%d", other.home, eid),
		fmt.Sprintf("%s/contacts/%d/cadences", other.home, o.contact),
		people, enrolment,
	} {
		if r := other.owner.Get(p); r.StatusCode != http.StatusNotFound && r.StatusCode != http.StatusForbidden {
			t.Errorf("another org GET %s: %d", p, r.StatusCode)
		}
	}
	if r := other.owner.Post(fmt.Sprintf("%s/enrolments/%d/exit", other.home, eid), nil); r.StatusCode != http.StatusNotFound {
		t.Errorf("another org removes: %d", r.StatusCode)
	}
	if r := other.owner.Post(other.home+"/cadences/enrol", url.Values{"cadence_id": enrol["cadence_id"], "contact_id": enrol["contact_id"]}); r.StatusCode != http.StatusNotFound {
		t.Errorf("another org enrols in a foreign cadence: %d", r.StatusCode)
	}
	foreign := url.Values{"cadence_id": {fmt.Sprint(o.cadence)}, "contact_id": {fmt.Sprint(otherContact)}}
	if r := o.owner.Post(o.home+"/cadences/enrol", foreign); r.StatusCode != http.StatusNotFound {
		t.Errorf("enrol a foreign contact: %d", r.StatusCode)
	}
	if r := o.owner.PostRaw(enrolment+"/exit", url.Values{}); r.StatusCode != http.StatusForbidden {
		t.Errorf("no CSRF: %d", r.StatusCode)
	}
	for name, f := range map[string]url.Values{
		"NUL":          {"cadence_id": {fmt.Sprint(o.cadence) + "\x00"}, "contact_id": {fmt.Sprint(o.contact)}},
		"invalid UTF8": {"cadence_id": {fmt.Sprint(o.cadence)}, "contact_id": {"\xff\xfe"}},
	} {
		if r := o.owner.Post(o.home+"/cadences/enrol", f); r.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d", name, r.StatusCode)
		}
	}
	for name, f := range map[string]url.Values{
		"no cadence":  {"contact_id": {fmt.Sprint(o.contact)}},
		"no contacts": {"cadence_id": {fmt.Sprint(o.cadence)}},
		"bad contact": {"cadence_id": {fmt.Sprint(o.cadence)}, "contact_id": {"-3"}},
	} {
		if r := o.owner.Post(o.home+"/cadences/enrol", f); r.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d", name, r.StatusCode)
		}
	}
	big := url.Values{"cadence_id": {fmt.Sprint(o.cadence)}, "contact_id": {strings.Repeat("1", 3<<20)}}
	if r := o.owner.Post(o.home+"/cadences/enrol", big); r.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized: %d", r.StatusCode)
	}
	if r := o.owner.Get(people + "?status=nope"); r.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("bad filter: %d", r.StatusCode)
	}
	if r := o.owner.Get(people + "?before=x"); r.StatusCode != http.StatusBadRequest {
		t.Errorf("bad cursor: %d", r.StatusCode)
	}
	if n := o.enrolments(model.EnrolmentActive); n != 1 {
		t.Fatalf("refused requests changed enrolments: %d active", n)
	}

	// The API: a key without the scope, another org's key, NUL, broken and oversized JSON.
	_, ownerKey, err := o.inst.App.Account.CreateAPIKey(ctx, model.Actor{OrgID: o.orgID(), Role: model.RoleOwner}, "owner's")
	if err != nil {
		t.Fatal(err)
	}
	// A key for contacts only may not touch cadences.
	_, agentKey, err := o.inst.App.Account.CreateScopedAPIKey(ctx, model.Actor{OrgID: o.orgID(), Role: model.RoleAdmin}, "contatos", "contacts:write")
	if err != nil {
		t.Fatal(err)
	}
	otherKey, err := other.inst.App.Account.CreateAPIKeyForOrgName(ctx, other.name, "other")
	if err != nil {
		t.Fatal(err)
	}
	api := func(method, path, key, body string) (int, string) {
		req, _ := http.NewRequest(method, o.inst.URL+"/api/v1"+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return r.StatusCode, string(b)
	}
	enrolPath := fmt.Sprintf("/cadences/%d/enrolments", o.cadence)
	body := fmt.Sprintf(`{"contact_ids":[%d]}`, o.contact)
	for _, c := range []struct {
		name, method, path, key, body string
		want                          int
	}{
		{"contacts key enrols", "POST", enrolPath, agentKey, body, 403},
		{"contacts key removes", "DELETE", fmt.Sprintf("%s/%d", enrolPath, eid), agentKey, "", 403},
		{"other org enrols", "POST", enrolPath, otherKey, body, 404},
		{"other org reads", "GET", fmt.Sprintf("/enrolments/%d", eid), otherKey, "", 404},
		{"other org removes", "DELETE", fmt.Sprintf("%s/%d", enrolPath, eid), otherKey, "", 404},
		{"wrong cadence", "DELETE", fmt.Sprintf("/cadences/%d/enrolments/%d", o.cadence+1000, eid), ownerKey, "", 404},
		{"bad id", "GET", "/enrolments/abc", ownerKey, "", 404},
		{"NUL", "POST", enrolPath, ownerKey, `{"contact_ids":[1],"x":"\u0000"}`, 400},
		{"broken JSON", "POST", enrolPath, ownerKey, `{"contact_ids":`, 400},
		{"strings", "POST", enrolPath, ownerKey, `{"contact_ids":["1"]}`, 400},
		{"oversized", "POST", enrolPath, ownerKey, `{"contact_ids":[` + strings.Repeat("1,", 2<<20) + `1]}`, 413},
		{"too many", "POST", enrolPath, ownerKey, `{"contact_ids":[` + strings.TrimSuffix(idList(10001), ",") + `]}`, 422},
	} {
		if got, b := api(c.method, c.path, c.key, c.body); got != c.want {
			t.Errorf("API %s: %d %s, want %d", c.name, got, b, c.want)
		}
	}
	if n := o.enrolments(model.EnrolmentActive); n != 1 {
		t.Fatalf("refused API calls changed enrolments: %d active", n)
	}
	code, b := api("GET", fmt.Sprintf("/enrolments/%d", eid), ownerKey, "")
	var got struct{ Enrolment model.Enrolment }
	if err := json.Unmarshal([]byte(b), &got); code != 200 || err != nil || got.Enrolment.ContactID != o.contact {
		t.Fatalf("read: %d %s", code, b)
	}
}

func idList(n int) string {
	var sb strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&sb, "%d,", i)
	}
	return sb.String()
}
