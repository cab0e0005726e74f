package openaisim_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tmc/langchaingo/llms/openai"

	"masteria/app/sim/openaisim"
)

const apiKey = "sk-test-0123456789abcdef"

// startSim starts a sim that accepts apiKey and stops it when the test ends.
func startSim(t *testing.T, opts ...openaisim.Option) *openaisim.Server {
	t.Helper()
	sim := openaisim.New(append([]openaisim.Option{openaisim.WithAPIKey(apiKey)}, opts...)...)
	if _, err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	return sim
}

// newLLM is the langchaingo client the app uses, pointed at the sim.
func newLLM(t *testing.T, sim *openaisim.Server, opts ...openai.Option) *openai.LLM {
	t.Helper()
	base := []openai.Option{
		openai.WithBaseURL(sim.URL() + "/v1"),
		openai.WithToken(apiKey),
		openai.WithModel("gpt-4o-mini"),
		openai.WithEmbeddingModel("text-embedding-3-small"),
	}
	llm, err := openai.New(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return llm
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// post sends a raw request to the sim, for checks of the wire format langchaingo hides.
func post(t *testing.T, sim *openaisim.Server, path, key, body string) *http.Response {
	t.Helper()
	return do(t, sim, http.MethodPost, path, key, body)
}

func do(t *testing.T, sim *openaisim.Server, method, path, key, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, sim.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func decode(t *testing.T, r io.Reader) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.NewDecoder(r).Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// sseEvents reads a stream's data lines.
func sseEvents(t *testing.T, r io.Reader) []string {
	t.Helper()
	var out []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			out = append(out, data)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// errorObject checks OpenAI's error body, all four keys present, and returns it.
func errorObject(t *testing.T, resp *http.Response) map[string]any {
	t.Helper()
	body := decode(t, resp.Body)
	e, ok := body["error"].(map[string]any)
	if !ok {
		t.Fatalf("no error object in %v", body)
	}
	for _, k := range []string{"message", "type", "param", "code"} {
		if _, ok := e[k]; !ok {
			t.Errorf("error object without %q: %v", k, e)
		}
	}
	return e
}
