package web_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	xhtml "golang.org/x/net/html"

	"masteria/app/analytics"
	"masteria/app/crm/board"
	"masteria/app/inbox"
	"masteria/app/model"
	"masteria/app/web/webtest"
)

// screenFigure is one figure of a rendered dashboard, where its CSV puts it.
type screenFigure struct {
	part, row, col, value, href string
}

// screenFigures reads the figures of a page in order: the elements marked data-figure.
func screenFigures(t *testing.T, page string) []screenFigure {
	t.Helper()
	doc, err := xhtml.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var out []screenFigure
	var walk func(n *xhtml.Node)
	walk = func(n *xhtml.Node) {
		if n.Type == xhtml.ElementNode {
			a := map[string]string{}
			for _, at := range n.Attr {
				a[at.Key] = at.Val
			}
			if _, ok := a["data-figure"]; ok {
				out = append(out, screenFigure{a["data-part"], a["data-row"], a["data-col"], a["data-value"], a["href"]})
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return out
}

// readCSV reads an export: BOM, then rows with the delimiter of the reader's language.
func readCSV(t *testing.T, res *webtest.Response, delim rune) [][]string {
	t.Helper()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("export: %d %s %.300s", res.StatusCode, res.Header.Get("Content-Type"), res.Body)
	}
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(res.Body, "\ufeff")))
	r.Comma = delim
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// analyticsFixture gives the org of o a small known week: four conversations on two
// channels (three on the first), two of them answered by Paula and one closed, and two
// leads; then the rollups catch up.
func analyticsFixture(t *testing.T, o *inboxOrg) (orgID, second int64) {
	t.Helper()
	ctx := context.Background()
	_, _ = fmt.Sscanf(o.home, "/o/%d", &orgID)
	if res := o.owner.Post(o.home+"/settings/channels", url.Values{"kind": {model.KindSandbox}, "name": {"Vendas"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("second channel: %d", res.StatusCode)
	}
	chs, _ := o.inst.App.Inbox.Channels(ctx, orgID)
	var ch2 model.Channel
	for _, c := range chs {
		if c.ID != o.ch.ID {
			ch2 = c
		}
	}
	var owner int64
	if err := o.inst.App.Store.DB().Get(&owner, `SELECT user_id FROM memberships WHERE org_id = $1 AND role = 'owner'`, orgID); err != nil {
		t.Fatal(err)
	}
	a := model.Actor{OrgID: orgID, UserID: owner, Role: model.RoleOwner}
	var convs []int64
	for i, who := range []string{"Ana", "Bruno", "Carla"} {
		r := o.receive(fmt.Sprintf("+55119990000%02d", i), who, "Oi, tudo bem?")
		convs = append(convs, r.ConversationID)
	}
	if _, err := o.inst.App.Inbox.Receive(ctx, ch2, inbox.Inbound{From: "+5511999000099", Name: "Davi", Body: "Quero um orçamento", ProviderID: "in.davi"}); err != nil {
		t.Fatal(err)
	}
	for _, id := range convs[:2] {
		if _, err := o.inst.App.Inbox.Send(ctx, a, id, "Olá! Como posso ajudar?"); err != nil {
			t.Fatal(err)
		}
	}
	if err := o.inst.App.Inbox.SetStatus(ctx, a, convs[0], "closed"); err != nil {
		t.Fatal(err)
	}
	ps, err := o.inst.App.Board.Pipelines(ctx, orgID)
	if err != nil || len(ps) == 0 {
		t.Fatalf("pipelines: %v", err)
	}
	stages, err := o.inst.App.Board.Stages(ctx, orgID, ps[0].ID)
	if err != nil || len(stages) == 0 {
		t.Fatalf("stages: %v", err)
	}
	for _, who := range []string{"Ana", "Davi"} {
		if _, err := o.inst.App.Board.CreateLead(ctx, a, board.LeadInput{StageID: stages[0].ID, Title: who, Value: "1500,00", ContactName: who}); err != nil {
			t.Fatal(err)
		}
	}
	// The sandbox reports the sends delivered, then read, a moment later: wait until they
	// are read, then catch up, so the figures and the rows they count stand still.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var queued int
		if err := o.inst.App.Store.DB().Get(&queued, `SELECT count(*) FROM messages WHERE org_id = $1 AND direction = 'out' AND status <> 'read'`, orgID); err != nil {
			t.Fatal(err)
		}
		if queued == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages not read yet", queued)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := o.inst.App.Analytics.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	return orgID, ch2.ID
}

var digitsOnly = regexp.MustCompile(`[^0-9]`)

// TestAnalyticsCSVEqualsScreen: on a known week, every figure the dashboard shows is the
// same text in the CSV of its part (KPIs, each chart, table and funnel), in English and in
// Portuguese; no part is unavailable; and the drill-down of every count adds up to the
// number clicked.
func TestAnalyticsCSVEqualsScreen(t *testing.T) {
	t.Parallel()
	o := newInboxOrg(t)
	analyticsFixture(t, o)
	for _, lang := range []string{"en", "pt-BR"} {
		delim := ','
		if lang == "pt-BR" {
			delim = ';'
			o.owner.Post("/locale", url.Values{"locale": {lang}})
		}
		page := o.owner.Get(o.home + "/analytics?period=7d")
		if page.StatusCode != http.StatusOK {
			t.Fatalf("%s: dashboard %d", lang, page.StatusCode)
		}
		if strings.Contains(page.Body, `data-testid="part-error"`) {
			t.Fatalf("%s: a part is unavailable: %s", lang, webtest.Text(page.Body))
		}
		figs := screenFigures(t, page.Body)
		byPart := map[string][]screenFigure{}
		var parts []string
		for _, f := range figs {
			if _, ok := byPart[f.part]; !ok {
				parts = append(parts, f.part)
			}
			byPart[f.part] = append(byPart[f.part], f)
		}
		if len(parts) < 1+len(analytics.HomeSeries)+len(analytics.HomeFunnels) {
			t.Fatalf("%s: parts on the page: %v", lang, parts)
		}
		compared := 0
		for _, part := range parts {
			rows := readCSV(t, o.owner.Get(o.home+"/analytics/export?"+url.Values{"period": {"7d"}, "part": {part}}.Encode()), delim)
			// Where each screen figure sits in the CSV: the KPIs by their order in Home, a
			// chart's points and a funnel's steps by index, a table's cells by row and by
			// their column's place in the row.
			colOf := map[string]int{"value": 1, "previous": 2, "change": 3, "rate": 2}
			tableCol := map[string]int{}
			for _, f := range byPart[part] {
				var r, c int
				kind, _, _ := strings.Cut(part, ":")
				switch kind {
				case "kpis":
					r = 1 + indexOf(append(append([]string{}, analytics.HomeKPIs...), analytics.HomeNow...), f.row)
					c = colOf[f.col]
				case "table":
					if f.row == "total" {
						r = len(rows) - 1
					} else {
						n, _ := strconv.Atoi(f.row)
						r = 1 + n
					}
					if _, ok := tableCol[f.col]; !ok {
						tableCol[f.col] = 1 + len(tableCol)
					}
					c = tableCol[f.col]
				default:
					n, _ := strconv.Atoi(f.row)
					r, c = 1+n, colOf[f.col]
				}
				if r <= 0 || r >= len(rows) || c >= len(rows[r]) {
					t.Errorf("%s %s: figure %+v has no cell in the CSV (%d rows)", lang, part, f, len(rows))
					continue
				}
				if rows[r][c] != f.value {
					t.Errorf("%s %s row %s col %s: screen %q, CSV %q", lang, part, f.row, f.col, f.value, rows[r][c])
				}
				compared++
			}
		}
		t.Logf("%s: %d figures compared over %d parts", lang, compared, len(parts))

		if lang != "en" {
			continue
		}
		// Drill-downs: every count KPI's list, and every point of a count's chart (its
		// day only), holds as many rows as the number clicked.
		for _, m := range analytics.HomeSeries {
			if def, _ := analytics.DefinitionOf(m); def.Unit != analytics.Count {
				continue
			}
			for _, f := range byPart["series:"+m] {
				want, _ := strconv.ParseInt(digitsOnly.ReplaceAllString(f.value, ""), 10, 64)
				if total := drillTotal(t, o.owner, f.href); total != want {
					t.Errorf("drill-down of %s's point %s lists %d, the chart says %s", m, f.row, total, f.value)
				}
			}
		}
		for _, f := range byPart["kpis"] {
			def, _ := analytics.DefinitionOf(f.row)
			if f.col != "value" || def.Unit != analytics.Count || f.href == "" {
				continue
			}
			want, _ := strconv.ParseInt(digitsOnly.ReplaceAllString(f.value, ""), 10, 64)
			total := drillTotal(t, o.owner, f.href)
			if total != want {
				t.Errorf("%s: drill-down of %s lists %d, the figure says %s", lang, f.row, total, f.value)
			}
		}
	}
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -2
}

var drillTotalRE = regexp.MustCompile(`data-testid="drill-total" data-value="(\d+)"`)

// drillTotal opens a drill-down, checks that its pages hold as many rows as it says, and
// returns that number.
func drillTotal(t *testing.T, c *webtest.Client, href string) int64 {
	t.Helper()
	res := c.Get(strings.ReplaceAll(href, "&amp;", "&"))
	m := drillTotalRE.FindStringSubmatch(res.Body)
	if res.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("drill-down %s: %d %s", href, res.StatusCode, webtest.Text(res.Body))
	}
	total, _ := strconv.ParseInt(m[1], 10, 64)
	rows := int64(strings.Count(res.Body, `data-testid="drill-item"`))
	if total <= 50 && rows != total {
		t.Errorf("drill-down %s: says %d, lists %d", href, total, rows)
	}
	return total
}

// TestAnalyticsDrillPagesAddUp: a list longer than a page shows its first page and "Show
// more", whose page holds the rest; the pages and the CSV add up to the figure; a chart of
// today has a point per hour, and the point of the hour the conversations came in opens
// them all.
func TestAnalyticsDrillPagesAddUp(t *testing.T) {
	t.Parallel()
	o := newInboxOrg(t)
	ctx := context.Background()
	for i := range 55 {
		o.receive(fmt.Sprintf("+551197000%04d", i), fmt.Sprintf("Cliente %02d", i), "Oi")
	}
	if _, err := o.inst.App.Analytics.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	page := o.owner.Get(o.home + "/analytics/drill?metric=conversations.started&period=7d")
	if m := drillTotalRE.FindStringSubmatch(page.Body); page.StatusCode != http.StatusOK || m == nil || m[1] != "55" {
		t.Fatalf("drill-down: %d %s", page.StatusCode, webtest.Text(page.Body))
	}
	if n := strings.Count(page.Body, `data-testid="drill-item"`); n != 50 {
		t.Fatalf("first page: %d rows, want 50", n)
	}
	href := attrOf(t, page.Body, "drill-more", "href")
	if href == "" {
		t.Fatal("no Show more")
	}
	next := o.owner.Get(href, "HX-Request", "true")
	if n := strings.Count(next.Body, `data-testid="drill-item"`); next.StatusCode != http.StatusOK || n != 5 || strings.Contains(next.Body, `data-testid="drill-more"`) {
		t.Fatalf("second page: %d, %d rows", next.StatusCode, n)
	}
	rows := readCSV(t, o.owner.Get(o.home+"/analytics/export?part=drill&metric=conversations.started&period=7d"), ',')
	if len(rows) != 56 {
		t.Fatalf("CSV: %d rows, want a header and 55", len(rows))
	}

	today := o.owner.Get(o.home + "/analytics?period=today")
	var hours []screenFigure
	for _, f := range screenFigures(t, today.Body) {
		if f.part == "series:conversations.started" {
			hours = append(hours, f)
		}
	}
	if len(hours) < 23 || len(hours) > 25 {
		t.Fatalf("today's chart has %d points, want one per hour", len(hours))
	}
	sum := int64(0)
	for _, f := range hours {
		n, _ := strconv.ParseInt(f.value, 10, 64)
		if n == 0 {
			continue
		}
		sum += n
		if total := drillTotal(t, o.owner, f.href); total != n {
			t.Errorf("hour %s: the chart says %d, its list holds %d", f.row, n, total)
		}
	}
	if sum != 55 {
		t.Errorf("today's hours add up to %d, want 55", sum)
	}
}

// attrOf is the attribute attr of the element marked data-testid=testid ("" when none).
func attrOf(t *testing.T, page, testid, attr string) string {
	t.Helper()
	doc, err := xhtml.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var found string
	var walk func(n *xhtml.Node)
	walk = func(n *xhtml.Node) {
		if n.Type == xhtml.ElementNode {
			a := map[string]string{}
			for _, at := range n.Attr {
				a[at.Key] = at.Val
			}
			if a["data-testid"] == testid && found == "" {
				found = a[attr]
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return found
}
