package openaisim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Request is one request the sim received, with its JSON body parsed.
type Request struct {
	Time   time.Time
	Method string
	Path   string
	Header http.Header
	Body   []byte // as received
	Status int    // what the sim answered; 0 until it answers (and when the client left during SetDelay)

	// Chat completions and embeddings.
	Model string

	// Chat completions.
	Messages            []Message
	Tools               []Tool
	ToolChoice          json.RawMessage // "auto", "none", "required" or an object; nil when absent
	ResponseFormat      *ResponseFormat
	Stream              bool
	IncludeUsage        bool     // stream_options.include_usage
	Temperature         *float64 // nil when absent
	MaxCompletionTokens int      // max_completion_tokens, or the legacy max_tokens

	// Embeddings: one text per input item (token arrays as "t<id>" words), and dimensions.
	Input      []string
	Dimensions int
}

// Message is a chat message as the app sent it.
type Message struct {
	Role       string // developer, system, user, assistant, tool (or the legacy function)
	Content    string // the text parts joined by newlines when content is an array
	Name       string
	ToolCallID string     // tool messages
	ToolCalls  []ToolCall // assistant messages
}

// ToolCall is a function call, asked by the model or replayed by the app in the history.
type ToolCall struct {
	ID        string // generated ("call_…") when a scripted reply leaves it empty
	Name      string
	Arguments string // JSON text
}

// Tool is a function the app offered the model.
type Tool struct {
	Name        string
	Description string
	Parameters  json.RawMessage // JSON Schema
	Strict      bool
}

// ResponseFormat is the requested response_format.
type ResponseFormat struct {
	Type   string          // text, json_object or json_schema
	Name   string          // json_schema.name
	Schema json.RawMessage // json_schema.schema
	Strict bool
}

// System returns the text of the system and developer messages, joined by blank lines.
func (r Request) System() string {
	var parts []string
	for _, m := range r.Messages {
		if m.Role == "system" || m.Role == "developer" {
			parts = append(parts, m.Content)
		}
	}
	return strings.Join(parts, "\n\n")
}

// LastUser returns the content of the last user message, or "".
func (r Request) LastUser() string {
	for _, m := range slices.Backward(r.Messages) {
		if m.Role == "user" {
			return m.Content
		}
	}
	return ""
}

// Tool returns the offered tool with that name.
func (r Request) Tool(name string) (Tool, bool) {
	i := slices.IndexFunc(r.Tools, func(t Tool) bool { return t.Name == name })
	if i < 0 {
		return Tool{}, false
	}
	return r.Tools[i], true
}

// Prompt returns every message's content, one per line, for tests that only check that a
// text was (or was not) sent.
func (r Request) Prompt() string {
	var b strings.Builder
	for _, m := range r.Messages {
		b.WriteString(m.Content)
		b.WriteByte('\n')
	}
	return b.String()
}

func (r Request) clone() Request {
	c := r
	c.Header = r.Header.Clone()
	c.Body = slices.Clone(r.Body)
	c.Messages = slices.Clone(r.Messages)
	for i := range c.Messages {
		c.Messages[i].ToolCalls = slices.Clone(c.Messages[i].ToolCalls)
	}
	c.Tools = slices.Clone(r.Tools)
	c.Input = slices.Clone(r.Input)
	if r.ResponseFormat != nil {
		f := *r.ResponseFormat
		c.ResponseFormat = &f
	}
	return c
}

// Requests returns every request received so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requestsLocked()
}

func (s *Server) requestsLocked() []Request {
	out := make([]Request, len(s.reqs))
	for i, r := range s.reqs {
		out[i] = r.clone()
	}
	return out
}

// WaitRequests waits until at least n requests were received and returns them all.
func (s *Server) WaitRequests(ctx context.Context, n int) ([]Request, error) {
	var out []Request
	err := s.changes.Wait(ctx, func() bool {
		if len(s.reqs) < n {
			return false
		}
		out = s.requestsLocked()
		return true
	})
	return out, err
}

// Reset forgets the recorded requests, scripted replies, failure modes and the delay.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs, s.replies, s.failures = nil, nil, failures{}
	s.changes.Notify()
}

// record reads and parses the body and appends the request. A body that is not what the
// endpoint takes gives the 400 to answer once the key is checked.
func (s *Server) record(r *http.Request) (Request, int, *apiError) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	rec := Request{Time: s.now(), Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body}
	var perr *apiError
	if err != nil {
		e := invalidRequest("", "could not read the request body: "+err.Error())
		perr = &e
	} else if r.Method == http.MethodPost {
		perr = parseBody(&rec)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = append(s.reqs, rec)
	s.changes.Notify()
	return rec.clone(), len(s.reqs) - 1, perr
}

func (s *Server) setStatus(idx, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if idx < len(s.reqs) {
		s.reqs[idx].Status = status
		s.changes.Notify()
	}
}

// wireRequest is the union of the chat and embedding bodies.
type wireRequest struct {
	Model          string          `json:"model"`
	Messages       []wireMessage   `json:"messages"`
	Tools          []wireTool      `json:"tools"`
	Functions      []wireFunction  `json:"functions"`
	ToolChoice     json.RawMessage `json:"tool_choice"`
	ResponseFormat *wireFormat     `json:"response_format"`
	Stream         bool            `json:"stream"`
	StreamOptions  *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	Temperature         *float64        `json:"temperature"`
	MaxCompletionTokens int             `json:"max_completion_tokens"`
	MaxTokens           int             `json:"max_tokens"`
	Input               json.RawMessage `json:"input"`
	Dimensions          int             `json:"dimensions"`
}

type wireMessage struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content"`
	Name       string          `json:"name"`
	ToolCallID string          `json:"tool_call_id"`
	ToolCalls  []struct {
		ID       string `json:"id"`
		Function struct {
			Name      string `json:"name"`
			Arguments string `json:"arguments"`
		} `json:"function"`
	} `json:"tool_calls"`
}

type wireFunction struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Parameters  json.RawMessage `json:"parameters"`
	Strict      bool            `json:"strict"`
}

type wireTool struct {
	Type     string       `json:"type"`
	Function wireFunction `json:"function"`
}

type wireFormat struct {
	Type       string `json:"type"`
	JSONSchema *struct {
		Name   string          `json:"name"`
		Schema json.RawMessage `json:"schema"`
		Strict bool            `json:"strict"`
	} `json:"json_schema"`
}

func parseBody(rec *Request) *apiError {
	var w wireRequest
	if err := json.Unmarshal(rec.Body, &w); err != nil {
		e := invalidRequest("", "We could not parse the JSON body of your request. (HINT: This likely means you aren't "+
			"using your HTTP library correctly. The OpenAI API expects a JSON payload.) "+err.Error())
		return &e
	}
	rec.Model = w.Model
	rec.Stream = w.Stream
	rec.IncludeUsage = w.StreamOptions != nil && w.StreamOptions.IncludeUsage
	rec.Temperature = w.Temperature
	rec.MaxCompletionTokens = w.MaxCompletionTokens
	if rec.MaxCompletionTokens == 0 {
		rec.MaxCompletionTokens = w.MaxTokens
	}
	rec.ToolChoice = w.ToolChoice
	rec.Dimensions = w.Dimensions
	for i, m := range w.Messages {
		text, err := contentText(m.Content)
		if err != nil {
			e := invalidRequest(fmt.Sprintf("messages.[%d].content", i), err.Error())
			return &e
		}
		msg := Message{Role: m.Role, Content: text, Name: m.Name, ToolCallID: m.ToolCallID}
		for _, c := range m.ToolCalls {
			msg.ToolCalls = append(msg.ToolCalls, ToolCall{ID: c.ID, Name: c.Function.Name, Arguments: c.Function.Arguments})
		}
		rec.Messages = append(rec.Messages, msg)
	}
	for _, t := range w.Tools {
		f := t.Function
		rec.Tools = append(rec.Tools, Tool{Name: f.Name, Description: f.Description, Parameters: f.Parameters, Strict: f.Strict})
	}
	for _, f := range w.Functions {
		rec.Tools = append(rec.Tools, Tool{Name: f.Name, Description: f.Description, Parameters: f.Parameters, Strict: f.Strict})
	}
	if f := w.ResponseFormat; f != nil {
		rec.ResponseFormat = &ResponseFormat{Type: f.Type}
		if f.JSONSchema != nil {
			rec.ResponseFormat.Name = f.JSONSchema.Name
			rec.ResponseFormat.Schema = f.JSONSchema.Schema
			rec.ResponseFormat.Strict = f.JSONSchema.Strict
		}
	}
	if len(w.Input) > 0 {
		in, err := inputTexts(w.Input)
		if err != nil {
			e := invalidRequest("input", err.Error())
			return &e
		}
		rec.Input = in
	}
	return nil
}

// contentText reads a message content: null, a string, or an array of parts whose text
// parts are joined by newlines (image and audio parts are left out).
func contentText(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	if raw[0] == '"' {
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(raw, &parts); err != nil {
		return "", fmt.Errorf("content must be a string or an array of content parts")
	}
	var texts []string
	for _, p := range parts {
		if p.Type == "text" {
			texts = append(texts, p.Text)
		}
	}
	return strings.Join(texts, "\n"), nil
}

// inputTexts reads an embeddings input: a string, strings, a token array or token arrays.
// Token arrays become texts of "t<id>" words, so equal tokens still embed alike.
func inputTexts(raw json.RawMessage) ([]string, error) {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, nil
	}
	var many []string
	if json.Unmarshal(raw, &many) == nil {
		return many, nil
	}
	tokensText := func(ts []int) string {
		words := make([]string, len(ts))
		for i, t := range ts {
			words[i] = fmt.Sprintf("t%d", t)
		}
		return strings.Join(words, " ")
	}
	var tokens []int
	if json.Unmarshal(raw, &tokens) == nil {
		return []string{tokensText(tokens)}, nil
	}
	var batches [][]int
	if json.Unmarshal(raw, &batches) == nil {
		out := make([]string, len(batches))
		for i, b := range batches {
			out[i] = tokensText(b)
		}
		return out, nil
	}
	return nil, fmt.Errorf("'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.")
}
