package web

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"masteria/app/channel"
	"masteria/app/model"
	"masteria/app/phone"
	inboxview "masteria/views/inbox"
)

// wameowRoutes mounts the connect page of WhatsApp QR channels (admins, like the other
// channel settings).
func (s *Server) wameowRoutes(o *echo.Group) {
	adm := o.Group("", requireMay(model.ManageChannels))
	adm.GET("/settings/channels/:id/connect", s.qrConnectPage)
	adm.POST("/settings/channels/:id/pair", s.qrPair)
	// POST /settings/channels/:id/disconnect is channelDisconnect's (channels.go), which
	// hands QR channels to qrDisconnect.
}

// qrChannel is the QR channel the URL names; any other channel is not found.
func (s *Server) qrChannel(c echo.Context) (model.Channel, error) {
	id, err := paramID(c, "id")
	if err != nil {
		return model.Channel{}, err
	}
	ch, err := s.inbox.Channel(c.Request().Context(), reqOf(c).Org.ID, id)
	if err != nil {
		return ch, err
	}
	if ch.Kind != model.KindWhatsAppQR {
		return ch, model.ErrNotFound
	}
	return ch, nil
}

// qrConnectData reads what the connect page shows: the code while pairing, the number
// once connected.
func (s *Server) qrConnectData(c echo.Context, ch model.Channel) (inboxview.QRConnectData, error) {
	d := inboxview.QRConnectData{Channel: ch}
	var cfg struct {
		Phone string `json:"phone"`
	}
	_ = channel.Config(ch, &cfg)
	d.Phone = phone.Format(cfg.Phone, reqOf(c).Org.DefaultCountry)
	if ch.Status != "pending" {
		return d, nil
	}
	q, err := s.qr.QR(c.Request().Context(), ch.OrgID, ch.ID)
	if errors.Is(err, model.ErrNotFound) {
		return d, nil // none yet: the page waits for channel.qr
	}
	if err != nil {
		return d, err
	}
	path, size, err := s.qr.DrawQR(q.Code)
	if err != nil {
		return d, err
	}
	d.QRPath, d.QRSize, d.ExpiresAt = path, size, q.ExpiresAt
	return d, nil
}

func (s *Server) qrConnectPage(c echo.Context) error {
	ch, err := s.qrChannel(c)
	if err != nil {
		return err
	}
	d, err := s.qrConnectData(c, ch)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, inboxview.QRConnect(d), inboxview.QRPanel(d))
}

// qrPair asks for a new code after the last ones expired or the number was disconnected.
func (s *Server) qrPair(c echo.Context) error {
	ch, err := s.qrChannel(c)
	if err != nil {
		return err
	}
	if _, err := s.qr.Pair(c.Request().Context(), actorOf(c), ch.ID); err != nil {
		return err
	}
	return redirect(c, orgPath(c, fmt.Sprintf("/settings/channels/%d/connect", ch.ID)))
}

// qrDisconnect unlinks the number: the session's instance logs the device out.
func (s *Server) qrDisconnect(c echo.Context) error {
	ch, err := s.qrChannel(c)
	if err != nil {
		return err
	}
	if _, err := s.qr.Disconnect(c.Request().Context(), actorOf(c), ch.ID); err != nil {
		return err
	}
	toast(c, "success", "qr.toast.disconnected", "name", ch.Name)
	return redirect(c, orgPath(c, fmt.Sprintf("/settings/channels/%d/connect", ch.ID)))
}

// apiQR is the pairing state of a QR channel in GET /api/v1/channels/{id}.
type apiQR struct {
	Phone     string     `json:"phone,omitempty"`
	Code      string     `json:"code,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// qrJSON is the pairing code an integration shows (or renders itself) while the channel
// waits to be scanned, and the linked number once it is connected.
func (s *Server) qrJSON(c echo.Context, ch model.Channel) (*apiQR, error) {
	if ch.Kind != model.KindWhatsAppQR {
		return nil, nil
	}
	out := &apiQR{}
	var cfg struct {
		Phone string `json:"phone"`
	}
	_ = channel.Config(ch, &cfg)
	if ch.Status == "connected" {
		out.Phone = cfg.Phone
		return out, nil
	}
	if ch.Status != "pending" {
		return out, nil
	}
	q, err := s.qr.QR(c.Request().Context(), ch.OrgID, ch.ID)
	if errors.Is(err, model.ErrNotFound) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	out.Code, out.ExpiresAt = q.Code, &q.ExpiresAt
	return out, nil
}
