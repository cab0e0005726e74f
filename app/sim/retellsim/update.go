package retellsim

import (
	"net/http"

	"masteria/app/voice/retell"
)

// handleUpdateNumber is PATCH /update-phone-number/{number}: the fields sent replace the
// number's (the numbers wizard changes inbound_agents and outbound_agents); agents must
// exist and weights sum to 1, as on import.
func (s *Server) handleUpdateNumber(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Nickname       *string               `json:"nickname"`
		InboundAgents  *[]retell.AgentWeight `json:"inbound_agents"`
		OutboundAgents *[]retell.AgentWeight `json:"outbound_agents"`
	}
	if !decode(w, r, &in) {
		return
	}
	for _, set := range []*[]retell.AgentWeight{in.InboundAgents, in.OutboundAgents} {
		if set == nil {
			continue
		}
		sum := 0.0
		for _, a := range *set {
			sum += a.Weight
		}
		if len(*set) > 0 && (sum < 0.999 || sum > 1.001) {
			writeError(w, http.StatusBadRequest, "agent weights must sum to 1")
			return
		}
	}
	n := r.PathValue("number")
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, set := range []*[]retell.AgentWeight{in.InboundAgents, in.OutboundAgents} {
		if set == nil {
			continue
		}
		for _, a := range *set {
			if !s.hasAgent(a.AgentID) {
				writeError(w, http.StatusBadRequest, "Agent not found: "+a.AgentID)
				return
			}
		}
	}
	for i := range s.numbers {
		p := &s.numbers[i]
		if p.PhoneNumber != n {
			continue
		}
		if in.Nickname != nil {
			p.Nickname = *in.Nickname
		}
		if in.InboundAgents != nil {
			p.InboundAgents = *in.InboundAgents
		}
		if in.OutboundAgents != nil {
			p.OutboundAgents = *in.OutboundAgents
		}
		p.LastModification = s.now().UnixMilli()
		s.changes.Notify()
		writeJSON(w, http.StatusOK, *p)
		return
	}
	writeError(w, http.StatusNotFound, "Phone number not found")
}
