package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"masteria/app/model"
	inboxview "masteria/views/inbox"
)

// botData adds to an open conversation the org's personas (to give it to the bot) and the
// name of the one answering it.
func (s *Server) botData(ctx context.Context, d *inboxview.OpenData) error {
	ps, err := s.st.Personas(ctx, d.Conv.OrgID)
	if err != nil {
		return err
	}
	d.Personas = ps
	id := d.Conv.PersonaID
	if id == nil {
		id = d.Channel.PersonaID
	}
	for _, p := range ps {
		if id != nil && p.ID == *id {
			d.PersonaName = p.Name
		}
	}
	return nil
}

// inboxTakeOver: the agent takes the conversation from the bot, for good.
func (s *Server) inboxTakeOver(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	if err := s.inbox.TakeOver(c.Request().Context(), actorOf(c), id); err != nil {
		return err
	}
	return s.botChanged(c, id, "bot.toast.taken")
}

// inboxGiveToBot gives the conversation (back) to the bot, with a persona.
func (s *Server) inboxGiveToBot(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	var persona int64 // none: the channel's
	if v := c.FormValue("persona_id"); v != "" {
		if persona, err = strconv.ParseInt(v, 10, 64); err != nil || persona < 0 {
			persona = -1
		}
	}
	if persona < 0 {
		err = model.FieldError("persona_id", "bot.error.persona")
	} else {
		err = s.inbox.GiveToBot(c.Request().Context(), actorOf(c), id, persona)
	}
	var v *model.ValidationError
	if errors.As(err, &v) {
		return s.inboxRefused(c, id, v)
	}
	if err != nil {
		return err
	}
	return s.botChanged(c, id, "bot.toast.given")
}

// botChanged answers a change of owner: a toast (the page reloads from the event), or the
// conversation again without htmx.
func (s *Server) botChanged(c echo.Context, id int64, key string) error {
	if isHTMX(c) {
		toast(c, "success", key)
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, orgPath(c, fmt.Sprintf("/inbox/%d", id)))
}

// apiConversationBot is PUT /api/v1/conversations/{id}/bot: {"on": true, "persona_id": …}
// gives the conversation to the bot (the channel's persona when persona_id is left out),
// {"on": false} takes it from the bot for good.
func (s *Server) apiConversationBot(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return apiFail(c, http.StatusNotFound, "not_found", "no such conversation")
	}
	var in struct {
		On        *bool  `json:"on"`
		PersonaID *int64 `json:"persona_id"`
	}
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, 1<<12+1))
	if err != nil || len(body) > 1<<12 || json.Unmarshal(body, &in) != nil || in.On == nil {
		return apiFail(c, http.StatusBadRequest, "bad_request", `send {"on": true, "persona_id": 1} or {"on": false}`)
	}
	ctx, a := c.Request().Context(), apiActor(c)
	switch {
	case !*in.On:
		err = s.inbox.TakeOver(ctx, a, id)
	case in.PersonaID != nil && *in.PersonaID <= 0:
		err = model.FieldError("persona_id", "bot.error.persona")
	case in.PersonaID != nil:
		err = s.inbox.GiveToBot(ctx, a, id, *in.PersonaID)
	default:
		err = s.inbox.GiveToBot(ctx, a, id, 0)
	}
	var v *model.ValidationError
	switch {
	case errors.Is(err, model.ErrNotFound):
		return apiFail(c, http.StatusNotFound, "not_found", "no such conversation")
	case errors.As(err, &v):
		return apiFail(c, http.StatusUnprocessableEntity, "invalid", apiInvalid(v))
	case err != nil:
		return err
	}
	conv, err := s.inbox.Open(ctx, a, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"conversation": conv})
}
