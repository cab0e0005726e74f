package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"masteria/app/model"
	"masteria/app/voice/numbers"
	"masteria/views/voice"
)

// voiceNumbersData is the numbers tab: the org's numbers and Twilio accounts, and, when
// Retell answers, its agents and the numbers it has that the org has not added.
func (s *Server) voiceNumbersData(c echo.Context) (voice.NumbersData, error) {
	ctx, a := c.Request().Context(), actorOf(c)
	d := voice.NumbersData{Search: voice.SearchForm{Country: "US", Errors: map[string]string{}}}
	var err error
	if d.Accounts, err = s.numbers.TwilioAccounts(ctx, a); err != nil {
		return d, err
	}
	if len(d.Accounts) > 0 {
		d.Search.ChannelID = d.Accounts[0].ID
	}
	if d.Numbers, err = s.numbers.Numbers(ctx, a); err != nil {
		return d, err
	}
	d.Stuck = map[int64]bool{}
	for _, n := range d.Numbers {
		d.Stuck[n.ID] = numbers.Stuck(n, time.Now())
	}
	agents, err := s.numbers.Agents(ctx, a)
	if err != nil {
		d.AgentsError = i18nT(c, "voice.numbers.no_retell")
		return d, nil
	}
	for _, ag := range agents {
		name := ag.AgentName
		if name == "" {
			name = ag.AgentID
		}
		d.Agents = append(d.Agents, voice.AgentOption{ID: ag.AgentID, Name: name})
	}
	if linkable, err := s.numbers.Linkable(ctx, a); err == nil {
		for _, p := range linkable {
			d.Linkable = append(d.Linkable, p.PhoneNumber)
		}
	}
	return d, nil
}

func (s *Server) voiceNumbersPage(c echo.Context) error {
	d, err := s.voiceNumbersData(c)
	if err != nil {
		return err
	}
	// ?release=id opens that number's release dialog (the way without JavaScript).
	if v := c.QueryParam("release"); v != "" {
		d.Release, _ = strconv.ParseInt(v, 10, 64)
	}
	return render(c, http.StatusOK, voice.NumbersPage(d), voice.NumbersTab(d))
}

// voiceNumbersSearch shows the numbers Twilio offers for the form's account, country and
// area code; bad input comes back with its errors (422).
func (s *Server) voiceNumbersSearch(c echo.Context) error {
	d, err := s.voiceNumbersData(c)
	if err != nil {
		return err
	}
	channelID, err := formID(c, "channel_id")
	if err != nil {
		return err
	}
	in := numbers.SearchInput{ChannelID: channelID, Country: c.FormValue("country"), AreaCode: c.FormValue("area_code")}
	d.Search.ChannelID, d.Search.Country, d.Search.AreaCode = in.ChannelID, strings.ToUpper(strings.TrimSpace(in.Country)), in.AreaCode
	offers, err := s.numbers.Search(c.Request().Context(), actorOf(c), in)
	var v *model.ValidationError
	var se *numbers.StepError
	switch {
	case errors.As(err, &v):
		d.Search.Errors = v.Fields
		return refuseForm(c, voice.NumbersPage(d), voice.NumbersTab(d))
	case errors.As(err, &se):
		d.SearchError = se.Reason
		return render(c, http.StatusOK, voice.NumbersPage(d), voice.NumbersTab(d))
	case err != nil:
		return err
	}
	d.Searched = true
	for _, o := range offers {
		place := strings.Trim(strings.Join([]string{o.Locality, o.Region}, ", "), ", ")
		name := o.FriendlyName
		if name == "" {
			name = o.PhoneNumber
		}
		d.Offers = append(d.Offers, voice.Offer{PhoneNumber: o.PhoneNumber, FriendlyName: name, Place: place})
	}
	return render(c, http.StatusOK, voice.NumbersPage(d), voice.NumbersTab(d))
}

// voiceStepOutcome turns the wizard's answer into a toast and the tab again: a failed
// step is shown on its row (with Continue), not as an error page.
func (s *Server) voiceStepOutcome(c echo.Context, n model.VoiceNumber, err error, okKey string, okArgs ...string) error {
	var v *model.ValidationError
	var se *numbers.StepError
	switch {
	case errors.As(err, &v):
		return echo.NewHTTPError(http.StatusUnprocessableEntity, i18nT(c, firstError(v, "phone_number", "channel_id", "country",
			"inbound_agent_id", "outbound_agent_id", "nickname")))
	case errors.As(err, &se):
		toast(c, "error", "voice.numbers.failed", "step", i18nT(c, "voice.numbers.step."+se.Step), "reason", se.Reason)
	case errors.Is(err, model.ErrConflict):
		toast(c, "error", okKeyConflict(okKey))
	case err != nil:
		return err
	default:
		toast(c, "success", okKey, okArgs...)
	}
	if isHTMX(c) {
		d, derr := s.voiceNumbersData(c)
		if derr != nil {
			return derr
		}
		return render(c, http.StatusOK, voice.NumbersPage(d), voice.NumbersTab(d))
	}
	return redirect(c, orgPath(c, "/settings/voice/numbers"))
}

func okKeyConflict(okKey string) string {
	switch okKey {
	case "voice.numbers.bought", "voice.numbers.linked_ok":
		return "voice.numbers.exists"
	case "voice.numbers.released", "voice.numbers.unlinked":
		return "voice.numbers.release_busy"
	}
	return "voice.numbers.busy"
}

// releasedKey is the toast of a release that finished: a linked number is unlinked.
func releasedKey(n model.VoiceNumber) string {
	if n.Source == "linked" {
		return "voice.numbers.unlinked"
	}
	return "voice.numbers.released"
}

func (s *Server) voiceNumbersBuy(c echo.Context) error {
	channelID, err := formID(c, "channel_id")
	if err != nil {
		return err
	}
	in := numbers.BuyInput{ChannelID: channelID, PhoneNumber: c.FormValue("phone_number"), Country: c.FormValue("country"),
		InboundAgentID: c.FormValue("inbound_agent_id"), OutboundAgentID: c.FormValue("outbound_agent_id"), Nickname: c.FormValue("nickname")}
	n, err := s.numbers.Buy(c.Request().Context(), actorOf(c), in)
	return s.voiceStepOutcome(c, n, err, "voice.numbers.bought", "number", n.PhoneNumber)
}

func (s *Server) voiceNumbersContinue(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	n, err := s.numbers.Continue(c.Request().Context(), actorOf(c), id)
	if numbers.Releasing(n) || n.Status == numbers.Released {
		return s.voiceStepOutcome(c, n, err, releasedKey(n), "number", n.PhoneNumber)
	}
	return s.voiceStepOutcome(c, n, err, "voice.numbers.bought", "number", n.PhoneNumber)
}

// voiceNumbersRelease releases a number (its confirmation is the dialog): from_retell,
// for a linked number, also removes it from Retell.
func (s *Server) voiceNumbersRelease(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	fromRetell := c.FormValue("from_retell") != ""
	n, err := s.numbers.Release(c.Request().Context(), actorOf(c), id, fromRetell)
	return s.voiceStepOutcome(c, n, err, releasedKey(n), "number", n.PhoneNumber)
}

func (s *Server) voiceNumbersAgents(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	n, err := s.numbers.SetAgents(c.Request().Context(), actorOf(c), id, c.FormValue("inbound_agent_id"), c.FormValue("outbound_agent_id"))
	return s.voiceStepOutcome(c, n, err, "voice.numbers.agents_saved")
}

func (s *Server) voiceNumbersLink(c echo.Context) error {
	n, err := s.numbers.Link(c.Request().Context(), actorOf(c), c.FormValue("phone_number"))
	if errors.Is(err, numbers.ErrNotInRetell) {
		return echo.NewHTTPError(http.StatusUnprocessableEntity, i18nT(c, "voice.numbers.not_in_retell"))
	}
	return s.voiceStepOutcome(c, n, err, "voice.numbers.linked_ok", "number", n.PhoneNumber)
}
