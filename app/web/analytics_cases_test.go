package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"masteria/app/analytics"
)

// TestCasesFollowTheInbox: cases come from what the inbox really writes — a customer's
// message opens one, an agent's reply answers it, closing on the page ends it, and the
// customer writing again reopens the conversation and starts the next case.
func TestCasesFollowTheInbox(t *testing.T) {
	t.Parallel()
	o := newInboxOrg(t)
	ctx := context.Background()
	r := o.receive("+5511955550101", "Nina", "Oi, tudo bem?")
	conv := fmt.Sprintf("%s/inbox/%d", o.home, r.ConversationID)
	if res := o.owner.Post(conv+"/messages", url.Values{"body": {"Tudo! Em que posso ajudar?"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("reply: %d", res.StatusCode)
	}
	if res := o.owner.Post(conv+"/status", url.Values{"status": {"closed"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("close: %d", res.StatusCode)
	}
	o.receive("+5511955550101", "Nina", "Mais uma pergunta")
	var log []string
	if err := o.inst.App.Store.DB().Select(&log, `SELECT coalesce(old_status, '-') || '>' || status FROM conversation_log
		WHERE org_id = $1 AND conversation_id = $2 ORDER BY id`, o.orgID(), r.ConversationID); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(log) != "[->open open>closed closed>open]" {
		t.Fatalf("log %v", log)
	}
	s := o.inst.App.Analytics
	if _, err := s.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	f, err := analytics.ParseFilter(url.Values{"period": {"today"}}, "America/Sao_Paulo", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	figs, err := s.Figures(ctx, o.orgID(), f, []string{"conversations.started", "conversations.resolved", "agent.replies", "conversations.open"})
	if err != nil {
		t.Fatal(err)
	}
	if figs[0].Value != 2 || figs[1].Value != 1 || figs[2].Value != 1 || figs[3].Value != 1 {
		t.Fatalf("figures %+v", figs)
	}
}
