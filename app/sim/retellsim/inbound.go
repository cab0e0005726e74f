package retellsim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"masteria/app/voice/retell"
)

// SetConcurrencyLimit changes the calls the account may have at once (0: no limit), as
// buying or releasing concurrency does. Calls running over the new limit, the newest first,
// are ended now with concurrency_limit_reached: a call PlayCall is playing sends its
// call_ended and call_analyzed at once (not_connected when it had not started), and a
// registered call nobody plays gets them from the sim.
func (s *Server) SetConcurrencyLimit(limit int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.concurrency = limit
	if limit <= 0 {
		return
	}
	var live []string
	for _, id := range s.callOrder {
		if c, ok := s.calls[id]; ok && (c.CallStatus == retell.StatusRegistered || c.CallStatus == retell.StatusOngoing) {
			live = append(live, id)
		}
	}
	if len(live) <= limit {
		return
	}
	for _, id := range live[limit:] {
		if cut, ok := s.playing[id]; ok {
			delete(s.playing, id)
			close(cut)
			continue
		}
		c := *s.calls[id]
		s.wg.Go(func() { s.endNow(c) })
	}
}

// endNow ends a call nobody plays, over the concurrency limit, and sends its events.
func (s *Server) endNow(c retell.Call) {
	s.mu.Lock()
	url, key := s.webhook, ""
	if len(s.keys) > 0 {
		key = s.keys[0]
	}
	s.mu.Unlock()
	for _, ev := range cutShort(c, c.CallStatus == retell.StatusOngoing, s.now()) {
		s.apply(ev)
		if url == "" {
			continue
		}
		if _, err := s.deliver(s.ctx, url, key, 0, ev); err != nil {
			return
		}
	}
}

// inboundAgent is the agent a number answers with (the heaviest), or "".
func inboundAgent(p retell.PhoneNumber) string {
	best, w := "", -1.0
	for _, a := range p.InboundAgents {
		if a.Weight > w {
			best, w = a.AgentID, a.Weight
		}
	}
	return best
}

// ReceiveCall plays a call that Retell received: someone (sc.FromNumber) calls one of the
// account's numbers (sc.ToNumber), which answers with its inbound agent. When the number
// has an inbound_webhook_url, Retell first asks it ({"event":"call_inbound",
// "call_inbound":{agent_id, from_number, to_number}}, signed) and takes the agent,
// dynamic variables and metadata of its answer ({"call_inbound":{override_agent_id,
// dynamic_variables, metadata}}); a failed answer keeps the number's agent. Over the
// concurrency limit the call is not connected (concurrency_limit_reached). The events go
// to the webhook as PlayCall sends them; the call id is returned.
func (s *Server) ReceiveCall(ctx context.Context, sc CallScript) (string, error) {
	s.mu.Lock()
	var num *retell.PhoneNumber
	for i := range s.numbers {
		if s.numbers[i].PhoneNumber == sc.ToNumber {
			num = &s.numbers[i]
		}
	}
	if num == nil {
		s.mu.Unlock()
		return "", fmt.Errorf("retellsim: %s is not a number of the account", sc.ToNumber)
	}
	agent, hook := inboundAgent(*num), num.InboundWebhookURL
	full := s.concurrency > 0 && s.liveCalls() >= s.concurrency
	key := ""
	if len(s.keys) > 0 {
		key = s.keys[0]
	}
	s.mu.Unlock()
	if !e164.MatchString(sc.FromNumber) {
		return "", fmt.Errorf("retellsim: caller %q is not E.164", sc.FromNumber)
	}
	if hook != "" {
		if o, ok := s.askInbound(ctx, hook, key, agent, sc.FromNumber, sc.ToNumber); ok {
			if o.OverrideAgentID != "" {
				agent = o.OverrideAgentID
			}
			if o.DynamicVariables != nil {
				sc.Variables = o.DynamicVariables
			}
			if len(o.Metadata) > 0 {
				sc.Metadata = o.Metadata
			}
		}
	}
	if agent == "" {
		return "", fmt.Errorf("retellsim: %s has no inbound agent", sc.ToNumber)
	}
	sc.CallID, sc.Direction = "", "inbound"
	if sc.AgentID == "" {
		sc.AgentID = agent
	}
	if full {
		sc.Kind, sc.Reason = KindNoAnswer, retell.ReasonConcurrencyLimit
	}
	return s.PlayCall(ctx, sc)
}

// inboundOverride is the answer of a number's inbound webhook.
type inboundOverride struct {
	OverrideAgentID  string            `json:"override_agent_id"`
	DynamicVariables map[string]string `json:"dynamic_variables"`
	Metadata         json.RawMessage   `json:"metadata"`
}

// askInbound posts the inbound-call webhook, retried like the call events.
func (s *Server) askInbound(ctx context.Context, url, key, agent, from, to string) (inboundOverride, bool) {
	in := map[string]string{"from_number": from, "to_number": to}
	if agent != "" {
		in["agent_id"] = agent
	}
	body, _ := json.Marshal(map[string]any{"event": "call_inbound", "call_inbound": in})
	for attempt := 1; attempt <= 4; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return inboundOverride{}, false
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(retell.SignatureHeader, retell.Sign(body, key, s.now()))
		resp, err := s.client.Do(req)
		if err == nil {
			var out struct {
				CallInbound inboundOverride `json:"call_inbound"`
			}
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
			resp.Body.Close()
			if resp.StatusCode >= 200 && resp.StatusCode < 300 {
				if err := json.Unmarshal(b, &out); err != nil {
					return inboundOverride{}, false
				}
				return out.CallInbound, true
			}
		}
		select {
		case <-time.After(s.retryDelay):
		case <-ctx.Done():
			return inboundOverride{}, false
		}
	}
	return inboundOverride{}, false
}
