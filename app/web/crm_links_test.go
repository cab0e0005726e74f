package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"masteria/app/model"
	"masteria/app/web/webtest"
)

// foreignIDs are a contact and a channel of another org.
func foreignIDs(t *testing.T, inst *webtest.Instance) (contactID, channelID int64) {
	t.Helper()
	ctx := context.Background()
	other := webtest.NewClient(t, inst.URL)
	home := other.Signup("Outra Loja", "Otávio", uniqueEmail("otavio"), strongPassword)
	var orgID int64
	_, _ = fmt.Sscanf(home, "/o/%d", &orgID)
	p := "+5511944440099"
	id, err := inst.App.Store.CreateContact(ctx, model.Contact{OrgID: orgID, Name: "Estranho", Phone: &p})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := inst.App.Inbox.CreateChannel(ctx, model.Actor{OrgID: orgID, Role: model.RoleOwner}, model.KindSandbox, "Outro", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return id, ch.ID
}

func TestStartConversationPages(t *testing.T) {
	t.Parallel()
	o := newInboxOrg(t)
	ctx := context.Background()
	p := "+5511944440001"
	joao, err := o.inst.App.Store.CreateContact(ctx, model.Contact{OrgID: o.orgID(), Name: "João Silva", Phone: &p})
	if err != nil {
		t.Fatal(err)
	}
	fContact, fChannel := foreignIDs(t, o.inst)

	// The page, its fragments, and foreign or malformed ids.
	if res := o.owner.Get(o.home + "/inbox/new"); res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `data-testid="start-form"`) {
		t.Fatalf("new conversation page: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	if res := o.owner.Get(fmt.Sprintf("%s/inbox/new?contact=%d", o.home, joao)); res.StatusCode != http.StatusOK || !strings.Contains(res.Body, "João Silva") {
		t.Fatalf("with a contact: %d", res.StatusCode)
	}
	if res := o.owner.Get(o.home + "/inbox/new/contacts?q=Jo"); res.StatusCode != http.StatusOK || !strings.Contains(res.Body, "João Silva") {
		t.Fatalf("contact search: %d %s", res.StatusCode, res.Body)
	}
	if res := o.owner.Get(fmt.Sprintf("%s/inbox/new/templates?channel_id=%d&contact_id=%d", o.home, o.ch.ID, joao)); res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `data-testid="start-body"`) {
		t.Fatalf("message part: %d %s", res.StatusCode, res.Body)
	}
	for _, path := range []string{
		fmt.Sprintf("/inbox/new?contact=%d", fContact), "/inbox/new?contact=abc", fmt.Sprintf("/inbox/new?channel=%d", fChannel),
		fmt.Sprintf("/inbox/new/templates?channel_id=%d", fChannel), fmt.Sprintf("/inbox/new/templates?channel_id=%d&contact_id=%d", o.ch.ID, fContact),
		fmt.Sprintf("/contacts/%d/conversation", fContact), fmt.Sprintf("/contacts/%d/conversation?channel=%d", joao, fChannel),
	} {
		if res := o.owner.Get(o.home + path); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, res.StatusCode)
		}
	}
	// No conversation yet: "Send message" opens the form with the contact chosen.
	res := o.owner.Get(fmt.Sprintf("%s/contacts/%d/conversation", o.home, joao))
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != fmt.Sprintf("%s/inbox/new?contact=%d", o.home, joao) {
		t.Fatalf("send message without a conversation: %d %s", res.StatusCode, res.Header.Get("Location"))
	}

	// Refusals: CSRF, foreign ids, nothing to send, no channel, a bad number.
	ok := url.Values{"contact_id": {fmt.Sprint(joao)}, "channel_id": {fmt.Sprint(o.ch.ID)}, "body": {"Oi João, seu orçamento ficou pronto"}}
	if res := o.owner.PostRaw(o.home+"/inbox/new", ok); res.StatusCode != http.StatusForbidden {
		t.Fatalf("without CSRF: %d", res.StatusCode)
	}
	for name, tc := range map[string]struct {
		form   url.Values
		status int
	}{
		"foreign contact": {url.Values{"contact_id": {fmt.Sprint(fContact)}, "channel_id": {fmt.Sprint(o.ch.ID)}, "body": {"x"}}, 404},
		"foreign channel": {url.Values{"contact_id": {fmt.Sprint(joao)}, "channel_id": {fmt.Sprint(fChannel)}, "body": {"x"}}, 404},
		"empty":           {url.Values{"contact_id": {fmt.Sprint(joao)}, "channel_id": {fmt.Sprint(o.ch.ID)}, "body": {" "}}, 422},
		"no channel":      {url.Values{"contact_id": {fmt.Sprint(joao)}, "body": {"x"}}, 422},
		"nobody":          {url.Values{"channel_id": {fmt.Sprint(o.ch.ID)}, "body": {"x"}}, 422},
		"bad number":      {url.Values{"to": {"12"}, "channel_id": {fmt.Sprint(o.ch.ID)}, "body": {"x"}}, 422},
	} {
		if res := o.owner.Post(o.home+"/inbox/new", tc.form); res.StatusCode != tc.status {
			t.Errorf("%s: %d, want %d (%s)", name, res.StatusCode, tc.status, webtest.Text(res.Body))
		}
	}
	var n int
	_ = o.inst.App.Store.DB().Get(&n, `SELECT count(*) FROM conversations WHERE org_id = $1`, o.orgID())
	if n != 0 {
		t.Fatalf("refused starts left %d conversations", n)
	}

	// Started: the inbox opens on it, and the contact page shows it.
	res = o.owner.Post(o.home+"/inbox/new", ok)
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), o.home+"/inbox/") {
		t.Fatalf("start: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	convPath := res.Header.Get("Location")
	if res := o.owner.Get(fmt.Sprintf("%s/contacts/%d/conversation", o.home, joao)); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != convPath {
		t.Fatalf("send message with a conversation: %d %s, want %s", res.StatusCode, res.Header.Get("Location"), convPath)
	}
	if res := o.owner.Get(fmt.Sprintf("%s/contacts/%d/conversation?channel=%d", o.home, joao, o.ch.ID)); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != convPath {
		t.Fatalf("send message on a channel: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	page := o.owner.Get(fmt.Sprintf("%s/contacts/%d", o.home, joao))
	for _, want := range []string{`data-testid="timeline-conversation"`, "seu orçamento ficou pronto", `data-testid="contact-send"`, `data-testid="contact-conversation"`} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("contact page lacks %s", want)
		}
	}
	if strings.Contains(page.Body, "wa.me") {
		t.Error("the contact page links to wa.me")
	}
	// A number nobody has: a new contact.
	res = o.owner.Post(o.home+"/inbox/new", url.Values{"to": {"(11) 94444-0002"}, "channel_id": {fmt.Sprint(o.ch.ID)}, "body": {"Olá!"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("start with a number: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	if _, err := o.inst.App.Store.ContactIDByPhone(ctx, o.orgID(), "+5511944440002"); err != nil {
		t.Fatalf("the number's contact: %v", err)
	}

	// Home reads what is really done, above the owner's dashboard.
	homePage := o.owner.Get(o.home)
	for _, want := range []string{`data-testid="checklist-connect_channel" data-done="true"`, `data-testid="checklist-import_contacts" data-done="true"`,
		`data-testid="checklist-first_message" data-done="true"`, `data-testid="dashboard"`,
		`data-testid="checklist-name_org" data-done="true"`} { // named at sign-up
		if !strings.Contains(homePage.Body, want) {
			t.Errorf("home lacks %s", want)
		}
	}
	if strings.Contains(homePage.Body, "Coming soon") {
		t.Error("home says coming soon")
	}

	// With several channels, "Send message" asks which one.
	if _, err := o.inst.App.Inbox.CreateChannel(ctx, model.Actor{OrgID: o.orgID(), Role: model.RoleOwner}, model.KindSandbox, "Vendas", nil, nil); err != nil {
		t.Fatal(err)
	}
	if page := o.owner.Get(fmt.Sprintf("%s/contacts/%d", o.home, joao)); strings.Count(page.Body, `data-testid="contact-send-channel"`) != 2 {
		t.Errorf("the channel choice lacks a channel: %s", webtest.Text(page.Body))
	}

	// An agent restricted to their own: the owner's conversation is not there.
	agent, _ := o.member(model.RoleAgent)
	if res := agent.Get(o.home + strings.TrimPrefix(convPath, o.home)); res.StatusCode != http.StatusNotFound {
		t.Fatalf("agent opens the owner's conversation: %d", res.StatusCode)
	}
	if res := agent.Post(o.home+"/inbox/new", fresh(ok)); res.StatusCode != http.StatusNotFound {
		t.Fatalf("agent starts in the owner's conversation: %d", res.StatusCode)
	}
}

func TestLeadFromConversation(t *testing.T) {
	t.Parallel()
	o := newInboxOrg(t)
	r := o.receive("+5511944440011", "Maria Souza", "Quero um orçamento de bolo")
	if res := o.owner.Get(o.home + "/board"); res.StatusCode != http.StatusOK { // makes the first pipeline
		t.Fatalf("board: %d", res.StatusCode)
	}
	var stageID int64
	if err := o.inst.App.Store.DB().Get(&stageID, `SELECT id FROM stages WHERE org_id = $1 ORDER BY position LIMIT 1`, o.orgID()); err != nil {
		t.Fatal(err)
	}
	conv := fmt.Sprintf("%s/inbox/%d", o.home, r.ConversationID)
	if res := o.owner.Get(conv); !strings.Contains(res.Body, `data-testid="inbox-lead-create"`) || !strings.Contains(res.Body, `data-testid="inbox-resolve"`) {
		t.Fatalf("the pane offers no lead or the head no Resolve: %s", webtest.Text(res.Body))
	}
	_, fChannel := foreignIDs(t, o.inst)
	var fStage int64
	_ = o.inst.App.Store.DB().Get(&fStage, `SELECT id FROM stages WHERE org_id <> $1 LIMIT 1`, o.orgID())
	form := url.Values{"stage_id": {fmt.Sprint(stageID)}, "title": {"Bolo de aniversário"}}
	if res := o.owner.PostRaw(conv+"/leads", form); res.StatusCode != http.StatusForbidden {
		t.Fatalf("without CSRF: %d", res.StatusCode)
	}
	if res := o.owner.Post(conv+"/leads", url.Values{"title": {"x"}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("no stage: %d", res.StatusCode)
	}
	if fStage > 0 {
		if res := o.owner.Post(conv+"/leads", url.Values{"stage_id": {fmt.Sprint(fStage)}, "title": {"x"}}); res.StatusCode != http.StatusNotFound {
			t.Fatalf("foreign stage: %d", res.StatusCode)
		}
	}
	if res := o.owner.Post(fmt.Sprintf("%s/inbox/%d/leads", o.home, fChannel+100000), form); res.StatusCode != http.StatusNotFound {
		t.Fatalf("no such conversation: %d", res.StatusCode)
	}
	if res := o.owner.Post(conv+"/leads", form); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	var leadID, contactID int64
	if err := o.inst.App.Store.DB().QueryRow(`SELECT id, contact_id FROM leads WHERE org_id = $1 AND title = 'Bolo de aniversário'`, o.orgID()).Scan(&leadID, &contactID); err != nil || contactID != r.ContactID {
		t.Fatalf("lead: %v contact %d, want %d", err, contactID, r.ContactID)
	}
	// The pane, the contact page and the lead's drawer link to each other.
	if res := o.owner.Get(conv); !strings.Contains(res.Body, fmt.Sprintf(`/board/leads/%d"`, leadID)) {
		t.Error("the pane does not link to the lead")
	}
	if res := o.owner.Get(fmt.Sprintf("%s/contacts/%d", o.home, r.ContactID)); !strings.Contains(res.Body, `data-testid="contact-lead"`) {
		t.Error("the contact page does not show the lead")
	}
	drawer := o.owner.Get(fmt.Sprintf("%s/board/leads/%d", o.home, leadID))
	if want := fmt.Sprintf(`href="%s/contacts/%d/conversation"`, o.home, r.ContactID); !strings.Contains(drawer.Body, want) {
		t.Errorf("the lead does not open its conversation (%s)", want)
	}
	// An agent restricted to their own cannot make a lead of another's conversation.
	agent, agentID := o.member(model.RoleAgent)
	other, _ := o.member(model.RoleAgent)
	if err := o.inst.App.Inbox.Assign(context.Background(), model.Actor{OrgID: o.orgID(), Role: model.RoleOwner}, r.ConversationID, agentID); err != nil {
		t.Fatal(err)
	}
	if res := other.Post(conv+"/leads", fresh(form)); res.StatusCode != http.StatusNotFound {
		t.Fatalf("another agent's conversation: %d", res.StatusCode)
	}
	if res := agent.Post(conv+"/leads", url.Values{"stage_id": {fmt.Sprint(stageID)}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("the agent's own conversation (title from the contact): %d %s", res.StatusCode, webtest.Text(res.Body))
	}
}

func TestAPIStartConversation(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	ctx := context.Background()
	c := webtest.NewClient(t, inst.URL)
	c.Signup("Loja Conversas", "Yuri", uniqueEmail("yuri"), strongPassword)
	key, err := inst.App.Account.CreateAPIKeyForOrgName(ctx, "Loja Conversas", "CRM")
	if err != nil {
		t.Fatal(err)
	}
	var orgID int64
	_ = inst.App.Store.DB().Get(&orgID, `SELECT id FROM orgs WHERE name = 'Loja Conversas'`)
	a := model.Actor{OrgID: orgID, Role: model.RoleOwner}
	sbx, _ := inst.App.Inbox.CreateChannel(ctx, a, model.KindSandbox, "Demo", nil, nil)
	wa, _ := inst.App.Inbox.CreateChannel(ctx, a, model.KindWhatsAppCloud, "WhatsApp", map[string]string{"phone_number_id": "1"}, map[string]string{"app_secret": "x"})
	p, q := "+5511944440021", "+5511944440022"
	ana, _ := inst.App.Store.CreateContact(ctx, model.Contact{OrgID: orgID, Name: "Ana", Phone: &p})
	bia, _ := inst.App.Store.CreateContact(ctx, model.Contact{OrgID: orgID, Name: "Bia", Phone: &q})
	_, _ = inst.App.Store.SetOptOut(ctx, orgID, bia, sbx.OptOutKind(), true)
	fContact, fChannel := foreignIDs(t, inst)

	for name, tc := range map[string]struct {
		body   string
		status int
		code   string
	}{
		"not json":          {`{"channel_id":`, 400, "bad_json"},
		"unknown field":     {fmt.Sprintf(`{"channel_id":%d,"contact_id":%d,"text":"x","y":1}`, sbx.ID, ana), 400, "bad_json"},
		"nobody":            {fmt.Sprintf(`{"channel_id":%d,"text":"x"}`, sbx.ID), 422, "invalid"},
		"both":              {fmt.Sprintf(`{"channel_id":%d,"contact_id":%d,"to":"+5511944440023","text":"x"}`, sbx.ID, ana), 422, "invalid"},
		"bad phone":         {fmt.Sprintf(`{"channel_id":%d,"to":"12","text":"x"}`, sbx.ID), 422, "invalid_phone"},
		"empty":             {fmt.Sprintf(`{"channel_id":%d,"contact_id":%d,"text":" "}`, sbx.ID, ana), 422, "invalid"},
		"foreign contact":   {fmt.Sprintf(`{"channel_id":%d,"contact_id":%d,"text":"x"}`, sbx.ID, fContact), 404, "not_found"},
		"foreign channel":   {fmt.Sprintf(`{"channel_id":%d,"contact_id":%d,"text":"x"}`, fChannel, ana), 404, "not_found"},
		"opted out":         {fmt.Sprintf(`{"channel_id":%d,"contact_id":%d,"text":"x"}`, sbx.ID, bia), 422, "opted_out"},
		"window closed":     {fmt.Sprintf(`{"channel_id":%d,"contact_id":%d,"text":"x"}`, wa.ID, ana), 422, "window_closed"},
		"unknown template":  {fmt.Sprintf(`{"channel_id":%d,"contact_id":%d,"template":{"name":"nada","language":"pt_BR"}}`, wa.ID, ana), 422, "template_not_found"},
		"template no names": {fmt.Sprintf(`{"channel_id":%d,"contact_id":%d,"template":{"name":""}}`, wa.ID, ana), 422, "invalid"},
	} {
		res := apiCall(t, c, key, "POST", "/api/v1/conversations", tc.body)
		if res.StatusCode != tc.status || apiCode(t, res) != tc.code {
			t.Errorf("%s: %d %s, want %d %s", name, res.StatusCode, res.Body, tc.status, tc.code)
		}
	}
	res := apiCall(t, c, key, "POST", "/api/v1/conversations", fmt.Sprintf(`{"channel_id":%d,"contact_id":%d,"text":"Seu pedido chegou"}`, sbx.ID, ana))
	if res.StatusCode != http.StatusCreated || !strings.Contains(res.Body, `"conversation_id":`) || !strings.Contains(res.Body, fmt.Sprintf(`"contact_id":%d`, ana)) {
		t.Fatalf("start: %d %s", res.StatusCode, res.Body)
	}
	res = apiCall(t, c, key, "POST", "/api/v1/conversations", fmt.Sprintf(`{"channel_id":%d,"to":"(11) 94444-0029","text":"Olá"}`, sbx.ID))
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("start by phone: %d %s", res.StatusCode, res.Body)
	}
}

// fresh is a copy of a form without the CSRF field another client's Post added.
func fresh(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		if k != "_csrf" {
			out[k] = vs
		}
	}
	return out
}

// TestLeadFromContactPage: the contact page makes a lead of the contact in the chosen stage;
// no stage, a title too long, a foreign stage or contact and a missing CSRF token make none.
func TestLeadFromContactPage(t *testing.T) {
	t.Parallel()
	o := newInboxOrg(t)
	r := o.receive("+5511944440012", "Rita Lima", "Oi")
	db := o.inst.App.Store.DB()
	var stageID int64
	if err := db.Get(&stageID, `SELECT id FROM stages WHERE org_id = $1 ORDER BY position LIMIT 1`, o.orgID()); err != nil {
		t.Fatal(err)
	}
	page := fmt.Sprintf("%s/contacts/%d", o.home, r.ContactID)
	if res := o.owner.Get(page); !strings.Contains(res.Body, `data-testid="contact-lead-create"`) {
		t.Fatal("the contact page offers no new lead")
	}
	leads := func() int {
		var n int
		_ = db.Get(&n, `SELECT count(*) FROM leads WHERE org_id = $1`, o.orgID())
		return n
	}
	form := url.Values{"stage_id": {fmt.Sprint(stageID)}, "title": {"Bolo de casamento"}}
	if res := o.owner.PostRaw(page+"/leads", form); res.StatusCode != http.StatusForbidden {
		t.Fatalf("without CSRF: %d", res.StatusCode)
	}
	if res := o.owner.Post(page+"/leads", url.Values{"title": {"x"}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("no stage: %d", res.StatusCode)
	}
	if res := o.owner.Post(page+"/leads", url.Values{"stage_id": {fmt.Sprint(stageID)}, "title": {strings.Repeat("b", 5000)}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("title too long: %d", res.StatusCode)
	}
	foreignContact, _ := foreignIDs(t, o.inst)
	if res := o.owner.Post(fmt.Sprintf("%s/contacts/%d/leads", o.home, foreignContact), form); res.StatusCode != http.StatusNotFound {
		t.Fatalf("foreign contact: %d", res.StatusCode)
	}
	var fStage int64
	_ = db.Get(&fStage, `SELECT id FROM stages WHERE org_id <> $1 LIMIT 1`, o.orgID())
	if fStage > 0 {
		if res := o.owner.Post(page+"/leads", url.Values{"stage_id": {fmt.Sprint(fStage)}}); res.StatusCode != http.StatusNotFound {
			t.Fatalf("foreign stage: %d", res.StatusCode)
		}
	}
	if n := leads(); n != 0 {
		t.Fatalf("refused leads left %d rows", n)
	}
	if res := o.owner.Post(page+"/leads", form); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	var contactID int64
	if err := db.Get(&contactID, `SELECT contact_id FROM leads WHERE org_id = $1 AND title = 'Bolo de casamento'`, o.orgID()); err != nil || contactID != r.ContactID {
		t.Fatalf("lead contact %d %v, want %d", contactID, err, r.ContactID)
	}
	if res := o.owner.Get(page); !strings.Contains(res.Body, "Bolo de casamento") || !strings.Contains(res.Body, `data-testid="timeline-lead"`) {
		t.Error("the contact page does not list its new lead, or its timeline does not say it was made")
	}
}
