package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tmc/langchaingo/llms"

	"masteria/app/ai/knowledge"
	"masteria/app/ai/provider"
	"masteria/app/model"
)

// Turn is one message of the conversation so far, as the model reads it.
type Turn struct {
	Customer bool
	Text     string
}

// HandOverCall is the model asking for a person, in its own words.
type HandOverCall struct {
	Reason  string `json:"reason"`
	Summary string `json:"summary"`
}

// Answer is what the bot would say to a question, and what it was built from.
type Answer struct {
	Text      string           // for the customer: the citation marks taken out
	Raw       string           // as the model wrote it
	Citations []model.Citation // the passages the answer cites, by their numbers
	Passages  []model.ChunkHit // the relevant passages the model was given, numbered from 1
	Hits      []model.ChunkHit // everything retrieval found, relevant or not
	HandOver  *HandOverCall    // the model asked for a person instead of answering
	// NothingFound: the persona has knowledge bases, none holds anything on the question,
	// and the question is more than a greeting. The model is not asked.
	NothingFound     bool
	Model            string
	PromptTokens     int
	CompletionTokens int
	Cost             float64
}

// Passages found farther than this from the question (cosine distance) do not count as
// relevant unless their words matched too.
const relevantDistance = 0.6

// passagesK is how many passages retrieval gives the model.
const passagesK = 5

// handOverTool is the one tool the model has: asking for a person.
var handOverTool = llms.Tool{Type: "function", Function: &llms.FunctionDefinition{
	Name: "hand_over",
	Description: "Pass the conversation to a person on the team. Use it when the passages do not answer " +
		"the customer, when the customer asks for a person, is upset, wants to negotiate, buy or " +
		"complain, or when you are unsure.",
	Parameters: map[string]any{
		"type": "object",
		"properties": map[string]any{
			"reason":  map[string]any{"type": "string", "description": "Why a person should take over, in one short sentence."},
			"summary": map[string]any{"type": "string", "description": "What the customer wants and what was said so far, for the person taking over, in two or three short sentences."},
		},
		"required": []string{"reason", "summary"},
	},
}}

// Answer asks the persona's model a question with the conversation so far, over the
// passages its knowledge bases hold on the question.
func (s *Service) Answer(ctx context.Context, orgID int64, p model.Persona, history []Turn, question string) (Answer, error) {
	var out Answer
	if len(p.KnowledgeBases) > 0 {
		hits, _, err := s.kb.Search(ctx, orgID, p.KnowledgeBases, question, passagesK)
		if err != nil {
			return out, err
		}
		out.Hits = hits
		for _, h := range hits {
			if h.LexicalRank > 0 || (h.VectorDistance != nil && *h.VectorDistance <= relevantDistance) {
				out.Passages = append(out.Passages, h)
			}
		}
		if len(out.Passages) == 0 && substantive(question) {
			out.NothingFound = true
			return out, nil
		}
	}
	llm, name, err := s.ai.ChatAs(ctx, orgID, p.Model)
	if err != nil {
		return out, err
	}
	out.Model = name
	msgs := []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeSystem, systemPrompt(p, out.Passages))}
	for _, t := range history {
		role := llms.ChatMessageTypeAI
		if t.Customer {
			role = llms.ChatMessageTypeHuman
		}
		msgs = append(msgs, llms.TextParts(role, t.Text))
	}
	msgs = append(msgs, llms.TextParts(llms.ChatMessageTypeHuman, question))
	resp, err := llm.GenerateContent(ctx, msgs, llms.WithTemperature(p.Temperature), llms.WithMaxTokens(700),
		llms.WithTools([]llms.Tool{handOverTool}))
	if err != nil {
		return out, err
	}
	if len(resp.Choices) == 0 {
		return out, fmt.Errorf("bot: the model gave no answer")
	}
	c := resp.Choices[0]
	out.PromptTokens, out.CompletionTokens = provider.Tokens(resp)
	out.Cost, _ = provider.Cost(name, out.PromptTokens, out.CompletionTokens)
	for _, call := range c.ToolCalls {
		if call.FunctionCall == nil || call.FunctionCall.Name != handOverTool.Function.Name {
			continue
		}
		var h HandOverCall
		_ = json.Unmarshal([]byte(call.FunctionCall.Arguments), &h) // words missing: still a hand-over
		out.HandOver = &h
		return out, nil
	}
	out.Raw = strings.TrimSpace(c.Content)
	out.Text, out.Citations = cite(out.Raw, out.Passages)
	return out, nil
}

// systemPrompt tells the model who it is, how to answer and what it knows. The passages
// come last, each starting with its number in brackets.
func systemPrompt(p model.Persona, passages []model.ChunkHit) string {
	var b strings.Builder
	fmt.Fprintf(&b, "You are %s, who answers customers of this business on WhatsApp and SMS.\n", p.Name)
	if strings.TrimSpace(p.Instructions) != "" {
		b.WriteString("Instructions from the business:\n" + strings.TrimSpace(p.Instructions) + "\n")
	}
	fmt.Fprintf(&b, "Tone: %s. Always answer in %s, in simple everyday words, in at most three short paragraphs of plain text.\n",
		p.Tone, languageName(p.Language))
	if len(passages) == 0 {
		b.WriteString("You have no passages about this question: greet, ask what the customer needs, " +
			"and call hand_over for anything that needs facts about the business.\n")
		return b.String()
	}
	b.WriteString("Answer only with facts from the numbered passages below; never invent prices, dates, " +
		"addresses or rules. After each fact, write the number of its passage in brackets, like [1]. " +
		"If the passages do not answer the question, call hand_over.\n\nPassages:\n")
	b.WriteString(knowledge.Passages(passages))
	return b.String()
}

// cite takes the citation marks out of an answer and returns the passages they name, in
// the order the answer first cites them. Numbers that name no passage are dropped.
func cite(raw string, passages []model.ChunkHit) (string, []model.Citation) {
	text, numbers := knowledge.TakeCitations(raw, len(passages))
	var cites []model.Citation
	for _, n := range numbers {
		h := passages[n-1]
		cites = append(cites, model.Citation{N: n, DocumentID: h.DocumentID, ChunkID: h.ChunkID,
			Title: h.Title, Text: truncate(strings.TrimSpace(h.Text), 600)})
	}
	return text, cites
}

// greetingWords are words that carry no question: a message of only these is small talk
// the model answers without passages.
var greetingWords = map[string]bool{
	"oi": true, "ola": true, "bom": true, "boa": true, "dia": true, "tarde": true, "noite": true,
	"tudo": true, "bem": true, "obrigado": true, "obrigada": true, "valeu": true, "tchau": true,
	"sim": true, "nao": true, "ok": true, "blz": true, "beleza": true, "hello": true, "hi": true,
	"hey": true, "thanks": true, "thank": true, "you": true, "good": true, "morning": true,
	"afternoon": true, "evening": true, "yes": true, "no": true, "bye": true, "hola": true,
	"gracias": true, "buenos": true, "buenas": true, "dias": true, "tardes": true, "noches": true,
	"e": true, "ai": true, "como": true, "vai": true, "voce": true, "pode": true, "me": true, "ajudar": true,
}

// substantive tells whether a message asks something (two or more words beyond greetings).
func substantive(text string) bool {
	n := 0
	for _, w := range nonWord.Split(model.Fold(text), -1) {
		if len([]rune(w)) >= 2 && !greetingWords[w] {
			n++
		}
	}
	return n >= 2
}
