package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"masteria/views/home"
	"masteria/views/ui"
)

// home is the org's start page with the getting-started checklist.
func (s *Server) home(c echo.Context) error {
	r := reqOf(c)
	cl, err := s.acct.Checklist(c.Request().Context(), r.Org.ID)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	d := home.HomeData{
		UserName: r.User.Name,
		Org:      *r.Org,
		// The app cannot know from the server whether it was installed; the step stays
		// open until the browser reports it (app.js hides it once installed).
		Items: home.Checklist(ui.OrgURL(ctx, ""), cl.Renamed, cl.Members > 1 || cl.Invites > 0, cl.APIKeys > 0, false),
	}
	return render(c, http.StatusOK, home.Home(d), nil)
}

// orgNamePartial is the sidebar's org name, re-fetched when an org.renamed event arrives.
func (s *Server) orgNamePartial(c echo.Context) error {
	return render(c, http.StatusOK, ui.OrgName(), nil)
}
