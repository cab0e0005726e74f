package board

import (
	"context"
	"errors"
	"strconv"

	"masteria/app/i18n"
	"masteria/app/model"
)

// SeedDemo puts a few leads on an org's board, so `masteria dev` opens on a board with
// cards. Most belong to contacts the demo inbox has conversations with, so a card opens
// its conversation and the conversation's pane shows its lead. A board with leads, and a
// phone no contact has, are left alone.
func (s *Service) SeedDemo(ctx context.Context, a model.Actor) error {
	p, err := s.EnsurePipeline(ctx, a, i18n.PTBR)
	if err != nil {
		return err
	}
	stages, err := s.st.Stages(ctx, a.OrgID, p.ID)
	if err != nil || len(stages) == 0 {
		return err
	}
	if n, err := s.st.CountPipelineLeads(ctx, a.OrgID, p.ID); err != nil || n > 0 {
		return err
	}
	leads := []struct {
		phone, title, value string
		stage               int
	}{
		{"+5521981741422", "Bolo de 2 kg para aniversário", "180,00", 0},
		{"+5511981001000", "Entrega de doces no sábado", "320,00", 1},
		{"+5561984332899", "Pedido mensal da cafeteria", "1.450,00", 2},
		{"+5519981371211", "Atacado de brigadeiros", "2.600,00", 1},
		{"+5531982111633", "Kit festa infantil", "540,00", 0},
	}
	for _, l := range leads {
		id, err := s.st.ContactIDByPhone(ctx, a.OrgID, l.phone)
		if errors.Is(err, model.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		st := stages[min(l.stage, len(stages)-1)]
		if _, err := s.CreateLead(ctx, a, LeadInput{StageID: st.ID, Title: l.title, Value: l.value, Source: "WhatsApp",
			OwnerID: strconv.FormatInt(a.UserID, 10), ContactID: strconv.FormatInt(id, 10)}); err != nil {
			return err
		}
	}
	return nil
}
