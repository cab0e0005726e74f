// Package cadences holds the cadence pages: the list and the builder (this file's
// package, files list.templ and build.templ) and the pages of a running cadence.
package cadences

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"masteria/app/i18n"
	"masteria/app/model"
	"masteria/views/ui"
)

// ListData is the cadence list.
type ListData struct {
	Rows     []model.CadenceListItem
	Next     int64 // the id to list before for the next page; 0 when none
	MayBuild bool
}

// Choices of a card's "next" and an await's targets, besides a step id.
const (
	// NextFollowing is the card below (the end after the last card): a card's default.
	NextFollowing = ""
	// NextEnd ends the cadence.
	NextEnd = "end"
)

// BuildData is the builder: the cadence with its steps as the form holds them — Next and
// Otherwise are NextFollowing, NextEnd or a step id; a branch's Next is NextEnd or an id —
// and what the org has to choose from.
type BuildData struct {
	Cadence  model.Cadence
	Errors   map[string]string // field → message key ("name", "steps.s3.message"…)
	Error    string            // a message key for the whole form, "" when none
	MayBuild bool
	Saved    bool // just saved: say so
	People   bool // the cadence's "People" tab exists: show the tabs

	Channels  []model.Channel            // the org's WhatsApp and SMS channels
	Templates map[int64][]model.Template // approved templates, by channel
	Stages    []model.StageOption
	Tags      []model.Tag
	Members   []model.Membership
	Numbers   []model.VoiceNumber
	Segments  []model.Segment
	Fields    []model.ContactField
}

// Tab names of a cadence's page.
const (
	TabSteps  = "steps"
	TabPeople = "people"
)

func id(n int64) string { return strconv.FormatInt(n, 10) }

func itoa(n int) string { return strconv.Itoa(n) }

func num(ctx context.Context, n int64) string { return i18n.FormatInt(ui.From(ctx).Locale, n) }

func errOf(m map[string]string, k string) string { return m[k] }

// CadenceURL is a cadence's page (its steps), or the new cadence's form.
func CadenceURL(ctx context.Context, c model.Cadence) string {
	if c.ID == 0 {
		return ui.OrgURL(ctx, "/cadences/new")
	}
	return ui.OrgURL(ctx, "/cadences/"+id(c.ID))
}

func formAction(ctx context.Context, c model.Cadence) string {
	if c.ID == 0 {
		return ui.OrgURL(ctx, "/cadences")
	}
	return ui.OrgURL(ctx, "/cadences/"+id(c.ID))
}

func statusKind(s string) string {
	switch s {
	case model.CadenceActive:
		return "success"
	case model.CadencePaused:
		return "warning"
	case model.CadenceArchived:
		return "neutral"
	}
	return "info"
}

// stepLabel names a step by its place and kind: "3 · SMS".
func stepLabel(ctx context.Context, steps []model.CadenceStep, sid string) string {
	for i, s := range steps {
		if s.ID == sid {
			return fmt.Sprintf("%d · %s", i+1, ui.T(ctx, "cadences.kind."+s.Kind))
		}
	}
	return sid
}

// following is the id of the card after card i, "" for the last.
func following(steps []model.CadenceStep, i int) string {
	if i+1 < len(steps) {
		return steps[i+1].ID
	}
	return ""
}

// sends are the send and call steps before card i: what an await may wait on.
func sends(steps []model.CadenceStep, i int) []model.CadenceStep {
	var out []model.CadenceStep
	for _, s := range steps[:min(i, len(steps))] {
		if model.IsSend(s.Kind) {
			out = append(out, s)
		}
	}
	return out
}

// awaitedKind is the kind of the step an await waits on (WhatsApp's when none is chosen).
func awaitedKind(steps []model.CadenceStep, s model.CadenceStep) string {
	for _, x := range steps {
		if x.ID == s.Await && model.IsSend(x.Kind) {
			return x.Kind
		}
	}
	if ss := sends(steps, len(steps)); len(ss) > 0 {
		return ss[0].Kind
	}
	return model.StepWhatsApp
}

// outcomeTarget is where an await goes on outcome o: a branch's step, NextEnd, or "" (its
// "otherwise").
func outcomeTarget(s model.CadenceStep, o string) string {
	for _, b := range s.Branches {
		if slices.Contains(b.Outcomes, o) {
			return b.Next
		}
	}
	return ""
}

// channelsFor are the channels a send step of kind may use.
func channelsFor(chs []model.Channel, kind string) []model.Channel {
	var out []model.Channel
	for _, c := range chs {
		switch {
		case kind == model.StepWhatsApp && (c.Kind == model.KindWhatsAppCloud || c.Kind == model.KindWhatsAppQR),
			kind == model.StepSMS && c.Kind == model.KindTwilioSMS:
			out = append(out, c)
		}
	}
	return out
}

// channelOf is the step's channel among chs, nil when none is chosen.
func channelOf(chs []model.Channel, cid int64) *model.Channel {
	for i := range chs {
		if chs[i].ID == cid {
			return &chs[i]
		}
	}
	return nil
}

func (d BuildData) template(s model.CadenceStep) *model.Template {
	if s.Message == nil || s.Message.TemplateID == 0 {
		return nil
	}
	for _, t := range d.Templates[s.ChannelID] {
		if t.ID == s.Message.TemplateID {
			return &t
		}
	}
	return nil
}

func message(s model.CadenceStep) model.Variant {
	if s.Message == nil {
		return model.Variant{}
	}
	return *s.Message
}

// waitAmount splits minutes into an amount and a unit (days, hours or minutes).
func waitAmount(m int) (int, string) {
	switch {
	case m > 0 && m%(24*60) == 0:
		return m / (24 * 60), "days"
	case m > 0 && m%60 == 0:
		return m / 60, "hours"
	}
	return m, "minutes"
}

func window(s model.CadenceStep) model.StepWindow {
	if s.Window != nil {
		return *s.Window
	}
	return model.StepWindow{Start: 9, End: 18, Days: 0b0111110}
}

func hasDay(days, d int) bool { return days&(1<<d) != 0 }

func hourLabel(h int) string { return fmt.Sprintf("%02d:00", h) }

func varValue(m model.VarMap) string {
	switch m.Source {
	case "field":
		return "field:" + m.Field
	case "custom":
		return "custom:" + m.Key
	}
	return m.Source
}

func varAt(ms []model.VarMap, i int) model.VarMap {
	if i < len(ms) {
		return ms[i]
	}
	return model.VarMap{Source: "field", Field: "first_name"}
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// shownByField are the step fields whose errors show under their own input.
var shownByField = map[string]bool{"channel_id": true, "message": true, "vars": true, "number_id": true, "agent_id": true,
	"wait_minutes": true, "window": true, "await": true, "within_minutes": true, "branches": true, "stage_id": true, "tag_id": true,
	"user_id": true, "note": true, "next": true}

// stepErrors are the errors of one card shown at its top, in a fixed order: the card's own
// (a loop, an unreachable step), then those of fields that have no input of their own.
func stepErrors(errs map[string]string, sid string) []string {
	var out []string
	p := "steps." + sid
	if k := errs[p]; k != "" {
		out = append(out, k)
	}
	keys := make([]string, 0)
	for f := range errs {
		if len(f) > len(p) && f[:len(p)+1] == p+"." && !shownByField[f[len(p)+1:]] {
			keys = append(keys, f)
		}
	}
	slices.Sort(keys)
	for _, f := range keys {
		out = append(out, errs[f])
	}
	return out
}

func fieldErr(errs map[string]string, sid, field string) string { return errs["steps."+sid+"."+field] }

func ptrEq(p *int64, v int64) bool { return p != nil && *p == v }

func pipelineStage(s model.StageOption) string { return s.PipelineName + " · " + s.Name }

func memberName(m model.Membership) string {
	if m.UserName != "" {
		return m.UserName
	}
	return m.UserEmail
}

var weekdays = []int{1, 2, 3, 4, 5, 6, 0}

// cardHasError tells whether anything of a card failed.
func cardHasError(errs map[string]string, sid string) bool {
	p := "steps." + sid
	for f := range errs {
		if f == p || strings.HasPrefix(f, p+".") {
			return true
		}
	}
	return false
}
