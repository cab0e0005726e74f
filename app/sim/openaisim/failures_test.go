package openaisim_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tmc/langchaingo/llms"
)

func TestWrongKey(t *testing.T) {
	sim := startSim(t)
	llm := newLLM(t, sim)
	bad := post(t, sim, "/v1/chat/completions", "sk-wrong-key-0000", `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"oi"}]}`)
	if bad.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d", bad.StatusCode)
	}
	if e := errorObject(t, bad); e["code"] != "invalid_api_key" || !strings.Contains(e["message"].(string), "Incorrect API key") {
		t.Errorf("error %v", e)
	}
	missing := do(t, sim, http.MethodGet, "/v1/models", "", "")
	if missing.StatusCode != http.StatusUnauthorized {
		t.Errorf("no key: status %d", missing.StatusCode)
	}

	sim.SetAPIKeys("sk-another")
	_, err := llms.GenerateFromSinglePrompt(testContext(t), llm, "oi")
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("langchaingo error %v", err)
	}
	if r := sim.Requests(); r[len(r)-1].Status != http.StatusUnauthorized {
		t.Errorf("recorded status %d", r[len(r)-1].Status)
	}
}

func TestRateLimited(t *testing.T) {
	sim := startSim(t)
	llm := newLLM(t, sim)
	ctx := testContext(t)
	sim.SetRateLimited(2, 1500*time.Millisecond)

	resp := post(t, sim, "/v1/chat/completions", apiKey, `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"oi"}]}`)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "2" ||
		resp.Header.Get("x-ratelimit-remaining-requests") != "0" || resp.Header.Get("x-ratelimit-reset-requests") != "1.5s" {
		t.Errorf("status %d headers %v", resp.StatusCode, resp.Header)
	}
	if e := errorObject(t, resp); e["code"] != "rate_limit_exceeded" {
		t.Errorf("error %v", e)
	}
	_, err := llms.GenerateFromSinglePrompt(ctx, llm, "oi")
	if err == nil || !strings.Contains(err.Error(), "429") || !strings.Contains(err.Error(), "Rate limit reached") {
		t.Errorf("langchaingo error %v", err)
	}
	if _, err := llms.GenerateFromSinglePrompt(ctx, llm, "oi"); err != nil {
		t.Errorf("after the limit: %v", err)
	}
}

func TestQuotaExceeded(t *testing.T) {
	sim := startSim(t)
	llm := newLLM(t, sim)
	ctx := testContext(t)
	sim.SetQuotaExceeded(true)
	for range 2 {
		resp := post(t, sim, "/v1/embeddings", apiKey, `{"model":"text-embedding-3-small","input":"oi"}`)
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "" {
			t.Errorf("status %d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		if e := errorObject(t, resp); e["code"] != "insufficient_quota" || e["type"] != "insufficient_quota" {
			t.Errorf("error %v", e)
		}
	}
	if _, err := llms.GenerateFromSinglePrompt(ctx, llm, "oi"); err == nil || !strings.Contains(err.Error(), "quota") {
		t.Errorf("langchaingo error %v", err)
	}
	sim.SetQuotaExceeded(false)
	if _, err := llms.GenerateFromSinglePrompt(ctx, llm, "oi"); err != nil {
		t.Errorf("after the quota: %v", err)
	}
}

func TestFailNext(t *testing.T) {
	sim := startSim(t)
	llm := newLLM(t, sim)
	ctx := testContext(t)
	sim.SetFailNext(http.StatusInternalServerError, 2)
	for range 2 {
		_, err := llms.GenerateFromSinglePrompt(ctx, llm, "oi")
		if err == nil || !strings.Contains(err.Error(), "500") {
			t.Errorf("error %v", err)
		}
	}
	if _, err := llms.GenerateFromSinglePrompt(ctx, llm, "oi"); err != nil {
		t.Errorf("third call: %v", err)
	}
	sim.SetFailNext(http.StatusServiceUnavailable, 1)
	resp := post(t, sim, "/v1/chat/completions", apiKey, `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"oi"}]}`)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("status %d", resp.StatusCode)
	}
	if e := errorObject(t, resp); e["type"] != "server_error" {
		t.Errorf("error %v", e)
	}
}

func TestDelay(t *testing.T) {
	sim := startSim(t)
	llm := newLLM(t, sim)
	sim.SetDelay(2 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := llms.GenerateFromSinglePrompt(ctx, llm, "oi")
	if err == nil || !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(err.Error(), "deadline") {
		t.Errorf("error %v", err)
	}
	if time.Since(start) > time.Second {
		t.Error("the client did not give up on time")
	}
	reqs, err := sim.WaitRequests(testContext(t), 1)
	if err != nil || reqs[0].LastUser() != "oi" {
		t.Errorf("recorded %v %v", reqs, err)
	}
	sim.SetDelay(0)
	if _, err := llms.GenerateFromSinglePrompt(testContext(t), llm, "oi"); err != nil {
		t.Error(err)
	}
}

func TestConcurrentUse(t *testing.T) {
	sim := startSim(t)
	llm := newLLM(t, sim)
	ctx := testContext(t)
	const n = 16
	errs := make(chan error, n)
	for i := range n {
		go func() {
			if i%2 == 0 {
				sim.Reply("ok")
				_, err := llms.GenerateFromSinglePrompt(ctx, llm, "oi")
				errs <- err
				return
			}
			_, err := llm.CreateEmbedding(ctx, []string{"pão", "café"})
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	reqs, err := sim.WaitRequests(ctx, n)
	if err != nil || len(reqs) != n || sim.PendingReplies() != 0 {
		t.Errorf("%d requests, %d replies left, %v", len(reqs), sim.PendingReplies(), err)
	}
}
