package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"masteria/app/ai/persona"
	"masteria/app/ai/provider"
	"masteria/app/model"
	"masteria/views/ai"
)

// modelsWait is how long a persona's page waits for the provider's list of models before
// it offers only the org default and the persona's own model.
const modelsWait = 3 * time.Second

func (s *Server) personaRoutes(o *echo.Group) {
	// Every member reads personas; managers and above change them and the bot of a channel.
	o.GET("/personas", s.personaList)
	o.GET("/personas/:personas", s.personaPage)
	m := o.Group("", requireMay(model.ManagePersonas))
	m.GET("/personas/new", s.personaNew)
	m.POST("/personas", s.personaCreate)
	m.POST("/personas/:personas", s.personaSave)
	m.POST("/personas/:personas/delete", s.personaDelete)
	m.GET("/settings/channels/:id/bot", s.channelBotPage)
	m.POST("/settings/channels/:id/bot", s.channelBotSave)
}

func (s *Server) personaList(c echo.Context) error {
	ctx := c.Request().Context()
	org := reqOf(c).Org.ID
	ps, err := s.personas.Personas(ctx, org)
	if err != nil {
		return err
	}
	chs, err := s.inbox.Channels(ctx, org)
	if err != nil {
		return err
	}
	names := map[int64]string{}
	d := ai.PersonasData{}
	for _, p := range ps {
		names[p.ID] = p.Name
	}
	used := map[int64][]string{}
	for _, ch := range chs {
		if ch.Status == model.ChannelDisconnected {
			continue
		}
		row := ai.ChannelBotRow{Channel: ch}
		if ch.PersonaID != nil {
			row.Persona = names[*ch.PersonaID]
			used[*ch.PersonaID] = append(used[*ch.PersonaID], ch.Name)
		}
		d.Channels = append(d.Channels, row)
	}
	for _, p := range ps {
		d.Rows = append(d.Rows, ai.PersonaRow{Persona: p, Channels: used[p.ID]})
	}
	return render(c, http.StatusOK, ai.Personas(d), nil)
}

// personaForm fills the page of p: its choices, the org's knowledge bases, the models.
func (s *Server) personaForm(c echo.Context, p model.Persona, isNew bool) (ai.PersonaFormData, error) {
	ctx := c.Request().Context()
	org := reqOf(c).Org.ID
	d := ai.PersonaFormData{Persona: p, New: isNew, Errors: map[string]string{}, Tones: persona.Tones, Languages: persona.Languages,
		Temperature: strconv.FormatFloat(p.Temperature, 'f', -1, 64), MaxTurns: strconv.Itoa(p.MaxTurns),
		Keywords: strings.Join(p.HandoverKeywords, ", ")}
	hours := persona.ReadHours(p.BusinessHours)
	d.Always = len(hours) == 0
	for _, day := range persona.Days {
		d.Days = append(d.Days, ai.DayHours{Day: day, Text: persona.FormatDay(hours[day])})
	}
	var err error
	if d.Bases, err = s.kb.Bases(ctx, org); err != nil {
		return d, err
	}
	if !isNew {
		if d.UsedBy, err = s.personas.UsedBy(ctx, org, p.ID); err != nil {
			return d, err
		}
	}
	if err := s.personaModels(ctx, org, &d); err != nil {
		return d, err
	}
	return d, nil
}

// personaModels fills the model select from the org's provider, when it has one.
func (s *Server) personaModels(ctx context.Context, org int64, d *ai.PersonaFormData) error {
	prov, err := s.ai.Settings(ctx, org)
	switch {
	case errors.Is(err, model.ErrNotFound):
		return nil
	case err != nil:
		return err
	}
	d.ProviderSet, d.OrgModel = true, prov.ChatModel
	wait, cancel := context.WithTimeout(ctx, modelsWait)
	defer cancel()
	models, err := s.ai.Models(wait, org)
	var pe *provider.Error
	switch {
	case errors.As(err, &pe):
		d.ModelsError = pe.Error()
	case err != nil && ctx.Err() == nil:
		d.ModelsError = err.Error()
	case err != nil:
		return err
	default:
		for _, m := range models {
			// A persona chats: the endpoint's embedding models are not offered.
			if m != prov.EmbeddingModel && !strings.Contains(strings.ToLower(m), "embed") {
				d.Models = append(d.Models, m)
			}
		}
	}
	return nil
}

func (s *Server) personaNew(c echo.Context) error {
	d, err := s.personaForm(c, persona.Defaults(), true)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, ai.PersonaForm(d), nil)
}

func (s *Server) personaOf(c echo.Context) (model.Persona, error) {
	id, err := paramID(c, "personas")
	if err != nil {
		return model.Persona{}, err
	}
	return s.personas.Persona(c.Request().Context(), reqOf(c).Org.ID, id)
}

func (s *Server) personaPage(c echo.Context) error {
	p, err := s.personaOf(c)
	if err != nil {
		return err
	}
	d, err := s.personaForm(c, p, false)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, ai.PersonaForm(d), nil)
}

// personaInput reads the persona form into p. What cannot be read (a number that is not
// one, a day's hours the wrong way round) is refused by field, as the service refuses the
// rest; the form keeps what was typed.
func personaInput(c echo.Context, p model.Persona) (model.Persona, ai.PersonaFormData, map[string]string) {
	bad := map[string]string{}
	f := func(k string) string { return c.FormValue(k) }
	p.Name, p.Instructions, p.Tone, p.Language, p.Model = f("name"), f("instructions"), f("tone"), f("language"), f("model")
	p.NothingFound, p.HandoverMessage = f("nothing_found"), f("handover_message")
	typed := ai.PersonaFormData{Temperature: f("temperature"), MaxTurns: f("max_turns"), Keywords: f("handover_keywords"),
		Always: f("hours_always") != ""}
	if t, err := strconv.ParseFloat(strings.Replace(strings.TrimSpace(typed.Temperature), ",", ".", 1), 64); err == nil {
		p.Temperature = t
	} else {
		bad["temperature"] = "persona.error.temperature"
	}
	if n, err := strconv.Atoi(strings.TrimSpace(typed.MaxTurns)); err == nil {
		p.MaxTurns = n
	} else {
		bad["max_turns"] = "persona.error.max_turns"
	}
	p.HandoverKeywords = persona.KeywordList(typed.Keywords)
	p.KnowledgeBases = model.IDs{}
	form, _ := c.FormParams()
	for _, v := range form["knowledge_base_ids"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			bad["knowledge_base_ids"] = "persona.error.knowledge_bases"
			continue
		}
		p.KnowledgeBases = append(p.KnowledgeBases, id)
	}
	hours, dayErr := persona.Hours{}, false
	for _, day := range persona.Days {
		text := f("hours_" + day)
		dh := ai.DayHours{Day: day, Text: text}
		rs, key := persona.ParseDay(text)
		if key != "" && !typed.Always { // "always" ignores the days
			dh.Err, bad["business_hours."+day], dayErr = key, key, true
		}
		if len(rs) > 0 {
			hours[day] = rs
		}
		typed.Days = append(typed.Days, dh)
	}
	switch {
	case typed.Always:
		p.BusinessHours = json.RawMessage("{}")
	case len(hours) == 0 && !dayErr:
		bad["business_hours"] = "persona.error.hours_empty"
	default:
		b, _ := json.Marshal(hours)
		p.BusinessHours = b
	}
	return p, typed, bad
}

// personaRefused draws the form again with what was typed and the errors.
func (s *Server) personaRefused(c echo.Context, p model.Persona, typed ai.PersonaFormData, errs map[string]string, isNew bool) error {
	d, err := s.personaForm(c, p, isNew)
	if err != nil {
		return err
	}
	d.Temperature, d.MaxTurns, d.Keywords, d.Always, d.Days = typed.Temperature, typed.MaxTurns, typed.Keywords, typed.Always, typed.Days
	d.Errors = errs
	for i, day := range d.Days {
		if k := errs["business_hours."+day.Day]; k != "" {
			d.Days[i].Err = k
		}
	}
	return refuseForm(c, ai.PersonaForm(d), nil)
}

// personaSubmit validates the form (the service's rules and the form's own) and saves it
// with save. false: refused, and the form is drawn again with its errors.
func (s *Server) personaSubmit(c echo.Context, base model.Persona, isNew bool, save func(model.Persona) error) (bool, error) {
	in, typed, bad := personaInput(c, base)
	var err error
	if len(bad) == 0 {
		if err = save(in); err == nil {
			return true, nil
		}
	} else {
		check := in
		err = persona.Validate(&check) // the other fields' errors, shown with the form's own
	}
	var v *model.ValidationError
	if err != nil && !errors.As(err, &v) {
		return false, err
	}
	errs := map[string]string{}
	if v != nil {
		maps.Copy(errs, v.Fields)
	}
	maps.Copy(errs, bad)
	return false, s.personaRefused(c, in, typed, errs, isNew)
}

func (s *Server) personaCreate(c echo.Context) error {
	saved, err := s.personaSubmit(c, persona.Defaults(), true, func(p model.Persona) error {
		_, err := s.personas.Create(c.Request().Context(), actorOf(c), p)
		return err
	})
	if err != nil || !saved {
		return err
	}
	toast(c, "success", "persona.created")
	return redirect(c, orgPath(c, "/personas"))
}

func (s *Server) personaSave(c echo.Context) error {
	p, err := s.personaOf(c)
	if err != nil {
		return err
	}
	saved, err := s.personaSubmit(c, p, false, func(p model.Persona) error {
		_, err := s.personas.Update(c.Request().Context(), actorOf(c), p)
		return err
	})
	if err != nil || !saved {
		return err
	}
	toast(c, "success", "persona.saved")
	return redirect(c, orgPath(c, "/personas"))
}

func (s *Server) personaDelete(c echo.Context) error {
	p, err := s.personaOf(c)
	if err != nil {
		return err
	}
	err = s.personas.Delete(c.Request().Context(), actorOf(c), p.ID, c.FormValue("confirm") == "1")
	var inUse *persona.InUseError
	if errors.As(err, &inUse) {
		// Put on a channel since the page was drawn: say where, and ask again.
		d, derr := s.personaForm(c, p, false)
		if derr != nil {
			return derr
		}
		d.UsedBy, d.InUse = inUse.Channels, true
		return render(c, http.StatusConflict, ai.PersonaForm(d), nil)
	}
	if err != nil {
		return err
	}
	toast(c, "success", "persona.deleted")
	return redirect(c, orgPath(c, "/personas"))
}

func (s *Server) channelBotData(c echo.Context) (ai.ChannelBotData, error) {
	ctx := c.Request().Context()
	org := reqOf(c).Org.ID
	id, err := paramID(c, "id")
	if err != nil {
		return ai.ChannelBotData{}, err
	}
	ch, err := s.inbox.Channel(ctx, org, id)
	if err != nil {
		return ai.ChannelBotData{}, err
	}
	ps, err := s.personas.Personas(ctx, org)
	if err != nil {
		return ai.ChannelBotData{}, err
	}
	return ai.ChannelBotData{Channel: ch, Personas: ps}, nil
}

func (s *Server) channelBotPage(c echo.Context) error {
	d, err := s.channelBotData(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, ai.ChannelBot(d), nil)
}

func (s *Server) channelBotSave(c echo.Context) error {
	d, err := s.channelBotData(c)
	if err != nil {
		return err
	}
	var pid *int64
	if v := strings.TrimSpace(c.FormValue("persona_id")); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return model.ErrNotFound
		}
		pid = &id
	}
	if err := s.personas.SetChannelBot(c.Request().Context(), actorOf(c), d.Channel.ID, pid); err != nil {
		return err
	}
	if pid == nil {
		toast(c, "success", "persona.bot_off")
	} else {
		toast(c, "success", "persona.bot_on")
	}
	return redirect(c, orgPath(c, fmt.Sprintf("/settings/channels/%d/bot", d.Channel.ID)))
}
