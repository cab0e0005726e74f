package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"masteria/app/campaign"
	"masteria/app/i18n"
	"masteria/app/model"
)

// apiCampaignRoutes mounts the campaigns part of the REST API on the API-key group.
func (s *Server) apiCampaignRoutes(api *echo.Group) {
	api.GET("/campaigns", s.apiCampaigns)
	api.POST("/campaigns", s.apiCampaignCreate)
	api.GET("/campaigns/:id", s.apiCampaign)
	api.GET("/campaigns/:id/check", s.apiCampaignCheck)
	api.POST("/campaigns/:id/launch", s.apiCampaignLaunch)
	api.POST("/campaigns/:id/pause", s.apiCampaignPause)
	api.POST("/campaigns/:id/resume", s.apiCampaignResume)
	api.POST("/campaigns/:id/cancel", s.apiCampaignCancel)
	api.POST("/campaigns/:id/retry-failed", s.apiCampaignRetry)
	api.GET("/campaigns/:id/progress", s.apiCampaignProgress)
	api.GET("/campaigns/:id/recipients", s.apiCampaignRecipients)
}

// apiFieldsError is the API's error with the fields that failed, each in English.
type apiFieldsError struct {
	Error apiFieldsErrorBody `json:"error"`
}

type apiFieldsErrorBody struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

// apiFieldText is a field error in English; a key without English words reads as "is not valid".
func apiFieldText(key string) string {
	if i18n.Has(i18n.EN, key) {
		return i18n.T(i18n.EN, key)
	}
	return "is not valid"
}

// apiCampaignFail answers a refusal of the campaigns service in the API's one shape:
// notFound names what was not found, conflict says why the campaign cannot do it now.
func apiCampaignFail(c echo.Context, err error, notFound, conflict string) error {
	var v *model.ValidationError
	switch {
	case errors.Is(err, model.ErrNotFound):
		return apiFail(c, http.StatusNotFound, "not_found", notFound)
	case errors.Is(err, model.ErrForbidden):
		return apiFail(c, http.StatusForbidden, "forbidden", "this key may not run campaigns")
	case errors.Is(err, model.ErrConflict):
		return apiFail(c, http.StatusConflict, "conflict", conflict)
	case errors.As(err, &v):
		code, msg := "invalid", "some fields are not valid: "
		if errors.Is(err, campaign.ErrNotReady) {
			code, msg = "not_ready", "the campaign is not ready to launch: "
		}
		fields := make(map[string]string, len(v.Fields))
		names := make([]string, 0, len(v.Fields))
		for f, k := range v.Fields {
			fields[f] = apiFieldText(k)
			names = append(names, f)
		}
		sort.Strings(names)
		for i, f := range names {
			if i > 0 {
				msg += "; "
			}
			msg += f + ": " + fields[f]
		}
		return c.JSON(http.StatusUnprocessableEntity, apiFieldsError{Error: apiFieldsErrorBody{Code: code, Message: msg, Fields: fields}})
	}
	return err
}

const noSuchCampaign = "no such campaign"

// apiCampaignID reads the path's id; anything but a positive number is a campaign not found.
func apiCampaignID(c echo.Context) (int64, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	return id, err == nil && id > 0
}

// apiVariantIn is one message variant as the API takes it: a text (QR, SMS, sandbox) or an
// approved template by id (GET /channels/{id}/templates) with its variables mapped.
type apiVariantIn struct {
	Text       string         `json:"text"`
	MediaID    int64          `json:"media_id"`
	TemplateID int64          `json:"template_id"`
	Vars       []model.VarMap `json:"vars"`
	HeaderVars []model.VarMap `json:"header_vars"`
}

type apiCampaignIn struct {
	Name      string `json:"name"`
	ChannelID *int64 `json:"channel_id"`
	// VoiceNumberID makes a call campaign: the audience is called from this voice number.
	VoiceNumberID *int64 `json:"voice_number_id"`
	Audience      struct {
		SegmentID  int64   `json:"segment_id"`
		TagIDs     []int64 `json:"tag_ids"`
		ContactIDs []int64 `json:"contact_ids"`
	} `json:"audience"`
	Message struct {
		Variants []apiVariantIn `json:"variants"`
		AgentID  string         `json:"agent_id"` // a call campaign's Retell agent ("": the number's outbound agent)
	} `json:"message"`
	Settings    json.RawMessage `json:"settings"`
	ScheduledAt *time.Time      `json:"scheduled_at"`
}

// apiCampaignCreate saves a draft: 201 with the campaign. Launch it with POST …/launch
// after reading its check.
func (s *Server) apiCampaignCreate(c echo.Context) error {
	var in apiCampaignIn
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return apiFail(c, http.StatusBadRequest, "bad_json", `the body must be JSON like {"name":"Promo","channel_id":1,"audience":{"tag_ids":[2]},"message":{"variants":[{"text":"Olá {{nome}}!"}]}}: `+err.Error())
	}
	settings := model.DefaultCampaignSettings()
	if len(in.Settings) > 0 && string(in.Settings) != "null" {
		sd := json.NewDecoder(bytes.NewReader(in.Settings))
		sd.DisallowUnknownFields()
		if err := sd.Decode(&settings); err != nil {
			return apiFail(c, http.StatusBadRequest, "bad_json", "settings: "+err.Error())
		}
	}
	cp := model.Campaign{Name: in.Name, ChannelID: in.ChannelID, VoiceNumberID: in.VoiceNumberID, Settings: settings, ScheduledAt: in.ScheduledAt,
		Audience: model.Audience{SegmentID: in.Audience.SegmentID, TagIDs: in.Audience.TagIDs, ContactIDs: in.Audience.ContactIDs},
		Message:  model.CampaignMessage{AgentID: in.Message.AgentID}}
	if len(in.Message.Variants) > model.MaxVariants {
		return apiCampaignFail(c, model.FieldError("message", "campaigns.error.variants"), "", "")
	}
	for _, v := range in.Message.Variants {
		cp.Message.Variants = append(cp.Message.Variants, model.Variant{Text: v.Text, MediaID: v.MediaID, TemplateID: v.TemplateID,
			Vars: v.Vars, HeaderVars: v.HeaderVars})
	}
	out, err := s.camp.Create(c.Request().Context(), apiActor(c), cp)
	if err != nil {
		return apiCampaignFail(c, err, "a channel, voice number, segment, tag or contact that is not in your organization", "")
	}
	return c.JSON(http.StatusCreated, map[string]any{"campaign": out})
}

// apiCampaigns lists the campaigns, newest first; ?after=<next> reads on.
func (s *Server) apiCampaigns(c echo.Context) error {
	p, ok, err := apiPageOf(c, 50, 100)
	if !ok {
		return err
	}
	list, err := s.camp.Campaigns(c.Request().Context(), apiActor(c), p.After, p.Limit+1)
	if err != nil {
		return apiCampaignFail(c, err, noSuchCampaign, "")
	}
	list, next := apiNext(list, p.Limit, func(cp model.Campaign) int64 { return cp.ID })
	return c.JSON(http.StatusOK, map[string]any{"campaigns": list, "next": next})
}

func (s *Server) apiCampaign(c echo.Context) error {
	id, ok := apiCampaignID(c)
	if !ok {
		return apiFail(c, http.StatusNotFound, "not_found", noSuchCampaign)
	}
	cp, err := s.camp.Campaign(c.Request().Context(), apiActor(c), id)
	if err != nil {
		return apiCampaignFail(c, err, noSuchCampaign, "")
	}
	return c.JSON(http.StatusOK, map[string]any{"campaign": cp})
}

// apiCampaignCheck is the pre-launch check: the audience after dedup and skips, the pace,
// WhatsApp's 24-hour limit, the estimated time and cost, and the warnings.
func (s *Server) apiCampaignCheck(c echo.Context) error {
	id, ok := apiCampaignID(c)
	if !ok {
		return apiFail(c, http.StatusNotFound, "not_found", noSuchCampaign)
	}
	r, err := s.camp.Check(c.Request().Context(), apiActor(c), id)
	if err != nil {
		return apiCampaignFail(c, err, noSuchCampaign, "")
	}
	if r.Skips == nil {
		r.Skips = map[string]int64{}
	}
	if r.Warnings == nil {
		r.Warnings = []string{}
	}
	return c.JSON(http.StatusOK, map[string]any{"check": r})
}

func (s *Server) apiCampaignLaunch(c echo.Context) error {
	id, ok := apiCampaignID(c)
	if !ok {
		return apiFail(c, http.StatusNotFound, "not_found", noSuchCampaign)
	}
	cp, err := s.camp.Launch(c.Request().Context(), apiActor(c), id)
	if err != nil {
		return apiCampaignFail(c, err, noSuchCampaign, "the campaign was already launched")
	}
	return c.JSON(http.StatusOK, map[string]any{"campaign": cp})
}

// apiCampaignControl runs a control on a campaign and answers the campaign as it now is.
func (s *Server) apiCampaignControl(c echo.Context, conflict string, do func(a model.Actor, id int64) error) error {
	id, ok := apiCampaignID(c)
	if !ok {
		return apiFail(c, http.StatusNotFound, "not_found", noSuchCampaign)
	}
	a := apiActor(c)
	if err := do(a, id); err != nil {
		return apiCampaignFail(c, err, noSuchCampaign, conflict)
	}
	cp, err := s.camp.Campaign(c.Request().Context(), a, id)
	if err != nil {
		return apiCampaignFail(c, err, noSuchCampaign, conflict)
	}
	return c.JSON(http.StatusOK, map[string]any{"campaign": cp})
}

func (s *Server) apiCampaignPause(c echo.Context) error {
	return s.apiCampaignControl(c, "only a running or scheduled campaign can be paused", func(a model.Actor, id int64) error {
		return s.camp.Pause(c.Request().Context(), a, id)
	})
}

func (s *Server) apiCampaignResume(c echo.Context) error {
	return s.apiCampaignControl(c, "only a paused campaign can be resumed", func(a model.Actor, id int64) error {
		return s.camp.Resume(c.Request().Context(), a, id)
	})
}

func (s *Server) apiCampaignCancel(c echo.Context) error {
	return s.apiCampaignControl(c, "the campaign has already finished", func(a model.Actor, id int64) error {
		return s.camp.Cancel(c.Request().Context(), a, id)
	})
}

// apiCampaignRetry sends again to the recipients whose send failed for a reason that may
// pass; it answers how many.
func (s *Server) apiCampaignRetry(c echo.Context) error {
	id, ok := apiCampaignID(c)
	if !ok {
		return apiFail(c, http.StatusNotFound, "not_found", noSuchCampaign)
	}
	a := apiActor(c)
	n, err := s.camp.RetryFailed(c.Request().Context(), a, id)
	const conflict = "the campaign was not launched, or was cancelled"
	if err != nil {
		return apiCampaignFail(c, err, noSuchCampaign, conflict)
	}
	cp, err := s.camp.Campaign(c.Request().Context(), a, id)
	if err != nil {
		return apiCampaignFail(c, err, noSuchCampaign, conflict)
	}
	return c.JSON(http.StatusOK, map[string]any{"retried": n, "campaign": cp})
}

// apiCampaignProgress counts the recipients by status (every status, zeros too).
func (s *Server) apiCampaignProgress(c echo.Context) error {
	id, ok := apiCampaignID(c)
	if !ok {
		return apiFail(c, http.StatusNotFound, "not_found", noSuchCampaign)
	}
	a := apiActor(c)
	cp, err := s.camp.Campaign(c.Request().Context(), a, id)
	if err != nil {
		return apiCampaignFail(c, err, noSuchCampaign, "")
	}
	p, err := s.camp.Progress(c.Request().Context(), a, id)
	if err != nil {
		return apiCampaignFail(c, err, noSuchCampaign, "")
	}
	by := make(map[string]int64, len(model.RecipientStatuses))
	for _, st := range model.RecipientStatuses {
		by[st] = p.Count(st)
	}
	out := map[string]any{"campaign_id": id, "status": cp.Status, "total": p.Total, "done": p.Done(), "by_status": by}
	if cp.Voice() {
		f, err := s.camp.CallFigures(c.Request().Context(), a, id)
		if err != nil {
			return apiCampaignFail(c, err, noSuchCampaign, "")
		}
		out["calls"] = f
	}
	return c.JSON(http.StatusOK, out)
}

// apiCampaignRecipients pages through the recipients in id order: ?status, ?after=<next>,
// ?limit (up to 1000, 100 by default).
func (s *Server) apiCampaignRecipients(c echo.Context) error {
	id, ok := apiCampaignID(c)
	if !ok {
		return apiFail(c, http.StatusNotFound, "not_found", noSuchCampaign)
	}
	p, ok, err := apiPageOf(c, 100, 1000, "status")
	if !ok {
		return err
	}
	status := c.QueryParam("status")
	if !runStatusOK(status) {
		return c.JSON(http.StatusUnprocessableEntity, apiFieldsError{Error: apiFieldsErrorBody{Code: "invalid",
			Message: "status must be one of pending, claimed, sent, delivered, read, replied, failed, skipped, capped, answered",
			Fields:  map[string]string{"status": "is not a recipient status"}}})
	}
	rs, err := s.camp.Recipients(c.Request().Context(), apiActor(c), id, status, p.After, p.Limit+1)
	if err != nil {
		return apiCampaignFail(c, err, noSuchCampaign, "")
	}
	rs, next := apiNext(rs, p.Limit, func(r model.Recipient) int64 { return r.ID })
	return c.JSON(http.StatusOK, map[string]any{"recipients": rs, "next": next})
}
