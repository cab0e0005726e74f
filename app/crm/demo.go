package crm

import (
	"context"
	"fmt"

	"masteria/app/model"
)

// SeedDemo fills an empty org with a few tags, a custom field and contacts, so `masteria dev`
// opens on a contact book that looks like a real one. An org with contacts is left alone.
func (s *Service) SeedDemo(ctx context.Context, a model.Actor) error {
	n, err := s.st.CountContacts(ctx, a.OrgID, a.UserID, model.ContactFilter{})
	if err != nil || n > 0 {
		return err
	}
	tagIDs := map[string]int64{}
	for name, color := range map[string]string{"VIP": "purple", "Atacado": "blue", "Novo cliente": "green", "Inadimplente": "red"} {
		t, err := s.CreateTag(ctx, a, name, color)
		if err != nil {
			return err
		}
		tagIDs[name] = t.ID
	}
	if _, err := s.CreateField(ctx, a, "Cidade", model.FieldText, nil); err != nil {
		return err
	}
	if _, err := s.CreateField(ctx, a, "Plano", model.FieldChoice, []string{"Básico", "Pro", "Empresa"}); err != nil {
		return err
	}
	people := []struct{ name, city, plan, tag string }{
		{"Maria Aparecida Santos", "São Paulo", "Pro", "VIP"}, {"José Carlos Oliveira", "Campinas", "Básico", "Atacado"},
		{"Ana Paula Ferreira", "Rio de Janeiro", "Empresa", "VIP"}, {"João Pedro Lima", "Belo Horizonte", "Básico", "Novo cliente"},
		{"Francisca Souza", "Recife", "Pro", ""}, {"Carlos Eduardo Rocha", "Curitiba", "Básico", "Inadimplente"},
		{"Juliana Martins", "Porto Alegre", "Pro", "Novo cliente"}, {"Marcos Vinícius Alves", "Salvador", "Empresa", "Atacado"},
		{"Patrícia Gomes", "Fortaleza", "Básico", ""}, {"Rafael Costa", "Brasília", "Pro", "VIP"},
		{"Fernanda Ribeiro", "Goiânia", "Básico", ""}, {"Lucas Carvalho", "Manaus", "Pro", "Novo cliente"},
	}
	ddds := []string{"11", "19", "21", "31", "81", "41", "51", "71", "85", "61", "62", "92"}
	for i, p := range people {
		in := ContactInput{
			Name:       p.name,
			Phone:      fmt.Sprintf("(%s) 9%04d-%04d", ddds[i], 8100+i*37, 1000+i*211),
			Attributes: map[string]string{"cidade": p.city, "plano": p.plan},
		}
		if p.tag != "" {
			in.TagIDs = []int64{tagIDs[p.tag]}
		}
		if i%3 == 0 {
			in.OwnerID = a.UserID
		}
		if i == 5 {
			in.OptedOut = []string{model.ChannelSMS}
		}
		if _, err := s.Create(ctx, a, in); err != nil {
			return err
		}
	}
	return nil
}
