package e2e

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"masteria/app/model"
	"masteria/app/web/webtest"
)

// TestCadenceRunScreens: a contact enrolled in an active cadence is seen on the cadence's
// People tab (the funnel and the enrolments), on its enrolment's timeline and on its own
// page, at 1366 px light in English and 390 px dark in Portuguese, each fitting the
// screen; with MASTERIA_SCREENSHOTS set it saves them.
func TestCadenceRunScreens(t *testing.T) {
	needChromium(t)
	s := newInboxSetup(t)
	ctx := context.Background()
	owner := model.Actor{OrgID: s.orgID, Role: model.RoleOwner}
	if _, err := s.inst.App.Inbox.CreateChannel(ctx, owner, model.KindSandbox, "WhatsApp", nil, nil); err != nil {
		t.Fatal(err)
	}
	db := s.inst.App.Store.DB()
	var cadence int64
	if err := db.Get(&cadence, `INSERT INTO cadences (org_id, name, status) VALUES ($1, 'Boas-vindas', 'active') RETURNING id`, s.orgID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO cadence_versions (org_id, cadence_id, version, steps)
		VALUES ($1, $2, 1, '[{"id":"s1","kind":"wait","wait_minutes":600,"next":"s2"},{"id":"s2","kind":"classify"}]')`, s.orgID, cadence); err != nil {
		t.Fatal(err)
	}
	var contacts []int64
	for i, name := range []string{"Rita Gomes", "Caio Reis", "Bia Lins"} {
		contacts = append(contacts, s.receive(t, s.channel(t), fmt.Sprintf("+551195555%04d", 100+i), name, "Oi").ContactID)
	}
	if _, err := s.inst.App.CadenceEngine.Enrol(ctx, owner, cadence, contacts, model.EnrolManual); err != nil {
		t.Fatal(err)
	}
	var enrolment int64
	for deadline := time.Now().Add(waitTimeout); ; time.Sleep(50 * time.Millisecond) {
		_ = db.Get(&enrolment, `SELECT e.id FROM cadence_enrolments e JOIN cadence_steps s ON s.enrolment_id = e.id
			WHERE e.org_id = $1 AND e.contact_id = $2 AND s.step_id = 's1'`, s.orgID, contacts[0])
		if enrolment != 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first step did not start")
		}
	}

	ctxB := testContext(t, testTimeout)
	b := newBrowser(t, ctxB, "cadence-run", s.inst.URL)
	s.login(b)
	dir := os.Getenv("MASTERIA_SCREENSHOTS")
	if dir != "" {
		b.keys = i18nKeys(t)
	}
	pages := []struct{ name, path, sel string }{
		{"people", fmt.Sprintf("%s/cadences/%d/people", s.home, cadence), `[data-testid="cadence-funnel-s1"]`},
		{"timeline", fmt.Sprintf("%s/enrolments/%d", s.home, enrolment), `[data-step="s1"]`},
		{"contact", fmt.Sprintf("%s/contacts/%d", s.home, contacts[0]), `[data-testid="contact-cadences"]`},
	}
	looks := []look{{name: "1366-light-en", width: 1366, height: 900, theme: "light"},
		{name: "390-dark-pt", width: 390, height: 844, theme: "dark", phone: true}}
	for i, l := range looks {
		if i == 1 {
			c := webtest.NewClient(t, s.inst.URL)
			c.Login(s.email, s.password)
			c.Post("/locale", url.Values{"locale": {"pt-BR"}})
		}
		b.setLook(l)
		for _, p := range pages {
			b.open(p.path, chromedp.CSS(p.sel))
			if w := eval[int64](b, `document.documentElement.scrollWidth`); w > l.width {
				t.Errorf("%s at %s is %d px wide", p.name, l.name, w)
			}
			if dir != "" {
				b.save(dir, "cadence-"+p.name+"-"+l.name, l)
			}
		}
	}
	b.noConsoleErrors()
}

// TestCadenceTimelineCatchesUp: what moves while a timeline's event stream is not yet (or
// no longer) open is not lost: the page's events are blocked while it loads, the
// enrolment is removed meanwhile, and once the stream opens the timeline shows it, with
// no reload.
func TestCadenceTimelineCatchesUp(t *testing.T) {
	needChromium(t)
	s := newInboxSetup(t)
	ctx := context.Background()
	owner := model.Actor{OrgID: s.orgID, Role: model.RoleOwner}
	if _, err := s.inst.App.Inbox.CreateChannel(ctx, owner, model.KindSandbox, "WhatsApp", nil, nil); err != nil {
		t.Fatal(err)
	}
	db := s.inst.App.Store.DB()
	var cadence int64
	if err := db.Get(&cadence, `INSERT INTO cadences (org_id, name, status) VALUES ($1, 'Boas-vindas', 'active') RETURNING id`, s.orgID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO cadence_versions (org_id, cadence_id, version, steps)
		VALUES ($1, $2, 1, '[{"id":"s1","kind":"wait","wait_minutes":600,"next":"s2"},{"id":"s2","kind":"classify"}]')`, s.orgID, cadence); err != nil {
		t.Fatal(err)
	}
	contact := s.receive(t, s.channel(t), "+5511955550100", "Rita Gomes", "Oi").ContactID
	res, err := s.inst.App.CadenceEngine.Enrol(ctx, owner, cadence, []int64{contact}, model.EnrolManual)
	if err != nil || len(res.IDs) != 1 {
		t.Fatalf("enrol: %+v %v", res, err)
	}
	enrolment := res.IDs[0]

	b := newBrowser(t, testContext(t, testTimeout), "cadence-catch-up", s.inst.URL)
	s.login(b)
	events := []*network.BlockPattern{{URLPattern: "*://*:*/events*", Block: true}}
	call(t, b, network.Enable, network.EnableParams{})
	call(t, b, network.SetBlockedURLs, network.SetBlockedURLsParams{URLPatterns: events})
	b.open(fmt.Sprintf("%s/enrolments/%d", s.home, enrolment), `[data-step="s1"]`)
	b.do("mark the page", chromedp.Evaluate[chromedp.Void](`window.__e2eNoReload = true`))
	if eval[bool](b, sseOpen) {
		t.Fatal("the event stream opened though it is blocked")
	}
	if err := s.inst.App.CadenceEngine.Exit(ctx, owner, enrolment, model.ExitManual); err != nil {
		t.Fatal(err)
	}
	call(t, b, network.SetBlockedURLs, network.SetBlockedURLsParams{})
	b.waitJS("the stream opens", sseOpen, waitTimeout)
	b.waitJS("the timeline shows the removal", `document.querySelector('[data-testid="enrolment-status"]').dataset.status === "exited"`, waitTimeout)
	if !eval[bool](b, `window.__e2eNoReload === true`) {
		t.Error("the timeline reloaded; it must catch up in place")
	}
}
