package retell

import (
	"context"
	"net/http"
	"time"
)

// CallFilter narrows ListCalls; zero fields do not filter.
type CallFilter struct {
	Statuses   []string  // call_status in these
	AgentIDs   []string  // calls of these agents
	Directions []string  // inbound, outbound
	From, To   time.Time // start_timestamp in [From, To]
	Ascending  bool      // oldest first (the default is newest first)
	Limit      int       // at most this many calls (0: every call)
}

// listCallsPage is the page asked of list-calls (its maximum).
const listCallsPage = 1000

// v3 filter values: typed objects.
type enumFilter struct {
	Op    string   `json:"op"`
	Type  string   `json:"type"`
	Value []string `json:"value"`
}

type rangeFilter struct {
	Op    string   `json:"op"`
	Type  string   `json:"type"`
	Value [2]int64 `json:"value"`
}

type agentFilter struct {
	AgentID string `json:"agent_id"`
}

type listCallsV3 struct {
	FilterCriteria map[string]any `json:"filter_criteria,omitempty"`
	SortOrder      string         `json:"sort_order"`
	Limit          int            `json:"limit"`
	PaginationKey  string         `json:"pagination_key,omitempty"`
}

// span is the filter's start_timestamp range in ms (an open end is 0 or the far future).
func (f CallFilter) span() (int64, int64, bool) {
	if f.From.IsZero() && f.To.IsZero() {
		return 0, 0, false
	}
	lo, hi := int64(0), int64(1<<53)
	if !f.From.IsZero() {
		lo = f.From.UnixMilli()
	}
	if !f.To.IsZero() {
		hi = f.To.UnixMilli()
	}
	return lo, hi, true
}

func (f CallFilter) sort() string {
	if f.Ascending {
		return "ascending"
	}
	return "descending"
}

func (f CallFilter) v3() map[string]any {
	m := map[string]any{}
	if len(f.Statuses) > 0 {
		m["call_status"] = enumFilter{Op: "in", Type: "enum", Value: f.Statuses}
	}
	if len(f.Directions) > 0 {
		m["direction"] = enumFilter{Op: "in", Type: "enum", Value: f.Directions}
	}
	if len(f.AgentIDs) > 0 {
		var as []agentFilter
		for _, id := range f.AgentIDs {
			as = append(as, agentFilter{AgentID: id})
		}
		m["agent"] = as
	}
	if lo, hi, ok := f.span(); ok {
		m["start_timestamp"] = rangeFilter{Op: "bt", Type: "range", Value: [2]int64{lo, hi}}
	}
	return m
}

// threshold is an old-style range: {lower_threshold, upper_threshold}.
type threshold struct {
	Lower int64 `json:"lower_threshold"`
	Upper int64 `json:"upper_threshold"`
}

// v2 is the older filter: each filter a bare array of values, the start a threshold.
func (f CallFilter) v2() map[string]any {
	m := map[string]any{}
	if len(f.Statuses) > 0 {
		m["call_status"] = f.Statuses
	}
	if len(f.Directions) > 0 {
		m["direction"] = f.Directions
	}
	if len(f.AgentIDs) > 0 {
		m["agent_id"] = f.AgentIDs
	}
	if lo, hi, ok := f.span(); ok {
		m["start_timestamp"] = threshold{Lower: lo, Upper: hi}
	}
	return m
}

// ListCalls lists the account's calls that f lets through, newest first unless f says
// otherwise: POST /v3/list-calls page by page, or, where a server does not answer it, the
// older POST /v2/list-calls (the same keys, filters as bare arrays, a bare array back,
// paged by the last call id).
func (c *Client) ListCalls(ctx context.Context, f CallFilter) ([]Call, error) {
	var out []Call
	key := ""
	for range maxPages {
		in := listCallsV3{FilterCriteria: f.v3(), SortOrder: f.sort(), Limit: c.callsPage(f, len(out)), PaginationKey: key}
		var p page[Call]
		err := c.read(ctx, http.MethodPost, "/v3/list-calls", nil, in, &p)
		if gone(err) && key == "" {
			return c.listCallsV2(ctx, f)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, p.Items...)
		if f.Limit > 0 && len(out) >= f.Limit {
			return out[:f.Limit], nil
		}
		if !p.HasMore || p.PaginationKey == "" || p.PaginationKey == key {
			return out, nil
		}
		key = p.PaginationKey
	}
	return out, nil
}

// callsPage is the page size to ask for when got calls are already listed.
func (c *Client) callsPage(f CallFilter, got int) int {
	if f.Limit > 0 {
		return min(listCallsPage, f.Limit-got)
	}
	return listCallsPage
}

// listCallsV2 is POST /v2/list-calls.
func (c *Client) listCallsV2(ctx context.Context, f CallFilter) ([]Call, error) {
	var out []Call
	key := ""
	for range maxPages {
		limit := c.callsPage(f, len(out))
		in := listCallsV3{FilterCriteria: f.v2(), SortOrder: f.sort(), Limit: limit, PaginationKey: key}
		var list []Call
		if err := c.read(ctx, http.MethodPost, "/v2/list-calls", nil, in, &list); err != nil {
			return nil, err
		}
		out = append(out, list...)
		if f.Limit > 0 && len(out) >= f.Limit {
			return out[:f.Limit], nil
		}
		if len(list) < limit || list[len(list)-1].CallID == key {
			return out, nil
		}
		key = list[len(list)-1].CallID
	}
	return out, nil
}
