package metasim

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// SentMessage is a message the sim accepted on POST /{phone_number_id}/messages.
type SentMessage struct {
	ID            string // the wamid returned to the client
	PhoneNumberID string
	To            string // as the client wrote it
	WaID          string // digits only, as contacts[].wa_id answered; empty when sent by Recipient
	Recipient     string // the "recipient" the client wrote (a business-scoped user id)
	UserID        string // the user id it was sent to, when sent by Recipient
	Type          string
	Text          string // text.body
	Template      string // template.name
	Language      string // template.language.code
	MediaID       string // image, audio, video, document or sticker id
	MediaLink     string // … or link
	Caption       string
	// HeaderMediaLink and HeaderMediaID are a template's header image, video or document, as
	// the header parameter gave it (by link or by uploaded media id); HeaderMediaType is
	// image, video or document, HeaderFilename a document's file name.
	HeaderMediaType string
	HeaderMediaLink string
	HeaderMediaID   string
	HeaderFilename  string
	ReplyTo         string          // context.message_id
	CallbackData    string          // biz_opaque_callback_data, echoed in every status of it
	Raw             json.RawMessage // the request body as received
	At              time.Time       // on the sim's clock

	category string // pricing category: service, marketing, utility or authentication
}

// Sent returns the accepted sends, oldest first.
func (s *Server) Sent() []SentMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sent)
}

// WaitSent waits until at least n sends have been accepted and returns them all.
func (s *Server) WaitSent(ctx context.Context, n int) ([]SentMessage, error) {
	if err := s.changes.Wait(ctx, func() bool { return len(s.sent) >= n }); err != nil {
		return s.Sent(), fmt.Errorf("metasim: waiting for %d sends: %w", n, err)
	}
	return s.Sent(), nil
}

// MarkedRead returns the inbound wamids the client marked as read, in order.
func (s *Server) MarkedRead() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.markedRead)
}

// sendRequest is the body of POST /{phone_number_id}/messages as the Messages reference
// describes it, and of the mark-as-read request (status + message_id).
type sendRequest struct {
	MessagingProduct      string `json:"messaging_product"`
	RecipientType         string `json:"recipient_type"`
	To                    string `json:"to"`
	Recipient             string `json:"recipient"`
	Type                  string `json:"type"`
	Status                string `json:"status"`
	MessageID             string `json:"message_id"`
	BizOpaqueCallbackData string `json:"biz_opaque_callback_data"`
	Context               *struct {
		MessageID string `json:"message_id"`
	} `json:"context"`
	Text *struct {
		Body       string `json:"body"`
		PreviewURL bool   `json:"preview_url"`
	} `json:"text"`
	Image    *mediaObject `json:"image"`
	Audio    *mediaObject `json:"audio"`
	Video    *mediaObject `json:"video"`
	Document *mediaObject `json:"document"`
	Sticker  *mediaObject `json:"sticker"`
	Template *struct {
		Name     string `json:"name"`
		Language struct {
			Code   string `json:"code"`
			Policy string `json:"policy"`
		} `json:"language"`
		Components []struct {
			Type       string            `json:"type"`
			Parameters []json.RawMessage `json:"parameters"`
		} `json:"components"`
	} `json:"template"`
	Reaction *struct {
		MessageID string `json:"message_id"`
		Emoji     string `json:"emoji"`
	} `json:"reaction"`
	Interactive *struct {
		Type   string          `json:"type"`
		Action json.RawMessage `json:"action"`
	} `json:"interactive"`
	Location *struct {
		Latitude  *float64 `json:"latitude"`
		Longitude *float64 `json:"longitude"`
	} `json:"location"`
	Contacts []json.RawMessage `json:"contacts"`
}

type mediaObject struct {
	ID       string `json:"id"`
	Link     string `json:"link"`
	Caption  string `json:"caption"`
	Filename string `json:"filename"`
}

func (r *sendRequest) media() *mediaObject {
	switch r.Type {
	case "image":
		return r.Image
	case "audio":
		return r.Audio
	case "video":
		return r.Video
	case "document":
		return r.Document
	case "sticker":
		return r.Sticker
	}
	return nil
}

// handleMessages sends a message or marks one as read. Answers follow the Messages reference:
// {"messaging_product":"whatsapp","contacts":[{"input","wa_id"}],"messages":[{"id"}]}, and
// {"success":true} for mark-as-read.
func (s *Server) handleMessages(w http.ResponseWriter, r *http.Request) {
	n, ok := s.authNumber(w, r, "post", r.PathValue("id"))
	if !ok {
		return
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		writeGraphError(w, paramError("Request body is too large or unreadable"))
		return
	}
	var req sendRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		writeGraphError(w, paramError("Invalid JSON in request body"))
		return
	}
	switch req.MessagingProduct {
	case "whatsapp":
	case "":
		writeGraphError(w, paramError("The parameter messaging_product is required."))
		return
	default:
		writeGraphError(w, paramError(fmt.Sprintf("Param messaging_product must be one of {WHATSAPP} - got %q.", req.MessagingProduct)))
		return
	}
	if req.Status != "" {
		s.markRead(w, n, req)
		return
	}
	s.mu.Lock()
	g, failed := s.httpFailure()
	s.mu.Unlock()
	if failed {
		writeGraphError(w, g)
		return
	}
	h := s.takeHang()
	if h != nil && !h.accept && !s.wait(r.Context(), h.d) {
		return // the client gave up before Meta took the message: nothing was sent
	}

	msg, fail, g, ok := s.accept(n, &req, raw)
	if !ok {
		writeGraphError(w, g)
		return
	}
	s.scheduleStatuses(msg, fail)
	if h != nil && h.accept && !s.wait(r.Context(), h.d) {
		return // taken, but the answer is lost: the statuses still come
	}
	sent := map[string]any{"id": msg.ID}
	if msg.Type == "template" {
		sent["message_status"] = "accepted"
	}
	contact := map[string]string{"input": msg.To, "wa_id": msg.WaID}
	if msg.WaID == "" { // sent to a user id: Meta answers with it
		contact = map[string]string{"input": msg.Recipient, "user_id": msg.UserID}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"messaging_product": "whatsapp",
		"contacts":          []map[string]string{contact},
		"messages":          []map[string]any{sent},
	})
}

// markRead follows "Mark messages as read": only an inbound wamid of this number is valid,
// anything else gets 131009.
func (s *Server) markRead(w http.ResponseWriter, n Number, req sendRequest) {
	if req.Status != "read" {
		writeGraphError(w, paramError(fmt.Sprintf("Param status must be one of {READ} - got %q.", req.Status)))
		return
	}
	if req.MessageID == "" {
		writeGraphError(w, paramError("The parameter message_id is required."))
		return
	}
	s.mu.Lock()
	ours := s.inbound[req.MessageID] == n.PhoneNumberID
	if ours {
		s.markedRead = append(s.markedRead, req.MessageID)
	}
	s.mu.Unlock()
	if !ours {
		writeGraphError(w, s.cloudFailure(CloudError(131009, "")))
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"success": true})
}

// accept validates a send and records it. fail, when set, is the error the message will fail
// with after "sent".
func (s *Server) accept(n Number, req *sendRequest, raw []byte) (msg SentMessage, fail *Error, g graphError, ok bool) {
	if req.Type == "" {
		req.Type = "text" // the Messages reference: type defaults to text
	}
	s.mu.Lock()
	defer s.mu.Unlock()

	if e := s.failNext; e != nil {
		s.failNext = nil
		return msg, nil, s.cloudFailure(*e), false
	}
	if !s.takeRate(n.PhoneNumberID) {
		return msg, nil, s.cloudFailure(CloudError(130429, "")), false
	}
	if g, ok := s.validate(n, req); !ok {
		return msg, nil, g, false
	}

	// "to" wins when a request carries both; the window is kept per number and per user id.
	waID, userID, key := digits(req.To), "", digits(req.To)
	if req.To == "" {
		userID, key = req.Recipient, req.Recipient
	}
	category := "service"
	now := s.now()
	last := s.lastInbound[conversationKey{n.PhoneNumberID, key}]
	inWindow := !last.IsZero() && now.Sub(last) < 24*time.Hour
	var p *portfolio // set when the send is business-initiated and counts against the limit
	if req.Type == "template" {
		t, g, ok := s.findTemplate(n.WABAID, req)
		if !ok {
			return msg, nil, g, false
		}
		category = strings.ToLower(t.Category)
		if !inWindow {
			p = s.portfolioOf(n.WABAID)
		}
	} else if !inWindow {
		e := CloudError(131047, "")
		if !s.asyncWindow {
			return msg, nil, s.cloudFailure(e), false
		}
		fail = &e
	}
	if !s.takePair(n.PhoneNumberID, key, false) {
		return msg, nil, s.cloudFailure(CloudError(131056, "")), false
	}
	if p != nil && !p.allows(key, now) {
		e := CloudError(s.limitCode, "")
		if !s.limitAsync {
			return msg, nil, s.cloudFailure(e), false
		}
		fail, p = &e, nil
	}
	s.takePair(n.PhoneNumberID, key, true)
	if p != nil {
		p.record(key, now)
	}
	if fail == nil {
		if e, ok := s.failFor[key]; ok {
			fail = &e
			delete(s.failFor, key)
		} else if e, ok := s.undeliver[key]; ok {
			fail = &e
		} else if s.failDelivery != nil {
			fail, s.failDelivery = s.failDelivery, nil
		}
	}

	msg = SentMessage{
		ID: newWAMID(), PhoneNumberID: n.PhoneNumberID, To: req.To, WaID: waID, Recipient: req.Recipient, UserID: userID, Type: req.Type,
		Raw: json.RawMessage(raw), At: s.now(), category: category, CallbackData: req.BizOpaqueCallbackData,
	}
	switch {
	case req.Text != nil && req.Type == "text":
		msg.Text = req.Text.Body
	case req.Type == "template":
		msg.Template, msg.Language = req.Template.Name, req.Template.Language.Code
		if h := headerMedia(req); h != nil {
			msg.HeaderMediaType, msg.HeaderMediaLink, msg.HeaderMediaID, msg.HeaderFilename = h.typ, h.Link, h.ID, h.Filename
		}
	case req.media() != nil:
		m := req.media()
		msg.MediaID, msg.MediaLink, msg.Caption = m.ID, m.Link, m.Caption
	}
	if req.Context != nil {
		msg.ReplyTo = req.Context.MessageID
	}
	s.sentByID[msg.ID] = len(s.sent)
	s.sent = append(s.sent, msg)
	s.sentTo[key]++
	s.changes.Notify()
	return msg, fail, graphError{}, true
}

// takeRate counts a send against the number's rate window. Callers hold s.mu.
func (s *Server) takeRate(phoneNumberID string) bool {
	if s.rateN <= 0 || s.rateWindow <= 0 {
		return true
	}
	n := s.numbers[phoneNumberID]
	now := s.now()
	if now.Sub(n.windowStart) >= s.rateWindow || now.Before(n.windowStart) {
		n.windowStart, n.windowCount = now, 0
	}
	if n.windowCount >= s.rateN {
		return false
	}
	n.windowCount++
	return true
}

const sendTypes = "{AUDIO, CONTACTS, DOCUMENT, IMAGE, INTERACTIVE, LOCATION, REACTION, STICKER, TEMPLATE, TEXT, VIDEO}"

var interactiveTypes = []string{"button", "list", "cta_url", "product", "product_list", "flow", "location_request_message"}

// validate checks recipient and content the way the Messages reference requires them, with
// Graph's (#100) messages. Callers hold s.mu.
func (s *Server) validate(n Number, req *sendRequest) (graphError, bool) {
	if req.RecipientType != "" && req.RecipientType != "individual" {
		return paramError(fmt.Sprintf("Param recipient_type must be one of {INDIVIDUAL} - got %q.", req.RecipientType)), false
	}
	// The Messages reference caps biz_opaque_callback_data at 512 characters.
	if len([]rune(req.BizOpaqueCallbackData)) > 512 {
		return paramError("Param biz_opaque_callback_data must be at most 512 characters long."), false
	}
	if req.To == "" && req.Recipient == "" {
		return paramError("The parameter to is required."), false
	}
	if req.To == "" {
		if !userIDPattern.MatchString(req.Recipient) {
			return paramError(fmt.Sprintf("Param recipient must be a business-scoped user id - got %q.", req.Recipient)), false
		}
		return s.validateContent(req)
	}
	waID := digits(req.To)
	if len(waID) < 7 || len(waID) > 15 || strings.Trim(req.To, "+0123456789 -()") != "" {
		return paramError(fmt.Sprintf("Param to must be a phone number - got %q.", req.To)), false
	}
	if waID == digits(n.DisplayNumber) {
		return s.cloudFailure(CloudError(131021, "")), false
	}
	if len(n.AllowedRecipients) > 0 && !slices.ContainsFunc(n.AllowedRecipients, func(a string) bool { return digits(a) == waID }) {
		return s.cloudFailure(CloudError(131030, "")), false
	}
	return s.validateContent(req)
}

// userIDPattern is a business-scoped user id or parent id: "US.1349…", "US.ENT.1181…".
var userIDPattern = regexp.MustCompile(`^[A-Z]{2}\.(ENT\.)?[A-Za-z0-9]{1,128}$`)

// validateContent checks the message itself. Callers hold s.mu.
func (s *Server) validateContent(req *sendRequest) (graphError, bool) {
	switch req.Type {
	case "text":
		if req.Text == nil || req.Text.Body == "" {
			return paramError("The parameter text['body'] is required."), false
		}
		if len([]rune(req.Text.Body)) > 4096 {
			return paramError("Param text['body'] must be at most 4096 characters long."), false
		}
	case "image", "audio", "video", "document", "sticker":
		m := req.media()
		if m == nil {
			return paramError(fmt.Sprintf("The parameter %s is required.", req.Type)), false
		}
		switch {
		case m.ID == "" && m.Link == "":
			return paramError(fmt.Sprintf("The parameter %s['id'] or %s['link'] is required.", req.Type, req.Type)), false
		case m.ID != "" && s.media[m.ID] == nil:
			return paramError(fmt.Sprintf("Param %s['id'] is not a valid whatsapp business account media attachment ID", req.Type)), false
		case m.ID == "" && !isHTTPURL(m.Link):
			return paramError(fmt.Sprintf("Param %s['link'] must be a valid URL", req.Type)), false
		}
	case "template":
		if req.Template == nil || req.Template.Name == "" {
			return paramError("The parameter template['name'] is required."), false
		}
		if req.Template.Language.Code == "" {
			return paramError("The parameter template['language']['code'] is required."), false
		}
	case "reaction":
		if req.Reaction == nil || req.Reaction.MessageID == "" {
			return paramError("The parameter reaction['message_id'] is required."), false
		}
	case "interactive":
		if req.Interactive == nil || req.Interactive.Type == "" {
			return paramError("The parameter interactive['type'] is required."), false
		}
		if !slices.Contains(interactiveTypes, req.Interactive.Type) {
			return paramError(fmt.Sprintf("Param interactive['type'] must be one of {BUTTON, LIST, CTA_URL, PRODUCT, PRODUCT_LIST, FLOW, LOCATION_REQUEST_MESSAGE} - got %q.", req.Interactive.Type)), false
		}
		if a := req.Interactive.Action; len(a) == 0 || string(a) == "null" {
			return paramError("The parameter interactive['action'] is required."), false
		}
	case "location":
		if req.Location == nil || req.Location.Latitude == nil || req.Location.Longitude == nil {
			return paramError("The parameters location['latitude'] and location['longitude'] are required."), false
		}
	case "contacts":
		if len(req.Contacts) == 0 {
			return paramError("The parameter contacts is required."), false
		}
	default:
		return paramError(fmt.Sprintf("Param type must be one of %s - got %q.", sendTypes, req.Type)), false
	}
	return graphError{}, true
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

var placeholder = regexp.MustCompile(`\{\{\s*([A-Za-z0-9_]+)\s*\}\}`)

// findTemplate resolves a template send: an unknown or unapproved template gets 132001 (a
// paused one 132015, a disabled one 132016), a body
// parameter count that differs from the template's placeholders gets 132000. Callers hold s.mu.
func (s *Server) findTemplate(wabaID string, req *sendRequest) (Template, graphError, bool) {
	name, lang := req.Template.Name, req.Template.Language.Code
	i := slices.IndexFunc(s.templates[wabaID], func(t Template) bool { return t.Name == name && t.Language == lang })
	if i >= 0 {
		// Paused and disabled templates have their own codes (error-codes page, "Template
		// errors"): 132015 while paused for low quality, 132016 once disabled.
		switch s.templates[wabaID][i].Status {
		case TemplatePaused:
			return Template{}, s.cloudFailure(CloudError(132015, "")), false
		case TemplateDisabled:
			return Template{}, s.cloudFailure(CloudError(132016, "")), false
		}
	}
	if i < 0 || s.templates[wabaID][i].Status != TemplateApproved {
		e := CloudError(132001, "")
		e.ErrorData.Details = fmt.Sprintf("template name (%s) does not exist in %s", name, lang)
		return Template{}, s.cloudFailure(e), false
	}
	t := s.templates[wabaID][i]
	want := bodyPlaceholders(t)
	got := 0
	for _, c := range req.Template.Components {
		if strings.EqualFold(c.Type, "body") {
			got += len(c.Parameters)
		}
	}
	if got != want {
		e := CloudError(132000, "")
		e.ErrorData.Details = fmt.Sprintf("body: number of localizable_params (%d) does not match the expected number of params (%d)", got, want)
		return Template{}, s.cloudFailure(e), false
	}
	if g, ok := s.checkHeader(t, req); !ok {
		return Template{}, g, false
	}
	return t, graphError{}, true
}

// headerFormat is the template's HEADER format in lower case: image, video, document, text
// (also a header with no format), or "" when it has no header.
func headerFormat(t Template) string {
	for _, c := range t.Components {
		typ, _ := c["type"].(string)
		if !strings.EqualFold(typ, "HEADER") {
			continue
		}
		f, _ := c["format"].(string)
		if f == "" {
			return "text"
		}
		return strings.ToLower(f)
	}
	return ""
}

// headerParam is one parameter of a template's header component, as sent.
type headerParam struct {
	Type     string       `json:"type"`
	Text     string       `json:"text"`
	Image    *mediaObject `json:"image"`
	Video    *mediaObject `json:"video"`
	Document *mediaObject `json:"document"`
}

// headerMediaParam is a header's media parameter with its type.
type headerMediaParam struct {
	typ string
	*mediaObject
}

// headerParams are the parameters of the request's header component, nil without one.
func headerParams(req *sendRequest) ([]headerParam, bool) {
	for _, c := range req.Template.Components {
		if !strings.EqualFold(c.Type, "header") {
			continue
		}
		out := make([]headerParam, 0, len(c.Parameters))
		for _, raw := range c.Parameters {
			var p headerParam
			if json.Unmarshal(raw, &p) != nil {
				return nil, true
			}
			out = append(out, p)
		}
		return out, true
	}
	return nil, false
}

// headerMedia is the media a template send's header carries, nil when it carries none.
func headerMedia(req *sendRequest) *headerMediaParam {
	ps, _ := headerParams(req)
	for _, p := range ps {
		var m *mediaObject
		switch p.Type {
		case "image":
			m = p.Image
		case "video":
			m = p.Video
		case "document":
			m = p.Document
		}
		if m != nil {
			return &headerMediaParam{typ: p.Type, mediaObject: m}
		}
	}
	return nil
}

// checkHeader holds a template send's header to the template's HEADER format, as Meta
// does (providers.md §4.2 and §4.5): a media header (IMAGE, VIDEO, DOCUMENT) needs exactly
// one header parameter — none is a parameter count mismatch (132000), one of another type
// or without an id or link a parameter format mismatch (132012); a header parameter for a
// template whose header is not media is a format mismatch too. Text headers are left as
// they were (their parameter count is not checked). Callers hold s.mu.
func (s *Server) checkHeader(t Template, req *sendRequest) (graphError, bool) {
	format := headerFormat(t)
	params, _ := headerParams(req)
	media := format == "image" || format == "video" || format == "document"
	if !media {
		for _, p := range params {
			if p.Type != "text" {
				e := CloudError(132012, "")
				e.ErrorData.Details = fmt.Sprintf("header: parameter of type %s does not match the template's header format (%s)", p.Type, strings.ToUpper(cmp.Or(format, "none")))
				return s.cloudFailure(e), false
			}
		}
		return graphError{}, true
	}
	if len(params) != 1 {
		e := CloudError(132000, "")
		e.ErrorData.Details = fmt.Sprintf("header: number of localizable_params (%d) does not match the expected number of params (1)", len(params))
		return s.cloudFailure(e), false
	}
	h := headerMedia(req)
	if h == nil || h.typ != format {
		got := params[0].Type
		e := CloudError(132012, "")
		e.ErrorData.Details = fmt.Sprintf("header: parameter of type %s does not match the expected format %s", cmp.Or(got, "none"), strings.ToUpper(format))
		return s.cloudFailure(e), false
	}
	switch {
	case h.ID == "" && h.Link == "":
		e := CloudError(132012, "")
		e.ErrorData.Details = fmt.Sprintf("header: the %s parameter needs an id or a link", format)
		return s.cloudFailure(e), false
	case h.ID != "" && s.media[h.ID] == nil:
		return paramError(fmt.Sprintf("Param template['components'][0]['parameters'][0]['%s']['id'] is not a valid whatsapp business account media attachment ID", format)), false
	case h.ID == "" && !isHTTPURL(h.Link):
		return paramError(fmt.Sprintf("Param template['components'][0]['parameters'][0]['%s']['link'] must be a valid URL", format)), false
	}
	return graphError{}, true
}

// bodyPlaceholders counts the distinct {{1}} or {{name}} variables of the template's BODY.
func bodyPlaceholders(t Template) int {
	for _, c := range t.Components {
		typ, _ := c["type"].(string)
		if !strings.EqualFold(typ, "BODY") {
			continue
		}
		text, _ := c["text"].(string)
		seen := map[string]bool{}
		for _, m := range placeholder.FindAllStringSubmatch(text, -1) {
			seen[m[1]] = true
		}
		return len(seen)
	}
	return 0
}

// scheduleStatuses queues the automatic status webhooks of an accepted message: the chosen
// ones among sent, delivered and read, or sent then failed. A pool of workers posts them.
func (s *Server) scheduleStatuses(msg SentMessage, fail *Error) {
	if s.noStatuses {
		return
	}
	s.mu.Lock()
	list := slices.Clone(s.autoStatuses)
	if fail != nil {
		list = slices.DeleteFunc(list, func(st string) bool { return st != StatusSent })
		list = append(list, StatusFailed)
	}
	if len(list) == 0 || s.ctx.Err() != nil {
		s.mu.Unlock()
		return
	}
	s.pending++
	s.mu.Unlock()
	s.enqueue(&statusJob{due: time.Now().Add(s.delayFor(list[0])), msg: msg, steps: list, fail: fail})
}

func (s *Server) delayFor(status string) time.Duration {
	switch status {
	case StatusSent:
		return s.delays[0]
	case StatusDelivered, StatusFailed:
		return s.delays[1]
	case StatusRead:
		return s.delays[2]
	}
	return 0
}
