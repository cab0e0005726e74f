package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"masteria/app/inbox"
	"masteria/app/model"
	inboxview "masteria/views/inbox"
	"masteria/views/settings"
)

// inboxTeamRoutes mounts the inbox's team features: labels, presence, quick replies in the
// composer, and their settings pages.
func (s *Server) inboxTeamRoutes(o *echo.Group) {
	o.POST("/inbox/:id/labels", s.inboxLabelAdd)
	o.POST("/inbox/:id/labels/remove", s.inboxLabelRemove)
	o.POST("/inbox/:id/presence", s.inboxPresence)
	o.GET("/inbox/:id/quick-replies", s.inboxQuickReplies)

	adm := o.Group("", requireMay(model.ManageInbox))
	adm.GET("/settings/inbox", s.inboxSettingsPage)
	adm.POST("/settings/inbox", s.inboxSettingsSave)
	adm.GET("/settings/quick-replies", s.quickRepliesPage)
	adm.POST("/settings/quick-replies", s.quickReplyCreate)
	adm.GET("/settings/quick-replies/:id", s.quickReplyEditPage)
	adm.POST("/settings/quick-replies/:id", s.quickReplyUpdate)
	adm.POST("/settings/quick-replies/:id/delete", s.quickReplyDelete)
}

// teamData adds the open conversation's labels and the contact's leads.
func (s *Server) teamData(c echo.Context, d *inboxview.OpenData) error {
	ctx := c.Request().Context()
	orgID := actorOf(c).OrgID
	var err error
	d.Labels = inboxview.LabelsData{ConvID: d.Conv.ID, Labels: d.Conv.Labels}
	if d.Labels.Suggestions, err = s.inbox.Labels(ctx, orgID); err != nil {
		return err
	}
	d.Leads, err = s.inbox.ContactLeads(ctx, orgID, d.Conv.ContactID)
	return err
}

// --- Labels ---

func (s *Server) inboxLabelAdd(c echo.Context) error    { return s.inboxLabel(c, true) }
func (s *Server) inboxLabelRemove(c echo.Context) error { return s.inboxLabel(c, false) }

// inboxLabel adds or removes a label. htmx gets the labels box again (422 with the reason
// when refused); a plain form goes back to the conversation.
func (s *Server) inboxLabel(c echo.Context, add bool) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	a := actorOf(c)
	label := c.FormValue("label")
	if add {
		err = s.inbox.AddLabel(ctx, a, id, label)
	} else {
		err = s.inbox.RemoveLabel(ctx, a, id, label)
	}
	status, errKey := http.StatusOK, ""
	var v *model.ValidationError
	switch {
	case errors.As(err, &v):
		status, errKey = http.StatusUnprocessableEntity, v.Fields["label"]
	case err != nil:
		return err
	}
	if !isHTMX(c) {
		if errKey != "" {
			toast(c, "error", errKey)
		}
		return c.Redirect(http.StatusSeeOther, orgPath(c, fmt.Sprintf("/inbox/%d", id)))
	}
	conv, err := s.inbox.Open(ctx, a, id)
	if err != nil {
		return err
	}
	d := inboxview.LabelsData{ConvID: id, Labels: conv.Labels, Error: errKey}
	if errKey != "" {
		d.Value = label
	}
	if d.Suggestions, err = s.inbox.Labels(ctx, a.OrgID); err != nil {
		return err
	}
	return render(c, status, inboxview.LabelsBox(d), nil)
}

// --- Presence and quick replies ---

// inboxPresence tells the others that the member is viewing or typing in a conversation.
func (s *Server) inboxPresence(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	name := ""
	if u := reqOf(c).User; u != nil {
		name = u.Name
	}
	if err := s.inbox.Presence(c.Request().Context(), actorOf(c), id, name, c.FormValue("state")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

type quickReplyJSON struct {
	Shortcut string `json:"shortcut"`
	Title    string `json:"title"`
	Body     string `json:"body"`
}

// inboxQuickReplies lists the quick replies starting with ?q= as the composer inserts them
// in this conversation (with the contact's first name in place).
func (s *Server) inboxQuickReplies(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	qs, err := s.inbox.QuickRepliesFor(c.Request().Context(), actorOf(c), id, c.QueryParam("q"))
	if err != nil {
		return err
	}
	out := make([]quickReplyJSON, 0, len(qs))
	for _, q := range qs {
		out = append(out, quickReplyJSON{Shortcut: q.Shortcut, Title: q.Title, Body: q.Body})
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, map[string]any{"quick_replies": out})
}

// --- Inbox settings ---

func (s *Server) inboxSettingsData(c echo.Context) (settings.InboxData, error) {
	ctx := c.Request().Context()
	orgID := actorOf(c).OrgID
	var d settings.InboxData
	var err error
	if d.Settings, err = s.inbox.Settings(ctx, orgID); err != nil {
		return d, err
	}
	d.Members, err = s.inbox.Rotation(ctx, orgID)
	return d, err
}

func (s *Server) inboxSettingsPage(c echo.Context) error {
	d, err := s.inboxSettingsData(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, settings.Inbox(d), nil)
}

// checkbox reads a checkbox: absent is off, "on" (what browsers send) is on; anything else
// is refused rather than guessed.
func checkbox(c echo.Context, name string) (bool, bool) {
	switch c.FormValue(name) {
	case "":
		return false, true
	case "on", "1", "true":
		return true, true
	}
	return false, false
}

func (s *Server) inboxSettingsSave(c echo.Context) error {
	var in model.InboxSettings
	restrict, ok1 := checkbox(c, "restrict_agents")
	rr, ok2 := checkbox(c, "round_robin")
	in.RestrictAgents, in.RoundRobin = restrict, rr
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	var rotation []int64
	ok3 := true
	for _, v := range form["rotation"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			ok3 = false
			break
		}
		rotation = append(rotation, id)
	}
	ok4 := true
	for d := range in.BusinessHours {
		open, ok := checkbox(c, fmt.Sprintf("open_%d", d))
		ok4 = ok4 && ok
		in.BusinessHours[d] = model.BusinessDay{Open: open, From: c.FormValue(fmt.Sprintf("from_%d", d)), To: c.FormValue(fmt.Sprintf("to_%d", d))}
		if !open {
			in.BusinessHours[d].From, in.BusinessHours[d].To = "", ""
		}
	}
	err = model.FieldError("settings", "inbox_settings.error.value")
	if target := c.FormValue("response_target"); target != "" {
		n, perr := strconv.Atoi(target)
		if perr != nil {
			ok4, err = false, model.FieldError("response_target", "inbox_settings.error.target")
		}
		in.ResponseTarget = n
	}
	if ok1 && ok2 && ok3 && ok4 {
		err = s.inbox.SaveSettings(c.Request().Context(), actorOf(c), in, rotation)
	}
	var v *model.ValidationError
	if errors.As(err, &v) {
		d, derr := s.inboxSettingsData(c)
		if derr != nil {
			return derr
		}
		d.Error = firstError(v)
		return refuseForm(c, settings.Inbox(d), nil)
	}
	if err != nil {
		return err
	}
	toast(c, "success", "inbox_settings.saved")
	return redirect(c, orgPath(c, "/settings/inbox"))
}

// --- Quick replies settings ---

func (s *Server) quickRepliesRender(c echo.Context, status int, f settings.QuickReplyForm) error {
	qs, err := s.inbox.QuickReplies(c.Request().Context(), actorOf(c).OrgID)
	if err != nil {
		return err
	}
	return render(c, status, settings.QuickReplies(settings.QuickRepliesData{Replies: qs, Form: f}), nil)
}

func (s *Server) quickRepliesPage(c echo.Context) error {
	return s.quickRepliesRender(c, http.StatusOK, settings.QuickReplyForm{})
}

func (s *Server) quickReplyEditPage(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	q, err := s.inbox.QuickReply(c.Request().Context(), actorOf(c).OrgID, id)
	if err != nil {
		return err
	}
	return s.quickRepliesRender(c, http.StatusOK, settings.QuickReplyForm{ID: q.ID, Shortcut: q.Shortcut, Title: q.Title, Body: q.Body})
}

func (s *Server) quickReplyCreate(c echo.Context) error { return s.quickReplySave(c, 0) }

func (s *Server) quickReplyUpdate(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	return s.quickReplySave(c, id)
}

func (s *Server) quickReplySave(c echo.Context, id int64) error {
	ctx := c.Request().Context()
	in := inbox.QuickReplyInput{Shortcut: c.FormValue("shortcut"), Title: c.FormValue("title"), Body: c.FormValue("body")}
	var err error
	if id == 0 {
		_, err = s.inbox.CreateQuickReply(ctx, actorOf(c), in)
	} else {
		_, err = s.inbox.UpdateQuickReply(ctx, actorOf(c), id, in)
	}
	var v *model.ValidationError
	if errors.As(err, &v) {
		return s.quickRepliesRender(c, http.StatusUnprocessableEntity, settings.QuickReplyForm{
			ID: id, Shortcut: in.Shortcut, Title: in.Title, Body: in.Body, Errors: v.Fields})
	}
	if err != nil {
		return err
	}
	toast(c, "success", "quick_replies.saved")
	return redirect(c, orgPath(c, "/settings/quick-replies"))
}

func (s *Server) quickReplyDelete(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	if err := s.inbox.DeleteQuickReply(c.Request().Context(), actorOf(c), id); err != nil {
		return err
	}
	toast(c, "success", "quick_replies.deleted")
	return redirect(c, orgPath(c, "/settings/quick-replies"))
}
