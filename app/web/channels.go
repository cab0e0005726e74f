package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"masteria/app/inbox"
	"masteria/app/model"
)

// channelTest asks the provider whether a channel's settings work; the answer comes back as
// a toast and the channel's status (connected or error) changes on every open page.
func (s *Server) channelTest(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	about, err := s.inbox.TestChannel(c.Request().Context(), actorOf(c), id)
	var ce *inbox.CheckError
	switch {
	case errors.Is(err, model.ErrNotFound):
		return echo.ErrNotFound
	case errors.Is(err, inbox.ErrNoCheck):
		toast(c, "info", "channels.test.nothing")
	case errors.Is(err, inbox.ErrChannelDisconnected):
		toast(c, "error", "channels.test.disconnected")
	case errors.As(err, &ce):
		toast(c, "error", "channels.test.failed", "reason", ce.Reason)
	case err != nil:
		return err
	default:
		toast(c, "success", "channels.test.ok", "about", about)
	}
	if isHTMX(c) {
		return c.NoContent(http.StatusNoContent)
	}
	return redirect(c, orgPath(c, "/settings/channels"))
}

// channelDisconnect stops a channel: its credentials are forgotten, it sends nothing more
// and its webhooks are refused; its conversations stay.
func (s *Server) channelDisconnect(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	ch, err := s.inbox.Channel(c.Request().Context(), reqOf(c).Org.ID, id)
	if errors.Is(err, model.ErrNotFound) {
		return echo.ErrNotFound
	}
	if err != nil {
		return err
	}
	if ch.Kind == model.KindWhatsAppQR { // the phone is unlinked; it may be linked again
		return s.qrDisconnect(c)
	}
	err = s.inbox.DisconnectChannel(c.Request().Context(), actorOf(c), id)
	if errors.Is(err, model.ErrNotFound) {
		return echo.ErrNotFound
	}
	if err != nil {
		return err
	}
	toast(c, "success", "channels.toast.disconnected")
	return redirect(c, orgPath(c, "/settings/channels"))
}
