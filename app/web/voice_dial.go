package web

import (
	"cmp"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"masteria/app/i18n"
	"masteria/app/model"
	"masteria/app/phone"
	"masteria/app/voice/calls"
	"masteria/app/voice/dial"
	"masteria/app/voice/retell"
	voiceview "masteria/views/voice"
)

// callRoutes start calls from a contact, a lead card and a conversation: every member may
// call the people they work with.
func (s *Server) callRoutes(o *echo.Group) {
	o.POST("/contacts/:id/call", s.callContact)
	o.POST("/board/leads/:id/call", s.callLead)
	o.POST("/inbox/:id/call", s.callConversation)
}

// callNumbers are the numbers a member can call from, for the pages' Call buttons (none
// when voice is not set up).
func (s *Server) callNumbers(c echo.Context) ([]voiceview.CallNumber, error) {
	if s.dial == nil {
		return nil, nil
	}
	ns, err := s.st.DialNumbers(c.Request().Context(), reqOf(c).Org.ID)
	if err != nil {
		return nil, err
	}
	out := make([]voiceview.CallNumber, 0, len(ns))
	for _, n := range ns {
		label := phone.Format(n.PhoneNumber, reqOf(c).Org.DefaultCountry)
		if n.Nickname != "" {
			label = n.Nickname + " · " + label
		}
		out = append(out, voiceview.CallNumber{ID: n.ID, Label: label})
	}
	return out, nil
}

// callRequest reads the form's number: blank is the default one, anything else must be an id.
func callRequest(c echo.Context) (dial.Request, bool) {
	r := dial.Request{OrgID: actorOf(c).OrgID, StartedBy: actorOf(c).UserID}
	if v := c.FormValue("number_id"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return r, false
		}
		r.NumberID = n
	}
	return r, true
}

func (s *Server) callContact(c echo.Context) error {
	return s.callFrom(c, "/contacts/", func(r *dial.Request, id int64) { r.ContactID = id })
}

func (s *Server) callLead(c echo.Context) error {
	return s.callFrom(c, "/board/leads/", func(r *dial.Request, id int64) { r.LeadID = id })
}

// callConversation calls the conversation's contact; an agent limited to their own
// conversations cannot call from another's.
func (s *Server) callConversation(c echo.Context) error {
	return s.callFrom(c, "/inbox/", func(r *dial.Request, id int64) { r.ConversationID = id })
}

// callFrom starts a call from the page at page+:id, whose id set puts in the request.
func (s *Server) callFrom(c echo.Context, page string, set func(*dial.Request, int64)) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	if page == "/inbox/" {
		if _, err := s.inbox.Open(c.Request().Context(), actorOf(c), id); err != nil {
			return err
		}
	}
	r, ok := callRequest(c)
	if !ok {
		return echo.ErrNotFound
	}
	set(&r, id)
	return s.startCall(c, r, orgPath(c, page+strconv.FormatInt(id, 10)))
}

// startCall starts r and says how it went in a toast; back is the page to return to
// without htmx. The page shows the call itself when its event arrives.
func (s *Server) startCall(c echo.Context, r dial.Request, back string) error {
	if s.dial == nil {
		return echo.ErrNotFound
	}
	call, err := s.dial.Start(c.Request().Context(), r)
	if errors.Is(err, model.ErrNotFound) {
		return echo.ErrNotFound
	}
	kind, status, msg := "success", http.StatusOK, ""
	loc := reqOf(c).Locale
	if err != nil {
		kind, msg, status = "error", s.callError(c, err), http.StatusUnprocessableEntity
		if errors.Is(err, dial.ErrBusy) {
			status = http.StatusTooManyRequests
		}
		if msg == "" {
			return err
		}
	} else {
		msg = i18n.T(loc, "call.started", "name", s.callee(c, call))
	}
	sendToast(c, kind, msg)
	if isHTMX(c) {
		return c.NoContent(status)
	}
	return c.Redirect(http.StatusSeeOther, back)
}

// callee names who is being called: the contact's name, else the number.
func (s *Server) callee(c echo.Context, call model.Call) string {
	if call.ContactID != nil {
		if ct, err := s.crm.Contact(c.Request().Context(), call.OrgID, *call.ContactID); err == nil && ct.Name != "" {
			return ct.Name
		}
	}
	return phone.Format(call.ToNumber, reqOf(c).Org.DefaultCountry)
}

// callError is a refused call in the member's words; "" for an error that is not theirs
// to fix (the caller then answers 500).
func (s *Server) callError(c echo.Context, err error) string {
	loc := reqOf(c).Locale
	var v *model.ValidationError
	var oh *dial.OutsideHours
	var re *retell.Error
	switch {
	case errors.Is(err, dial.ErrBusy):
		return i18n.T(loc, "call.error.busy")
	case errors.As(err, &oh):
		return i18n.T(loc, "call.error.outside_hours", "zone", oh.Zone, "when", s.whenText(c, oh.Next))
	case errors.As(err, &v):
		return i18n.T(loc, cmp.Or(firstError(v), "toast.error"))
	case errors.As(err, &re):
		return i18n.T(loc, "call.error.retell", "reason", re.Message)
	}
	return ""
}

// whenText is a moment in the member's org zone, as a short day and time.
func (s *Server) whenText(c echo.Context, t time.Time) string {
	if tz, err := s.st.OrgTimeZone(c.Request().Context(), actorOf(c).OrgID); err == nil {
		if z, err := time.LoadLocation(tz); err == nil {
			t = t.In(z)
		}
	}
	return t.Format("02/01 15:04")
}

// apiCallStart is POST /api/v1/calls: call a contact (or a lead's, or a conversation's).
func (s *Server) apiCallStart(c echo.Context) error {
	var in struct {
		ContactID      int64             `json:"contact_id"`
		LeadID         int64             `json:"lead_id"`
		ConversationID int64             `json:"conversation_id"`
		NumberID       int64             `json:"number_id"`
		AgentID        string            `json:"agent_id"`
		Variables      map[string]string `json:"variables"`
	}
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return apiFail(c, http.StatusBadRequest, "bad_json", `the body must be JSON like {"contact_id":1}: `+err.Error())
	}
	if in.ContactID < 0 || in.LeadID < 0 || in.ConversationID < 0 || in.NumberID < 0 {
		return apiFail(c, http.StatusUnprocessableEntity, "invalid", "ids are positive numbers")
	}
	if in.ContactID == 0 && in.LeadID == 0 && in.ConversationID == 0 {
		return apiFail(c, http.StatusUnprocessableEntity, "invalid", "contact_id, lead_id or conversation_id is required")
	}
	if len(in.AgentID) > 128 || strings.ContainsAny(in.AgentID, "/?# \x00") {
		return apiFail(c, http.StatusUnprocessableEntity, "invalid", "agent_id is not a Retell agent id")
	}
	if len(in.Variables) > 50 {
		return apiFail(c, http.StatusUnprocessableEntity, "invalid", "at most 50 variables")
	}
	for k, v := range in.Variables {
		if k == "" || len(k) > 64 || len(v) > 1000 || !utf8.ValidString(k+v) || strings.ContainsRune(k+v, 0) {
			return apiFail(c, http.StatusUnprocessableEntity, "invalid", "variables are names of up to 64 characters with values of up to 1000, in UTF-8 with no NUL")
		}
	}
	if s.dial == nil {
		return apiFail(c, http.StatusNotFound, "not_found", "voice calls are not set up on this server")
	}
	call, err := s.dial.Start(c.Request().Context(), dial.Request{OrgID: apiActor(c).OrgID, ContactID: in.ContactID,
		LeadID: in.LeadID, ConversationID: in.ConversationID, NumberID: in.NumberID, AgentID: in.AgentID, Variables: in.Variables})
	var v *model.ValidationError
	var oh *dial.OutsideHours
	var re *retell.Error
	switch {
	case err == nil:
		return c.JSON(http.StatusCreated, map[string]any{"call": apiCallJSON{Call: call, Turns: calls.Turns(call)}})
	case errors.Is(err, model.ErrNotFound):
		return apiFail(c, http.StatusNotFound, "not_found", "no such contact, lead, conversation or number")
	case errors.Is(err, dial.ErrBusy):
		c.Response().Header().Set("Retry-After", "30")
		return apiFail(c, http.StatusTooManyRequests, "busy", "the org has as many calls at once as it allows; try again when one ends")
	case errors.As(err, &oh):
		return c.JSON(http.StatusUnprocessableEntity, map[string]any{"error": map[string]any{"code": "outside_hours",
			"message": "outside calling hours in the contact's time zone (" + oh.Zone + ")", "next_at": oh.Next.UTC(), "zone": oh.Zone}})
	case errors.As(err, &v):
		return apiFail(c, http.StatusUnprocessableEntity, "invalid", apiInvalid(v))
	case errors.As(err, &re):
		return apiFail(c, http.StatusBadGateway, "retell", "Retell refused the call: "+re.Message)
	}
	return err
}
