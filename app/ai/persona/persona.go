// Package persona is the service of the bot's personas: how the bot speaks (instructions,
// tone, language, model, temperature), what it knows (knowledge bases of the org) and when
// it hands over (nothing found, a maximum of turns, keywords, business hours), and which
// persona answers on each channel.
//
// Managers, admins and owners change personas and the bot of a channel; every member may
// read them. Every change publishes its event (persona.created, persona.updated,
// persona.deleted, channel.bot) in the transaction that makes it.
package persona

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"masteria/app/events"
	"masteria/app/model"
	"masteria/app/store"
)

// Limits of a persona.
const (
	MaxNameLen            = 80
	MaxInstructionsLen    = 8000
	MaxModelLen           = 200
	MaxKeywords           = 20
	MaxKeywordLen         = 40
	MaxHandoverMessageLen = 1000
	MaxRangesPerDay       = 3
	MaxKnowledgeBases     = 100
	MaxTurns              = 100
	MaxTemperature        = 2
)

// Tones, languages and days a persona may have, in the order the pages offer them.
var (
	Tones     = []string{"friendly", "formal", "casual", "concise"}
	Languages = []string{"pt-BR", "en", "es"}
	Days      = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
)

// ErrInUse matches an *InUseError: the persona answers on channels and the delete was
// not confirmed. It is a model.ErrConflict.
var ErrInUse = errors.New("persona: in use by channels")

// InUseError names the channels a persona answers on.
type InUseError struct{ Channels []model.Channel }

func (e *InUseError) Error() string {
	names := make([]string, len(e.Channels))
	for i, c := range e.Channels {
		names[i] = c.Name
	}
	return "persona: in use by " + strings.Join(names, ", ")
}

// Is makes an InUseError both ErrInUse and model.ErrConflict.
func (e *InUseError) Is(target error) bool { return target == ErrInUse || target == model.ErrConflict }

// Service manages personas.
type Service struct{ st *store.Store }

// New returns the service.
func New(st *store.Store) *Service { return &Service{st: st} }

func may(a model.Actor) error {
	if !a.Role.May(model.ManagePersonas) {
		return model.ErrForbidden
	}
	return nil
}

// Defaults is a new persona's starting values (the schema's defaults).
func Defaults() model.Persona {
	return model.Persona{Tone: "friendly", Language: "pt-BR", Temperature: 0.3, NothingFound: model.NothingFoundSay,
		MaxTurns: 10, HandoverKeywords: model.Labels{"atendente", "humano", "pessoa"}, BusinessHours: json.RawMessage("{}"),
		KnowledgeBases: model.IDs{}}
}

// Personas lists the org's personas by name.
func (s *Service) Personas(ctx context.Context, orgID int64) ([]model.Persona, error) {
	return s.st.Personas(ctx, orgID)
}

// PersonasPage returns up to limit of the org's personas in the order they were made,
// after afterID when it is not 0.
func (s *Service) PersonasPage(ctx context.Context, orgID, afterID int64, limit int) ([]model.Persona, error) {
	return s.st.PersonasPage(ctx, orgID, afterID, limit)
}

// Persona returns one of the org's personas, or model.ErrNotFound.
func (s *Service) Persona(ctx context.Context, orgID, id int64) (model.Persona, error) {
	return s.st.Persona(ctx, orgID, id)
}

// Create validates and stores a new persona.
func (s *Service) Create(ctx context.Context, a model.Actor, p model.Persona) (model.Persona, error) {
	if err := may(a); err != nil {
		return p, err
	}
	if err := s.Check(ctx, a.OrgID, &p); err != nil {
		return p, err
	}
	err := s.st.Tx(ctx, func(tx *store.Store) error {
		id, err := tx.CreatePersona(ctx, a.OrgID, p)
		if err != nil {
			return err
		}
		p.ID = id
		_, err = events.PersonaCreated.Publish(ctx, tx, a.OrgID, events.PersonaRef{PersonaID: id, Name: p.Name})
		return err
	})
	if err != nil {
		return p, err
	}
	return s.st.Persona(ctx, a.OrgID, p.ID)
}

// Update validates and saves a persona (p.ID) with its knowledge bases.
func (s *Service) Update(ctx context.Context, a model.Actor, p model.Persona) (model.Persona, error) {
	if err := may(a); err != nil {
		return p, err
	}
	if _, err := s.st.Persona(ctx, a.OrgID, p.ID); err != nil {
		return p, err
	}
	if err := s.Check(ctx, a.OrgID, &p); err != nil {
		return p, err
	}
	err := s.st.Tx(ctx, func(tx *store.Store) error {
		if err := tx.UpdatePersona(ctx, a.OrgID, p); err != nil {
			return err
		}
		_, err := events.PersonaUpdated.Publish(ctx, tx, a.OrgID, events.PersonaRef{PersonaID: p.ID, Name: p.Name})
		return err
	})
	if err != nil {
		return p, err
	}
	return s.st.Persona(ctx, a.OrgID, p.ID)
}

// UsedBy lists the org's channels whose bot runs the persona.
func (s *Service) UsedBy(ctx context.Context, orgID, id int64) ([]model.Channel, error) {
	chs, err := s.st.Channels(ctx, orgID)
	if err != nil {
		return nil, err
	}
	var out []model.Channel
	for _, c := range chs {
		if c.PersonaID != nil && *c.PersonaID == id {
			out = append(out, c)
		}
	}
	return out, nil
}

// Delete removes a persona. One that answers on channels is removed only when confirm is
// set (those channels then have no bot); otherwise the answer is an *InUseError naming them.
func (s *Service) Delete(ctx context.Context, a model.Actor, id int64, confirm bool) error {
	if err := may(a); err != nil {
		return err
	}
	p, err := s.st.Persona(ctx, a.OrgID, id)
	if err != nil {
		return err
	}
	used, err := s.UsedBy(ctx, a.OrgID, id)
	if err != nil {
		return err
	}
	if len(used) > 0 && !confirm {
		return &InUseError{Channels: used}
	}
	return s.st.Tx(ctx, func(tx *store.Store) error {
		if err := tx.DeletePersona(ctx, a.OrgID, id); err != nil {
			return err
		}
		_, err := events.PersonaDeleted.Publish(ctx, tx, a.OrgID, events.PersonaRef{PersonaID: id, Name: p.Name})
		return err
	})
}

// SetChannelBot puts the bot with a persona on a channel, or takes it off (nil). A channel
// or a persona of another org is model.ErrNotFound.
func (s *Service) SetChannelBot(ctx context.Context, a model.Actor, channelID int64, personaID *int64) error {
	if err := may(a); err != nil {
		return err
	}
	return s.st.Tx(ctx, func(tx *store.Store) error {
		if err := tx.SetChannelPersona(ctx, a.OrgID, channelID, personaID); err != nil {
			return err
		}
		_, err := events.ChannelBot.Publish(ctx, tx, a.OrgID, events.ChannelBotRef{ChannelID: channelID, PersonaID: personaID})
		return err
	})
}

// Check cleans p (trims, folds duplicates, writes the business hours canonically) and
// validates it; the errors are i18n keys by field. Knowledge bases must be the org's.
func (s *Service) Check(ctx context.Context, orgID int64, p *model.Persona) error {
	v := model.NewValidationError()
	clean(p, v)
	if len(p.KnowledgeBases) > MaxKnowledgeBases {
		v.Add("knowledge_base_ids", "persona.error.knowledge_bases")
	} else if len(p.KnowledgeBases) > 0 {
		bases, err := s.st.KnowledgeBases(ctx, orgID)
		if err != nil {
			return err
		}
		for _, id := range p.KnowledgeBases {
			if !slices.ContainsFunc(bases, func(b model.KnowledgeBase) bool { return b.ID == id }) {
				v.Add("knowledge_base_ids", "persona.error.knowledge_bases")
			}
		}
	}
	return v.Err()
}

// Validate cleans and validates p without the database (the knowledge bases are only
// counted and deduplicated).
func Validate(p *model.Persona) error {
	v := model.NewValidationError()
	clean(p, v)
	if len(p.KnowledgeBases) > MaxKnowledgeBases {
		v.Add("knowledge_base_ids", "persona.error.knowledge_bases")
	}
	return v.Err()
}

// storable says whether s can be stored and shown: valid UTF-8, no NUL and no control
// characters but, where multiline, line ends and tabs.
func storable(s string, multiline bool) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r == '\n' || r == '\t' {
			if multiline {
				continue
			}
			return false
		}
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

func runes(s string) int { return utf8.RuneCountInString(s) }

func clean(p *model.Persona, v *model.ValidationError) {
	p.Name = strings.TrimSpace(p.Name)
	switch {
	case !storable(p.Name, false):
		v.Add("name", "persona.error.text")
	case p.Name == "" || runes(p.Name) > MaxNameLen:
		v.Add("name", "persona.error.name")
	}
	p.Instructions = strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(p.Instructions, "\r\n", "\n"), "\r", "\n"))
	switch {
	case !storable(p.Instructions, true):
		v.Add("instructions", "persona.error.text")
	case runes(p.Instructions) > MaxInstructionsLen:
		v.Add("instructions", "persona.error.instructions")
	}
	if p.Tone = strings.ToLower(strings.TrimSpace(p.Tone)); !slices.Contains(Tones, p.Tone) {
		v.Add("tone", "persona.error.tone")
	}
	if l, ok := language(p.Language); ok {
		p.Language = l
	} else {
		v.Add("language", "persona.error.language")
	}
	p.Model = strings.TrimSpace(p.Model)
	if !storable(p.Model, false) || runes(p.Model) > MaxModelLen || strings.ContainsFunc(p.Model, unicode.IsSpace) {
		v.Add("model", "persona.error.model")
	}
	if math.IsNaN(p.Temperature) || p.Temperature < 0 || p.Temperature > MaxTemperature {
		v.Add("temperature", "persona.error.temperature")
	} else {
		p.Temperature = math.Round(p.Temperature*100) / 100
	}
	if p.NothingFound = strings.ToLower(strings.TrimSpace(p.NothingFound)); p.NothingFound != model.NothingFoundSay && p.NothingFound != model.NothingFoundSilent {
		v.Add("nothing_found", "persona.error.nothing_found")
	}
	if p.MaxTurns < 1 || p.MaxTurns > MaxTurns {
		v.Add("max_turns", "persona.error.max_turns")
	}
	p.HandoverKeywords = keywords(p.HandoverKeywords, v)
	p.HandoverMessage = strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(p.HandoverMessage, "\r\n", "\n"), "\r", "\n"))
	switch {
	case !storable(p.HandoverMessage, true):
		v.Add("handover_message", "persona.error.text")
	case runes(p.HandoverMessage) > MaxHandoverMessageLen:
		v.Add("handover_message", "persona.error.handover_message")
	}
	if hours, ok := businessHours(p.BusinessHours, v); ok {
		p.BusinessHours = hours
	}
	ids := model.IDs{}
	for _, id := range p.KnowledgeBases {
		if id > 0 && !slices.Contains(ids, id) {
			ids = append(ids, id)
		} else if id <= 0 {
			v.Add("knowledge_base_ids", "persona.error.knowledge_bases")
		}
	}
	slices.Sort(ids)
	p.KnowledgeBases = ids
}

// language accepts a supported language whatever its case ("pt-br", "EN").
func language(l string) (string, bool) {
	l = strings.TrimSpace(l)
	for _, x := range Languages {
		if strings.EqualFold(l, x) {
			return x, true
		}
	}
	return "", false
}

// keywords trims the hand-over keywords and keeps the first of those equal but for case
// and accents ("Atendente", "atendênte"); blank ones are dropped.
func keywords(in model.Labels, v *model.ValidationError) model.Labels {
	out := model.Labels{}
	var seen []string
	for _, k := range in {
		k = strings.Join(strings.Fields(k), " ")
		if k == "" {
			continue
		}
		if !storable(k, false) {
			v.Add("handover_keywords", "persona.error.text")
			continue
		}
		if runes(k) > MaxKeywordLen || strings.ContainsAny(k, ",;") {
			v.Add("handover_keywords", "persona.error.keyword")
			continue
		}
		f := model.Fold(k)
		if slices.Contains(seen, f) {
			continue
		}
		seen = append(seen, f)
		out = append(out, k)
	}
	if len(out) > MaxKeywords {
		v.Add("handover_keywords", "persona.error.keywords")
	}
	return out
}

// Range is one opening period of a day, "08:00" to "12:00".
type Range [2]string

// Hours are the business hours by day ("mon" … "sun"); a day not in it is closed, and no
// day at all means always open.
type Hours map[string][]Range

var clock = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)

// validTime is HH:MM from 00:00 to 23:59, or 24:00 as an end.
func validTime(t string, end bool) bool { return clock.MatchString(t) || (end && t == "24:00") }

// businessHours reads and checks the JSON of business hours and returns it canonical
// (days in order, ranges sorted, closed days left out); null and {} are always open.
func businessHours(raw json.RawMessage, v *model.ValidationError) (json.RawMessage, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return json.RawMessage("{}"), true
	}
	var days map[string]json.RawMessage
	if err := json.Unmarshal(raw, &days); err != nil {
		v.Add("business_hours", "persona.error.hours")
		return nil, false
	}
	if len(days) == 0 {
		return json.RawMessage("{}"), true
	}
	h := Hours{}
	ok := true
	for day, val := range days {
		if !slices.Contains(Days, day) {
			v.Add("business_hours", "persona.error.hours_day")
			ok = false
			continue
		}
		var rs [][]string
		if err := json.Unmarshal(val, &rs); err != nil {
			v.Add("business_hours."+day, "persona.error.hours_range")
			ok = false
			continue
		}
		got := make([]Range, 0, len(rs))
		for _, r := range rs {
			if len(r) != 2 {
				r = []string{"", ""} // refused by CheckDay
			}
			got = append(got, Range{r[0], r[1]})
		}
		if key := CheckDay(got); key != "" {
			v.Add("business_hours."+day, key)
			ok = false
			continue
		}
		if len(got) > 0 {
			h[day] = SortDay(got)
		}
	}
	if !ok {
		return nil, false
	}
	if len(h) == 0 {
		// Hours given but no day open: never open. A persona that is never open is a
		// mistake; "always" is {}.
		v.Add("business_hours", "persona.error.hours_empty")
		return nil, false
	}
	b, err := json.Marshal(h)
	if err != nil {
		v.Add("business_hours", "persona.error.hours")
		return nil, false
	}
	return b, true
}

// CheckDay checks a day's ranges: valid times, each start before its end, at most three,
// not overlapping. It returns the i18n key of the first problem, or "".
func CheckDay(rs []Range) string {
	if len(rs) > MaxRangesPerDay {
		return "persona.error.hours_many"
	}
	for _, r := range rs {
		if !validTime(r[0], false) || !validTime(r[1], true) || r[0] >= r[1] {
			return "persona.error.hours_range"
		}
	}
	sorted := SortDay(rs)
	for i := 1; i < len(sorted); i++ {
		if sorted[i][0] < sorted[i-1][1] {
			return "persona.error.hours_overlap"
		}
	}
	return ""
}

// SortDay returns a day's ranges by start time.
func SortDay(rs []Range) []Range {
	out := slices.Clone(rs)
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// ParseDay reads a day's business hours written as text: "08:00-12:00, 13:00-18:00"
// (a dash or "to" between the times, commas or semicolons between ranges; "8:00" and "8h"
// are read as 08:00). Blank is closed. The error is an i18n key.
func ParseDay(text string) ([]Range, string) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, ""
	}
	if !storable(text, false) {
		return nil, "persona.error.text"
	}
	var out []Range
	for _, part := range strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ';' }) {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		a, b, ok := cutRange(part)
		if !ok {
			return nil, "persona.error.hours_format"
		}
		start, ok1 := normTime(a)
		end, ok2 := normTime(b)
		if !ok1 || !ok2 {
			return nil, "persona.error.hours_format"
		}
		out = append(out, Range{start, end})
	}
	if key := CheckDay(out); key != "" {
		return nil, key
	}
	return SortDay(out), ""
}

func cutRange(s string) (string, string, bool) {
	for _, sep := range []string{"–", "—", "-", " to ", " a "} {
		if a, b, ok := strings.Cut(s, sep); ok {
			return strings.TrimSpace(a), strings.TrimSpace(b), true
		}
	}
	return "", "", false
}

var looseClock = regexp.MustCompile(`^(\d{1,2})(?:[:h.](\d{2})?)?$`)

// normTime reads "8", "8h", "8:00", "08h30" as HH:MM.
func normTime(s string) (string, bool) {
	m := looseClock.FindStringSubmatch(strings.ToLower(strings.TrimSpace(s)))
	if m == nil {
		return "", false
	}
	hh, mm := m[1], m[2]
	if len(hh) == 1 {
		hh = "0" + hh
	}
	if mm == "" {
		mm = "00"
	}
	return hh + ":" + mm, true
}

// FormatDay writes a day's ranges the way ParseDay reads them.
func FormatDay(rs []Range) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = r[0] + "-" + r[1]
	}
	return strings.Join(parts, ", ")
}

// ReadHours reads stored business hours; bad JSON reads as always open.
func ReadHours(raw json.RawMessage) Hours {
	h := Hours{}
	if len(raw) == 0 {
		return h
	}
	_ = json.Unmarshal(raw, &h)
	return h
}

// KeywordList splits keywords typed in one field, by commas, semicolons or lines.
func KeywordList(text string) model.Labels {
	out := model.Labels{}
	for _, k := range strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ';' || r == '\n' || r == '\r' }) {
		if k = strings.TrimSpace(k); k != "" {
			out = append(out, k)
		}
	}
	return out
}
