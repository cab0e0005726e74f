package web

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"masteria/app/channel"
	"masteria/app/model"
	"masteria/app/store"
)

// maxWebhookBody bounds a provider's notification; Meta's are a few kilobytes.
const maxWebhookBody = 1 << 20

// webhookRoutes mounts the providers' webhooks: no session, no CSRF; each request proves
// itself with the channel's own secret. Each channel kind registers its webhook in the
// channel registry (whatsapp: the Cloud API, twilio: SMS), so no provider is named here.
func (s *Server) webhookRoutes(e *echo.Echo) {
	e.GET("/webhooks/:provider/:channel", s.webhookHandshake)
	e.POST("/webhooks/:provider/:channel", s.webhook)
}

// webhookChannel finds the webhook of the URL's provider and its channel, of the kind the
// webhook serves, with its opened secrets; fresh reads them from the database rather than
// from the short-lived cache.
func (s *Server) webhookChannel(c echo.Context, fresh bool) (channel.Webhook, model.Channel, map[string]string, error) {
	notFound := echo.NewHTTPError(http.StatusNotFound, "unknown channel")
	hook, ok := s.inbox.Registry().Webhook(c.Param("provider"))
	id, err := strconv.ParseInt(c.Param("channel"), 10, 64)
	if !ok || err != nil || id <= 0 {
		return nil, model.Channel{}, nil, notFound
	}
	ch, secrets, err := s.inbox.WebhookChannel(c.Request().Context(), id, fresh)
	// A disconnected channel has no secret left to check a signature with: it is gone.
	if errors.Is(err, model.ErrNotFound) || (err == nil && (ch.Kind != hook.Kind() || ch.Status == model.ChannelDisconnected)) {
		return nil, ch, nil, notFound
	}
	return hook, ch, secrets, err
}

// webhookHandshake answers a provider's subscription handshake (Meta's verify token).
func (s *Server) webhookHandshake(c echo.Context) error {
	hook, _, secrets, err := s.webhookChannel(c, true)
	if err != nil {
		return err
	}
	answer, err := hook.Handshake(c.QueryParams(), secrets)
	switch {
	case errors.Is(err, channel.ErrNoHandshake):
		return echo.NewHTTPError(http.StatusMethodNotAllowed, "no handshake")
	case err != nil:
		return echo.NewHTTPError(http.StatusForbidden, "wrong verify token")
	}
	return c.String(http.StatusOK, answer)
}

// webhook takes a provider's notification: 404 for an unknown channel, 413 for a body
// too large, 401 for a wrong signature, 400 for a body that is not a notification; then
// every message is stored once and every status applied before the provider's answer.
// Each message is its own transaction: one the database refuses for its data is skipped
// (a retry would fail the same), and the rest of the batch is kept.
func (s *Server) webhook(c echo.Context) error {
	hook, ch, secrets, err := s.webhookChannel(c, false)
	if err != nil {
		return err
	}
	r := c.Request()
	body, err := io.ReadAll(io.LimitReader(r.Body, maxWebhookBody+1))
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "unreadable body")
	}
	if len(body) > maxWebhookBody {
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "body too large")
	}
	req := channel.WebhookRequest{Query: c.QueryParams(), Header: r.Header, Body: body, URL: s.cfg.BaseURL + r.URL.RequestURI()}
	if !hook.Verify(req, secrets) {
		// The secret may have changed since it was cached: check the stored one.
		if _, ch, secrets, err = s.webhookChannel(c, true); err != nil {
			return err
		}
		if !hook.Verify(req, secrets) {
			return echo.NewHTTPError(http.StatusUnauthorized, "wrong signature")
		}
	}
	batch, err := hook.Parse(req)
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	ctx := r.Context()
	for _, m := range batch.Messages {
		if _, err := s.inbox.Receive(ctx, ch, m); store.IsDataError(err) {
			slog.Warn("webhook: message skipped", "channel", ch.ID, "id", m.ProviderID, "err", err)
		} else if err != nil {
			return err // 500: the provider retries, and the retry is stored once
		}
	}
	for _, st := range batch.Statuses {
		if err := s.inbox.Status(ctx, ch, st); store.IsDataError(err) {
			slog.Warn("webhook: status skipped", "channel", ch.ID, "id", st.ProviderID, "err", err)
		} else if err != nil {
			return err
		}
	}
	// Account notices go to the inbox when it takes them; one that fails does not keep the
	// others from being delivered, and a failure that is not the data's asks for a retry.
	if nr, ok := any(s.inbox).(channel.NoticeReceiver); ok {
		var retry error
		for _, n := range batch.Notices {
			if err := nr.Notice(ctx, ch, n); store.IsDataError(err) {
				slog.Warn("webhook: notice skipped", "channel", ch.ID, "kind", n.Kind, "err", err)
			} else if err != nil && retry == nil {
				retry = err
			}
		}
		if retry != nil {
			return retry
		}
	}
	rep := batch.Reply
	if rep.Status == 0 {
		rep.Status = http.StatusOK
	}
	if len(rep.Body) == 0 {
		return c.NoContent(rep.Status)
	}
	return c.Blob(rep.Status, rep.ContentType, rep.Body)
}
