package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"masteria/app/model"
	"masteria/views/campaigns"
)

// Call campaigns in the builder: a voice number is a channel ("v" and its id in the
// channel_id field), and its message step is the agent and the calling settings.

// campaignChannelOf reads the channel step's choice: a messaging channel's id, or "v" and
// a voice number's id; blank chooses none.
func campaignChannelOf(v string) (channelID, numberID *int64, err error) {
	if rest, ok := strings.CutPrefix(v, "v"); ok {
		id, err := campaignFormID(rest)
		if err != nil || id == 0 {
			return nil, nil, echo.NewHTTPError(http.StatusBadRequest, "bad voice number id")
		}
		return nil, &id, nil
	}
	id, err := campaignFormID(v)
	if err != nil || id == 0 {
		return nil, nil, err
	}
	return &id, nil, nil
}

func sameID(a, b *int64) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

// callBuildData loads the voice numbers that can call, and for a call campaign's message
// step the Retell agents and the org's limit of calls at once.
func (s *Server) callBuildData(c echo.Context, d *campaigns.BuildData) error {
	ctx := c.Request().Context()
	a := actorOf(c)
	nums, err := s.st.VoiceNumbers(ctx, a.OrgID)
	if err != nil {
		return err
	}
	for _, n := range nums {
		chosen := d.Campaign.VoiceNumberID != nil && *d.Campaign.VoiceNumberID == n.ID
		if (n.Status == model.NumberReady && n.OutboundAgentID != "") || chosen {
			d.VoiceNumbers = append(d.VoiceNumbers, n)
		}
	}
	for i := range d.VoiceNumbers {
		if d.Campaign.VoiceNumberID != nil && d.VoiceNumbers[i].ID == *d.Campaign.VoiceNumberID {
			d.VoiceNumber = &d.VoiceNumbers[i]
		}
	}
	if d.Step != campaigns.StepMessage || !d.Campaign.Voice() {
		return nil
	}
	if d.MaxConcurrent, err = s.camp.MaxConcurrent(ctx, a); err != nil {
		return err
	}
	// The builder is for those who run campaigns, not only for the org's admins: the agents
	// are listed with the org's Retell client (their names are no secret).
	if s.voice == nil {
		d.AgentsFailed = true
		return nil
	}
	client, _, err := s.voice.Client(ctx, a.OrgID)
	if err == nil {
		agents, lerr := client.ListAgents(ctx)
		err = lerr
		for _, ag := range agents {
			d.Agents = append(d.Agents, campaigns.AgentOption{ID: ag.AgentID, Name: ag.AgentName})
		}
	}
	if err != nil {
		d.AgentsFailed = true
		c.Logger().Warnf("campaigns: list Retell agents: %v", err)
	}
	return nil
}

// callMessageOf reads a call campaign's message step: the agent, calls at once, the retry
// delay and attempts. An agent Retell does not list is refused.
func (s *Server) callMessageOf(c echo.Context, f url.Values, in *model.Campaign) *model.ValidationError {
	v := model.NewValidationError()
	in.Message = model.CampaignMessage{AgentID: strings.TrimSpace(f.Get("agent_id"))}
	num := func(name string, dst *int) {
		raw := strings.TrimSpace(f.Get(name))
		if raw == "" {
			return
		}
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 { // blank keeps the default; zero is not one
			v.Add(name, "campaigns.call.error."+map[string]string{"concurrency": "concurrency", "retry_minutes": "retry",
				"call_attempts": "attempts"}[name])
			return
		}
		*dst = n
	}
	num("concurrency", &in.Settings.Concurrency)
	num("retry_minutes", &in.Settings.RetryMinutes)
	num("call_attempts", &in.Settings.CallAttempts)
	if in.Message.AgentID != "" && s.voice != nil {
		d := campaigns.BuildData{Campaign: *in, Step: campaigns.StepMessage}
		if err := s.callBuildData(c, &d); err == nil && !d.AgentsFailed {
			found := false
			for _, ag := range d.Agents {
				found = found || ag.ID == in.Message.AgentID
			}
			if !found {
				v.Add("agent_id", "campaigns.call.error.agent")
			}
		}
	}
	var out *model.ValidationError
	if errors.As(v.Err(), &out) {
		return out
	}
	return nil
}
