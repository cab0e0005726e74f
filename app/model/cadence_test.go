package model

import (
	"fmt"
	"testing"
)

// fallback is the cadence users ask for by name: WhatsApp; if it is not delivered within
// 10 minutes (or fails, or the number has no WhatsApp), an SMS; then a call.
func fallback() []CadenceStep {
	return []CadenceStep{
		{ID: "s1", Kind: StepWhatsApp, ChannelID: 1, Message: &Variant{Template: "boas_vindas", Language: "pt_BR"}, Next: "s2"},
		{ID: "s2", Kind: StepAwait, Await: "s1", WithinMinutes: 10,
			Branches: []AwaitBranch{{Outcomes: []string{OutcomeDelivered}, Next: "s4"}}, Otherwise: "s3"},
		{ID: "s3", Kind: StepSMS, ChannelID: 2, Message: &Variant{Text: "Oi {{first_name}}, tudo bem?"}, Next: "s4"},
		{ID: "s4", Kind: StepWait, WaitMinutes: 60 * 24, Next: "s5"},
		{ID: "s5", Kind: StepCall, Next: "s6"},
		{ID: "s6", Kind: StepAwait, Await: "s5", WithinMinutes: 30,
			Branches: []AwaitBranch{{Outcomes: []string{OutcomeAnswered}, Next: "s7"}}},
		{ID: "s7", Kind: StepStage, StageID: 9},
	}
}

func TestValidateStepsAcceptsTheFallback(t *testing.T) {
	if err := ValidateSteps(fallback()); err != nil {
		t.Fatal(err)
	}
}

func TestValidateStepsRefuses(t *testing.T) {
	edit := func(f func(s []CadenceStep) []CadenceStep) []CadenceStep { return f(fallback()) }
	cases := map[string]struct {
		steps []CadenceStep
		field string
	}{
		"nothing":            {nil, "steps"},
		"a bad id":           {edit(func(s []CadenceStep) []CadenceStep { s[6].ID = "S 7!"; return s }), "steps"},
		"an id twice":        {edit(func(s []CadenceStep) []CadenceStep { s[6].ID = "s6"; return s }), "steps.s6"},
		"no channel":         {edit(func(s []CadenceStep) []CadenceStep { s[0].ChannelID = 0; return s }), "steps.s1.channel_id"},
		"no message":         {edit(func(s []CadenceStep) []CadenceStep { s[2].Message = nil; return s }), "steps.s3.message"},
		"an SMS template":    {edit(func(s []CadenceStep) []CadenceStep { s[2].Message = &Variant{Template: "x"}; return s }), "steps.s3.message"},
		"an unknown kind":    {edit(func(s []CadenceStep) []CadenceStep { s[3].Kind = "fax"; return s }), "steps.s4.kind"},
		"no wait":            {edit(func(s []CadenceStep) []CadenceStep { s[3].WaitMinutes = 0; return s }), "steps.s4.wait_minutes"},
		"a bad window":       {edit(func(s []CadenceStep) []CadenceStep { s[3].Window = &StepWindow{Start: 20, End: 8, Days: 1}; return s }), "steps.s4.window"},
		"an unknown next":    {edit(func(s []CadenceStep) []CadenceStep { s[4].Next = "s99"; return s }), "steps.s5.next"},
		"a loop":             {edit(func(s []CadenceStep) []CadenceStep { s[6].Next = "s4"; return s }), "steps.s4"},
		"a loop in a branch": {edit(func(s []CadenceStep) []CadenceStep { s[1].Otherwise = "s1"; return s }), "steps.s1"},
		"an orphan":          {edit(func(s []CadenceStep) []CadenceStep { s[0].Next = "s4"; s[1].Otherwise = ""; return s }), "steps.s2"},
		"await of no send":   {edit(func(s []CadenceStep) []CadenceStep { s[1].Await = "s4"; return s }), "steps.s2.await"},
		"await before its send": {edit(func(s []CadenceStep) []CadenceStep {
			// s5 (the call) is awaited by s2, which comes first.
			s[1].Await = "s5"
			return s
		}), "steps.s2.await"},
		"await on one path only": {edit(func(s []CadenceStep) []CadenceStep {
			// s3 (the SMS) is skipped when the WhatsApp message is delivered, so s4 onwards
			// cannot wait on it.
			s[5].Await = "s3"
			s[5].Branches[0].Outcomes = []string{OutcomeDelivered}
			return s
		}), "steps.s6.await"},
		"a call outcome on a message": {edit(func(s []CadenceStep) []CadenceStep { s[1].Branches[0].Outcomes = []string{OutcomeAnswered}; return s }), "steps.s2.branches"},
		"an unknown outcome":          {edit(func(s []CadenceStep) []CadenceStep { s[1].Branches[0].Outcomes = []string{"maybe"}; return s }), "steps.s2.branches"},
		"no time limit":               {edit(func(s []CadenceStep) []CadenceStep { s[1].WithinMinutes = 0; return s }), "steps.s2.within_minutes"},
		"branches on a send":          {edit(func(s []CadenceStep) []CadenceStep { s[0].Otherwise = "s3"; return s }), "steps.s1.branches"},
		"no stage":                    {edit(func(s []CadenceStep) []CadenceStep { s[6].StageID = 0; return s }), "steps.s7.stage_id"},
	}
	for name, c := range cases {
		err := ValidateSteps(c.steps)
		v, ok := err.(*ValidationError)
		if !ok || v.Fields[c.field] == "" {
			t.Errorf("%s: %v, want an error on %s", name, err, c.field)
		}
	}
	many := make([]CadenceStep, MaxCadenceSteps+1)
	for i := range many {
		many[i] = CadenceStep{ID: fmt.Sprintf("s%d", i), Kind: StepClassify}
	}
	if err := ValidateSteps(many); err == nil {
		t.Error("too many steps passed")
	}
}

// TestValidateStepsOnDiamonds: 12 diamonds in a row (4,096 paths, the most steps a cadence
// may have): the await after them still finds the send made before them.
func TestValidateStepsOnDiamonds(t *testing.T) {
	steps := []CadenceStep{{ID: "w0", Kind: StepWhatsApp, ChannelID: 1, Message: &Variant{Text: "oi"}, Next: "a0"}}
	for i := 0; i < 12; i++ {
		join := fmt.Sprintf("j%d", i)
		if i == 11 {
			join = "end"
		}
		steps = append(steps,
			CadenceStep{ID: fmt.Sprintf("a%d", i), Kind: StepAwait, Await: "w0", WithinMinutes: 5,
				Branches: []AwaitBranch{{Outcomes: []string{OutcomeRead}, Next: fmt.Sprintf("x%d", i)}}, Otherwise: fmt.Sprintf("y%d", i)},
			CadenceStep{ID: fmt.Sprintf("x%d", i), Kind: StepTag, TagID: 1, Next: join},
			CadenceStep{ID: fmt.Sprintf("y%d", i), Kind: StepUntag, TagID: 1, Next: join})
		if i < 11 {
			steps = append(steps, CadenceStep{ID: join, Kind: StepClassify, Next: fmt.Sprintf("a%d", i+1)})
		}
	}
	steps = append(steps, CadenceStep{ID: "end", Kind: StepAwait, Await: "w0", WithinMinutes: 5,
		Branches: []AwaitBranch{{Outcomes: []string{OutcomeReplied}, Next: ""}}})
	if err := ValidateSteps(steps); err != nil {
		t.Fatal(err)
	}
}
