package web

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"masteria/app/i18n"
	"masteria/app/model"
	errorpages "masteria/views/errors"
	"masteria/views/ui"
)

// isHTMX tells whether the request wants a fragment: an htmx request that is not a boosted
// navigation or a history restore (those need the whole page).
func isHTMX(c echo.Context) bool {
	h := c.Request().Header
	return h.Get("HX-Request") == "true" && h.Get("HX-Boosted") != "true" && h.Get("HX-History-Restore-Request") != "true"
}

// render sends fragment to htmx requests and page to everyone else, with Vary set so a
// cache never serves one for the other. fragment may be nil: the page is then always sent.
func render(c echo.Context, status int, page, fragment templ.Component) error {
	c.Response().Header().Add("Vary", "HX-Request")
	comp := page
	if fragment != nil && isHTMX(c) {
		comp = fragment
	}
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	c.Response().WriteHeader(status)
	return comp.Render(c.Request().Context(), c.Response())
}

// redirect sends a browser to path after a POST: 303 for plain forms, HX-Location for
// htmx so it swaps the new page in without a full reload.
func redirect(c echo.Context, path string) error {
	if c.Request().Header.Get("HX-Request") == "true" {
		c.Response().Header().Set("HX-Location", path)
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, path)
}

// toast queues a message for the next page: as an HX-Trigger header for htmx requests,
// and as a short-lived cookie read by the next full page otherwise.
func toast(c echo.Context, kind, key string, args ...string) {
	sendToast(c, kind, i18n.T(reqOf(c).Locale, key, args...))
}

func sendToast(c echo.Context, kind, msg string) {
	if c.Request().Header.Get("HX-Request") == "true" {
		b, _ := json.Marshal(map[string]any{"toast": map[string]string{"kind": kind, "message": msg}})
		c.Response().Header().Set("HX-Trigger", headerJSON(b))
		return
	}
	c.SetCookie(&http.Cookie{Name: toastCookie, Value: url.QueryEscape(kind + "|" + msg), Path: "/", MaxAge: 60, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// headerJSON writes JSON for an HTTP header in ASCII: browsers read header bytes as
// Latin-1, so "Ligação…" sent as UTF-8 would show as "LigaÃ§Ã£oâ€¦". JSON's \u escapes
// carry every character through.
func headerJSON(b []byte) string {
	var out strings.Builder
	for _, r := range string(b) {
		switch {
		case r < utf8.RuneSelf:
			out.WriteRune(r)
		case r > 0xFFFF:
			r1, r2 := utf16.EncodeRune(r)
			fmt.Fprintf(&out, `\u%04x\u%04x`, r1, r2)
		default:
			fmt.Fprintf(&out, `\u%04x`, r)
		}
	}
	return out.String()
}

// toastN is toast with a counted message (keys .one/.other).
func toastN(c echo.Context, kind, key string, n int) {
	sendToast(c, kind, i18n.N(reqOf(c).Locale, key, n))
}

const toastCookie = "masteria_toast"

// takeToasts moves a toast left by the previous response into the page being rendered.
func takeToasts(c echo.Context, r *ui.Request) {
	ck, err := c.Cookie(toastCookie)
	if err != nil || ck.Value == "" {
		return
	}
	c.SetCookie(&http.Cookie{Name: toastCookie, Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	v, err := url.QueryUnescape(ck.Value)
	if err != nil {
		return
	}
	for _, kind := range []string{"success", "error", "info"} {
		if len(v) > len(kind) && v[:len(kind)+1] == kind+"|" {
			r.Toasts = append(r.Toasts, ui.Toast{Kind: kind, Message: v[len(kind)+1:]})
		}
	}
}

// errorHandler renders every error returned by a handler: JSON for the API, a toast for
// htmx requests, a page otherwise. Domain errors map to their HTTP status here, once.
func (s *Server) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, key := http.StatusInternalServerError, "toast.error"
	var he *echo.HTTPError
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		status, key = http.StatusRequestEntityTooLarge, "error.too_large"
	case errors.As(err, &he):
		status = he.Code
		key = statusKey(status)
	case errors.Is(err, errBadText):
		status, key = http.StatusBadRequest, "error.bad_text"
	case errors.Is(err, model.ErrNotFound):
		status, key = http.StatusNotFound, "error.not_found.title"
	case errors.Is(err, model.ErrForbidden):
		status, key = http.StatusForbidden, "error.forbidden.title"
	case errors.Is(err, model.ErrConflict):
		status, key = http.StatusConflict, "toast.error"
	case errors.Is(err, model.ErrInvalid):
		var v *model.ValidationError
		errors.As(err, &v)
		status, key = http.StatusUnprocessableEntity, cmp.Or(firstError(v), "toast.error")
	}
	if errors.Is(err, context.Canceled) {
		return // the browser left; nobody is there to read an answer
	}
	if status >= 500 {
		slog.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
	}
	req := c.Request()
	if isAPI(req.URL.Path) {
		msg := http.StatusText(status)
		if key == "error.bad_text" {
			msg = i18n.T(i18n.EN, key)
		}
		_ = c.JSON(status, apiError{Error: apiErrorBody{Code: codeFor(status), Message: msg}})
		return
	}
	if req.Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	if req.Header.Get("HX-Request") == "true" {
		toast(c, "error", key)
		_ = c.NoContent(status)
		return
	}
	var page templ.Component
	switch status {
	case http.StatusNotFound:
		page = errorpages.NotFound()
	case http.StatusForbidden:
		page = errorpages.Forbidden()
	case http.StatusTooManyRequests:
		page = errorpages.TooMany()
	case http.StatusRequestEntityTooLarge:
		page = errorpages.TooLarge()
	case http.StatusBadRequest:
		page = errorpages.BadRequest(key)
	default:
		page = errorpages.ServerError()
	}
	_ = render(c, status, page, nil)
}

func statusKey(status int) string {
	switch status {
	case http.StatusNotFound:
		return "error.not_found.title"
	case http.StatusForbidden:
		return "error.forbidden.title"
	case http.StatusTooManyRequests:
		return "login.error.too_many"
	case http.StatusRequestEntityTooLarge:
		return "error.too_large"
	case http.StatusBadRequest:
		return "error.bad_request"
	}
	return "toast.error"
}
