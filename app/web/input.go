package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// errBadText is a request whose text holds a NUL byte or invalid UTF-8: PostgreSQL cannot
// store either, so it is refused up front with a 400 that says why, never a 500 later.
var errBadText = errors.New("web: text with a NUL byte or invalid UTF-8")

// badText tells whether s cannot be stored as text.
func badText(s string) bool {
	return strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s)
}

// checkText refuses requests whose path parameters, query (search boxes and filters
// included), form fields or JSON body hold text that cannot be stored. Webhooks are not
// behind it: their parsers clean provider text themselves and must not lose a batch to one
// bad message.
func checkText(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		for _, v := range c.ParamValues() {
			if badText(v) {
				return errBadText
			}
		}
		if badText(r.URL.Path) {
			return errBadText
		}
		for k, vs := range r.URL.Query() {
			if badValues(k, vs) {
				return errBadText
			}
		}
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		ct := r.Header.Get(echo.HeaderContentType)
		switch {
		// An API upload is a multipart form like a page's (its file may hold any byte).
		case (strings.HasPrefix(ct, echo.MIMEApplicationJSON) || isAPI(r.URL.Path)) && !strings.HasPrefix(ct, echo.MIMEMultipartForm):
			bad, err := badJSON(r)
			if err != nil {
				return err
			}
			if bad {
				return errBadText
			}
		case strings.HasPrefix(ct, echo.MIMEApplicationForm), strings.HasPrefix(ct, echo.MIMEMultipartForm):
			var tooBig *http.MaxBytesError
			if err := parseForm(r); errors.As(err, &tooBig) {
				return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "the request is too large")
			} else if err != nil {
				return echo.NewHTTPError(http.StatusBadRequest, "unreadable form")
			}
			for k, vs := range r.PostForm {
				if badValues(k, vs) {
					return errBadText
				}
			}
			if r.MultipartForm != nil {
				for k, vs := range r.MultipartForm.Value {
					if badValues(k, vs) {
						return errBadText
					}
				}
				for _, fhs := range r.MultipartForm.File {
					for _, fh := range fhs {
						if badText(fh.Filename) { // stored with the import or the attachment
							return errBadText
						}
					}
				}
			}
		}
		return next(c)
	}
}

func badValues(key string, vs []string) bool {
	if badText(key) {
		return true
	}
	for _, v := range vs {
		if badText(v) {
			return true
		}
	}
	return false
}

// badJSON reads the JSON body (bounded by the body limit), puts it back for the handler and
// tells whether it holds invalid UTF-8 or a string with NUL (raw or as \u0000). A body that
// is not JSON is left to the handler, which says so in its own words.
func badJSON(r *http.Request) (bool, error) {
	if r.Body == nil {
		return false, nil
	}
	b, err := io.ReadAll(r.Body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return false, echo.NewHTTPError(http.StatusRequestEntityTooLarge, "the request is too large")
	}
	if err != nil {
		return false, echo.NewHTTPError(http.StatusBadRequest, "unreadable body")
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	if !utf8.Valid(b) || bytes.IndexByte(b, 0) >= 0 {
		return true, nil
	}
	if !bytes.Contains(b, []byte(`\u`)) {
		return false, nil
	}
	var v any
	if json.Unmarshal(b, &v) != nil {
		return false, nil
	}
	return badJSONValue(v), nil
}

func badJSONValue(v any) bool {
	switch x := v.(type) {
	case string:
		return badText(x)
	case []any:
		for _, e := range x {
			if badJSONValue(e) {
				return true
			}
		}
	case map[string]any:
		for k, e := range x {
			if badText(k) || badJSONValue(e) {
				return true
			}
		}
	}
	return false
}

// bodyLimit refuses a body over limit bytes with 413, whether it declares its length or
// comes chunked: the reader fails with *http.MaxBytesError once past the limit, which the
// form and JSON readers and the error handler all turn into 413. Paths skip(p) bound their
// own bodies.
func bodyLimit(limit int64, skip func(path string) bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if skip(r.URL.Path) || r.Body == nil {
				return next(c)
			}
			if r.ContentLength > limit {
				return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "the request is too large")
			}
			r.Body = http.MaxBytesReader(c.Response(), r.Body, limit)
			return next(c)
		}
	}
}
