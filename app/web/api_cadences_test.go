package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"masteria/app/model"
)

// TestAPICadences: create, read, list and edit a cadence through the API, and every bad
// request answered with its code, changing nothing.
func TestAPICadences(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	o := newCadenceOrg(t)
	key, err := o.inst.App.Account.CreateAPIKeyForOrgName(ctx, o.name, "ERP")
	if err != nil {
		t.Fatal(err)
	}
	api := func(method, path, body string) (int, string, string) {
		t.Helper()
		res := apiCall(t, o.owner, key, method, "/api/v1"+path, body)
		return res.StatusCode, apiCode(t, res), res.Body
	}
	steps := fmt.Sprintf(`[{"id":"s1","kind":"whatsapp","channel_id":%d,"message":{"text":"Oi {{nome}}"},"next":"s2"},
		{"id":"s2","kind":"await","await":"s1","within_minutes":10,"branches":[{"outcomes":["delivered","read"],"next":"s4"}],"otherwise":"s3"},
		{"id":"s3","kind":"sms","channel_id":%d,"message":{"text":"Oi {{nome}}, tentamos pelo WhatsApp"},"next":"s4"},
		{"id":"s4","kind":"wait","wait_minutes":1440,"next":"s5"},
		{"id":"s5","kind":"call"}]`, o.qr.ID, o.sms.ID)
	body := func(name, steps string) string { return fmt.Sprintf(`{"name":%q,"steps":%s}`, name, steps) }

	before := count(t, o, "SELECT count(*) FROM cadences WHERE org_id = $1")
	for name, tc := range map[string]struct {
		body   string
		status int
		code   string
	}{
		"not json":           {`{"name":`, 400, "bad_json"},
		"unknown field":      {`{"name":"x","steps":[],"loops":1}`, 400, "bad_json"},
		"unknown step field": {`{"name":"x","steps":[{"id":"s1","kind":"wait","wait_minutes":5,"sleep":1}]}`, 400, "bad_json"},
		"no steps":           {body("x", "[]"), 422, "invalid"},
		"a step no channel":  {body("x", `[{"id":"s1","kind":"sms","message":{"text":"oi"}}]`), 422, "invalid"},
		"a cycle":            {body("x", `[{"id":"s1","kind":"wait","wait_minutes":5,"next":"s2"},{"id":"s2","kind":"wait","wait_minutes":5,"next":"s1"}]`), 422, "invalid"},
		"a foreign stage":    {body("x", fmt.Sprintf(`[{"id":"s1","kind":"stage","stage_id":%d}]`, o.foreignStage.ID)), 404, "not_found"},
		"a foreign channel":  {body("x", fmt.Sprintf(`[{"id":"s1","kind":"sms","channel_id":%d,"message":{"text":"oi"}}]`, o.foreignCh.ID)), 404, "not_found"},
		"a foreign goal":     {fmt.Sprintf(`{"name":"x","steps":%s,"goal_stage_id":%d}`, steps, o.foreignStage.ID), 404, "not_found"},
		"NUL in the name":    {body("a\x00b", steps), 400, ""},
		"invalid UTF-8":      {`{"name":"a` + "\xff" + `","steps":[]}`, 400, ""},
		"too big":            {body(strings.Repeat("a", 3<<20), steps), 413, ""},
	} {
		status, code, res := api("POST", "/cadences", tc.body)
		if status != tc.status || (tc.code != "" && code != tc.code) {
			t.Errorf("%s: %d %s, want %d %s", name, status, res[:min(len(res), 300)], tc.status, tc.code)
		}
	}
	if status, _, res := api("POST", "/cadences", body("x", `[{"id":"s1","kind":"sms","message":{"text":"oi"}}]`)); !strings.Contains(res, `"steps.s1.channel_id":"Choose the channel to send from."`) {
		t.Errorf("the field errors say which step and what, in words: %d %s", status, res)
	}
	if n := count(t, o, "SELECT count(*) FROM cadences WHERE org_id = $1"); n != before {
		t.Fatalf("bad creates stored %d", n-before)
	}

	status, _, res := api("POST", "/cadences", body("Boas-vindas", steps))
	var out struct{ Cadence model.Cadence }
	if err := json.Unmarshal([]byte(res), &out); status != 201 || err != nil || out.Cadence.Status != "draft" || len(out.Cadence.Steps) != 5 || !out.Cadence.ExitOnReply {
		t.Fatalf("create: %d %s", status, res)
	}
	path := fmt.Sprintf("/cadences/%d", out.Cadence.ID)
	if status, _, res := api("GET", path, ""); status != 200 || !strings.Contains(res, `"await":"s1"`) || !strings.Contains(res, `"version":1`) {
		t.Fatalf("read: %d %s", status, res)
	}
	if status, _, res := api("GET", "/cadences", ""); status != 200 || !strings.Contains(res, `"name":"Boas-vindas"`) || !strings.Contains(res, `"active":0`) {
		t.Fatalf("list: %d %s", status, res)
	}
	foreign := fmt.Sprintf("/cadences/%d", o.foreignCadence)
	if status, code, _ := api("GET", foreign, ""); status != 404 || code != "not_found" {
		t.Errorf("read another org's: %d %s", status, code)
	}
	if status, code, _ := api("PUT", foreign, body("Minha", steps)); status != 404 || code != "not_found" {
		t.Errorf("edit another org's: %d %s", status, code)
	}
	if status, _, _ := api("GET", "/cadences/abc", ""); status != 404 {
		t.Errorf("a path id that is no number: %d", status)
	}
	if status, code, _ := api("PUT", path, body("x", `[{"id":"s1","kind":"wait","wait_minutes":5,"next":"s1"}]`)); status != 422 || code != "invalid" {
		t.Errorf("edit into a loop: %d %s", status, code)
	}
	// People walk version 1: an edit is version 2.
	contact, err := o.inst.App.Store.CreateContact(ctx, model.Contact{OrgID: o.id, Name: "Bia"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.inst.App.Store.DB().Exec(`INSERT INTO cadence_enrolments (org_id, cadence_id, version, contact_id, step_id) VALUES ($1, $2, 1, $3, 's1')`,
		o.id, out.Cadence.ID, contact); err != nil {
		t.Fatal(err)
	}
	if status, _, res := api("PUT", path, body("Boas-vindas 2", steps)); status != 200 || !strings.Contains(res, `"version":2`) || !strings.Contains(res, `"name":"Boas-vindas 2"`) {
		t.Fatalf("edit: %d %s", status, res)
	}
}
