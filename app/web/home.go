package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"masteria/app/inbox"
	"masteria/app/model"
	"masteria/views/home"
	"masteria/views/ui"
)

// home is the org's start page: the member's conversations, and the getting-started
// checklist as the org really is.
func (s *Server) home(c echo.Context) error {
	// Agents get "my day"; managers and up the org's home (the dashboard, once it lands).
	if !actorOf(c).Role.AtLeast(model.RoleManager) {
		return s.myDay(c)
	}
	r := reqOf(c)
	ctx := c.Request().Context()
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
	}
	a := actorOf(c)
	if d.Mine, _, err = s.inbox.List(ctx, a, inbox.ListInput{View: "mine", Status: "open", Limit: homeConversations}); err != nil {
		return err
	}
	if d.Unassigned, _, err = s.inbox.List(ctx, a, inbox.ListInput{View: "unassigned", Status: "open", Limit: homeConversations}); err != nil {
		return err
	}
	return render(c, http.StatusOK, home.Home(d), nil)
}

// homeConversations is how many of each list the home page shows.
const homeConversations = 5

// orgNamePartial is the sidebar's org name, re-fetched when an org.renamed event arrives.
func (s *Server) orgNamePartial(c echo.Context) error {
	return render(c, http.StatusOK, ui.OrgName(), nil)
}
