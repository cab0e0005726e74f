package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"masteria/app/analytics"
	analyticsview "masteria/views/analytics"
)

// analyticsDefinitionRoutes mounts the metric definitions page, open to every member: an
// agent reads what their own figures mean as a manager does.
func (s *Server) analyticsDefinitionRoutes(o *echo.Group) {
	o.GET("/analytics/definitions", s.analyticsDefinitions)
}

// analyticsDefinitions is GET /o/{org}/analytics/definitions: every metric of the engine,
// grouped by family, with its name, written definition, unit and what a click opens.
func (s *Server) analyticsDefinitions(c echo.Context) error {
	var groups []analyticsview.DefinitionGroup
	for _, fam := range analytics.Families {
		g := analyticsview.DefinitionGroup{Family: fam}
		for _, d := range analytics.Definitions {
			if d.Family == fam {
				g.Metrics = append(g.Metrics, analyticsview.Definition{Key: d.Key, Unit: string(d.Unit), Drill: string(d.Drill), Now: d.Now,
					NarrowedBy: analytics.NarrowedBy(d.Key)})
			}
		}
		groups = append(groups, g)
	}
	return render(c, http.StatusOK, analyticsview.Definitions(groups), nil)
}
