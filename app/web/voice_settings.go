package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"masteria/app/model"
	"masteria/app/voice"
	"masteria/app/voice/dial"
	"masteria/app/voice/retell"
	views "masteria/views/voice"
)

// voiceRoutes are Settings → Voice → Retell, for those who may manage the org (g).
func (s *Server) voiceRoutes(g *echo.Group) {
	g.GET("/settings/voice", s.voicePage)
	g.POST("/settings/voice", s.voiceSave)
	g.POST("/settings/voice/test", s.voiceTest)
}

// voiceData is the Retell tab of the org, with no key in it; with agents, it lists the
// account's agents from Retell.
func (s *Server) voiceData(c echo.Context, agents bool) (views.RetellData, error) {
	ctx := c.Request().Context()
	d := views.RetellData{Status: "untested", MaxConcurrent: 5, Errors: map[string]string{},
		CallHoursStart: dial.DefaultHours.Start, CallHoursEnd: dial.DefaultHours.End, CallDays: dial.DefaultHours.Days}
	acc, err := s.voice.Account(ctx, actorOf(c).OrgID)
	switch {
	case errors.Is(err, model.ErrNotFound):
		return d, nil
	case err != nil:
		return d, err
	}
	d.Connected, d.AccountID = acc.KeySealed != "", acc.ID
	d.Status, d.LastError, d.TestedAt, d.MaxConcurrent = acc.Status, acc.LastError, acc.TestedAt, acc.MaxConcurrent
	d.CallHoursStart, d.CallHoursEnd, d.CallDays = acc.CallHoursStart, acc.CallHoursEnd, acc.CallDays
	d.WebhookURL = strings.TrimRight(s.cfg.BaseURL, "/") + voice.WebhookPath(acc.ID)
	if agents && d.Connected {
		list, err := s.voice.Agents(ctx, actorOf(c))
		var re *retell.Error
		switch {
		case errors.As(err, &re):
			d.AgentsError = re.Error()
		case err != nil:
			return d, err
		default:
			d.Agents, d.AgentsLoaded = viewAgents(list), true
		}
	}
	return d, nil
}

func viewAgents(list []retell.Agent) []views.Agent {
	out := make([]views.Agent, 0, len(list))
	for _, a := range list {
		ch := a.Channel
		if ch == "" {
			ch = "voice"
		}
		out = append(out, views.Agent{ID: a.AgentID, Name: a.AgentName, Channel: ch})
	}
	return out
}

func (s *Server) voicePage(c echo.Context) error {
	d, err := s.voiceData(c, true)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.Retell(d), nil)
}

// voiceSave saves a new key (then tests it at once) and the calls allowed at once. A blank
// key keeps the saved one.
func (s *Server) voiceSave(c echo.Context) error {
	ctx, a := c.Request().Context(), actorOf(c)
	key := c.FormValue("key")
	bad := map[string]string{}
	n, err := strconv.Atoi(strings.TrimSpace(c.FormValue("max_concurrent")))
	if err != nil || n < 1 || n > voice.MaxConcurrentMax {
		bad["max_concurrent"] = "voice.retell.error.max_concurrent"
	}
	d, err := s.voiceData(c, false)
	if err != nil {
		return err
	}
	hours, hoursSent := callHoursForm(c)
	if hoursSent && !(dial.Hours{Start: hours.Start, End: hours.End, Days: hours.Days}).Valid() {
		bad["call_hours"] = "voice.hours.error"
	}
	if strings.TrimSpace(key) == "" && !d.Connected {
		bad["key"] = "form.error.required"
	}
	if len(bad) == 0 && strings.TrimSpace(key) != "" {
		_, err = s.voice.Connect(ctx, a, key)
		var v *model.ValidationError
		switch {
		case errors.As(err, &v):
			for f, k := range v.Fields {
				bad[f] = k
			}
		case err != nil:
			return err
		}
	}
	if len(bad) > 0 {
		d.MaxConcurrent, d.Errors = n, bad
		if hoursSent {
			d.CallHoursStart, d.CallHoursEnd, d.CallDays = hours.Start, hours.End, hours.Days
		}
		return refuseForm(c, views.Retell(d), nil)
	}
	if err := s.voice.SetMaxConcurrent(ctx, a, n); err != nil {
		return err
	}
	if hoursSent {
		if err := s.voice.SetCallHours(ctx, a, hours.Start, hours.End, hours.Days); err != nil {
			return err
		}
	}
	if strings.TrimSpace(key) != "" {
		res, err := s.voice.Test(ctx, a)
		if err != nil {
			return err
		}
		if res.OK {
			toast(c, "success", "voice.retell.connected")
		} else {
			toast(c, "error", "voice.retell.test_failed", "reason", res.Message)
		}
	} else {
		toast(c, "success", "voice.retell.saved")
	}
	return redirect(c, orgPath(c, "/settings/voice"))
}

// callHoursForm reads the calling hours of the Retell form; false when the form had none
// (the account was not connected yet). A value that is not a number makes the hours invalid.
func callHoursForm(c echo.Context) (dial.Hours, bool) {
	form, _ := c.FormParams()
	if _, ok := form["call_hours_start"]; !ok {
		return dial.Hours{}, false
	}
	h := dial.Hours{Start: -1}
	var err1, err2 error
	h.Start, err1 = strconv.Atoi(form.Get("call_hours_start"))
	h.End, err2 = strconv.Atoi(form.Get("call_hours_end"))
	if err1 != nil || err2 != nil {
		return dial.Hours{Start: -1}, true
	}
	for _, v := range form["call_days"] {
		d, err := strconv.Atoi(v)
		if err != nil || d < 0 || d > 6 {
			return dial.Hours{Start: -1}, true
		}
		h.Days |= 1 << d
	}
	return h, true
}

// voiceTest lists the agents with the saved key and shows the outcome as a toast.
func (s *Server) voiceTest(c echo.Context) error {
	res, err := s.voice.Test(c.Request().Context(), actorOf(c))
	if err != nil {
		return err
	}
	if res.OK {
		toast(c, "success", "voice.retell.test_ok", "count", strconv.Itoa(len(res.Agents)))
	} else {
		toast(c, "error", "voice.retell.test_failed", "reason", res.Message)
	}
	if c.Request().Header.Get("HX-Request") == "true" {
		d, err := s.voiceData(c, true)
		if err != nil {
			return err
		}
		return render(c, http.StatusOK, views.Retell(d), views.RetellSection(d))
	}
	return redirect(c, orgPath(c, "/settings/voice"))
}
