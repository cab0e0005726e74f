package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"masteria/app/model"
	"masteria/app/store/storetest"
	"masteria/app/web/webtest"
)

// orgID is the org id of the inbox org's home path.
func (o *inboxOrg) orgID() int64 {
	var id int64
	_, _ = fmt.Sscanf(o.home, "/o/%d", &id)
	return id
}

func TestInboxSettingsPage(t *testing.T) {
	t.Parallel()
	o := newInboxOrg(t)
	agent, agentID := o.member(model.RoleAgent)
	manager, _ := o.member(model.RoleManager)

	res := o.owner.Get(o.home + "/settings/inbox")
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `data-testid="inbox-settings-restrict"`) {
		t.Fatalf("settings page: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	for _, c := range []*webtest.Client{agent, manager} {
		if res := c.Get(o.home + "/settings/inbox"); res.StatusCode != http.StatusForbidden {
			t.Fatalf("non-admin page: %d", res.StatusCode)
		}
		if res := c.Post(o.home+"/settings/inbox", url.Values{"round_robin": {"on"}}); res.StatusCode != http.StatusForbidden {
			t.Fatalf("non-admin save: %d", res.StatusCode)
		}
	}
	for name, form := range map[string]url.Values{
		"bad checkbox":    {"restrict_agents": {"maybe"}},
		"bad member id":   {"rotation": {"abc"}},
		"negative id":     {"rotation": {"-3"}},
		"not a member":    {"rotation": {"999999"}},
		"bad round robin": {"round_robin": {"yes please"}},
		"bad open day":    {"open_1": {"sometimes"}},
		"bad time":        {"open_1": {"on"}, "from_1": {"9h"}, "to_1": {"18:00"}},
		"closing first":   {"open_2": {"on"}, "from_2": {"18:00"}, "to_2": {"09:00"}},
		"no times":        {"open_3": {"on"}},
		"letters target":  {"response_target": {"quinze"}},
		"negative target": {"response_target": {"-5"}},
		"huge target":     {"response_target": {"10081"}},
	} {
		if res := o.owner.Post(o.home+"/settings/inbox", form); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, `role="alert"`) && !strings.Contains(res.Body, "alert") {
			t.Fatalf("%s: %d %s", name, res.StatusCode, webtest.Text(res.Body))
		}
	}
	// Text the app cannot store is refused before the handler, with a clear page.
	for name, form := range map[string]url.Values{
		"NUL in a time":  {"open_4": {"on"}, "from_4": {"09:\x000"}, "to_4": {"18:00"}},
		"bad UTF-8 time": {"open_5": {"on"}, "from_5": {"\xff\xfe:00"}, "to_5": {"18:00"}},
		"NUL target":     {"response_target": {"1\x005"}},
	} {
		if res := o.owner.Post(o.home+"/settings/inbox", form); res.StatusCode != http.StatusBadRequest {
			t.Fatalf("%s: %d %s", name, res.StatusCode, webtest.Text(res.Body))
		}
	}
	if s, _ := o.inst.App.Inbox.Settings(context.Background(), o.orgID()); s != model.DefaultInboxSettings {
		t.Fatalf("refused saves changed the settings: %+v", s)
	}
	res = o.owner.Post(o.home+"/settings/inbox", url.Values{"round_robin": {"on"}, "rotation": {fmt.Sprint(agentID)}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	if s, _ := o.inst.App.Inbox.Settings(context.Background(), o.orgID()); s.RestrictAgents || !s.RoundRobin {
		t.Fatalf("saved: %+v", s)
	}
	// Business hours on weekdays and a 10-minute target, as the page sends them.
	week := url.Values{"response_target": {"10"}}
	for d := 1; d <= 5; d++ {
		week.Set(fmt.Sprintf("open_%d", d), "on")
		week.Set(fmt.Sprintf("from_%d", d), "09:00")
		week.Set(fmt.Sprintf("to_%d", d), "18:00")
	}
	week.Set("from_6", "10:00") // a closed day's times are not kept
	if res := o.owner.Post(o.home+"/settings/inbox", week); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save hours: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	s, _ := o.inst.App.Inbox.Settings(context.Background(), o.orgID())
	if s.ResponseTarget != 10 || !s.BusinessHours[time.Monday].Open || s.BusinessHours[time.Friday].To != "18:00" ||
		s.BusinessHours[time.Saturday].Open || s.BusinessHours[time.Saturday].From != "" || s.RoundRobin {
		t.Fatalf("saved hours: %+v", s)
	}
	if res := o.owner.Get(o.home + "/settings/inbox"); !strings.Contains(res.Body, `checked data-testid="inbox-hours-open-1"`) ||
		!strings.Contains(res.Body, `name="response_target" value="10"`) {
		t.Fatalf("the page does not show the saved hours: %s", webtest.Text(res.Body))
	}
	res = o.owner.Post(o.home+"/settings/inbox", url.Values{"round_robin": {"on"}, "rotation": {fmt.Sprint(agentID)}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	// Round-robin now gives a new conversation to the only member of the rotation.
	r := o.receive("+5511955550001", "Rita", "Oi")
	if c, _ := o.inst.App.Inbox.Conversation(context.Background(), o.orgID(), r.ConversationID); c.AssigneeID == nil || *c.AssigneeID != agentID {
		t.Fatalf("auto-assigned to %v, want %d", c.AssigneeID, agentID)
	}
}

// TestAgentRestriction walks every route of a conversation as a second agent, with the org
// restricting agents (404 everywhere) and then not (allowed).
func TestAgentRestriction(t *testing.T) {
	t.Parallel()
	o := newInboxOrg(t)
	ana, anaID := o.member(model.RoleAgent)
	bia, _ := o.member(model.RoleAgent)
	r := o.receive("+5511955550002", "Carla Dias", "Bom dia")
	conv := fmt.Sprintf("%s/inbox/%d", o.home, r.ConversationID)
	if res := ana.Post(conv+"/assign", url.Values{"user_id": {fmt.Sprint(anaID)}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("ana takes it: %d", res.StatusCode)
	}
	if res := o.owner.Post(o.home+"/settings/quick-replies", url.Values{"shortcut": {"ola"}, "title": {"Saudação"}, "body": {"Olá {{nome}}!"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("quick reply: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	type call struct {
		name, method, path string
		form               url.Values
		allowed            int
	}
	calls := []call{
		{"page", "GET", conv, nil, http.StatusOK},
		{"thread", "GET", conv + "/thread", nil, http.StatusOK},
		{"head", "GET", conv + "/head", nil, http.StatusOK},
		{"quick replies", "GET", conv + "/quick-replies?q=ol", nil, http.StatusOK},
		{"presence", "POST", conv + "/presence", url.Values{"state": {"viewing"}}, http.StatusNoContent},
		{"label", "POST", conv + "/labels", url.Values{"label": {"VIP"}}, http.StatusSeeOther},
		{"unlabel", "POST", conv + "/labels/remove", url.Values{"label": {"VIP"}}, http.StatusSeeOther},
		{"note", "POST", conv + "/notes", url.Values{"body": {"olhando"}}, http.StatusSeeOther},
		{"send", "POST", conv + "/messages", url.Values{"body": {"Oi Carla"}}, http.StatusSeeOther},
		{"status", "POST", conv + "/status", url.Values{"status": {"pending"}}, http.StatusSeeOther},
		{"assign", "POST", conv + "/assign", url.Values{"user_id": {"0"}}, http.StatusSeeOther},
	}
	do := func(c call) *webtest.Response {
		if c.method == "GET" {
			return bia.Get(c.path)
		}
		return bia.Post(c.path, c.form)
	}
	for _, c := range calls {
		if res := do(c); res.StatusCode != http.StatusNotFound {
			t.Errorf("restricted %s: %d, want 404", c.name, res.StatusCode)
		}
	}
	if res := bia.Get(o.home + "/inbox?view=all"); strings.Contains(res.Body, "Carla Dias") {
		t.Error("restricted list shows another agent's conversation")
	}
	if t.Failed() {
		return
	}
	if res := o.owner.Post(o.home+"/settings/inbox", url.Values{"rotation": {fmt.Sprint(anaID)}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("unrestrict: %d", res.StatusCode)
	}
	if res := bia.Get(o.home + "/inbox?view=all"); !strings.Contains(res.Body, "Carla Dias") {
		t.Error("unrestricted list hides another agent's conversation")
	}
	for _, c := range calls {
		if res := do(c); res.StatusCode != c.allowed {
			t.Errorf("unrestricted %s: %d, want %d: %s", c.name, res.StatusCode, c.allowed, webtest.Text(res.Body))
		}
	}
	// Seeing is not handing out: an agent cannot give the conversation to someone else.
	if res := bia.Post(conv+"/assign", url.Values{"user_id": {fmt.Sprint(anaID)}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("agent assigning to another: %d", res.StatusCode)
	}
}

func TestConversationLabels(t *testing.T) {
	t.Parallel()
	o := newInboxOrg(t)
	r1 := o.receive("+5511955550003", "Duda", "Quero um bolo")
	r2 := o.receive("+5511955550004", "Edu", "Qual o horário?")
	conv := fmt.Sprintf("%s/inbox/%d", o.home, r1.ConversationID)
	hx := func(path string, form url.Values) *webtest.Response {
		return o.owner.PostRaw(path, form, "HX-Request", "true", "X-CSRF-Token", o.owner.CSRF())
	}
	res := hx(conv+"/labels", url.Values{"label": {"  Encomenda  "}})
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `data-testid="inbox-label"`) || !strings.Contains(res.Body, "Encomenda") {
		t.Fatalf("add: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	for _, bad := range []string{"", "   ", strings.Repeat("x", 33)} {
		res := hx(conv+"/labels", url.Values{"label": {bad}})
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, `data-testid="inbox-label-error"`) {
			t.Fatalf("bad label %q: %d %s", bad, res.StatusCode, webtest.Text(res.Body))
		}
	}
	for i := range 9 {
		hx(conv+"/labels", url.Values{"label": {fmt.Sprintf("etiqueta %d", i)}})
	}
	if res := hx(conv+"/labels", url.Values{"label": {"demais"}}); res.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(res.Body, "10") {
		t.Fatalf("11th label: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	// The filter lists only the labelled conversation, with its chips; the menu offers the label.
	res = o.owner.Get(o.home + "/inbox?label=Encomenda")
	if !strings.Contains(res.Body, "Duda") || strings.Contains(res.Body, "Edu</span>") || !strings.Contains(res.Body, `data-testid="inbox-item-labels"`) ||
		!strings.Contains(res.Body, `data-testid="inbox-label-filter"`) {
		t.Fatalf("filtered list: %s", webtest.Text(res.Body))
	}
	res = o.owner.Get(fmt.Sprintf("%s/inbox/%d", o.home, r2.ConversationID))
	if !strings.Contains(res.Body, `<option value="Encomenda">`) {
		t.Fatalf("suggestions missing: %s", webtest.Text(res.Body))
	}
	if res := hx(conv+"/labels/remove", url.Values{"label": {"Encomenda"}}); res.StatusCode != http.StatusOK || strings.Contains(res.Body, ">Encomenda<") {
		t.Fatalf("remove: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	if res := o.owner.Get(o.home + "/inbox/list?label=Encomenda"); strings.Contains(res.Body, "Duda") {
		t.Fatal("a removed label still filters")
	}
	if res := o.owner.Post(o.home+"/inbox/999999/labels", url.Values{"label": {"x"}}); res.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown conversation: %d", res.StatusCode)
	}
}

func TestQuickReplies(t *testing.T) {
	t.Parallel()
	o := newInboxOrg(t)
	agent, _ := o.member(model.RoleAgent)
	page := o.home + "/settings/quick-replies"
	if res := o.owner.Get(page); res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `data-testid="quick-replies-empty"`) {
		t.Fatalf("empty page: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	if res := agent.Get(page); res.StatusCode != http.StatusForbidden {
		t.Fatalf("agent page: %d", res.StatusCode)
	}
	if res := agent.Post(page, url.Values{"shortcut": {"ola"}, "title": {"Oi"}, "body": {"Oi"}}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("agent create: %d", res.StatusCode)
	}
	if res := o.owner.Post(page, url.Values{"shortcut": {"/Ola"}, "title": {"Saudação"}, "body": {"Olá {{nome}}, tudo bem?"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	for name, form := range map[string]url.Values{
		"taken":          {"shortcut": {"ola"}, "title": {"Outra"}, "body": {"x"}},
		"spaces":         {"shortcut": {"bom dia"}, "title": {"Bom dia"}, "body": {"x"}},
		"long shortcut":  {"shortcut": {strings.Repeat("a", 33)}, "title": {"x"}, "body": {"x"}},
		"no title":       {"shortcut": {"x"}, "title": {"  "}, "body": {"x"}},
		"no body":        {"shortcut": {"x"}, "title": {"x"}, "body": {" "}},
		"long body":      {"shortcut": {"x"}, "title": {"x"}, "body": {strings.Repeat("b", 4097)}},
		"empty shortcut": {"title": {"x"}, "body": {"x"}},
	} {
		if res := o.owner.Post(page, form); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "field-error") {
			t.Errorf("%s: %d %s", name, res.StatusCode, webtest.Text(res.Body))
		}
	}
	qs, _ := o.inst.App.Inbox.QuickReplies(context.Background(), o.orgID())
	if len(qs) != 1 || qs[0].Shortcut != "ola" {
		t.Fatalf("stored: %+v", qs)
	}
	id := qs[0].ID
	if res := o.owner.Get(fmt.Sprintf("%s/%d", page, id)); res.StatusCode != http.StatusOK || !strings.Contains(res.Body, "Olá {{nome}}") {
		t.Fatalf("edit page: %d", res.StatusCode)
	}
	if res := o.owner.Post(fmt.Sprintf("%s/%d", page, id), url.Values{"shortcut": {"oi"}, "title": {"Saudação"}, "body": {"Oi {{nome}}!"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("update: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	o.owner.Post(page, url.Values{"shortcut": {"horario"}, "title": {"Horário"}, "body": {"Abrimos às 8h."}})

	// The composer's endpoint: by prefix, with the contact's first name, org-scoped.
	r := o.receive("+5511955550005", "Fernanda Lima", "Oi")
	qr := fmt.Sprintf("%s/inbox/%d/quick-replies", o.home, r.ConversationID)
	var got struct {
		QuickReplies []struct{ Shortcut, Title, Body string } `json:"quick_replies"`
	}
	res := agent.Get(qr + "?q=o")
	if err := json.Unmarshal([]byte(res.Body), &got); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("prefix: %d %s %v", res.StatusCode, res.Body, err)
	}
	if len(got.QuickReplies) != 1 || got.QuickReplies[0].Body != "Oi Fernanda!" {
		t.Fatalf("prefix o: %+v", got)
	}
	if res := agent.Get(qr + "?q=%25"); !strings.Contains(res.Body, `"quick_replies":[]`) {
		t.Fatalf("a LIKE wildcard matched: %s", res.Body)
	}
	stranger := webtest.NewClient(t, o.inst.URL)
	otherHome := stranger.Signup("Outra Loja", "Otto", uniqueEmail("otto"), strongPassword)
	if res := stranger.Get(strings.Replace(qr, o.home, otherHome, 1) + "?q="); res.StatusCode != http.StatusNotFound {
		t.Fatalf("another org's conversation: %d", res.StatusCode)
	}
	if res := stranger.Get(otherHome + "/settings/quick-replies"); strings.Contains(res.Body, "horario") || !strings.Contains(res.Body, `data-testid="quick-replies-empty"`) {
		t.Fatal("another org sees the quick replies")
	}
	if res := stranger.Post(fmt.Sprintf("%s/settings/quick-replies/%d/delete", otherHome, id), nil); res.StatusCode != http.StatusNotFound {
		t.Fatalf("delete from another org: %d", res.StatusCode)
	}
	if res := o.owner.Post(fmt.Sprintf("%s/%d/delete", page, id), nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d", res.StatusCode)
	}
	if qs, _ := o.inst.App.Inbox.QuickReplies(context.Background(), o.orgID()); len(qs) != 1 {
		t.Fatalf("after delete: %d", len(qs))
	}
}

// onlyOwnerEmail is the email of an inbox org's owner.
func onlyOwnerEmail(t *testing.T, o *inboxOrg) string {
	t.Helper()
	ms, err := o.inst.App.Account.Members(context.Background(), o.orgID())
	if err != nil || len(ms) == 0 {
		t.Fatal(err)
	}
	return ms[0].UserEmail
}

// TestPresenceReachesOtherInstance: an agent viewing a conversation through instance A is
// announced to a member's stream on instance B, without an id (not stored); a restricted
// agent cannot announce themself on another agent's conversation.
func TestPresenceReachesOtherInstance(t *testing.T) {
	t.Parallel()
	db := storetest.URL(t)
	a := webtest.StartOn(t, db, nil)
	b := webtest.StartOn(t, db, nil)
	owner := webtest.NewClient(t, a.URL)
	home := owner.Signup("Pastelaria", "Gabi", uniqueEmail("gabi"), strongPassword)
	if res := owner.Post(home+"/settings/channels", url.Values{"kind": {model.KindSandbox}, "name": {"Balcão"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("channel: %d", res.StatusCode)
	}
	var orgID int64
	_, _ = fmt.Sscanf(home, "/o/%d", &orgID)
	chs, _ := a.App.Inbox.Channels(context.Background(), orgID)
	o := &inboxOrg{t: t, inst: a, owner: owner, home: home, name: "Pastelaria", ch: chs[0]}
	agent, agentID := o.member(model.RoleAgent)
	other, _ := o.member(model.RoleAgent)
	r := o.receive("+5511955550006", "Hugo", "Tem pastel de queijo?")
	conv := fmt.Sprintf("%s/inbox/%d", home, r.ConversationID)
	if res := agent.Post(conv+"/assign", url.Values{"user_id": {fmt.Sprint(agentID)}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("assign: %d", res.StatusCode)
	}

	watcher := webtest.NewClient(t, b.URL)
	watcher.Login(onlyOwnerEmail(t, o), strongPassword)
	stream := openStream(t, watcher, fmt.Sprintf("/events?org=%d", orgID), "")

	if res := other.Post(conv+"/presence", url.Values{"state": {"viewing"}}); res.StatusCode != http.StatusNotFound {
		t.Fatalf("restricted agent's presence: %d", res.StatusCode)
	}
	for _, bad := range []string{"", "sleeping"} {
		if res := agent.Post(conv+"/presence", url.Values{"state": {bad}}); res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("state %q: %d", bad, res.StatusCode)
		}
	}
	if res := agent.Post(conv+"/presence", url.Values{"state": {"typing"}}); res.StatusCode != http.StatusNoContent {
		t.Fatalf("presence: %d %s", res.StatusCode, res.Body)
	}
	ev := next(t, stream, "conversation.presence")
	if ev.ID != "" || ev.Data["state"] != "typing" || ev.Data["conversation_id"] != float64(r.ConversationID) || ev.Data["user_id"] != float64(agentID) || ev.Data["name"] == "" {
		t.Fatalf("presence event: %+v", ev)
	}
	var stored int
	if err := a.App.Store.DB().Get(&stored, `SELECT count(*) FROM events WHERE type = 'conversation.presence'`); err != nil || stored != 0 {
		t.Fatalf("presence stored %d times (%v)", stored, err)
	}

	// The other agent (the org restricts agents) is not told who is in a conversation they
	// may not open: the first presence their stream gets is the one of an unassigned one.
	otherStream := openStream(t, other, fmt.Sprintf("/events?org=%d", orgID), "")
	if res := agent.Post(conv+"/presence", url.Values{"state": {"viewing"}}); res.StatusCode != http.StatusNoContent {
		t.Fatalf("presence: %d", res.StatusCode)
	}
	open := o.receive("+5511955550016", "Lia", "Oi")
	if res := agent.Post(fmt.Sprintf("%s/inbox/%d/presence", home, open.ConversationID), url.Values{"state": {"viewing"}}); res.StatusCode != http.StatusNoContent {
		t.Fatalf("presence on an unassigned conversation: %d", res.StatusCode)
	}
	if ev := next(t, otherStream, "conversation.presence"); ev.Data["conversation_id"] != float64(open.ConversationID) {
		t.Fatalf("the restricted agent got presence of conversation %v", ev.Data["conversation_id"])
	}
	if ev := next(t, stream, "conversation.presence"); ev.Data["conversation_id"] != float64(r.ConversationID) {
		t.Fatalf("the owner missed presence of conversation %d: %+v", r.ConversationID, ev)
	}
}

func TestContactPanelShowsLeads(t *testing.T) {
	t.Parallel()
	o := newInboxOrg(t)
	r := o.receive("+5511955550007", "Iara", "Quero orçamento")
	res := o.owner.Get(fmt.Sprintf("%s/inbox/%d", o.home, r.ConversationID))
	if !strings.Contains(res.Body, `data-testid="inbox-contact-leads"`) || strings.Contains(res.Body, `data-testid="inbox-contact-lead"`) {
		t.Fatalf("no leads yet: %s", webtest.Text(res.Body))
	}
	if res := o.owner.Get(o.home + "/board"); res.StatusCode != http.StatusOK { // makes the default pipeline
		t.Fatalf("board: %d", res.StatusCode)
	}
	var stage int64
	if err := o.inst.App.Store.DB().Get(&stage, `SELECT id FROM stages WHERE org_id = $1 ORDER BY position LIMIT 1`, o.orgID()); err != nil {
		t.Fatal(err)
	}
	res = o.owner.Post(o.home+"/board/leads", url.Values{"stage_id": {fmt.Sprint(stage)}, "title": {"Bolo de casamento"}, "contact_id": {fmt.Sprint(r.ContactID)}})
	if res.StatusCode != http.StatusSeeOther && res.StatusCode != http.StatusOK {
		t.Fatalf("lead: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	res = o.owner.Get(fmt.Sprintf("%s/inbox/%d", o.home, r.ConversationID))
	if !strings.Contains(res.Body, `data-testid="inbox-contact-lead"`) || !strings.Contains(res.Body, "Bolo de casamento") || !strings.Contains(res.Body, `data-testid="inbox-lead-stage"`) {
		t.Fatalf("lead missing: %s", webtest.Text(res.Body))
	}
}
