package openaisim

import (
	"encoding/json"
	"net/http"
	"strings"
)

// stream answers a chat request as server-sent events (§5.3 of the provider reference): a
// first delta with the role, the content in word-sized pieces or each tool call in turn, a
// last chunk with an empty delta and the finish reason, the usage chunk when
// stream_options.include_usage is set, then "data: [DONE]".
//
// Tool calls are streamed the way langchaingo merges them: one call at a time, its first
// fragment with index, id, type "function", name and empty arguments, then fragments with
// only the index and a non-empty piece of the arguments.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, rec *Request, ans Response, id string, created int64) {
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	send := func(choices []any, usageBlock any) bool {
		chunk := map[string]any{
			"id": id, "object": "chat.completion.chunk", "created": created, "model": rec.Model,
			"service_tier": "default", "system_fingerprint": nil, "choices": choices,
			"obfuscation": randomString(alnum, 4),
		}
		if rec.IncludeUsage {
			chunk["usage"] = usageBlock
		}
		b, err := json.Marshal(chunk)
		if err != nil {
			return false
		}
		if _, err := w.Write([]byte("data: " + string(b) + "\n\n")); err != nil {
			return false
		}
		if flusher != nil {
			flusher.Flush()
		}
		return r.Context().Err() == nil
	}
	delta := func(d map[string]any, finish any) []any {
		return []any{map[string]any{"index": 0, "delta": d, "logprobs": nil, "finish_reason": finish}}
	}

	if !send(delta(map[string]any{"role": "assistant", "content": nullable("", len(ans.ToolCalls) > 0),
		"refusal": nil}, nil), nil) {
		return
	}
	for _, piece := range splitWords(ans.Content) {
		if !send(delta(map[string]any{"content": piece}, nil), nil) {
			return
		}
	}
	for i, c := range ans.ToolCalls {
		first := map[string]any{"index": i, "id": c.ID, "type": "function",
			"function": map[string]string{"name": c.Name, "arguments": ""}}
		if !send(delta(map[string]any{"tool_calls": []any{first}}, nil), nil) {
			return
		}
		for _, piece := range splitRunes(c.Arguments, 8) {
			frag := map[string]any{"index": i, "function": map[string]string{"arguments": piece}}
			if !send(delta(map[string]any{"tool_calls": []any{frag}}, nil), nil) {
				return
			}
		}
	}
	if !send(delta(map[string]any{}, ans.FinishReason), nil) {
		return
	}
	if rec.IncludeUsage && !send([]any{}, usage(*rec, ans)) {
		return
	}
	_, _ = w.Write([]byte("data: [DONE]\n\n"))
	if flusher != nil {
		flusher.Flush()
	}
}

// splitWords cuts text into pieces that each start at a word, keeping the spaces, so the
// pieces join back to the text.
func splitWords(text string) []string {
	var out []string
	start := 0
	for i := 1; i < len(text); i++ {
		if text[i] == ' ' && text[i-1] != ' ' {
			out = append(out, text[start:i])
			start = i
		}
	}
	if start < len(text) {
		out = append(out, text[start:])
	}
	return out
}

// splitRunes cuts text into pieces of at most n runes, none empty.
func splitRunes(text string, n int) []string {
	var out []string
	var b strings.Builder
	count := 0
	for _, r := range text {
		b.WriteRune(r)
		count++
		if count == n {
			out = append(out, b.String())
			b.Reset()
			count = 0
		}
	}
	if b.Len() > 0 {
		out = append(out, b.String())
	}
	return out
}
