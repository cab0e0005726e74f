package retellsim

import (
	"encoding/json"
	"net/http"
	"strings"

	"masteria/app/voice/retell"
)

// pageOf returns up to limit items after the one whose key is after (exclusive), and whether
// more follow.
func pageOf[T any](items []T, keyOf func(T) string, after string, limit int) ([]T, bool) {
	start := 0
	if after != "" {
		start = len(items)
		for i, it := range items {
			if keyOf(it) == after {
				start = i + 1
				break
			}
		}
	}
	end := min(start+limit, len(items))
	return items[start:end], end < len(items)
}

type listPage[T any] struct {
	Items         []T    `json:"items"`
	HasMore       bool   `json:"has_more"`
	PaginationKey string `json:"pagination_key,omitempty"`
}

func agentKey(a retell.Agent) string        { return a.AgentID }
func numberKey(p retell.PhoneNumber) string { return p.PhoneNumber }

// newAgent is an agent as the new list shows it.
type newAgent struct {
	AgentID      string         `json:"agent_id"`
	AgentName    string         `json:"agent_name"`
	Channel      string         `json:"channel"`
	Tags         map[string]any `json:"tags"`
	UserModified int64          `json:"user_modified_timestamp"`
}

// oldAgent is an agent as GET /list-agents showed it.
type oldAgent struct {
	AgentID          string         `json:"agent_id"`
	AgentName        string         `json:"agent_name,omitempty"`
	Version          int            `json:"version"`
	VoiceID          string         `json:"voice_id"`
	ResponseEngine   map[string]any `json:"response_engine"`
	LastModification int64          `json:"last_modification_timestamp"`
}

func toOld(a retell.Agent) oldAgent {
	v := a.Version
	if v == 0 {
		v = 1
	}
	return oldAgent{AgentID: a.AgentID, AgentName: a.AgentName, Version: v, VoiceID: a.VoiceID,
		ResponseEngine:   map[string]any{"type": "retell-llm", "llm_id": "llm_" + strings.TrimPrefix(a.AgentID, "agent_")},
		LastModification: a.LastModification}
}

func (s *Server) handleListAgents(w http.ResponseWriter, r *http.Request) {
	if s.oldOnly {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	// Paging is read from the query only; the body carries nothing but filter_criteria.
	var body map[string]json.RawMessage
	if r.ContentLength != 0 {
		if !decode(w, r, &body) {
			return
		}
	}
	for k := range body {
		if k != "filter_criteria" {
			writeError(w, http.StatusBadRequest, "Unknown field in body: "+k)
			return
		}
	}
	var filter struct {
		Channel *struct {
			Op    string `json:"op"`
			Value string `json:"value"`
		} `json:"channel"`
		Query string `json:"query"`
	}
	if f, ok := body["filter_criteria"]; ok {
		if err := json.Unmarshal(f, &filter); err != nil {
			writeError(w, http.StatusBadRequest, "Invalid filter_criteria")
			return
		}
	}
	limit, ok := limitOf(r, 1000)
	if !ok {
		writeError(w, http.StatusBadRequest, "limit must be between 1 and 1000")
		return
	}
	s.mu.Lock()
	var agents []retell.Agent
	for _, a := range s.agents {
		if filter.Channel != nil && filter.Channel.Op == "eq" && a.Channel != filter.Channel.Value {
			continue
		}
		if filter.Query != "" && !strings.Contains(strings.ToLower(a.AgentName), strings.ToLower(filter.Query)) {
			continue
		}
		agents = append(agents, a)
	}
	s.mu.Unlock()
	items, more := pageOf(agents, agentKey, r.URL.Query().Get("pagination_key"), limit)
	out := listPage[newAgent]{Items: []newAgent{}, HasMore: more}
	for _, a := range items {
		out.Items = append(out.Items, newAgent{AgentID: a.AgentID, AgentName: a.AgentName, Channel: a.Channel,
			Tags: map[string]any{}, UserModified: a.UserModified})
	}
	if more {
		out.PaginationKey = items[len(items)-1].AgentID
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleListAgentsOld(w http.ResponseWriter, r *http.Request) {
	limit, ok := limitOf(r, 1000)
	if !ok {
		writeError(w, http.StatusBadRequest, "limit must be between 1 and 1000")
		return
	}
	s.mu.Lock()
	agents := append([]retell.Agent(nil), s.agents...)
	s.mu.Unlock()
	items, _ := pageOf(agents, agentKey, r.URL.Query().Get("pagination_key"), limit)
	out := []oldAgent{}
	for _, a := range items {
		out = append(out, toOld(a))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleGetAgent(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.agents {
		if a.AgentID == id {
			writeJSON(w, http.StatusOK, toOld(a))
			return
		}
	}
	writeError(w, http.StatusNotFound, "Agent not found")
}

func (s *Server) handleImport(w http.ResponseWriter, r *http.Request) {
	var in retell.ImportPhoneNumber
	if !decode(w, r, &in) {
		return
	}
	switch {
	case !e164.MatchString(in.PhoneNumber):
		writeError(w, http.StatusBadRequest, "phone_number must be in E.164 format")
		return
	case in.TerminationURI == "":
		writeError(w, http.StatusBadRequest, "termination_uri is required")
		return
	case in.Transport != "" && in.Transport != "TLS" && in.Transport != "TCP" && in.Transport != "UDP":
		writeError(w, http.StatusBadRequest, "transport must be TLS, TCP or UDP")
		return
	}
	for _, set := range [][]retell.AgentWeight{in.InboundAgents, in.OutboundAgents} {
		sum := 0.0
		for _, a := range set {
			sum += a.Weight
		}
		if len(set) > 0 && (sum < 0.999 || sum > 1.001) {
			writeError(w, http.StatusBadRequest, "agent weights must sum to 1")
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, set := range [][]retell.AgentWeight{in.InboundAgents, in.OutboundAgents} {
		for _, a := range set {
			if !s.hasAgent(a.AgentID) {
				writeError(w, http.StatusBadRequest, "Agent not found: "+a.AgentID)
				return
			}
		}
	}
	for _, p := range s.numbers {
		if p.PhoneNumber == in.PhoneNumber {
			writeError(w, http.StatusBadRequest, "Phone number already exists")
			return
		}
	}
	transport := in.Transport
	if transport == "" {
		transport = "TCP"
	}
	p := retell.PhoneNumber{PhoneNumber: in.PhoneNumber, PhoneNumberPretty: pretty(in.PhoneNumber), PhoneNumberType: "custom",
		Nickname: in.Nickname, InboundAgents: in.InboundAgents, OutboundAgents: in.OutboundAgents, InboundWebhookURL: in.InboundWebhookURL,
		SIPOutboundTrunk: &retell.SIPOutboundTrunk{TerminationURI: in.TerminationURI, AuthUsername: in.SIPTrunkAuthUsername, Transport: transport},
		LastModification: s.now().UnixMilli()}
	s.numbers = append(s.numbers, p)
	s.imports = append(s.imports, in)
	s.changes.Notify()
	writeJSON(w, http.StatusCreated, p)
}

func (s *Server) hasAgent(id string) bool {
	for _, a := range s.agents {
		if a.AgentID == id {
			return true
		}
	}
	return false
}

// pretty writes a US number as +1 (415) 777-4444 and leaves others as they are.
func pretty(n string) string {
	if len(n) == 12 && strings.HasPrefix(n, "+1") {
		return "+1 (" + n[2:5] + ") " + n[5:8] + "-" + n[8:]
	}
	return n
}

func (s *Server) handleListNumbers(w http.ResponseWriter, r *http.Request) {
	if s.oldOnly {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	limit, ok := limitOf(r, 50)
	if !ok {
		writeError(w, http.StatusBadRequest, "limit must be between 1 and 1000")
		return
	}
	s.mu.Lock()
	nums := append([]retell.PhoneNumber(nil), s.numbers...)
	s.mu.Unlock()
	items, more := pageOf(nums, numberKey, r.URL.Query().Get("pagination_key"), limit)
	out := listPage[retell.PhoneNumber]{Items: append([]retell.PhoneNumber{}, items...), HasMore: more}
	if more {
		out.PaginationKey = items[len(items)-1].PhoneNumber
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleListNumbersOld(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	nums := append([]retell.PhoneNumber{}, s.numbers...)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, nums)
}

func (s *Server) handleGetNumber(w http.ResponseWriter, r *http.Request) {
	n := r.PathValue("number")
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.numbers {
		if p.PhoneNumber == n {
			writeJSON(w, http.StatusOK, p)
			return
		}
	}
	writeError(w, http.StatusNotFound, "Phone number not found")
}

func (s *Server) handleDeleteNumber(w http.ResponseWriter, r *http.Request) {
	n := r.PathValue("number")
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, p := range s.numbers {
		if p.PhoneNumber == n {
			s.numbers = append(s.numbers[:i], s.numbers[i+1:]...)
			s.changes.Notify()
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	writeError(w, http.StatusNotFound, "Phone number not found")
}

// outboundAgent is the agent a number calls out with (the heaviest), or "".
func outboundAgent(p retell.PhoneNumber) string {
	best, w := "", -1.0
	for _, a := range p.OutboundAgents {
		if a.Weight > w {
			best, w = a.AgentID, a.Weight
		}
	}
	return best
}

func (s *Server) handleCreateCall(w http.ResponseWriter, r *http.Request) {
	var in retell.CreatePhoneCall
	if !decode(w, r, &in) {
		return
	}
	if !e164.MatchString(in.FromNumber) || (!in.IgnoreE164Validation && !e164.MatchString(in.ToNumber)) || in.ToNumber == "" {
		writeError(w, http.StatusBadRequest, "from_number and to_number must be in E.164 format")
		return
	}
	if len(in.Metadata) > 0 && !strings.HasPrefix(strings.TrimSpace(string(in.Metadata)), "{") {
		writeError(w, http.StatusBadRequest, "metadata must be an object")
		return
	}
	s.mu.Lock()
	var from *retell.PhoneNumber
	for i := range s.numbers {
		if s.numbers[i].PhoneNumber == in.FromNumber {
			from = &s.numbers[i]
		}
	}
	if from == nil {
		s.mu.Unlock()
		writeError(w, http.StatusUnprocessableEntity, "Item from_number "+in.FromNumber+" not found")
		return
	}
	agentID := in.OverrideAgentID
	if agentID == "" {
		agentID = outboundAgent(*from)
	}
	if agentID == "" {
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, "No outbound agent is set for "+in.FromNumber)
		return
	}
	if !s.hasAgent(agentID) {
		s.mu.Unlock()
		writeError(w, http.StatusUnprocessableEntity, "Item agent "+agentID+" not found")
		return
	}
	if s.concurrency > 0 && s.liveCalls() >= s.concurrency {
		s.mu.Unlock()
		writeError(w, http.StatusTooManyRequests, "Concurrency limit reached")
		return
	}
	c := &retell.Call{CallID: NewID("call_"), CallType: "phone_call", AgentID: agentID, AgentVersion: 1, AgentName: s.agentName(agentID),
		CallStatus: retell.StatusRegistered, Direction: "outbound", FromNumber: in.FromNumber, ToNumber: in.ToNumber,
		Metadata: in.Metadata, DynamicVariables: in.DynamicVariables, CustomSIPHeaders: in.CustomSIPHeaders}
	s.calls[c.CallID] = c
	s.callOrder = append(s.callOrder, c.CallID)
	auto := s.autoPlay
	out := *c
	s.changes.Notify()
	s.mu.Unlock()
	if auto != nil {
		sc := *auto
		sc.CallID = c.CallID
		s.wg.Go(func() {
			if _, err := s.PlayCall(s.ctx, sc); err != nil {
				s.log.Warn("retellsim: auto play", "call", sc.CallID, "err", err)
			}
		})
	}
	writeJSON(w, http.StatusCreated, out)
}

// liveCalls counts registered and ongoing calls; the caller holds s.mu.
func (s *Server) liveCalls() int {
	n := 0
	for _, c := range s.calls {
		if c.CallStatus == retell.StatusRegistered || c.CallStatus == retell.StatusOngoing {
			n++
		}
	}
	return n
}

func (s *Server) agentName(id string) string {
	for _, a := range s.agents {
		if a.AgentID == id {
			return a.AgentName
		}
	}
	return ""
}

func (s *Server) handleGetCall(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	c, ok := s.calls[id]
	var out retell.Call
	if ok {
		out = *c
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, s.unknownCall, "Item "+id+" not found")
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleDeleteCall(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.calls[id]; !ok {
		writeError(w, s.unknownCall, "Item "+id+" not found")
		return
	}
	delete(s.calls, id)
	s.changes.Notify()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleBatch(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name             string            `json:"name"`
		FromNumber       string            `json:"from_number"`
		Tasks            []json.RawMessage `json:"tasks"`
		TriggerTimestamp int64             `json:"trigger_timestamp"`
		CallTimeWindow   json.RawMessage   `json:"call_time_window,omitempty"`
	}
	if !decode(w, r, &in) {
		return
	}
	if !e164.MatchString(in.FromNumber) || len(in.Tasks) == 0 {
		writeError(w, http.StatusBadRequest, "from_number and tasks are required")
		return
	}
	at := in.TriggerTimestamp
	if at == 0 {
		at = s.now().UnixMilli()
	}
	out := map[string]any{"batch_call_id": NewID("batch_call_"), "name": in.Name, "from_number": in.FromNumber,
		"scheduled_timestamp": at, "total_task_count": len(in.Tasks)}
	if len(in.CallTimeWindow) > 0 {
		out["call_time_window"] = in.CallTimeWindow
	}
	b, _ := json.Marshal(out)
	s.mu.Lock()
	s.batches = append(s.batches, b)
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) handleConcurrency(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	limit, cur := s.concurrency, s.liveCalls()
	s.mu.Unlock()
	if limit == 0 {
		limit = 20
	}
	writeJSON(w, http.StatusOK, map[string]any{"concurrency_limit": limit, "base_concurrency": limit, "purchased_concurrency": 0,
		"current_concurrency": cur, "concurrency_purchase_limit": 100, "remaining_purchase_limit": 100,
		"concurrency_burst_enabled": false, "concurrency_burst_limit": 0, "reserved_inbound_concurrency": 0})
}
