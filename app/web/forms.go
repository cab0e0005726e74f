package web

import (
	"net/http"
	"slices"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"masteria/app/model"
)

// refuseForm answers a form the service refused: the page (or, for htmx, the fragment)
// drawn again with the input and its errors, status 422 (htmx is configured to swap it).
func refuseForm(c echo.Context, page, fragment templ.Component) error {
	return render(c, http.StatusUnprocessableEntity, page, fragment)
}

// firstError is the message key of the first failed field, for places that show one
// error: in the order of fields (the form's own order) when given, then in the order the
// validation found them. The same input always shows the same error. "" when none failed.
func firstError(v *model.ValidationError, fields ...string) string {
	if v == nil {
		return ""
	}
	for _, f := range fields {
		if k := v.Fields[f]; k != "" {
			return k
		}
	}
	for _, f := range v.Order() {
		if !slices.Contains(fields, f) {
			return v.Fields[f]
		}
	}
	return ""
}
