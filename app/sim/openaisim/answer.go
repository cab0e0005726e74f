package openaisim

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Response is a chat answer: text, or tool calls (then content is null unless Content is
// also set), as a scripted reply or from the Responder.
type Response struct {
	Content   string
	ToolCalls []ToolCall
	// FinishReason defaults to "tool_calls" with tool calls, else "stop"; "length" or
	// "content_filter" can be asked for.
	FinishReason string
	// PromptTokens and CompletionTokens override the estimated usage when not 0.
	PromptTokens     int
	CompletionTokens int
}

func (r Response) isZero() bool {
	return r.Content == "" && len(r.ToolCalls) == 0 && r.FinishReason == ""
}

// Responder decides a chat answer from the request. A zero Response means "no opinion": the
// default answer is used.
type Responder func(Request) Response

// SetResponder sets the hook that answers chat requests when no scripted reply is queued;
// nil removes it.
func (s *Server) SetResponder(f Responder) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.responder = f
}

// Reply queues a text answer for the next chat request.
func (s *Server) Reply(text string) { s.ReplyWith(Response{Content: text}) }

// ReplyTool queues an answer that calls the function name with argumentsJSON (sent as given,
// so a test can send broken arguments; "" becomes "{}").
func (s *Server) ReplyTool(name, argumentsJSON string) {
	s.ReplyWith(Response{ToolCalls: []ToolCall{{Name: name, Arguments: argumentsJSON}}})
}

// ReplyJSON queues an answer whose content is v marshalled to JSON, as structured output
// (response_format json_object or json_schema) comes back. It panics if v cannot be
// marshalled, a mistake in the test.
func (s *Server) ReplyJSON(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("openaisim: ReplyJSON: %v", err))
	}
	s.ReplyWith(Response{Content: string(b)})
}

// ReplyWith queues any answer, such as several tool calls at once.
func (s *Server) ReplyWith(r Response) {
	r.ToolCalls = slices.Clone(r.ToolCalls)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.replies = append(s.replies, r)
}

// PendingReplies returns how many scripted replies are still queued.
func (s *Server) PendingReplies() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.replies)
}

// answer decides the answer to a chat request: the next scripted reply, else the Responder's,
// else DefaultResponse. Tool calls get ids and JSON arguments, the finish reason is set.
func (s *Server) answer(req Request) Response {
	s.mu.Lock()
	var r Response
	scripted := len(s.replies) > 0
	if scripted {
		r = s.replies[0]
		s.replies = s.replies[1:]
	}
	responder := s.responder
	s.mu.Unlock()
	if !scripted && responder != nil {
		r = responder(req)
	}
	if r.isZero() {
		r = DefaultResponse(req)
	}
	r.ToolCalls = slices.Clone(r.ToolCalls)
	for i := range r.ToolCalls {
		if r.ToolCalls[i].ID == "" {
			r.ToolCalls[i].ID = newCallID()
		}
		if r.ToolCalls[i].Arguments == "" {
			r.ToolCalls[i].Arguments = "{}"
		}
	}
	if r.FinishReason == "" {
		r.FinishReason = "stop"
		if len(r.ToolCalls) > 0 {
			r.FinishReason = "tool_calls"
		}
	}
	return r
}

// DefaultResponse is the answer when nothing is scripted. With a json_schema response format
// it is a value shaped by the schema (required properties, first enum values, empty strings,
// zeros, false); with json_object, {"resposta": <the text answer>}. The text answer is a short
// Portuguese sentence: the sentence of the system and tool messages that shares the most
// words with the last user message ("De acordo com as informações que tenho: …", followed by
// " [n]" when it comes from a numbered passage, a line starting "[n] "), or, when none
// shares a word, an acknowledgement quoting the user's message. It never calls a tool.
func DefaultResponse(req Request) Response {
	text := defaultText(req)
	if f := req.ResponseFormat; f != nil {
		switch f.Type {
		case "json_schema":
			var schema map[string]any
			_ = json.Unmarshal(f.Schema, &schema)
			b, _ := json.Marshal(sampleValue(schema, text))
			return Response{Content: string(b)}
		case "json_object":
			b, _ := json.Marshal(map[string]string{"resposta": text})
			return Response{Content: string(b)}
		}
	}
	return Response{Content: text}
}

// passageNumber is the start of a numbered passage in a prompt.
var passageNumber = regexp.MustCompile(`^\[(\d+)\]\s`)

func defaultText(req Request) string {
	question := req.LastUser()
	asked := map[string]bool{}
	for _, w := range Words(question) {
		if !stopWords[w] && len(w) > 2 {
			asked[w] = true
		}
	}
	// A system message may hold numbered passages ("[2] title" starts passage 2): a sentence
	// taken from one is cited by its number, as the bot asks of real models.
	best, bestScore, bestCite := "", 0, ""
	for _, m := range req.Messages {
		if m.Role != "system" && m.Role != "developer" && m.Role != "tool" {
			continue
		}
		cite := ""
		for _, line := range strings.Split(m.Content, "\n") {
			if n := passageNumber.FindStringSubmatch(line); n != nil {
				cite = n[1]
			}
			for _, sentence := range sentences(line) {
				score := 0
				seen := map[string]bool{}
				for _, w := range Words(sentence) {
					if asked[w] && !seen[w] {
						seen[w] = true
						score++
					}
				}
				if score > bestScore {
					best, bestScore, bestCite = sentence, score, cite
				}
			}
		}
	}
	if best != "" {
		if bestCite != "" {
			best = strings.TrimPrefix(best, "["+bestCite+"] ") + " [" + bestCite + "]"
		}
		return "De acordo com as informações que tenho: " + best
	}
	if question == "" {
		return "Olá! Como posso ajudar?"
	}
	return "Recebi sua mensagem: \"" + truncate(question, 80) + "\". Como posso ajudar?"
}

// sentences splits text into lines and sentences (ending in . ! or ?), trimmed, non-empty.
func sentences(text string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		start := 0
		for i, r := range line {
			if r == '.' || r == '!' || r == '?' {
				if i+1 == len(line) || line[i+1] == ' ' {
					out = appendTrimmed(out, line[start:i+1])
					start = i + 1
				}
			}
		}
		out = appendTrimmed(out, line[start:])
	}
	return out
}

func appendTrimmed(out []string, s string) []string {
	s = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(s), "-*#>[]0123456789:)"))
	if s != "" {
		out = append(out, s)
	}
	return out
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// sampleValue builds a value that satisfies a JSON schema in the simple cases structured
// output uses; text fills the first string property.
func sampleValue(schema map[string]any, text string) any {
	if enum, ok := schema["enum"].([]any); ok && len(enum) > 0 {
		return enum[0]
	}
	if c, ok := schema["const"]; ok {
		return c
	}
	typ, _ := schema["type"].(string)
	if types, ok := schema["type"].([]any); ok && len(types) > 0 {
		typ, _ = types[0].(string)
	}
	switch typ {
	case "object", "":
		props, _ := schema["properties"].(map[string]any)
		if typ == "" && props == nil {
			return map[string]any{}
		}
		out := map[string]any{}
		keys := make([]string, 0, len(props))
		for k := range props {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			p, _ := props[k].(map[string]any)
			v := sampleValue(p, text)
			if s, ok := v.(string); ok && s == "" && text != "" {
				v, text = text, ""
			}
			out[k] = v
		}
		return out
	case "array":
		return []any{}
	case "string":
		return ""
	case "number":
		return 0.5
	case "integer":
		return 0
	case "boolean":
		return false
	case "null":
		return nil
	}
	return nil
}

// countTokens estimates tokens: one per 4 runes, rounded up.
func countTokens(text string) int { return (utf8.RuneCountInString(text) + 3) / 4 }

// usage estimates a chat answer's usage, unless the Response fixes it.
func usage(req Request, r Response) map[string]any {
	prompt := r.PromptTokens
	if prompt == 0 {
		prompt = 3
		for _, m := range req.Messages {
			prompt += 3 + countTokens(m.Content)
			for _, c := range m.ToolCalls {
				prompt += countTokens(c.Name) + countTokens(c.Arguments)
			}
		}
		for _, t := range req.Tools {
			prompt += countTokens(t.Name) + countTokens(t.Description) + countTokens(string(t.Parameters))
		}
	}
	completion := r.CompletionTokens
	if completion == 0 {
		completion = countTokens(r.Content)
		for _, c := range r.ToolCalls {
			completion += countTokens(c.Name) + countTokens(c.Arguments)
		}
		completion = max(completion, 1)
	}
	return map[string]any{
		"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
		"prompt_tokens_details": map[string]int{"cached_tokens": 0, "audio_tokens": 0},
		"completion_tokens_details": map[string]int{"reasoning_tokens": 0, "audio_tokens": 0,
			"accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0},
	}
}
