package main

import (
	"context"

	"masteria/app/ai/knowledge"
	"masteria/app/boot"
	"masteria/app/config"
	"masteria/app/model"
	"masteria/app/store"
	"masteria/app/vault"
)

// seedBot gives the demo org, once, a knowledge base (a bakery's questions and answers)
// and a persona answering from it on the simulated WhatsApp channel: a customer who
// writes there is answered by the bot, and one who asks for a person is handed over.
// The document is indexed by a job once the app runs.
func seedBot(ctx context.Context, cfg config.Config, ring *vault.Ring) error {
	app, err := boot.Open(ctx, cfg, ring, boot.Options{})
	if err != nil {
		return err
	}
	defer app.Close()
	st := app.Store
	actors, err := demoActors(ctx, st)
	if err != nil {
		return err
	}
	for _, a := range actors {
		if ps, err := st.Personas(ctx, a.OrgID); err != nil || len(ps) > 0 {
			return err // seeded on an earlier run (or changed by the user since)
		}
		b, err := app.Knowledge.CreateBase(ctx, a, "Confeitaria Doce Lar", "Perguntas frequentes (demonstração)")
		if err != nil {
			return err
		}
		title, text := knowledge.DemoDocument()
		if _, err := app.Knowledge.AddText(ctx, a, b.ID, title, text); err != nil {
			return err
		}
		id, err := st.CreatePersona(ctx, a.OrgID, model.Persona{Name: "Lia",
			Instructions: "Você é a Lia, atendente virtual da Confeitaria Doce Lar. Responda dúvidas sobre horários, " +
				"encomendas, entregas e pagamentos. Para pedidos, reclamações ou negociação, passe para uma pessoa.",
			Tone: "friendly", Language: "pt-BR", Temperature: 0.3, NothingFound: model.NothingFoundSay, MaxTurns: 10,
			HandoverKeywords: model.Labels{"atendente", "humano", "pessoa"}, KnowledgeBases: model.IDs{b.ID}})
		if err != nil {
			return err
		}
		chs, err := app.Inbox.Channels(ctx, a.OrgID)
		if err != nil {
			return err
		}
		for _, ch := range chs {
			if ch.Name == devWhatsAppName && ch.Kind == model.KindWhatsAppCloud {
				if err := st.SetChannelPersona(ctx, a.OrgID, ch.ID, &id); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// demoActors are the demo user acting in the demo org (one, unless the name was reused).
func demoActors(ctx context.Context, st *store.Store) ([]model.Actor, error) {
	u, err := st.UserByEmail(ctx, demoEmail)
	if err != nil {
		return nil, err
	}
	ms, err := st.MembershipsOfUser(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	var out []model.Actor
	for _, m := range ms {
		if m.OrgName == demoOrg {
			out = append(out, model.Actor{UserID: u.ID, OrgID: m.OrgID, Role: m.Role})
		}
	}
	return out, nil
}
