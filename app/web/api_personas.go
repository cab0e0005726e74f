package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"masteria/app/ai/persona"
	"masteria/app/model"
)

// maxPersonaBody bounds a persona's JSON: its longest texts, every character escaped, fit
// with room to spare.
const maxPersonaBody = 256 << 10

func (s *Server) apiPersonaRoutes(api *echo.Group) {
	api.GET("/personas", s.apiPersonas)
	api.POST("/personas", s.apiPersonaCreate)
	api.GET("/personas/:id", s.apiPersona)
	api.PUT("/personas/:id", s.apiPersonaUpdate)
	api.DELETE("/personas/:id", s.apiPersonaDelete)
	api.PUT("/channels/:id/bot", s.apiChannelBot)
}

const noSuchPersona = "no such persona"

type apiChannelRef struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// apiPersonaInUse is the refusal of a delete that was not confirmed: the channels the
// persona answers on.
type apiPersonaInUse struct {
	Error struct {
		Code     string          `json:"code"`
		Message  string          `json:"message"`
		Channels []apiChannelRef `json:"channels"`
	} `json:"error"`
}

// apiPersonaFail answers a refusal of the personas service in the API's shape.
func apiPersonaFail(c echo.Context, err error, notFound string) error {
	var v *model.ValidationError
	var inUse *persona.InUseError
	switch {
	case errors.Is(err, model.ErrNotFound):
		return apiFail(c, http.StatusNotFound, "not_found", notFound)
	case errors.Is(err, model.ErrForbidden):
		return apiFail(c, http.StatusForbidden, "forbidden", "this key may not change personas")
	case errors.As(err, &inUse):
		var out apiPersonaInUse
		names := make([]string, len(inUse.Channels))
		out.Error.Channels = make([]apiChannelRef, len(inUse.Channels))
		for i, ch := range inUse.Channels {
			names[i] = ch.Name
			out.Error.Channels[i] = apiChannelRef{ID: ch.ID, Name: ch.Name}
		}
		out.Error.Code = "conflict"
		out.Error.Message = "the persona answers on " + strings.Join(names, ", ") + ": send ?confirm=true to delete it and leave them without a bot"
		return c.JSON(http.StatusConflict, out)
	case errors.As(err, &v):
		fields := make(map[string]string, len(v.Fields))
		for f, k := range v.Fields {
			fields[f] = apiFieldText(k)
		}
		return c.JSON(http.StatusUnprocessableEntity, apiFieldsError{Error: apiFieldsErrorBody{Code: "invalid",
			Message: "some fields are not valid: " + apiInvalid(v), Fields: fields}})
	}
	return err
}

// apiPersonaID reads the path's id; anything but a positive number is not found.
func apiPersonaID(c echo.Context) (int64, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	return id, err == nil && id > 0
}

// apiPersonaBody reads a persona's JSON over p: the fields sent replace p's, the others
// stay. Unknown fields, and anything that is not a persona's JSON, are refused: false
// when it answered the refusal.
func apiPersonaBody(c echo.Context, p *model.Persona) (bool, error) {
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, maxPersonaBody+1))
	if err != nil {
		return false, err
	}
	if len(body) > maxPersonaBody {
		return false, apiFail(c, http.StatusRequestEntityTooLarge, "too_large", "a persona's JSON is at most 256 KB")
	}
	id, created, updated := p.ID, p.CreatedAt, p.UpdatedAt
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(p); err != nil || dec.More() {
		msg := `the body must be JSON like {"name":"Ana","instructions":"…","tone":"friendly","language":"pt-BR","knowledge_base_ids":[1]}`
		if err != nil {
			msg += ": " + err.Error()
		}
		return false, apiFail(c, http.StatusBadRequest, "bad_json", msg)
	}
	p.ID, p.CreatedAt, p.UpdatedAt = id, created, updated // the path names it; the server dates it
	return true, nil
}

// apiPersonas is GET /api/v1/personas: the org's personas in the order they were made;
// ?after=<next> reads on.
func (s *Server) apiPersonas(c echo.Context) error {
	p, ok, err := apiPageOf(c, 50, 100)
	if !ok {
		return err
	}
	ps, err := s.personas.PersonasPage(c.Request().Context(), apiActor(c).OrgID, p.After, p.Limit+1)
	if err != nil {
		return err
	}
	ps, next := apiNext(ps, p.Limit, func(x model.Persona) int64 { return x.ID })
	return c.JSON(http.StatusOK, map[string]any{"personas": ps, "next": next})
}

// apiPersonaCreate is POST /api/v1/personas: the fields not sent take their defaults.
func (s *Server) apiPersonaCreate(c echo.Context) error {
	p := persona.Defaults()
	if ok, err := apiPersonaBody(c, &p); !ok {
		return err
	}
	out, err := s.personas.Create(c.Request().Context(), apiActor(c), p)
	if err != nil {
		return apiPersonaFail(c, err, "no such knowledge base")
	}
	return c.JSON(http.StatusCreated, map[string]any{"persona": out})
}

// apiPersona is GET /api/v1/personas/{id}, with the channels it answers on.
func (s *Server) apiPersona(c echo.Context) error {
	id, ok := apiPersonaID(c)
	if !ok {
		return apiFail(c, http.StatusNotFound, "not_found", noSuchPersona)
	}
	ctx, org := c.Request().Context(), apiActor(c).OrgID
	p, err := s.personas.Persona(ctx, org, id)
	if err != nil {
		return apiPersonaFail(c, err, noSuchPersona)
	}
	used, err := s.personas.UsedBy(ctx, org, id)
	if err != nil {
		return err
	}
	chs := make([]apiChannelRef, len(used))
	for i, ch := range used {
		chs[i] = apiChannelRef{ID: ch.ID, Name: ch.Name}
	}
	return c.JSON(http.StatusOK, map[string]any{"persona": p, "channels": chs})
}

// apiPersonaUpdate is PUT /api/v1/personas/{id}: the fields sent replace the persona's.
func (s *Server) apiPersonaUpdate(c echo.Context) error {
	id, ok := apiPersonaID(c)
	if !ok {
		return apiFail(c, http.StatusNotFound, "not_found", noSuchPersona)
	}
	ctx, a := c.Request().Context(), apiActor(c)
	p, err := s.personas.Persona(ctx, a.OrgID, id)
	if err != nil {
		return apiPersonaFail(c, err, noSuchPersona)
	}
	if ok, err := apiPersonaBody(c, &p); !ok {
		return err
	}
	out, err := s.personas.Update(ctx, a, p)
	if err != nil {
		return apiPersonaFail(c, err, noSuchPersona)
	}
	return c.JSON(http.StatusOK, map[string]any{"persona": out})
}

// apiPersonaDelete is DELETE /api/v1/personas/{id}[?confirm=true]: a persona that answers
// on channels goes only with confirm (409 names them otherwise).
func (s *Server) apiPersonaDelete(c echo.Context) error {
	id, ok := apiPersonaID(c)
	if !ok {
		return apiFail(c, http.StatusNotFound, "not_found", noSuchPersona)
	}
	confirm := false
	if v := c.QueryParam("confirm"); v != "" {
		var err error
		if confirm, err = strconv.ParseBool(v); err != nil {
			return apiFail(c, http.StatusBadRequest, "bad_request", "confirm: true or false")
		}
	}
	if err := s.personas.Delete(c.Request().Context(), apiActor(c), id, confirm); err != nil {
		return apiPersonaFail(c, err, noSuchPersona)
	}
	return c.NoContent(http.StatusNoContent)
}

// apiChannelBot is PUT /api/v1/channels/{id}/bot {"persona_id": id or null}: the persona
// that answers the channel's new conversations, or no bot.
func (s *Server) apiChannelBot(c echo.Context) error {
	id, ok := apiPersonaID(c)
	if !ok {
		return apiFail(c, http.StatusNotFound, "not_found", "no such channel")
	}
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, 1<<12+1))
	if err != nil {
		return err
	}
	if len(body) > 1<<12 {
		return apiFail(c, http.StatusRequestEntityTooLarge, "too_large", `send only {"persona_id": …}`)
	}
	var in struct {
		PersonaID *int64 `json:"persona_id"`
	}
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if json.Unmarshal(body, &raw) != nil || raw["persona_id"] == nil || dec.Decode(&in) != nil {
		return apiFail(c, http.StatusBadRequest, "bad_json", `the body must be {"persona_id": 1} or {"persona_id": null} (no bot)`)
	}
	if in.PersonaID != nil && *in.PersonaID <= 0 {
		return apiFail(c, http.StatusNotFound, "not_found", "no such channel or persona")
	}
	if err := s.personas.SetChannelBot(c.Request().Context(), apiActor(c), id, in.PersonaID); err != nil {
		return apiPersonaFail(c, err, "no such channel or persona")
	}
	return c.JSON(http.StatusOK, map[string]any{"channel_id": id, "persona_id": in.PersonaID})
}
