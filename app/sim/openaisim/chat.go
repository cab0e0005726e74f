package openaisim

import (
	"fmt"
	"net/http"
	"regexp"
)

var schemaName = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// handleChat answers POST /v1/chat/completions, plain or streamed.
func (s *Server) handleChat(w http.ResponseWriter, r *http.Request, rec *Request) {
	if e, ok := s.checkChat(rec); !ok {
		writeError(w, e)
		return
	}
	ans := s.answer(*rec)
	for _, c := range ans.ToolCalls {
		if _, ok := rec.Tool(c.Name); !ok {
			s.log.Warn("openaisim: answering with a tool the request did not offer", "tool", c.Name)
		}
	}
	s.log.Debug("openaisim: chat", "model", rec.Model, "stream", rec.Stream, "tools", len(ans.ToolCalls),
		"finish_reason", ans.FinishReason)
	id, created := newChatID(), s.now().Unix()
	if rec.Stream {
		s.stream(w, r, rec, ans, id, created)
		return
	}
	message := map[string]any{"role": "assistant", "content": nullable(ans.Content, len(ans.ToolCalls) > 0),
		"refusal": nil, "annotations": []any{}}
	if len(ans.ToolCalls) > 0 {
		calls := make([]map[string]any, len(ans.ToolCalls))
		for i, c := range ans.ToolCalls {
			calls[i] = map[string]any{"id": c.ID, "type": "function",
				"function": map[string]string{"name": c.Name, "arguments": c.Arguments}}
		}
		message["tool_calls"] = calls
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id": id, "object": "chat.completion", "created": created, "model": rec.Model,
		"choices": []any{map[string]any{"index": 0, "message": message, "logprobs": nil,
			"finish_reason": ans.FinishReason}},
		"usage":        usage(*rec, ans),
		"service_tier": "default", "system_fingerprint": nil,
	})
}

// nullable is content as OpenAI sends it: null next to tool calls when there is no text.
func nullable(content string, toolCalls bool) any {
	if content == "" && toolCalls {
		return nil
	}
	return content
}

// checkChat refuses what OpenAI refuses: no model, an unknown or embedding model, no
// messages, a message without a role, a bad response_format.
func (s *Server) checkChat(rec *Request) (apiError, bool) {
	if rec.Model == "" {
		return invalidRequest("model", "you must provide a model parameter"), false
	}
	m, ok := s.model(rec.Model)
	if !ok {
		return modelNotFound(rec.Model), false
	}
	if m.Dimensions > 0 {
		return apiError{status: http.StatusNotFound, Type: "invalid_request_error", Param: "model",
			Code: "model_not_found", Message: "This is not a chat model and thus not supported in the " +
				"v1/chat/completions endpoint. Did you mean to use v1/completions?"}, false
	}
	if len(rec.Messages) == 0 {
		return invalidRequest("messages", "[] is too short - 'messages'"), false
	}
	for i, msg := range rec.Messages {
		switch msg.Role {
		case "developer", "system", "user", "assistant", "tool", "function":
		default:
			return invalidRequest(fmt.Sprintf("messages.[%d].role", i),
				fmt.Sprintf("Invalid value: '%s'. Supported values are: 'system', 'assistant', 'user', "+
					"'function', 'tool', and 'developer'.", msg.Role)), false
		}
		if msg.Role == "tool" && msg.ToolCallID == "" {
			return invalidRequest(fmt.Sprintf("messages.[%d].tool_call_id", i),
				"Missing parameter 'tool_call_id': messages with role 'tool' must have a 'tool_call_id'."), false
		}
	}
	if f := rec.ResponseFormat; f != nil {
		switch f.Type {
		case "text", "json_object":
		case "json_schema":
			if !schemaName.MatchString(f.Name) {
				return invalidRequest("response_format.json_schema.name",
					"Invalid 'response_format.json_schema.name': must match [a-zA-Z0-9_-] and be at most 64 characters."), false
			}
		default:
			return invalidRequest("response_format.type", fmt.Sprintf("Invalid value: '%s'. Supported values are: "+
				"'json_object', 'json_schema', and 'text'.", f.Type)), false
		}
	}
	return apiError{}, true
}
