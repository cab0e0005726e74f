package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"masteria/app/model"
	"masteria/app/sim/twiliosim"
	"masteria/app/voice/retell"
	"masteria/app/web/webtest"
)

type apiNumber struct {
	ID         int64  `json:"id"`
	Phone      string `json:"phone_number"`
	Source     string `json:"source"`
	Step       string `json:"step"`
	Status     string `json:"status"`
	LastError  string `json:"last_error"`
	Release    string `json:"release_step"`
	Inbound    string `json:"inbound_agent_id"`
	Outbound   string `json:"outbound_agent_id"`
	Steps      []struct{ Step, State string }
	SIPSecrets string `json:"sip_password_sealed"`
}

type apiNumberAnswer struct {
	Number    apiNumber   `json:"number"`
	Numbers   []apiNumber `json:"numbers"`
	Available []struct {
		PhoneNumber string `json:"phone_number"`
	} `json:"available"`
	Error struct {
		Code, Step, Message string
		Fields              map[string]string
	} `json:"error"`
}

func TestVoiceNumbersAPI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := startVoiceNumbers(t, "Clínica API Voz")
	owner, err := e.inst.App.Account.CreateAPIKeyForOrgName(ctx, e.orgName, "ERP")
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := e.inst.App.Account.CreateAPIKeyForOrgName(ctx, "Outra "+e.orgName, "ERP")
	if err != nil {
		t.Fatal(err)
	}
	var orgID int64
	_ = e.inst.App.Store.DB().Get(&orgID, `SELECT id FROM orgs WHERE name = $1`, e.orgName)
	// A key that may only read voice numbers.
	_, agentKey, err := e.inst.App.Account.CreateScopedAPIKey(ctx, model.Actor{OrgID: orgID, Role: model.RoleAdmin}, "painel", "voice:read")
	if err != nil {
		t.Fatal(err)
	}
	c := webtest.NewClient(t, e.inst.URL)
	do := func(method, path, body, key string, want int) apiNumberAnswer {
		t.Helper()
		req, _ := http.NewRequest(method, e.inst.URL+"/api/v1"+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		res := c.Do(req)
		if res.StatusCode != want {
			t.Fatalf("%s %s: %d %s, want %d", method, path, res.StatusCode, res.Body, want)
		}
		if strings.Contains(res.Body, "sip_password") || strings.Contains(res.Body, "twilio_number_sid") {
			t.Fatalf("%s %s shows secrets or sids: %s", method, path, res.Body)
		}
		var out apiNumberAnswer
		if err := json.Unmarshal([]byte(res.Body), &out); err != nil {
			t.Fatalf("%s %s: %v %s", method, path, err, res.Body)
		}
		return out
	}
	ch := e.channel

	// Search.
	got := do("GET", fmt.Sprintf("/voice-numbers/available?channel_id=%d&country=us&area_code=628", ch), "", owner, 200)
	if len(got.Available) != 20 || !strings.HasPrefix(got.Available[0].PhoneNumber, "+1628") {
		t.Fatalf("available: %+v", got.Available)
	}
	if got := do("GET", fmt.Sprintf("/voice-numbers/available?channel_id=%d&country=US&area_code=62a", ch), "", owner, 400); got.Error.Fields["area_code"] != "Type 2 or 3 digits." {
		t.Fatalf("bad area code: %+v", got.Error)
	}
	do("GET", fmt.Sprintf("/voice-numbers/available?channel_id=%d&country=USA", ch), "", owner, 400)
	do("GET", "/voice-numbers/available?channel_id=abc&country=US", "", owner, 400)
	do("GET", fmt.Sprintf("/voice-numbers/available?channel_id=%d&country=US", ch), "", foreign, 404)
	do("GET", fmt.Sprintf("/voice-numbers/available?channel_id=%d&country=U%%00S", ch), "", owner, 400)

	// A read-only key reads and changes nothing.
	do("GET", "/voice-numbers", "", agentKey, 200)
	do("GET", fmt.Sprintf("/voice-numbers/available?channel_id=%d&country=US", ch), "", agentKey, 200)
	buyBody := fmt.Sprintf(`{"channel_id":%d,"phone_number":"+16285550100","country":"US","inbound_agent_id":%q,"outbound_agent_id":%q,"nickname":"Recepção"}`,
		ch, e.agentIn, e.agentOut)
	do("POST", "/voice-numbers", buyBody, agentKey, 403)

	// Bad input buys nothing: a number in a bad format, unknown fields, NUL, invalid UTF-8,
	// a body too large, another org's channel.
	bad := do("POST", "/voice-numbers", fmt.Sprintf(`{"channel_id":%d,"phone_number":"+1 628 555 0100"}`, ch), owner, 400)
	if bad.Error.Code != "invalid" || !strings.Contains(bad.Error.Message, "phone_number: Use the international format, like +14155550100.") {
		t.Fatalf("bad format: %+v", bad.Error)
	}
	do("POST", "/voice-numbers", fmt.Sprintf(`{"channel_id":%d,"number":"+16285550100"}`, ch), owner, 400)
	do("POST", "/voice-numbers", fmt.Sprintf(`{"channel_id":%d,"phone_number":"+16285550100","nickname":"a\u0000b"}`, ch), owner, 400)
	do("POST", "/voice-numbers", fmt.Sprintf(`{"channel_id":%d,"phone_number":"+16285550100","nickname":"a%sb"}`, ch, "\xff"), owner, 400)
	do("POST", "/voice-numbers", fmt.Sprintf(`{"channel_id":%d,"phone_number":"+16285550100","nickname":"%s"}`, ch, strings.Repeat("a", 20<<10)), owner, 413)
	do("POST", "/voice-numbers", buyBody, foreign, 404)
	if n := len(e.ts.Purchases()); n != 0 {
		t.Fatalf("bad input bought %d numbers", n)
	}

	// Buy: the trunk fails once; the answer says where and why, and continue finishes.
	e.ts.FailNext(twiliosim.OpCreateTrunk, http.StatusInternalServerError, 20500, "Internal Server Error")
	failed := do("POST", "/voice-numbers", buyBody, owner, 502)
	n := failed.Number
	if failed.Error.Code != "step_failed" || failed.Error.Step != model.NumberTrunk || !strings.Contains(failed.Error.Message, "code 20500") ||
		n.Status != "failed" || n.Steps[0].State != "done" || n.Steps[1].State != "failed" || n.Steps[2].State != "todo" {
		t.Fatalf("failed buy: %+v", failed)
	}
	read := do("GET", fmt.Sprintf("/voice-numbers/%d", n.ID), "", owner, 200).Number
	if read.Status != "failed" || read.Step != model.NumberTrunk || !strings.Contains(read.LastError, "Internal Server Error") || read.Inbound != e.agentIn {
		t.Fatalf("read: %+v", read)
	}
	do("GET", fmt.Sprintf("/voice-numbers/%d", n.ID), "", foreign, 404)
	do("POST", fmt.Sprintf("/voice-numbers/%d/continue", n.ID), "", foreign, 404)
	do("POST", fmt.Sprintf("/voice-numbers/%d/continue", n.ID), "", agentKey, 403)
	do("GET", "/voice-numbers/0x1", "", owner, 404)
	ready := do("POST", fmt.Sprintf("/voice-numbers/%d/continue", n.ID), "", owner, 200).Number
	if ready.Status != "ready" || len(e.ts.Purchases()) != 1 || len(e.rs.Imports()) != 1 {
		t.Fatalf("continue: %+v, %d purchases", ready, len(e.ts.Purchases()))
	}
	for _, s := range ready.Steps {
		if s.State != "done" {
			t.Fatalf("steps of a ready number: %+v", ready.Steps)
		}
	}
	do("POST", "/voice-numbers", buyBody, owner, 409) // the org has it already

	// Agents.
	agents := fmt.Sprintf("/voice-numbers/%d/agents", n.ID)
	if got := do("PUT", agents, fmt.Sprintf(`{"inbound_agent_id":%q}`, e.agentOut), owner, 200).Number; got.Inbound != e.agentOut || got.Outbound != "" {
		t.Fatalf("agents: %+v", got)
	}
	if p := e.rs.PhoneNumbers()[0]; len(p.InboundAgents) != 1 || p.InboundAgents[0].AgentID != e.agentOut || len(p.OutboundAgents) != 0 {
		t.Fatalf("Retell's number: %+v", p)
	}
	do("PUT", agents, `{"inbound_agent_id":"agent one"}`, owner, 400)
	do("PUT", agents, `{"inbound_agent_id":"agent_unknown"}`, owner, 502)
	do("PUT", agents, `{}`, foreign, 404)
	do("PUT", agents, `{}`, agentKey, 403)

	// Link.
	const linked = "+14155550123"
	e.rs.AddPhoneNumber(retell.PhoneNumber{PhoneNumber: linked, PhoneNumberType: "retell-twilio"})
	do("POST", "/voice-numbers/link", `{"phone_number":"4155550123"}`, owner, 400)
	if got := do("POST", "/voice-numbers/link", `{"phone_number":"+14155550999"}`, owner, 422); got.Error.Code != "not_in_retell" {
		t.Fatalf("link unknown: %+v", got.Error)
	}
	do("POST", "/voice-numbers/link", `{"phone_number":"+14155550123"}`, agentKey, 403)
	link := do("POST", "/voice-numbers/link", `{"phone_number":"+14155550123"}`, owner, 201).Number
	if link.Source != "linked" || link.Status != "ready" || len(link.Steps) != 0 {
		t.Fatalf("link: %+v", link)
	}
	if list := do("GET", "/voice-numbers", "", owner, 200).Numbers; len(list) != 2 {
		t.Fatalf("list: %+v", list)
	}
	if list := do("GET", "/voice-numbers", "", foreign, 200).Numbers; len(list) != 0 {
		t.Fatalf("another org sees: %+v", list)
	}

	// Release: Twilio refuses to give the number back once; continue finishes without
	// asking Retell or deleting the trunk again.
	release := fmt.Sprintf("/voice-numbers/%d", n.ID)
	do("DELETE", release, "", agentKey, 403)
	do("DELETE", release, "", foreign, 404)
	do("DELETE", release+"?from_retell=maybe", "", owner, 400)
	e.ts.FailNext(twiliosim.OpReleaseNumber, http.StatusBadRequest, 21606, "The number cannot be released yet")
	stopped := do("DELETE", release, "", owner, 502)
	if stopped.Error.Step != "release_number" || stopped.Number.Status != "release_failed" || stopped.Number.Release != "number" ||
		stopped.Number.Steps[4].State != "done" || stopped.Number.Steps[5].State != "failed" {
		t.Fatalf("stopped release: %+v", stopped)
	}
	do("PUT", agents, `{}`, owner, 409) // not while it is being released
	e.ts.FailNext(twiliosim.OpDeleteTrunk, http.StatusForbidden, 20403, "asked twice")
	e.rs.FailNext("/delete-phone-number/+16285550100", http.StatusForbidden, "asked twice", 1)
	if got := do("POST", release+"/continue", "", owner, 200).Number; got.Status != "released" {
		t.Fatalf("continue release: %+v", got)
	}
	if r := e.ts.Released(); len(r) != 1 || r[0].PhoneNumber != "+16285550100" || len(e.ts.Trunks()) != 0 {
		t.Fatalf("Twilio: %+v", r)
	}
	do("GET", release, "", owner, 404)

	// The linked number leaves Retell only when asked.
	if got := do("DELETE", fmt.Sprintf("/voice-numbers/%d?from_retell=true", link.ID), "", owner, 200).Number; got.Status != "released" {
		t.Fatalf("unlink: %+v", got)
	}
	for _, p := range e.rs.PhoneNumbers() {
		if p.PhoneNumber == linked {
			t.Fatal("still in Retell")
		}
	}
}
