package openaisim_test

import (
	"net/http"
	"testing"

	"masteria/app/sim/openaisim"
)

func TestModels(t *testing.T) {
	sim := startSim(t)
	sim.AddModel(openaisim.Model{ID: "llama3.1:8b", Created: 1721000000, OwnedBy: "library"})

	resp := do(t, sim, http.MethodGet, "/v1/models", apiKey, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	body := decode(t, resp.Body)
	ids := map[string]map[string]any{}
	for _, d := range body["data"].([]any) {
		m := d.(map[string]any)
		if _, ok := m["shutdown_date"]; !ok || m["object"] != "model" {
			t.Errorf("model %v", m)
		}
		ids[m["id"].(string)] = m
	}
	if body["object"] != "list" || ids["llama3.1:8b"] == nil || ids["text-embedding-3-small"] == nil {
		t.Errorf("models %v", body)
	}

	one := decode(t, do(t, sim, http.MethodGet, "/v1/models/gpt-3.5-turbo", apiKey, "").Body)
	if one["id"] != "gpt-3.5-turbo" || one["shutdown_date"] != "2026-10-23" || one["owned_by"] != "openai" {
		t.Errorf("model %v", one)
	}
	missing := do(t, sim, http.MethodGet, "/v1/models/gpt-9", apiKey, "")
	if missing.StatusCode != http.StatusNotFound {
		t.Errorf("unknown model: status %d", missing.StatusCode)
	}
	if e := errorObject(t, missing); e["code"] != "model_not_found" {
		t.Errorf("error %v", e)
	}

	// A configured list replaces the default one, and chat follows it.
	custom := startSim(t, openaisim.WithModels(openaisim.Model{ID: "qwen2.5"}))
	body = decode(t, do(t, custom, http.MethodGet, "/v1/models", apiKey, "").Body)
	if data := body["data"].([]any); len(data) != 1 || data[0].(map[string]any)["shutdown_date"] != nil {
		t.Errorf("custom models %v", body)
	}
	if r := post(t, custom, "/v1/chat/completions", apiKey, `{"model":"qwen2.5","messages":[{"role":"user","content":"oi"}]}`); r.StatusCode != http.StatusOK {
		t.Errorf("chat with a configured model: %d", r.StatusCode)
	}
}
