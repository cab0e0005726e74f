package meta_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"masteria/app/channel"
	"masteria/app/channel/meta"
	"masteria/app/sim/metasim"
)

// hookApp is the app's webhook endpoint for one channel: it verifies and parses every
// notification with the production meta.Hook and keeps what came out.
type hookApp struct {
	srv *httptest.Server

	mu       sync.Mutex
	statuses []channel.StatusUpdate
	notices  []channel.Notice
	changed  chan struct{}
}

func newHookApp(t *testing.T, s *metasim.Server) *hookApp {
	t.Helper()
	a := &hookApp{changed: make(chan struct{})}
	secrets := map[string]string{"app_secret": "sec"}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req := channel.WebhookRequest{Query: r.URL.Query(), Header: r.Header, Body: body, URL: a.srv.URL + r.URL.RequestURI()}
		h := meta.Hook{}
		if !h.Verify(req, secrets) {
			http.Error(w, "wrong signature", http.StatusUnauthorized)
			return
		}
		b, err := h.Parse(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		a.mu.Lock()
		a.statuses = append(a.statuses, b.Statuses...)
		a.notices = append(a.notices, b.Notices...)
		close(a.changed)
		a.changed = make(chan struct{})
		a.mu.Unlock()
	}))
	t.Cleanup(a.srv.Close)
	s.SetWebhookURL(phoneID, a.srv.URL+"/webhooks/whatsapp/7")
	return a
}

// waitStatuses waits for n statuses.
func (a *hookApp) waitStatuses(t *testing.T, n int) []channel.StatusUpdate {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		a.mu.Lock()
		got, ch := append([]channel.StatusUpdate(nil), a.statuses...), a.changed
		a.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("%d statuses, want %d", len(got), n)
		}
	}
}

func (a *hookApp) allNotices() []channel.Notice {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]channel.Notice(nil), a.notices...)
}

func promo(s *metasim.Server) {
	s.AddTemplate(wabaID, metasim.Template{Name: "promo", Language: "pt_BR", Category: metasim.CategoryMarketing,
		Components: []map[string]any{{"type": "BODY", "text": "Oferta {{1}}"}}})
}

func promoTo(to, ref string) channel.Outbound {
	return channel.Outbound{To: to, Kind: "template", Ref: ref,
		Template: &channel.Template{Name: "promo", Language: "pt_BR", Params: []string{"Ana"}}}
}

func TestRefRoundTrip(t *testing.T) {
	t.Parallel()
	s, base := startSim(t)
	app := newHookApp(t, s)
	promo(s)
	s.SetAutoStatuses(metasim.StatusSent, metasim.StatusDelivered)
	c := client(t, base, token)
	sent, err := c.Send(context.Background(), promoTo(customer, "m123"))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Sent()[0].CallbackData; got != "m123" {
		t.Fatalf("biz_opaque_callback_data %q", got)
	}
	for _, st := range app.waitStatuses(t, 2) {
		if st.Ref != "m123" || st.ProviderID != sent.ProviderID {
			t.Fatalf("status %+v", st)
		}
	}
	// Without a Ref the field is not sent.
	if _, err := c.Send(context.Background(), promoTo(customer, "")); err != nil {
		t.Fatal(err)
	}
	if got := s.Sent()[1].CallbackData; got != "" {
		t.Fatalf("biz_opaque_callback_data %q", got)
	}
	long := make([]byte, 513)
	for i := range long {
		long[i] = 'x'
	}
	var se *channel.SendError
	if _, err := c.Send(context.Background(), promoTo(customer, string(long))); !errors.As(err, &se) || !se.Permanent {
		t.Fatalf("long ref: %v", err)
	}
}

// TestLostAnswer is a send Meta took whose answer never reached the client: the client
// fails (temporarily), and the status webhooks still name the send by its Ref.
func TestLostAnswer(t *testing.T) {
	t.Parallel()
	s, base := startSim(t)
	app := newHookApp(t, s)
	promo(s)
	s.SetAutoStatuses(metasim.StatusSent)
	s.SetHangNext(3*time.Second, true)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := client(t, base, token).Send(ctx, promoTo(customer, "m9"))
	var se *channel.SendError
	var thr *channel.ThrottledError
	if err == nil || errors.As(err, &se) || errors.As(err, &thr) {
		t.Fatalf("timeout: %v", err)
	}
	st := app.waitStatuses(t, 1)
	if st[0].Ref != "m9" || st[0].Status != "sent" || s.SentTo(customer) != 1 {
		t.Fatalf("statuses %+v", st)
	}
}

// TestErrorClasses checks the client's reading of every error a campaign meets, against the
// sim's answers over HTTP.
func TestErrorClasses(t *testing.T) {
	t.Parallel()
	type class int
	const (
		temporary class = iota
		throttled
		permanent
	)
	cases := []struct {
		name   string
		code   int // SetFailNext
		status int // or SetFailNextHTTP
		want   class
	}{
		{name: "throughput", code: 130429, want: throttled},
		{name: "app call rate", code: 4, want: throttled},
		{name: "account call rate", code: 80007, want: throttled},
		{name: "pair rate", code: 131056, want: throttled},
		{name: "HTTP 429", status: 429, want: throttled},
		{name: "spam rate limit", code: 131048, want: permanent},
		{name: "policy block", code: 368, want: permanent},
		{name: "account locked", code: 131031, want: permanent},
		{name: "template paused", code: 132015, want: permanent},
		{name: "template disabled", code: 132016, want: permanent},
		{name: "template missing", code: 132001, want: permanent},
		{name: "undeliverable", code: 131026, want: permanent},
		{name: "marketing opt-out", code: 131050, want: permanent},
		{name: "outside window", code: 131047, want: permanent},
		{name: "invalid parameter", code: 100, want: permanent},
		{name: "Meta's 500", code: 131000, want: temporary},
		{name: "HTTP 500", status: 500, want: temporary},
		{name: "HTTP 502", status: 502, want: temporary},
		{name: "HTTP 503", status: 503, want: temporary},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, base := startSim(t)
			promo(s)
			if tc.status != 0 {
				s.SetFailNextHTTP(tc.status, 1)
			} else {
				s.SetFailNext(tc.code, "")
			}
			_, err := client(t, base, token).Send(context.Background(), promoTo(customer, "m1"))
			var se *channel.SendError
			var thr *channel.ThrottledError
			switch tc.want {
			case throttled:
				want := strconv.Itoa(tc.code)
				if tc.status == 429 {
					want = "130429"
				}
				if !errors.As(err, &thr) || thr.Code != want || thr.RetryAfter <= 0 {
					t.Fatalf("want throttled %s: %v", want, err)
				}
			case permanent:
				if !errors.As(err, &se) || !se.Permanent || se.Code != strconv.Itoa(tc.code) || se.Title == "" {
					t.Fatalf("want permanent %d: %v", tc.code, err)
				}
			case temporary:
				if err == nil || errors.As(err, &thr) || (errors.As(err, &se) && se.Permanent) {
					t.Fatalf("want temporary: %v", err)
				}
			}
			if s.SentCount() != 0 {
				t.Fatal("a refused send was recorded")
			}
		})
	}
}

func TestLimitsOfTheSim(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("pair rate", func(t *testing.T) {
		t.Parallel()
		s, base := startSim(t, metasim.WithPairRate(1, time.Minute))
		promo(s)
		c := client(t, base, token)
		if _, err := c.Send(ctx, promoTo(customer, "a")); err != nil {
			t.Fatal(err)
		}
		var thr *channel.ThrottledError
		if _, err := c.Send(ctx, promoTo(customer, "b")); !errors.As(err, &thr) || thr.Code != "131056" {
			t.Fatalf("pair rate: %v", err)
		}
		if _, err := c.Send(ctx, promoTo("+5511900000009", "c")); err != nil {
			t.Fatalf("another user: %v", err)
		}
	})
	t.Run("messaging limit", func(t *testing.T) {
		t.Parallel()
		s, base := startSim(t)
		promo(s)
		s.SetMessagingLimit(wabaID, 1)
		c := client(t, base, token)
		if _, err := c.Send(ctx, promoTo("+5511900000001", "a")); err != nil {
			t.Fatal(err)
		}
		var se *channel.SendError
		if _, err := c.Send(ctx, promoTo("+5511900000002", "b")); !errors.As(err, &se) || se.Code != strconv.Itoa(metasim.DefaultLimitErrorCode) {
			t.Fatalf("limit: %v", err)
		}
	})
	t.Run("paused template", func(t *testing.T) {
		t.Parallel()
		s, base := startSim(t)
		promo(s)
		if _, err := s.TemplateStatus(ctx, phoneID, "promo", "pt_BR", "PAUSED", ""); err != nil && !errors.Is(err, metasim.ErrNoWebhookURL) {
			t.Fatal(err)
		}
		var se *channel.SendError
		if _, err := client(t, base, token).Send(ctx, promoTo(customer, "a")); !errors.As(err, &se) || se.Code != "132015" {
			t.Fatalf("paused: %v", err)
		}
	})
}

func TestLimits(t *testing.T) {
	t.Parallel()
	s, base := startSim(t)
	c := client(t, base, token)
	ctx := context.Background()
	l, err := c.Limits(ctx)
	if err != nil || l != (channel.Limits{Messaging: -1, PerSecond: 80, Quality: "GREEN"}) {
		t.Fatalf("%+v %v", l, err)
	}
	s.SetMessagingLimit(wabaID, 2000)
	s.SetThroughput(phoneID, "HIGH")
	s.SetQuality(phoneID, "YELLOW")
	if l, err = c.Limits(ctx); err != nil || l != (channel.Limits{Messaging: 2000, PerSecond: 1000, Quality: "YELLOW"}) {
		t.Fatalf("%+v %v", l, err)
	}
	if _, err := client(t, base, "wrong").Limits(ctx); err == nil {
		t.Fatal("wrong token read the limits")
	}
}

func TestNoticesFromTheSim(t *testing.T) {
	t.Parallel()
	s, _ := startSim(t)
	app := newHookApp(t, s)
	promo(s)
	ctx := context.Background()
	for _, post := range []func() (int, error){
		func() (int, error) { return s.TemplateStatus(ctx, phoneID, "promo", "pt_BR", "PAUSED", "") },
		func() (int, error) {
			return s.TemplateStatus(ctx, phoneID, "promo", "pt_BR", "REJECTED", "INVALID_FORMAT")
		},
		func() (int, error) { return s.TemplateQuality(ctx, phoneID, "promo", "pt_BR", "GREEN", "RED") },
		func() (int, error) { return s.NumberQuality(ctx, phoneID, "DOWNGRADE", "TIER_250") },
		func() (int, error) { return s.Capability(ctx, phoneID, -1) },
	} {
		if code, err := post(); err != nil || code != http.StatusOK {
			t.Fatalf("%d %v", code, err)
		}
	}
	want := []channel.Notice{
		{Kind: channel.NoticeTemplateStatus, Template: "promo", Language: "pt_BR", Event: "PAUSED", Reason: "FIRST_PAUSE"},
		{Kind: channel.NoticeTemplateStatus, Template: "promo", Language: "pt_BR", Event: "REJECTED", Reason: "INVALID_FORMAT"},
		{Kind: channel.NoticeTemplateQuality, Template: "promo", Language: "pt_BR", Quality: "RED"},
		{Kind: channel.NoticeNumberQuality, Event: "DOWNGRADE", Limit: 250},
		{Kind: channel.NoticeMessagingLimit, Limit: -1},
	}
	got := app.allNotices()
	if len(got) != len(want) {
		t.Fatalf("notices %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("notice %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}
