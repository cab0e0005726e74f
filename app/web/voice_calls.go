package web

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"masteria/app/model"
	"masteria/app/store"
	"masteria/app/voice/calls"
	"masteria/app/voice/retell"
	voiceview "masteria/views/voice"
)

// maxRetellBody bounds one call event; call_analyzed carries the whole transcript with
// every word's timing, which for a long call is a few hundred kilobytes.
const maxRetellBody = 2 << 20

// retellWebhookRoutes mounts Retell's call events: no session, no CSRF; the account's key
// signs each request (x-retell-signature). The path is fixed, so it is matched before the
// channels' /webhooks/{provider}/{channel}.
func (s *Server) retellWebhookRoutes(e *echo.Echo) {
	e.POST("/webhooks/retell/:account", s.retellWebhook)
}

// retellWebhook answers 404 for an unknown account, 413 for a body too large, 401 for a
// bad or stale signature, 400 for a body that is not an event, and 200 once the event is
// stored (or was already).
func (s *Server) retellWebhook(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("account"), 10, 64)
	if err != nil || id <= 0 || s.calls == nil {
		return echo.NewHTTPError(http.StatusNotFound, "unknown account")
	}
	r := c.Request()
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRetellBody+1))
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "unreadable body")
	}
	if len(body) > maxRetellBody {
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "body too large")
	}
	_, err = s.calls.Ingest(r.Context(), id, r.Header.Get(retell.SignatureHeader), body)
	switch {
	case errors.Is(err, calls.ErrUnknownAccount):
		return echo.NewHTTPError(http.StatusNotFound, "unknown account")
	case errors.Is(err, calls.ErrSignature):
		return echo.NewHTTPError(http.StatusUnauthorized, "wrong signature")
	case errors.Is(err, calls.ErrBadEvent):
		return echo.NewHTTPError(http.StatusBadRequest, "not a call event")
	case store.IsDataError(err):
		// The database refuses the event's data: a retry would fail the same.
		return echo.NewHTTPError(http.StatusBadRequest, "event refused")
	case err != nil:
		return err // 500: Retell retries, and the retry is stored once
	}
	return c.NoContent(http.StatusOK)
}

func (s *Server) apiCallRoutes(api *echo.Group) {
	api.GET("/calls", s.apiCalls)
	api.POST("/calls", s.apiCallStart)
	api.GET("/calls/:id", s.apiCall)
}

// apiCallJSON is a call as the API shows it: the record with its transcript by speaker.
type apiCallJSON struct {
	model.Call
	Turns        []calls.Turn `json:"transcript_turns"`
	RecordingURL string       `json:"recording_url,omitempty"` // our copy, signed
}

// apiCalls lists calls, newest first: contact, conversation, status, direction, from and
// to (RFC 3339 or YYYY-MM-DD); after (the next of the page before), limit (1–200).
func (s *Server) apiCalls(c echo.Context) error {
	pg, ok, err := apiPageOf(c, 50, calls.MaxCalls, "contact", "conversation", "status", "direction", "from", "to")
	if !ok {
		return err
	}
	q := c.QueryParams()
	f := store.CallFilter{Before: pg.After}
	bad := func(field string) error {
		return apiFail(c, http.StatusBadRequest, "invalid", "invalid "+field)
	}
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"contact", &f.ContactID}, {"conversation", &f.ConversationID}} {
		if v := q.Get(p.name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				return bad(p.name)
			}
			*p.dst = n
		}
	}
	switch f.Status = q.Get("status"); f.Status {
	case "", model.CallRegistered, model.CallOngoing, model.CallEnded, model.CallNotConnected, model.CallError:
	default:
		return bad("status")
	}
	switch f.Direction = q.Get("direction"); f.Direction {
	case "", "inbound", "outbound":
	default:
		return bad("direction")
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				if t, err = time.Parse(time.DateOnly, v); err != nil {
					return bad(p.name)
				}
			}
			*p.dst = t
		}
	}
	list, err := s.calls.Calls(c.Request().Context(), apiActor(c).OrgID, f, pg.Limit+1)
	if err != nil {
		return err
	}
	list, next := apiNext(list, pg.Limit, func(k model.Call) int64 { return k.ID })
	out := make([]apiCallJSON, len(list))
	for i, k := range list {
		out[i] = apiCallJSON{Call: k, Turns: calls.Turns(k)}
	}
	return c.JSON(http.StatusOK, map[string]any{"calls": out, "next": next})
}

// apiCall is one call with its transcript; a call of another org is not found.
func (s *Server) apiCall(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return apiFail(c, http.StatusNotFound, "not_found", "no such call")
	}
	ctx := c.Request().Context()
	k, err := s.calls.Call(ctx, apiActor(c).OrgID, id)
	if errors.Is(err, model.ErrNotFound) {
		return apiFail(c, http.StatusNotFound, "not_found", "no such call")
	}
	if err != nil {
		return err
	}
	out := apiCallJSON{Call: k, Turns: calls.Turns(k)}
	if k.RecordingFileID != nil && s.inbox.Media() != nil {
		if m, err := s.inbox.Media().Get(ctx, k.OrgID, *k.RecordingFileID); err == nil {
			out.RecordingURL, _ = s.inbox.Media().SignedURL(ctx, m)
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"call": out})
}

// threadCalls are the conversation's calls that fall within a page of its thread (msgs,
// oldest first): on the newest page every call since the page's first message (all of
// them when there is no older page), on an older page those between its messages.
func (s *Server) threadCalls(ctx context.Context, conv model.Conversation, msgs []model.Message, before, olderID int64) ([]model.Call, error) {
	if s.calls == nil {
		return nil, nil
	}
	all, err := s.calls.OfConversation(ctx, conv.OrgID, conv.ID)
	if err != nil || len(all) == 0 {
		return nil, err
	}
	var out []model.Call
	for _, k := range all {
		switch {
		case len(msgs) == 0:
			if before == 0 {
				out = append(out, k)
			}
		case olderID != 0 && k.CreatedAt.Before(msgs[0].CreatedAt):
		case before != 0 && k.CreatedAt.After(msgs[len(msgs)-1].CreatedAt):
		default:
			out = append(out, k)
		}
	}
	return out, nil
}

// callAnalyticsRoutes mounts the Calls analytics tab of Settings → Voice: managers and up
// (it shows what calls cost, as campaigns' prices do).
func (s *Server) callAnalyticsRoutes(o *echo.Group) {
	o.GET("/settings/voice/analytics", s.callAnalytics, requireMay(model.RunCampaigns))
}

// callAnalytics shows the calls of a period (?from=&to=, YYYY-MM-DD, days in the org's
// time zone; the last 30 days by default). A period that cannot be read or is refused
// shows the default with the reason, answered 422.
func (s *Server) callAnalytics(c echo.Context) error {
	r := reqOf(c)
	zone, err := s.st.OrgTimeZone(c.Request().Context(), r.Org.ID)
	if err != nil {
		return err
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		loc, zone = time.UTC, "UTC"
	}
	today := time.Now().In(loc)
	last, first := today, today.AddDate(0, 0, -29)
	status, errKey := http.StatusOK, ""
	if f, t := c.QueryParam("from"), c.QueryParam("to"); f != "" || t != "" {
		pf, err1 := time.ParseInLocation(time.DateOnly, f, loc)
		pt, err2 := time.ParseInLocation(time.DateOnly, t, loc)
		switch {
		case err1 != nil || err2 != nil:
			status, errKey = http.StatusUnprocessableEntity, "calls.error.period"
		case pt.Before(pf):
			status, errKey = http.StatusUnprocessableEntity, "calls.error.period"
		case pt.Sub(pf) > calls.MaxDays*24*time.Hour:
			status, errKey = http.StatusUnprocessableEntity, "calls.error.period_long"
		default:
			first, last = pf, pt
		}
	}
	rep, err := s.calls.Analytics(c.Request().Context(), r.Org.ID, first, last, zone)
	if err != nil {
		return err
	}
	d := voiceview.AnalyticsData{From: rep.From.Format(time.DateOnly), To: rep.To.Format(time.DateOnly), Zone: rep.Zone, Error: errKey,
		Total: viewStats(rep.Total)}
	for _, st := range rep.Days {
		d.Days = append(d.Days, viewStats(st))
		d.MaxDay = max(d.MaxDay, st.Calls)
	}
	for _, g := range []struct {
		in  []calls.Stats
		out *[]voiceview.Stats
	}{{rep.Agents, &d.Agents}, {rep.Numbers, &d.Numbers}, {rep.Campaigns, &d.Campaigns}} {
		for _, st := range g.in {
			*g.out = append(*g.out, viewStats(st))
		}
	}
	return render(c, status, voiceview.Analytics(d), voiceview.AnalyticsTab(d))
}

func viewStats(s calls.Stats) voiceview.Stats {
	return voiceview.Stats{Key: s.Key, Label: s.Label, Calls: s.Calls, Answered: s.Answered, Voicemail: s.Voicemail,
		DurationMS: s.DurationMS, AvgDurationMS: s.AvgDurationMS, Analysed: s.Analysed, Successful: s.Successful,
		Positive: s.Positive, Neutral: s.Neutral, Negative: s.Negative, CostCents: s.CostCents,
		AnswerRate: s.AnswerRate, VoicemailRate: s.VoicemailRate, Success: s.SuccessRate}
}
