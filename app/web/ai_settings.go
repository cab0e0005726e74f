package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"masteria/app/ai/provider"
	"masteria/app/i18n"
	"masteria/app/model"
	"masteria/views/settings"
)

// knownModels are offered in the selects before the endpoint's own list is loaded.
var knownChatModels, knownEmbeddingModels = []string{"gpt-4o-mini", "gpt-4o", "gpt-4.1-mini"},
	[]string{"text-embedding-3-small", "text-embedding-3-large"}

// aiData is the AI settings page of the org, with no key in it.
func (s *Server) aiData(c echo.Context) (settings.AIData, error) {
	ctx := c.Request().Context()
	orgID := actorOf(c).OrgID
	d := settings.AIData{Status: model.AIUntested, ChatModel: "gpt-4o-mini", EmbeddingModel: "text-embedding-3-small",
		Dimensions: 1536, Errors: map[string]string{}}
	p, err := s.ai.Settings(ctx, orgID)
	switch {
	case errors.Is(err, model.ErrNotFound):
	case err != nil:
		return d, err
	default:
		d.Saved, d.HasKey = true, true
		d.BaseURL, d.ChatModel, d.EmbeddingModel, d.Dimensions = p.BaseURL, p.ChatModel, p.EmbeddingModel, p.EmbeddingDimensions
		d.Budget, d.Status, d.LastError = p.MonthlyBudget, p.Status, p.LastError
		if d.Spent, err = s.ai.SpentThisMonth(ctx, orgID); err != nil {
			return d, err
		}
		for _, m := range []string{p.ChatModel, p.EmbeddingModel} {
			if _, ok := provider.PriceOf(m); !ok {
				d.Unpriced = append(d.Unpriced, m)
			}
		}
	}
	d.Models = append(append([]string(nil), knownChatModels...), knownEmbeddingModels...)
	return d, nil
}

func (s *Server) aiPage(c echo.Context) error {
	d, err := s.aiData(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, settings.AI(d), nil)
}

// aiInput reads the settings form. Numbers that do not parse are refused by name.
func aiInput(c echo.Context) (provider.Input, map[string]string) {
	bad := map[string]string{}
	in := provider.Input{BaseURL: c.FormValue("base_url"), Key: c.FormValue("key"),
		ChatModel: c.FormValue("chat_model"), EmbeddingModel: c.FormValue("embedding_model")}
	if v := strings.TrimSpace(c.FormValue("embedding_dimensions")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			bad["embedding_dimensions"] = "ai.provider.error.dimensions"
		}
		in.EmbeddingDimensions = n
	}
	if v := strings.TrimSpace(c.FormValue("monthly_budget")); v != "" {
		f, err := strconv.ParseFloat(strings.Replace(v, ",", ".", 1), 64)
		if err != nil {
			bad["monthly_budget"] = "ai.provider.error.budget"
		}
		in.MonthlyBudget = f
	}
	return in, bad
}

func (s *Server) aiSave(c echo.Context) error {
	in, bad := aiInput(c)
	err := errors.New("not saved")
	if len(bad) == 0 {
		err = s.ai.Save(c.Request().Context(), actorOf(c), in)
	}
	var v *model.ValidationError
	if err != nil && len(bad) == 0 && !errors.As(err, &v) {
		return err
	}
	d, derr := s.aiData(c)
	if derr != nil {
		return derr
	}
	if err != nil {
		// What was typed comes back, but never the key.
		d.BaseURL, d.ChatModel, d.EmbeddingModel = in.BaseURL, in.ChatModel, in.EmbeddingModel
		d.Dimensions, d.Budget = in.EmbeddingDimensions, in.MonthlyBudget
		d.Errors = bad
		if v != nil {
			d.Errors = v.Fields
		}
		return refuseForm(c, settings.AI(d), nil)
	}
	toast(c, "success", "ai.provider.saved")
	return redirect(c, orgPath(c, "/settings/ai"))
}

// aiModels fills the model selects from the endpoint typed in the form (a blank key uses
// the saved one).
func (s *Server) aiModels(c echo.Context) error {
	d, err := s.aiData(c)
	if err != nil {
		return err
	}
	in, _ := aiInput(c)
	if in.ChatModel != "" {
		d.ChatModel = in.ChatModel
	}
	if in.EmbeddingModel != "" {
		d.EmbeddingModel = in.EmbeddingModel
	}
	models, err := s.ai.ModelsFor(c.Request().Context(), actorOf(c), in.BaseURL, in.Key)
	var v *model.ValidationError
	var pe *provider.Error
	switch {
	case errors.As(err, &v):
		d.ModelsError = i18nT(c, "ai.provider.error.models", "reason", i18nT(c, firstError(v, "base_url", "key")))
		return render(c, http.StatusUnprocessableEntity, settings.AIModels(d), nil)
	case errors.As(err, &pe):
		d.ModelsError = i18nT(c, "ai.provider.error.models", "reason", pe.Error())
		sendToast(c, "error", d.ModelsError)
	case err != nil:
		return err
	default:
		d.Models, d.ModelsLoaded = models, true
	}
	return render(c, http.StatusOK, settings.AIModels(d), nil)
}

// aiTest runs the provider's test and shows the outcome as a toast.
func (s *Server) aiTest(c echo.Context) error {
	res, err := s.ai.Test(c.Request().Context(), actorOf(c))
	if err != nil {
		return err
	}
	if res.OK {
		toast(c, "success", "ai.provider.test_ok")
	} else {
		toast(c, "error", "ai.provider.test_failed", "reason", res.Message)
	}
	if c.Request().Header.Get("HX-Request") == "true" {
		d, err := s.aiData(c)
		if err != nil {
			return err
		}
		return render(c, http.StatusOK, settings.AI(d), settings.AISection(d))
	}
	return redirect(c, orgPath(c, "/settings/ai"))
}

// i18nT translates a key in the request's language.
func i18nT(c echo.Context, key string, args ...string) string {
	return i18n.T(reqOf(c).Locale, key, args...)
}
