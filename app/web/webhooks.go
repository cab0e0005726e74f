package web

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"masteria/app/channel/meta"
	"masteria/app/channel/twilio"
	"masteria/app/inbox"
	"masteria/app/model"
	"masteria/app/store"
)

// maxWebhookBody bounds a provider's notification; Meta's are a few kilobytes.
const maxWebhookBody = 1 << 20

// webhookRoutes mounts the providers' webhooks: no session, no CSRF; each request proves
// itself with the channel's own secret.
func (s *Server) webhookRoutes(e *echo.Echo) {
	e.GET("/webhooks/whatsapp/:channel", s.whatsappVerify)
	e.POST("/webhooks/whatsapp/:channel", s.whatsappWebhook)
	e.POST("/webhooks/twilio/:channel", s.twilioWebhook)
}

// webhookChannel finds the channel of a webhook URL, of the expected kind, with its opened
// secrets; fresh reads them from the database rather than from the short-lived cache.
func (s *Server) webhookChannel(c echo.Context, kind string, fresh bool) (model.Channel, map[string]string, error) {
	id, err := strconv.ParseInt(c.Param("channel"), 10, 64)
	if err != nil || id <= 0 {
		return model.Channel{}, nil, echo.NewHTTPError(http.StatusNotFound, "unknown channel")
	}
	ch, secrets, err := s.inbox.WebhookChannel(c.Request().Context(), id, fresh)
	// A disconnected channel has no secret left to check a signature with: it is gone.
	if errors.Is(err, model.ErrNotFound) || (err == nil && (ch.Kind != kind || ch.Status == model.ChannelDisconnected)) {
		return ch, nil, echo.NewHTTPError(http.StatusNotFound, "unknown channel")
	}
	return ch, secrets, err
}

// whatsappVerify answers Meta's subscription handshake: the challenge back when the verify
// token matches the channel's.
func (s *Server) whatsappVerify(c echo.Context) error {
	_, secrets, err := s.webhookChannel(c, model.KindWhatsAppCloud, true)
	if err != nil {
		return err
	}
	token := c.QueryParam("hub.verify_token")
	if c.QueryParam("hub.mode") != "subscribe" || secrets["verify_token"] == "" ||
		subtle.ConstantTimeCompare([]byte(token), []byte(secrets["verify_token"])) != 1 {
		return echo.NewHTTPError(http.StatusForbidden, "wrong verify token")
	}
	return c.String(http.StatusOK, c.QueryParam("hub.challenge"))
}

// whatsappWebhook takes Meta's notifications: 404 for an unknown channel, 413 for a body
// too large, 401 for a wrong signature, 400 for a body that is not a notification; then
// every message is stored once and every status applied, before answering 200.
func (s *Server) whatsappWebhook(c echo.Context) error {
	ch, secrets, err := s.webhookChannel(c, model.KindWhatsAppCloud, false)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, maxWebhookBody+1))
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "unreadable body")
	}
	if len(body) > maxWebhookBody {
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "body too large")
	}
	sig := c.Request().Header.Get("X-Hub-Signature-256")
	if !meta.VerifySignature(body, sig, secrets["app_secret"]) {
		// The app secret may have changed since it was cached: check the stored one.
		if ch, secrets, err = s.webhookChannel(c, model.KindWhatsAppCloud, true); err != nil {
			return err
		}
		if !meta.VerifySignature(body, sig, secrets["app_secret"]) {
			return echo.NewHTTPError(http.StatusUnauthorized, "wrong signature")
		}
	}
	batch, err := meta.Parse(body)
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	ctx := c.Request().Context()
	for _, m := range batch.Messages {
		in := inbox.Inbound{From: m.From, UserID: m.UserID, ParentUserID: m.ParentUserID, Username: m.Username,
			Name: m.Name, ProviderID: m.ID, Kind: m.Type, Body: m.Body, Content: json.RawMessage(m.Content), At: m.At,
			SharedPhone: m.SharedPhone}
		if m.System != nil {
			in.NewPhone, in.NewUserID, in.NewParentUserID = m.System.NewPhone, m.System.NewUserID, m.System.NewParentUserID
		}
		// Each message is its own transaction: one the database refuses for its data is
		// skipped (a retry would fail the same), and the rest of the batch is kept.
		if _, err := s.inbox.Receive(ctx, ch, in); store.IsDataError(err) {
			slog.Warn("whatsapp webhook: message skipped", "channel", ch.ID, "id", m.ID, "err", err)
		} else if err != nil {
			return err // 500: Meta retries, and the retry is stored once
		}
	}
	for _, st := range batch.Statuses {
		if err := s.inbox.ApplyStatus(ctx, ch, st.ID, st.Status, st.ErrorCode, st.ErrorTitle); store.IsDataError(err) {
			slog.Warn("whatsapp webhook: status skipped", "channel", ch.ID, "id", st.ID, "err", err)
		} else if err != nil {
			return err
		}
	}
	if len(batch.Messages)+len(batch.Statuses) == 0 {
		slog.Debug("whatsapp webhook without messages or statuses", "channel", ch.ID)
	}
	return c.NoContent(http.StatusOK)
}

// twilioWebhook takes Twilio's inbound SMS and status callbacks: 404 for an unknown
// channel, 401 for a wrong X-Twilio-Signature (computed over the public URL Twilio was
// given), 400 for a form that is not a message webhook. An inbound STOP/SAIR/PARAR or
// START/VOLTAR also changes the contact's SMS opt-out.
func (s *Server) twilioWebhook(c echo.Context) error {
	ch, secrets, err := s.webhookChannel(c, model.KindTwilioSMS, false)
	if err != nil {
		return err
	}
	r := c.Request()
	r.Body = http.MaxBytesReader(c.Response(), r.Body, maxWebhookBody)
	if err := r.ParseForm(); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "unreadable form")
	}
	fullURL := s.cfg.BaseURL + r.URL.RequestURI()
	sig := r.Header.Get("X-Twilio-Signature")
	if !twilio.VerifySignature(secrets["auth_token"], fullURL, r.PostForm, sig) {
		// The auth token may have changed since it was cached: check the stored one.
		if ch, secrets, err = s.webhookChannel(c, model.KindTwilioSMS, true); err != nil {
			return err
		}
		if !twilio.VerifySignature(secrets["auth_token"], fullURL, r.PostForm, sig) {
			return echo.NewHTTPError(http.StatusUnauthorized, "wrong signature")
		}
	}
	in, st, err := twilio.Parse(r.PostForm)
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	ctx := r.Context()
	if st != nil {
		if status := twilio.Status(st.Status); status != "" {
			if err := s.inbox.ApplyStatus(ctx, ch, st.SID, status, st.ErrorCode, ""); err != nil {
				return err
			}
		}
		return c.NoContent(http.StatusNoContent)
	}
	content := map[string]any{}
	if len(in.Media) > 0 {
		content["media"] = in.Media
	}
	b, _ := json.Marshal(content)
	got, err := s.inbox.Receive(ctx, ch, inbox.Inbound{From: in.From, ProviderID: in.SID, Kind: "text", Body: in.Body, Content: b})
	if err != nil {
		return err
	}
	if kw := twilio.Keyword(in.Body); kw != "" && !got.Duplicate {
		if err := s.inbox.Keyword(ctx, ch, got.ContactID, kw == "stop"); err != nil {
			return err
		}
	}
	// An empty TwiML answer: no automatic reply (Twilio's own opt-out handling answers STOP).
	return c.Blob(http.StatusOK, "text/xml", []byte(`<?xml version="1.0" encoding="UTF-8"?><Response></Response>`))
}
