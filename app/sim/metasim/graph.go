package metasim

import (
	"context"
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// errorTitles are the titles of Meta's error code table for the codes the sim produces.
var errorTitles = map[int]string{
	1:      "API Unknown",
	2:      "API Service",
	4:      "API Too Many Calls",
	100:    "Invalid parameter",
	190:    "Access token has expired",
	368:    "Temporarily blocked for policies violations",
	80007:  "Rate limit issues",
	130472: "User's number is part of an experiment",
	130429: "Rate limit hit",
	131000: "Something went wrong",
	131008: "Required parameter is missing",
	131009: "Parameter value is not valid",
	131021: "Recipient cannot be sender",
	131026: "Message undeliverable",
	131030: "Recipient phone number not in allowed list",
	131031: "Account has been locked",
	131042: "Business eligibility payment issue",
	131047: "Re-engagement message",
	131048: "Spam rate limit hit",
	131049: "This message was not delivered to maintain healthy ecosystem engagement.",
	131050: "Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business.",
	131051: "Unsupported message type",
	131053: "Media upload error",
	131056: "(Business Account, Consumer Account) pair rate limit hit",
	132000: "Number of parameters does not match the expected number of params",
	132001: "Template name does not exist in the translation",
	132012: "Parameter format does not match format in the created template",
	132015: "Template is Paused",
	132016: "Template is Disabled",
}

// errorDetails are the error_data.details texts Meta sends with the most common codes.
var errorDetails = map[int]string{
	130429: "Cloud API message throughput has been reached.",
	131026: "Message Undeliverable.",
	131030: "Recipient phone number not in allowed list: Add recipient phone number to recipient list and try again.",
	131047: "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
	131048: "Message failed to send because there are restrictions on how many messages can be sent from this phone number. This may be because too many previous messages were blocked or flagged as spam.",
	131056: "Too many messages sent from the sender phone number to the same recipient phone number in a short period of time.",
	132015: "Template is paused due to low quality so it cannot be sent in a template message.",
	132016: "Template has been paused too many times due to low quality and is now permanently disabled.",
	132001: "template name does not exist in the translation",
}

// CloudError returns the error object of a Cloud API error code, as it appears in a failed
// status webhook and, with the same fields, in a Graph error answer. An empty title takes
// Meta's title for the code.
func CloudError(code int, title string) Error {
	if title == "" {
		title = errorTitles[code]
	}
	if title == "" {
		title = "Unknown error"
	}
	details := errorDetails[code]
	if details == "" {
		details = title
	}
	return Error{
		Code:      code,
		Title:     title,
		Message:   title,
		ErrorData: &ErrorData{Details: details},
		Href:      "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
	}
}

// graphError is a Graph API error answer.
type graphError struct {
	status  int
	typ     string
	code    int
	subcode int
	message string
	details string // error_data.details, Cloud API errors only
	// transient marks Graph's temporary errors (codes 1 and 2): "is_transient": true.
	transient bool
}

// cloudFailure is the Graph answer for a Cloud API error, per the error-codes page:
// {"error":{"message":"(#131047) Re-engagement message","type":"OAuthException","code":131047,
// "error_data":{"messaging_product":"whatsapp","details":"..."},"fbtrace_id":"..."}}.
func (s *Server) cloudFailure(e Error) graphError {
	status := http.StatusBadRequest
	switch e.Code {
	case 190:
		status = http.StatusUnauthorized
	case 130429, 131056, 4, 80007:
		status = s.throttleStatus
	case 368, 131031: // integrity errors come with 403 Forbidden (error-codes page, "Integrity errors")
		status = http.StatusForbidden
	case 132001:
		status = http.StatusNotFound
	case 131000:
		status = http.StatusInternalServerError
	}
	g := graphError{status: status, typ: "OAuthException", code: e.Code, message: fmt.Sprintf("(#%d) %s", e.Code, e.Title)}
	if e.ErrorData != nil {
		g.details = e.ErrorData.Details
	}
	return g
}

// paramError is the (#100) answer Graph gives for a missing or malformed parameter.
func paramError(msg string) graphError {
	return graphError{status: http.StatusBadRequest, typ: "OAuthException", code: 100, message: "(#100) " + msg, details: msg}
}

// unknownObject is Graph's answer for an id that does not exist (or is not visible to the token).
func unknownObject(method, id string) graphError {
	return graphError{
		status: http.StatusBadRequest, typ: "GraphMethodException", code: 100, subcode: 33,
		message: fmt.Sprintf("Unsupported %s request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation.", method, id),
	}
}

func writeGraphError(w http.ResponseWriter, g graphError) {
	e := map[string]any{
		"message":    g.message,
		"type":       g.typ,
		"code":       g.code,
		"fbtrace_id": traceID(),
	}
	if g.subcode != 0 {
		e["error_subcode"] = g.subcode
	}
	if g.transient {
		e["is_transient"] = true
	}
	if g.details != "" {
		e["error_data"] = map[string]string{"messaging_product": "whatsapp", "details": g.details}
	}
	if g.code == 190 {
		w.Header().Set("WWW-Authenticate", `OAuth "Facebook Platform" "invalid_token" "`+g.message+`"`)
	}
	writeJSON(w, g.status, map[string]any{"error": e})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// traceID looks like Graph's fbtrace_id: 11 URL-safe characters.
func traceID() string {
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
	return randomString(chars, 11)
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /{id}/messages", s.handleMessages)
	mux.HandleFunc("POST /{id}/media", s.handleUpload)
	mux.HandleFunc("GET /{id}/message_templates", s.handleTemplates)
	mux.HandleFunc("GET /{id}", s.handleGetObject)
	mux.HandleFunc("DELETE /{id}", s.handleDeleteMedia)
	mux.HandleFunc("GET /whatsapp_business/attachments/", s.handleDownload)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeGraphError(w, graphError{status: http.StatusBadRequest, typ: "OAuthException", code: 2500, message: "Unknown path components: " + r.URL.Path})
	})
	return stripGraphVersion(mux)
}

var graphVersion = regexp.MustCompile(`^/v[0-9]+\.[0-9]+/`)

type originalPathKey struct{}

// stripGraphVersion lets clients pin any Graph version (/v21.0/123/messages). The original path
// is kept for the paging links, which Graph writes with the version the caller used.
func stripGraphVersion(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		orig := r.URL.Path
		if loc := graphVersion.FindStringIndex(orig); loc != nil {
			r = r.Clone(r.Context())
			r.URL.Path = orig[loc[1]-1:]
			r.URL.RawPath = ""
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), originalPathKey{}, orig)))
	})
}

// accessToken reads the token from "Authorization: Bearer", or from access_token= as Graph also allows.
func accessToken(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, _ := strings.Cut(h, " ")
		if strings.EqualFold(scheme, "Bearer") || strings.EqualFold(scheme, "OAuth") {
			return strings.TrimSpace(token)
		}
		return ""
	}
	return r.URL.Query().Get("access_token")
}

// badToken is the answer to a missing or wrong token. Graph's message for a token it cannot
// parse; the sim uses 401 for both cases so a client has one thing to handle.
var badToken = graphError{
	status: http.StatusUnauthorized, typ: "OAuthException", code: 190,
	message: "Invalid OAuth access token - Cannot parse access token",
}

func tokenMatches(got, want string) bool {
	return got != "" && hmac.Equal([]byte(got), []byte(want))
}

// authNumber checks the token against the number's; ok is false once an error has been written.
func (s *Server) authNumber(w http.ResponseWriter, r *http.Request, method, phoneNumberID string) (Number, bool) {
	s.mu.Lock()
	n := s.numbers[phoneNumberID]
	var num Number
	if n != nil {
		num = n.Number
	}
	s.mu.Unlock()
	token := accessToken(r)
	if n == nil {
		// Graph checks the token before it looks the object up.
		if token == "" || !s.knownToken(token) {
			writeGraphError(w, badToken)
		} else {
			writeGraphError(w, unknownObject(method, phoneNumberID))
		}
		return Number{}, false
	}
	if !tokenMatches(token, num.AccessToken) {
		writeGraphError(w, badToken)
		return Number{}, false
	}
	return num, true
}

// knownToken reports whether any registered number has this token.
func (s *Server) knownToken(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.numbers {
		if tokenMatches(token, n.AccessToken) {
			return true
		}
	}
	return false
}

// handleGetObject answers GET /{id} for a phone number or a media object.
func (s *Server) handleGetObject(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	_, isNumber := s.numbers[id]
	_, isMedia := s.media[id]
	s.mu.Unlock()
	switch {
	case isNumber:
		s.handlePhoneNumber(w, r, id)
	case isMedia:
		s.handleMediaURL(w, r, id)
	default:
		if !s.knownToken(accessToken(r)) {
			writeGraphError(w, badToken)
			return
		}
		writeGraphError(w, unknownObject("get", id))
	}
}

// handlePhoneNumber follows the Graph reference of the WhatsApp Business Phone Number node:
// {"verified_name","code_verification_status","display_phone_number","quality_rating",
// "platform_type","throughput":{"level"},"id"} and whatsapp_business_manager_messaging_limit
// (Messaging limits page, "via API"), narrowed by ?fields= (id always included).
func (s *Server) handlePhoneNumber(w http.ResponseWriter, r *http.Request, id string) {
	n, ok := s.authNumber(w, r, "get", id)
	if !ok {
		return
	}
	s.mu.Lock()
	throughput, limit := "STANDARD", s.portfolioOf(n.WABAID).limit
	if num := s.numbers[id]; num != nil {
		n.QualityRating = num.QualityRating
		if num.throughput != "" {
			throughput = num.throughput
		}
	}
	s.mu.Unlock()
	all := map[string]any{
		"verified_name":            n.VerifiedName,
		"code_verification_status": "VERIFIED",
		"display_phone_number":     n.DisplayNumber,
		"quality_rating":           n.QualityRating,
		"platform_type":            "CLOUD_API",
		"throughput":               map[string]string{"level": throughput},
		"id":                       n.PhoneNumberID,
		// The portfolio's messaging limit in its numeric form (250, 2000, 10000, 100000, -1 for
		// unlimited), the field that replaced the deprecated messaging_limit_tier.
		"whatsapp_business_manager_messaging_limit": limit,
	}
	out, g, ok := pickFields(all, r.URL.Query().Get("fields"), "WhatsAppBusinessPhoneNumber")
	if !ok {
		writeGraphError(w, g)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// pickFields narrows an object to ?fields=a,b; id is always kept, as Graph does.
func pickFields(all map[string]any, fields, node string) (map[string]any, graphError, bool) {
	if fields == "" {
		return all, graphError{}, true
	}
	out := map[string]any{"id": all["id"]}
	for f := range strings.SplitSeq(fields, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		v, known := all[f]
		if !known {
			return nil, paramError(fmt.Sprintf("Tried accessing nonexisting field (%s) on node type (%s)", f, node)), false
		}
		out[f] = v
	}
	return out, graphError{}, true
}

// handleTemplates lists a WABA's templates as the message_templates edge does:
// {"data":[{"name","components","language","status","category","id"}],
// "paging":{"cursors":{"before","after"},"next"}}. It honours fields, limit, before, after and
// the name (substring), status, category and language filters.
func (s *Server) handleTemplates(w http.ResponseWriter, r *http.Request) {
	waba := r.PathValue("id")
	token := accessToken(r)
	s.mu.Lock()
	var wabaKnown, allowed bool
	for _, n := range s.numbers {
		if n.WABAID == waba {
			wabaKnown = true
			allowed = allowed || tokenMatches(token, n.AccessToken)
		}
	}
	list := append([]Template(nil), s.templates[waba]...)
	s.mu.Unlock()
	if !wabaKnown && len(list) == 0 {
		if !s.knownToken(token) {
			writeGraphError(w, badToken)
			return
		}
		writeGraphError(w, unknownObject("get", waba))
		return
	}
	if !allowed {
		writeGraphError(w, badToken)
		return
	}

	q := r.URL.Query()
	var matched []Template
	for _, t := range list {
		if name := q.Get("name"); name != "" && !strings.Contains(strings.ToLower(t.Name), strings.ToLower(name)) {
			continue
		}
		if st := q.Get("status"); st != "" && !listHas(st, t.Status) {
			continue
		}
		if c := q.Get("category"); c != "" && !listHas(c, t.Category) {
			continue
		}
		if l := q.Get("language"); l != "" && l != t.Language {
			continue
		}
		matched = append(matched, t)
	}

	limit := 25
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			writeGraphError(w, paramError("Param limit must be a positive integer"))
			return
		}
		limit = min(n, 1000)
	}
	start, end := 0, min(limit, len(matched))
	if c := q.Get("after"); c != "" {
		i, ok := decodeCursor(c)
		if !ok {
			writeGraphError(w, paramError("Invalid after cursor"))
			return
		}
		start = min(i+1, len(matched))
		end = min(start+limit, len(matched))
	} else if c := q.Get("before"); c != "" {
		i, ok := decodeCursor(c)
		if !ok {
			writeGraphError(w, paramError("Invalid before cursor"))
			return
		}
		end = min(i, len(matched))
		start = max(end-limit, 0)
	}

	data := make([]map[string]any, 0, end-start)
	for _, t := range matched[start:end] {
		components := t.Components
		if components == nil {
			components = []map[string]any{}
		}
		all := map[string]any{
			"name": t.Name, "components": components, "language": t.Language,
			"status": t.Status, "category": t.Category, "id": t.ID,
		}
		item, g, ok := pickFields(all, q.Get("fields"), "WhatsAppBusinessHSM")
		if !ok {
			writeGraphError(w, g)
			return
		}
		data = append(data, item)
	}
	out := map[string]any{"data": data}
	if start < end {
		paging := map[string]any{"cursors": map[string]string{
			"before": encodeCursor(start), "after": encodeCursor(end - 1),
		}}
		if end < len(matched) {
			paging["next"] = s.pageLink(r, "after", encodeCursor(end-1))
		}
		if start > 0 {
			paging["previous"] = s.pageLink(r, "before", encodeCursor(start))
		}
		out["paging"] = paging
	}
	writeJSON(w, http.StatusOK, out)
}

// pageLink is the absolute URL of the same request with one cursor set and the other dropped.
func (s *Server) pageLink(r *http.Request, key, cursor string) string {
	q := r.URL.Query()
	q.Del("after")
	q.Del("before")
	q.Set(key, cursor)
	path, _ := r.Context().Value(originalPathKey{}).(string)
	if path == "" {
		path = r.URL.Path
	}
	return s.base(r) + path + "?" + q.Encode()
}

// Cursors are opaque to clients, as on Graph; here they wrap a list position.
func encodeCursor(i int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("pos:" + strconv.Itoa(i)))
}

func decodeCursor(c string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, false
	}
	n, ok := strings.CutPrefix(string(b), "pos:")
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(n)
	return i, err == nil && i >= 0
}

// listHas reports whether a comma-separated filter such as "APPROVED,PENDING" names v.
func listHas(list, v string) bool {
	for item := range strings.SplitSeq(list, ",") {
		if strings.EqualFold(strings.TrimSpace(item), v) {
			return true
		}
	}
	return false
}
