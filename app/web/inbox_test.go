package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"masteria/app/inbox"
	"masteria/app/model"
	"masteria/app/web/webtest"
)

// inboxOrg is an org with a sandbox channel connected through the settings page.
type inboxOrg struct {
	t     *testing.T
	inst  *webtest.Instance
	owner *webtest.Client
	home  string
	name  string
	ch    model.Channel
}

func newInboxOrg(t *testing.T) *inboxOrg {
	t.Helper()
	inst := webtest.Start(t)
	o := &inboxOrg{t: t, inst: inst, owner: webtest.NewClient(t, inst.URL), name: "Padaria Pão Quente"}
	o.home = o.owner.Signup(o.name, "Paula", uniqueEmail("paula"), strongPassword)
	if res := o.owner.Post(o.home+"/settings/channels", url.Values{"kind": {model.KindSandbox}, "name": {"Atendimento"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create channel: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	var orgID int64
	_, _ = fmt.Sscanf(o.home, "/o/%d", &orgID)
	chs, err := inst.App.Inbox.Channels(context.Background(), orgID)
	if err != nil || len(chs) != 1 {
		t.Fatalf("channels: %v %d", err, len(chs))
	}
	o.ch = chs[0]
	return o
}

func (o *inboxOrg) receive(from, name, body string) inbox.Received {
	o.t.Helper()
	r, err := o.inst.App.Inbox.Receive(context.Background(), o.ch, inbox.Inbound{From: from, Name: name, Body: body, ProviderID: fmt.Sprintf("in.%d", time.Now().UnixNano())})
	if err != nil {
		o.t.Fatal(err)
	}
	return r
}

func (o *inboxOrg) member(role model.Role) (*webtest.Client, int64) {
	o.t.Helper()
	email := uniqueEmail(string(role))
	u, err := o.inst.App.Account.CreateUserInOrg(context.Background(), o.name, string(role), email, strongPassword, role)
	if err != nil {
		o.t.Fatal(err)
	}
	c := webtest.NewClient(o.t, o.inst.URL)
	c.Login(email, strongPassword)
	return c, u.User.ID
}

func TestChannelSettings(t *testing.T) {
	t.Parallel()
	o := newInboxOrg(t)
	res := o.owner.Get(o.home + "/settings/channels")
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, "Atendimento") || !strings.Contains(res.Body, `data-testid="channel-row"`) {
		t.Fatalf("channel list: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	for name, form := range map[string]url.Values{
		"empty name":    {"kind": {model.KindSandbox}, "name": {"  "}},
		"long name":     {"kind": {model.KindSandbox}, "name": {strings.Repeat("a", 81)}},
		"not yet kind":  {"kind": {model.KindWhatsAppCloud}, "name": {"Vendas"}},
		"unknown kind":  {"kind": {"fax"}, "name": {"Vendas"}},
		"no kind given": {"name": {"Vendas"}},
	} {
		if res := o.owner.Post(o.home+"/settings/channels", form); res.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d, want 422", name, res.StatusCode)
		}
	}
	var n int
	_ = o.inst.App.Store.DB().Get(&n, `SELECT count(*) FROM channels`)
	if n != 1 {
		t.Fatalf("refused forms stored channels: %d", n)
	}
	agent, _ := o.member(model.RoleAgent)
	if res := agent.Get(o.home + "/settings/channels"); res.StatusCode != http.StatusForbidden {
		t.Errorf("agent reads channels: %d", res.StatusCode)
	}
	if res := agent.Post(o.home+"/settings/channels", url.Values{"kind": {model.KindSandbox}, "name": {"Meu"}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("agent creates a channel: %d", res.StatusCode)
	}
}

func TestInboxReceiveAndReply(t *testing.T) {
	t.Parallel()
	o := newInboxOrg(t)
	r := o.receive("+5511987650001", "Marina Lopes", "Vocês entregam no sábado?")
	conv := fmt.Sprintf("%s/inbox/%d", o.home, r.ConversationID)

	res := o.owner.Get(o.home + "/inbox")
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, "Marina Lopes") || !strings.Contains(res.Body, "Vocês entregam no sábado?") ||
		!strings.Contains(res.Body, `data-testid="inbox-unread"`) {
		t.Fatalf("list: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	if !strings.Contains(res.Body, `data-inbox-unread="1"`) {
		t.Errorf("the list does not count one unread conversation")
	}
	res = o.owner.Get(conv)
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `data-direction="in"`) || !strings.Contains(res.Body, `data-testid="composer"`) {
		t.Fatalf("thread: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	// Opening (a GET) changes nothing; the thread posts its own "read" once on screen.
	unread := func() (n int) {
		_ = o.inst.App.Store.DB().Get(&n, `SELECT unread FROM conversations WHERE id = $1`, r.ConversationID)
		return n
	}
	if n := unread(); n != 1 {
		t.Errorf("opening changed the unread count: %d", n)
	}
	if !strings.Contains(res.Body, `hx-post="`+conv+`/read"`) || !strings.Contains(res.Body, `data-testid="thread-read"`) {
		t.Errorf("the thread does not ask to be marked read")
	}
	if res := o.owner.PostRaw(conv+"/read", nil); res.StatusCode != http.StatusForbidden || unread() != 1 {
		t.Errorf("read without CSRF: %d, unread %d", res.StatusCode, unread())
	}
	other := newInboxOrg(t)
	if res := other.owner.Post(conv+"/read", nil); res.StatusCode != http.StatusNotFound || unread() != 1 {
		t.Errorf("read by another org's member: %d, unread %d", res.StatusCode, unread())
	}
	if res := other.owner.Post(other.home+fmt.Sprintf("/inbox/%d/read", r.ConversationID), nil); res.StatusCode != http.StatusNotFound || unread() != 1 {
		t.Errorf("read of a foreign conversation: %d, unread %d", res.StatusCode, unread())
	}
	if res := o.owner.Post(o.home+"/inbox/x/read", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("read of a bad id: %d", res.StatusCode)
	}
	if res := o.owner.Post(conv+"/read", nil); res.StatusCode != http.StatusNoContent || unread() != 0 {
		t.Errorf("read: %d, unread %d", res.StatusCode, unread())
	}
	if res := o.owner.Get(conv); strings.Contains(res.Body, `data-testid="thread-read"`) {
		t.Errorf("a read thread still asks to be marked read")
	}
	// The list fragment and the thread fragment answer alone.
	if res := o.owner.Get(o.home+"/inbox/list?view=unassigned", "HX-Request", "true"); res.StatusCode != http.StatusOK ||
		!strings.HasPrefix(strings.TrimSpace(res.Body), `<div class="inbox-list"`) || !strings.Contains(res.Body, "Marina Lopes") {
		t.Errorf("list fragment: %d %.200s", res.StatusCode, res.Body)
	}
	if res := o.owner.Get(o.home+"/inbox/list?status=any&q=Marina&push=1", "HX-Request", "true"); res.StatusCode != http.StatusOK ||
		!strings.Contains(res.Body, "Marina Lopes") || !strings.Contains(res.Body, `hx-swap-oob="true"`) ||
		res.Header.Get("HX-Push-Url") != o.home+"/inbox?q=Marina&status=any&view=all" {
		t.Errorf("filter change: %d %q %.300s", res.StatusCode, res.Header.Get("HX-Push-Url"), res.Body)
	}
	if res := o.owner.Get(o.home+"/inbox/list?q=nobody-here", "HX-Request", "true"); strings.Contains(res.Body, "Marina Lopes") {
		t.Errorf("the search does not filter")
	}
	if res := o.owner.Get(conv+"/thread", "HX-Request", "true"); res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `id="inbox-thread"`) {
		t.Errorf("thread fragment: %d %.200s", res.StatusCode, res.Body)
	}

	// A reply through htmx answers the new bubble; the sandbox takes it to "read".
	res = o.owner.PostRaw(conv+"/messages", url.Values{"body": {"Entregamos sim, até as 14h."}}, "HX-Request", "true", "X-CSRF-Token", o.owner.CSRF())
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `data-direction="out"`) || !strings.Contains(res.Body, "Entregamos sim") {
		t.Fatalf("reply: %d %s", res.StatusCode, res.Body)
	}
	deadline := time.Now().Add(15 * time.Second)
	var status string
	for time.Now().Before(deadline) {
		_ = o.inst.App.Store.DB().Get(&status, `SELECT status FROM messages WHERE direction = 'out' AND conversation_id = $1`, r.ConversationID)
		if status == model.StatusRead {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if status != model.StatusRead {
		t.Fatalf("the reply stopped at %q", status)
	}
	if res := o.owner.Get(conv); !strings.Contains(res.Body, `data-status="read"`) {
		t.Errorf("the thread does not show the read ticks")
	}
	// A plain form post comes back to the conversation.
	if res := o.owner.Post(conv+"/messages", url.Values{"body": {"Mais alguma dúvida?"}}); res.StatusCode != http.StatusSeeOther {
		t.Errorf("plain reply: %d", res.StatusCode)
	}
	// A note is stored as a note and never sent.
	if res := o.owner.Post(conv+"/notes", url.Values{"body": {"Cliente recorrente"}}); res.StatusCode != http.StatusSeeOther {
		t.Errorf("note: %d", res.StatusCode)
	}
	var notes int
	_ = o.inst.App.Store.DB().Get(&notes, `SELECT count(*) FROM messages WHERE direction = 'note'`)
	if notes != 1 {
		t.Errorf("notes: %d", notes)
	}

	// Refused input.
	if res := o.owner.Post(conv+"/messages", url.Values{"body": {"   "}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("empty body: %d", res.StatusCode)
	}
	if res := o.owner.PostRaw(conv+"/messages", url.Values{"body": {""}}, "HX-Request", "true", "X-CSRF-Token", o.owner.CSRF()); res.StatusCode != http.StatusUnprocessableEntity ||
		res.Header.Get("HX-Retarget") != "#composer-notice" || !strings.Contains(res.Body, `data-testid="composer-error"`) {
		t.Errorf("empty body through htmx: %d %s", res.StatusCode, res.Body)
	}
	if res := o.owner.Post(conv+"/status", url.Values{"status": {"archived"}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("bad status: %d", res.StatusCode)
	}
	if res := o.owner.Post(conv+"/status", url.Values{"status": {"closed"}}); res.StatusCode != http.StatusSeeOther {
		t.Errorf("close: %d", res.StatusCode)
	}
	if res := o.owner.Get(o.home + "/inbox/999999"); res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown conversation: %d", res.StatusCode)
	}
	if res := o.owner.Post(o.home+"/inbox/999999/messages", url.Values{"body": {"oi"}}); res.StatusCode != http.StatusNotFound {
		t.Errorf("reply to an unknown conversation: %d", res.StatusCode)
	}
}

func TestInboxVisibility(t *testing.T) {
	t.Parallel()
	o := newInboxOrg(t)
	ana, anaID := o.member(model.RoleAgent)
	bia, _ := o.member(model.RoleAgent)
	r := o.receive("+5511987650002", "Carlos", "Quero um bolo")
	conv := fmt.Sprintf("%s/inbox/%d", o.home, r.ConversationID)

	// Unassigned: every agent sees it.
	if res := bia.Get(conv); res.StatusCode != http.StatusOK {
		t.Fatalf("agent opens an unassigned conversation: %d", res.StatusCode)
	}
	// Ana takes it; Bia no longer finds it.
	if res := ana.Post(conv+"/assign", url.Values{"user_id": {fmt.Sprint(anaID)}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("assign to me: %d", res.StatusCode)
	}
	for _, p := range []string{conv, conv + "/thread"} {
		if res := bia.Get(p); res.StatusCode != http.StatusNotFound {
			t.Errorf("another agent's conversation %s: %d", p, res.StatusCode)
		}
	}
	if res := bia.Post(conv+"/messages", url.Values{"body": {"oi"}}); res.StatusCode != http.StatusNotFound {
		t.Errorf("another agent replies: %d", res.StatusCode)
	}
	if res := bia.Get(o.home + "/inbox"); strings.Contains(res.Body, "Quero um bolo") {
		t.Errorf("another agent's list shows the conversation")
	}
	// An agent may not hand a conversation to someone else; the owner may.
	_, biaID := o.member(model.RoleAgent)
	if res := ana.Post(conv+"/assign", url.Values{"user_id": {fmt.Sprint(biaID)}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("agent assigns to another: %d", res.StatusCode)
	}
	if res := o.owner.Post(conv+"/assign", url.Values{"user_id": {"0"}}); res.StatusCode != http.StatusSeeOther {
		t.Errorf("owner unassigns: %d", res.StatusCode)
	}
	if res := o.owner.Post(conv+"/assign", url.Values{"user_id": {"987654"}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("assign to a stranger: %d", res.StatusCode)
	}
	if res := bia.Get(conv); res.StatusCode != http.StatusOK {
		t.Errorf("unassigned again, the agent sees it: %d", res.StatusCode)
	}
}
