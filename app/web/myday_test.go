package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"masteria/app/analytics"
	"masteria/app/model"
	"masteria/app/web/webtest"
)

// namedMember adds a member with a name to the inbox org and logs them in.
func (o *inboxOrg) namedMember(name string, role model.Role) (*webtest.Client, int64) {
	o.t.Helper()
	email := uniqueEmail("m")
	u, err := o.inst.App.Account.CreateUserInOrg(context.Background(), o.name, name, email, strongPassword, role)
	if err != nil {
		o.t.Fatal(err)
	}
	c := webtest.NewClient(o.t, o.inst.URL)
	c.Login(email, strongPassword)
	return c, u.User.ID
}

// mentioned are the users a note mentions, by id.
func mentioned(t *testing.T, inst *webtest.Instance, messageID int64) []int64 {
	t.Helper()
	var ids []int64
	if err := inst.App.Store.DB().Select(&ids, `SELECT user_id FROM note_mentions WHERE message_id = $1 ORDER BY user_id`, messageID); err != nil {
		t.Fatal(err)
	}
	return ids
}

func lastNote(t *testing.T, inst *webtest.Instance, conversationID int64) int64 {
	t.Helper()
	var id int64
	if err := inst.App.Store.DB().Get(&id, `SELECT max(id) FROM messages WHERE conversation_id = $1 AND direction = 'note'`, conversationID); err != nil {
		t.Fatal(err)
	}
	return id
}

// A note written in the inbox stores the members it mentions (full or first name, no case
// or accents, the longest name wins, a shared first name and an email mention nobody, a
// member of another org never), highlights them in the thread, lists them in "my day"
// unseen first, and opening the conversation marks them seen.
func TestNoteMentions(t *testing.T) {
	t.Parallel()
	o := newInboxOrg(t)
	_, silva := o.namedMember("João Silva", model.RoleAgent)
	_, souza := o.namedMember("João Souza", model.RoleAgent)
	bia, biaID := o.namedMember("Bia Lima", model.RoleAgent)
	// Another org whose owner is Carla: "@Carla" in this org mentions nobody.
	other := webtest.NewClient(t, o.inst.URL)
	otherHome := other.Signup("Loja Vizinha", "Carla Dias", uniqueEmail("carla"), strongPassword)

	r := o.receive("+5511987650101", "Rita", "Meu pedido atrasou")
	conv := fmt.Sprintf("%s/inbox/%d", o.home, r.ConversationID)
	body := "@joao silva e @BIA, vejam. @João? @Carla também. Cópia para bia@loja.com"
	if res := o.owner.Post(conv+"/notes", url.Values{"body": {body}}); res.StatusCode != http.StatusSeeOther && res.StatusCode != http.StatusOK {
		t.Fatalf("note: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	note := lastNote(t, o.inst, r.ConversationID)
	want := []int64{silva, biaID}
	slices.Sort(want)
	if got := mentioned(t, o.inst, note); !slices.Equal(got, want) {
		t.Fatalf("mentions %v, want João Silva and Bia %v (not João Souza %d, not Carla of another org)", got, want, souza)
	}
	// "@João" alone: two Joãos, so nobody.
	if res := o.owner.Post(conv+"/notes", url.Values{"body": {"@João, alguém?"}}); res.StatusCode >= 400 {
		t.Fatalf("note: %d", res.StatusCode)
	}
	if got := mentioned(t, o.inst, lastNote(t, o.inst, r.ConversationID)); len(got) != 0 {
		t.Errorf("a shared first name mentioned %v", got)
	}
	// A note refused (another org's conversation, an empty one) stores no mention.
	var before int
	_ = o.inst.App.Store.DB().Get(&before, `SELECT count(*) FROM note_mentions`)
	if res := other.Post(strings.Replace(conv, o.home, otherHome, 1)+"/notes", url.Values{"body": {"@Bia oi"}}); res.StatusCode != http.StatusNotFound {
		t.Errorf("note on another org's conversation: %d", res.StatusCode)
	}
	if res := o.owner.Post(conv+"/notes", url.Values{"body": {"   "}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("empty note: %d", res.StatusCode)
	}
	if res := o.owner.Post(conv+"/notes", url.Values{"body": {"@Bia \x00"}}); res.StatusCode != http.StatusBadRequest {
		t.Errorf("note with NUL: %d", res.StatusCode)
	}
	if res := o.owner.PostRaw(conv+"/notes", url.Values{"body": {"@Bia oi"}}, "X-CSRF-Token", "wrong"); res.StatusCode != http.StatusForbidden {
		t.Errorf("note without CSRF: %d", res.StatusCode)
	}
	var after int
	_ = o.inst.App.Store.DB().Get(&after, `SELECT count(*) FROM note_mentions`)
	if after != before {
		t.Errorf("refused notes stored %d mentions", after-before)
	}

	// Bia's day lists it, unseen; reading it (a GET) changes nothing.
	res := bia.Get(o.home)
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `data-testid="myday-mention"`) || !strings.Contains(res.Body, `data-seen="false"`) {
		t.Fatalf("Bia's day: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	if !strings.Contains(res.Body, "Rita") || !strings.Contains(res.Body, "Paula") {
		t.Errorf("the mention does not say who wrote it where: %s", webtest.Text(res.Body))
	}
	// The thread highlights both mentions; Bia's own stands out, and the thread asks to
	// mark it seen.
	th := bia.Get(conv)
	if n := strings.Count(th.Body, `data-testid="mention"`); n < 2 {
		t.Errorf("the thread highlights %d mentions, want 2 or more", n)
	}
	if !strings.Contains(th.Body, "mention-me") || !strings.Contains(th.Body, `data-testid="thread-read"`) {
		t.Errorf("Bia's thread: no mention of her, or no read mark: %s", webtest.Text(th.Body))
	}
	var seen *time.Time
	_ = o.inst.App.Store.DB().Get(&seen, `SELECT seen_at FROM note_mentions WHERE user_id = $1`, biaID)
	if seen != nil {
		t.Fatal("opening a page marked the mention seen (a GET changes nothing)")
	}
	if res := bia.Post(conv+"/read", url.Values{}); res.StatusCode != http.StatusNoContent {
		t.Fatalf("read: %d", res.StatusCode)
	}
	_ = o.inst.App.Store.DB().Get(&seen, `SELECT seen_at FROM note_mentions WHERE user_id = $1`, biaID)
	if seen == nil {
		t.Fatal("opening the conversation did not mark the mention seen")
	}
	if res := bia.Get(o.home); !strings.Contains(res.Body, `data-seen="true"`) || strings.Contains(res.Body, `data-testid="myday-mentions-unseen"`) {
		t.Errorf("Bia's day after reading: %s", webtest.Text(res.Body))
	}
	// Where agents see only their own and the unassigned conversations, a mention in a
	// conversation given to João is out of Bia's day (she could not open it).
	if err := o.inst.App.Store.SaveInboxSettings(context.Background(), o.orgID(), model.InboxSettings{RestrictAgents: true}); err != nil {
		t.Fatal(err)
	}
	if err := o.inst.App.Inbox.Assign(context.Background(), model.Actor{OrgID: o.orgID(), Role: model.RoleOwner}, r.ConversationID, silva); err != nil {
		t.Fatal(err)
	}
	if res := bia.Get(o.home); strings.Contains(res.Body, `data-testid="myday-mention"`) {
		t.Errorf("Bia's day lists a mention in a conversation she may not open")
	}
	// João Silva's mention is still unseen: Bia's reading is hers alone.
	var unseen int
	_ = o.inst.App.Store.DB().Get(&unseen, `SELECT count(*) FROM note_mentions WHERE user_id = $1 AND seen_at IS NULL`, silva)
	if unseen != 1 {
		t.Errorf("João's unseen mentions: %d, want 1", unseen)
	}
}

// An agent's home is "my day": their open conversations, the ones waiting for them (the
// customer wrote last, the longest waiting first, with how long), the unassigned ones,
// and their figures of today ("—" until the engine computes them). A manager's is not.
func TestMyDay(t *testing.T) {
	t.Parallel()
	o := newInboxOrg(t)
	ctx := context.Background()
	agent, agentID := o.namedMember("Davi Rocha", model.RoleAgent)
	manager, _ := o.namedMember("Marta Reis", model.RoleManager)
	owner := model.Actor{OrgID: o.orgID(), Role: model.RoleOwner}

	older := o.receive("+5511987650201", "Olga Antiga", "Oi, preciso de ajuda")
	newer := o.receive("+5511987650202", "Nina Nova", "Bom dia")
	replied := o.receive("+5511987650203", "Rui Respondido", "Tem bolo?")
	free := o.receive("+5511987650204", "Sem Dono", "Alguém?")
	for _, id := range []int64{older.ConversationID, newer.ConversationID, replied.ConversationID} {
		if err := o.inst.App.Inbox.Assign(ctx, owner, id, agentID); err != nil {
			t.Fatal(err)
		}
	}
	// Olga wrote first: she has waited longest.
	if _, err := o.inst.App.Store.DB().Exec(`UPDATE messages SET created_at = now() - interval '2 hours' WHERE conversation_id = $1`, older.ConversationID); err != nil {
		t.Fatal(err)
	}
	if _, err := o.inst.App.Inbox.Send(ctx, model.Actor{OrgID: o.orgID(), UserID: agentID, Role: model.RoleAgent}, replied.ConversationID, "Tem sim!"); err != nil {
		t.Fatal(err)
	}

	if _, err := o.inst.App.Analytics.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	res := agent.Get(o.home)
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `data-testid="myday"`) {
		t.Fatalf("agent's home: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	waiting := section(res.Body, `data-testid="myday-waiting"`)
	iOlga, iNina := strings.Index(waiting, "Olga Antiga"), strings.Index(waiting, "Nina Nova")
	if iOlga < 0 || iNina < 0 || iOlga > iNina {
		t.Errorf("waiting for me: Olga (2 h) then Nina, got %s", webtest.Text(waiting))
	}
	if strings.Contains(waiting, "Rui Respondido") || strings.Contains(waiting, "Sem Dono") {
		t.Errorf("waiting lists a replied or unassigned conversation: %s", webtest.Text(waiting))
	}
	if !strings.Contains(waiting, "2 h 0 min") && !strings.Contains(waiting, "2 h 1 min") {
		t.Errorf("waiting does not say how long: %s", webtest.Text(waiting))
	}
	mine := section(res.Body, `data-testid="home-mine"`)
	for _, n := range []string{"Olga Antiga", "Nina Nova", "Rui Respondido"} {
		if !strings.Contains(mine, n) {
			t.Errorf("my open conversations lack %s", n)
		}
	}
	if !strings.Contains(section(res.Body, `data-testid="home-unassigned"`), "Sem Dono") {
		t.Errorf("unassigned lacks Sem Dono (conversation %d)", free.ConversationID)
	}
	for _, k := range []string{"agent.replies", "response.first_median", "conversations.resolved"} {
		if !strings.Contains(res.Body, `data-testid="myday-figure-`+k+`"`) {
			t.Errorf("no figure %s", k)
		}
	}
	// Davi's one reply of today is his figure, from the engine with the agent filter.
	fig := section(res.Body, `data-testid="myday-figure-agent.replies"`)
	if i := strings.Index(fig, "</div>"); i > 0 {
		fig = fig[:i]
	}
	if !strings.Contains(fig, `data-known="true"`) || !strings.Contains(fig, `<dd class="stat-value">1</dd>`) {
		t.Errorf("Davi's replies of today: %s", fig)
	}
	if res := manager.Get(o.home); res.StatusCode != http.StatusOK || strings.Contains(res.Body, `data-testid="myday"`) {
		t.Errorf("a manager's home is my day: %d", res.StatusCode)
	}
}

// section is the HTML from the element marked by attr to the end of its card (the next
// section), enough to tell what a list holds.
func section(body, attr string) string {
	i := strings.Index(body, attr)
	if i < 0 {
		return ""
	}
	rest := body[i:]
	if j := strings.Index(rest[1:], "<section"); j >= 0 {
		return rest[:j+1]
	}
	return rest
}

// The metric definitions page: every member reads every metric, grouped by family, with
// its unit and what a click opens; a stranger gets nothing.
func TestMetricDefinitionsPage(t *testing.T) {
	t.Parallel()
	o := newInboxOrg(t)
	agent, _ := o.namedMember("Davi Rocha", model.RoleAgent)
	res := agent.Get(o.home + "/analytics/definitions")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("definitions: %d", res.StatusCode)
	}
	for _, d := range analytics.Definitions {
		if !strings.Contains(res.Body, `data-testid="definition-`+d.Key+`"`) {
			t.Errorf("the page lacks %s", d.Key)
		}
	}
	for _, f := range analytics.Families {
		if !strings.Contains(res.Body, `data-testid="definitions-`+f+`"`) {
			t.Errorf("the page lacks the family %s", f)
		}
	}
	stranger := webtest.NewClient(t, o.inst.URL)
	stranger.Signup("Outra Loja", "Sara", uniqueEmail("sara"), strongPassword)
	if res := stranger.Get(o.home + "/analytics/definitions"); res.StatusCode == http.StatusOK {
		t.Errorf("another org's member read the page: %d", res.StatusCode)
	}
}
