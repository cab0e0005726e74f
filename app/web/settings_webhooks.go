package web

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"masteria/app/hooks"
	"masteria/app/model"
	"masteria/app/store"
	"masteria/views/settings"
)

// webhookPageRoutes are Settings → Webhooks (owners and admins: adm).
func (s *Server) webhookPageRoutes(adm *echo.Group) {
	adm.GET("/settings/webhooks", s.webhooksPage)
	adm.POST("/settings/webhooks", s.webhookCreate)
	adm.GET("/settings/webhooks/:id", s.webhookPage)
	adm.POST("/settings/webhooks/:id", s.webhookSave)
	adm.POST("/settings/webhooks/:id/test", s.webhookTest)
	adm.POST("/settings/webhooks/:id/rotate", s.webhookRotate)
	adm.POST("/settings/webhooks/:id/enable", s.webhookEnable)
	adm.POST("/settings/webhooks/:id/disable", s.webhookDisable)
	adm.POST("/settings/webhooks/:id/delete", s.webhookDelete)
	adm.POST("/settings/webhooks/:id/deliveries/:delivery/replay", s.webhookReplay)
	adm.POST("/settings/webhooks/:id/replay", s.webhookReplayRange)
}

// eventAreas is the catalogue grouped for the form.
func eventAreas() []settings.EventArea {
	as := hooks.Areas()
	out := make([]settings.EventArea, len(as))
	for i, a := range as {
		out[i].Key = a.Key
		for _, d := range a.Events {
			out[i].Events = append(out[i].Events, settings.EventOption{Name: d.Name, Description: d.Description})
		}
	}
	return out
}

// webhookInput reads the endpoint form.
func webhookInput(c echo.Context) (hooks.Input, settings.WebhookForm, error) {
	form, err := c.FormParams()
	if err != nil {
		return hooks.Input{}, settings.WebhookForm{}, err
	}
	in := hooks.Input{URL: form.Get("url"), Description: form.Get("description"), EventTypes: form["event_types"],
		AllEvents: form.Get("all_events") != ""}
	f := settings.WebhookForm{URL: in.URL, Description: in.Description, AllEvents: in.AllEvents, EventTypes: map[string]bool{}}
	for _, t := range in.EventTypes {
		f.EventTypes[t] = true
	}
	return in, f, nil
}

func formOf(e model.WebhookEndpoint) settings.WebhookForm {
	f := settings.WebhookForm{URL: e.URL, Description: e.Description, AllEvents: e.AllEvents, EventTypes: map[string]bool{}}
	for _, t := range e.EventTypes {
		f.EventTypes[t] = true
	}
	return f
}

func (s *Server) webhooksData(c echo.Context) (settings.WebhooksData, error) {
	es, err := s.hooks.Endpoints(c.Request().Context(), actorOf(c), 0, 200)
	if err != nil {
		return settings.WebhooksData{}, err
	}
	return settings.WebhooksData{Endpoints: es, Areas: eventAreas(), AllowHTTP: s.cfg.WebhooksAllowPrivate,
		Form: settings.WebhookForm{EventTypes: map[string]bool{}}, ShowForm: c.QueryParam("new") != ""}, nil
}

func (s *Server) webhooksPage(c echo.Context) error {
	d, err := s.webhooksData(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, settings.Webhooks(d), nil)
}

func (s *Server) webhookCreate(c echo.Context) error {
	in, f, err := webhookInput(c)
	if err != nil {
		return err
	}
	cr, err := s.hooks.Create(c.Request().Context(), actorOf(c), in)
	var v *model.ValidationError
	if err != nil && !errors.As(err, &v) {
		return err
	}
	d, derr := s.webhooksData(c)
	if derr != nil {
		return derr
	}
	if v != nil {
		f.Errors, d.Form, d.ShowForm = v.Fields, f, true
		return refuseForm(c, settings.Webhooks(d), nil)
	}
	// Shown once, in this response: only the sealed secret is kept.
	d.NewSecret, d.NewEndpoint = cr.Secret, cr.Endpoint
	toast(c, "success", "hooks.created")
	return render(c, http.StatusOK, settings.Webhooks(d), nil)
}

// webhookData loads an endpoint's page: the endpoint, its form and its log (filters from
// the query string).
func (s *Server) webhookData(c echo.Context) (settings.WebhookData, error) {
	id, err := paramID(c, "id")
	if err != nil {
		return settings.WebhookData{}, err
	}
	ctx, a := c.Request().Context(), actorOf(c)
	e, err := s.hooks.Endpoint(ctx, a, id)
	if err != nil {
		return settings.WebhookData{}, err
	}
	d := settings.WebhookData{Endpoint: e, Areas: eventAreas(), Form: formOf(e), Replayed: -1}
	d.State, d.EventType = c.QueryParam("status"), c.QueryParam("event_type")
	switch d.State {
	case "", "pending", "delivered", "failed":
	default:
		d.State = ""
	}
	if len(d.EventType) > 100 {
		d.EventType = ""
	}
	before, _ := strconv.ParseInt(c.QueryParam("before"), 10, 64)
	const page = 50
	d.Deliveries, err = s.hooks.Deliveries(ctx, a, id, store.WebhookDeliveryFilter{State: d.State, EventType: d.EventType,
		BeforeID: max(before, 0), Limit: page})
	if err != nil {
		return d, err
	}
	if len(d.Deliveries) == page {
		d.Next = d.Deliveries[page-1].ID
	}
	return d, nil
}

func (s *Server) webhookPage(c echo.Context) error {
	d, err := s.webhookData(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, settings.Webhook(d), nil)
}

func (s *Server) webhookSave(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	in, f, err := webhookInput(c)
	if err != nil {
		return err
	}
	_, err = s.hooks.Update(c.Request().Context(), actorOf(c), id, in)
	var v *model.ValidationError
	if err != nil && !errors.As(err, &v) {
		return err
	}
	if v != nil {
		d, derr := s.webhookData(c)
		if derr != nil {
			return derr
		}
		f.Errors, d.Form = v.Fields, f
		return refuseForm(c, settings.Webhook(d), nil)
	}
	toast(c, "success", "hooks.saved")
	return redirect(c, orgPath(c, "/settings/webhooks/"+strconv.FormatInt(id, 10)))
}

func (s *Server) webhookTest(c echo.Context) error {
	d, err := s.webhookData(c)
	if err != nil {
		return err
	}
	t, err := s.hooks.Test(c.Request().Context(), actorOf(c), d.Endpoint.ID)
	if err != nil {
		return err
	}
	if d, err = s.webhookData(c); err != nil { // the log now holds the ping
		return err
	}
	d.Test = &t
	return render(c, http.StatusOK, settings.Webhook(d), nil)
}

func (s *Server) webhookRotate(c echo.Context) error {
	d, err := s.webhookData(c)
	if err != nil {
		return err
	}
	r, err := s.hooks.Rotate(c.Request().Context(), actorOf(c), d.Endpoint.ID, 0)
	if err != nil {
		return err
	}
	d.NewSecret, d.OldExpires = r.Secret, r.OldExpires
	toast(c, "success", "hooks.rotated")
	return render(c, http.StatusOK, settings.Webhook(d), nil)
}

func (s *Server) webhookSetEnabled(c echo.Context, on bool) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	if _, err := s.hooks.SetEnabled(c.Request().Context(), actorOf(c), id, on); err != nil {
		return err
	}
	if on {
		toast(c, "success", "hooks.enabled")
	} else {
		toast(c, "success", "hooks.disabled")
	}
	return redirect(c, orgPath(c, "/settings/webhooks/"+strconv.FormatInt(id, 10)))
}

func (s *Server) webhookEnable(c echo.Context) error  { return s.webhookSetEnabled(c, true) }
func (s *Server) webhookDisable(c echo.Context) error { return s.webhookSetEnabled(c, false) }

func (s *Server) webhookDelete(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	if err := s.hooks.Delete(c.Request().Context(), actorOf(c), id); err != nil {
		return err
	}
	toast(c, "success", "hooks.deleted")
	return redirect(c, orgPath(c, "/settings/webhooks"))
}

func (s *Server) webhookReplay(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	did, err := paramID(c, "delivery")
	if err != nil {
		return err
	}
	if _, err := s.hooks.Replay(c.Request().Context(), actorOf(c), id, did); err != nil {
		if errors.Is(err, hooks.ErrDisabled) || errors.Is(err, model.ErrConflict) {
			toast(c, "warning", "hooks.replay_refused")
			return redirect(c, orgPath(c, "/settings/webhooks/"+strconv.FormatInt(id, 10)))
		}
		return err
	}
	toast(c, "success", "hooks.replayed")
	return redirect(c, orgPath(c, "/settings/webhooks/"+strconv.FormatInt(id, 10)))
}

// webhookReplayRange sends again the deliveries created between two local times (in the
// org's time zone).
func (s *Server) webhookReplayRange(c echo.Context) error {
	d, err := s.webhookData(c)
	if err != nil {
		return err
	}
	loc := time.UTC
	if tz, err := s.st.OrgTimeZone(c.Request().Context(), d.Endpoint.OrgID); err == nil && tz != "" {
		if l, err := time.LoadLocation(tz); err == nil {
			loc = l
		}
	}
	d.RangeFrom, d.RangeTo = c.FormValue("from"), c.FormValue("to")
	from, ferr := time.ParseInLocation("2006-01-02T15:04", d.RangeFrom, loc)
	to, terr := time.ParseInLocation("2006-01-02T15:04", d.RangeTo, loc)
	if ferr != nil || terr != nil || !from.Before(to) {
		d.RangeError = "hooks.error.range"
		return refuseForm(c, settings.Webhook(d), nil)
	}
	n, err := s.hooks.ReplayRange(c.Request().Context(), actorOf(c), d.Endpoint.ID, from, to)
	if err != nil {
		if errors.Is(err, hooks.ErrDisabled) {
			toast(c, "warning", "hooks.replay_refused")
			return redirect(c, orgPath(c, "/settings/webhooks/"+strconv.FormatInt(d.Endpoint.ID, 10)))
		}
		return err
	}
	toastN(c, "success", "hooks.replayed_n", int(n))
	return redirect(c, orgPath(c, "/settings/webhooks/"+strconv.FormatInt(d.Endpoint.ID, 10)))
}
