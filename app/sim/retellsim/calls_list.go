package retellsim

import (
	"bytes"
	"cmp"
	"encoding/json"
	"net/http"
	"slices"

	"masteria/app/voice/retell"
)

// callQuery is what a list-calls request asks for, read from either version's body.
type callQuery struct {
	statuses, directions, agents []string
	lo, hi                       int64 // start_timestamp in [lo, hi]; hi 0 for no bound
	ascending                    bool
	limit, skip                  int
	after                        string // pagination_key: the last call id of the page before
	total                        bool
}

// listBody is the body both list-calls take; unknown keys are refused.
type listBody struct {
	FilterCriteria json.RawMessage `json:"filter_criteria"`
	SortOrder      string          `json:"sort_order"`
	Limit          *int            `json:"limit"`
	PaginationKey  string          `json:"pagination_key"`
	Skip           int             `json:"skip"`
	IncludeTotal   bool            `json:"include_total"`
}

// readList reads a list-calls body and its filters (v3's typed objects, or v2's bare arrays).
func readList(w http.ResponseWriter, r *http.Request, v3 bool) (callQuery, bool) {
	var in listBody
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, "Invalid request body: "+err.Error())
		return callQuery{}, false
	}
	q := callQuery{limit: 50, skip: in.Skip, after: in.PaginationKey, total: in.IncludeTotal}
	if in.Limit != nil {
		q.limit = *in.Limit
	}
	switch in.SortOrder {
	case "", "descending":
	case "ascending":
		q.ascending = true
	default:
		writeError(w, http.StatusBadRequest, "sort_order must be ascending or descending")
		return q, false
	}
	if q.limit < 1 || q.limit > 1000 || q.skip < 0 {
		writeError(w, http.StatusBadRequest, "limit must be between 1 and 1000")
		return q, false
	}
	if len(in.FilterCriteria) == 0 || string(in.FilterCriteria) == "null" {
		return q, true
	}
	var ok bool
	if v3 {
		ok = readFilterV3(in.FilterCriteria, &q)
	} else {
		ok = readFilterV2(in.FilterCriteria, &q)
	}
	if !ok {
		writeError(w, http.StatusBadRequest, "Invalid filter_criteria")
	}
	return q, ok
}

func strict(b []byte, v any) bool {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v) == nil
}

// readFilterV3: {"call_status":{"op":"in","type":"enum","value":[…]}, "direction": (same),
// "agent":[{"agent_id"}], "start_timestamp":{"op":"bt","type":"range","value":[lo,hi]}}.
func readFilterV3(b []byte, q *callQuery) bool {
	type enum struct {
		Op    string   `json:"op"`
		Type  string   `json:"type"`
		Value []string `json:"value"`
	}
	var f struct {
		CallStatus *enum `json:"call_status"`
		Direction  *enum `json:"direction"`
		Agent      []struct {
			AgentID string `json:"agent_id"`
			Version *int   `json:"version"`
		} `json:"agent"`
		Start *struct {
			Op    string   `json:"op"`
			Type  string   `json:"type"`
			Value [2]int64 `json:"value"`
		} `json:"start_timestamp"`
	}
	if !strict(b, &f) {
		return false
	}
	for _, e := range []struct {
		in  *enum
		out *[]string
	}{{f.CallStatus, &q.statuses}, {f.Direction, &q.directions}} {
		if e.in == nil {
			continue
		}
		if e.in.Op != "in" || e.in.Type != "enum" {
			return false
		}
		*e.out = e.in.Value
	}
	for _, a := range f.Agent {
		q.agents = append(q.agents, a.AgentID)
	}
	if f.Start != nil {
		if f.Start.Op != "bt" || f.Start.Type != "range" {
			return false
		}
		q.lo, q.hi = f.Start.Value[0], f.Start.Value[1]
	}
	return true
}

// readFilterV2: {"call_status":[…], "direction":[…], "agent_id":[…],
// "start_timestamp":{"lower_threshold","upper_threshold"}}.
func readFilterV2(b []byte, q *callQuery) bool {
	var f struct {
		CallStatus []string `json:"call_status"`
		Direction  []string `json:"direction"`
		AgentID    []string `json:"agent_id"`
		Start      *struct {
			Lower int64 `json:"lower_threshold"`
			Upper int64 `json:"upper_threshold"`
		} `json:"start_timestamp"`
	}
	if !strict(b, &f) {
		return false
	}
	q.statuses, q.directions, q.agents = f.CallStatus, f.Direction, f.AgentID
	if f.Start != nil {
		q.lo, q.hi = f.Start.Lower, f.Start.Upper
	}
	return true
}

// listCalls returns the calls q lets through, sorted by start_timestamp (then creation), the
// page asked for, whether more follow, and how many matched.
func (s *Server) listCalls(q callQuery) ([]retell.Call, bool, int) {
	s.mu.Lock()
	var all []retell.Call
	for _, id := range s.callOrder {
		c, ok := s.calls[id]
		if !ok {
			continue
		}
		switch {
		case len(q.statuses) > 0 && !slices.Contains(q.statuses, c.CallStatus),
			len(q.directions) > 0 && !slices.Contains(q.directions, c.Direction),
			len(q.agents) > 0 && !slices.Contains(q.agents, c.AgentID),
			c.StartTimestamp < q.lo, q.hi > 0 && c.StartTimestamp > q.hi:
			continue
		}
		all = append(all, *c)
	}
	s.mu.Unlock()
	// Oldest first by start, then by creation; descending is the reverse.
	slices.SortStableFunc(all, func(a, b retell.Call) int { return cmp.Compare(a.StartTimestamp, b.StartTimestamp) })
	if !q.ascending {
		slices.Reverse(all)
	}
	from := min(q.skip, len(all))
	page, more := pageOf(all[from:], func(c retell.Call) string { return c.CallID }, q.after, q.limit)
	return page, more, len(all)
}

// handleListCalls is POST /v3/list-calls: {items, has_more, pagination_key, total?}.
func (s *Server) handleListCalls(w http.ResponseWriter, r *http.Request) {
	if s.oldOnly {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	q, ok := readList(w, r, true)
	if !ok {
		return
	}
	items, more, total := s.listCalls(q)
	out := map[string]any{"items": append([]retell.Call{}, items...), "has_more": more}
	if more {
		out["pagination_key"] = items[len(items)-1].CallID
	}
	if q.total {
		out["total"] = total
	}
	writeJSON(w, http.StatusOK, out)
}

// handleListCallsOld is POST /v2/list-calls: a bare array.
func (s *Server) handleListCallsOld(w http.ResponseWriter, r *http.Request) {
	q, ok := readList(w, r, false)
	if !ok {
		return
	}
	items, _, _ := s.listCalls(q)
	writeJSON(w, http.StatusOK, append([]retell.Call{}, items...))
}
