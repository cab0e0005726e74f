package web

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"masteria/app/analytics"
	"masteria/app/inbox"
	"masteria/app/model"
	"masteria/views/home"
)

// myDayFigures are the agent's own figures of today on "my day", from the metric engine.
var myDayFigures = []string{"agent.replies", "response.first_median", "conversations.resolved"}

// myDayRows is how many of each list "my day" shows.
const myDayRows = 8

// myDay is the agents' home: their open conversations, the ones waiting for them, the
// unassigned ones they may take, the notes that mention them, and their figures of today.
func (s *Server) myDay(c echo.Context) error {
	r := reqOf(c)
	ctx := c.Request().Context()
	a := actorOf(c)
	d := home.MyDayData{UserName: r.User.Name, Now: time.Now()}
	var err error
	if d.Mine, _, err = s.inbox.List(ctx, a, inbox.ListInput{View: "mine", Status: "open", Limit: myDayRows}); err != nil {
		return err
	}
	if d.Waiting, err = s.inbox.Waiting(ctx, a, myDayRows); err != nil {
		return err
	}
	if d.Unassigned, _, err = s.inbox.List(ctx, a, inbox.ListInput{View: "unassigned", Status: "open", Limit: myDayRows}); err != nil {
		return err
	}
	if d.Mentions, err = s.inbox.Mentions(ctx, a, myDayRows); err != nil {
		return err
	}
	if d.Figures, err = s.myFigures(ctx, a); err != nil {
		return err
	}
	return render(c, http.StatusOK, home.MyDay(d), nil)
}

// myFigures are the member's figures of today (AgentID = them).
func (s *Server) myFigures(ctx context.Context, a model.Actor) ([]home.MyFigure, error) {
	zone, err := s.st.OrgTimeZone(ctx, a.OrgID)
	if err != nil {
		return nil, err
	}
	f, err := analytics.ParseFilter(url.Values{"period": {"today"}}, zone, time.Now())
	if err != nil {
		return nil, err
	}
	f.AgentID = a.UserID
	figs, err := s.analytics.Figures(ctx, a.OrgID, f, myDayFigures)
	if err != nil {
		return nil, err
	}
	out := make([]home.MyFigure, len(figs))
	for i, fg := range figs {
		d, _ := analytics.DefinitionOf(fg.Metric)
		out[i] = home.MyFigure{Key: fg.Metric, Unit: string(d.Unit), Value: fg.Value, Known: fg.Known}
	}
	return out, nil
}
