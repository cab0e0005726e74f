package provider

import (
	"context"

	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/llms/openai"
)

// ResponseFormat is the response_format of a chat request: structured output, the answer
// a JSON text that follows a JSON schema.
type ResponseFormat = openai.ResponseFormat

// SchemaProperty is one node of a response format's JSON schema.
type SchemaProperty = openai.ResponseFormatJSONSchemaProperty

// JSONSchema names a response format's JSON schema.
type JSONSchema = openai.ResponseFormatJSONSchema

// ChatWithFormat is Chat whose every answer follows the response format: langchaingo sets
// response_format on its client, not per call, so a caller that wants structured output
// gets a client of its own. Tokens and cost are recorded like Chat's.
func (s *Service) ChatWithFormat(ctx context.Context, orgID int64, rf *ResponseFormat) (llms.Model, error) {
	p, key, err := s.open(ctx, orgID)
	if err != nil {
		return nil, err
	}
	llm, err := s.chat(p, key, s.callTimeout, openai.WithResponseFormat(rf))
	if err != nil {
		return nil, err
	}
	return &metered{Model: llm, s: s, orgID: orgID, model: p.ChatModel}, nil
}
