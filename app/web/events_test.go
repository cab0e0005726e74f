package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"masteria/app/store/storetest"
	"masteria/app/web/webtest"
)

// sseEvent is one event read off a stream.
type sseEvent struct {
	ID, Type string
	Data     map[string]any
}

// openStream connects to /events as c and returns a channel of its events. The stream
// closes when the test ends.
func openStream(t *testing.T, c *webtest.Client, path, lastID string) <-chan sseEvent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.Base+path, nil)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	client := *c.HTTP
	client.Timeout = 0
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("events: status %d, type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	out := make(chan sseEvent, 16)
	go func() {
		defer res.Body.Close()
		defer close(out)
		sc := bufio.NewScanner(res.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.Type != "" {
					out <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "id: "):
				ev.ID = line[4:]
			case strings.HasPrefix(line, "event: "):
				ev.Type = line[7:]
			case strings.HasPrefix(line, "data: "):
				var env struct {
					Payload map[string]any `json:"payload"`
				}
				_ = json.Unmarshal([]byte(line[6:]), &env)
				ev.Data = env.Payload
			}
		}
	}()
	return out
}

// next waits for the next event of type typ, skipping others, for up to 20 s.
func next(t *testing.T, events <-chan sseEvent, typ string) sseEvent {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("stream closed before %s", typ)
			}
			if ev.Type == typ {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %s event", typ)
		}
	}
}

// TestEventReachesOtherInstance runs two instances on one database: an org renamed through
// instance A reaches an SSE client connected to instance B.
func TestEventReachesOtherInstance(t *testing.T) {
	t.Parallel()
	db := storetest.URL(t)
	a := webtest.StartOn(t, db, nil)
	b := webtest.StartOn(t, db, nil)

	ca := webtest.NewClient(t, a.URL)
	home := ca.Signup("Sorveteria Gelada", "Julia", uniqueEmail("julia"), strongPassword)
	orgID := strings.TrimPrefix(home, "/o/")
	cb := webtest.NewClient(t, b.URL)
	cb.Login(onlyUserEmail(t, a), strongPassword)

	stream := openStream(t, cb, "/events?org="+orgID, "")
	if res := ca.Post(home+"/settings", url.Values{"name": {"Sorveteria Geladinha"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("rename: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	ev := next(t, stream, "org.renamed")
	if ev.Data["name"] != "Sorveteria Geladinha" || ev.ID == "" {
		t.Fatalf("event: %+v", ev)
	}
}

// onlyUserEmail reads back the only user's email of an instance's database.
func onlyUserEmail(t *testing.T, inst *webtest.Instance) string {
	var email string
	if err := inst.App.Store.DB().Get(&email, `SELECT email FROM users LIMIT 1`); err != nil {
		t.Fatal(err)
	}
	return email
}

// TestEventsResumeFromLastEventID: a client that reconnects gets what happened meanwhile.
func TestEventsResumeFromLastEventID(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	c := webtest.NewClient(t, inst.URL)
	home := c.Signup("Floricultura", "Kelly", uniqueEmail("kelly"), strongPassword)
	orgID := strings.TrimPrefix(home, "/o/")

	first := openStream(t, c, "/events?org="+orgID, "")
	c.Post(home+"/settings", url.Values{"name": {"Floricultura 1"}})
	seen := next(t, first, "org.renamed")

	// While "offline": two more changes.
	c.Post(home+"/settings", url.Values{"name": {"Floricultura 2"}})
	c.Post(home+"/settings/apikeys", url.Values{"name": {"Loja virtual"}})

	resumed := openStream(t, c, "/events?org="+orgID, seen.ID)
	if ev := next(t, resumed, "org.renamed"); ev.Data["name"] != "Floricultura 2" {
		t.Fatalf("resumed rename: %+v", ev)
	}
	if ev := next(t, resumed, "apikey.created"); ev.Data["name"] != "Loja virtual" {
		t.Fatalf("resumed key: %+v", ev)
	}
}

// TestEventsOnlyForMembers: a user cannot listen to an org they are not in.
func TestEventsOnlyForMembers(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	a := webtest.NewClient(t, inst.URL)
	home := a.Signup("Loja A", "Lia", uniqueEmail("lia"), strongPassword)
	b := webtest.NewClient(t, inst.URL)
	b.Signup("Loja B", "Leo", uniqueEmail("leo"), strongPassword)
	if res := b.Get("/events?org=" + strings.TrimPrefix(home, "/o/")); res.StatusCode != http.StatusNotFound {
		t.Fatalf("status %d, want 404", res.StatusCode)
	}
	if res := webtest.NewClient(t, inst.URL).Get("/events?org=1"); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous: status %d, want 401", res.StatusCode)
	}
}

// TestStreamEndsWithItsSession: logging out everywhere closes the other browser's stream.
func TestStreamEndsWithItsSession(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	email := uniqueEmail("nelson")
	a := webtest.NewClient(t, inst.URL)
	home := a.Signup("Loja", "Nelson", email, strongPassword)
	b := webtest.NewClient(t, inst.URL)
	b.Login(email, strongPassword)
	stream := openStream(t, b, "/events?org="+strings.TrimPrefix(home, "/o/"), "")

	a.Post(home+"/settings/sessions/revoke-all", nil)
	deadline := time.After(20 * time.Second)
	for {
		select {
		case _, ok := <-stream:
			if !ok {
				return // closed by the server
			}
		case <-deadline:
			t.Fatal("the stream of a revoked session stays open")
		}
	}
}
