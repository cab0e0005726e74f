package campaign_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"masteria/app/campaign"
	"masteria/app/config"
	"masteria/app/model"
	"masteria/app/sim/metasim"
	"masteria/app/store"
	"masteria/app/store/storetest"
	"masteria/app/web/webtest"
)

// env is a running Master IA (its web server, job workers and the campaign engine) whose
// WhatsApp Cloud API channel talks to the Meta simulator over real HTTP, both ways: sends
// go to the sim, the sim's signed status webhooks come back to the app.
type env struct {
	ctx  context.Context
	inst *webtest.Instance
	st   *store.Store
	svc  *campaign.Service
	ms   *metasim.Server
	a    model.Actor
	ch   model.Channel
	tmpl model.Template
}

const (
	phoneNumberID = "555"
	wabaID        = "999"
)

func newEnv(t testing.TB, simOpts ...metasim.Option) env {
	t.Helper()
	return newEnvWith(t, nil, simOpts...)
}

// newEnvWith is newEnv with a change to the instance's configuration.
func newEnvWith(t testing.TB, edit func(*config.Config), simOpts ...metasim.Option) env {
	t.Helper()
	ms := metasim.New(append([]metasim.Option{metasim.WithStatusDelays(0, 10*time.Millisecond, 10*time.Millisecond)}, simOpts...)...)
	graph, err := ms.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ms.Close)
	inst := webtest.StartOn(t, storetest.URL(t), func(c *config.Config) {
		c.MetaGraphURL = graph
		c.CampaignTick = time.Second
		if edit != nil {
			edit(c)
		}
	})
	e := env{ctx: context.Background(), inst: inst, st: inst.App.Store, svc: inst.App.Campaigns, ms: ms}
	e.svc.SendTimeout = 2 * time.Second
	e.svc.Lease = 3 * time.Second
	e.svc.Slice = 3 * time.Second
	org, err := e.st.CreateOrg(e.ctx, "Loja Campanhas")
	if err != nil {
		t.Fatal(err)
	}
	e.a = model.Actor{OrgID: org.ID, Role: model.RoleOwner}
	e.ch = e.cloudChannel(t, phoneNumberID, wabaID, 200)
	e.tmpl = e.template(t, e.ch, "promo_maio", "Olá {{1}}, a promoção de {{2}} chegou!")
	return e
}

// cloudChannel connects a Cloud API channel for a sim number at a pace (messages a second).
func (e env) cloudChannel(t testing.TB, pnid, waba string, pace float64) model.Channel {
	t.Helper()
	ch, err := e.inst.App.Inbox.CreateChannel(e.ctx, e.a, model.KindWhatsAppCloud, "WhatsApp "+pnid,
		map[string]string{"phone_number_id": pnid, "waba_id": waba},
		map[string]string{"app_secret": "meta-secret", "verify_token": "vt", "access_token": "EAAtoken"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.SetChannelSendSettings(e.ctx, e.a.OrgID, ch.ID, json.RawMessage(`{}`), pace); err != nil {
		t.Fatal(err)
	}
	e.ms.AddNumber(metasim.Number{PhoneNumberID: pnid, WABAID: waba, DisplayNumber: "5511900000000", AccessToken: "EAAtoken",
		AppSecret: "meta-secret", WebhookURL: fmt.Sprintf("%s/webhooks/whatsapp/%d", e.inst.URL, ch.ID)})
	ch, err = e.st.Channel(e.ctx, e.a.OrgID, ch.ID)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// template approves a body-only template both at the sim and in the app.
func (e env) template(t testing.TB, ch model.Channel, name, body string) model.Template {
	t.Helper()
	comps := []map[string]any{{"type": "BODY", "text": body}}
	e.ms.AddTemplate(wabaID, metasim.Template{Name: name, Language: "pt_BR", Status: "APPROVED", Category: "MARKETING", Components: comps})
	raw, _ := json.Marshal(comps)
	list, err := e.st.Templates(e.ctx, e.a.OrgID, ch.ID) // a sync replaces the list: keep the others
	if err != nil {
		t.Fatal(err)
	}
	list = append(list, model.Template{ProviderID: name, Name: name, Language: "pt_BR", Category: "MARKETING", Status: "APPROVED", Components: raw})
	if err := e.st.ReplaceTemplates(e.ctx, e.a.OrgID, ch.ID, list, time.Now()); err != nil {
		t.Fatal(err)
	}
	got, err := e.st.TemplateByName(e.ctx, e.a.OrgID, ch.ID, name, "pt_BR")
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// contacts creates n contacts named "Cliente i" with phones +55119876500ii.
func (e env) contacts(t testing.TB, n int) []int64 {
	t.Helper()
	ids := make([]int64, n)
	for i := range n {
		p := fmt.Sprintf("+5511987%06d", i)
		id, err := e.st.CreateContact(e.ctx, model.Contact{OrgID: e.a.OrgID, Name: fmt.Sprintf("Cliente %d", i), Phone: &p})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = id
	}
	return ids
}

// draft creates a ready campaign of the template to contacts, first name with a fallback.
func (e env) draft(t testing.TB, ids []int64, edit ...func(*model.Campaign)) model.Campaign {
	t.Helper()
	chID := e.ch.ID
	c := model.Campaign{Name: "Promoção de maio", ChannelID: &chID, Audience: model.Audience{ContactIDs: ids},
		Message: model.CampaignMessage{Variants: []model.Variant{{TemplateID: e.tmpl.ID,
			Vars: []model.VarMap{{Source: "field", Field: "first_name", Fallback: "cliente"}, {Source: "text", Text: "maio"}}}}},
		Settings: model.DefaultCampaignSettings()}
	c.Settings.QuietStart, c.Settings.QuietEnd = 0, 0
	for _, f := range edit {
		f(&c)
	}
	c, err := e.svc.Create(e.ctx, e.a, c)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wait polls until cond holds or the time is up.
func wait(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (e env) status(t testing.TB, id int64) string {
	t.Helper()
	c, err := e.st.Campaign(e.ctx, e.a.OrgID, id)
	if err != nil {
		t.Fatal(err)
	}
	return c.Status
}

func (e env) progress(t testing.TB, id int64) model.Progress {
	t.Helper()
	p, err := e.st.CampaignProgress(e.ctx, e.a.OrgID, id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// waitDone waits for the campaign to complete and for every status webhook to land.
func (e env) waitDone(t testing.TB, id int64, d time.Duration) model.Progress {
	t.Helper()
	wait(t, d, "the campaign to complete", func() bool { return e.status(t, id) == model.CampaignCompleted })
	_ = e.ms.WaitDeliveries(e.ctx)
	return e.progress(t, id)
}

// sentTimes maps each wa_id the sim received a campaign message for to how many it got.
func (e env) sentTimes() map[string]int {
	out := map[string]int{}
	for _, m := range e.ms.Sent() {
		if m.CallbackData != "" {
			out[m.To]++
		}
	}
	return out
}

func phoneOf(i int) string { return fmt.Sprintf("+5511987%06d", i) }

func digits(p string) string { return strings.TrimPrefix(p, "+") }

// userID makes a member of the env's org (who saves segments) and returns their id.
func (e env) userID(t testing.TB) int64 {
	t.Helper()
	u, err := e.st.CreateUser(e.ctx, fmt.Sprintf("gerente%d@example.com", time.Now().UnixNano()), "Gerente", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.DB().Exec(`INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, 'manager')`, e.a.OrgID, u.ID); err != nil {
		t.Fatal(err)
	}
	return u.ID
}
