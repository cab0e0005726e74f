package web

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"masteria/app/campaign/cadence"
	"masteria/app/model"
)

// apiCadenceRoutes mounts the cadence definitions of the REST API: list, read, create, edit.
func (s *Server) apiCadenceRoutes(api *echo.Group) {
	api.GET("/cadences", s.apiCadences)
	api.POST("/cadences", s.apiCadenceCreate)
	api.GET("/cadences/:id", s.apiCadence)
	api.PUT("/cadences/:id", s.apiCadenceUpdate)
}

const noSuchCadence = "no such cadence"

// apiCadenceIn is a cadence as the API takes it: its steps are the graph model.CadenceStep
// describes; exit_on_reply is true when left out.
type apiCadenceIn struct {
	Name              string              `json:"name"`
	Steps             []model.CadenceStep `json:"steps"`
	EnrolSegmentID    *int64              `json:"enrol_segment_id"`
	EnrolStageID      *int64              `json:"enrol_stage_id"`
	ExitOnReply       *bool               `json:"exit_on_reply"`
	ExitOnStageChange bool                `json:"exit_on_stage_change"`
	GoalStageID       *int64              `json:"goal_stage_id"`
}

func (in apiCadenceIn) cadence() model.Cadence {
	c := model.Cadence{Name: in.Name, Steps: in.Steps, EnrolSegmentID: in.EnrolSegmentID, EnrolStageID: in.EnrolStageID,
		ExitOnReply: in.ExitOnReply == nil || *in.ExitOnReply, ExitOnStageChange: in.ExitOnStageChange, GoalStageID: in.GoalStageID}
	return c
}

func readCadenceIn(c echo.Context) (apiCadenceIn, error) {
	var in apiCadenceIn
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return in, apiFail(c, http.StatusBadRequest, "bad_json",
			`the body must be JSON like {"name":"Boas-vindas","steps":[{"id":"s1","kind":"sms","channel_id":3,"message":{"text":"Olá {{first_name}}!"}}]}: `+err.Error())
	}
	return in, nil
}

// apiCadenceFail answers a refusal of the cadences service.
func apiCadenceFail(c echo.Context, err error) error {
	switch {
	case errors.Is(err, model.ErrNotFound):
		return apiFail(c, http.StatusNotFound, "not_found", "a cadence, channel, stage, tag, member, number or segment that is not in your organization")
	case errors.Is(err, model.ErrForbidden):
		return apiFail(c, http.StatusForbidden, "forbidden", "this key may not build cadences")
	case errors.Is(err, cadence.ErrStatus):
		return apiFail(c, http.StatusConflict, "conflict", "an archived cadence cannot be edited")
	}
	return apiCampaignFail(c, err, noSuchCadence, "")
}

// apiCadences lists the cadences, newest first; ?after=<next> reads on.
func (s *Server) apiCadences(c echo.Context) error {
	p, ok, err := apiPageOf(c, 50, 100)
	if !ok {
		return err
	}
	list, err := s.cad.List(c.Request().Context(), apiActor(c), p.After, p.Limit+1)
	if err != nil {
		return apiCadenceFail(c, err)
	}
	list, next := apiNext(list, p.Limit, func(cd model.CadenceListItem) int64 { return cd.ID })
	return c.JSON(http.StatusOK, map[string]any{"cadences": list, "next": next})
}

func (s *Server) apiCadence(c echo.Context) error {
	id, ok := apiCampaignID(c)
	if !ok {
		return apiFail(c, http.StatusNotFound, "not_found", noSuchCadence)
	}
	cd, err := s.cad.Cadence(c.Request().Context(), apiActor(c), id)
	if err != nil {
		return apiCadenceFail(c, err)
	}
	return c.JSON(http.StatusOK, map[string]any{"cadence": cd})
}

// apiCadenceCreate saves a new draft cadence: 201 with it (and its steps).
func (s *Server) apiCadenceCreate(c echo.Context) error {
	in, err := readCadenceIn(c)
	if err != nil || c.Response().Committed {
		return err
	}
	cd, err := s.cad.Create(c.Request().Context(), apiActor(c), in.cadence())
	if err != nil {
		return apiCadenceFail(c, err)
	}
	return c.JSON(http.StatusCreated, map[string]any{"cadence": cd})
}

// apiCadenceUpdate replaces a cadence's name, settings and steps: a new version when
// people walk the current one.
func (s *Server) apiCadenceUpdate(c echo.Context) error {
	id, ok := apiCampaignID(c)
	if !ok {
		return apiFail(c, http.StatusNotFound, "not_found", noSuchCadence)
	}
	in, err := readCadenceIn(c)
	if err != nil || c.Response().Committed {
		return err
	}
	cd := in.cadence()
	cd.ID = id
	out, err := s.cad.Update(c.Request().Context(), apiActor(c), cd)
	if err != nil {
		return apiCadenceFail(c, err)
	}
	return c.JSON(http.StatusOK, map[string]any{"cadence": out})
}
