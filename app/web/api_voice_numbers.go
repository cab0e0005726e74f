package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"

	"masteria/app/model"
	"masteria/app/voice/numbers"
)

// maxNumberBody bounds a voice number request's JSON: a few short fields.
const maxNumberBody = 16 << 10

const noSuchNumber = "no such voice number"

func (s *Server) apiVoiceNumberRoutes(api *echo.Group) {
	api.GET("/voice-numbers", s.apiVoiceNumbers)
	api.POST("/voice-numbers", s.apiVoiceNumberBuy)
	api.GET("/voice-numbers/available", s.apiVoiceNumbersAvailable)
	api.POST("/voice-numbers/link", s.apiVoiceNumberLink)
	api.GET("/voice-numbers/:id", s.apiVoiceNumber)
	api.DELETE("/voice-numbers/:id", s.apiVoiceNumberRelease)
	api.POST("/voice-numbers/:id/continue", s.apiVoiceNumberContinue)
	api.PUT("/voice-numbers/:id/agents", s.apiVoiceNumberAgents)
}

// apiStep is one step of a number's set-up or release and how far it is: done, next (the
// one to run, or running), failed (stopped there) or todo.
type apiStep struct {
	Step  string `json:"step"`
	State string `json:"state"`
}

// apiVoiceNumberJSON is a voice number as the API shows it: the record (its SIDs and the
// sealed SIP password stay inside) with the steps of its set-up (none for a linked number),
// or of its release once that began.
type apiVoiceNumberJSON struct {
	model.VoiceNumber
	Steps []apiStep `json:"steps"`
}

func voiceNumberJSON(n model.VoiceNumber) apiVoiceNumberJSON {
	all, at := numbers.Steps[:len(numbers.Steps)-1], n.Step // "ready" is where a set-up ends, not a step
	if n.Source == "linked" {
		all = nil // linked as it is: no set-up
	}
	if numbers.Releasing(n) {
		all, at = numbers.ReleaseSteps, n.ReleaseStep
		if n.Source == "linked" {
			all = numbers.ReleaseSteps[:1] // it only leaves Retell
		}
	}
	out := apiVoiceNumberJSON{VoiceNumber: n, Steps: make([]apiStep, 0, len(all))}
	i := slices.Index(all, at)
	if n.Status == "ready" || n.Status == numbers.Released {
		i = len(all)
	}
	for j, st := range all {
		state := "todo"
		switch {
		case j < i:
			state = "done"
		case j == i && (n.Status == "failed" || n.Status == "release_failed"):
			state = "failed"
		case j == i:
			state = "next"
		}
		out.Steps = append(out.Steps, apiStep{Step: st, State: state})
	}
	return out
}

// apiNumberFail answers a refusal of the numbers service in the API's shape. A step that
// failed is 502 (a provider refused) with the step, the reason and the number as it stands.
func apiNumberFail(c echo.Context, n model.VoiceNumber, err error) error {
	var v *model.ValidationError
	var se *numbers.StepError
	switch {
	case errors.Is(err, model.ErrForbidden):
		return apiFail(c, http.StatusForbidden, "forbidden", "only owners and admins may manage voice numbers: this key's creator is not one")
	case errors.Is(err, numbers.ErrNotInRetell):
		return apiFail(c, http.StatusUnprocessableEntity, "not_in_retell", "this number is not in the org's Retell account")
	case errors.Is(err, model.ErrNotFound):
		return apiFail(c, http.StatusNotFound, "not_found", noSuchNumber)
	case errors.Is(err, model.ErrConflict):
		return apiFail(c, http.StatusConflict, "conflict", "the org has this number already, or it is being set up or released right now")
	case errors.As(err, &v):
		fields := make(map[string]string, len(v.Fields))
		for f, k := range v.Fields {
			fields[f] = apiFieldText(k)
		}
		return c.JSON(http.StatusBadRequest, apiFieldsError{Error: apiFieldsErrorBody{Code: "invalid",
			Message: "some fields are not valid: " + apiInvalid(v), Fields: fields}})
	case errors.As(err, &se):
		body := apiStepFailed{Number: voiceNumberJSON(n)}
		body.Error.Code, body.Error.Step, body.Error.Message = "step_failed", se.Step, se.Reason
		if n.ID == 0 {
			body.Number = nil
		}
		return c.JSON(http.StatusBadGateway, body)
	}
	return err
}

// apiStepFailed is a set-up, release, search or link step a provider refused.
type apiStepFailed struct {
	Error struct {
		Code    string `json:"code"`
		Step    string `json:"step"`
		Message string `json:"message"`
	} `json:"error"`
	Number any `json:"number,omitempty"`
}

// apiNumberID reads the path's id; anything but a positive number is not found (an error
// to return).
func apiNumberID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, echo.NewHTTPError(http.StatusNotFound, noSuchNumber) // the API's error handler answers it
	}
	return id, nil
}

// apiNumberBody decodes a small JSON body into dst; unknown fields, bad JSON and a body
// over maxNumberBody are refused (answered; false).
func apiNumberBody(c echo.Context, dst any, example string) (bool, error) {
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, maxNumberBody+1))
	if err != nil {
		return false, err
	}
	if len(body) > maxNumberBody {
		return false, apiFail(c, http.StatusRequestEntityTooLarge, "too_large", "the body is at most 16 KB")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil || dec.More() {
		msg := "the body must be JSON like " + example
		if err != nil {
			msg += ": " + err.Error()
		}
		return false, apiFail(c, http.StatusBadRequest, "bad_json", msg)
	}
	return true, nil
}

// apiVoiceNumbers is GET /api/v1/voice-numbers: the org's numbers, newest first;
// ?after=<next> reads on.
func (s *Server) apiVoiceNumbers(c echo.Context) error {
	a := apiActor(c)
	p, ok, err := apiPageOf(c, 50, 100)
	if !ok {
		return err
	}
	list, err := s.numbers.NumbersPage(c.Request().Context(), a, p.After, p.Limit+1)
	if err != nil {
		return apiNumberFail(c, model.VoiceNumber{}, err)
	}
	list, next := apiNext(list, p.Limit, func(n model.VoiceNumber) int64 { return n.ID })
	out := make([]apiVoiceNumberJSON, 0, len(list))
	for _, n := range list {
		out = append(out, voiceNumberJSON(n))
	}
	return c.JSON(http.StatusOK, map[string]any{"numbers": out, "next": next})
}

// apiVoiceNumber is GET /api/v1/voice-numbers/{id}.
func (s *Server) apiVoiceNumber(c echo.Context) error {
	a := apiActor(c)
	id, err := apiNumberID(c)
	if err != nil {
		return err
	}
	n, err := s.numbers.Number(c.Request().Context(), a, id)
	if err != nil {
		return apiNumberFail(c, n, err)
	}
	return c.JSON(http.StatusOK, map[string]any{"number": voiceNumberJSON(n)})
}

// apiVoiceNumbersAvailable is GET /api/v1/voice-numbers/available?channel_id=&country=
// &area_code=: numbers Twilio offers to buy with the account of one of the org's Twilio
// SMS channels.
func (s *Server) apiVoiceNumbersAvailable(c echo.Context) error {
	a := apiActor(c)
	in := numbers.SearchInput{Country: c.QueryParam("country"), AreaCode: c.QueryParam("area_code")}
	if v := c.QueryParam("channel_id"); v != "" {
		var err error
		if in.ChannelID, err = strconv.ParseInt(v, 10, 64); err != nil || in.ChannelID <= 0 {
			return apiFail(c, http.StatusBadRequest, "invalid", "channel_id must be the id of one of the org's Twilio SMS channels")
		}
	}
	list, err := s.numbers.Search(c.Request().Context(), a, in)
	if err != nil {
		if errors.Is(err, model.ErrNotFound) {
			return apiFail(c, http.StatusNotFound, "not_found", "no such Twilio SMS channel")
		}
		return apiNumberFail(c, model.VoiceNumber{}, err)
	}
	type offer struct {
		PhoneNumber  string `json:"phone_number"`
		FriendlyName string `json:"friendly_name"`
		Locality     string `json:"locality"`
		Region       string `json:"region"`
		Country      string `json:"country"`
		SMS          bool   `json:"sms"`
	}
	out := make([]offer, 0, len(list))
	for _, o := range list {
		out = append(out, offer{PhoneNumber: o.PhoneNumber, FriendlyName: o.FriendlyName, Locality: o.Locality, Region: o.Region,
			Country: o.ISOCountry, SMS: o.Capabilities.SMS})
	}
	return c.JSON(http.StatusOK, map[string]any{"available": out})
}

// apiVoiceNumberBuy is POST /api/v1/voice-numbers: buy a number and set it up in one go.
// 201 when it is ready; 502 with the step Twilio or Retell refused and the number as it
// stands (continue it later with POST …/{id}/continue: nothing is bought twice).
func (s *Server) apiVoiceNumberBuy(c echo.Context) error {
	a := apiActor(c)
	var in struct {
		ChannelID       int64  `json:"channel_id"`
		PhoneNumber     string `json:"phone_number"`
		Country         string `json:"country"`
		InboundAgentID  string `json:"inbound_agent_id"`
		OutboundAgentID string `json:"outbound_agent_id"`
		Nickname        string `json:"nickname"`
	}
	if ok, err := apiNumberBody(c, &in, `{"channel_id":1,"phone_number":"+14155550100","country":"US","inbound_agent_id":"agent_…"}`); !ok {
		return err
	}
	n, err := s.numbers.Buy(c.Request().Context(), a, numbers.BuyInput{ChannelID: in.ChannelID, PhoneNumber: in.PhoneNumber,
		Country: in.Country, InboundAgentID: in.InboundAgentID, OutboundAgentID: in.OutboundAgentID, Nickname: in.Nickname})
	if err != nil {
		if errors.Is(err, model.ErrNotFound) {
			return apiFail(c, http.StatusNotFound, "not_found", "no such Twilio SMS channel")
		}
		return apiNumberFail(c, n, err)
	}
	return c.JSON(http.StatusCreated, map[string]any{"number": voiceNumberJSON(n)})
}

// apiVoiceNumberLink is POST /api/v1/voice-numbers/link {"phone_number"}: add a number
// the org's Retell account already has, as it is there.
func (s *Server) apiVoiceNumberLink(c echo.Context) error {
	a := apiActor(c)
	var in struct {
		PhoneNumber string `json:"phone_number"`
	}
	if ok, err := apiNumberBody(c, &in, `{"phone_number":"+14155550100"}`); !ok {
		return err
	}
	n, err := s.numbers.Link(c.Request().Context(), a, in.PhoneNumber)
	if errors.Is(err, model.ErrNotFound) && !errors.Is(err, numbers.ErrNotInRetell) {
		return apiFail(c, http.StatusConflict, "no_retell", "Retell is not connected: save the org's Retell key first")
	}
	if err != nil {
		return apiNumberFail(c, n, err)
	}
	return c.JSON(http.StatusCreated, map[string]any{"number": voiceNumberJSON(n)})
}

// apiVoiceNumberContinue is POST /api/v1/voice-numbers/{id}/continue: go on with a set-up
// or a release that stopped, from the step it stopped at.
func (s *Server) apiVoiceNumberContinue(c echo.Context) error {
	a := apiActor(c)
	id, err := apiNumberID(c)
	if err != nil {
		return err
	}
	n, err := s.numbers.Continue(c.Request().Context(), a, id)
	if err != nil {
		return apiNumberFail(c, n, err)
	}
	return c.JSON(http.StatusOK, map[string]any{"number": voiceNumberJSON(n)})
}

// apiVoiceNumberAgents is PUT /api/v1/voice-numbers/{id}/agents {"inbound_agent_id",
// "outbound_agent_id"} ("" or absent: none): in Retell too once the number is there.
func (s *Server) apiVoiceNumberAgents(c echo.Context) error {
	a := apiActor(c)
	id, err := apiNumberID(c)
	if err != nil {
		return err
	}
	var in struct {
		Inbound  string `json:"inbound_agent_id"`
		Outbound string `json:"outbound_agent_id"`
	}
	if ok, err := apiNumberBody(c, &in, `{"inbound_agent_id":"agent_…","outbound_agent_id":""}`); !ok {
		return err
	}
	n, err := s.numbers.SetAgents(c.Request().Context(), a, id, in.Inbound, in.Outbound)
	if err != nil {
		return apiNumberFail(c, n, err)
	}
	return c.JSON(http.StatusOK, map[string]any{"number": voiceNumberJSON(n)})
}

// apiVoiceNumberRelease is DELETE /api/v1/voice-numbers/{id}[?from_retell=true]: release
// the number (one bought here leaves Retell and Twilio; a linked one is only unlinked,
// and leaves Retell with from_retell=true). 200 with status "released"; 502 with the step
// that stopped it (continue with POST …/{id}/continue).
func (s *Server) apiVoiceNumberRelease(c echo.Context) error {
	a := apiActor(c)
	id, err := apiNumberID(c)
	if err != nil {
		return err
	}
	fromRetell := false
	if v := c.QueryParam("from_retell"); v != "" {
		if fromRetell, err = strconv.ParseBool(v); err != nil {
			return apiFail(c, http.StatusBadRequest, "invalid", "from_retell must be true or false")
		}
	}
	n, err := s.numbers.Release(c.Request().Context(), a, id, fromRetell)
	if err != nil {
		return apiNumberFail(c, n, err)
	}
	return c.JSON(http.StatusOK, map[string]any{"number": voiceNumberJSON(n)})
}
