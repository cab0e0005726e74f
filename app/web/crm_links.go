package web

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"masteria/app/crm/board"
	"masteria/app/inbox"
	"masteria/app/model"
	"masteria/app/phone"
	"masteria/views/contacts"
	inboxview "masteria/views/inbox"
)

// crmLinkRoutes mount what ties the inbox, the contacts and the board together: starting a
// conversation (the inbox's dialog, a contact's "Send message", a lead card), and a lead
// made from a conversation.
func (s *Server) crmLinkRoutes(o *echo.Group) {
	o.GET("/inbox/new", s.startPage)
	o.GET("/inbox/new/contacts", s.startContacts)
	o.GET("/inbox/new/templates", s.startMessage)
	o.POST("/inbox/new", s.startSend)
	o.POST("/inbox/:id/leads", s.inboxLeadCreate)
	o.POST("/contacts/:id/leads", s.contactLeadCreate)
	o.GET("/contacts/:id/conversation", s.contactConversation)
}

// queryID reads an optional id from the query: 0 when absent, an error when it is not one.
func queryID(c echo.Context, name string) (int64, error) {
	raw := c.QueryParam(name)
	if raw == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n <= 0 {
		return 0, echo.ErrNotFound
	}
	return n, nil
}

// startMessageData is the message half of the start form for a channel (and a contact):
// the window, the approved templates and the chosen one.
func (s *Server) startMessageData(c echo.Context, channelID, contactID, templateID int64) (inboxview.StartMessage, error) {
	ctx := c.Request().Context()
	a := actorOf(c)
	m := inboxview.StartMessage{ChannelID: channelID, ContactID: contactID, WindowOpen: true}
	if channelID == 0 {
		return m, nil
	}
	ch, err := s.inbox.Channel(ctx, a.OrgID, channelID)
	if err != nil {
		return m, err
	}
	m.Channel = &ch
	m.WindowOpen = !ch.ServiceWindow()
	if contactID > 0 {
		conv, open, err := s.inbox.ConversationWith(ctx, a, channelID, contactID)
		switch {
		case err == nil:
			m.Conversation, m.WindowOpen = conv.ID, open
		case !errors.Is(err, model.ErrNotFound):
			return m, err
		}
	}
	if ch.Kind == model.KindWhatsAppCloud {
		var err error
		if m.Templates, err = s.approved(ctx, a.OrgID, channelID, ""); err != nil {
			return m, err
		}
		for i := range m.Templates {
			if m.Templates[i].ID == templateID {
				m.Chosen = &m.Templates[i]
			}
		}
	}
	return m, nil
}

// startData is the start form: the contact of ?contact= (404 when not the org's), the
// org's channels that can send, and the message part of ?channel=.
func (s *Server) startData(c echo.Context, contactID, channelID, templateID int64) (inboxview.StartData, error) {
	ctx := c.Request().Context()
	a := actorOf(c)
	var d inboxview.StartData
	if contactID > 0 {
		ct, err := s.crm.Contact(ctx, a.OrgID, contactID)
		if err != nil {
			return d, err
		}
		d.Contact = &ct
		d.Phone = s.phoneDisplay(c, ct.Phone)
	}
	chs, err := s.inbox.Channels(ctx, a.OrgID)
	if err != nil {
		return d, err
	}
	for _, ch := range chs {
		if ch.Status != model.ChannelDisconnected {
			d.Channels = append(d.Channels, ch)
		}
	}
	if channelID == 0 && len(d.Channels) == 1 {
		channelID = d.Channels[0].ID // nothing to choose
	}
	d.Message, err = s.startMessageData(c, channelID, contactID, templateID)
	return d, err
}

// startPage is the "New conversation" page (?contact=, ?channel= preselect).
func (s *Server) startPage(c echo.Context) error {
	contactID, err := queryID(c, "contact")
	if err != nil {
		return err
	}
	channelID, err := queryID(c, "channel")
	if err != nil {
		return err
	}
	d, err := s.startData(c, contactID, channelID, 0)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, inboxview.Start(d), nil)
}

// startContacts are the contacts the start form's search finds.
func (s *Server) startContacts(c echo.Context) error {
	q := strings.TrimSpace(c.QueryParam("q"))
	var list []model.Contact
	if q != "" {
		cs, err := s.board.SearchContacts(c.Request().Context(), reqOf(c).Org.ID, q)
		if err != nil {
			return err
		}
		for _, ct := range cs {
			mc := model.Contact{ID: ct.ID, Name: ct.Name}
			if ct.Phone != nil {
				p := s.phoneDisplay(c, ct.Phone)
				mc.Phone = &p
			}
			list = append(list, mc)
		}
	}
	channelID, _ := queryID(c, "channel_id")
	return render(c, http.StatusOK, inboxview.StartContacts(list, channelID, q != ""), nil)
}

// startMessage is the message part again, for the chosen channel and template.
func (s *Server) startMessage(c echo.Context) error {
	var ids [3]int64
	for i, name := range []string{"channel_id", "contact_id", "template_id"} {
		n, err := queryID(c, name)
		if err != nil {
			return err
		}
		ids[i] = n
	}
	if ids[1] > 0 { // a contact of the org only
		if _, err := s.crm.Contact(c.Request().Context(), actorOf(c).OrgID, ids[1]); err != nil {
			return err
		}
	}
	m, err := s.startMessageData(c, ids[0], ids[1], ids[2])
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, inboxview.StartMessagePart(m), nil)
}

// startSend starts the conversation and opens it in the inbox; a refusal shows the form
// again with the reason (422) and what was typed.
func (s *Server) startSend(c echo.Context) error {
	ctx := c.Request().Context()
	a := actorOf(c)
	if _, err := c.FormParams(); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "unreadable form")
	}
	form := c.Request().Form
	num := func(name string) int64 {
		n, _ := strconv.ParseInt(form.Get(name), 10, 64)
		return max(n, 0)
	}
	contactID, channelID, templateID := num("contact_id"), num("channel_id"), num("template_id")
	in := inbox.StartInput{ChannelID: channelID, ContactID: contactID, Text: form.Get("body"), Source: "inbox"}
	if templateID > 0 {
		in.Template = &inbox.TemplateSend{ID: templateID, Params: form["params"], HeaderParams: form["header_params"]}
	}
	key := ""
	typed := strings.TrimSpace(form.Get("to"))
	if contactID == 0 && typed != "" {
		p, err := phone.Normalize(typed, reqOf(c).Org.DefaultCountry)
		if err != nil {
			key = "contacts.error.phone.invalid"
		}
		in.Phone = p
	}
	var st inbox.Started
	var err error
	if key == "" {
		if channelID == 0 {
			key = "inbox.start.error.channel"
		} else {
			st, err = s.inbox.Start(ctx, a, in)
		}
	}
	var v *model.ValidationError
	switch {
	case err == nil:
	case errors.Is(err, model.ErrNotFound):
		return err
	case errors.Is(err, inbox.ErrWindowClosed):
		key = "inbox.start.template_only"
	case errors.Is(err, inbox.ErrTemplateNotFound):
		key = "templates.error.not_found"
	case errors.As(err, &v):
		key = cmp.Or(firstError(v, "contact", "to", "channel", "body"), "toast.error")
	default:
		return err
	}
	if key != "" {
		d, err := s.startData(c, contactID, channelID, templateID)
		if err != nil {
			return err
		}
		d.Error = key
		d.Message.Body, d.Message.Params, d.Message.Header = in.Text, form["params"], form["header_params"]
		if d.Contact == nil {
			d.Phone = typed
		}
		return refuseForm(c, inboxview.Start(d), nil)
	}
	toast(c, "success", "inbox.start.toast")
	return redirect(c, orgPath(c, fmt.Sprintf("/inbox/%d", st.ConversationID)))
}

// contactConversation is a contact's "Send message" (and a lead card's): with ?channel=,
// the conversation the contact has there opens in the inbox; otherwise, or when there is
// none yet, the new-conversation form opens with the contact (and channel) chosen. It
// only reads: the conversation starts with its first message.
func (s *Server) contactConversation(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	a := actorOf(c)
	if _, err := s.crm.Contact(ctx, a.OrgID, id); err != nil {
		return err
	}
	channelID, err := queryID(c, "channel")
	if err != nil {
		return err
	}
	if channelID == 0 {
		// The most recent conversation the member may see, on any channel, opens directly.
		convs, err := s.inbox.ContactConversations(ctx, a, id)
		if err != nil {
			return err
		}
		if len(convs) > 0 {
			return c.Redirect(http.StatusSeeOther, orgPath(c, fmt.Sprintf("/inbox/%d", convs[0].ID)))
		}
		return c.Redirect(http.StatusSeeOther, orgPath(c, fmt.Sprintf("/inbox/new?contact=%d", id)))
	}
	if _, err := s.inbox.Channel(ctx, a.OrgID, channelID); err != nil {
		return err
	}
	conv, open, err := s.inbox.ConversationWith(ctx, a, channelID, id)
	switch {
	case err == nil && open:
		return c.Redirect(http.StatusSeeOther, orgPath(c, fmt.Sprintf("/inbox/%d", conv.ID)))
	case err == nil, errors.Is(err, model.ErrNotFound):
		// None yet, or the Cloud API's window is closed: the form, with the template picker.
		return c.Redirect(http.StatusSeeOther, orgPath(c, fmt.Sprintf("/inbox/new?contact=%d&channel=%d", id, channelID)))
	}
	return err
}

// inboxLeadCreate makes a lead of the conversation's contact in the chosen stage.
func (s *Server) inboxLeadCreate(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	conv, err := s.inbox.Open(c.Request().Context(), actorOf(c), id)
	if err != nil {
		return err
	}
	return s.createLeadFor(c, conv.ContactID, conv.ContactName, "inbox", orgPath(c, fmt.Sprintf("/inbox/%d", id)),
		func(v *model.ValidationError) error { return s.inboxRefused(c, id, v) })
}

// createLeadFor makes a lead of a contact from the form's stage_id and title (the
// contact's name when empty) and goes back; refuse draws the calling page again with the
// reason. A stage of another org is not found by CreateLead.
func (s *Server) createLeadFor(c echo.Context, contactID int64, name, source, back string, refuse func(*model.ValidationError) error) error {
	a := actorOf(c)
	stageID, _ := strconv.ParseInt(c.FormValue("stage_id"), 10, 64)
	if stageID <= 0 {
		return refuse(model.FieldError("stage_id", "inbox.lead.error.stage").(*model.ValidationError))
	}
	lead, err := s.board.CreateLead(c.Request().Context(), a, board.LeadInput{StageID: stageID, Source: source,
		Title:     cmp.Or(strings.TrimSpace(c.FormValue("title")), strings.TrimSpace(name)),
		ContactID: strconv.FormatInt(contactID, 10), OwnerID: strconv.FormatInt(a.UserID, 10)})
	var v *model.ValidationError
	if errors.As(err, &v) {
		return refuse(v)
	}
	if err != nil {
		return err
	}
	toast(c, "success", "inbox.lead.toast", "title", lead.Title)
	return redirect(c, back)
}

// contactHome fills the contact page's timeline (?before= is where the previous page
// ended, see model.TimelineCursor), conversations, channels and leads.
func (s *Server) contactHome(c echo.Context, d *contacts.ShowData) error {
	ctx := c.Request().Context()
	a := actorOf(c)
	id := d.Contact.ID
	after := model.ParseTimelineCursor(c.QueryParam("before"))
	d.Before = after.String()
	var err error
	if d.Events, err = s.inbox.ContactTimeline(ctx, a, id, after); err != nil {
		return err
	}
	if len(d.Events) == inbox.TimelinePage {
		d.Older = model.CursorAfter(d.Events[len(d.Events)-1]).String()
	}
	if d.Conversations, err = s.inbox.ContactConversations(ctx, a, id); err != nil {
		return err
	}
	chs, err := s.inbox.Channels(ctx, a.OrgID)
	if err != nil {
		return err
	}
	d.Channels = make(map[int64]model.Channel, len(chs))
	for _, ch := range chs {
		d.Channels[ch.ID] = ch
	}
	if d.Leads, err = s.inbox.ContactLeads(ctx, a.OrgID, id); err != nil {
		return err
	}
	if d.LeadStages, err = s.board.StageOptions(ctx, a.OrgID); err != nil {
		return err
	}
	d.CallFrom, err = s.callNumbers(c)
	return err
}

// contactLeadCreate makes a lead of the contact in the chosen stage, from its page; a
// refused one draws the page again (422) with the reason in a toast.
func (s *Server) contactLeadCreate(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	ct, err := s.crm.Contact(c.Request().Context(), actorOf(c).OrgID, id)
	if err != nil {
		return err
	}
	return s.createLeadFor(c, id, ct.Name, "contact", orgPath(c, fmt.Sprintf("/contacts/%d", id)), func(v *model.ValidationError) error {
		toast(c, "error", firstError(v, "title", "stage_id"))
		d, err := s.contactPage(c, id)
		if err != nil {
			return err
		}
		return refuseForm(c, contacts.Show(d), nil)
	})
}

// apiConversationStart is POST /api/v1/conversations: the first message to a contact (by
// contact_id, or a phone in "to") on a channel, a text or an approved template, through
// the same path as the inbox's "New conversation". 201 with the conversation, the contact
// and the queued message.
func (s *Server) apiConversationStart(c echo.Context) error {
	var in struct {
		ChannelID int64          `json:"channel_id"`
		ContactID int64          `json:"contact_id"`
		To        string         `json:"to"`
		Text      string         `json:"text"`
		Template  *apiTemplateIn `json:"template"`
	}
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return apiFail(c, http.StatusBadRequest, "bad_json", `the body must be JSON like {"channel_id":1,"contact_id":2,"text":"Olá"}: `+err.Error())
	}
	org := c.Get(ctxAPIOrg).(model.Org)
	start := inbox.StartInput{ChannelID: in.ChannelID, ContactID: in.ContactID, Text: in.Text, Source: "api"}
	switch {
	case in.ContactID > 0 && in.To != "":
		return apiFail(c, http.StatusUnprocessableEntity, "invalid", "give either contact_id or to, not both")
	case in.ContactID <= 0 && in.To == "":
		return apiFail(c, http.StatusUnprocessableEntity, "invalid", "contact_id or to is required")
	case in.To != "":
		p, err := phone.Normalize(in.To, org.DefaultCountry)
		if err != nil {
			return apiFail(c, http.StatusUnprocessableEntity, "invalid_phone", err.Error())
		}
		start.Phone = p
	}
	if in.Template != nil {
		if strings.TrimSpace(in.Template.Name) == "" || strings.TrimSpace(in.Template.Language) == "" {
			return apiFail(c, http.StatusUnprocessableEntity, "invalid", "template.name and template.language are required")
		}
		start.Template = &inbox.TemplateSend{Name: in.Template.Name, Language: in.Template.Language,
			Params: in.Template.Params, HeaderParams: in.Template.HeaderParams}
	}
	st, err := s.inbox.Start(c.Request().Context(), apiActor(c), start)
	var v *model.ValidationError
	switch {
	case errors.Is(err, model.ErrNotFound):
		return apiFail(c, http.StatusNotFound, "not_found", "no such channel or contact")
	case errors.Is(err, inbox.ErrWindowClosed):
		return apiFail(c, http.StatusUnprocessableEntity, "window_closed", "no customer message in the last 24 hours: only a template can start this conversation")
	case errors.Is(err, inbox.ErrTemplateNotFound):
		return apiFail(c, http.StatusUnprocessableEntity, "template_not_found", "the channel has no such approved template (sync its templates first)")
	case errors.As(err, &v) && v.Fields["contact"] == "inbox.start.error.opted_out":
		return apiFail(c, http.StatusUnprocessableEntity, "opted_out", "the contact opted out of this channel")
	case errors.As(err, &v) && v.Fields["contact"] != "":
		return apiFail(c, http.StatusUnprocessableEntity, "unreachable", "this channel cannot reach the contact (no phone)")
	case errors.As(err, &v):
		return apiFail(c, http.StatusUnprocessableEntity, "invalid", apiInvalid(v))
	case err != nil:
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"conversation_id": st.ConversationID, "contact_id": st.ContactID, "message": st.Message})
}
