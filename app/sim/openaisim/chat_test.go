package openaisim_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/llms/openai"

	"masteria/app/sim/openaisim"
)

func TestPlainCompletion(t *testing.T) {
	sim := startSim(t)
	llm := newLLM(t, sim)
	ctx := testContext(t)
	sim.Reply("Abrimos às 7h.")

	got, err := llms.GenerateFromSinglePrompt(ctx, llm, "Que horas vocês abrem?", llms.WithTemperature(0.2))
	if err != nil {
		t.Fatal(err)
	}
	if got != "Abrimos às 7h." {
		t.Errorf("answer %q", got)
	}
	reqs := sim.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if r.Path != "/v1/chat/completions" || r.Status != http.StatusOK || r.Model != "gpt-4o-mini" || r.Stream {
		t.Errorf("recorded %s %d %s stream=%v", r.Path, r.Status, r.Model, r.Stream)
	}
	if r.LastUser() != "Que horas vocês abrem?" || r.Temperature == nil || *r.Temperature != 0.2 {
		t.Errorf("recorded messages %+v temperature %v", r.Messages, r.Temperature)
	}
	if r.Header.Get("Authorization") != "Bearer "+apiKey {
		t.Errorf("Authorization %q", r.Header.Get("Authorization"))
	}
}

func TestCompletionWireFormat(t *testing.T) {
	sim := startSim(t)
	sim.Reply("Olá!")
	resp := post(t, sim, "/v1/chat/completions", apiKey,
		`{"model":"gpt-4o-mini","messages":[{"role":"developer","content":"Seja breve."},{"role":"user","content":[{"type":"text","text":"Oi"}]}]}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if resp.Header.Get("x-request-id") == "" || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", resp.Header)
	}
	body := decode(t, resp.Body)
	if id, _ := body["id"].(string); !strings.HasPrefix(id, "chatcmpl-") || body["object"] != "chat.completion" {
		t.Errorf("id %v object %v", body["id"], body["object"])
	}
	if c, _ := body["created"].(float64); c < 1.7e9 || c > 1e10 {
		t.Errorf("created %v is not in seconds", body["created"])
	}
	choice := body["choices"].([]any)[0].(map[string]any)
	if choice["finish_reason"] != "stop" || choice["message"].(map[string]any)["content"] != "Olá!" {
		t.Errorf("choice %v", choice)
	}
	usage := body["usage"].(map[string]any)
	p, c, total := usage["prompt_tokens"].(float64), usage["completion_tokens"].(float64), usage["total_tokens"].(float64)
	if p <= 0 || c <= 0 || total != p+c {
		t.Errorf("usage %v", usage)
	}
	r := sim.Requests()[0]
	if r.System() != "Seja breve." || r.LastUser() != "Oi" {
		t.Errorf("recorded system %q user %q", r.System(), r.LastUser())
	}
}

func TestDefaultAnswerUsesContext(t *testing.T) {
	sim := startSim(t)
	llm := newLLM(t, sim)
	ctx := testContext(t)
	msgs := []llms.MessageContent{
		llms.TextParts(llms.ChatMessageTypeSystem, "Você é a atendente da Padaria Pão Quente.\n"+
			"Contexto:\n[1] O pão de queijo sai do forno às 16h. [2] Entregamos em todo o bairro por R$ 5."),
		llms.TextParts(llms.ChatMessageTypeHuman, "Que horas sai o pão de queijo?"),
	}
	var answers []string
	for range 2 {
		resp, err := llm.GenerateContent(ctx, msgs)
		if err != nil {
			t.Fatal(err)
		}
		answers = append(answers, resp.Choices[0].Content)
	}
	// The sentence comes from passage [1]: the answer cites it, as the bot asks of models.
	want := "De acordo com as informações que tenho: O pão de queijo sai do forno às 16h. [1]"
	if answers[0] != want || answers[1] != want {
		t.Errorf("answers %q, want %q twice", answers, want)
	}

	got, err := llms.GenerateFromSinglePrompt(ctx, llm, "Bom dia")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got, "Bom dia") {
		t.Errorf("answer without context %q", got)
	}
}

var handOver = llms.Tool{Type: "function", Function: &llms.FunctionDefinition{
	Name:        "transferir_para_humano",
	Description: "Passa a conversa para um atendente humano.",
	Parameters: map[string]any{"type": "object", "properties": map[string]any{
		"motivo": map[string]any{"type": "string"}}, "required": []string{"motivo"}},
}}

// handOverResponder asks for a person when the customer does, else answers from the context.
func handOverResponder(r openaisim.Request) openaisim.Response {
	if strings.Contains(openaisim.Normalize(r.LastUser()), "atendente") {
		if _, ok := r.Tool("transferir_para_humano"); ok {
			return openaisim.Response{ToolCalls: []openaisim.ToolCall{{Name: "transferir_para_humano",
				Arguments: `{"motivo":"O cliente pediu um atendente."}`}}}
		}
	}
	return openaisim.Response{}
}

func TestToolCall(t *testing.T) {
	for _, streamed := range []bool{false, true} {
		name := "plain"
		if streamed {
			name = "streamed"
		}
		t.Run(name, func(t *testing.T) {
			sim := startSim(t, openaisim.WithResponder(handOverResponder))
			llm := newLLM(t, sim)
			ctx := testContext(t)
			msgs := []llms.MessageContent{
				llms.TextParts(llms.ChatMessageTypeSystem, "Atenda os clientes da padaria."),
				llms.TextParts(llms.ChatMessageTypeHuman, "Quero falar com um ATENDENTE, por favor"),
			}
			opts := []llms.CallOption{llms.WithTools([]llms.Tool{handOver})}
			var chunks []string
			if streamed {
				opts = append(opts, llms.WithStreamingFunc(func(_ context.Context, b []byte) error {
					chunks = append(chunks, string(b))
					return nil
				}))
			}
			resp, err := llm.GenerateContent(ctx, msgs, opts...)
			if err != nil {
				t.Fatal(err)
			}
			c := resp.Choices[0]
			if c.StopReason != "tool_calls" || c.Content != "" || len(c.ToolCalls) != 1 {
				t.Fatalf("choice %+v", c)
			}
			call := c.ToolCalls[0]
			if !strings.HasPrefix(call.ID, "call_") || call.Type != "function" ||
				call.FunctionCall.Name != "transferir_para_humano" ||
				call.FunctionCall.Arguments != `{"motivo":"O cliente pediu um atendente."}` {
				t.Errorf("tool call %+v %+v", call, call.FunctionCall)
			}
			if streamed && len(chunks) < 3 {
				t.Errorf("arguments not streamed in pieces: %q", chunks)
			}
			if r := sim.Requests()[0]; len(r.Tools) != 1 || r.Tools[0].Name != "transferir_para_humano" ||
				!strings.Contains(string(r.Tools[0].Parameters), `"motivo"`) || r.Stream != streamed {
				t.Errorf("recorded tools %+v stream %v", r.Tools, r.Stream)
			}

			// The app sends the tool's result back; the sim records it with its call id.
			msgs = append(msgs,
				llms.MessageContent{Role: llms.ChatMessageTypeAI, Parts: []llms.ContentPart{call}},
				llms.MessageContent{Role: llms.ChatMessageTypeTool, Parts: []llms.ContentPart{
					llms.ToolCallResponse{ToolCallID: call.ID, Name: call.FunctionCall.Name, Content: "transferido"}}})
			sim.Reply("Um atendente já vai falar com você.")
			resp, err = llm.GenerateContent(ctx, msgs, llms.WithTools([]llms.Tool{handOver}))
			if err != nil {
				t.Fatal(err)
			}
			if resp.Choices[0].Content != "Um atendente já vai falar com você." {
				t.Errorf("answer %q", resp.Choices[0].Content)
			}
			r := sim.Requests()[1]
			last := r.Messages[len(r.Messages)-1]
			prev := r.Messages[len(r.Messages)-2]
			if last.Role != "tool" || last.ToolCallID != call.ID || last.Content != "transferido" ||
				prev.Role != "assistant" || len(prev.ToolCalls) != 1 || prev.ToolCalls[0].ID != call.ID {
				t.Errorf("recorded history %+v", r.Messages)
			}
		})
	}
}

func TestToolCallWireFormat(t *testing.T) {
	sim := startSim(t)
	sim.ReplyTool("transferir_para_humano", `{"motivo":"x"}`)
	resp := post(t, sim, "/v1/chat/completions", apiKey, `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"oi"}],
		"tools":[{"type":"function","function":{"name":"transferir_para_humano","parameters":{"type":"object"}}}]}`)
	body := decode(t, resp.Body)
	choice := body["choices"].([]any)[0].(map[string]any)
	msg := choice["message"].(map[string]any)
	if content, ok := msg["content"]; !ok || content != nil || choice["finish_reason"] != "tool_calls" {
		t.Errorf("choice %v", choice)
	}
}

func TestStreaming(t *testing.T) {
	sim := startSim(t)
	llm := newLLM(t, sim)
	ctx := testContext(t)
	text := "Temos pão francês, sonho e bolo de cenoura hoje."
	sim.Reply(text)
	var chunks []string
	resp, err := llm.GenerateContent(ctx, []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, "O que tem hoje?")},
		llms.WithStreamingFunc(func(_ context.Context, b []byte) error {
			if len(b) > 0 {
				chunks = append(chunks, string(b))
			}
			return nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	c := resp.Choices[0]
	if c.Content != text || strings.Join(chunks, "") != text || len(chunks) < 5 {
		t.Errorf("content %q chunks %q", c.Content, chunks)
	}
	if c.StopReason != "stop" || c.GenerationInfo["TotalTokens"].(int) <= 0 || c.GenerationInfo["CompletionTokens"].(int) <= 0 {
		t.Errorf("stop %q info %v", c.StopReason, c.GenerationInfo)
	}
	if r := sim.Requests()[0]; !r.Stream || !r.IncludeUsage {
		t.Errorf("recorded stream %v include_usage %v", r.Stream, r.IncludeUsage)
	}
}

func TestStreamWireFormat(t *testing.T) {
	sim := startSim(t)
	sim.Reply("Oi, tudo bem?")
	resp := post(t, sim, "/v1/chat/completions", apiKey,
		`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"oi"}],"stream":true,"stream_options":{"include_usage":true}}`)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("status %d type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	events := sseEvents(t, resp.Body)
	if events[len(events)-1] != "[DONE]" {
		t.Fatalf("last event %q", events[len(events)-1])
	}
	var chunks []map[string]any
	for _, e := range events[:len(events)-1] {
		var m map[string]any
		if err := json.Unmarshal([]byte(e), &m); err != nil {
			t.Fatal(err)
		}
		chunks = append(chunks, m)
	}
	first := chunks[0]["choices"].([]any)[0].(map[string]any)["delta"].(map[string]any)
	if first["role"] != "assistant" || first["content"] != "" {
		t.Errorf("first delta %v", first)
	}
	usageChunk := chunks[len(chunks)-1]
	if len(usageChunk["choices"].([]any)) != 0 || usageChunk["usage"] == nil {
		t.Errorf("usage chunk %v", usageChunk)
	}
	finish := chunks[len(chunks)-2]["choices"].([]any)[0].(map[string]any)
	if finish["finish_reason"] != "stop" || len(finish["delta"].(map[string]any)) != 0 {
		t.Errorf("finish chunk %v", finish)
	}
	var text strings.Builder
	for _, c := range chunks[:len(chunks)-1] {
		if u, ok := c["usage"]; !ok || u != nil {
			t.Errorf("content chunk usage %v", c["usage"])
		}
		if id, _ := c["id"].(string); !strings.HasPrefix(id, "chatcmpl-") || c["object"] != "chat.completion.chunk" {
			t.Errorf("chunk %v", c)
		}
		d := c["choices"].([]any)[0].(map[string]any)["delta"].(map[string]any)
		s, _ := d["content"].(string)
		text.WriteString(s)
	}
	if text.String() != "Oi, tudo bem?" {
		t.Errorf("streamed %q", text.String())
	}
}

func TestJSONSchema(t *testing.T) {
	sim := startSim(t)
	format := &openai.ResponseFormat{Type: "json_schema", JSONSchema: &openai.ResponseFormatJSONSchema{
		Name: "estagio", Strict: true,
		Schema: &openai.ResponseFormatJSONSchemaProperty{Type: "object", Required: []string{"stage", "confidence", "reason"},
			Properties: map[string]*openai.ResponseFormatJSONSchemaProperty{
				"stage":      {Type: "string", Enum: []any{"novo", "qualificado", "ganho"}},
				"confidence": {Type: "number"},
				"reason":     {Type: "string"},
			}},
	}}
	llm := newLLM(t, sim, openai.WithResponseFormat(format))
	ctx := testContext(t)
	type verdict struct {
		Stage      string  `json:"stage"`
		Confidence float64 `json:"confidence"`
		Reason     string  `json:"reason"`
	}

	// Unscripted: a value shaped by the schema.
	got, err := llms.GenerateFromSinglePrompt(ctx, llm, "Classifique o lead.")
	if err != nil {
		t.Fatal(err)
	}
	var v verdict
	if err := json.Unmarshal([]byte(got), &v); err != nil || v.Stage != "novo" || v.Reason == "" {
		t.Errorf("default %q: %+v %v", got, v, err)
	}

	// Scripted.
	sim.ReplyJSON(verdict{Stage: "ganho", Confidence: 0.92, Reason: "Pagou o pedido."})
	got, err = llms.GenerateFromSinglePrompt(ctx, llm, "Classifique o lead.")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(got), &v); err != nil || v != (verdict{"ganho", 0.92, "Pagou o pedido."}) {
		t.Errorf("scripted %q: %+v %v", got, v, err)
	}
	r := sim.Requests()[1]
	if r.ResponseFormat == nil || r.ResponseFormat.Type != "json_schema" || r.ResponseFormat.Name != "estagio" ||
		!r.ResponseFormat.Strict || !strings.Contains(string(r.ResponseFormat.Schema), "qualificado") {
		t.Errorf("recorded format %+v", r.ResponseFormat)
	}

	// JSON mode.
	plain := newLLM(t, sim)
	got, err = llms.GenerateFromSinglePrompt(ctx, plain, "Responda em JSON.", llms.WithJSONMode())
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(got), &obj); err != nil || obj["resposta"] == "" {
		t.Errorf("json_object answer %q: %v", got, err)
	}
}

func TestChatRefusals(t *testing.T) {
	sim := startSim(t)
	cases := []struct {
		body   string
		status int
		code   string
	}{
		{`{"model":"gpt-9","messages":[{"role":"user","content":"oi"}]}`, 404, "model_not_found"},
		{`{"model":"text-embedding-3-small","messages":[{"role":"user","content":"oi"}]}`, 404, "model_not_found"},
		{`{"model":"gpt-4o-mini","messages":[]}`, 400, ""},
		{`{"model":"gpt-4o-mini","messages":[{"role":"tool","content":"x"}]}`, 400, ""},
		{`{"model":"gpt-4o-mini",`, 400, ""},
	}
	for _, c := range cases {
		resp := post(t, sim, "/v1/chat/completions", apiKey, c.body)
		if resp.StatusCode != c.status {
			t.Errorf("%s: status %d, want %d", c.body, resp.StatusCode, c.status)
		}
		e := errorObject(t, resp)
		if code, _ := e["code"].(string); code != c.code {
			t.Errorf("%s: code %v, want %q", c.body, e["code"], c.code)
		}
	}
}
