package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"masteria/app/ai/assist"
	"masteria/app/ai/provider"
	"masteria/app/i18n"
	"masteria/app/model"
	inboxview "masteria/views/inbox"
)

// assistRoutes mounts the composer's agent assist under the inbox: every member may use it
// on the conversations they may see.
func (s *Server) assistRoutes(o *echo.Group) {
	o.POST("/inbox/:id/assist/summary", s.assistSummary)
	o.POST("/inbox/:id/assist/suggest", s.assistSuggest)
	o.POST("/inbox/:id/assist/rewrite", s.assistRewrite)
}

func (s *Server) assistSummary(c echo.Context) error { return s.assistRun(c, "summary") }
func (s *Server) assistSuggest(c echo.Context) error { return s.assistRun(c, "suggest") }
func (s *Server) assistRewrite(c echo.Context) error { return s.assistRun(c, "rewrite") }

// rewriteStyle reads the composer's rewrite entry: a style, or translate-{en,pt,es}.
func rewriteStyle(v string) (style, to string) {
	if lang, ok := strings.CutPrefix(v, "translate-"); ok {
		return assist.StyleTranslate, lang
	}
	return v, ""
}

// assistRun answers one entry of the composer's AI menu. htmx gets the panel (422 when it
// explains a refusal, the draft untouched); a page without JavaScript comes back whole, the
// answer in the panel and, for a suggestion or a rewrite, in the message box.
func (s *Server) assistRun(c echo.Context, action string) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	a := actorOf(c)
	draft := c.FormValue("body")
	v := inboxview.AssistView{Action: action, Previous: draft}
	switch action {
	case "summary":
		var sum assist.Summary
		sum, err = s.assist.Summarize(ctx, a, id, string(reqOf(c).Locale))
		v.Bullets, v.Messages = sum.Bullets, sum.Messages
	case "suggest":
		var sug assist.Suggestion
		sug, err = s.assist.Suggest(ctx, a, id)
		v.Text, v.NothingFound = sug.Text, sug.NothingFound
		for _, src := range sug.Sources {
			v.Sources = append(v.Sources, inboxview.AssistSource{N: src.N, Title: src.Title, Heading: src.Heading, Text: src.Text})
		}
	default:
		style, to := rewriteStyle(c.FormValue("style"))
		v.Text, err = s.assist.Rewrite(ctx, a, id, draft, style, to)
	}
	status := http.StatusOK
	if err != nil {
		key, detail, ok := assistFailure(err)
		if !ok {
			return err // not found, a database error: the usual pages
		}
		v = inboxview.AssistView{Action: action, Error: key, Detail: detail,
			Settings: a.Role.May(model.ManageOrg) && assistSettingsHelp(key)}
		status = http.StatusUnprocessableEntity
	}
	if isHTMX(c) {
		return render(c, status, inboxview.AssistPanel(v), nil)
	}
	d, err := s.openData(c, id, inboxFilter(c))
	if err != nil {
		return err
	}
	d.Body, d.Assist = draft, &v
	if v.Text != "" {
		d.Body = v.Text
	}
	list, err := s.inboxListData(c, inboxFilter(c), id, "")
	if err != nil {
		return err
	}
	return render(c, status, inboxview.Page(inboxview.PageData{List: list, Open: d}), nil)
}

// assistFailure says in plain words why the assist could not answer: an i18n key, and the
// provider's own words when they help. ok is false for errors the usual pages show.
func assistFailure(err error) (key, detail string, ok bool) {
	var v *model.ValidationError
	var pe *provider.Error
	switch {
	case errors.Is(err, assist.ErrNotConfigured):
		return "assist.error.not_configured", "", true
	case errors.Is(err, assist.ErrOverBudget):
		return "assist.error.budget", "", true
	case errors.Is(err, assist.ErrEmptyAnswer):
		return "assist.error.empty_answer", "", true
	case errors.As(err, &v) && !errors.Is(err, model.ErrNotFound):
		return firstError(v), "", true
	case errors.As(err, &pe):
		switch {
		case pe.Timeout:
			return "assist.error.timeout", "", true
		case pe.Status == http.StatusUnauthorized || pe.Status == http.StatusForbidden:
			return "assist.error.key", "", true
		case pe.Status == http.StatusTooManyRequests && (pe.Code == "insufficient_quota" || strings.Contains(pe.Message, "quota")):
			return "assist.error.quota", "", true
		case pe.Status == http.StatusTooManyRequests:
			return "assist.error.rate_limited", "", true
		}
		return "assist.error.provider", pe.Error(), true
	case errors.Is(err, context.DeadlineExceeded):
		return "assist.error.timeout", "", true
	}
	return "", "", false
}

// assistSettingsHelp: the refusals an admin fixes in Settings → AI.
func assistSettingsHelp(key string) bool {
	switch key {
	case "assist.error.not_configured", "assist.error.key", "assist.error.quota", "assist.error.budget":
		return true
	}
	return false
}

// --- REST API ---

func (s *Server) apiAssistRoutes(api *echo.Group) {
	api.POST("/conversations/:id/assist/summary", s.apiAssistSummary)
	api.POST("/conversations/:id/assist/suggest", s.apiAssistSuggest)
	api.POST("/conversations/:id/assist/rewrite", s.apiAssistRewrite)
}

// apiAssistIn is the body of the assist's API calls; every field is optional but where said.
type apiAssistIn struct {
	Language string `json:"language"` // summary: the summary's language; rewrite: translate into
	Text     string `json:"text"`     // rewrite: the draft
	Style    string `json:"style"`    // rewrite: shorter, friendlier, grammar or translate
}

// apiAssistStart reads the conversation id and the JSON body (which may be empty). A bad
// one is answered here: the id is then 0.
func apiAssistStart(c echo.Context) (int64, apiAssistIn, error) {
	var in apiAssistIn
	id, err := apiKBID(c, "id")
	if err != nil {
		return 0, in, apiFail(c, http.StatusNotFound, "not_found", "no such conversation")
	}
	body, err := io.ReadAll(c.Request().Body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return 0, in, apiFail(c, http.StatusRequestEntityTooLarge, "too_large", "the request is too large")
	}
	if err != nil || (len(strings.TrimSpace(string(body))) > 0 && json.Unmarshal(body, &in) != nil) {
		return 0, in, apiFail(c, http.StatusBadRequest, "bad_request", `send a JSON object, such as {"language": "en"}`)
	}
	return id, in, nil
}

// apiAssistFail answers an assist error in the API's shape, or returns it when unexpected.
func apiAssistFail(c echo.Context, err error) error {
	var v *model.ValidationError
	var pe *provider.Error
	switch {
	case errors.Is(err, model.ErrNotFound):
		return apiFail(c, http.StatusNotFound, "not_found", "no such conversation")
	case errors.Is(err, assist.ErrNotConfigured):
		return apiFail(c, http.StatusConflict, "ai_not_configured", "the org has no AI provider: connect one in Settings → AI")
	case errors.Is(err, assist.ErrOverBudget):
		return apiFail(c, http.StatusConflict, "ai_budget_spent", "the org's monthly AI budget is spent")
	case errors.As(err, &v):
		return apiFail(c, http.StatusUnprocessableEntity, "invalid", apiInvalid(v))
	case errors.Is(err, assist.ErrEmptyAnswer):
		return apiFail(c, http.StatusBadGateway, "ai_provider_error", "the AI provider gave an empty answer")
	case errors.As(err, &pe):
		key, _, _ := assistFailure(err)
		switch key {
		case "assist.error.timeout":
			return apiFail(c, http.StatusGatewayTimeout, "ai_timeout", "the AI provider did not answer in time")
		case "assist.error.rate_limited":
			return apiFail(c, http.StatusServiceUnavailable, "ai_rate_limited", pe.Error())
		}
		return apiFail(c, http.StatusBadGateway, "ai_provider_error", pe.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return apiFail(c, http.StatusGatewayTimeout, "ai_timeout", "the AI provider did not answer in time")
	}
	return err
}

// apiAssistSummary is POST /api/v1/conversations/{id}/assist/summary {"language": "en"}.
func (s *Server) apiAssistSummary(c echo.Context) error {
	id, in, err := apiAssistStart(c)
	if err != nil || id == 0 {
		return err
	}
	if in.Language == "" {
		in.Language = string(i18n.EN)
	}
	sum, err := s.assist.Summarize(c.Request().Context(), apiActor(c), id, in.Language)
	if err != nil {
		return apiAssistFail(c, err)
	}
	return c.JSON(http.StatusOK, map[string]any{"summary": map[string]any{
		"bullets": sum.Bullets, "text": "- " + strings.Join(sum.Bullets, "\n- "), "messages": sum.Messages}})
}

// apiAssistSuggest is POST /api/v1/conversations/{id}/assist/suggest.
func (s *Server) apiAssistSuggest(c echo.Context) error {
	id, _, err := apiAssistStart(c)
	if err != nil || id == 0 {
		return err
	}
	sug, err := s.assist.Suggest(c.Request().Context(), apiActor(c), id)
	if err != nil {
		return apiAssistFail(c, err)
	}
	sources := sug.Sources
	if sources == nil {
		sources = []assist.Source{}
	}
	return c.JSON(http.StatusOK, map[string]any{"suggestion": map[string]any{
		"text": sug.Text, "nothing_found": sug.NothingFound, "sources": sources}})
}

// apiAssistRewrite is POST /api/v1/conversations/{id}/assist/rewrite
// {"text": "…", "style": "shorter|friendlier|grammar|translate", "language": "en|pt|es"}.
func (s *Server) apiAssistRewrite(c echo.Context) error {
	id, in, err := apiAssistStart(c)
	if err != nil || id == 0 {
		return err
	}
	out, err := s.assist.Rewrite(c.Request().Context(), apiActor(c), id, in.Text, in.Style, in.Language)
	if err != nil {
		return apiAssistFail(c, err)
	}
	return c.JSON(http.StatusOK, map[string]any{"rewrite": map[string]any{"text": out, "style": in.Style}})
}
