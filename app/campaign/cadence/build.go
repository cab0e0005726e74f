package cadence

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"masteria/app/campaign/compose"
	"masteria/app/model"
	"masteria/app/store"
)

// Limits of what a step says.
const (
	MaxWhatsAppText = 4096 // WhatsApp's limit of a text message
	MaxSMSText      = 1600 // Twilio's limit of an SMS body
	MaxAgentID      = 128
	MaxVarText      = 200 // a template variable's fixed text or fallback
)

// contactFields are the contact fields a template variable can take.
var contactFields = map[string]bool{compose.FieldName: true, compose.FieldFirstName: true, compose.FieldPhone: true, compose.FieldEmail: true}

// plain tells whether a short text is printable: valid UTF-8 without NUL or another
// control character (line breaks and tabs are fine in a note).
func plain(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if (r < 0x20 && r != '\n' && r != '\r' && r != '\t') || r == 0x7f {
			return false
		}
	}
	return true
}

// validate checks a cadence against itself (model.ValidateSteps) and against the org: every
// id another org owns is model.ErrNotFound (checked first, so a forged id never reads as a
// mere field error); a channel of the wrong kind, a template not approved on its channel, a
// text too long or not text are field errors keyed "steps.<id>.<field>". It fills each
// template's name and language from the template.
func (s *Service) validate(ctx context.Context, c *model.Cadence) error {
	if err := s.refsOwned(ctx, c); err != nil {
		return err
	}
	v := model.NewValidationError()
	c.Name = strings.TrimSpace(c.Name)
	if n := utf8.RuneCountInString(c.Name); n == 0 || n > model.MaxCadenceNameLen || !plain(c.Name) || strings.ContainsAny(c.Name, "\n\r\t") {
		v.Add("name", "cadence.error.name")
	}
	if err := model.ValidateSteps(c.Steps); err != nil {
		var sv *model.ValidationError
		if !errors.As(err, &sv) {
			return err
		}
		for _, f := range sv.Order() {
			v.Add(f, sv.Fields[f])
		}
	}
	chans := map[int64]model.Channel{}
	for i := range c.Steps {
		st := &c.Steps[i]
		f := "steps." + st.ID
		switch st.Kind {
		case model.StepWhatsApp, model.StepSMS:
			if st.ChannelID <= 0 {
				continue
			}
			ch, ok := chans[st.ChannelID]
			if !ok {
				var err error
				if ch, err = s.st.Channel(ctx, c.OrgID, st.ChannelID); err != nil {
					return fmt.Errorf("cadence: step %s channel: %w", st.ID, err)
				}
				chans[ch.ID] = ch
			}
			if !channelFits(st.Kind, ch.Kind) {
				v.Add(f+".channel_id", "cadence.error.channel_kind")
				continue
			}
			if st.Message != nil {
				if err := s.checkMessage(ctx, v, f, c.OrgID, st, ch); err != nil {
					return err
				}
			}
		case model.StepCall:
			if !plain(st.AgentID) || len(st.AgentID) > MaxAgentID || strings.ContainsAny(st.AgentID, " \n\r\t") {
				v.Add(f+".agent_id", "cadence.error.agent")
			}
		case model.StepNotify:
			if !plain(st.Note) {
				v.Add(f+".note", "cadence.error.note")
			}
		}
	}
	if c.GoalStageID != nil && c.EnrolStageID != nil && *c.GoalStageID == *c.EnrolStageID {
		v.Add("goal_stage_id", "cadence.error.goal_is_enrol")
	}
	return v.Err()
}

// channelFits tells whether a channel of kind ch may carry a step of kind step.
func channelFits(step, ch string) bool {
	switch step {
	case model.StepWhatsApp:
		return ch == model.KindWhatsAppCloud || ch == model.KindWhatsAppQR
	case model.StepSMS:
		return ch == model.KindTwilioSMS
	}
	return false
}

// checkMessage checks a send step's message on its channel: a template approved on it with
// each variable mapped (Cloud API), or a text within the channel's limit.
func (s *Service) checkMessage(ctx context.Context, v *model.ValidationError, f string, orgID int64, st *model.CadenceStep, ch model.Channel) error {
	m := st.Message
	m.Text = strings.TrimSpace(m.Text)
	if m.MediaID != 0 {
		if _, err := s.st.Media(ctx, orgID, m.MediaID); err != nil {
			return fmt.Errorf("cadence: step %s media: %w", st.ID, err)
		}
		if ch.Kind == model.KindTwilioSMS {
			v.Add(f+".message", "cadence.error.sms_media")
		}
	}
	if m.TemplateID != 0 || m.Template != "" {
		if ch.Kind != model.KindWhatsAppCloud || m.TemplateID == 0 {
			v.Add(f+".message", "cadence.error.template")
			return nil
		}
		t, err := s.st.Template(ctx, orgID, ch.ID, m.TemplateID)
		if errors.Is(err, model.ErrNotFound) || (err == nil && t.Status != "APPROVED") {
			v.Add(f+".message", "cadence.error.template")
			return nil
		}
		if err != nil {
			return err
		}
		m.Template, m.Language, m.Text = t.Name, t.Language, ""
		shape := t.Shape()
		if len(m.Vars) != shape.BodyParams || len(m.HeaderVars) != shape.HeaderParams {
			v.Add(f+".vars", "cadence.error.vars_count")
		}
		for _, x := range append(append([]model.VarMap{}, m.Vars...), m.HeaderVars...) {
			switch {
			case x.Source == compose.SourceField && contactFields[x.Field]:
			case x.Source == compose.SourceCustom && x.Key != "" && compose.Mapping([]compose.Var{{Source: x.Source, Key: x.Key}}).Validate() == nil:
			case x.Source == compose.SourceText && strings.TrimSpace(x.Text) != "":
			default:
				v.Add(f+".vars", "cadence.error.var")
			}
			if !plain(x.Text+x.Fallback) || strings.ContainsAny(x.Text+x.Fallback, "\n\t") ||
				utf8.RuneCountInString(x.Text) > MaxVarText || utf8.RuneCountInString(x.Fallback) > MaxVarText {
				v.Add(f+".vars", "cadence.error.var_text")
			}
		}
		return nil
	}
	m.Vars, m.HeaderVars, m.Language = nil, nil, ""
	limit := MaxWhatsAppText
	if ch.Kind == model.KindTwilioSMS {
		limit = MaxSMSText
	}
	switch {
	case m.Text == "":
		v.Add(f+".message", "cadence.error.message")
	case !utf8.ValidString(m.Text) || strings.ContainsRune(m.Text, 0):
		v.Add(f+".message", "cadence.error.text_syntax")
	case utf8.RuneCountInString(m.Text) > limit:
		if ch.Kind == model.KindTwilioSMS {
			v.Add(f+".message", "cadence.error.sms_long")
		} else {
			v.Add(f+".message", "cadence.error.text_long")
		}
	case compose.Validate(m.Text) != nil:
		v.Add(f+".message", "cadence.error.text_syntax")
	}
	return nil
}

// refsOwned checks that every stage, tag, member, voice number and segment the cadence
// names is the org's: one that is not is model.ErrNotFound.
func (s *Service) refsOwned(ctx context.Context, c *model.Cadence) error {
	var r store.CadenceRefs
	add := func(list *[]int64, id int64) {
		if id > 0 {
			*list = append(*list, id)
		}
	}
	for _, p := range []*int64{c.EnrolStageID, c.GoalStageID} {
		if p != nil {
			add(&r.Stages, *p)
		}
	}
	if c.EnrolSegmentID != nil {
		add(&r.Segments, *c.EnrolSegmentID)
	}
	for _, st := range c.Steps {
		switch st.Kind {
		case model.StepStage:
			add(&r.Stages, st.StageID)
		case model.StepTag, model.StepUntag:
			add(&r.Tags, st.TagID)
		case model.StepAssign, model.StepNotify:
			add(&r.Users, st.UserID)
		case model.StepCall:
			add(&r.Numbers, st.NumberID)
		}
	}
	missing, err := s.st.CadenceRefsMissing(ctx, c.OrgID, r)
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		return fmt.Errorf("cadence: %s: %w", missing[0], model.ErrNotFound)
	}
	return nil
}

// ReadyMade is the cadence users ask for by name, to start from: a WhatsApp message; if it
// is not delivered within 10 minutes (or failed, or the number has no WhatsApp), an SMS;
// then a day's wait and an AI call. The channels are the org's first WhatsApp and SMS
// channels (0 when it has none: the builder asks for one).
func ReadyMade(whatsappChannel, smsChannel int64) []model.CadenceStep {
	return []model.CadenceStep{
		{ID: "s1", Kind: model.StepWhatsApp, Next: "s2", ChannelID: whatsappChannel,
			Message: &model.Variant{Text: "Olá {{first_name|tudo bem}}! Podemos conversar?"}},
		{ID: "s2", Kind: model.StepAwait, Await: "s1", WithinMinutes: 10,
			Branches:  []model.AwaitBranch{{Outcomes: []string{model.OutcomeDelivered, model.OutcomeRead, model.OutcomeReplied}, Next: "s4"}},
			Otherwise: "s3"},
		{ID: "s3", Kind: model.StepSMS, Next: "s4", ChannelID: smsChannel,
			Message: &model.Variant{Text: "Olá {{first_name|tudo bem}}! Tentamos falar com você pelo WhatsApp. Podemos conversar?"}},
		{ID: "s4", Kind: model.StepWait, Next: "s5", WaitMinutes: 24 * 60},
		{ID: "s5", Kind: model.StepCall},
	}
}
