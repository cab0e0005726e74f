package retellsim_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"masteria/app/voice/retell"
)

func TestUpdatePhoneNumberAgents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sim, c := start(t)
	a := sim.AddAgent(retell.Agent{AgentName: "Recepção"})
	b := sim.AddAgent(retell.Agent{AgentName: "Vendas"})
	sim.AddPhoneNumber(retell.PhoneNumber{PhoneNumber: "+14155550123", PhoneNumberType: "custom",
		InboundAgents: []retell.AgentWeight{{AgentID: a.AgentID, Weight: 1}}})
	p, err := c.SetPhoneNumberAgents(ctx, "+14155550123", []retell.AgentWeight{{AgentID: b.AgentID, Weight: 1}}, nil)
	if err != nil || len(p.InboundAgents) != 1 || p.InboundAgents[0].AgentID != b.AgentID || len(p.OutboundAgents) != 0 {
		t.Fatalf("update: %+v %v", p, err)
	}
	if got := sim.PhoneNumbers()[0]; got.InboundAgents[0].AgentID != b.AgentID {
		t.Fatalf("sim: %+v", got)
	}
	var re *retell.Error
	for name, call := range map[string]func() error{
		"unknown number": func() error { _, err := c.SetPhoneNumberAgents(ctx, "+14155550999", nil, nil); return err },
		"unknown agent": func() error {
			_, err := c.SetPhoneNumberAgents(ctx, "+14155550123", []retell.AgentWeight{{AgentID: "agent_nope", Weight: 1}}, nil)
			return err
		},
		"weights": func() error {
			_, err := c.SetPhoneNumberAgents(ctx, "+14155550123", []retell.AgentWeight{{AgentID: a.AgentID, Weight: 0.5}}, nil)
			return err
		},
	} {
		if err := call(); !errors.As(err, &re) || (re.Status != http.StatusNotFound && re.Status != http.StatusBadRequest) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if got := sim.PhoneNumbers()[0]; got.InboundAgents[0].AgentID != b.AgentID {
		t.Fatalf("refused updates changed the number: %+v", got)
	}
}
