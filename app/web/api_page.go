package web

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
)

// Every list of the API pages the same way: ?limit= and ?after=<the next of the page
// before>, answering {"<things>": […], "next": "<cursor>"|null}. A cursor is opaque to the
// integrator; the lists read here keep their place by a row id (keyset, never OFFSET), so a
// deep page costs what the first does.

// apiPage is where a list's page starts and how long it is.
type apiPage struct {
	After int64 // the id of the last row of the page before; 0 on the first page
	Limit int
}

// apiPageOf refuses a query parameter other than params, after and limit, then reads
// ?after= and ?limit= (1 to maxLimit, def when left out); false when it answered.
func apiPageOf(c echo.Context, def, maxLimit int, params ...string) (apiPage, bool, error) {
	if !apiOnlyParams(c, append(params, "after", "limit")...) {
		return apiPage{}, false, nil
	}
	p := apiPage{Limit: def}
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLimit {
			return p, false, apiFail(c, http.StatusBadRequest, "bad_request", "limit must be a number from 1 to "+strconv.Itoa(maxLimit))
		}
		p.Limit = n
	}
	if v := c.QueryParam("after"); v != "" {
		id, ok := apiCursorID(v)
		if !ok {
			return p, false, apiFail(c, http.StatusBadRequest, "bad_cursor", "after must be the next of the previous page")
		}
		p.After = id
	}
	return p, true, nil
}

// apiCursor is the opaque cursor of a page that ends at row id.
func apiCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("id:" + strconv.FormatInt(id, 10)))
}

// apiCursorID reads a cursor apiCursor made.
func apiCursorID(s string) (int64, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, false
	}
	v, ok := strings.CutPrefix(string(b), "id:")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(v, 10, 64)
	return id, err == nil && id > 0
}

// apiNext trims a page read with one row more than its limit: the rows to answer and the
// next page's cursor, nil on the last page.
func apiNext[T any](list []T, limit int, id func(T) int64) ([]T, *string) {
	if list == nil {
		return []T{}, nil
	}
	if len(list) <= limit {
		return list, nil
	}
	list = list[:limit]
	next := apiCursor(id(list[len(list)-1]))
	return list, &next
}
