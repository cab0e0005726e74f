package numbers_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"masteria/app/inbox"
	"masteria/app/model"
	"masteria/app/sim/twiliosim"
	"masteria/app/store"
	"masteria/app/store/storetest"
	"masteria/app/vault"
	"masteria/app/voice/numbers"
	"masteria/app/voice/retell"
)

const (
	accountSid = "AC0123456789abcdef0123456789abcdef"
	authToken  = "0123456789abcdef0123456789abcdef"
	otherSid   = "ACfedcba9876543210fedcba9876543210"
	otherToken = "fedcba9876543210fedcba9876543210"
)

type env struct {
	ctx     context.Context
	st      *store.Store
	ring    *vault.Ring
	svc     *numbers.Service
	tw      *twiliosim.Server
	rt      *retellEnv
	admin   model.Actor
	agent   model.Actor
	other   model.Actor // another org's owner
	channel int64       // admin's org Twilio channel
	foreign int64       // the other org's Twilio channel
}

func setup(t *testing.T) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	st, _ := storetest.New(t)
	key, _ := vault.GenerateKey()
	ring, err := vault.ParseKeyRing(key)
	if err != nil {
		t.Fatal(err)
	}
	tw := twiliosim.New()
	base, err := tw.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tw.Close)
	tw.AddAccount(accountSid, authToken)
	tw.AddAccount(otherSid, otherToken)
	o1, err := st.CreateOrg(ctx, "Clínica Um")
	if err != nil {
		t.Fatal(err)
	}
	o2, _ := st.CreateOrg(ctx, "Clínica Dois")
	e := &env{ctx: ctx, st: st, ring: ring, tw: tw,
		admin: model.Actor{OrgID: o1.ID, Role: model.RoleAdmin}, agent: model.Actor{OrgID: o1.ID, Role: model.RoleAgent},
		other: model.Actor{OrgID: o2.ID, Role: model.RoleOwner}}
	in := inbox.New(st, ring)
	ch, err := in.CreateChannel(ctx, e.admin, model.KindTwilioSMS, "SMS", map[string]string{"account_sid": accountSid, "from": "+14155550000"},
		map[string]string{"auth_token": authToken})
	if err != nil {
		t.Fatal(err)
	}
	fch, err := in.CreateChannel(ctx, e.other, model.KindTwilioSMS, "SMS", map[string]string{"account_sid": otherSid, "from": "+14155550001"},
		map[string]string{"auth_token": otherToken})
	if err != nil {
		t.Fatal(err)
	}
	e.channel, e.foreign = ch.ID, fch.ID
	e.rt = startRetell(t)
	e.svc = numbers.New(st, ring, numbers.Config{TwilioAPIURL: base, TwilioTrunkingURL: base, ChannelSecrets: in.Secrets,
		Retell: func(ctx context.Context, orgID int64) (numbers.Retell, error) {
			if orgID != o1.ID {
				return nil, model.ErrNotFound
			}
			return e.rt.client(), nil
		}})
	return e
}

func (e *env) search(t *testing.T) string {
	t.Helper()
	list, err := e.svc.Search(e.ctx, e.admin, numbers.SearchInput{ChannelID: e.channel, Country: "us", AreaCode: "628"})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != numbers.SearchLimit || !strings.HasPrefix(list[0].PhoneNumber, "+1628") || !list[0].Capabilities.Voice {
		t.Fatalf("search: %d numbers, first %+v", len(list), list[0])
	}
	return list[0].PhoneNumber
}

func (e *env) buyInput(phone string) numbers.BuyInput {
	return numbers.BuyInput{ChannelID: e.channel, PhoneNumber: phone, Country: "US", InboundAgentID: e.rt.agentIn,
		OutboundAgentID: e.rt.agentOut, Nickname: "Recepção"}
}

// checkWired asserts what Twilio and Retell hold for a ready number: one purchase, one trunk
// with Retell's origination URL, the credential and the number, and the import in Retell
// with the trunk's termination URI and that credential.
func (e *env) checkWired(t *testing.T, n model.VoiceNumber) {
	t.Helper()
	if n.Status != "ready" || n.Step != model.NumberReady || n.LastError != "" {
		t.Fatalf("number: %+v", n)
	}
	stored, err := e.st.VoiceNumber(e.ctx, e.admin.OrgID, n.ID)
	if err != nil || stored.Status != "ready" || stored.TwilioNumberSID == "" {
		t.Fatalf("stored: %+v %v", stored, err)
	}
	buys := e.tw.Purchases()
	if len(buys) != 1 || buys[0].PhoneNumber != n.PhoneNumber || buys[0].Sid != stored.TwilioNumberSID {
		t.Fatalf("purchases: %+v", buys)
	}
	trunks := e.tw.Trunks()
	if len(trunks) != 1 {
		t.Fatalf("trunks: %+v", trunks)
	}
	tk := trunks[0]
	if tk.Sid != stored.TrunkSID || tk.DomainName != stored.TerminationURI || !strings.HasSuffix(tk.DomainName, ".pstn.twilio.com") {
		t.Fatalf("trunk %+v, row %+v", tk, stored)
	}
	if len(tk.OriginationURLs) != 1 || tk.OriginationURLs[0].SipURL != numbers.RetellSIPURL || !tk.OriginationURLs[0].Enabled {
		t.Fatalf("origination: %+v", tk.OriginationURLs)
	}
	if len(tk.CredentialLists) != 1 || tk.CredentialLists[0] != stored.CredentialListSID {
		t.Fatalf("credential lists on trunk: %+v", tk.CredentialLists)
	}
	if len(tk.PhoneNumbers) != 1 || tk.PhoneNumbers[0] != stored.TwilioNumberSID || buys[0].TrunkSid != tk.Sid {
		t.Fatalf("numbers on trunk: %+v", tk.PhoneNumbers)
	}
	var password string
	for _, cl := range e.tw.CredentialLists() {
		for _, c := range cl.Credentials {
			if cl.Sid == stored.CredentialListSID && c.Username == stored.SIPUsername {
				password = c.Password
			}
		}
	}
	if password == "" || strings.Contains(stored.SIPPasswordSealed, password) {
		t.Fatalf("credential %q not found or stored in clear", stored.SIPUsername)
	}
	e.rt.checkImported(t, n.PhoneNumber, stored.TerminationURI, stored.SIPUsername, password)
}

func TestBuySetsUpEverything(t *testing.T) {
	e := setup(t)
	phone := e.search(t)
	n, err := e.svc.Buy(e.ctx, e.admin, e.buyInput(phone))
	if err != nil {
		t.Fatal(err)
	}
	e.checkWired(t, n)
	// Continue on a ready number changes nothing.
	if again, err := e.svc.Continue(e.ctx, e.admin, n.ID); err != nil || again.Status != "ready" {
		t.Fatalf("continue ready: %+v %v", again, err)
	}
	if len(e.tw.Purchases()) != 1 || len(e.tw.Trunks()) != 1 {
		t.Fatal("continue on a ready number called Twilio")
	}
	// The number bought is no longer offered.
	list, err := e.svc.Search(e.ctx, e.admin, numbers.SearchInput{ChannelID: e.channel, Country: "US", AreaCode: "628"})
	if err != nil || list[0].PhoneNumber == phone {
		t.Fatalf("search after buying: %v %v", list[0], err)
	}
}

// TestFailureAtEachStepResumes makes each Twilio operation fail once in turn: the set-up
// stops at that step with Twilio's reason, and Continue finishes it with one purchase and
// one trunk.
func TestFailureAtEachStepResumes(t *testing.T) {
	cases := []struct {
		op   twiliosim.Op
		step string
	}{
		{twiliosim.OpBuyNumber, model.NumberBought},
		{twiliosim.OpCreateTrunk, model.NumberTrunk},
		{twiliosim.OpCreateOrigination, model.NumberOrigination},
		{twiliosim.OpCreateCredList, model.NumberCredentials},
		{twiliosim.OpCreateCredential, model.NumberCredentials},
		{twiliosim.OpAttachCredList, model.NumberCredentials},
		{twiliosim.OpAttachPhoneNumber, model.NumberAttached},
	}
	for _, c := range cases {
		t.Run(string(c.op), func(t *testing.T) {
			t.Parallel()
			e := setup(t)
			phone := e.search(t)
			e.tw.FailNext(c.op, http.StatusInternalServerError, 20500, "Internal Server Error")
			n, err := e.svc.Buy(e.ctx, e.admin, e.buyInput(phone))
			var se *numbers.StepError
			if !errors.As(err, &se) || se.Step != c.step {
				t.Fatalf("buy: %v, want a failure at %s", err, c.step)
			}
			stored, _ := e.st.VoiceNumber(e.ctx, e.admin.OrgID, n.ID)
			if stored.Status != "failed" || stored.Step != c.step || !strings.Contains(stored.LastError, "Internal Server Error (code 20500)") {
				t.Fatalf("stored: step %s status %s error %q", stored.Step, stored.Status, stored.LastError)
			}
			n, err = e.svc.Continue(e.ctx, e.admin, n.ID)
			if err != nil {
				t.Fatal(err)
			}
			e.checkWired(t, n)
		})
	}
}

// TestRetellFailureResumes: Retell refuses the import (a bad key), then Continue imports it
// without touching Twilio again.
func TestRetellFailureResumes(t *testing.T) {
	e := setup(t)
	phone := e.search(t)
	e.rt.breakKey()
	n, err := e.svc.Buy(e.ctx, e.admin, e.buyInput(phone))
	var se *numbers.StepError
	if !errors.As(err, &se) || se.Step != model.NumberImported || !strings.Contains(se.Reason, "Retell") {
		t.Fatalf("buy: %v", err)
	}
	e.rt.fixKey()
	if n, err = e.svc.Continue(e.ctx, e.admin, n.ID); err != nil {
		t.Fatal(err)
	}
	e.checkWired(t, n)
}

// TestLostPurchaseAnswer: Twilio bought the number but the row did not learn its SID (a
// crash after the purchase); Continue finds the number instead of buying it again.
func TestLostPurchaseAnswer(t *testing.T) {
	e := setup(t)
	phone := e.search(t)
	e.tw.FailNext(twiliosim.OpCreateTrunk, http.StatusServiceUnavailable, 20503, "Service Unavailable")
	n, err := e.svc.Buy(e.ctx, e.admin, e.buyInput(phone))
	if err == nil {
		t.Fatal("buy did not fail")
	}
	// Forget the number's SID and step, as if the purchase's answer never came.
	stored, _ := e.st.VoiceNumber(e.ctx, e.admin.OrgID, n.ID)
	stored.TwilioNumberSID, stored.Step, stored.Status = "", model.NumberBought, "failed"
	if err := e.st.SaveVoiceNumberProgress(e.ctx, e.admin.OrgID, stored); err != nil {
		t.Fatal(err)
	}
	if err := e.st.FailVoiceNumber(e.ctx, e.admin.OrgID, n.ID, "lost"); err != nil {
		t.Fatal(err)
	}
	if n, err = e.svc.Continue(e.ctx, e.admin, n.ID); err != nil {
		t.Fatal(err)
	}
	e.checkWired(t, n)
}

func TestContinueOnceAtATime(t *testing.T) {
	e := setup(t)
	phone := e.search(t)
	e.tw.FailNext(twiliosim.OpCreateTrunk, http.StatusInternalServerError, 20500, "Internal Server Error")
	n, _ := e.svc.Buy(e.ctx, e.admin, e.buyInput(phone))
	ok, err := e.st.ClaimVoiceNumber(e.ctx, e.admin.OrgID, n.ID)
	if err != nil || !ok {
		t.Fatalf("claim: %v %v", ok, err)
	}
	// Claimed (running elsewhere): a second Continue does nothing.
	if _, err := e.svc.Continue(e.ctx, e.admin, n.ID); !errors.Is(err, model.ErrConflict) {
		t.Fatalf("second continue: %v", err)
	}
	if len(e.tw.Trunks()) != 0 {
		t.Fatal("a trunk was created by the refused continue")
	}
}

func TestBadInput(t *testing.T) {
	e := setup(t)
	phone := e.search(t)
	// Agents may not search, buy, continue, link or change agents.
	if _, err := e.svc.Search(e.ctx, e.agent, numbers.SearchInput{ChannelID: e.channel, Country: "US"}); !errors.Is(err, model.ErrForbidden) {
		t.Fatalf("agent search: %v", err)
	}
	if _, err := e.svc.Buy(e.ctx, e.agent, e.buyInput(phone)); !errors.Is(err, model.ErrForbidden) {
		t.Fatalf("agent buy: %v", err)
	}
	if _, err := e.svc.Continue(e.ctx, e.agent, 1); !errors.Is(err, model.ErrForbidden) {
		t.Fatalf("agent continue: %v", err)
	}
	if _, err := e.svc.Link(e.ctx, e.agent, phone); !errors.Is(err, model.ErrForbidden) {
		t.Fatalf("agent link: %v", err)
	}
	if _, err := e.svc.SetAgents(e.ctx, e.agent, 1, "", ""); !errors.Is(err, model.ErrForbidden) {
		t.Fatalf("agent set agents: %v", err)
	}
	// Another org's channel is not found.
	if _, err := e.svc.Search(e.ctx, e.admin, numbers.SearchInput{ChannelID: e.foreign, Country: "US"}); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("foreign channel search: %v", err)
	}
	in := e.buyInput(phone)
	in.ChannelID = e.foreign
	if _, err := e.svc.Buy(e.ctx, e.admin, in); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("foreign channel buy: %v", err)
	}
	// Bad formats.
	for _, s := range []numbers.SearchInput{{ChannelID: e.channel, Country: "USA"}, {ChannelID: e.channel, Country: "US", AreaCode: "62a"},
		{ChannelID: e.channel, Country: "US", AreaCode: "6281"}, {Country: "US"}} {
		if _, err := e.svc.Search(e.ctx, e.admin, s); !errors.Is(err, model.ErrInvalid) {
			t.Fatalf("search %+v: %v", s, err)
		}
	}
	for _, p := range []string{"16285550100", "+0628555", "+1 628 555 0100", "+1628555\x000100", "\xff"} {
		in := e.buyInput(p)
		if _, err := e.svc.Buy(e.ctx, e.admin, in); !errors.Is(err, model.ErrInvalid) {
			t.Fatalf("buy %q: %v", p, err)
		}
	}
	in = e.buyInput(phone)
	in.Nickname = "a\x00b"
	if _, err := e.svc.Buy(e.ctx, e.admin, in); !errors.Is(err, model.ErrInvalid) {
		t.Fatalf("NUL nickname: %v", err)
	}
	in = e.buyInput(phone)
	in.InboundAgentID = "agent one"
	if _, err := e.svc.Buy(e.ctx, e.admin, in); !errors.Is(err, model.ErrInvalid) {
		t.Fatalf("bad agent id: %v", err)
	}
	if len(e.tw.Purchases()) != 0 {
		t.Fatal("bad input bought a number")
	}
	// A number Twilio will not sell: the step fails with 21422 in plain words.
	e.tw.Reserve("+16285559999")
	n, err := e.svc.Buy(e.ctx, e.admin, e.buyInput("+16285559999"))
	var se *numbers.StepError
	if !errors.As(err, &se) || !strings.Contains(se.Reason, "21422") || n.Status != "failed" {
		t.Fatalf("reserved number: %v", err)
	}
	// The same number twice in an org is a conflict.
	if _, err := e.svc.Buy(e.ctx, e.admin, e.buyInput("+16285559999")); !errors.Is(err, model.ErrConflict) {
		t.Fatalf("twice: %v", err)
	}
	// Another org cannot continue or change this org's number.
	if _, err := e.svc.Continue(e.ctx, e.other, n.ID); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("foreign continue: %v", err)
	}
	if _, err := e.svc.SetAgents(e.ctx, e.other, n.ID, "", ""); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("foreign set agents: %v", err)
	}
	// A wrong auth token is Twilio's 20003, said plainly.
	e.tw.AddAccount(accountSid, "another-token-0123456789abcdef01")
	_, err = e.svc.Search(e.ctx, e.admin, numbers.SearchInput{ChannelID: e.channel, Country: "US"})
	if !errors.As(err, &se) || !strings.Contains(se.Reason, "20003") {
		t.Fatalf("bad token: %v", err)
	}
}

func TestLinkAndAgents(t *testing.T) {
	e := setup(t)
	const phone = "+14155550123"
	e.rt.sim.AddPhoneNumber(retell.PhoneNumber{PhoneNumber: phone, PhoneNumberType: "retell-twilio", Nickname: "Loja",
		InboundAgents: []retell.AgentWeight{{AgentID: e.rt.agentIn, Weight: 1}}})
	linkable, err := e.svc.Linkable(e.ctx, e.admin)
	if err != nil || len(linkable) != 1 || linkable[0].PhoneNumber != phone {
		t.Fatalf("linkable: %+v %v", linkable, err)
	}
	if _, err := e.svc.Link(e.ctx, e.admin, "+14155550999"); !errors.Is(err, numbers.ErrNotInRetell) {
		t.Fatalf("link unknown: %v", err)
	}
	if _, err := e.svc.Link(e.ctx, e.admin, "4155550123"); !errors.Is(err, model.ErrInvalid) {
		t.Fatalf("link bad format: %v", err)
	}
	if _, err := e.svc.Link(e.ctx, e.other, phone); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("link from an org without Retell: %v", err)
	}
	n, err := e.svc.Link(e.ctx, e.admin, phone)
	if err != nil || n.Source != "linked" || n.Status != "ready" || n.InboundAgentID != e.rt.agentIn || n.Nickname != "Loja" {
		t.Fatalf("link: %+v %v", n, err)
	}
	if _, err := e.svc.Link(e.ctx, e.admin, phone); !errors.Is(err, model.ErrConflict) {
		t.Fatalf("link twice: %v", err)
	}
	if linkable, _ := e.svc.Linkable(e.ctx, e.admin); len(linkable) != 0 {
		t.Fatalf("still linkable: %+v", linkable)
	}
	// Change the agents: Retell's number changes, then the row.
	n, err = e.svc.SetAgents(e.ctx, e.admin, n.ID, e.rt.agentOut, e.rt.agentIn)
	if err != nil || n.InboundAgentID != e.rt.agentOut || n.OutboundAgentID != e.rt.agentIn {
		t.Fatalf("set agents: %+v %v", n, err)
	}
	for _, p := range e.rt.sim.PhoneNumbers() {
		if p.PhoneNumber == phone && (len(p.InboundAgents) != 1 || p.InboundAgents[0].AgentID != e.rt.agentOut ||
			len(p.OutboundAgents) != 1 || p.OutboundAgents[0].AgentID != e.rt.agentIn) {
			t.Fatalf("Retell's number: %+v", p)
		}
	}
	stored, _ := e.st.VoiceNumber(e.ctx, e.admin.OrgID, n.ID)
	if stored.InboundAgentID != e.rt.agentOut || stored.OutboundAgentID != e.rt.agentIn {
		t.Fatalf("stored agents: %+v", stored)
	}
	// An agent Retell does not know is refused by Retell, and the row keeps its agents.
	if _, err := e.svc.SetAgents(e.ctx, e.admin, n.ID, "agent_unknown", ""); err == nil {
		t.Fatal("unknown agent accepted")
	}
	if stored, _ := e.st.VoiceNumber(e.ctx, e.admin.OrgID, n.ID); stored.InboundAgentID != e.rt.agentOut {
		t.Fatalf("agents changed after a refusal: %+v", stored)
	}
	if _, err := e.svc.SetAgents(e.ctx, e.admin, n.ID, "bad agent", ""); !errors.Is(err, model.ErrInvalid) {
		t.Fatalf("bad agent id: %v", err)
	}
}

// TestStuckSetUpContinues: a set-up left in progress (its process died) may be continued
// after numbers.StuckAfter, not before.
func TestStuckSetUpContinues(t *testing.T) {
	e := setup(t)
	phone := e.search(t)
	e.tw.FailNext(twiliosim.OpCreateOrigination, http.StatusInternalServerError, 20500, "Internal Server Error")
	n, _ := e.svc.Buy(e.ctx, e.admin, e.buyInput(phone))
	if _, err := e.st.DB().Exec(`UPDATE voice_numbers SET status = 'in_progress', last_error = '' WHERE id = $1`, n.ID); err != nil {
		t.Fatal(err)
	}
	stored, _ := e.st.VoiceNumber(e.ctx, e.admin.OrgID, n.ID)
	if numbers.Stuck(stored, time.Now()) {
		t.Fatal("a fresh set-up counts as stuck")
	}
	if _, err := e.svc.Continue(e.ctx, e.admin, n.ID); !errors.Is(err, model.ErrConflict) {
		t.Fatalf("continue a running set-up: %v", err)
	}
	if _, err := e.st.DB().Exec(`UPDATE voice_numbers SET updated_at = now() - interval '11 minutes' WHERE id = $1`, n.ID); err != nil {
		t.Fatal(err)
	}
	stored, _ = e.st.VoiceNumber(e.ctx, e.admin.OrgID, n.ID)
	if !numbers.Stuck(stored, time.Now()) {
		t.Fatal("an 11-minute-old set-up is not stuck")
	}
	n, err := e.svc.Continue(e.ctx, e.admin, n.ID)
	if err != nil {
		t.Fatal(err)
	}
	e.checkWired(t, n)
}

// TestRetellImportErrorResumes: Retell answers the import with a 500 once; the set-up stops
// at the import with Retell's words, and Continue imports it once.
func TestRetellImportErrorResumes(t *testing.T) {
	e := setup(t)
	phone := e.search(t)
	e.rt.sim.FailNext("/import-phone-number", http.StatusInternalServerError, "Internal Server Error", 1)
	n, err := e.svc.Buy(e.ctx, e.admin, e.buyInput(phone))
	var se *numbers.StepError
	if !errors.As(err, &se) || se.Step != model.NumberImported || !strings.Contains(se.Reason, "Retell refused: Internal Server Error (HTTP 500)") {
		t.Fatalf("buy: %v", err)
	}
	if n, err = e.svc.Continue(e.ctx, e.admin, n.ID); err != nil {
		t.Fatal(err)
	}
	e.checkWired(t, n)
}
