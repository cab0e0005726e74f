package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"masteria/app/store"
	"masteria/app/store/storetest"
)

// syncBuffer is the dev command's output, read while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// `masteria dev` connects the demo org to the Meta and Twilio simulators: a simulated
// customer's message goes through the real webhooks into the inbox, on the first run and
// after a restart (which must not connect the channels twice).
func TestDevConnectsTheSimulators(t *testing.T) {
	dbURL := storetest.URL(t)
	t.Setenv("DATABASE_URL", dbURL)
	t.Setenv("MASTERIA_DATA_DIR", t.TempDir())
	t.Setenv("MASTERIA_WHATSAPP_QR", "off")
	st, err := store.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	for round, phone := range []string{"+5511987650001", "+5511987650002"} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		t.Setenv("MASTERIA_ADDR", addr)
		t.Setenv("MASTERIA_BASE_URL", "http://"+addr)

		ctx, cancel := context.WithCancel(context.Background())
		out := &syncBuffer{}
		done := make(chan error, 1)
		go func() { done <- run(ctx, []string{"dev"}, out) }()
		control := regexp.MustCompile(`(http://127\.0\.0\.1:\d+)/whatsapp`)
		var base string
		deadline := time.Now().Add(60 * time.Second)
		for base == "" {
			if m := control.FindStringSubmatch(out.String()); m != nil {
				base = m[1]
			}
			if time.Now().After(deadline) {
				cancel()
				t.Fatalf("run %d: no simulator line in %q", round, out.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
		waitHealthy(t, "http://"+addr)
		if round == 0 {
			checkDevNumbers(t, st, "http://"+addr)
		}

		for _, kind := range []string{"whatsapp", "sms"} {
			res, err := http.PostForm(base+"/"+kind, url.Values{"from": {phone}, "name": {"Ana"}, "text": {"Oi pelo " + kind}})
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				t.Fatalf("run %d %s: %d", round, kind, res.StatusCode)
			}
		}
		if res, _ := http.PostForm(base+"/sms", url.Values{"from": {"11987650001"}, "text": {"sem +"}}); res == nil || res.StatusCode != http.StatusBadRequest {
			t.Errorf("a number without + is not refused")
		}
		var got []string
		if err := st.DB().Select(&got, `SELECT ch.kind || ':' || m.body FROM messages m JOIN channels ch ON ch.id = m.channel_id
			JOIN conversations v ON v.id = m.conversation_id JOIN contacts c ON c.id = v.contact_id
			WHERE c.phone = $1 ORDER BY ch.kind`, phone); err != nil {
			t.Fatal(err)
		}
		if want := "twilio_sms:Oi pelo sms whatsapp_cloud:Oi pelo whatsapp"; strings.Join(got, " ") != want {
			t.Errorf("run %d: stored %q, want %q", round, got, want)
		}
		var channels int
		_ = st.DB().Get(&channels, `SELECT count(*) FROM channels WHERE kind IN ('whatsapp_cloud', 'twilio_sms')`)
		if channels != 2 {
			t.Errorf("run %d: %d simulated channels, want 2", round, channels)
		}
		// The demo org's AI provider is the OpenAI simulator of this run, on every run.
		aiLine := regexp.MustCompile(`AI provider: the OpenAI simulator at (http://127\.0\.0\.1:\d+/v1)`).FindStringSubmatch(out.String())
		var aiBase, aiModel string
		_ = st.DB().QueryRow(`SELECT base_url, chat_model FROM ai_providers`).Scan(&aiBase, &aiModel)
		if aiLine == nil || aiBase != aiLine[1] || aiModel != "gpt-4o-mini" {
			t.Errorf("run %d: AI provider %q %q, printed %q", round, aiBase, aiModel, aiLine)
		}
		// The demo org's Retell account is the Retell simulator's, tested, on every run.
		var voiceAccounts int
		var voiceStatus string
		_ = st.DB().QueryRow(`SELECT count(*) OVER (), status FROM voice_accounts`).Scan(&voiceAccounts, &voiceStatus)
		if voiceAccounts != 1 || voiceStatus != "ok" || !strings.Contains(out.String(), "Voice: the Retell simulator at http://127.0.0.1:") {
			t.Errorf("run %d: %d voice accounts, status %q", round, voiceAccounts, voiceStatus)
		}
		// Its number is linked and ready, so "Call" works on every contact at any hour.
		var ready, always int
		_ = st.DB().Get(&ready, `SELECT count(*) FROM voice_numbers WHERE status = 'ready' AND outbound_agent_id <> '' AND phone_number = $1`, devRetellNumber)
		_ = st.DB().Get(&always, `SELECT count(*) FROM voice_accounts WHERE call_hours_start = 0 AND call_hours_end = 24 AND call_days = 127`)
		if ready != 1 || always != 1 {
			t.Errorf("run %d: %d ready numbers, %d accounts calling at any hour", round, ready, always)
		}
		// The periodic template sync runs at start: the simulated number's templates arrive.
		for deadline := time.Now().Add(20 * time.Second); ; {
			var templates int
			_ = st.DB().Get(&templates, `SELECT count(*) FROM message_templates WHERE status = 'APPROVED'`)
			if templates == 2 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("run %d: %d templates synced, want 2", round, templates)
			}
			time.Sleep(100 * time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("run %d: %v", round, err)
		}
	}
}

func waitHealthy(t *testing.T, base string) {
	t.Helper()
	for range 200 {
		if res, err := http.Get(base + "/health"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never became healthy", base)
}
