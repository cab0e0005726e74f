package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"masteria/app/auth"
	"masteria/app/events"
	"masteria/app/model"
)

// heartbeat keeps idle SSE connections open through proxies and lets us notice gone clients.
var heartbeat = 20 * time.Second

// events streams the events of one of the user's orgs as server-sent events:
// `id: <n>`, `event: <type>`, `data: <json>`. The org is ?org=ID or the last org the user
// opened. A client that reconnects with Last-Event-ID first gets what it missed.
func (s *Server) events(c echo.Context) error {
	r := reqOf(c)
	ctx := c.Request().Context()
	orgID, _ := strconv.ParseInt(c.QueryParam("org"), 10, 64)
	token := ""
	if sess := sessionOf(c); sess != nil {
		token = sess.ID
		if orgID == 0 {
			orgID, _ = sess.Values[auth.KeyOrgID].(int64)
		}
	}
	if orgID == 0 {
		return model.ErrNotFound
	}
	m, err := s.acct.Membership(ctx, orgID, r.User.ID)
	if err != nil {
		return err
	}
	actor := model.Actor{OrgID: orgID, UserID: r.User.ID, Role: m.Role} // as of the stream's start
	lastID, _ := strconv.ParseInt(c.Request().Header.Get("Last-Event-ID"), 10, 64)
	if lastID == 0 {
		lastID, _ = strconv.ParseInt(c.QueryParam("last_event_id"), 10, 64)
	}

	// Subscribe before replaying, so an event committed in between is caught by one or the other.
	sub := s.broker.Subscribe(orgID)
	defer sub.Close()

	w := c.Response()
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // the server's write timeout must not cut the stream
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if _, err := fmt.Fprint(w, "retry: 3000\n\n"); err != nil {
		return nil
	}

	// Ids are taken when an event is written, not when its transaction commits: a long
	// transaction can commit its event after a later one was sent. So the stream remembers
	// what it sent instead of keeping a high-water mark, which would drop such an event.
	sent := newRecentIDs(1024)
	replay := func(after int64) error {
		for {
			evs, err := s.broker.Since(ctx, orgID, after, 500)
			if err != nil {
				return err
			}
			for _, ev := range evs {
				after = ev.ID
				if sent.has(ev.ID) || !events.Visible(ev, actor) {
					continue
				}
				if err := writeEvent(w, ev); err != nil {
					return err
				}
				sent.add(ev.ID)
				lastID = max(lastID, ev.ID)
			}
			if len(evs) < 500 {
				return rc.Flush()
			}
		}
	}
	if lastID > 0 {
		if err := replay(lastID); err != nil {
			return nil
		}
	} else if err := rc.Flush(); err != nil {
		return nil
	}

	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev := <-sub.C:
			if sub.Lagged() && lastID > 0 {
				// Events were dropped: read them from the table, from a little before the last
				// one sent, for those that committed late with a lower id.
				if err := replay(max(0, lastID-lagLookback)); err != nil {
					return nil
				}
				continue
			}
			if ev.ID != 0 && sent.has(ev.ID) { // id 0: a transient event, never replayed
				continue
			}
			if !events.Visible(ev, actor) {
				continue // not in the catalogue, or (presence) another agent's conversation
			}
			if err := writeEvent(w, ev); err != nil {
				return nil
			}
			if ev.ID != 0 {
				sent.add(ev.ID)
				lastID = max(lastID, ev.ID)
			}
			if err := rc.Flush(); err != nil {
				return nil
			}
		case <-tick.C:
			// A stream must not outlive its login: "log out everywhere" ends it here.
			if token != "" {
				if _, err := s.acct.SessionID(ctx, token); err != nil {
					return nil
				}
			}
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil {
				return nil
			}
			if err := rc.Flush(); err != nil {
				return nil
			}
		}
	}
}

// lagLookback is how far below the last id sent a lagged stream reads again (ids are
// shared by every org, so this is a window of everyone's events, not of this org's).
const lagLookback = 2000

// recentIDs remembers the last n event ids a stream sent, so that an event replayed from
// the table and also received live (or received twice) is written once. It grows with
// what the stream sends (a quiet stream holds a few ids; a busy one at most n, about
// 25 KB), since every open page holds one.
type recentIDs struct {
	n    int
	set  map[int64]struct{}
	ring []int64
	next int
}

func newRecentIDs(n int) *recentIDs { return &recentIDs{n: n, set: map[int64]struct{}{}} }

func (r *recentIDs) has(id int64) bool { _, ok := r.set[id]; return ok }

func (r *recentIDs) add(id int64) {
	if r.has(id) {
		return
	}
	if len(r.ring) < r.n {
		r.ring = append(r.ring, id)
	} else {
		delete(r.set, r.ring[r.next])
		r.ring[r.next] = id
		r.next = (r.next + 1) % r.n
	}
	r.set[id] = struct{}{}
}

// writeEvent writes one event. Its JSON is on one line, so one `data:` line is enough. A
// transient event has no id line, so the browser's Last-Event-ID stays on the stored ones.
func writeEvent(w http.ResponseWriter, ev model.Event) error {
	data, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	if ev.ID == 0 {
		_, err = fmt.Fprintf(w, "event: %s\ndata: %s\n\n", ev.Type, data)
		return err
	}
	_, err = fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", ev.ID, ev.Type, data)
	return err
}
