package web

import (
	"errors"
	"net/http"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"

	"masteria/app/account"
	"masteria/app/i18n"
	"masteria/app/model"
)

func isAPI(path string) bool { return strings.HasPrefix(path, "/api/") }

// apiError is the one shape of every API error: a stable code for programs, a message for people.
type apiError struct {
	Error apiErrorBody `json:"error"`
}

type apiErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func codeFor(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "bad_request"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusConflict:
		return "conflict"
	case http.StatusRequestEntityTooLarge:
		return "too_large"
	case http.StatusUnprocessableEntity:
		return "invalid"
	case http.StatusTooManyRequests:
		return "rate_limited"
	}
	return "internal"
}

// apiKeyAuth authenticates API requests by their Bearer key; anything else is a 401 in JSON.
func (s *Server) apiKeyAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		k, org, err := s.acct.AuthenticateAPIKey(c.Request().Context(), c.Request())
		if errors.Is(err, account.ErrBadAPIKey) {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="masteria"`)
			return c.JSON(http.StatusUnauthorized, apiError{Error: apiErrorBody{Code: "unauthorized", Message: "missing, unknown or revoked API key: send Authorization: Bearer <key>"}})
		}
		if err != nil {
			return err
		}
		c.Set(ctxAPIKey, k)
		c.Set(ctxAPIOrg, org)
		return next(c)
	}
}

// apiMe answers which org and key a request authenticates as: the first call an integrator makes.
func (s *Server) apiMe(c echo.Context) error {
	k := c.Get(ctxAPIKey).(model.APIKey)
	org := c.Get(ctxAPIOrg).(model.Org)
	return c.JSON(http.StatusOK, map[string]any{
		"org": map[string]any{"id": org.ID, "name": org.Name},
		"key": map[string]any{"id": k.ID, "name": k.Name, "prefix": k.Prefix, "created_at": k.CreatedAt},
	})
}

// apiInvalid says in English which fields are wrong. Field errors hold translation keys
// for the pages; an integrator reads the English text, never the key.
func apiInvalid(v *model.ValidationError) string {
	names := make([]string, 0, len(v.Fields))
	for f := range v.Fields {
		names = append(names, f)
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	for _, f := range names {
		parts = append(parts, f+": "+i18n.T(i18n.EN, v.Fields[f]))
	}
	return strings.Join(parts, "; ")
}
