package e2e

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"masteria/app/crm"
	"masteria/app/model"
	"masteria/app/sim/retellsim"
	"masteria/app/store/storetest"
	"masteria/app/voice/retell"
	"masteria/app/web/webtest"
)

// TestCallAppearsLive: a contact's page is open on a 390 px phone in the dark theme, in
// Portuguese; the Retell simulator plays an inbound call of that contact to the webhook; the
// call appears on the page by itself (SSE) with how it ended, its summary and transcript,
// and the player once the recording is copied.
func TestCallAppearsLive(t *testing.T) {
	needChromium(t)
	const key = "key_e2e_calls_0123456789"
	sim := retellsim.New(retellsim.WithAPIKeys(key))
	if _, err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	inst := webtest.StartOn(t, storetest.URL(t), nil)
	email, password := fmt.Sprintf("lia.%d@clinica.example", os.Getpid()), "sorriso-Branco-42-dente"
	c := webtest.NewClient(t, inst.URL)
	home := c.Signup("Clínica Sorriso Branco", "Lia Martins", email, password)
	c.Post("/locale", url.Values{"locale": {"pt-BR"}})
	bg := context.Background()
	var orgID, userID int64
	_ = inst.App.Store.DB().Get(&orgID, `SELECT id FROM orgs`)
	_ = inst.App.Store.DB().Get(&userID, `SELECT id FROM users`)
	owner := model.Actor{OrgID: orgID, UserID: userID, Role: model.RoleOwner}
	ct, err := inst.App.CRM.Create(bg, owner, crm.ContactInput{Name: "Otávio Ramos", Phone: "+5511987123400"})
	if err != nil {
		t.Fatal(err)
	}
	acc, err := inst.App.Voice.Connect(bg, owner, key)
	if err != nil {
		t.Fatal(err)
	}
	sim.SetWebhook(fmt.Sprintf("%s/webhooks/retell/%d", inst.URL, acc.ID))

	ctx := testContext(t, testTimeout)
	b := newBrowser(t, ctx, "calls", inst.URL)
	s := &inboxSetup{inst: inst, home: home, email: email, password: password}
	s.login(b)
	l := look{name: "phone-dark", width: 390, height: 844, theme: "dark", phone: true}
	b.setLook(l)
	b.open(fmt.Sprintf("%s/contacts/%d", home, ct.ID), tid("contact-page"))
	// The call's events must find the page listening: one that comes before it is lost.
	b.waitJS("the SSE connection is open", sseOpen, waitTimeout)

	if _, err := sim.PlayCall(bg, retellsim.CallScript{FromNumber: "+5511987123400", ToNumber: "+551130001000",
		Summary: "Quer remarcar a limpeza para sexta.",
		Transcript: []retell.Utterance{{Role: "agent", Content: "Clínica Sorriso Branco, bom dia!"},
			{Role: "user", Content: "Queria remarcar minha limpeza para sexta."}}}); err != nil {
		t.Fatal(err)
	}
	b.waitJS("the call shows by itself", `!!document.querySelector('[data-testid="call-item"]')`, waitTimeout)
	b.waitJS("its analysis follows", `!!document.querySelector('[data-testid="call-summary"]')`, waitTimeout)
	item := b.text(tid("call-item"))
	for _, want := range []string{"Ligação recebida", "Quer remarcar a limpeza para sexta.", "Queria remarcar minha limpeza para sexta."} {
		if !strings.Contains(item, want) {
			t.Errorf("the call lacks %q: %s", want, item)
		}
	}
	// The recording is copied by a job; the player shows once it is kept (opened again here:
	// the live reload after that job's event is not what this test is about).
	for deadline := time.Now().Add(waitTimeout); ; time.Sleep(50 * time.Millisecond) {
		var kept bool
		_ = inst.App.Store.DB().Get(&kept, `SELECT bool_or(recording_file_id IS NOT NULL) FROM calls`)
		if kept {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the recording was not kept")
		}
	}
	b.open(fmt.Sprintf("%s/contacts/%d", home, ct.ID), tid("call-player"))
	if w := eval[int64](b, `document.documentElement.scrollWidth`); w > l.width {
		t.Errorf("the page is %d px wide", w)
	}
	if !eval[bool](b, `(() => { const r = document.querySelector('[data-testid="call-item"]').getBoundingClientRect(); return r.left >= 0 && r.right <= innerWidth + 1; })()`) {
		t.Error("the call does not fit the screen")
	}
	b.noConsoleErrors()
}
