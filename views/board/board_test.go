package board_test

import (
	"bytes"
	"context"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/a-h/templ"
	"golang.org/x/net/html"

	"masteria/app/i18n"
	"masteria/app/model"
	"masteria/views/board"
	"masteria/views/ui"
	"masteria/views/voice"
)

var now = time.Date(2026, 5, 10, 14, 30, 0, 0, time.UTC)

func request(l i18n.Locale, role model.Role) *ui.Request {
	return &ui.Request{Locale: l, CSRF: "csrf-token-123", Nonce: "n0nce", Path: "/o/7/board", User: &model.User{ID: 1, Name: "Ana Souza", Email: "ana@loja.com.br"},
		Org: &model.Org{ID: 7, Name: "Loja da Ana"}, Role: role}
}

const evil = "<script>alert(1)</script>"

func stages() []board.Stage {
	return []board.Stage{{ID: 1, Name: "Novo", Color: "gray", Outcome: "open"}, {ID: 2, Name: evil, Color: "blue", Outcome: "open"},
		{ID: 3, Name: "Ganho", Color: "green", Outcome: "won"}, {ID: 4, Name: "Perdido", Color: "red", Outcome: "lost"}}
}

func members() []model.Membership {
	return []model.Membership{{UserID: 1, UserName: "Ana Souza", Role: model.RoleOwner}, {UserID: 2, UserName: evil, Role: model.RoleAgent}}
}

func page() board.Page {
	moved := now.Add(-time.Hour)
	cards := []board.Card{
		{ID: 10, StageID: 1, Rank: "a0", Title: "Bolo de casamento", ContactName: "Carla Dias", ValueCents: 235050, Currency: "BRL", OwnerName: "Ana Souza"},
		{ID: 11, StageID: 1, Rank: "a1", Title: evil, ContactName: evil, ValueCents: 0, Currency: "BRL", MovedAt: &moved, MovedBy: "Bruno"},
	}
	st := stages()
	return board.Page{
		Pipeline:  board.Pipeline{ID: 3, Name: "Vendas", Currency: "BRL"},
		Pipelines: []board.Pipeline{{ID: 3, Name: "Vendas"}, {ID: 4, Name: evil}},
		Stages:    st,
		Columns: []board.Column{{Stage: st[0], Cards: cards, Count: 120, SumCents: 235050, More: true},
			{Stage: st[1]}, {Stage: st[2], Count: 0}, {Stage: st[3]}},
		Filter:  board.Filter{Owner: "2", Q: evil, Min: "abc", Errors: map[string]string{"min": "board.error.value"}},
		Members: members(),
		New: board.LeadForm{PipelineID: 3, StageID: 1, Stages: st, Members: members(), Currency: "BRL", Return: "/o/7/board?pipeline=3",
			Contacts: []board.ContactOption{{ID: 5, Name: "Carla Dias", Phone: "+5511987654321"}}, ContactID: "5",
			Errors: map[string]string{"title": "board.error.title", "contact_phone": "board.error.phone"}},
	}
}

func leadPage() board.LeadPage {
	return board.LeadPage{
		Form: board.LeadForm{ID: 10, PipelineID: 3, StageID: 2, Title: evil, Value: "2.350,50", OwnerID: "2", Source: "Instagram", Notes: evil,
			Contact: "Carla Dias · +5511987654321", Currency: "BRL", Stages: stages(), Members: members(), Return: "/o/7/board?pipeline=3",
			Errors: map[string]string{"owner": "board.error.owner", "value": "board.error.value_negative"}},
		Moves:     []board.Move{{From: "Novo", To: evil, Who: "Ana Souza", At: now.Add(-2 * time.Hour)}, {From: "x", To: "y", At: now}},
		CreatedAt: now.Add(-48 * time.Hour),
		CanDelete: true,
	}
}

func pipelinePage() board.PipelinePage {
	return board.PipelinePage{
		Pipeline: board.Pipeline{ID: 3, Name: evil, Currency: "BRL"},
		Form:     board.PipelineForm{Name: evil, Currency: "USD", Errors: map[string]string{"name": "board.error.pipeline_taken"}},
		Stages: []board.StageForm{{ID: 1, Name: "Novo", Color: "gray", Outcome: "open", Leads: 3},
			{ID: 2, Name: evil, Color: "pink", Outcome: "won", Description: evil, Errors: map[string]string{"name": "board.error.name"}}},
		NewStage: board.StageForm{Color: "gray", Outcome: "open"},
		Error:    "board.error.has_leads", ErrorN: 3,
	}
}

// missing collects the i18n package's warnings about keys it could not find.
type missing struct {
	mu   sync.Mutex
	keys []string
}

func (m *missing) Enabled(context.Context, slog.Level) bool { return true }
func (m *missing) WithAttrs([]slog.Attr) slog.Handler       { return m }
func (m *missing) WithGroup(string) slog.Handler            { return m }
func (m *missing) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "missing key") {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "key" {
				m.mu.Lock()
				m.keys = append(m.keys, a.Value.String())
				m.mu.Unlock()
			}
			return true
		})
	}
	return nil
}

var keyLike = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$`)

func TestBoardViews(t *testing.T) {
	mk := &missing{}
	old := slog.Default()
	slog.SetDefault(slog.New(mk))
	t.Cleanup(func() { slog.SetDefault(old) })
	ui.Now = func() time.Time { return now }

	for _, l := range i18n.Supported() {
		for _, c := range []struct {
			name    string
			role    model.Role
			comp    templ.Component
			testids []string
		}{
			{"board", model.RoleManager, board.BoardPage(page()), []string{"board", "board-columns", "board-column", "lead-card", "lead-open", "lead-move",
				"column-count", "column-sum", "column-more", "lead-new", "lead-new-form", "lead-title", "lead-contact-q", "contact-choice",
				"lead-contact-name", "lead-contact-phone", "lead-new-submit", "board-edit-pipeline", "filter-q", "filter-owner", "filter-min", "filter-apply",
				"filter-clear", "lead-drawer", "board-pipeline"}},
			{"board-agent", model.RoleAgent, board.BoardPage(page()), nil},
			{"menu", model.RoleAgent, board.MoveMenu(page().Columns[0].Cards[1], stages(), "/o/7/board", []voice.CallNumber{{ID: 4, Label: "+55 11 3000-1000"}}), []string{"lead-move-stage", "lead-move-submit", "lead-move-up", "lead-move-down", "lead-call"}},
			{"cards", model.RoleAgent, board.Cards(page().Columns[0], board.Filter{Q: "x"}), []string{"lead-card", "column-more"}},
			{"lead-panel", model.RoleAgent, board.LeadPanel(leadPage()), []string{"lead-panel", "lead-edit-form", "lead-save", "lead-delete", "lead-history", "lead-owner", "lead-stage"}},
			{"lead-page", model.RoleAgent, board.LeadPageFull(leadPage()), []string{"lead-panel", "board-back"}},
			{"new-lead-page", model.RoleAgent, board.NewLeadPage(page().New), []string{"lead-new-form"}},
			{"lead-gone", model.RoleAgent, board.LeadGone(), []string{"lead-gone"}},
			{"contacts", model.RoleAgent, board.ContactResults(nil, "", true), []string{"contact-results"}},
			{"pipelines", model.RoleManager, board.PipelinesList(board.PipelinesPage{Pipelines: []board.Pipeline{{ID: 3, Name: evil, Stages: 6, Leads: 12, Currency: "BRL"}},
				Form: board.PipelineForm{Name: "x", Errors: map[string]string{"currency": "board.error.currency"}}}), []string{"pipelines-table", "pipeline-create-form", "pipeline-edit"}},
			{"pipeline", model.RoleManager, board.PipelineEdit(pipelinePage()), []string{"stage-list", "stage-row", "stage-up", "stage-down", "stage-delete",
				"stage-form", "stage-new-form", "pipeline-delete", "pipeline-error", "pipeline-form"}},
		} {
			t.Run(string(l)+"/"+c.name, func(t *testing.T) {
				var b bytes.Buffer
				if err := c.comp.Render(ui.With(context.Background(), request(l, c.role)), &b); err != nil {
					t.Fatal(err)
				}
				out := b.String()
				if strings.Contains(out, evil) {
					t.Error("user text rendered unescaped")
				}
				doc, err := html.Parse(strings.NewReader(out))
				if err != nil {
					t.Fatal(err)
				}
				ids := map[string]bool{}
				walk(doc, func(n *html.Node) {
					switch n.Type {
					case html.TextNode:
						if s := strings.TrimSpace(n.Data); keyLike.MatchString(s) {
							t.Errorf("untranslated text %q", s)
						}
					case html.ElementNode:
						for _, a := range n.Attr {
							if a.Key == "data-testid" {
								ids[a.Val] = true
							}
							if (a.Key == "title" || a.Key == "aria-label" || a.Key == "placeholder" || a.Key == "data-confirm" || a.Key == "data-empty") && keyLike.MatchString(a.Val) {
								t.Errorf("untranslated %s=%q", a.Key, a.Val)
							}
						}
						if n.Data == "form" {
							checkForm(t, n)
						}
						if n.Data == "script" && attr(n, "nonce") != "n0nce" {
							t.Errorf("script %s without the page's nonce", attr(n, "src"))
						}
					}
				})
				for _, id := range c.testids {
					if !ids[id] {
						t.Errorf("no data-testid=%q", id)
					}
				}
				if c.name == "board-agent" && ids["board-edit-pipeline"] {
					t.Error("an agent is offered to edit the pipeline")
				}
			})
		}
	}
	if len(mk.keys) > 0 {
		t.Errorf("missing i18n keys: %v", mk.keys)
	}
}

// checkForm wants a method and an action on each form, and the CSRF field in a POST.
func checkForm(t *testing.T, form *html.Node) {
	t.Helper()
	if attr(form, "action") == "" {
		t.Errorf("form without an action")
	}
	if attr(form, "method") != "post" {
		return
	}
	ok := false
	walk(form, func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "input" && attr(n, "name") == "_csrf" && attr(n, "value") != "" {
			ok = true
		}
	})
	if !ok {
		t.Errorf("form %q has no _csrf field", attr(form, "action"))
	}
}

func walk(n *html.Node, fn func(*html.Node)) {
	fn(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, fn)
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func TestMoney(t *testing.T) {
	for _, c := range []struct {
		l        i18n.Locale
		cents    int64
		currency string
		want     string
	}{
		{i18n.PTBR, 123456, "BRL", "R$\u00a01.234,56"},
		{i18n.EN, 123456, "BRL", "R$1,234.56"},
		{i18n.EN, 5, "USD", "$0.05"},
		{i18n.PTBR, 100000000, "USD", "US$\u00a01.000.000,00"},
		{i18n.EN, 990, "EUR", "€9.90"},
	} {
		ctx := ui.With(context.Background(), &ui.Request{Locale: c.l})
		if got := board.Money(ctx, c.cents, c.currency); got != c.want {
			t.Errorf("Money(%s, %d, %s) = %q, want %q", c.l, c.cents, c.currency, got, c.want)
		}
	}
	pt := ui.With(context.Background(), &ui.Request{Locale: i18n.PTBR})
	if got := board.MoneyInput(pt, 123450); got != "1.234,50" {
		t.Errorf("MoneyInput = %q", got)
	}
	if got := board.MoneyInput(ui.With(context.Background(), &ui.Request{Locale: i18n.EN}), 123450); got != "1234.50" {
		t.Errorf("MoneyInput en = %q", got)
	}
}

func TestFilterQuery(t *testing.T) {
	f := board.Filter{Owner: "none", Q: "bolo & doce", Min: "10"}
	if got := f.Query(); got != "min=10&owner=none&q=bolo+%26+doce" {
		t.Fatalf("Query() = %q", got)
	}
	if (board.Filter{}).Active() || !f.Active() {
		t.Fatal("Active")
	}
}
