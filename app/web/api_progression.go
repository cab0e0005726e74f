package web

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"masteria/app/ai/progression"
	"masteria/app/model"
)

// apiProgressionRoutes mounts lead progression in the API: a lead's and a pipeline's
// suggestions, accepting and dismissing them, a lead's AI moves and their undo, and a
// pipeline's AI settings.
func (s *Server) apiProgressionRoutes(api *echo.Group) {
	api.GET("/leads/:id/suggestions", s.apiLeadSuggestions)
	api.GET("/leads/:id/ai-moves", s.apiLeadAIMoves)
	api.GET("/pipelines/:id/suggestions", s.apiPipelineSuggestions)
	api.POST("/suggestions/:id/accept", s.apiSuggestionAnswer(aiAccept))
	api.POST("/suggestions/:id/dismiss", s.apiSuggestionAnswer(aiDismiss))
	api.POST("/ai-moves/:id/undo", s.apiAIMoveUndo)
	api.GET("/pipelines/:id/ai", s.apiPipelineAI)
	api.PUT("/pipelines/:id/ai", s.apiPipelineAISave)
}

// apiProgressionFail answers a progression error in the API's shape, or returns it when
// unexpected.
func apiProgressionFail(c echo.Context, err error, what string) error {
	var v *model.ValidationError
	switch {
	case errors.Is(err, model.ErrNotFound):
		return apiFail(c, http.StatusNotFound, "not_found", "no such "+what)
	case errors.Is(err, progression.ErrStale):
		return apiFail(c, http.StatusConflict, "conflict", "the lead changed since: the suggestion was already answered or replaced, or the lead moved")
	case errors.As(err, &v):
		return apiFail(c, http.StatusUnprocessableEntity, "invalid", apiInvalid(v))
	case errors.Is(err, model.ErrForbidden):
		return apiFail(c, http.StatusForbidden, "forbidden", "not allowed")
	}
	return err
}

// apiLead is where a lead is after an answer.
type apiLead struct {
	ID         int64 `json:"id"`
	PipelineID int64 `json:"pipeline_id"`
	StageID    int64 `json:"stage_id"`
}

func (s *Server) apiLeadAfter(c echo.Context, leadID int64) (apiLead, error) {
	l, err := s.board.Lead(c.Request().Context(), apiActor(c).OrgID, leadID)
	return apiLead{ID: l.ID, PipelineID: l.PipelineID, StageID: l.StageID}, err
}

// apiLeadSuggestions is GET /api/v1/leads/{id}/suggestions: its open suggestion (at most one).
func (s *Server) apiLeadSuggestions(c echo.Context) error {
	id, err := apiKBID(c, "id")
	if err != nil {
		return apiProgressionFail(c, err, "lead")
	}
	ds, err := s.prog.LeadSuggestions(c.Request().Context(), apiActor(c).OrgID, id)
	if err != nil {
		return apiProgressionFail(c, err, "lead")
	}
	return c.JSON(http.StatusOK, map[string]any{"suggestions": ds})
}

// apiLeadAIMoves is GET /api/v1/leads/{id}/ai-moves: the AI's last moves of the lead.
func (s *Server) apiLeadAIMoves(c echo.Context) error {
	id, err := apiKBID(c, "id")
	if err != nil {
		return apiProgressionFail(c, err, "lead")
	}
	ds, err := s.prog.LeadMoves(c.Request().Context(), apiActor(c).OrgID, id)
	if err != nil {
		return apiProgressionFail(c, err, "lead")
	}
	return c.JSON(http.StatusOK, map[string]any{"ai_moves": ds})
}

// apiPipelineSuggestions is GET /api/v1/pipelines/{id}/suggestions?limit=&after=: the open
// suggestions of its leads, newest first.
func (s *Server) apiPipelineSuggestions(c echo.Context) error {
	id, err := apiKBID(c, "id")
	if err != nil {
		return apiProgressionFail(c, err, "pipeline")
	}
	p, ok, err := apiPageOf(c, progression.MaxList, progression.MaxList)
	if !ok {
		return err
	}
	ds, err := s.prog.PipelineSuggestions(c.Request().Context(), apiActor(c).OrgID, id, p.Limit+1, p.After)
	if err != nil {
		return apiProgressionFail(c, err, "pipeline")
	}
	ds, next := apiNext(ds, p.Limit, func(d model.LeadAIDecision) int64 { return d.ID })
	return c.JSON(http.StatusOK, map[string]any{"suggestions": ds, "next": next})
}

// apiSuggestionAnswer is POST /api/v1/suggestions/{id}/accept or /dismiss.
func (s *Server) apiSuggestionAnswer(action string) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := apiKBID(c, "id")
		if err != nil {
			return apiProgressionFail(c, err, "suggestion")
		}
		var d model.LeadAIDecision
		if action == aiAccept {
			d, err = s.prog.Accept(c.Request().Context(), apiActor(c), id)
		} else {
			d, err = s.prog.Dismiss(c.Request().Context(), apiActor(c), id)
		}
		if err != nil {
			return apiProgressionFail(c, err, "suggestion")
		}
		l, err := s.apiLeadAfter(c, d.LeadID)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]any{"suggestion": d, "lead": l})
	}
}

// apiAIMoveUndo is POST /api/v1/ai-moves/{id}/undo.
func (s *Server) apiAIMoveUndo(c echo.Context) error {
	id, err := apiKBID(c, "id")
	if err != nil {
		return apiProgressionFail(c, err, "AI move")
	}
	d, err := s.prog.Undo(c.Request().Context(), apiActor(c), id)
	if err != nil {
		return apiProgressionFail(c, err, "AI move")
	}
	l, err := s.apiLeadAfter(c, d.LeadID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"ai_move": d, "lead": l})
}

// apiPipelineAI is GET /api/v1/pipelines/{id}/ai.
func (s *Server) apiPipelineAI(c echo.Context) error {
	id, err := apiKBID(c, "id")
	if err != nil {
		return apiProgressionFail(c, err, "pipeline")
	}
	set, err := s.prog.Settings(c.Request().Context(), apiActor(c).OrgID, id)
	if err != nil {
		return apiProgressionFail(c, err, "pipeline")
	}
	return c.JSON(http.StatusOK, map[string]any{"ai": set})
}

// apiPipelineAISave is PUT /api/v1/pipelines/{id}/ai {"enabled":…,"threshold":…}; what is
// left out keeps its value.
func (s *Server) apiPipelineAISave(c echo.Context) error {
	id, err := apiKBID(c, "id")
	if err != nil {
		return apiProgressionFail(c, err, "pipeline")
	}
	var in struct {
		Enabled   *bool    `json:"enabled"`
		Threshold *float64 `json:"threshold"`
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, 1<<14))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return apiFail(c, http.StatusRequestEntityTooLarge, "too_large", "the body is larger than 16 KB")
	}
	if err != nil || json.Unmarshal(body, &in) != nil {
		return apiFail(c, http.StatusBadRequest, "bad_request", `send {"enabled": true, "threshold": 0.8}`)
	}
	ctx, a := c.Request().Context(), apiActor(c)
	cur, err := s.prog.Settings(ctx, a.OrgID, id)
	if err != nil {
		return apiProgressionFail(c, err, "pipeline")
	}
	if in.Enabled != nil {
		cur.Enabled = *in.Enabled
	}
	if in.Threshold != nil {
		cur.Threshold = *in.Threshold
	}
	set, err := s.prog.SaveSettings(ctx, a, id, cur.Enabled, cur.Threshold)
	if errors.Is(err, model.ErrInvalid) {
		return apiFail(c, http.StatusUnprocessableEntity, "invalid", "threshold: a number from 0.5 to 1")
	}
	if err != nil {
		return apiProgressionFail(c, err, "pipeline")
	}
	return c.JSON(http.StatusOK, map[string]any{"ai": set})
}
