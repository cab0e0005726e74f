package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"masteria/app/crm"
	"masteria/app/model"
)

// apiCRMRoutes mounts the contacts, tags, custom fields and segments of the REST API.
// Every change goes through the crm service the pages use, so the timeline, the events
// and what hangs on them happen the same way.
func (s *Server) apiCRMRoutes(api *echo.Group) {
	api.GET("/contacts", s.apiContacts)
	api.POST("/contacts", s.apiContactCreate)
	api.GET("/contacts/:id", s.apiContact)
	api.PATCH("/contacts/:id", s.apiContactUpdate)
	api.DELETE("/contacts/:id", s.apiContactDelete)
	api.POST("/contacts/:id/tags", s.apiContactTag)
	api.DELETE("/contacts/:id/tags/:tag_id", s.apiContactUntag)
	api.PUT("/contacts/:id/opt-outs", s.apiContactOptOuts)
}

const noSuchContact = "no such contact"

// apiPageLimit reads ?limit= (1 to 100, 50 when left out).
func apiPageLimit(c echo.Context) (int, bool) {
	v := c.QueryParam("limit")
	if v == "" {
		return 50, true
	}
	n, err := strconv.Atoi(v)
	return n, err == nil && n >= 1 && n <= 100
}

// apiOnlyParams refuses a query parameter the route does not take, so a typo in a
// filter's name is an error rather than a list that silently ignores it.
func apiOnlyParams(c echo.Context, allowed ...string) bool {
	for k := range c.QueryParams() {
		if !slices.Contains(allowed, k) {
			_ = apiFail(c, http.StatusBadRequest, "bad_request", "unknown query parameter "+strconv.Quote(k)+"; this list takes "+strings.Join(allowed, ", "))
			return false
		}
	}
	return true
}

// apiDecode reads a JSON body that must hold only the fields of dst.
func apiDecode(c echo.Context, dst any, example string) bool {
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		_ = apiFail(c, http.StatusBadRequest, "bad_json", "the body must be JSON like "+example+": "+err.Error())
		return false
	}
	if dec.More() {
		_ = apiFail(c, http.StatusBadRequest, "bad_json", "the body must be one JSON object like "+example)
		return false
	}
	return true
}

// apiInvalidFields answers 422 invalid with each field's error in English.
func apiInvalidFields(c echo.Context, v *model.ValidationError) error {
	return apiCampaignFail(c, v, "", "")
}

// apiCRMFail answers a refusal of the crm or board service.
func apiCRMFail(c echo.Context, err error, notFound string) error {
	var v *model.ValidationError
	switch {
	case errors.Is(err, model.ErrNotFound):
		return apiFail(c, http.StatusNotFound, "not_found", notFound)
	case errors.Is(err, model.ErrForbidden):
		return apiFail(c, http.StatusForbidden, "forbidden", "this key may not do this")
	case errors.As(err, &v):
		return apiInvalidFields(c, v)
	case errors.Is(err, model.ErrConflict):
		return apiFail(c, http.StatusConflict, "conflict", err.Error())
	}
	return err
}

// apiContactFilter reads the list's filters from the query, as the contacts page reads
// them (segment_id starts from a saved segment's filter and the others narrow it).
func (s *Server) apiContactFilter(c echo.Context) (model.ContactFilter, bool, error) {
	q := c.QueryParams()
	only := url.Values{}
	for _, k := range []string{"q", "tag", "stage", "owner", "opted_out", "created_from", "created_to", "active_since", "active_until"} {
		if vs, ok := q[k]; ok {
			only[k] = vs
		}
	}
	if o := only.Get("owner"); o == "me" {
		return model.ContactFilter{}, false, apiCRMFail(c, model.FieldError("owner", "contacts.error.filter"), "")
	}
	f, err := model.ParseContactFilter(only)
	var v *model.ValidationError
	if errors.As(err, &v) {
		return f, false, apiInvalidFields(c, v)
	}
	ctx := c.Request().Context()
	orgID := apiActor(c).OrgID
	if foreign, err := s.foreignTags(ctx, orgID, f.TagIDs); err != nil || foreign {
		if err != nil {
			return f, false, err
		}
		return f, false, apiFail(c, http.StatusNotFound, "not_found", "a tag that is not in your organization")
	}
	for _, id := range f.StageIDs {
		if _, err := s.board.Stage(ctx, orgID, id); err != nil {
			return f, false, apiCRMFail(c, err, "a stage that is not in your organization")
		}
	}
	if sid := q.Get("segment_id"); sid != "" {
		id, err := strconv.ParseInt(sid, 10, 64)
		if err != nil || id <= 0 {
			return f, false, apiFail(c, http.StatusNotFound, "not_found", "no such segment")
		}
		sg, sf, err := s.crm.Segment(c.Request().Context(), apiActor(c).OrgID, id)
		if err != nil {
			return f, false, apiCRMFail(c, err, "no such segment")
		}
		sf = segmentMe(sg, sf)
		if f.Query != "" {
			sf.Query = f.Query
		}
		sf.TagIDs = append(sf.TagIDs, f.TagIDs...)
		sf.StageIDs = append(sf.StageIDs, f.StageIDs...)
		if f.Owner != "" {
			sf.Owner = f.Owner
		}
		if f.OptedOut != "" {
			sf.OptedOut = f.OptedOut
		}
		if f.CreatedFrom != nil {
			sf.CreatedFrom = f.CreatedFrom
		}
		if f.CreatedTo != nil {
			sf.CreatedTo = f.CreatedTo
		}
		if f.ActiveSince != nil {
			sf.ActiveSince = f.ActiveSince
		}
		if f.ActiveUntil != nil {
			sf.ActiveUntil = f.ActiveUntil
		}
		f = sf
	}
	return f, true, nil
}

// apiContacts is GET /contacts: a page of the contacts matching the filters, in the sort
// asked (newest first by default); ?after=<next> reads on.
func (s *Server) apiContacts(c echo.Context) error {
	if !apiOnlyParams(c, "q", "tag", "stage", "segment_id", "owner", "opted_out", "created_from", "created_to",
		"active_since", "active_until", "sort", "after", "limit") {
		return nil
	}
	limit, ok := apiPageLimit(c)
	if !ok {
		return apiFail(c, http.StatusBadRequest, "bad_request", "limit must be a number from 1 to 100")
	}
	sortBy := model.ContactSort{By: "created", Desc: true}
	if v := c.QueryParam("sort"); v != "" {
		i := slices.IndexFunc(model.ContactSorts, func(s struct {
			Value string
			Sort  model.ContactSort
		}) bool {
			return s.Value == v
		})
		if i < 0 {
			return apiFail(c, http.StatusBadRequest, "bad_request", "sort must be one of newest, oldest, name, name_desc, activity")
		}
		sortBy = model.ContactSorts[i].Sort
	}
	f, ok, err := s.apiContactFilter(c)
	if !ok {
		return err
	}
	page, err := s.crm.Page(c.Request().Context(), apiActor(c), f, sortBy, c.QueryParam("after"), limit)
	var v *model.ValidationError
	if errors.As(err, &v) {
		return apiFail(c, http.StatusBadRequest, "bad_cursor", "after must be the next of the previous page, with the same sort")
	}
	if err != nil {
		return err
	}
	var next *string
	if page.Next != "" {
		next = &page.Next
	}
	if page.Contacts == nil {
		page.Contacts = []model.Contact{}
	}
	return c.JSON(http.StatusOK, map[string]any{"contacts": page.Contacts, "next": next})
}

func (s *Server) apiContact(c echo.Context) error {
	id, ok := apiPathID(c, "id")
	if !ok {
		return apiFail(c, http.StatusNotFound, "not_found", noSuchContact)
	}
	ct, err := s.crm.Contact(c.Request().Context(), apiActor(c).OrgID, id)
	if err != nil {
		return apiCRMFail(c, err, noSuchContact)
	}
	return c.JSON(http.StatusOK, map[string]any{"contact": ct})
}

// apiContactIn is a contact as the API takes it. On PATCH a field left out stays as it
// is; tag_ids and opted_out replace the lists, attributes change only the keys sent (null
// or "" clears one).
type apiContactIn struct {
	Name       *string                    `json:"name"`
	Phone      *string                    `json:"phone"`
	Email      *string                    `json:"email"`
	OwnerID    json.RawMessage            `json:"owner_id"`
	TagIDs     *[]int64                   `json:"tag_ids"`
	Attributes map[string]json.RawMessage `json:"attributes"`
	OptedOut   *[]string                  `json:"opted_out"`
}

const contactExample = `{"name":"Ana Souza","phone":"+5511987654321","tag_ids":[3],"attributes":{"city":"Recife"}}`

// attrText reads one custom field value as the form would type it: a string, a number or
// null (clears it).
func attrText(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", true
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	var n json.Number
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if dec.Decode(&n) == nil {
		return n.String(), true
	}
	return "", false
}

// contactInput is a stored contact as its form would send it back unchanged: custom
// field values as text, values of fields that no longer exist left out.
func contactInput(ct model.Contact, fields []model.ContactField) crm.ContactInput {
	in := crm.ContactInput{Name: ct.Name, Phone: deref(ct.Phone), Email: deref(ct.Email), TagIDs: slices.Clone(ct.TagIDs),
		OptedOut: slices.Clone(ct.OptedOut), Attributes: map[string]string{}}
	if ct.OwnerID != nil {
		in.OwnerID = *ct.OwnerID
	}
	var attrs map[string]any
	dec := json.NewDecoder(bytes.NewReader(ct.Attributes))
	dec.UseNumber()
	_ = dec.Decode(&attrs)
	for k, v := range attrs {
		if !slices.ContainsFunc(fields, func(f model.ContactField) bool { return f.Key == k }) {
			continue
		}
		switch x := v.(type) {
		case string:
			in.Attributes[k] = x
		case json.Number:
			in.Attributes[k] = x.String()
		}
	}
	return in
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// apply lays what the body sends over in; a field error (a bad owner id or attribute
// value) is reported like the service's.
func (b apiContactIn) apply(in *crm.ContactInput) error {
	v := model.NewValidationError()
	if b.Name != nil {
		in.Name = *b.Name
	}
	if b.Phone != nil {
		in.Phone = *b.Phone
	}
	if b.Email != nil {
		in.Email = *b.Email
	}
	if len(b.OwnerID) > 0 {
		if string(bytes.TrimSpace(b.OwnerID)) == "null" {
			in.OwnerID = 0
		} else if err := json.Unmarshal(b.OwnerID, &in.OwnerID); err != nil || in.OwnerID <= 0 {
			v.Add("owner_id", "contacts.error.owner")
		}
	}
	if b.TagIDs != nil {
		in.TagIDs = *b.TagIDs
	}
	if b.OptedOut != nil {
		in.OptedOut = *b.OptedOut
	}
	for k, raw := range b.Attributes {
		text, ok := attrText(raw)
		if !ok {
			v.Add("attr."+k, "api.error.attr_value")
			continue
		}
		in.Attributes[k] = text
	}
	return v.Err()
}

// foreignTags tells whether any id is not a tag of the org (another org's, or none).
func (s *Server) foreignTags(ctx context.Context, orgID int64, ids []int64) (bool, error) {
	if len(ids) == 0 {
		return false, nil
	}
	tags, err := s.crm.Tags(ctx, orgID)
	if err != nil {
		return false, err
	}
	for _, id := range ids {
		if !slices.ContainsFunc(tags, func(t model.Tag) bool { return t.ID == id }) {
			return true, nil
		}
	}
	return false, nil
}

// apiContactCreate is POST /contacts: 201 with the contact, checked as the contact form
// checks it (a phone the org has already is 422 on phone).
func (s *Server) apiContactCreate(c echo.Context) error {
	var body apiContactIn
	if !apiDecode(c, &body, contactExample) {
		return nil
	}
	ctx := c.Request().Context()
	a := apiActor(c)
	in := crm.ContactInput{Attributes: map[string]string{}, Source: "api"}
	if err := body.apply(&in); err != nil {
		return apiCRMFail(c, err, "")
	}
	if foreign, err := s.foreignTags(ctx, a.OrgID, in.TagIDs); err != nil || foreign {
		if err != nil {
			return err
		}
		return apiFail(c, http.StatusNotFound, "not_found", "a tag that is not in your organization")
	}
	ct, err := s.crm.Create(ctx, a, in)
	if err != nil {
		return apiCRMFail(c, err, noSuchContact)
	}
	return c.JSON(http.StatusCreated, map[string]any{"contact": ct})
}

// apiChangeContact reads a contact, lets change lay the request over its form values and
// saves it through the service (the timeline says what changed).
func (s *Server) apiChangeContact(c echo.Context, change func(in *crm.ContactInput) error) error {
	id, ok := apiPathID(c, "id")
	if !ok {
		return apiFail(c, http.StatusNotFound, "not_found", noSuchContact)
	}
	ctx := c.Request().Context()
	a := apiActor(c)
	cur, err := s.crm.Contact(ctx, a.OrgID, id)
	if err != nil {
		return apiCRMFail(c, err, noSuchContact)
	}
	fields, err := s.crm.Fields(ctx, a.OrgID)
	if err != nil {
		return err
	}
	in := contactInput(cur, fields)
	if err := change(&in); err != nil {
		if c.Response().Committed {
			return nil
		}
		return apiCRMFail(c, err, noSuchContact)
	}
	if foreign, err := s.foreignTags(ctx, a.OrgID, in.TagIDs); err != nil || foreign {
		if err != nil {
			return err
		}
		return apiFail(c, http.StatusNotFound, "not_found", "a tag that is not in your organization")
	}
	ct, err := s.crm.Update(ctx, a, id, in)
	if err != nil {
		return apiCRMFail(c, err, noSuchContact)
	}
	return c.JSON(http.StatusOK, map[string]any{"contact": ct})
}

// errAnswered is a change that has already written its answer.
var errAnswered = errors.New("web: answered")

func (s *Server) apiContactUpdate(c echo.Context) error {
	return s.apiChangeContact(c, func(in *crm.ContactInput) error {
		var body apiContactIn
		if !apiDecode(c, &body, contactExample) {
			return errAnswered
		}
		return body.apply(in)
	})
}

func (s *Server) apiContactDelete(c echo.Context) error {
	id, ok := apiPathID(c, "id")
	if !ok {
		return apiFail(c, http.StatusNotFound, "not_found", noSuchContact)
	}
	if err := s.crm.Delete(c.Request().Context(), apiActor(c), id); err != nil {
		return apiCRMFail(c, err, noSuchContact)
	}
	return c.NoContent(http.StatusNoContent)
}

// apiContactTag is POST /contacts/{id}/tags {"tag_ids":[…]}: the tags are added to those
// the contact has.
func (s *Server) apiContactTag(c echo.Context) error {
	return s.apiChangeContact(c, func(in *crm.ContactInput) error {
		var body struct {
			TagIDs []int64 `json:"tag_ids"`
		}
		if !apiDecode(c, &body, `{"tag_ids":[3,4]}`) {
			return errAnswered
		}
		if len(body.TagIDs) == 0 {
			return model.FieldError("tag_ids", "api.error.tag_ids")
		}
		for _, id := range body.TagIDs {
			if !slices.Contains(in.TagIDs, id) {
				in.TagIDs = append(in.TagIDs, id)
			}
		}
		return nil
	})
}

// apiContactUntag is DELETE /contacts/{id}/tags/{tag_id}: 200 with the contact, also when
// it did not have the tag; a tag that is not the org's is 404.
func (s *Server) apiContactUntag(c echo.Context) error {
	tagID, ok := apiPathID(c, "tag_id")
	if !ok {
		return apiFail(c, http.StatusNotFound, "not_found", "no such tag")
	}
	if foreign, err := s.foreignTags(c.Request().Context(), apiActor(c).OrgID, []int64{tagID}); err != nil || foreign {
		if err != nil {
			return err
		}
		return apiFail(c, http.StatusNotFound, "not_found", "no such tag")
	}
	return s.apiChangeContact(c, func(in *crm.ContactInput) error {
		in.TagIDs = slices.DeleteFunc(in.TagIDs, func(id int64) bool { return id == tagID })
		return nil
	})
}

// apiContactOptOuts is PUT /contacts/{id}/opt-outs {"whatsapp":true,"sms":false,…}: the
// channels left out stay as they are. It is an agent's mark: the timeline writes
// opted_out or opted_in for each change, and automated sends then respect it.
func (s *Server) apiContactOptOuts(c echo.Context) error {
	return s.apiChangeContact(c, func(in *crm.ContactInput) error {
		var body struct {
			WhatsApp *bool `json:"whatsapp"`
			SMS      *bool `json:"sms"`
			Voice    *bool `json:"voice"`
		}
		if !apiDecode(c, &body, `{"whatsapp":true,"sms":true,"voice":false}`) {
			return errAnswered
		}
		for kind, set := range map[string]*bool{model.ChannelWhatsApp: body.WhatsApp, model.ChannelSMS: body.SMS, model.ChannelVoice: body.Voice} {
			if set == nil {
				continue
			}
			in.OptedOut = slices.DeleteFunc(in.OptedOut, func(k string) bool { return k == kind })
			if *set {
				in.OptedOut = append(in.OptedOut, kind)
			}
		}
		return nil
	})
}

// apiTagRoutes mounts tags, custom fields and segments: the org's own vocabulary of
// contacts, paged like every other list (an org may have thousands of tags).
func (s *Server) apiTagRoutes(api *echo.Group) {
	api.GET("/tags", s.apiTags)
	api.POST("/tags", s.apiTagCreate)
	api.PATCH("/tags/:id", s.apiTagUpdate)
	api.DELETE("/tags/:id", s.apiTagDelete)
	api.GET("/custom-fields", s.apiFields)
	api.GET("/segments", s.apiSegments)
	api.GET("/segments/:id", s.apiSegment)
	api.GET("/segments/:id/count", s.apiSegmentCount)
}

const noSuchTag, noSuchSegment = "no such tag", "no such segment"

// apiTags is GET /api/v1/tags: the org's tags with their counts, in the order they were
// made; ?after=<next> reads on.
func (s *Server) apiTags(c echo.Context) error {
	p, ok, err := apiPageOf(c, 50, 100)
	if !ok {
		return err
	}
	tags, err := s.crm.TagsPage(c.Request().Context(), apiActor(c).OrgID, p.After, p.Limit+1)
	if err != nil {
		return err
	}
	tags, next := apiNext(tags, p.Limit, func(t model.Tag) int64 { return t.ID })
	return c.JSON(http.StatusOK, map[string]any{"tags": tags, "next": next})
}

func nonNilList[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

type apiTagIn struct {
	Name  *string `json:"name"`
	Color *string `json:"color"`
}

const tagExample = `{"name":"VIP","color":"green"}`

// apiTagAnswer answers the tag as it now is, with its count: the page of one tag that
// starts at it (reading every tag of the org with its count took seconds with thousands).
func (s *Server) apiTagAnswer(c echo.Context, status int, id int64) error {
	tags, err := s.crm.TagsPage(c.Request().Context(), apiActor(c).OrgID, id-1, 1)
	if err != nil {
		return err
	}
	if len(tags) == 0 || tags[0].ID != id {
		return apiFail(c, http.StatusNotFound, "not_found", noSuchTag)
	}
	return c.JSON(status, map[string]any{"tag": tags[0]})
}

// apiTagCreate is POST /tags {"name":…, "color":…}: 201 with the tag; a name the org has
// already is 422 on name.
func (s *Server) apiTagCreate(c echo.Context) error {
	var in apiTagIn
	if !apiDecode(c, &in, tagExample) {
		return nil
	}
	t, err := s.crm.CreateTag(c.Request().Context(), apiActor(c), deref(in.Name), deref(in.Color))
	if err != nil {
		return apiCRMFail(c, err, noSuchTag)
	}
	return s.apiTagAnswer(c, http.StatusCreated, t.ID)
}

// apiTagUpdate renames or recolours a tag; what is left out stays.
func (s *Server) apiTagUpdate(c echo.Context) error {
	id, ok := apiPathID(c, "id")
	if !ok {
		return apiFail(c, http.StatusNotFound, "not_found", noSuchTag)
	}
	var in apiTagIn
	if !apiDecode(c, &in, tagExample) {
		return nil
	}
	ctx := c.Request().Context()
	a := apiActor(c)
	tags, err := s.crm.TagsPage(ctx, a.OrgID, id-1, 1) // this tag alone (see apiTagAnswer)
	if err != nil {
		return err
	}
	if len(tags) == 0 || tags[0].ID != id {
		return apiFail(c, http.StatusNotFound, "not_found", noSuchTag)
	}
	name, color := tags[0].Name, tags[0].Color
	if in.Name != nil {
		name = *in.Name
	}
	if in.Color != nil {
		color = *in.Color
	}
	if err := s.crm.UpdateTag(ctx, a, id, name, color); err != nil {
		return apiCRMFail(c, err, noSuchTag)
	}
	return s.apiTagAnswer(c, http.StatusOK, id)
}

// apiTagDelete removes a tag from the org and from every contact.
func (s *Server) apiTagDelete(c echo.Context) error {
	id, ok := apiPathID(c, "id")
	if !ok {
		return apiFail(c, http.StatusNotFound, "not_found", noSuchTag)
	}
	if err := s.crm.DeleteTag(c.Request().Context(), apiActor(c), id); err != nil {
		return apiCRMFail(c, err, noSuchTag)
	}
	return c.NoContent(http.StatusNoContent)
}

// apiFields lists the custom fields in the form's order: their keys name the values in a
// contact's attributes.
// apiFields is GET /api/v1/custom-fields: the org's custom fields in the order they were
// made (each has its position in the form); ?after=<next> reads on.
func (s *Server) apiFields(c echo.Context) error {
	p, ok, err := apiPageOf(c, 50, 100)
	if !ok {
		return err
	}
	fs, err := s.crm.FieldsPage(c.Request().Context(), apiActor(c).OrgID, p.After, p.Limit+1)
	if err != nil {
		return err
	}
	fs, next := apiNext(fs, p.Limit, func(f model.ContactField) int64 { return f.ID })
	for i := range fs {
		fs[i].Choices = nonNilList(fs[i].Choices)
	}
	return c.JSON(http.StatusOK, map[string]any{"custom_fields": fs, "next": next})
}

// apiSegmentJSON is a segment with its filter in the contact list's query words.
type apiSegmentJSON struct {
	model.Segment
	Filter model.ContactFilter `json:"filter"`
}

// apiSegments is GET /api/v1/segments: the org's segments with their filters, in the
// order they were made; ?after=<next> reads on.
func (s *Server) apiSegments(c echo.Context) error {
	p, ok, err := apiPageOf(c, 50, 100)
	if !ok {
		return err
	}
	sgs, err := s.crm.SegmentsPage(c.Request().Context(), apiActor(c).OrgID, p.After, p.Limit+1)
	if err != nil {
		return err
	}
	sgs, next := apiNext(sgs, p.Limit, func(sg model.Segment) int64 { return sg.ID })
	out := make([]apiSegmentJSON, 0, len(sgs))
	for _, sg := range sgs {
		f, err := crm.SegmentFilter(sg)
		if err != nil {
			return err
		}
		out = append(out, apiSegmentJSON{Segment: sg, Filter: f})
	}
	return c.JSON(http.StatusOK, map[string]any{"segments": out, "next": next})
}

func (s *Server) apiSegment(c echo.Context) error {
	id, ok := apiPathID(c, "id")
	if !ok {
		return apiFail(c, http.StatusNotFound, "not_found", noSuchSegment)
	}
	sg, f, err := s.crm.Segment(c.Request().Context(), apiActor(c).OrgID, id)
	if err != nil {
		return apiCRMFail(c, err, noSuchSegment)
	}
	return c.JSON(http.StatusOK, map[string]any{"segment": apiSegmentJSON{Segment: sg, Filter: f}})
}

// apiSegmentCount counts the contacts the segment selects now.
func (s *Server) apiSegmentCount(c echo.Context) error {
	id, ok := apiPathID(c, "id")
	if !ok {
		return apiFail(c, http.StatusNotFound, "not_found", noSuchSegment)
	}
	ctx := c.Request().Context()
	a := apiActor(c)
	sg, f, err := s.crm.Segment(ctx, a.OrgID, id)
	if err != nil {
		return apiCRMFail(c, err, noSuchSegment)
	}
	n, err := s.crm.Count(ctx, a, segmentMe(sg, f))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"segment_id": id, "count": n})
}

// segmentMe reads a segment's "owner: me" as its creator: an API key is nobody, so "me"
// is the member who saved the segment (nobody's contacts when that member is gone).
func segmentMe(sg model.Segment, f model.ContactFilter) model.ContactFilter {
	if f.Owner == "me" {
		f.Owner = "none"
		if sg.CreatedBy != nil {
			f.Owner = strconv.FormatInt(*sg.CreatedBy, 10)
		}
	}
	return f
}
