package inbox

import (
	"context"
	"fmt"
	"time"

	"masteria/app/model"
)

// SeedDemo gives an org without channels a sandbox channel and a few customer messages, so
// `masteria dev` opens on an inbox with something to answer. Replies go through the sandbox,
// which reports them delivered and read.
func (s *Service) SeedDemo(ctx context.Context, a model.Actor) error {
	chs, err := s.st.Channels(ctx, a.OrgID)
	if err != nil || len(chs) > 0 {
		return err
	}
	ch, err := s.CreateChannel(ctx, a, model.KindSandbox, "Demo", nil, nil)
	if err != nil {
		return err
	}
	now := s.now()
	msgs := []struct{ from, name, body string }{
		{"+5511981001000", "Maria Aparecida Santos", "Oi! Vocês entregam no sábado?"},
		{"+5521981741422", "Ana Paula Ferreira", "Bom dia, queria o orçamento do bolo de 2 kg."},
		{"+5561984332899", "Rafael Costa", "Chegou certinho, obrigado 😊"},
	}
	for i, m := range msgs {
		_, err := s.Receive(ctx, ch, Inbound{From: m.from, Name: m.name, ProviderID: fmt.Sprintf("demo.%d", i),
			Body: m.body, At: now.Add(time.Duration(i-len(msgs)) * 7 * time.Minute)})
		if err != nil {
			return err
		}
	}
	return nil
}
