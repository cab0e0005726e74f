package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"masteria/app/model"
	av "masteria/views/analytics"
	"masteria/views/home"
	"masteria/views/ui"
)

// home is the org's start page. Those who may read the org's figures (managers and up) get
// the manager's dashboard, under the getting-started checklist while the org's setup is
// incomplete; its filter form and live refreshes come back here. The others (agents) get
// "my day".
func (s *Server) home(c echo.Context) error {
	r := reqOf(c)
	if !r.Role.May(model.ViewAnalytics) {
		return s.myDay(c)
	}
	ctx := c.Request().Context()
	status := http.StatusOK
	dash, err := s.dashboard(c, ui.OrgURL(ctx, ""))
	if err != nil {
		return err
	}
	if dash.Err != "" {
		status = http.StatusUnprocessableEntity
	}
	if isHTMX(c) {
		return render(c, status, av.Dashboard(dash), av.Dashboard(dash))
	}
	cl, err := s.acct.Checklist(ctx, r.Org.ID)
	if err != nil {
		return err
	}
	setup, err := s.inbox.Setup(ctx, r.Org.ID)
	if err != nil {
		return err
	}
	d := home.HomeData{
		UserName: r.User.Name,
		Org:      *r.Org,
		// The app cannot know from the server whether it was installed; the step stays
		// open until the browser reports it (app.js hides it once installed).
		// An org is named once renamed, or when its name is not its member's own: sign-up
		// by email asks for the company's name, sign-up with Google or Facebook borrows the
		// person's.
		Items: home.Checklist(ui.OrgURL(ctx, ""), home.Setup{Named: cl.Renamed || r.Org.Name != r.User.Name, Invited: cl.Members > 1 || cl.Invites > 0,
			APIKey: cl.APIKeys > 0, Channel: setup.Channel, Contacts: setup.Contacts, FirstMessage: setup.FirstMessage}),
		Dash: dash,
	}
	return render(c, status, home.Home(d), nil)
}

// orgNamePartial is the sidebar's org name, re-fetched when an org.renamed event arrives.
func (s *Server) orgNamePartial(c echo.Context) error {
	return render(c, http.StatusOK, ui.OrgName(), nil)
}
