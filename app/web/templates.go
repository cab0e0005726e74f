package web

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"masteria/app/inbox"
	"masteria/app/model"
	inboxview "masteria/views/inbox"
)

// templateRoutes mounts the WhatsApp templates: the channel's list and its sync for
// admins, the composer's picker and send for members.
func (s *Server) templateRoutes(o *echo.Group) {
	o.GET("/inbox/:id/templates", s.templatePicker)
	o.POST("/inbox/:id/template", s.templateSend)
	adm := o.Group("", requireMay(model.ManageChannels))
	adm.GET("/settings/channels/:id/templates", s.templatesPage)
	adm.POST("/settings/channels/:id/templates/sync", s.templatesSync)
}

func (s *Server) templatesPage(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	org := reqOf(c).Org.ID
	ch, err := s.inbox.Channel(ctx, org, id)
	if err != nil {
		return err
	}
	list, sync, err := s.inbox.Templates(ctx, org, id)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, inboxview.Templates(inboxview.TemplatesData{Channel: ch, Templates: list, Sync: sync}), nil)
}

// templatesSync queues a sync; the page reloads its list when the sync's event comes.
func (s *Server) templatesSync(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	err = s.inbox.QueueTemplateSync(c.Request().Context(), actorOf(c), id)
	var v *model.ValidationError
	if errors.As(err, &v) {
		toast(c, "error", "templates.error.kind")
		return redirect(c, orgPath(c, "/settings/channels"))
	}
	if err != nil {
		return err
	}
	toast(c, "success", "templates.toast.sync")
	return redirect(c, orgPath(c, fmt.Sprintf("/settings/channels/%d/templates", id)))
}

// approved returns a channel's approved templates whose name holds q, accents and case
// aside.
func (s *Server) approved(ctx context.Context, orgID, channelID int64, q string) ([]model.Template, error) {
	list, _, err := s.inbox.Templates(ctx, orgID, channelID)
	if err != nil {
		return nil, err
	}
	q = model.CleanSearch(q)
	out := list[:0]
	for _, t := range list {
		if t.Status == "APPROVED" && (q == "" || model.FoldContains(t.Name, q)) {
			out = append(out, t)
		}
	}
	return out, nil
}

// templatePicker is the composer's picker: the list (?q= searches), or one template's
// fields (?id=).
func (s *Server) templatePicker(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	conv, err := s.inbox.Open(c.Request().Context(), actorOf(c), id)
	if err != nil {
		return err
	}
	list, err := s.approved(c.Request().Context(), conv.OrgID, conv.ChannelID, c.QueryParam("q"))
	if err != nil {
		return err
	}
	d := inboxview.PickerData{ConvID: conv.ID, Query: model.CleanSearch(c.QueryParam("q")), Templates: list}
	if raw := c.QueryParam("id"); raw != "" {
		tid, _ := strconv.ParseInt(raw, 10, 64)
		for i := range list {
			if list[i].ID == tid {
				d.Chosen = &list[i]
			}
		}
		if d.Chosen == nil {
			return echo.NewHTTPError(http.StatusNotFound, "no such template")
		}
	}
	frag := inboxview.TemplatePicker(d)
	return render(c, http.StatusOK, frag, frag)
}

// templateSend sends the chosen template with its parameters. A refusal shows the picker
// again with the reason and what was typed.
func (s *Server) templateSend(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	a := actorOf(c)
	if _, err := c.FormParams(); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "unreadable form")
	}
	form := c.Request().Form
	tid, err := strconv.ParseInt(c.FormValue("template_id"), 10, 64)
	if err != nil || tid <= 0 {
		tid = -1 // no template chosen: not found below
	}
	ts := inbox.TemplateSend{ID: tid, Params: form["params"], HeaderParams: form["header_params"]}
	m, err := s.inbox.SendTemplate(ctx, a, id, ts)
	key := ""
	var v *model.ValidationError
	switch {
	case errors.Is(err, inbox.ErrTemplateNotFound):
		key = "templates.error.not_found"
	case errors.As(err, &v):
		key = cmp.Or(firstError(v), "templates.error.params")
	case err != nil:
		return err
	}
	if key != "" {
		conv, err := s.inbox.Open(ctx, a, id)
		if err != nil {
			return err
		}
		list, err := s.approved(c.Request().Context(), conv.OrgID, conv.ChannelID, "")
		if err != nil {
			return err
		}
		d := inboxview.PickerData{ConvID: conv.ID, Templates: list, Params: ts.Params, Header: ts.HeaderParams, Error: key}
		for i := range list {
			if list[i].ID == tid {
				d.Chosen = &list[i]
			}
		}
		if d.Chosen == nil {
			d.Error = ""
			toast(c, "error", key)
		}
		if isHTMX(c) {
			c.Response().Header().Set("HX-Retarget", "#template-picker")
			c.Response().Header().Set("HX-Reswap", "innerHTML")
		}
		frag := inboxview.TemplatePicker(d)
		return refuseForm(c, frag, frag)
	}
	if !isHTMX(c) {
		return c.Redirect(http.StatusSeeOther, orgPath(c, fmt.Sprintf("/inbox/%d", id)))
	}
	_, names, err := s.memberNames(ctx, a.OrgID)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, inboxview.TemplateSent(m, names), nil)
}

type apiTemplateJSON struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Language    string `json:"language"`
	Category    string `json:"category"`
	Status      string `json:"status"`
	Body        string `json:"body"`
	Params      int    `json:"params"`
	HeaderParam int    `json:"header_params"`
}

// apiTemplates lists a channel's synced templates with how many parameters each takes.
func (s *Server) apiTemplates(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return apiFail(c, http.StatusNotFound, "not_found", "no such channel")
	}
	list, _, err := s.inbox.Templates(c.Request().Context(), apiActor(c).OrgID, id)
	if errors.Is(err, model.ErrNotFound) {
		return apiFail(c, http.StatusNotFound, "not_found", "no such channel")
	}
	if err != nil {
		return err
	}
	out := make([]apiTemplateJSON, 0, len(list))
	for _, t := range list {
		sh := t.Shape()
		out = append(out, apiTemplateJSON{ID: t.ID, Name: t.Name, Language: t.Language, Category: t.Category, Status: t.Status,
			Body: sh.Body, Params: sh.BodyParams, HeaderParam: sh.HeaderParams})
	}
	return c.JSON(http.StatusOK, map[string]any{"templates": out})
}

// apiTemplateIn is the template of POST /api/v1/messages.
type apiTemplateIn struct {
	Name         string   `json:"name"`
	Language     string   `json:"language"`
	Params       []string `json:"params"`
	HeaderParams []string `json:"header_params"`
}

// apiSendTemplate answers POST /api/v1/messages with a template.
func (s *Server) apiSendTemplate(c echo.Context, a model.Actor, channelID int64, to string, t apiTemplateIn) error {
	if strings.TrimSpace(t.Name) == "" || strings.TrimSpace(t.Language) == "" {
		return apiFail(c, http.StatusUnprocessableEntity, "invalid", "template.name and template.language are required")
	}
	m, err := s.inbox.SendTemplateTo(c.Request().Context(), a, channelID, to,
		inbox.TemplateSend{Name: t.Name, Language: t.Language, Params: t.Params, HeaderParams: t.HeaderParams})
	var v *model.ValidationError
	switch {
	case errors.Is(err, model.ErrNotFound):
		return apiFail(c, http.StatusNotFound, "not_found", "no such channel")
	case errors.Is(err, inbox.ErrTemplateNotFound):
		return apiFail(c, http.StatusUnprocessableEntity, "template_not_found", "the channel has no approved template "+t.Name+" in "+t.Language+" (sync its templates first)")
	case errors.As(err, &v) && v.Fields["template"] != "":
		return apiFail(c, http.StatusUnprocessableEntity, "invalid", "templates are sent through WhatsApp Cloud API channels only")
	case errors.As(err, &v):
		return apiFail(c, http.StatusUnprocessableEntity, "template_params", "the parameters do not match the template (count, or an empty or multi-line value): "+apiInvalid(v))
	case err != nil:
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]any{"message": m})
}
