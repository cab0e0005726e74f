package web_test

import (
	"fmt"
	"strings"
	"testing"

	"masteria/app/model"
	"masteria/app/web/webtest"
)

// TestContactPageShowsCampaignSends: the contact page's timeline has a line per campaign
// send, with the failure's code and words; it links to the campaign for those who may run
// campaigns, and is plain text for agents.
func TestContactPageShowsCampaignSends(t *testing.T) {
	t.Parallel()
	o := newInboxOrg(t)
	r := o.receive("+5511944440077", "Carla Souza", "Oi")
	db := o.inst.App.Store.DB()
	campaign := func(name, status, code, title string) int64 {
		t.Helper()
		var id int64
		if err := db.Get(&id, `INSERT INTO campaigns (org_id, name, channel_id, status) VALUES ($1, $2, $3, 'completed') RETURNING id`,
			o.orgID(), name, o.ch.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`INSERT INTO campaign_recipients (org_id, campaign_id, channel_id, contact_id, status, error_code, error_title,
			sent_at, delivered_at, failed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, now(), CASE WHEN $5 = 'delivered' THEN now() END,
			CASE WHEN $5 = 'failed' THEN now() END)`, o.orgID(), id, o.ch.ID, r.ContactID, status, code, title); err != nil {
			t.Fatal(err)
		}
		return id
	}
	promo := campaign("Promo de Páscoa", "delivered", "", "")
	aviso := campaign("Aviso de entrega", "failed", "131026", "Message undeliverable")
	campaign("Pulada", "skipped", "", "")
	page := fmt.Sprintf("%s/contacts/%d", o.home, r.ContactID)

	manager, _ := o.member(model.RoleManager)
	body := manager.Get(page).Body
	text := webtest.Text(body)
	for _, want := range []string{"Campaign “Promo de Páscoa”: Delivered", "Campaign “Aviso de entrega”: Failed", "131026"} {
		if !strings.Contains(text, want) {
			t.Errorf("the manager's contact page lacks %q: %s", want, text)
		}
	}
	if strings.Contains(text, "Pulada") {
		t.Error("a skipped recipient is on the timeline")
	}
	for _, id := range []int64{promo, aviso} {
		if link := fmt.Sprintf(`href="%s/campaigns/%d" data-testid="timeline-campaign"`, o.home, id); !strings.Contains(body, link) {
			t.Errorf("no link to campaign %d", id)
		}
	}
	if !strings.Contains(body, `data-testid="timeline-campaign-error"`) {
		t.Error("the failure is not explained")
	}

	agent, _ := o.member(model.RoleAgent)
	res := agent.Get(page)
	if !strings.Contains(webtest.Text(res.Body), "Campaign “Promo de Páscoa”: Delivered") {
		t.Fatalf("the agent's contact page (%d) lacks the campaign line: %s", res.StatusCode, webtest.Text(res.Body))
	}
	if strings.Contains(res.Body, "/campaigns/") {
		t.Error("an agent is offered a link to a campaign")
	}
}
