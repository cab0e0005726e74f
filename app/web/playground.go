package web

import (
	"github.com/labstack/echo/v4"

	"masteria/app/model"
	"masteria/views/ai"
)

// playgroundAnswer is what the bot would answer a question from one knowledge base, with
// its numbered citations; nil when the org has no AI provider (the playground then shows
// what retrieval found, which needs none).
func (s *Server) playgroundAnswer(c echo.Context, baseID int64, question string) *ai.PlaygroundAnswer {
	ctx := c.Request().Context()
	org := reqOf(c).Org.ID
	if s.bot == nil {
		return nil
	}
	if _, err := s.ai.Settings(ctx, org); err != nil {
		return nil
	}
	out := &ai.PlaygroundAnswer{}
	if s.ai.OverBudget(ctx, org) {
		out.HandOver = "budget"
		return out
	}
	p := model.Persona{Name: "Playground", Tone: "friendly", Language: string(reqOf(c).Locale), Temperature: 0.2,
		NothingFound: model.NothingFoundSay, MaxTurns: 1, KnowledgeBases: model.IDs{baseID}}
	ans, err := s.bot.Answer(ctx, org, p, nil, question)
	switch {
	case err != nil:
		out.Error = err.Error()
	case ans.NothingFound:
		out.NothingFound = true
	case ans.HandOver != nil:
		out.HandOver = ans.HandOver.Reason
	default:
		out.Text, out.Citations, out.Model = ans.Raw, ans.Citations, ans.Model
		out.Tokens, out.Cost = ans.PromptTokens+ans.CompletionTokens, ans.Cost
	}
	return out
}
