package cadences

import (
	"context"
	"strconv"
	"strings"
	"time"

	"masteria/app/i18n"
	"masteria/app/model"
	"masteria/views/ui"
)

// PeopleData is a cadence's "People" tab: its funnel and its enrolments.
type PeopleData struct {
	Cadence    model.Cadence // with the current version's steps
	Funnel     model.Funnel
	Enrolments []model.Enrolment
	Status     string // the table's filter: "" all, or an enrolment status
	More       bool   // a full page: there may be older ones
}

// TimelineData is one enrolment's page: each step reached, what was sent, what came of it.
type TimelineData struct {
	Enrolment model.Enrolment // with its steps
	Steps     []model.CadenceStep
}

// ContactCadencesData is the contact page's card of cadences.
type ContactCadencesData struct {
	ContactID  int64
	Enrolments []model.Enrolment
	Active     []model.Cadence // cadences the contact may be enrolled in (managers only)
}

// EnrolmentStatuses are the table's filters.
var EnrolmentStatuses = []string{model.EnrolmentActive, model.EnrolmentPaused, model.EnrolmentCompleted, model.EnrolmentExited}

func runIdStr(n int64) string { return strconv.FormatInt(n, 10) }

func runNum(ctx context.Context, n int64) string { return i18n.FormatInt(ui.From(ctx).Locale, n) }

func runCadenceURL(ctx context.Context, id int64) string {
	return ui.OrgURL(ctx, "/cadences/"+runIdStr(id))
}

func runPeopleURL(ctx context.Context, id int64, status string) string {
	u := runCadenceURL(ctx, id) + "/people"
	if status != "" {
		u += "?status=" + status
	}
	return u
}

func runEnrolmentURL(ctx context.Context, id int64) string {
	return ui.OrgURL(ctx, "/enrolments/"+runIdStr(id))
}

func runStatusKind(s string) string {
	switch s {
	case model.EnrolmentActive:
		return "info"
	case model.EnrolmentPaused:
		return "warning"
	case model.EnrolmentCompleted:
		return "success"
	case model.EnrolmentExited:
		return "neutral"
	}
	return "neutral"
}

func runStepKind(s string) string {
	switch s {
	case model.StepDone:
		return "success"
	case model.StepWaiting, model.StepRunning:
		return "info"
	case model.StepSkipped:
		return "warning"
	case model.StepFailed:
		return "danger"
	}
	return "neutral"
}

func runOutcomeKind(o string) string {
	switch o {
	case model.OutcomeDelivered, model.OutcomeRead, model.OutcomeReplied, model.OutcomeAnswered:
		return "success"
	case model.OutcomeSendFailed, model.OutcomeNoWhatsApp, model.OutcomeBusy:
		return "danger"
	case model.OutcomeSkipped, model.OutcomeTimeout, model.OutcomeNoAnswer, model.OutcomeVoicemail:
		return "warning"
	}
	return "neutral"
}

// outcomeText names an outcome in the reader's words.
func runOutcomeText(ctx context.Context, o string) string {
	key := "cadence.run.outcome." + o
	if i18n.Has(ui.From(ctx).Locale, key) {
		return ui.T(ctx, key)
	}
	return o
}

// skipText is why a step was skipped: ours in plain words, or the policy's own.
func runSkipText(ctx context.Context, reason string) string {
	key := "cadence.run.skip." + reason
	if i18n.Has(ui.From(ctx).Locale, key) {
		return ui.T(ctx, key)
	}
	return reason
}

func runExitText(ctx context.Context, e model.Enrolment) string {
	if e.Status != model.EnrolmentExited {
		return ""
	}
	return runSkipText(ctx, "exit_"+e.ExitReason)
}

// runStepName names a step as the builder does ("3 · SMS"), "—" for none.
func runStepName(ctx context.Context, steps []model.CadenceStep, id string) string {
	if id == "" {
		return "—"
	}
	return stepLabel(ctx, steps, id)
}

// funnelMax is the most enrolments any step reached (the bars' full width).
func runFunnelMax(f model.Funnel) int64 {
	var m int64 = 1
	for _, s := range f.Steps {
		m = max(m, s.Reached, s.Here)
	}
	return m
}

func runNum64(n int64) string { return strconv.FormatInt(n, 10) }

func runContactName(ctx context.Context, e model.Enrolment) string {
	switch {
	case e.ContactName != "":
		return e.ContactName
	case e.ContactPhone != nil:
		return *e.ContactPhone
	}
	return ui.T(ctx, "cadence.run.no_name")
}

func runHasLine(e model.Enrolment, step string) bool {
	for _, s := range e.Steps {
		if s.StepID == step {
			return true
		}
	}
	return false
}

func runBeforeParam(status string, before int64) string {
	if status == "" {
		return "?before=" + runIdStr(before)
	}
	return "&before=" + runIdStr(before)
}

// runStepOf is the definition of step id in steps, nil when the version has none.
func runStepOf(steps []model.CadenceStep, id string) *model.CadenceStep {
	for i := range steps {
		if steps[i].ID == id {
			return &steps[i]
		}
	}
	return nil
}

// runDuration writes minutes as the builder chose them: "10 minutes", "1 day".
func runDuration(ctx context.Context, minutes int) string {
	n, unit := waitAmount(minutes)
	return ui.N(ctx, "cadence.run.duration."+unit, n, "n", strconv.Itoa(n))
}

// runAbout says what a step of the timeline does, from its definition: the template or the
// text sent, what a wait waits for and how long. "" when its name says it all.
func runAbout(ctx context.Context, steps []model.CadenceStep, id string) string {
	s := runStepOf(steps, id)
	if s == nil {
		return ""
	}
	switch s.Kind {
	case model.StepWhatsApp, model.StepSMS:
		m := message(*s)
		if m.Template != "" {
			return ui.T(ctx, "cadence.run.about.template", "name", m.Template)
		}
		if t := strings.Join(strings.Fields(m.Text), " "); t != "" {
			if r := []rune(t); len(r) > 90 {
				t = string(r[:89]) + "…"
			}
			return "“" + t + "”"
		}
	case model.StepAwait:
		return ui.T(ctx, "cadence.run.about.await", "step", stepLabel(ctx, steps, s.Await), "time", runDuration(ctx, s.WithinMinutes))
	case model.StepWait:
		if s.WaitMinutes > 0 {
			return runDuration(ctx, s.WaitMinutes)
		}
	}
	return ""
}

// runClock writes a time of the timeline: the hour alone on the day the enrolment began,
// the date too on another.
func runClock(ctx context.Context, e model.Enrolment, t time.Time) string {
	if y, m, d := t.Date(); !e.CreatedAt.IsZero() {
		if y2, m2, d2 := e.CreatedAt.In(t.Location()).Date(); y == y2 && m == m2 && d == d2 {
			return t.Format("15:04")
		}
	}
	return ui.DateTime(ctx, t)
}

// runWaitingUntil is when the step the enrolment waits at gives up or goes on (nil when the
// line is not that step, or nothing is due).
func runWaitingUntil(e model.Enrolment, s model.EnrolmentStep) *time.Time {
	if s.Status != model.StepWaiting || e.StepID != s.StepID || !e.Running() {
		return nil
	}
	return e.DueAt
}

// runTook tells whether a step took a minute or more, so that its end is worth a word.
func runTook(s model.EnrolmentStep) bool {
	return s.FinishedAt != nil && s.FinishedAt.Sub(s.StartedAt) >= time.Minute
}
