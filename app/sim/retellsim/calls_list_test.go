package retellsim_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"masteria/app/sim/retellsim"
	"masteria/app/voice/retell"
)

// TestListCallsNewAndOld: the client lists calls through POST /v3/list-calls (typed
// filters, paged objects) or, on a server without it, POST /v2/list-calls (bare arrays);
// both give the same calls, filtered and ordered by start, across pages.
func TestListCallsNewAndOld(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t0 := time.UnixMilli(1765000000000)
	for _, old := range []bool{false, true} {
		var opts []retellsim.Option
		if old {
			opts = append(opts, retellsim.WithOldListsOnly())
		}
		sim, c := start(t, opts...)
		// 2,400 calls a minute apart: every third inbound, every fourth of agent_b, every
		// fifth not connected. More than two pages (1,000) match no filter.
		for i := range 2400 {
			call := retell.Call{CallID: fmt.Sprintf("call_%04d", i), AgentID: "agent_a", CallStatus: retell.StatusEnded,
				Direction: "outbound", StartTimestamp: t0.Add(time.Duration(i) * time.Minute).UnixMilli()}
			if i%3 == 0 {
				call.Direction = "inbound"
			}
			if i%4 == 0 {
				call.AgentID = "agent_b"
			}
			if i%5 == 0 {
				call.CallStatus = retell.StatusNotConnected
			}
			sim.AddCall(call)
		}
		all, err := c.ListCalls(ctx, retell.CallFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 2400 || all[0].CallID != "call_2399" || all[2399].CallID != "call_0000" {
			t.Fatalf("old=%v: %d calls, first %s", old, len(all), all[0].CallID)
		}
		f := retell.CallFilter{Statuses: []string{retell.StatusEnded}, AgentIDs: []string{"agent_b"}, Directions: []string{"inbound"},
			From: t0.Add(100 * time.Minute), To: t0.Add(2000 * time.Minute), Ascending: true}
		got, err := c.ListCalls(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for i := 100; i <= 2000; i++ {
			if i%3 == 0 && i%4 == 0 && i%5 != 0 {
				want = append(want, fmt.Sprintf("call_%04d", i))
			}
		}
		var ids []string
		for _, k := range got {
			ids = append(ids, k.CallID)
		}
		if !slices.Equal(ids, want) {
			t.Errorf("old=%v: filtered %d calls %v…, want %d %v…", old, len(ids), ids[:min(3, len(ids))], len(want), want[:3])
		}
		f.Limit = 5
		if got, err := c.ListCalls(ctx, f); err != nil || len(got) != 5 || got[0].CallID != want[0] {
			t.Errorf("old=%v: limit 5: %d calls, %v", old, len(got), err)
		}
		// Each version refuses the other's filters, and both refuse what is not a filter.
		for _, tc := range []struct {
			path, body string
			status     int
		}{
			{"/v2/list-calls", `{"filter_criteria":{"call_status":{"op":"in","type":"enum","value":["ended"]}}}`, 400},
			{"/v2/list-calls", `{"filter_criteria":{"call_status":["ended"]},"limit":2}`, 200},
			{"/v3/list-calls", `{"filter_criteria":{"call_status":["ended"]}}`, map[bool]int{false: 400, true: 404}[old]},
			{"/v3/list-calls", `{"limit":1001}`, map[bool]int{false: 400, true: 404}[old]},
			{"/v3/list-calls", `{"nope":1}`, map[bool]int{false: 400, true: 404}[old]},
			{"/v3/list-calls", `{"include_total":true,"skip":2398,"limit":1}`, map[bool]int{false: 200, true: 404}[old]},
		} {
			req, _ := http.NewRequest(http.MethodPost, sim.URL()+tc.path, strings.NewReader(tc.body))
			req.Header.Set("Authorization", "Bearer "+key)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tc.status {
				t.Errorf("old=%v %s %s: %d %s", old, tc.path, tc.body, res.StatusCode, b)
			}
			if tc.status == 200 && strings.Contains(tc.body, "include_total") &&
				(!strings.Contains(string(b), `"total":2400`) || !strings.Contains(string(b), `"has_more":true`) || !strings.Contains(string(b), "call_0001")) {
				t.Errorf("skip and total: %s", b)
			}
		}
	}
}
