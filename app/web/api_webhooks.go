package web

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"masteria/app/hooks"
	"masteria/app/model"
	"masteria/app/store"
)

const (
	noSuchEndpoint = "no such webhook endpoint"
	noSuchDelivery = "no such delivery"
)

func (s *Server) apiWebhookRoutes(api *echo.Group) {
	api.GET("/webhook-endpoints", s.apiWebhookEndpoints)
	api.POST("/webhook-endpoints", s.apiWebhookCreate)
	api.GET("/webhook-endpoints/:id", s.apiWebhookEndpoint)
	api.PATCH("/webhook-endpoints/:id", s.apiWebhookUpdate)
	api.DELETE("/webhook-endpoints/:id", s.apiWebhookDelete)
	api.POST("/webhook-endpoints/:id/rotate", s.apiWebhookRotate)
	api.POST("/webhook-endpoints/:id/test", s.apiWebhookTest)
	api.GET("/webhook-endpoints/:id/deliveries", s.apiWebhookDeliveries)
	api.POST("/webhook-endpoints/:id/deliveries/:delivery_id/replay", s.apiWebhookReplay)
	api.POST("/webhook-endpoints/:id/replay", s.apiWebhookReplayRange)
}

// apiWebhookFail answers a refusal of the webhooks service in the API's shape.
func apiWebhookFail(c echo.Context, err error, notFound string) error {
	var v *model.ValidationError
	switch {
	case errors.Is(err, model.ErrForbidden):
		return apiFail(c, http.StatusForbidden, "forbidden", "only owners and admins may manage webhooks")
	case errors.Is(err, model.ErrNotFound):
		return apiFail(c, http.StatusNotFound, "not_found", notFound)
	case errors.Is(err, hooks.ErrDisabled):
		return apiFail(c, http.StatusConflict, "disabled", "the endpoint is disabled: enable it first")
	case errors.Is(err, model.ErrConflict):
		return apiFail(c, http.StatusConflict, "conflict", "the delivery is being sent right now")
	case errors.As(err, &v):
		fields := make(map[string]string, len(v.Fields))
		for f, k := range v.Fields {
			fields[f] = apiFieldText(k)
		}
		return c.JSON(http.StatusUnprocessableEntity, apiFieldsError{Error: apiFieldsErrorBody{Code: "invalid",
			Message: "some fields are not valid: " + apiInvalid(v), Fields: fields}})
	}
	return err
}

func (s *Server) apiWebhookEndpoints(c echo.Context) error {
	a := apiActor(c)
	p, ok, err := apiPageOf(c, 50, 100)
	if !ok {
		return err
	}
	es, err := s.hooks.Endpoints(c.Request().Context(), a, p.After, p.Limit+1)
	if err != nil {
		return apiWebhookFail(c, err, noSuchEndpoint)
	}
	es, next := apiNext(es, p.Limit, func(e model.WebhookEndpoint) int64 { return e.ID })
	return c.JSON(http.StatusOK, map[string]any{"webhook_endpoints": es, "next": next})
}

type apiWebhookIn struct {
	URL         *string   `json:"url"`
	Description *string   `json:"description"`
	EventTypes  *[]string `json:"event_types"`
	AllEvents   *bool     `json:"all_events"`
	Enabled     *bool     `json:"enabled"`
}

const webhookExample = `{"url":"https://example.com/hooks","event_types":["contact.created"]}`

func (s *Server) apiWebhookCreate(c echo.Context) error {
	a := apiActor(c)
	var in apiWebhookIn
	if ok, err := apiNumberBody(c, &in, webhookExample); !ok {
		return err
	}
	if in.Enabled != nil {
		return apiFail(c, http.StatusBadRequest, "bad_json", "a new endpoint is enabled: leave enabled out")
	}
	hin := hooks.Input{}
	if in.URL != nil {
		hin.URL = *in.URL
	}
	if in.Description != nil {
		hin.Description = *in.Description
	}
	if in.EventTypes != nil {
		hin.EventTypes = *in.EventTypes
	}
	if in.AllEvents != nil {
		hin.AllEvents = *in.AllEvents
	}
	cr, err := s.hooks.Create(c.Request().Context(), a, hin)
	if err != nil {
		return apiWebhookFail(c, err, noSuchEndpoint)
	}
	return c.JSON(http.StatusCreated, map[string]any{"webhook_endpoint": cr.Endpoint, "secret": cr.Secret})
}

func (s *Server) apiWebhookEndpoint(c echo.Context) error {
	a := apiActor(c)
	id, ok := apiPathID(c, "id")
	if !ok {
		return apiFail(c, http.StatusNotFound, "not_found", noSuchEndpoint)
	}
	e, err := s.hooks.Endpoint(c.Request().Context(), a, id)
	if err != nil {
		return apiWebhookFail(c, err, noSuchEndpoint)
	}
	return c.JSON(http.StatusOK, map[string]any{"webhook_endpoint": e})
}

func (s *Server) apiWebhookUpdate(c echo.Context) error {
	a := apiActor(c)
	id, ok := apiPathID(c, "id")
	if !ok {
		return apiFail(c, http.StatusNotFound, "not_found", noSuchEndpoint)
	}
	var in apiWebhookIn
	if ok, err := apiNumberBody(c, &in, `{"enabled":false}`); !ok {
		return err
	}
	ctx := c.Request().Context()
	e, err := s.hooks.Endpoint(ctx, a, id)
	if err != nil {
		return apiWebhookFail(c, err, noSuchEndpoint)
	}
	if in.URL != nil || in.Description != nil || in.EventTypes != nil || in.AllEvents != nil {
		hin := hooks.Input{URL: e.URL, Description: e.Description, EventTypes: e.EventTypes, AllEvents: e.AllEvents}
		if in.URL != nil {
			hin.URL = *in.URL
		}
		if in.Description != nil {
			hin.Description = *in.Description
		}
		if in.EventTypes != nil {
			hin.EventTypes, hin.AllEvents = *in.EventTypes, false
		}
		if in.AllEvents != nil {
			hin.AllEvents = *in.AllEvents
		}
		if e, err = s.hooks.Update(ctx, a, id, hin); err != nil {
			return apiWebhookFail(c, err, noSuchEndpoint)
		}
	}
	if in.Enabled != nil && *in.Enabled != e.Enabled {
		if e, err = s.hooks.SetEnabled(ctx, a, id, *in.Enabled); err != nil {
			return apiWebhookFail(c, err, noSuchEndpoint)
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"webhook_endpoint": e})
}

func (s *Server) apiWebhookDelete(c echo.Context) error {
	a := apiActor(c)
	id, ok := apiPathID(c, "id")
	if !ok {
		return apiFail(c, http.StatusNotFound, "not_found", noSuchEndpoint)
	}
	if err := s.hooks.Delete(c.Request().Context(), a, id); err != nil {
		return apiWebhookFail(c, err, noSuchEndpoint)
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) apiWebhookRotate(c echo.Context) error {
	a := apiActor(c)
	id, ok := apiPathID(c, "id")
	if !ok {
		return apiFail(c, http.StatusNotFound, "not_found", noSuchEndpoint)
	}
	var in struct {
		OverlapHours *float64 `json:"overlap_hours"`
	}
	// The body is optional.
	raw, err := io.ReadAll(io.LimitReader(c.Request().Body, maxNumberBody+1))
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(raw)) > 0 {
		c.Request().Body = io.NopCloser(bytes.NewReader(raw))
		if ok, err := apiNumberBody(c, &in, `{"overlap_hours":24}`); !ok {
			return err
		}
	}
	var overlap time.Duration
	if in.OverlapHours != nil {
		if *in.OverlapHours <= 0 || *in.OverlapHours > 168 {
			return c.JSON(http.StatusUnprocessableEntity, apiFieldsError{Error: apiFieldsErrorBody{Code: "invalid",
				Message: "overlap_hours must be more than 0 and at most 168", Fields: map[string]string{"overlap_hours": "is not valid"}}})
		}
		overlap = time.Duration(*in.OverlapHours * float64(time.Hour))
	}
	r, err := s.hooks.Rotate(c.Request().Context(), a, id, overlap)
	if err != nil {
		return apiWebhookFail(c, err, noSuchEndpoint)
	}
	return c.JSON(http.StatusOK, map[string]any{"secret": r.Secret, "previous_secrets_expire_at": r.OldExpires.UTC()})
}

func (s *Server) apiWebhookTest(c echo.Context) error {
	a := apiActor(c)
	id, ok := apiPathID(c, "id")
	if !ok {
		return apiFail(c, http.StatusNotFound, "not_found", noSuchEndpoint)
	}
	d, err := s.hooks.Test(c.Request().Context(), a, id)
	if err != nil {
		return apiWebhookFail(c, err, noSuchEndpoint)
	}
	return c.JSON(http.StatusOK, map[string]any{"delivery": d})
}

func (s *Server) apiWebhookDeliveries(c echo.Context) error {
	a := apiActor(c)
	id, ok := apiPathID(c, "id")
	if !ok {
		return apiFail(c, http.StatusNotFound, "not_found", noSuchEndpoint)
	}
	p, ok, err := apiPageOf(c, 50, 100, "status", "event_type")
	if !ok {
		return err
	}
	f := store.WebhookDeliveryFilter{State: c.QueryParam("status"), EventType: c.QueryParam("event_type"), BeforeID: p.After, Limit: p.Limit + 1}
	switch f.State {
	case "", "pending", "delivered", "failed":
	default:
		return c.JSON(http.StatusUnprocessableEntity, apiFieldsError{Error: apiFieldsErrorBody{Code: "invalid",
			Message: "status must be pending, delivered or failed", Fields: map[string]string{"status": "is not a delivery status"}}})
	}
	if len(f.EventType) > 100 {
		return c.JSON(http.StatusUnprocessableEntity, apiFieldsError{Error: apiFieldsErrorBody{Code: "invalid",
			Message: "event_type is too long", Fields: map[string]string{"event_type": "is not an event type"}}})
	}
	ds, err := s.hooks.Deliveries(c.Request().Context(), a, id, f)
	if err != nil {
		return apiWebhookFail(c, err, noSuchEndpoint)
	}
	ds, next := apiNext(ds, p.Limit, func(d model.WebhookDelivery) int64 { return d.ID })
	return c.JSON(http.StatusOK, map[string]any{"deliveries": ds, "next": next})
}

func (s *Server) apiWebhookReplay(c echo.Context) error {
	a := apiActor(c)
	id, ok := apiPathID(c, "id")
	if !ok {
		return apiFail(c, http.StatusNotFound, "not_found", noSuchEndpoint)
	}
	did, ok := apiPathID(c, "delivery_id")
	if !ok {
		return apiFail(c, http.StatusNotFound, "not_found", noSuchDelivery)
	}
	d, err := s.hooks.Replay(c.Request().Context(), a, id, did)
	if err != nil {
		if errors.Is(err, model.ErrNotFound) {
			if _, eerr := s.hooks.Endpoint(c.Request().Context(), a, id); eerr == nil {
				return apiFail(c, http.StatusNotFound, "not_found", noSuchDelivery)
			}
		}
		return apiWebhookFail(c, err, noSuchEndpoint)
	}
	return c.JSON(http.StatusAccepted, map[string]any{"delivery": d})
}

func (s *Server) apiWebhookReplayRange(c echo.Context) error {
	a := apiActor(c)
	id, ok := apiPathID(c, "id")
	if !ok {
		return apiFail(c, http.StatusNotFound, "not_found", noSuchEndpoint)
	}
	var in struct {
		From time.Time `json:"from"`
		To   time.Time `json:"to"`
	}
	if ok, err := apiNumberBody(c, &in, `{"from":"2026-01-01T00:00:00Z","to":"2026-01-02T00:00:00Z"}`); !ok {
		return err
	}
	n, err := s.hooks.ReplayRange(c.Request().Context(), a, id, in.From, in.To)
	if err != nil {
		return apiWebhookFail(c, err, noSuchEndpoint)
	}
	return c.JSON(http.StatusAccepted, map[string]any{"replayed": n})
}
