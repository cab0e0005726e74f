package inbox_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"masteria/app/inbox"
	"masteria/app/model"
)

// approvedTemplate stores an approved template "boas_vindas" with one body parameter.
func (e env) approvedTemplate(t *testing.T, ch model.Channel) {
	t.Helper()
	comps, _ := json.Marshal([]map[string]any{{"type": "BODY", "text": "Olá {{1}}, tudo bem?"}})
	if err := e.st.ReplaceTemplates(e.ctx, e.a.OrgID, ch.ID, []model.Template{{ProviderID: "t1", Name: "boas_vindas",
		Language: "pt_BR", Category: "UTILITY", Status: "APPROVED", Components: comps}}, time.Now()); err != nil {
		t.Fatal(err)
	}
}

func TestStartOpensOneConversationAndQueuesTheFirstMessage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sms := e.channel(t, model.KindSandbox)
	p := "+5511955550001"
	contactID, _ := e.st.CreateContact(e.ctx, model.Contact{OrgID: e.a.OrgID, Name: "João", Phone: &p})

	st, err := e.svc.Start(e.ctx, e.a, inbox.StartInput{ChannelID: sms.ID, ContactID: contactID, Text: "Oi João, seu orçamento ficou pronto"})
	if err != nil {
		t.Fatal(err)
	}
	if st.ContactID != contactID || st.ConversationID == 0 || st.Message.ID == 0 || st.Message.Status != model.StatusQueued {
		t.Fatalf("started %+v", st)
	}
	conv, _ := e.svc.Open(e.ctx, e.a, st.ConversationID)
	if conv.AssigneeID == nil || *conv.AssigneeID != e.a.UserID {
		t.Fatalf("the agent who reached out should have the conversation: %+v", conv.AssigneeID)
	}
	// Again on the same channel: the same conversation, a second message.
	again, err := e.svc.Start(e.ctx, e.a, inbox.StartInput{ChannelID: sms.ID, ContactID: contactID, Text: "Alguma dúvida?"})
	if err != nil || again.ConversationID != st.ConversationID {
		t.Fatalf("second start: %+v %v", again, err)
	}
	// A phone nobody has: the contact is created, and its timeline says from where.
	byPhone, err := e.svc.Start(e.ctx, e.a, inbox.StartInput{ChannelID: sms.ID, Phone: "+5511955550002", Text: "Olá!"})
	if err != nil || byPhone.ContactID == 0 || byPhone.ContactID == contactID {
		t.Fatalf("by phone: %+v %v", byPhone, err)
	}
	evs, _ := e.st.ContactEvents(e.ctx, e.a.OrgID, byPhone.ContactID, 0, 10)
	if len(evs) != 1 || evs[0].Kind != "created" {
		t.Fatalf("timeline of a new contact: %+v", evs)
	}
	// The phone of an existing contact finds it.
	if found, err := e.svc.Start(e.ctx, e.a, inbox.StartInput{ChannelID: sms.ID, Phone: p, Text: "Oi"}); err != nil || found.ContactID != contactID {
		t.Fatalf("by a known phone: %+v %v", found, err)
	}
}

func TestStartRefusesWhatCannotGo(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sms := e.channel(t, model.KindSandbox)
	wa := e.channel(t, model.KindWhatsAppCloud)
	e.approvedTemplate(t, wa)
	p, q := "+5511955550011", "+5511955550012"
	contactID, _ := e.st.CreateContact(e.ctx, model.Contact{OrgID: e.a.OrgID, Name: "Ana", Phone: &p})
	optedOut, _ := e.st.CreateContact(e.ctx, model.Contact{OrgID: e.a.OrgID, Name: "Bia", Phone: &q})
	if _, err := e.st.SetOptOut(e.ctx, e.a.OrgID, optedOut, sms.OptOutKind(), true); err != nil {
		t.Fatal(err)
	}
	noPhone, _ := e.st.CreateContact(e.ctx, model.Contact{OrgID: e.a.OrgID, Name: "Caio"})

	other, _ := e.st.CreateOrg(e.ctx, "Outra loja")
	foreignActor := model.Actor{OrgID: other.ID, Role: model.RoleOwner}
	foreignCh, _ := e.svc.CreateChannel(e.ctx, foreignActor, model.KindSandbox, "Outra", nil, nil)
	r := "+5511955550013"
	foreignContact, _ := e.st.CreateContact(e.ctx, model.Contact{OrgID: other.ID, Name: "Dani", Phone: &r})

	field := func(err error) string {
		var v *model.ValidationError
		if errors.As(err, &v) {
			for f := range v.Fields {
				return f
			}
		}
		return ""
	}
	for name, tc := range map[string]struct {
		in    inbox.StartInput
		is    error
		field string
	}{
		"foreign channel":      {in: inbox.StartInput{ChannelID: foreignCh.ID, ContactID: contactID, Text: "x"}, is: model.ErrNotFound},
		"foreign contact":      {in: inbox.StartInput{ChannelID: sms.ID, ContactID: foreignContact, Text: "x"}, is: model.ErrNotFound},
		"no such contact":      {in: inbox.StartInput{ChannelID: sms.ID, ContactID: 999999, Text: "x"}, is: model.ErrNotFound},
		"nothing to send":      {in: inbox.StartInput{ChannelID: sms.ID, ContactID: contactID, Text: "  "}, field: "body"},
		"text and template":    {in: inbox.StartInput{ChannelID: wa.ID, ContactID: contactID, Text: "x", Template: &inbox.TemplateSend{Name: "boas_vindas", Language: "pt_BR", Params: []string{"Ana"}}}, field: "body"},
		"nobody to send to":    {in: inbox.StartInput{ChannelID: sms.ID, Text: "x"}, field: "to"},
		"opted out":            {in: inbox.StartInput{ChannelID: sms.ID, ContactID: optedOut, Text: "x"}, field: "contact"},
		"no phone":             {in: inbox.StartInput{ChannelID: sms.ID, ContactID: noPhone, Text: "x"}, field: "contact"},
		"window closed":        {in: inbox.StartInput{ChannelID: wa.ID, ContactID: contactID, Text: "Oi"}, is: inbox.ErrWindowClosed},
		"unknown template":     {in: inbox.StartInput{ChannelID: wa.ID, ContactID: contactID, Template: &inbox.TemplateSend{Name: "nao_existe", Language: "pt_BR"}}, is: inbox.ErrTemplateNotFound},
		"template params":      {in: inbox.StartInput{ChannelID: wa.ID, ContactID: contactID, Template: &inbox.TemplateSend{Name: "boas_vindas", Language: "pt_BR"}}, field: "params"},
		"template outside wa":  {in: inbox.StartInput{ChannelID: sms.ID, ContactID: contactID, Template: &inbox.TemplateSend{Name: "boas_vindas", Language: "pt_BR"}}, field: "template"},
		"new phone, no window": {in: inbox.StartInput{ChannelID: wa.ID, Phone: "+5511955550019", Text: "Oi"}, is: inbox.ErrWindowClosed},
	} {
		_, err := e.svc.Start(e.ctx, e.a, tc.in)
		switch {
		case tc.is != nil && !errors.Is(err, tc.is):
			t.Errorf("%s: %v, want %v", name, err, tc.is)
		case tc.field != "" && field(err) != tc.field:
			t.Errorf("%s: %v, want a %s error", name, err, tc.field)
		}
	}
	// Nothing refused left a conversation or a contact behind.
	var convs, contacts int
	_ = e.st.DB().Get(&convs, `SELECT count(*) FROM conversations WHERE org_id = $1`, e.a.OrgID)
	_ = e.st.DB().Get(&contacts, `SELECT count(*) FROM contacts WHERE org_id = $1`, e.a.OrgID)
	if convs != 0 || contacts != 3 {
		t.Fatalf("refused starts left %d conversations and %d contacts", convs, contacts)
	}

	// A contact known only by a WhatsApp user id: the Cloud API reaches them, SMS cannot.
	userOnly, _ := e.st.CreateContact(e.ctx, model.Contact{OrgID: e.a.OrgID, Name: "Duda"})
	if _, err := e.st.DB().Exec(`INSERT INTO contact_identities (org_id, contact_id, kind, value) VALUES ($1, $2, 'wa_user_id', 'BR.4242')`,
		e.a.OrgID, userOnly); err != nil {
		t.Fatal(err)
	}
	twilio := e.channel(t, model.KindTwilioSMS)
	_, err := e.svc.Start(e.ctx, e.a, inbox.StartInput{ChannelID: twilio.ID, ContactID: userOnly, Text: "Oi"})
	if v := (*model.ValidationError)(nil); !errors.As(err, &v) || v.Fields["contact"] != "contacts.no_phone_sms" {
		t.Fatalf("SMS to a contact without phone: %v", err)
	}
	if _, err := e.svc.Start(e.ctx, e.a, inbox.StartInput{ChannelID: wa.ID, ContactID: userOnly,
		Template: &inbox.TemplateSend{Name: "boas_vindas", Language: "pt_BR", Params: []string{"Duda"}}}); err != nil {
		t.Fatalf("WhatsApp to a contact known by user id: %v", err)
	}

	// Outside the window a template goes, and opens the conversation.
	var st inbox.Started
	st, err = e.svc.Start(e.ctx, e.a, inbox.StartInput{ChannelID: wa.ID, ContactID: contactID,
		Template: &inbox.TemplateSend{Name: "boas_vindas", Language: "pt_BR", Params: []string{"Ana"}}})
	if err != nil || st.Message.Kind != "template" || st.Message.Body != "Olá Ana, tudo bem?" {
		t.Fatalf("template start: %+v %v", st.Message, err)
	}
}

func TestStartKeepsAgentsToTheirOwn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ch := e.channel(t, model.KindSandbox)
	if err := e.svc.SaveSettings(e.ctx, model.Actor{OrgID: e.a.OrgID, Role: model.RoleOwner},
		model.InboxSettings{RestrictAgents: true}, nil); err != nil {
		t.Fatal(err)
	}
	other, _ := e.st.CreateUser(e.ctx, "outra@loja.com", "Outra", nil, nil)
	_, _ = e.st.AddMember(e.ctx, e.a.OrgID, other.ID, model.RoleAgent)
	theirs := model.Actor{OrgID: e.a.OrgID, UserID: other.ID, Role: model.RoleAgent}
	st, err := e.svc.Start(e.ctx, theirs, inbox.StartInput{ChannelID: ch.ID, Phone: "+5511955550021", Text: "Oi"})
	if err != nil {
		t.Fatal(err)
	}
	// The conversation is the other agent's: starting again on it is as if it were not there.
	if _, err := e.svc.Start(e.ctx, e.a, inbox.StartInput{ChannelID: ch.ID, ContactID: st.ContactID, Text: "Posso ajudar?"}); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("another agent's conversation: %v", err)
	}
}

func TestContactTimelineHasConversationsAndNotes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ch := e.channel(t, model.KindSandbox)
	other := e.channel(t, model.KindSandbox)
	owner := model.Actor{OrgID: e.a.OrgID, Role: model.RoleOwner}
	r, _ := e.svc.Receive(e.ctx, ch, inbox.Inbound{From: "+5511955550031", Name: "Vinícius", ProviderID: "t1", Body: "Oi, queria um orçamento"})
	if _, err := e.svc.Start(e.ctx, e.a, inbox.StartInput{ChannelID: ch.ID, ContactID: r.ContactID, Text: "Claro! Para quando?"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Note(e.ctx, e.a, r.ConversationID, "Cliente antigo"); err != nil {
		t.Fatal(err)
	}
	// A second conversation, on another channel, given to another agent.
	r2, _ := e.svc.Receive(e.ctx, other, inbox.Inbound{From: "+5511955550031", ProviderID: "t2", Body: "Outro canal"})
	u, _ := e.st.CreateUser(e.ctx, "outro@loja.com", "Outro", nil, nil)
	_, _ = e.st.AddMember(e.ctx, e.a.OrgID, u.ID, model.RoleAgent)
	if err := e.svc.Assign(e.ctx, owner, r2.ConversationID, u.ID); err != nil {
		t.Fatal(err)
	}
	kinds := func(a model.Actor) map[string]int {
		t.Helper()
		evs, err := e.svc.ContactTimeline(e.ctx, a, r.ContactID, model.TimelineCursor{})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int{}
		for i, ev := range evs {
			out[ev.Kind]++
			if i > 0 && ev.CreatedAt.After(evs[i-1].CreatedAt) {
				t.Errorf("line %d is newer than the one before it", i)
			}
		}
		return out
	}
	if got := kinds(owner); got["conversation"] != 2 || got["note"] != 1 || got["created"] != 1 {
		t.Fatalf("the owner's timeline: %v", got)
	}
	// The restricted agent does not see the other agent's conversation.
	if got := kinds(e.a); got["conversation"] != 1 || got["note"] != 1 {
		t.Fatalf("the agent's timeline: %v", got)
	}
	evs, _ := e.svc.ContactTimeline(e.ctx, owner, r.ContactID, model.TimelineCursor{})
	var conv struct {
		Messages []struct{ Direction, Body string } `json:"messages"`
	}
	for _, ev := range evs {
		if ev.Kind == "conversation" && ev.ID == r.ConversationID {
			_ = json.Unmarshal(ev.Data, &conv)
		}
	}
	if len(conv.Messages) != 2 || conv.Messages[0].Body != "Oi, queria um orçamento" || conv.Messages[1].Direction != "out" {
		t.Fatalf("the conversation's last messages: %+v", conv.Messages)
	}
	// Older lines: before the oldest, nothing.
	if older, err := e.svc.ContactTimeline(e.ctx, owner, r.ContactID, model.CursorAfter(evs[len(evs)-1])); err != nil || len(older) != 0 {
		t.Fatalf("before the oldest: %d %v", len(older), err)
	}
	// Another org's contact id shows nothing.
	stranger := model.Actor{OrgID: e.a.OrgID + 1000, Role: model.RoleOwner}
	if evs, err := e.svc.ContactTimeline(e.ctx, stranger, r.ContactID, model.TimelineCursor{}); err != nil || len(evs) != 0 {
		t.Fatalf("another org reads %d lines (%v)", len(evs), err)
	}
}

// TestTimelinePagesSkipNothing: lines written in one transaction share their time; paging
// through the timeline still shows each of them exactly once.
func TestTimelinePagesSkipNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ch := e.channel(t, model.KindSandbox)
	r, err := e.svc.Receive(e.ctx, ch, inbox.Inbound{From: "+5511987650801", ProviderID: "t1", Body: "Oi"})
	if err != nil {
		t.Fatal(err)
	}
	const n = inbox.TimelinePage + 7 // one page and a part, all at one time
	if _, err := e.st.DB().Exec(`INSERT INTO contact_events (org_id, contact_id, kind, data, created_at)
		SELECT $1, $2, 'tagged', '{}', '2026-01-01T10:00:00Z' FROM generate_series(1, $3)`, e.a.OrgID, r.ContactID, n); err != nil {
		t.Fatal(err)
	}
	owner := model.Actor{OrgID: e.a.OrgID, Role: model.RoleOwner}
	seen := map[string]bool{}
	after := model.TimelineCursor{}
	for page := 0; page < 10; page++ {
		evs, err := e.svc.ContactTimeline(e.ctx, owner, r.ContactID, after)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			k := fmt.Sprintf("%s/%d", ev.Kind, ev.ID)
			if seen[k] {
				t.Fatalf("%s shown twice", k)
			}
			seen[k] = true
		}
		if len(evs) < inbox.TimelinePage {
			break
		}
		after = model.ParseTimelineCursor(model.CursorAfter(evs[len(evs)-1]).String()) // through the URL
	}
	// The tagged lines, the contact's creation and its conversation.
	if len(seen) != n+2 {
		t.Fatalf("paging showed %d lines, want %d", len(seen), n+2)
	}
}
