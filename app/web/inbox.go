package web

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"masteria/app/i18n"
	"masteria/app/inbox"
	"masteria/app/model"
	inboxview "masteria/views/inbox"
	"masteria/views/ui"
)

// inboxRoutes mounts the inbox and the channel settings under /o/:org.
func (s *Server) inboxRoutes(o *echo.Group) {
	o.GET("/inbox", s.inboxPage)
	o.GET("/inbox/list", s.inboxList)
	o.GET("/inbox/:id", s.inboxPage)
	o.GET("/inbox/:id/thread", s.inboxThread)
	o.GET("/inbox/:id/head", s.inboxPart(inboxview.Head))
	o.POST("/inbox/:id/messages", s.inboxSend)
	o.POST("/inbox/:id/notes", s.inboxNote)
	o.POST("/inbox/:id/assign", s.inboxAssign)
	o.POST("/inbox/:id/status", s.inboxStatus)
	o.POST("/inbox/:id/read", s.inboxRead)
	o.GET("/inbox/:id/botbar", s.inboxPart(inboxview.BotBar))
	o.POST("/inbox/:id/take-over", s.inboxTakeOver)
	o.POST("/inbox/:id/bot", s.inboxGiveToBot)

	adm := o.Group("", requireMay(model.ManageChannels))
	adm.GET("/settings/channels", s.channelsPage)
	adm.POST("/settings/channels", s.channelCreate)
	adm.POST("/settings/channels/:id/test", s.channelTest)
	adm.POST("/settings/channels/:id/disconnect", s.channelDisconnect)
}

// --- Channel settings ---

func (s *Server) channelsPage(c echo.Context) error {
	chs, err := s.inbox.Channels(c.Request().Context(), reqOf(c).Org.ID)
	if err != nil {
		return err
	}
	d := inboxview.ChannelsData{Channels: chs, BaseURL: s.cfg.BaseURL, Kind: c.QueryParam("kind")}
	if created, _ := strconv.ParseInt(c.QueryParam("created"), 10, 64); created > 0 {
		for i := range chs { // only a channel of this org
			if chs[i].ID == created {
				d.Created = &chs[i]
			}
		}
	}
	return render(c, http.StatusOK, inboxview.Channels(d), nil)
}

var (
	digitsID      = regexp.MustCompile(`^[0-9]{5,30}$`)
	e164          = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	twilioAccount = regexp.MustCompile(`^AC[0-9a-fA-F]{32}$`)
	twilioService = regexp.MustCompile(`^MG[0-9a-fA-F]{32}$`)
)

// channelSettings reads and checks what the connect form of kind asks for, splitting it
// into the channel's config and its secrets.
// get reads one field: the form's for the settings page, the JSON config's for the API.
func channelSettings(get func(string) string, kind string, v *model.ValidationError) (values, config, secrets map[string]string) {
	values, config, secrets = map[string]string{}, map[string]string{}, map[string]string{}
	for _, f := range model.ChannelFields[kind] {
		val := strings.TrimSpace(get(f.Name))
		if f.Secret {
			if val != "" {
				secrets[f.Name] = val
			}
		} else {
			values[f.Name] = val
			if val != "" {
				config[f.Name] = val
			}
		}
		switch {
		case val == "":
			if f.Required {
				v.Add(f.Name, "channels.error.required")
			}
			continue
		case len(val) > 1024:
			v.Add(f.Name, "channels.error.too_long")
			continue
		case f.Secret && strings.ContainsAny(val, " \t\r\n"):
			v.Add(f.Name, "channels.error.secret")
			continue
		}
		switch f.Name {
		case "phone_number_id", "waba_id":
			if !digitsID.MatchString(val) {
				v.Add(f.Name, "channels.error.meta_id")
			}
		case "account_sid":
			if !twilioAccount.MatchString(val) {
				v.Add(f.Name, "channels.error.account_sid")
			}
		case "from":
			if !e164.MatchString(val) {
				v.Add(f.Name, "channels.error.from")
			}
		case "messaging_service_sid":
			if !twilioService.MatchString(val) {
				v.Add(f.Name, "channels.error.messaging_service_sid")
			}
		}
	}
	if kind == model.KindTwilioSMS && values["from"] == "" && values["messaging_service_sid"] == "" {
		v.Add("from", "channels.error.from_or_service")
	}
	return values, config, secrets
}

// channelCreate connects a channel. Every field is checked before anything is stored; a
// refusal shows the form again with 422, the secrets left blank. A channel with a webhook
// lands on the page that shows its URL.
func (s *Server) channelCreate(c echo.Context) error {
	ctx := c.Request().Context()
	kind, name := c.FormValue("kind"), c.FormValue("name")
	v := model.NewValidationError()
	if !model.ChannelKindReady(kind) {
		v.Add("kind", "channels.error.kind")
	}
	if n := strings.Join(strings.Fields(name), " "); n == "" || len([]rune(n)) > 80 {
		v.Add("name", "channels.error.name")
	}
	values, config, secrets := channelSettings(c.FormValue, kind, v)
	err := v.Err()
	var ch model.Channel
	if err == nil {
		ch, err = s.inbox.CreateChannel(ctx, actorOf(c), kind, name, config, secrets)
	}
	if errors.As(err, &v) {
		chs, err := s.inbox.Channels(ctx, reqOf(c).Org.ID)
		if err != nil {
			return err
		}
		return refuseForm(c, inboxview.Channels(inboxview.ChannelsData{
			Channels: chs, BaseURL: s.cfg.BaseURL, Kind: kind, Name: name, Values: values, Errors: v.Fields}), nil)
	}
	if err != nil {
		return err
	}
	toast(c, "success", "channels.toast.created")
	if ch.Kind == model.KindWhatsAppQR {
		s.qr.Wake() // pair now if this instance gets the session
		return redirect(c, orgPath(c, fmt.Sprintf("/settings/channels/%d/connect", ch.ID)))
	}
	if inboxview.WebhookURL(s.cfg.BaseURL, ch) != "" {
		return redirect(c, orgPath(c, fmt.Sprintf("/settings/channels?created=%d", ch.ID)))
	}
	return redirect(c, orgPath(c, "/settings/channels"))
}

// --- Inbox ---

// inboxFilter reads the list's filter from the URL: every conversation the member sees,
// open ones, by default.
func inboxFilter(c echo.Context) inboxview.Filter {
	f := inboxview.Filter{View: c.QueryParam("view"), Status: c.QueryParam("status"), Query: model.CleanSearch(c.QueryParam("q"))}
	if !slices.Contains([]string{"mine", "unassigned", "waiting", "all"}, f.View) {
		f.View = "all"
	}
	if !slices.Contains([]string{"open", "pending", "closed", "any"}, f.Status) {
		f.Status = "open"
	}
	f.ChannelID, _ = strconv.ParseInt(c.QueryParam("channel"), 10, 64)
	if l, err := inbox.CleanLabel(c.QueryParam("label")); err == nil {
		f.Label = l
	}
	if len([]rune(f.Query)) > 100 {
		f.Query = string([]rune(f.Query)[:100])
	}
	return f
}

// memberNames maps the org's members' ids to their names.
func (s *Server) memberNames(ctx context.Context, orgID int64) ([]model.Membership, map[int64]string, error) {
	ms, err := s.acct.Members(ctx, orgID)
	names := make(map[int64]string, len(ms))
	for _, m := range ms {
		names[m.UserID] = m.UserName
	}
	return ms, names, err
}

func (s *Server) inboxListData(c echo.Context, f inboxview.Filter, open int64, after string) (inboxview.ListData, error) {
	ctx := c.Request().Context()
	a := actorOf(c)
	d := inboxview.ListData{Filter: f, OpenID: open, After: after, Channels: map[int64]model.Channel{}}
	status := f.Status
	if status == "any" {
		status = ""
	}
	in := inbox.ListInput{View: f.View, Status: status, ChannelID: f.ChannelID, Label: f.Label, Query: f.Query, After: after}
	var err error
	d.Items, d.Next, err = s.inbox.List(ctx, a, in)
	var v *model.ValidationError
	if errors.As(err, &v) { // a forged or stale cursor: start again from the top
		in.After, d.After = "", ""
		d.Items, d.Next, err = s.inbox.List(ctx, a, in)
	}
	if err != nil {
		return d, err
	}
	for i, it := range d.Items {
		if it.ContactPhone != nil {
			p := s.phoneDisplay(c, it.ContactPhone)
			d.Items[i].ContactPhone = &p
		}
	}
	chs, err := s.inbox.Channels(ctx, a.OrgID)
	if err != nil {
		return d, err
	}
	d.AnyYet = len(chs) > 0
	for _, ch := range chs {
		d.Channels[ch.ID] = ch
	}
	if _, d.Members, err = s.memberNames(ctx, a.OrgID); err != nil {
		return d, err
	}
	if d.Labels, err = s.inbox.Labels(ctx, a.OrgID); err != nil {
		return d, err
	}
	d.Unread, err = s.inbox.Unread(ctx, a)
	return d, err
}

// openData loads the open conversation. Opening it changes nothing: the thread asks to
// mark it read with its own POST (inboxRead) once it is on screen.
func (s *Server) openData(c echo.Context, id int64, f inboxview.Filter) (*inboxview.OpenData, error) {
	ctx := c.Request().Context()
	a := actorOf(c)
	conv, err := s.inbox.Open(ctx, a, id)
	if err != nil {
		return nil, err
	}
	if conv.ContactPhone != nil {
		p := s.phoneDisplay(c, conv.ContactPhone)
		conv.ContactPhone = &p
	}
	d := &inboxview.OpenData{Conv: conv, Filter: f, Now: time.Now()}
	chs, err := s.inbox.Channels(ctx, a.OrgID)
	if err != nil {
		return nil, err
	}
	for _, ch := range chs {
		if ch.ID == conv.ChannelID {
			d.Channel = ch
		}
	}
	d.WindowClosed = d.Channel.ServiceWindow() && !conv.WindowOpen(d.Now)
	if d.Members, d.MemberNames, err = s.memberNames(ctx, a.OrgID); err != nil {
		return nil, err
	}
	if d.Contact, err = s.crm.Contact(ctx, a.OrgID, conv.ContactID); err != nil {
		return nil, err
	}
	d.ContactPhone = s.phoneDisplay(c, d.Contact.Phone)
	tags, err := s.crm.Tags(ctx, a.OrgID)
	if err != nil {
		return nil, err
	}
	for _, t := range tags {
		if slices.Contains(d.Contact.TagIDs, t.ID) {
			d.Tags = append(d.Tags, t)
		}
	}
	before, _ := strconv.ParseInt(c.QueryParam("before"), 10, 64)
	if d.Thread, err = s.threadData(ctx, conv, max(before, 0), d.MemberNames, a.UserID); err != nil {
		return nil, err
	}
	d.Thread.Filter = f
	if err := s.teamData(c, d); err != nil {
		return nil, err
	}
	if d.LeadStages, err = s.board.StageOptions(ctx, a.OrgID); err != nil {
		return nil, err
	}
	if err := s.botData(ctx, d); err != nil {
		return nil, err
	}
	if d.CallFrom, err = s.callNumbers(c); err != nil {
		return nil, err
	}
	return d, nil
}

// threadData is a page of the conversation's messages, turned oldest first.
// userID is the member reading it: the notes that mention them are marked, and unseen ones
// are marked seen as the thread shows.
func (s *Server) threadData(ctx context.Context, conv model.Conversation, before int64, names map[int64]string, userID int64) (inboxview.ThreadData, error) {
	msgs, err := s.inbox.Thread(ctx, conv.OrgID, conv.ID, before)
	if err != nil {
		return inboxview.ThreadData{}, err
	}
	d := inboxview.ThreadData{Conv: conv, Members: names}
	if userID != 0 {
		n, err := s.st.UnseenNoteMentions(ctx, conv.OrgID, userID, conv.ID)
		if err != nil {
			return d, err
		}
		d.UnseenMentions = n > 0
	}
	if len(msgs) == 50 {
		d.OlderID = msgs[len(msgs)-1].ID
	}
	slices.Reverse(msgs)
	d.Messages = msgs
	if d.Calls, err = s.threadCalls(ctx, conv, msgs, before, d.OlderID); err != nil {
		return d, err
	}
	var out []int64 // the bot's replies are outbound messages with no sender
	for _, m := range msgs {
		if m.Direction == "out" && m.SenderID == nil {
			out = append(out, m.ID)
		}
	}
	if len(out) > 0 {
		if d.AI, err = s.st.AIRepliesOf(ctx, conv.OrgID, out); err != nil {
			return d, err
		}
	}
	return d, nil
}

func (s *Server) inboxPage(c echo.Context) error {
	f := inboxFilter(c)
	var d inboxview.PageData
	if c.Param("id") != "" {
		id, err := paramID(c, "id")
		if err != nil {
			return err
		}
		if d.Open, err = s.openData(c, id, f); err != nil {
			return err
		}
	}
	var open int64
	if d.Open != nil {
		open = d.Open.Conv.ID
	}
	var err error
	if d.List, err = s.inboxListData(c, f, open, c.QueryParam("after")); err != nil {
		return err
	}
	if reqOf(c).Role.May(model.ManageKnowledge) {
		d.BudgetSpent = s.ai.OverBudget(c.Request().Context(), reqOf(c).Org.ID)
	}
	return render(c, http.StatusOK, inboxview.Page(d), nil)
}

// inboxList is the list fragment: the live reload, the filter form and "load more".
func (s *Server) inboxList(c echo.Context) error {
	f := inboxFilter(c)
	open, _ := strconv.ParseInt(c.QueryParam("open"), 10, 64)
	after := c.QueryParam("after")
	d, err := s.inboxListData(c, f, open, after)
	if err != nil {
		return err
	}
	c.Response().Header().Add("Vary", "HX-Request")
	if c.QueryParam("push") == "1" {
		p := "/inbox"
		if open > 0 {
			p = fmt.Sprintf("/inbox/%d", open)
		}
		c.Response().Header().Set("HX-Push-Url", orgPath(c, p)+f.Encode())
	}
	switch {
	case d.After != "":
		return render(c, http.StatusOK, inboxview.Items(d), nil)
	case c.QueryParam("push") == "1":
		return render(c, http.StatusOK, inboxview.Filtered(d), nil)
	}
	return render(c, http.StatusOK, inboxview.List(d), nil)
}

// inboxThread is the thread fragment (the live reload), or a page of older messages.
func (s *Server) inboxThread(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	a := actorOf(c)
	conv, err := s.inbox.Open(ctx, a, id)
	if err != nil {
		return err
	}
	before, _ := strconv.ParseInt(c.QueryParam("before"), 10, 64)
	_, names, err := s.memberNames(ctx, a.OrgID)
	if err != nil {
		return err
	}
	d, err := s.threadData(ctx, conv, max(before, 0), names, a.UserID)
	if err != nil {
		return err
	}
	if before > 0 {
		return render(c, http.StatusOK, inboxview.Messages(d), nil)
	}
	return render(c, http.StatusOK, inboxview.Thread(d), nil)
}

// inboxPart answers one live part of the open conversation (its header, the bot strip):
// what it reloads when the conversation changes.
func (s *Server) inboxPart(part func(inboxview.OpenData) templ.Component) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := paramID(c, "id")
		if err != nil {
			return err
		}
		d, err := s.openData(c, id, inboxFilter(c))
		if err != nil {
			return err
		}
		return render(c, http.StatusOK, part(*d), nil)
	}
}

func (s *Server) inboxSend(c echo.Context) error   { return s.inboxPost(c, false) }
func (s *Server) inboxNote(c echo.Context) error   { return s.inboxPost(c, true) }
func (s *Server) inboxAssign(c echo.Context) error { return s.inboxChange(c, "assign") }
func (s *Server) inboxStatus(c echo.Context) error { return s.inboxChange(c, "status") }

// inboxRead marks a conversation read: the open thread posts it when it shows unread
// messages (a GET never changes anything).
func (s *Server) inboxRead(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	if err := s.inbox.MarkRead(c.Request().Context(), actorOf(c), id); err != nil {
		return err
	}
	c.Response().Header().Set("HX-Trigger", "inbox-read") // the list and the title's count follow at once
	return c.NoContent(http.StatusNoContent)
}

// inboxPost stores a reply or a note. htmx gets the new bubble to append; a refused
// message answers 422 with the reason, swapped above the composer.
func (s *Server) inboxPost(c echo.Context, note bool) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	a := actorOf(c)
	fh, ferr := composerFile(c) // before FormValue, which would read the body unbounded
	body := c.FormValue("body")
	var m model.Message
	switch {
	case ferr != nil:
		err = ferr
	case note:
		m, err = s.inbox.Note(ctx, a, id, body)
	case fh != nil:
		m, err = s.sendFile(c, id, fh, body) // the text is the file's caption
	default:
		m, err = s.inbox.Send(ctx, a, id, body)
	}
	key := ""
	var v *model.ValidationError
	switch {
	case errors.Is(err, inbox.ErrWindowClosed):
		key = "inbox.window_closed"
	case errors.As(err, &v):
		key = cmp.Or(firstError(v), "toast.error")
	case err != nil:
		return err
	}
	if key != "" {
		if isHTMX(c) {
			c.Response().Header().Set("HX-Retarget", "#composer-notice")
			c.Response().Header().Set("HX-Reswap", "innerHTML")
			return refuseForm(c, inboxview.ComposerError(key), nil)
		}
		d, err := s.openData(c, id, inboxFilter(c))
		if err != nil {
			return err
		}
		d.Body, d.ComposerError = body, key
		list, err := s.inboxListData(c, inboxFilter(c), id, "")
		if err != nil {
			return err
		}
		return refuseForm(c, inboxview.Page(inboxview.PageData{List: list, Open: d}), nil)
	}
	if !isHTMX(c) {
		return c.Redirect(http.StatusSeeOther, orgPath(c, fmt.Sprintf("/inbox/%d", id)))
	}
	_, names, err := s.memberNames(ctx, a.OrgID)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, inboxview.Bubble(m, names), nil)
}

// inboxChange assigns the conversation or sets its status; the page reloads its header
// and list from the event the change sends.
func (s *Server) inboxChange(c echo.Context, what string) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	a := actorOf(c)
	if what == "assign" {
		var to int64
		if v := c.FormValue("user_id"); v != "" {
			if to, err = strconv.ParseInt(v, 10, 64); err != nil || to < 0 {
				return model.FieldError("user_id", "inbox.error.assignee")
			}
		}
		err = s.inbox.Assign(ctx, a, id, to)
	} else {
		err = s.inbox.SetStatus(ctx, a, id, c.FormValue("status"))
	}
	var v *model.ValidationError
	if errors.As(err, &v) {
		return s.inboxRefused(c, id, v)
	}
	if err != nil {
		return err
	}
	if isHTMX(c) {
		key := "inbox.toast.assign"
		if what == "status" {
			key = "inbox.toast.status"
		}
		toast(c, "success", key)
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, orgPath(c, fmt.Sprintf("/inbox/%d", id)))
}

// inboxRefused answers a refused action with 422: a toast for htmx, the page with the
// toast otherwise.
func (s *Server) inboxRefused(c echo.Context, id int64, v *model.ValidationError) error {
	key := cmp.Or(firstError(v), "toast.error")
	if isHTMX(c) {
		toast(c, "error", key)
		return c.NoContent(http.StatusUnprocessableEntity)
	}
	r := reqOf(c)
	r.Toasts = append(r.Toasts, ui.Toast{Kind: "error", Message: i18n.T(r.Locale, key)})
	d, err := s.openData(c, id, inboxFilter(c))
	if err != nil {
		return err
	}
	list, err := s.inboxListData(c, inboxFilter(c), id, "")
	if err != nil {
		return err
	}
	return refuseForm(c, inboxview.Page(inboxview.PageData{List: list, Open: d}), nil)
}
