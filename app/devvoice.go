package main

import (
	"context"
	"errors"
	"os"
	"time"

	"masteria/app/config"
	"masteria/app/model"
	"masteria/app/sim/retellsim"
	"masteria/app/store"
	"masteria/app/vault"
	"masteria/app/voice"
	"masteria/app/voice/numbers"
	"masteria/app/voice/retell"
)

// The demo org's Retell account at the Retell simulator: a key, two agents and a number,
// and every call it starts played back to the app a few seconds apart.
const (
	devRetellKey    = "key_dev_simulated_retell"
	devRetellNumber = "+15005550010"
)

// startDevRetell starts the Retell simulator unless RETELL_API_URL is set, and points cfg
// at it; nil when a real URL is set.
func startDevRetell(cfg *config.Config) (*retellsim.Server, error) {
	if os.Getenv("RETELL_API_URL") != "" {
		return nil, nil
	}
	sim := retellsim.New(retellsim.WithAPIKeys(devRetellKey))
	u, err := sim.Start()
	if err != nil {
		return nil, err
	}
	cfg.RetellAPIURL = u
	sales := sim.AddAgent(retell.Agent{AgentID: "agent_demo_sales", AgentName: "Vendas (simulado)"})
	sim.AddAgent(retell.Agent{AgentID: "agent_demo_support", AgentName: "Suporte (simulado)"})
	sim.AddPhoneNumber(retell.PhoneNumber{PhoneNumber: devRetellNumber, Nickname: "Demo",
		InboundAgents:  []retell.AgentWeight{{AgentID: sales.AgentID, Weight: 1}},
		OutboundAgents: []retell.AgentWeight{{AgentID: sales.AgentID, Weight: 1}}})
	sim.SetAutoPlay(&retellsim.CallScript{Gap: 3 * time.Second})
	return sim, nil
}

// wireDevRetell connects the demo org to the simulator once (a key already saved is left
// alone), links the simulator's number with calls at any hour, so "Call" works on every
// contact from the start, and sends the simulator's webhooks to the org's account URL.
func wireDevRetell(ctx context.Context, sim *retellsim.Server, st *store.Store, ring *vault.Ring, cfg config.Config) error {
	if sim == nil {
		return nil
	}
	actors, err := demoActors(ctx, st)
	if err != nil {
		return err
	}
	svc := voice.New(st, ring, cfg.RetellAPIURL)
	for _, a := range actors {
		acc, err := svc.Account(ctx, a.OrgID)
		if errors.Is(err, model.ErrNotFound) || (err == nil && acc.KeySealed == "") {
			if acc, err = svc.Connect(ctx, a, devRetellKey); err == nil {
				_, err = svc.Test(ctx, a)
			}
			if err == nil {
				err = svc.SetCallHours(ctx, a, 0, 24, 127)
			}
			if err == nil {
				err = linkDevNumber(ctx, st, ring, svc, a)
			}
		}
		if err != nil {
			return err
		}
		sim.SetWebhook(cfg.BaseURL + voice.WebhookPath(acc.ID))
	}
	return nil
}

// linkDevNumber links the simulator's number to the org, as Settings → Voice → Numbers →
// Link does.
func linkDevNumber(ctx context.Context, st *store.Store, ring *vault.Ring, svc *voice.Service, a model.Actor) error {
	nums := numbers.New(st, ring, numbers.Config{Retell: func(ctx context.Context, orgID int64) (numbers.Retell, error) {
		c, _, err := svc.Client(ctx, orgID)
		if err != nil {
			return nil, err
		}
		return c, nil
	}})
	_, err := nums.Link(ctx, a, devRetellNumber)
	if errors.Is(err, model.ErrConflict) {
		return nil // linked on an earlier start
	}
	return err
}
