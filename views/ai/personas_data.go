package ai

import (
	"context"
	"strconv"
	"strings"

	"masteria/app/model"
	"masteria/views/ui"
)

// PersonaRow is a persona in the list, with the channels it answers on.
type PersonaRow struct {
	Persona  model.Persona
	Channels []string
}

// ChannelBotRow is a channel and the name of the persona its bot runs ("" : no bot).
type ChannelBotRow struct {
	Channel model.Channel
	Persona string
}

// PersonasData is the personas page: the personas and the bot of every channel.
type PersonasData struct {
	Rows     []PersonaRow
	Channels []ChannelBotRow
}

// DayHours is one day of the business-hours editor: its ranges as text and its error key.
type DayHours struct {
	Day  string // mon … sun
	Text string // "08:00-12:00, 13:00-18:00"; blank is closed
	Err  string
}

// PersonaFormData is the page of a persona: the form to create or edit it (read-only for
// those who may not change personas).
type PersonaFormData struct {
	Persona model.Persona // the values shown: the saved ones, or what was sent
	New     bool
	Errors  map[string]string // i18n keys by field

	// What the form shows as typed.
	Temperature string
	MaxTurns    string
	Keywords    string
	Always      bool // business hours: always open ({})
	Days        []DayHours

	// The choices, in the order the form offers them (the service's lists).
	Tones, Languages []string

	Bases []model.KnowledgeBase // the org's knowledge bases, to tick
	// The model select: the org's chat model ("" when no provider is set), the models to
	// offer, and whether they were loaded from the provider.
	OrgModel    string
	Models      []string
	ProviderSet bool
	ModelsError string // the provider's words when its list could not be loaded

	UsedBy []model.Channel // the channels the persona answers on
	InUse  bool            // a delete was refused: UsedBy still run it
}

// ChannelBotData is the bot page of a channel: which persona answers it, or no bot.
type ChannelBotData struct {
	Channel  model.Channel
	Personas []model.Persona
	Error    string
}

func personaPath(id int64, rest string) string {
	return "/personas/" + strconv.FormatInt(id, 10) + rest
}

func hasBase(p model.Persona, id int64) bool {
	for _, b := range p.KnowledgeBases {
		if b == id {
			return true
		}
	}
	return false
}

// modelChoices is the models to offer after "(org default)": the list, with the persona's
// own model first when the list lacks it.
func modelChoices(d PersonaFormData) []string {
	out := []string{}
	if m := d.Persona.Model; m != "" {
		found := false
		for _, x := range d.Models {
			found = found || x == m
		}
		if !found {
			out = append(out, m)
		}
	}
	return append(out, d.Models...)
}

func orgDefault(ctx context.Context, orgModel string) string {
	if orgModel == "" {
		return ui.T(ctx, "persona.model_default")
	}
	return ui.T(ctx, "persona.model_default_named", "model", orgModel)
}

func errOr(m map[string]string, field string) string {
	if m == nil {
		return ""
	}
	return m[field]
}

// deleteConfirm is the question before a delete: it names the channels that lose their bot.
func deleteConfirm(ctx context.Context, d PersonaFormData) string {
	if len(d.UsedBy) == 0 {
		return ui.T(ctx, "persona.delete_confirm", "name", d.Persona.Name)
	}
	return ui.T(ctx, "persona.delete_confirm_used", "name", d.Persona.Name, "channels", channelNames(d.UsedBy))
}

func channelNames(chs []model.Channel) string {
	names := make([]string, len(chs))
	for i, c := range chs {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}

func toneName(ctx context.Context, tone string) string { return ui.T(ctx, "persona.tone."+tone) }

func languageName(ctx context.Context, l string) string { return ui.T(ctx, "persona.language."+l) }

func dayName(ctx context.Context, day string) string { return ui.T(ctx, "persona.day."+day) }

func baseNames(p model.Persona, bases []model.KnowledgeBase) string {
	var names []string
	for _, b := range bases {
		if hasBase(p, b.ID) {
			names = append(names, b.Name)
		}
	}
	return strings.Join(names, ", ")
}

func itoa(n int) string { return strconv.Itoa(n) }
