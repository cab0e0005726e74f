package web

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"masteria/app/campaign"
	"masteria/app/campaign/compose"
	"masteria/app/crm"
	"masteria/app/inbox"
	"masteria/app/model"
	"masteria/app/store"
	"masteria/views/campaigns"
	"masteria/views/ui"
)

// campaignBuildRoutes mounts the campaign list, the builder, the pre-launch check and the
// launch (managers and up), a channel's send settings (admins) and the price table.
func (s *Server) campaignBuildRoutes(o *echo.Group) {
	m := o.Group("", requireMay(model.RunCampaigns))
	m.GET("/campaigns", s.campaignList)
	m.GET("/campaigns/new", s.campaignNew)
	m.POST("/campaigns", s.campaignCreate)
	m.GET("/campaigns/sms-segments", s.campaignSMSSegments)
	m.GET("/campaigns/:id/edit", s.campaignEdit)
	m.POST("/campaigns/:id/edit", s.campaignSave)
	m.GET("/campaigns/:id/audience/count", s.campaignAudienceCount)
	m.GET("/campaigns/:id/contacts", s.campaignPickContacts)
	m.POST("/campaigns/:id/audience/csv", s.campaignCSV)
	m.GET("/campaigns/:id/variant", s.campaignVariantVars)
	m.POST("/campaigns/:id/test", s.campaignTestSend)
	m.GET("/campaigns/:id/check", s.campaignCheck)
	m.POST("/campaigns/:id/launch", s.campaignLaunch)
	m.POST("/campaigns/:id/delete", s.campaignDelete)
	m.GET("/settings/prices", s.pricesPage)
	m.POST("/settings/prices", s.priceSave)
	m.POST("/settings/prices/reset", s.priceReset)

	adm := o.Group("", requireMay(model.ManageChannels))
	adm.GET("/settings/channels/:id/sending", s.sendingPage)
	adm.POST("/settings/channels/:id/sending", s.sendingSave)
}

// isCampaignCSV tells the body limit which path reads its own larger one.
func isCampaignCSV(p string) bool {
	return strings.HasPrefix(p, "/o/") && strings.HasSuffix(p, "/audience/csv")
}

const campaignPage = 50

func (s *Server) campaignList(c echo.Context) error {
	ctx := c.Request().Context()
	a := actorOf(c)
	before, err := queryID(c, "before")
	if err != nil {
		return err
	}
	list, err := s.camp.Campaigns(ctx, a, before, campaignPage+1)
	if err != nil {
		return err
	}
	var d campaigns.ListData
	if len(list) > campaignPage {
		list = list[:campaignPage]
		d.Next = list[len(list)-1].ID
	}
	var launched []int64
	for _, cp := range list {
		if cp.LaunchedAt != nil {
			launched = append(launched, cp.ID)
		}
	}
	sums, err := s.camp.Summaries(ctx, a, launched)
	if err != nil {
		return err
	}
	chs, err := s.inbox.Channels(ctx, a.OrgID)
	if err != nil {
		return err
	}
	nums, err := s.st.VoiceNumbers(ctx, a.OrgID)
	if err != nil {
		return err
	}
	for _, cp := range list {
		r := campaigns.Row{Campaign: cp, Progress: sums[cp.ID]}
		for i := range chs {
			if cp.ChannelID != nil && chs[i].ID == *cp.ChannelID {
				r.Channel = &chs[i]
			}
		}
		for _, n := range nums {
			if cp.VoiceNumberID != nil && n.ID == *cp.VoiceNumberID {
				// A call campaign's "channel" is its number.
				r.Channel = &model.Channel{Name: n.PhoneNumber, Kind: campaign.KindVoice}
			}
		}
		d.Rows = append(d.Rows, r)
	}
	return render(c, http.StatusOK, campaigns.List(d), nil)
}

func (s *Server) campaignNew(c echo.Context) error {
	d := campaigns.BuildData{Campaign: model.Campaign{Status: model.CampaignDraft, Settings: model.DefaultCampaignSettings()}, Step: campaigns.StepName}
	return render(c, http.StatusOK, campaigns.Build(d), nil)
}

func (s *Server) campaignCreate(c echo.Context) error {
	in := model.Campaign{Name: c.FormValue("name"), Status: model.CampaignDraft}
	cp, err := s.camp.Create(c.Request().Context(), actorOf(c), in)
	var v *model.ValidationError
	if errors.As(err, &v) {
		d := campaigns.BuildData{Campaign: in, Step: campaigns.StepName, Errors: v.Fields}
		return refuseForm(c, campaigns.Build(d), nil)
	}
	if err != nil {
		return err
	}
	return redirect(c, orgPath(c, fmt.Sprintf("/campaigns/%d/edit?step=%s", cp.ID, campaigns.StepChannel)))
}

// campaignOf reads the campaign of the :id parameter.
func (s *Server) campaignOf(c echo.Context) (model.Campaign, error) {
	id, err := paramID(c, "id")
	if err != nil {
		return model.Campaign{}, err
	}
	return s.camp.Campaign(c.Request().Context(), actorOf(c), id)
}

func stepOf(c echo.Context) string {
	if st := c.QueryParam("step"); campaigns.ValidStep(st) {
		return st
	}
	return campaigns.StepName
}

func (s *Server) campaignEdit(c echo.Context) error {
	cp, err := s.campaignOf(c)
	if err != nil {
		return err
	}
	if !cp.Editable() {
		return c.Redirect(http.StatusSeeOther, orgPath(c, fmt.Sprintf("/campaigns/%d", cp.ID)))
	}
	d, err := s.buildData(c, cp, stepOf(c))
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, campaigns.Build(d), nil)
}

// buildData loads what a step of the builder offers.
func (s *Server) buildData(c echo.Context, cp model.Campaign, step string) (campaigns.BuildData, error) {
	ctx := c.Request().Context()
	a := actorOf(c)
	d := campaigns.BuildData{Campaign: cp, Step: step, Errors: map[string]string{}}
	var err error
	if d.Channels, err = s.inbox.Channels(ctx, a.OrgID); err != nil {
		return d, err
	}
	for i := range d.Channels {
		if cp.ChannelID != nil && d.Channels[i].ID == *cp.ChannelID {
			d.Channel = &d.Channels[i]
		}
	}
	if err := s.callBuildData(c, &d); err != nil {
		return d, err
	}
	switch step {
	case campaigns.StepAudience:
		if d.Segments, err = s.crm.Segments(ctx, a.OrgID); err != nil {
			return d, err
		}
		if d.Tags, err = s.crm.Tags(ctx, a.OrgID); err != nil {
			return d, err
		}
		if d.Stages, err = s.board.StageOptions(ctx, a.OrgID); err != nil {
			return d, err
		}
		if d.Picked, err = s.contactsByID(c, cp.Audience.ContactIDs); err != nil {
			return d, err
		}
		if cp.Audience.ImportID != 0 {
			im, err := s.crm.Import(ctx, a.OrgID, cp.Audience.ImportID)
			if err != nil && !errors.Is(err, model.ErrNotFound) {
				return d, err
			}
			if err == nil {
				d.Import = &im
			}
		}
		if d.AudienceCount, err = s.camp.AudienceSize(ctx, a, cp.Audience); err != nil && !errors.Is(err, model.ErrNotFound) {
			return d, err
		}
	case campaigns.StepMessage:
		if cp.Voice() {
			break
		}
		if d.Fields, err = s.crm.Fields(ctx, a.OrgID); err != nil {
			return d, err
		}
		if d.Channel != nil && d.Channel.Kind == model.KindWhatsAppCloud {
			if d.Templates, err = s.approved(ctx, a.OrgID, d.Channel.ID, ""); err != nil {
				return d, err
			}
		}
		if cp.ID != 0 {
			if d.Previews, err = s.camp.Previews(ctx, a, cp, 3); err != nil && !errors.Is(err, model.ErrNotFound) {
				return d, err
			}
		}
		if d.Files, err = s.variantFiles(c, cp.Message); err != nil {
			return d, err
		}
	case campaigns.StepSchedule:
		d.Zone = s.camp.TimeZone(ctx, a.OrgID)
	}
	return d, nil
}

// variantFiles are the stored files the variants name, by id; another org's or a
// deleted one is left out.
func (s *Server) variantFiles(c echo.Context, m model.CampaignMessage) (map[int64]model.Media, error) {
	out := map[int64]model.Media{}
	files := s.inbox.Media()
	if files == nil {
		return out, nil
	}
	for _, v := range m.Variants {
		if v.MediaID == 0 {
			continue
		}
		f, err := files.Get(c.Request().Context(), actorOf(c).OrgID, v.MediaID)
		if errors.Is(err, model.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[f.ID] = f
	}
	return out, nil
}

// contactsByID loads the contacts picked by hand (the first 200 shown).
func (s *Server) contactsByID(c echo.Context, ids []int64) ([]model.Contact, error) {
	ctx := c.Request().Context()
	var out []model.Contact
	for _, id := range ids[:min(len(ids), 200)] {
		ct, err := s.crm.Contact(ctx, reqOf(c).Org.ID, id)
		if errors.Is(err, model.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if ct.Phone != nil {
			p := s.phoneDisplay(c, ct.Phone)
			ct.Phone = &p
		}
		out = append(out, ct)
	}
	return out, nil
}

// formIDs reads a list of ids; a malformed one is a 400.
func campaignFormIDs(vals []string) ([]int64, error) {
	var out []int64
	seen := map[int64]bool{}
	for _, v := range vals {
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return nil, echo.NewHTTPError(http.StatusBadRequest, "bad id")
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out, nil
}

func campaignFormID(v string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, echo.NewHTTPError(http.StatusBadRequest, "bad id")
	}
	return n, nil
}

// formInt reads a whole number; a blank keeps def, anything else unreadable is -1 (the
// service refuses it with its field).
func formInt(f url.Values, name string, def int) int {
	v := strings.TrimSpace(f.Get(name))
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return -1
	}
	return n
}

// audienceOf reads the audience step's fields.
func audienceOf(f url.Values) (model.Audience, error) {
	var a model.Audience
	var err error
	if a.SegmentID, err = campaignFormID(f.Get("segment_id")); err != nil {
		return a, err
	}
	if a.TagIDs, err = campaignFormIDs(f["tag_ids"]); err != nil {
		return a, err
	}
	if a.StageIDs, err = campaignFormIDs(f["stage_ids"]); err != nil {
		return a, err
	}
	if a.ContactIDs, err = campaignFormIDs(f["contact_ids"]); err != nil {
		return a, err
	}
	a.ImportID, err = campaignFormID(f.Get("import_id"))
	return a, err
}

// varOf reads one template variable's mapping.
func varOf(f url.Values, name string) (model.VarMap, bool) {
	src := f.Get(name)
	if src == "" {
		return model.VarMap{}, false
	}
	m := model.VarMap{Text: strings.TrimSpace(f.Get(name + "_text")), Fallback: strings.TrimSpace(f.Get(name + "_fallback"))}
	switch {
	case strings.HasPrefix(src, "field:"):
		m.Source, m.Field, m.Text = "field", strings.TrimPrefix(src, "field:"), ""
	case strings.HasPrefix(src, "custom:"):
		m.Source, m.Key, m.Text = "custom", strings.TrimPrefix(src, "custom:"), ""
	default:
		m.Source = src
	}
	return m, true
}

// messageOf reads the message step: up to three variants (a template with its mapping on
// the Cloud API, else a text) and the A/B test's settings.
func messageOf(f url.Values, kind string, st *model.CampaignSettings) (model.CampaignMessage, error) {
	var msg model.CampaignMessage
	for i := range model.MaxVariants {
		p := "v" + strconv.Itoa(i)
		if kind == model.KindWhatsAppCloud {
			tid, err := campaignFormID(f.Get(p + "_template_id"))
			if err != nil {
				return msg, err
			}
			if tid == 0 {
				continue
			}
			v := model.Variant{TemplateID: tid}
			if v.MediaID, err = variantMediaOf(f, p); err != nil {
				return msg, err
			}
			for j := 0; j < 20; j++ {
				m, ok := varOf(f, p+"_var"+strconv.Itoa(j))
				if !ok {
					break
				}
				v.Vars = append(v.Vars, m)
			}
			for j := 0; j < 5; j++ {
				m, ok := varOf(f, p+"_hvar"+strconv.Itoa(j))
				if !ok {
					break
				}
				v.HeaderVars = append(v.HeaderVars, m)
			}
			msg.Variants = append(msg.Variants, v)
			continue
		}
		if t := strings.TrimSpace(f.Get(p + "_text")); t != "" {
			v := model.Variant{Text: t}
			if kind == model.KindWhatsAppQR {
				var err error
				if v.MediaID, err = variantMediaOf(f, p); err != nil {
					return msg, err
				}
			}
			msg.Variants = append(msg.Variants, v)
		}
	}
	st.TestPct = formInt(f, "test_pct", st.TestPct)
	st.TestHours = formInt(f, "test_hours", st.TestHours)
	st.TestMetric = cmp.Or(f.Get("test_metric"), st.TestMetric)
	st.AutoWinner = f.Get("auto_winner") != ""
	return msg, nil
}

// variantMediaOf is the file a variant keeps (p_media_id), none when p_media_remove is set.
func variantMediaOf(f url.Values, p string) (int64, error) {
	if f.Get(p+"_media_remove") != "" {
		return 0, nil
	}
	return campaignFormID(f.Get(p + "_media_id"))
}

// campaignMedia stores the files the message step uploads (p_media: a template's header
// file or a QR text's attachment) as the inbox stores an attachment — the types WhatsApp
// sends, within the size of their kind — and puts their ids in the form (p_media_id). A
// refused file is a field error on "media".
func (s *Server) campaignMedia(c echo.Context, f url.Values) error {
	files := s.inbox.Media()
	for i := range model.MaxVariants {
		p := "v" + strconv.Itoa(i)
		fh, err := c.FormFile(p + "_media")
		if errors.Is(err, http.ErrMissingFile) || errors.Is(err, http.ErrNotMultipart) || (err == nil && fh.Size == 0 && fh.Filename == "") {
			continue
		}
		if err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "unreadable file")
		}
		if files == nil {
			return model.FieldError("media", "media.error.unavailable")
		}
		r, err := fh.Open()
		if err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "unreadable file")
		}
		stored, err := files.Put(c.Request().Context(), actorOf(c).OrgID, r, fh.Header.Get("Content-Type"), fh.Filename)
		r.Close()
		var v *model.ValidationError
		if errors.As(err, &v) {
			return model.FieldError("media", cmp.Or(v.Fields["file"], "media.error.type"))
		}
		if err != nil {
			return err
		}
		f.Set(p+"_media_id", strconv.FormatInt(stored.ID, 10))
		f.Del(p + "_media_remove")
	}
	return nil
}

// scheduleOf reads the schedule and safety step; the date and time are in the org's zone.
func scheduleOf(f url.Values, cp *model.Campaign, zone *time.Location) *model.ValidationError {
	st := &cp.Settings
	st.QuietStart = formInt(f, "quiet_start", st.QuietStart)
	st.QuietEnd = formInt(f, "quiet_end", st.QuietEnd)
	st.SkipRecentHours = formInt(f, "skip_recent_hours", st.SkipRecentHours)
	st.ReplyHours = formInt(f, "reply_hours", st.ReplyHours)
	st.CappedRetryDays = formInt(f, "capped_retry_days", st.CappedRetryDays)
	st.FailurePct = formInt(f, "failure_pct", st.FailurePct)
	st.FailureWindow = formInt(f, "failure_window", st.FailureWindow)
	st.Spread = f.Get("spread") != ""
	st.Category = cmp.Or(f.Get("category"), st.Category)
	cp.ScheduledAt = nil
	if f.Get("when") == "later" {
		t, err := time.ParseInLocation("2006-01-02 15:04", f.Get("date")+" "+f.Get("time"), zone)
		if err != nil {
			v := model.NewValidationError()
			v.Add("scheduled_at", "campaigns.error.date")
			return v
		}
		cp.ScheduledAt = &t
	}
	return nil
}

func (s *Server) campaignSave(c echo.Context) error {
	ctx := c.Request().Context()
	a := actorOf(c)
	cp, err := s.campaignOf(c)
	if err != nil {
		return err
	}
	f, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "unreadable form")
	}
	step := stepOf(c)
	in := cp
	var pre *model.ValidationError
	switch step {
	case campaigns.StepName:
		in.Name = f.Get("name")
	case campaigns.StepChannel:
		chID, numID, err := campaignChannelOf(f.Get("channel_id"))
		if err != nil {
			return err
		}
		in.ChannelID, in.VoiceNumberID = chID, numID
		if !sameID(in.ChannelID, cp.ChannelID) || !sameID(in.VoiceNumberID, cp.VoiceNumberID) {
			in.Message = model.CampaignMessage{} // another channel takes another kind of message
		}
		if in.Voice() {
			in.Settings.DefaultCallSettings()
		}
	case campaigns.StepAudience:
		if in.Audience, err = audienceOf(f); err != nil {
			return err
		}
	case campaigns.StepMessage:
		if cp.Voice() {
			pre = s.callMessageOf(c, f, &in)
			break
		}
		kind := ""
		if cp.ChannelID != nil {
			ch, err := s.inbox.Channel(ctx, a.OrgID, *cp.ChannelID)
			if err != nil {
				return err
			}
			kind = ch.Kind
		}
		var v *model.ValidationError
		if err := s.campaignMedia(c, f); errors.As(err, &v) {
			pre = v
		} else if err != nil {
			return err
		}
		if in.Message, err = messageOf(f, kind, &in.Settings); err != nil {
			return err
		}
	case campaigns.StepSchedule:
		pre = scheduleOf(f, &in, s.camp.TimeZone(ctx, a.OrgID))
	}
	if pre == nil {
		_, err = s.camp.Save(ctx, a, in)
	} else {
		err = pre
	}
	var v *model.ValidationError
	if errors.As(err, &v) {
		d, derr := s.buildData(c, in, step)
		if derr != nil {
			return derr
		}
		d.Errors = v.Fields
		if d.Errors["text"] == "campaigns.error.text_syntax" {
			d.Errors["text"] = composeReason(in.Message)
		}
		return refuseForm(c, campaigns.Build(d), nil)
	}
	if err != nil {
		return err
	}
	next := campaigns.NextStep(step)
	switch {
	case f.Get("stay") != "":
		next = step
	case next == "":
		return redirect(c, orgPath(c, fmt.Sprintf("/campaigns/%d/check", cp.ID)))
	}
	return redirect(c, orgPath(c, fmt.Sprintf("/campaigns/%d/edit?step=%s", cp.ID, next)))
}

// composeReason names what is wrong with the first text that does not parse, in words
// ("campaigns.error.compose.<reason>").
func composeReason(m model.CampaignMessage) string {
	for _, v := range m.Variants {
		var ce *compose.Error
		if err := compose.Validate(v.Text); errors.As(err, &ce) {
			return "campaigns.error.compose." + ce.Reason
		}
	}
	return "campaigns.error.text_syntax"
}

// campaignAudienceCount is the audience step's live count of what the form chooses.
func (s *Server) campaignAudienceCount(c echo.Context) error {
	if _, err := s.campaignOf(c); err != nil {
		return err
	}
	aud, err := audienceOf(c.QueryParams())
	if err != nil {
		return err
	}
	n, err := s.camp.AudienceSize(c.Request().Context(), actorOf(c), aud)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, campaigns.AudienceCount(n), nil)
}

// campaignPickContacts is the hand picker: the contacts already checked and the matches.
func (s *Server) campaignPickContacts(c echo.Context) error {
	if _, err := s.campaignOf(c); err != nil {
		return err
	}
	ids, err := campaignFormIDs(c.QueryParams()["contact_ids"])
	if err != nil {
		return err
	}
	picked, err := s.contactsByID(c, ids)
	if err != nil {
		return err
	}
	var found []model.Contact
	if q := strings.TrimSpace(c.QueryParam("q")); q != "" {
		cs, err := s.board.SearchContacts(c.Request().Context(), reqOf(c).Org.ID, q)
		if err != nil {
			return err
		}
		for _, ct := range cs {
			chosen := false
			for _, p := range picked {
				chosen = chosen || p.ID == ct.ID
			}
			if chosen {
				continue
			}
			mc := model.Contact{ID: ct.ID, Name: ct.Name}
			if ct.Phone != nil {
				p := s.phoneDisplay(c, ct.Phone)
				mc.Phone = &p
			}
			found = append(found, mc)
		}
	}
	return render(c, http.StatusOK, campaigns.Picker(picked, found), nil)
}

// campaignVariantVars is a variant's mapping for the template the select chose.
func (s *Server) campaignVariantVars(c echo.Context) error {
	cp, err := s.campaignOf(c)
	if err != nil {
		return err
	}
	i, err := strconv.Atoi(c.QueryParam("i"))
	if err != nil || i < 0 || i >= model.MaxVariants {
		return echo.NewHTTPError(http.StatusBadRequest, "bad variant")
	}
	tid, err := campaignFormID(c.QueryParam(fmt.Sprintf("v%d_template_id", i)))
	if err != nil {
		return err
	}
	d, err := s.buildData(c, cp, campaigns.StepMessage)
	if err != nil {
		return err
	}
	v := d.Variant(i)
	if v.TemplateID != tid {
		// Another template: its own mapping; the file stays when the new header takes it.
		v = model.Variant{TemplateID: tid, MediaID: v.MediaID}
	}
	return render(c, http.StatusOK, campaigns.VarsBlock(d, i, d.Template(v), v), nil)
}

// campaignSMSSegments is the live parts-and-encoding line of an SMS text.
func (s *Server) campaignSMSSegments(c echo.Context) error {
	i, err := strconv.Atoi(c.QueryParam("i"))
	if err != nil || i < 0 || i >= model.MaxVariants {
		return echo.NewHTTPError(http.StatusBadRequest, "bad variant")
	}
	text := c.QueryParam(fmt.Sprintf("v%d_text", i))
	if len(text) > 8192 {
		text = text[:8192]
	}
	return render(c, http.StatusOK, campaigns.SMSInfo(i, strings.TrimSpace(text)), nil)
}

// campaignCSV imports an uploaded CSV for the campaign: the existing contact import, with
// its guessed columns; the rows become contacts (broken ones are reported by the import)
// and the import is the audience's.
func (s *Server) campaignCSV(c echo.Context) error {
	ctx := c.Request().Context()
	a := actorOf(c)
	cp, err := s.campaignOf(c)
	if err != nil {
		return err
	}
	if !cp.Editable() {
		return campaign.ErrStarted
	}
	r := c.Request()
	r.Body = http.MaxBytesReader(c.Response(), r.Body, crm.MaxImportSize+1<<20)
	refuse := func(key string) error {
		d, err := s.buildData(c, cp, campaigns.StepAudience)
		if err != nil {
			return err
		}
		d.Errors["file"] = key
		status := http.StatusUnprocessableEntity
		if key == "contacts.import.error.too_large" {
			status = http.StatusRequestEntityTooLarge
		}
		return render(c, status, campaigns.Build(d), nil)
	}
	fh, err := c.FormFile("file")
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return refuse("contacts.import.error.too_large")
	case err != nil:
		return refuse("contacts.import.error.no_file")
	}
	if fh.Size > crm.MaxImportSize {
		return refuse("contacts.import.error.too_large")
	}
	file, err := fh.Open()
	if err != nil {
		return err
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, crm.MaxImportSize+1))
	if err != nil {
		return err
	}
	id, err := s.crm.Upload(ctx, a, fh.Filename, data)
	var v *model.ValidationError
	if errors.As(err, &v) {
		return refuse(cmp.Or(v.Fields["file"], "contacts.import.error.unreadable"))
	}
	if err != nil {
		return err
	}
	p, err := s.crm.Preview(ctx, a.OrgID, id)
	if err != nil {
		return err
	}
	err = s.crm.StartImport(ctx, a, id, p.Mapping, model.ImportFill)
	if errors.As(err, &v) {
		return refuse(cmp.Or(v.Fields["mapping"], "contacts.import.error.no_key_column"))
	}
	if err != nil {
		return err
	}
	cp.Audience.ImportID = id
	if _, err := s.camp.Save(ctx, a, cp); err != nil {
		return err
	}
	toast(c, "success", "campaigns.audience.csv_started")
	return redirect(c, orgPath(c, fmt.Sprintf("/campaigns/%d/edit?step=%s", cp.ID, campaigns.StepAudience)))
}

// campaignTestSend sends the first variant, written for a contact of the audience (or the
// user), to a number the user types, through the inbox's own start path.
func (s *Server) campaignTestSend(c echo.Context) error {
	ctx := c.Request().Context()
	a := actorOf(c)
	cp, err := s.campaignOf(c)
	if err != nil {
		return err
	}
	back := orgPath(c, fmt.Sprintf("/campaigns/%d/edit?step=%s", cp.ID, campaigns.StepMessage))
	fail := func(key string) error {
		toast(c, "error", key)
		return redirect(c, back)
	}
	to := strings.TrimSpace(c.FormValue("to"))
	switch {
	case to == "":
		return fail("campaigns.test.error.phone")
	case cp.ChannelID == nil:
		return fail("campaigns.error.channel")
	case len(cp.Message.Variants) == 0:
		return fail("campaigns.error.message")
	}
	ch, err := s.inbox.Channel(ctx, a.OrgID, *cp.ChannelID)
	if err != nil {
		return err
	}
	vr := cp.Message.Variants[0]
	me := model.Contact{Name: reqOf(c).User.Name}
	previews, err := s.camp.Previews(ctx, a, model.Campaign{ChannelID: cp.ChannelID, Audience: cp.Audience, Message: model.CampaignMessage{Variants: []model.Variant{vr}}}, 1)
	if err != nil {
		return err
	}
	if len(previews) > 0 {
		me = previews[0].Contact
	}
	in := inbox.StartInput{ChannelID: ch.ID, Phone: to, Source: "campaign_test"}
	if ch.Kind == model.KindWhatsAppCloud {
		if vr.TemplateID == 0 {
			return fail("campaigns.error.template_needed")
		}
		conv := func(ms []model.VarMap) []string {
			out := make([]string, len(ms))
			for i, m := range ms {
				out[i] = resolveVar(m, me)
			}
			return out
		}
		in.Template = &inbox.TemplateSend{ID: vr.TemplateID, Params: conv(vr.Vars), HeaderParams: conv(vr.HeaderVars), MediaID: vr.MediaID}
	} else {
		in.Text, _ = campaign.RenderFor(vr, nil, me)
	}
	_, err = s.inbox.Start(ctx, a, in)
	var fv *model.ValidationError
	switch {
	case err == nil:
		toast(c, "success", "campaigns.test.sent", "to", to)
		return redirect(c, back)
	case errors.Is(err, model.ErrNotFound):
		return err
	case errors.Is(err, inbox.ErrWindowClosed):
		return fail("campaigns.test.error.window")
	case errors.Is(err, inbox.ErrTemplateNotFound):
		return fail("campaigns.error.template_not_approved")
	case errors.As(err, &fv):
		return fail(cmp.Or(firstError(fv, "to", "contact", "channel", "body"), "campaigns.test.error.failed"))
	}
	return err
}

// resolveVar is one template variable's value for a contact, with its fallback.
func resolveVar(m model.VarMap, ct model.Contact) string {
	t := &model.Template{Components: []byte(`[{"type":"BODY","text":"{{1}}"}]`)}
	out, _ := campaign.RenderFor(model.Variant{Vars: []model.VarMap{m}}, t, ct)
	return out
}

func (s *Server) campaignCheck(c echo.Context) error {
	cp, err := s.campaignOf(c)
	if err != nil {
		return err
	}
	d, err := s.checkData(c, cp)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, campaigns.Check(d), nil)
}

// checkData runs the pre-launch check; a campaign not ready says what it lacks.
func (s *Server) checkData(c echo.Context, cp model.Campaign) (campaigns.CheckData, error) {
	ctx := c.Request().Context()
	a := actorOf(c)
	d := campaigns.CheckData{Campaign: cp, Zone: s.camp.TimeZone(ctx, a.OrgID)}
	if cp.ChannelID != nil {
		ch, err := s.inbox.Channel(ctx, a.OrgID, *cp.ChannelID)
		if err != nil {
			return d, err
		}
		d.Channel = ch
	}
	if cp.Voice() {
		d.Channel = model.Channel{Kind: campaign.KindVoice}
		if n, err := s.st.VoiceNumber(ctx, a.OrgID, *cp.VoiceNumberID); err == nil {
			d.Channel.Name = n.PhoneNumber
		}
	}
	r, err := s.camp.Check(ctx, a, cp.ID)
	var v *model.ValidationError
	switch {
	case err == nil:
		d.Report = r
	case errors.Is(err, campaign.ErrNotReady) && errors.As(err, &v):
		d.NotReady = v.Fields
	default:
		return d, err
	}
	return d, nil
}

// campaignLaunch launches (or schedules) a campaign and opens its run page; a second
// launch is refused with 409 and says so.
func (s *Server) campaignLaunch(c echo.Context) error {
	ctx := c.Request().Context()
	a := actorOf(c)
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	cp, err := s.camp.Launch(ctx, a, id)
	var v *model.ValidationError
	switch {
	case errors.Is(err, campaign.ErrStarted):
		if c.Request().Header.Get("HX-Request") == "true" {
			toast(c, "error", "campaigns.error.already_launched")
			return c.NoContent(http.StatusConflict)
		}
		cur, err := s.camp.Campaign(ctx, a, id)
		if err != nil {
			return err
		}
		d := campaigns.CheckData{Campaign: cur, Zone: s.camp.TimeZone(ctx, a.OrgID)}
		d.NotReady = map[string]string{"status": "campaigns.error.already_launched"}
		reqOf(c).Toasts = append(reqOf(c).Toasts, ui.Toast{Kind: "error", Message: ui.T(c.Request().Context(), "campaigns.error.already_launched")})
		return render(c, http.StatusConflict, campaigns.Check(d), nil)
	case errors.Is(err, campaign.ErrNotReady) && errors.As(err, &v):
		cur, err := s.camp.Campaign(ctx, a, id)
		if err != nil {
			return err
		}
		d := campaigns.CheckData{Campaign: cur, Zone: s.camp.TimeZone(ctx, a.OrgID), NotReady: v.Fields}
		return refuseForm(c, campaigns.Check(d), nil)
	case err != nil:
		return err
	}
	if cp.Status == model.CampaignScheduled {
		toast(c, "success", "campaigns.toast.scheduled")
	} else {
		toast(c, "success", "campaigns.toast.launched")
	}
	return redirect(c, orgPath(c, fmt.Sprintf("/campaigns/%d", cp.ID)))
}

func (s *Server) campaignDelete(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	if err := s.camp.Delete(c.Request().Context(), actorOf(c), id); err != nil {
		return err
	}
	toast(c, "success", "campaigns.toast.deleted")
	return redirect(c, orgPath(c, "/campaigns"))
}

func (s *Server) sendingPage(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	ch, st, err := s.camp.ChannelSendSettings(c.Request().Context(), actorOf(c), id)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, campaigns.Sending(campaigns.SendingData{Channel: ch, Settings: st}), nil)
}

func (s *Server) sendingSave(c echo.Context) error {
	ctx := c.Request().Context()
	a := actorOf(c)
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	ch, cur, err := s.camp.ChannelSendSettings(ctx, a, id)
	if err != nil {
		return err
	}
	f, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "unreadable form")
	}
	in := cur
	if ch.Kind == model.KindWhatsAppQR {
		in.QR = campaign.QRSettings{DelayMin: formInt(f, "delay_min", cur.QR.DelayMin), DelayMax: formInt(f, "delay_max", cur.QR.DelayMax),
			DailyCap: formInt(f, "daily_cap", cur.QR.DailyCap), Warmup: f.Get("warmup") != ""}
	} else {
		r, err := strconv.ParseFloat(strings.Replace(strings.TrimSpace(f.Get("rate")), ",", ".", 1), 64)
		if err != nil {
			r = -1
		}
		in.Rate = r
	}
	err = s.camp.SetChannelSendSettings(ctx, a, id, in)
	var v *model.ValidationError
	if errors.As(err, &v) {
		return refuseForm(c, campaigns.Sending(campaigns.SendingData{Channel: ch, Settings: in, Errors: v.Fields}), nil)
	}
	if err != nil {
		return err
	}
	toast(c, "success", "campaigns.sending.saved")
	return redirect(c, orgPath(c, fmt.Sprintf("/settings/channels/%d/sending", id)))
}

func (s *Server) pricesData(c echo.Context) (campaigns.PricesData, error) {
	rows, cur, err := s.camp.PriceTable(c.Request().Context(), actorOf(c))
	return campaigns.PricesData{Rows: rows, Currency: cur, Errors: map[string]string{}}, err
}

func (s *Server) pricesPage(c echo.Context) error {
	d, err := s.pricesData(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, campaigns.Prices(d), nil)
}

func (s *Server) priceSave(c echo.Context) error {
	f, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "unreadable form")
	}
	p := store.Price{Kind: f.Get("kind"), Country: f.Get("country"), Category: f.Get("category"), Currency: f.Get("currency")}
	p.Price, err = strconv.ParseFloat(strings.Replace(strings.TrimSpace(f.Get("price")), ",", ".", 1), 64)
	if err != nil {
		p.Price = -1
	}
	err = s.camp.SetPrice(c.Request().Context(), actorOf(c), p)
	var v *model.ValidationError
	if errors.As(err, &v) {
		d, derr := s.pricesData(c)
		if derr != nil {
			return derr
		}
		d.Errors, d.Input = v.Fields, p
		return refuseForm(c, campaigns.Prices(d), nil)
	}
	if err != nil {
		return err
	}
	toast(c, "success", "campaigns.prices.saved")
	return redirect(c, orgPath(c, "/settings/prices"))
}

func (s *Server) priceReset(c echo.Context) error {
	err := s.camp.ResetPrice(c.Request().Context(), actorOf(c), c.FormValue("kind"), c.FormValue("country"), c.FormValue("category"))
	if err != nil {
		return err
	}
	toast(c, "success", "campaigns.prices.reset_done")
	return redirect(c, orgPath(c, "/settings/prices"))
}
