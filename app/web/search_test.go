package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"masteria/app/crm/board"
	"masteria/app/model"
	"masteria/app/web/webtest"
)

// Every search box finds accented words typed without accents, and takes anything (NUL,
// invalid UTF-8, 10 KB) without an error page.
func TestSearchBoxes(t *testing.T) {
	t.Parallel()
	o := newInboxOrg(t)
	ctx := context.Background()
	joao := o.receive("+5511987650001", "João Silva", "Quero um bolo de chocolate")
	o.receive("+5511987650002", "Vinícius Souza", "Pode mandar o orçamento?")
	if res := o.owner.Post(o.home+"/settings/quick-replies", url.Values{"shortcut": {"orcamento"}, "title": {"Envio de Orçamento"}, "body": {"Segue"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("quick reply: %d", res.StatusCode)
	}
	a := model.Actor{OrgID: o.orgID(), UserID: 0, Role: model.RoleOwner}
	_ = o.inst.App.Store.DB().Get(&a.UserID, `SELECT user_id FROM memberships WHERE org_id = $1`, a.OrgID)
	p, err := o.inst.App.Board.EnsurePipeline(ctx, a, "pt-BR")
	if err != nil {
		t.Fatal(err)
	}
	stages, _ := o.inst.App.Board.Stages(ctx, a.OrgID, p.ID)
	if _, err := o.inst.App.Board.CreateLead(ctx, a, board.LeadInput{StageID: stages[0].ID, Title: "Orçamento de festa", ContactID: fmt.Sprint(joao.ContactID)}); err != nil {
		t.Fatal(err)
	}

	inboxList := o.home + "/inbox/list?view=all&status=any&q="
	quick := fmt.Sprintf("%s/inbox/%d/quick-replies?q=", o.home, joao.ConversationID)
	for _, c := range []struct{ path, q, want string }{
		{o.home + "/contacts?q=", "joao", "João Silva"},
		{o.home + "/contacts?q=", "VINICIUS", "Vinícius Souza"},
		{inboxList, "joao", "João Silva"},
		{inboxList, "ORCAMENTO", "<mark>orçamento</mark>"},
		{inboxList, "bolo", "<mark>bolo</mark>"},
		{o.home + "/board?q=", "orcamento", "Orçamento de festa"},
		{o.home + "/board?q=", "JOAO", "Orçamento de festa"},
		{o.home + "/board/contacts?contact_q=", "vinicius", "Vinícius Souza"},
		{quick, "orç", "Envio de Orçamento"},
		{o.home + "/inbox/new/contacts?q=", "joao", "João Silva"}, // the New conversation form
	} {
		res := o.owner.Get(c.path+url.QueryEscape(c.q), "HX-Request", "true")
		if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, c.want) {
			t.Errorf("%s%s: %d, want %q in %s", c.path, c.q, res.StatusCode, c.want, webtest.Text(res.Body))
		}
	}
	// The snippet is escaped like any message text.
	o.receive("+5511987650003", "Zé", "<script>alert(1)</script> bolo")
	if res := o.owner.Get(inboxList+"bolo", "HX-Request", "true"); strings.Contains(res.Body, "<script>alert") {
		t.Fatal("a snippet was not escaped")
	}

	bad := []string{"\x00", "bolo\x00", "\xff\xfe", "jo\xc3", strings.Repeat("joão ", 2048), "%", "_", `\`, "'", `"`, "!", "&|:*", "<->"}
	for _, path := range []string{
		o.home + "/contacts?q=", inboxList, o.home + "/inbox?q=", o.home + "/board?q=", fmt.Sprintf("%s/board/totals?pipeline=%d&q=", o.home, p.ID),
		o.home + "/board/contacts?contact_q=", quick, o.home + "/inbox/new/contacts?q=", fmt.Sprintf("%s/inbox/%d/templates?q=", o.home, joao.ConversationID),
	} {
		for _, q := range bad {
			// NUL bytes and invalid UTF-8 are refused with a clear 400 by the input check; the
			// rest is searched for.
			want := http.StatusOK
			if strings.ContainsRune(q, 0) || !utf8.ValidString(q) {
				want = http.StatusBadRequest
			}
			if res := o.owner.Get(path+url.QueryEscape(q), "HX-Request", "true"); res.StatusCode != want {
				t.Errorf("%s%.20q: %d %.200s", path, q, res.StatusCode, webtest.Text(res.Body))
			}
		}
	}
}
