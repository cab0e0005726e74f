package web

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"masteria/app/inbox"
	"masteria/app/model"
	"masteria/app/phone"
)

//go:embed openapi.yaml
var openAPI []byte

// apiInboxRoutes mounts the inbox part of the REST API on the API-key group.
func (s *Server) apiInboxRoutes(api *echo.Group) {
	api.GET("/channels", s.apiChannels)
	api.POST("/channels", s.apiChannelCreate)
	api.GET("/channels/:id", s.apiChannel)
	api.GET("/channels/:id/templates", s.apiTemplates)
	api.POST("/messages", s.apiSend)
	api.GET("/conversations", s.apiConversations)
	api.POST("/conversations", s.apiConversationStart)
	api.GET("/conversations/:id/messages", s.apiMessages)
	api.PUT("/conversations/:id/bot", s.apiConversationBot)
}

// apiFail answers an API error in the one shape integrators parse: a stable code and a message.
func apiFail(c echo.Context, status int, code, msg string) error {
	return c.JSON(status, apiError{Error: apiErrorBody{Code: code, Message: msg}})
}

// apiActor is the org of the API key acting with an admin's reach: an integration sees
// every conversation of its org.
func apiActor(c echo.Context) model.Actor {
	org := c.Get(ctxAPIOrg).(model.Org)
	return model.Actor{OrgID: org.ID, Role: model.RoleAdmin, IP: c.RealIP(), UserAgent: c.Request().UserAgent()}
}

type apiChannelJSON struct {
	ID         int64  `json:"id"`
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	Status     string `json:"status"`
	WebhookURL string `json:"webhook_url,omitempty"`
	// QR: a WhatsApp QR channel's pairing code while pending, its number once connected.
	QR *apiQR `json:"qr,omitempty"`
}

func (s *Server) channelJSON(ch model.Channel) apiChannelJSON {
	out := apiChannelJSON{ID: ch.ID, Kind: ch.Kind, Name: ch.Name, Status: ch.Status}
	switch ch.Kind {
	case model.KindWhatsAppCloud:
		out.WebhookURL = fmt.Sprintf("%s/webhooks/whatsapp/%d", s.cfg.BaseURL, ch.ID)
	case model.KindTwilioSMS:
		out.WebhookURL = fmt.Sprintf("%s/webhooks/twilio/%d", s.cfg.BaseURL, ch.ID)
	}
	return out
}

// apiChannels is GET /api/v1/channels: the org's channels in the order they were made;
// ?after=<next> reads on.
func (s *Server) apiChannels(c echo.Context) error {
	p, ok, err := apiPageOf(c, 50, 100)
	if !ok {
		return err
	}
	chs, err := s.inbox.ChannelsPage(c.Request().Context(), apiActor(c).OrgID, p.After, p.Limit+1)
	if err != nil {
		return err
	}
	chs, next := apiNext(chs, p.Limit, func(ch model.Channel) int64 { return ch.ID })
	out := make([]apiChannelJSON, 0, len(chs))
	for _, ch := range chs {
		out = append(out, s.channelJSON(ch))
	}
	return c.JSON(http.StatusOK, map[string]any{"channels": out, "next": next})
}

func (s *Server) apiChannel(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return apiFail(c, http.StatusNotFound, "not_found", "no such channel")
	}
	ch, err := s.inbox.Channel(c.Request().Context(), apiActor(c).OrgID, id)
	if errors.Is(err, model.ErrNotFound) {
		return apiFail(c, http.StatusNotFound, "not_found", "no such channel")
	}
	if err != nil {
		return err
	}
	out := s.channelJSON(ch)
	if out.QR, err = s.qrJSON(c, ch); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"channel": out})
}

// apiSend sends a text or an approved template to a phone through a channel: 202 with the
// queued message; its
// status then moves as the provider reports (message.status events, GET …/messages).
func (s *Server) apiSend(c echo.Context) error {
	var in struct {
		ChannelID int64          `json:"channel_id"`
		To        string         `json:"to"`
		Text      string         `json:"text"`
		Template  *apiTemplateIn `json:"template"`
	}
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return apiFail(c, http.StatusBadRequest, "bad_json", "the body must be JSON like {\"channel_id\":1,\"to\":\"+5511987654321\",\"text\":\"Olá\"}: "+err.Error())
	}
	a := apiActor(c)
	org := c.Get(ctxAPIOrg).(model.Org)
	to, err := phone.Normalize(in.To, org.DefaultCountry)
	if err != nil {
		return apiFail(c, http.StatusUnprocessableEntity, "invalid_phone", err.Error())
	}
	if in.Template != nil {
		if in.Text != "" {
			return apiFail(c, http.StatusUnprocessableEntity, "invalid", "send either text or a template, not both")
		}
		return s.apiSendTemplate(c, a, in.ChannelID, to, *in.Template)
	}
	m, err := s.inbox.SendTo(c.Request().Context(), a, in.ChannelID, to, in.Text)
	var v *model.ValidationError
	switch {
	case errors.Is(err, model.ErrNotFound):
		return apiFail(c, http.StatusNotFound, "not_found", "no such channel")
	case errors.Is(err, inbox.ErrWindowClosed):
		return apiFail(c, http.StatusUnprocessableEntity, "window_closed", "more than 24 hours since the customer's last message: only a template can be sent")
	case errors.As(err, &v):
		return apiFail(c, http.StatusUnprocessableEntity, "invalid", apiInvalid(v))
	case err != nil:
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]any{"message": m})
}

// apiConversations lists the conversations, latest activity first: ?status, ?channel_id,
// ?q; ?after=<next> reads on.
func (s *Server) apiConversations(c echo.Context) error {
	if !apiOnlyParams(c, "status", "channel_id", "q", "after", "limit") {
		return nil
	}
	limit, ok := apiPageLimit(c)
	if !ok {
		return apiFail(c, http.StatusBadRequest, "bad_request", "limit must be a number from 1 to 100")
	}
	var id int64
	if v := c.QueryParam("channel_id"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return apiFail(c, http.StatusBadRequest, "bad_request", "channel_id must be a channel's id")
		}
		id = n
	}
	switch c.QueryParam("status") {
	case "", "open", "pending", "closed":
	default:
		return apiFail(c, http.StatusBadRequest, "bad_request", "status must be open, pending or closed")
	}
	list, next, err := s.inbox.List(c.Request().Context(), apiActor(c), inbox.ListInput{
		View: "all", Status: c.QueryParam("status"), ChannelID: id, Query: c.QueryParam("q"), After: c.QueryParam("after"), Limit: limit})
	var v *model.ValidationError
	if errors.As(err, &v) {
		return apiFail(c, http.StatusBadRequest, "bad_cursor", "the after cursor is not one this API gave")
	}
	if err != nil {
		return err
	}
	if list == nil {
		list = []model.Conversation{}
	}
	var nextOut *string
	if next != "" {
		nextOut = &next
	}
	return c.JSON(http.StatusOK, map[string]any{"conversations": list, "next": nextOut})
}

// apiMessages lists a conversation's messages, newest first; ?after=<next> reads older ones.
func (s *Server) apiMessages(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return apiFail(c, http.StatusNotFound, "not_found", "no such conversation")
	}
	p, ok, err := apiPageOf(c, 50, 100)
	if !ok {
		return err
	}
	a := apiActor(c)
	if _, err := s.inbox.Open(c.Request().Context(), a, id); errors.Is(err, model.ErrNotFound) {
		return apiFail(c, http.StatusNotFound, "not_found", "no such conversation")
	} else if err != nil {
		return err
	}
	msgs, err := s.inbox.ThreadPage(c.Request().Context(), a.OrgID, id, p.After, p.Limit+1)
	if err != nil {
		return err
	}
	msgs, next := apiNext(msgs, p.Limit, func(m model.Message) int64 { return m.ID })
	return c.JSON(http.StatusOK, map[string]any{"messages": msgs, "next": next})
}

// openAPIDoc serves the API's description, for integrators and their tools.
func openAPIDoc(c echo.Context) error {
	return c.Blob(http.StatusOK, "application/yaml", openAPI)
}

// apiChannelCreate connects a channel: {"kind": …, "name": …, "config": {…}} with the same
// fields and checks as the settings page (Cloud API: phone_number_id, waba_id,
// access_token, app_secret, verify_token; Twilio: account_sid, auth_token, from or
// messaging_service_sid). Secrets are sealed and never returned.
func (s *Server) apiChannelCreate(c echo.Context) error {
	var in struct {
		Kind   string            `json:"kind"`
		Name   string            `json:"name"`
		Config map[string]string `json:"config"`
	}
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return apiFail(c, http.StatusBadRequest, "bad_json", `the body must be JSON like {"kind":"twilio_sms","name":"SMS","config":{…}}: `+err.Error())
	}
	if !model.ChannelKindReady(in.Kind) {
		return apiFail(c, http.StatusUnprocessableEntity, "invalid", "kind must be one of whatsapp_cloud, whatsapp_qr, twilio_sms, sandbox")
	}
	v := model.NewValidationError()
	_, config, secrets := channelSettings(func(k string) string { return in.Config[k] }, in.Kind, v)
	var err error = v.Err()
	var ch model.Channel
	if err == nil {
		ch, err = s.inbox.CreateChannel(c.Request().Context(), apiActor(c), in.Kind, in.Name, config, secrets)
	}
	if errors.As(err, &v) {
		return apiFail(c, http.StatusUnprocessableEntity, "invalid", apiInvalid(v))
	}
	if err != nil {
		return err
	}
	if ch.Kind == model.KindWhatsAppQR {
		s.qr.Wake() // its code is then at GET /api/v1/channels/{id}
	}
	return c.JSON(http.StatusCreated, map[string]any{"channel": s.channelJSON(ch)})
}
