package persona_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"masteria/app/ai/persona"
	"masteria/app/model"
	"masteria/app/store"
	"masteria/app/store/storetest"
)

func valid() model.Persona {
	p := persona.Defaults()
	p.Name = "Padaria"
	p.Instructions = "Responda sobre pães e bolos."
	return p
}

// TestPersonaValidate: every rule of a persona, with the field and key it fails on.
func TestPersonaValidate(t *testing.T) {
	long := func(n int) string { return strings.Repeat("á", n) }
	kws := func(n int) model.Labels {
		out := model.Labels{}
		for i := range n {
			out = append(out, fmt.Sprintf("palavra%d", i))
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		edit  func(p *model.Persona)
		field string // "" : valid
		key   string
	}{
		{"defaults", func(p *model.Persona) {}, "", ""},
		{"name blank", func(p *model.Persona) { p.Name = "   " }, "name", "persona.error.name"},
		{"name 80 runes", func(p *model.Persona) { p.Name = long(80) }, "", ""},
		{"name 81 runes", func(p *model.Persona) { p.Name = long(81) }, "name", "persona.error.name"},
		{"name NUL", func(p *model.Persona) { p.Name = "Pa\x00daria" }, "name", "persona.error.text"},
		{"name invalid UTF-8", func(p *model.Persona) { p.Name = "Pad\xffaria" }, "name", "persona.error.text"},
		{"name newline", func(p *model.Persona) { p.Name = "Pa\ndaria" }, "name", "persona.error.text"},
		{"instructions 8000", func(p *model.Persona) { p.Instructions = long(8000) }, "", ""},
		{"instructions 8001", func(p *model.Persona) { p.Instructions = long(8001) }, "instructions", "persona.error.instructions"},
		{"instructions lines and tabs", func(p *model.Persona) { p.Instructions = "a\r\n\tb" }, "", ""},
		{"instructions NUL", func(p *model.Persona) { p.Instructions = "a\x00b" }, "instructions", "persona.error.text"},
		{"instructions invalid UTF-8", func(p *model.Persona) { p.Instructions = "ol\xe1" }, "instructions", "persona.error.text"},
		{"instructions escape", func(p *model.Persona) { p.Instructions = "a\x1bb" }, "instructions", "persona.error.text"},
		{"tone formal", func(p *model.Persona) { p.Tone = "formal" }, "", ""},
		{"tone concise", func(p *model.Persona) { p.Tone = "Concise" }, "", ""},
		{"tone casual", func(p *model.Persona) { p.Tone = "casual" }, "", ""},
		{"tone unknown", func(p *model.Persona) { p.Tone = "rude" }, "tone", "persona.error.tone"},
		{"tone empty", func(p *model.Persona) { p.Tone = "" }, "tone", "persona.error.tone"},
		{"language en", func(p *model.Persona) { p.Language = "en" }, "", ""},
		{"language es", func(p *model.Persona) { p.Language = "es" }, "", ""},
		{"language pt-br any case", func(p *model.Persona) { p.Language = "PT-br" }, "", ""},
		{"language fr", func(p *model.Persona) { p.Language = "fr" }, "language", "persona.error.language"},
		{"language pt", func(p *model.Persona) { p.Language = "pt" }, "language", "persona.error.language"},
		{"model org default", func(p *model.Persona) { p.Model = "" }, "", ""},
		{"model named", func(p *model.Persona) { p.Model = "gpt-4o-mini" }, "", ""},
		{"model 200", func(p *model.Persona) { p.Model = strings.Repeat("m", 200) }, "", ""},
		{"model 201", func(p *model.Persona) { p.Model = strings.Repeat("m", 201) }, "model", "persona.error.model"},
		{"model with a space", func(p *model.Persona) { p.Model = "gpt 4" }, "model", "persona.error.model"},
		{"model NUL", func(p *model.Persona) { p.Model = "gpt\x004" }, "model", "persona.error.model"},
		{"model invalid UTF-8", func(p *model.Persona) { p.Model = "gpt\xff" }, "model", "persona.error.model"},
		{"temperature 0", func(p *model.Persona) { p.Temperature = 0 }, "", ""},
		{"temperature 2", func(p *model.Persona) { p.Temperature = 2 }, "", ""},
		{"temperature 2.01", func(p *model.Persona) { p.Temperature = 2.01 }, "temperature", "persona.error.temperature"},
		{"temperature negative", func(p *model.Persona) { p.Temperature = -0.1 }, "temperature", "persona.error.temperature"},
		{"temperature NaN", func(p *model.Persona) { p.Temperature = math.NaN() }, "temperature", "persona.error.temperature"},
		{"temperature Inf", func(p *model.Persona) { p.Temperature = math.Inf(1) }, "temperature", "persona.error.temperature"},
		{"nothing found silent", func(p *model.Persona) { p.NothingFound = "silent" }, "", ""},
		{"nothing found other", func(p *model.Persona) { p.NothingFound = "guess" }, "nothing_found", "persona.error.nothing_found"},
		{"max turns 1", func(p *model.Persona) { p.MaxTurns = 1 }, "", ""},
		{"max turns 100", func(p *model.Persona) { p.MaxTurns = 100 }, "", ""},
		{"max turns 0", func(p *model.Persona) { p.MaxTurns = 0 }, "max_turns", "persona.error.max_turns"},
		{"max turns 101", func(p *model.Persona) { p.MaxTurns = 101 }, "max_turns", "persona.error.max_turns"},
		{"20 keywords", func(p *model.Persona) { p.HandoverKeywords = kws(20) }, "", ""},
		{"21 keywords", func(p *model.Persona) { p.HandoverKeywords = kws(21) }, "handover_keywords", "persona.error.keywords"},
		{"21 keywords of which 2 repeat", func(p *model.Persona) { p.HandoverKeywords = append(kws(19), "Humano", "humano") }, "", ""},
		{"no keywords", func(p *model.Persona) { p.HandoverKeywords = nil }, "", ""},
		{"keyword 40", func(p *model.Persona) { p.HandoverKeywords = model.Labels{long(40)} }, "", ""},
		{"keyword 41", func(p *model.Persona) { p.HandoverKeywords = model.Labels{long(41)} }, "handover_keywords", "persona.error.keyword"},
		{"keyword with a comma", func(p *model.Persona) { p.HandoverKeywords = model.Labels{"a,b"} }, "handover_keywords", "persona.error.keyword"},
		{"keyword NUL", func(p *model.Persona) { p.HandoverKeywords = model.Labels{"hu\x00mano"} }, "handover_keywords", "persona.error.text"},
		{"keyword invalid UTF-8", func(p *model.Persona) { p.HandoverKeywords = model.Labels{"hum\xe1no"} }, "handover_keywords", "persona.error.text"},
		{"handover message 1000", func(p *model.Persona) { p.HandoverMessage = long(1000) }, "", ""},
		{"handover message 1001", func(p *model.Persona) { p.HandoverMessage = long(1001) }, "handover_message", "persona.error.handover_message"},
		{"handover message NUL", func(p *model.Persona) { p.HandoverMessage = "já\x00" }, "handover_message", "persona.error.text"},
		{"handover message invalid UTF-8", func(p *model.Persona) { p.HandoverMessage = "j\xe1" }, "handover_message", "persona.error.text"},
		{"hours always (empty)", func(p *model.Persona) { p.BusinessHours = nil }, "", ""},
		{"hours always (null)", func(p *model.Persona) { p.BusinessHours = json.RawMessage("null") }, "", ""},
		{"hours a week", func(p *model.Persona) {
			p.BusinessHours = json.RawMessage(`{"mon":[["08:00","12:00"],["13:00","18:00"]],"sat":[["08:00","12:00"]],"sun":[]}`)
		}, "", ""},
		{"hours until midnight", func(p *model.Persona) { p.BusinessHours = json.RawMessage(`{"fri":[["18:00","24:00"]]}`) }, "", ""},
		{"hours not an object", func(p *model.Persona) { p.BusinessHours = json.RawMessage(`[1]`) }, "business_hours", "persona.error.hours"},
		{"hours unknown day", func(p *model.Persona) { p.BusinessHours = json.RawMessage(`{"monday":[["08:00","12:00"]]}`) }, "business_hours", "persona.error.hours_day"},
		{"hours start after end", func(p *model.Persona) { p.BusinessHours = json.RawMessage(`{"mon":[["18:00","08:00"]]}`) }, "business_hours.mon", "persona.error.hours_range"},
		{"hours start = end", func(p *model.Persona) { p.BusinessHours = json.RawMessage(`{"mon":[["08:00","08:00"]]}`) }, "business_hours.mon", "persona.error.hours_range"},
		{"hours 25:00", func(p *model.Persona) { p.BusinessHours = json.RawMessage(`{"mon":[["08:00","25:00"]]}`) }, "business_hours.mon", "persona.error.hours_range"},
		{"hours 8:00 (not HH:MM)", func(p *model.Persona) { p.BusinessHours = json.RawMessage(`{"mon":[["8:00","12:00"]]}`) }, "business_hours.mon", "persona.error.hours_range"},
		{"hours 24:00 start", func(p *model.Persona) { p.BusinessHours = json.RawMessage(`{"mon":[["24:00","24:00"]]}`) }, "business_hours.mon", "persona.error.hours_range"},
		{"hours one time", func(p *model.Persona) { p.BusinessHours = json.RawMessage(`{"mon":[["08:00"]]}`) }, "business_hours.mon", "persona.error.hours_range"},
		{"hours 4 ranges", func(p *model.Persona) {
			p.BusinessHours = json.RawMessage(`{"tue":[["01:00","02:00"],["03:00","04:00"],["05:00","06:00"],["07:00","08:00"]]}`)
		}, "business_hours.tue", "persona.error.hours_many"},
		{"hours overlap", func(p *model.Persona) {
			p.BusinessHours = json.RawMessage(`{"wed":[["08:00","12:00"],["11:00","18:00"]]}`)
		}, "business_hours.wed", "persona.error.hours_overlap"},
		{"hours every day closed", func(p *model.Persona) { p.BusinessHours = json.RawMessage(`{"mon":[]}`) }, "business_hours", "persona.error.hours_empty"},
		{"hours not a list", func(p *model.Persona) { p.BusinessHours = json.RawMessage(`{"mon":"08:00-12:00"}`) }, "business_hours.mon", "persona.error.hours_range"},
		{"knowledge base 0", func(p *model.Persona) { p.KnowledgeBases = model.IDs{0} }, "knowledge_base_ids", "persona.error.knowledge_bases"},
		{"101 knowledge bases", func(p *model.Persona) {
			for i := range 101 {
				p.KnowledgeBases = append(p.KnowledgeBases, int64(i+1))
			}
		}, "knowledge_base_ids", "persona.error.knowledge_bases"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := valid()
			tc.edit(&p)
			err := persona.Validate(&p)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var v *model.ValidationError
			if !errors.As(err, &v) || !errors.Is(err, model.ErrInvalid) {
				t.Fatalf("accepted or not a validation error: %v", err)
			}
			if got := v.Fields[tc.field]; got != tc.key {
				t.Fatalf("%s: %q, want %q (all: %v)", tc.field, got, tc.key, v.Fields)
			}
		})
	}
}

// TestPersonaClean: what Validate writes back is trimmed, folded and canonical.
func TestPersonaClean(t *testing.T) {
	p := valid()
	p.Name = "  Ana da Padaria  "
	p.Instructions = "  Seja breve.\r\nUse emojis.  "
	p.Tone, p.Language, p.NothingFound = " Formal ", "pt-br", "SILENT"
	p.Temperature = 0.456
	p.HandoverKeywords = model.Labels{" Atendente ", "atendênte", "ATENDENTE", "falar  com   humano", "", "Humano", "humano"}
	p.BusinessHours = json.RawMessage(`{"mon":[["13:00","18:00"],["08:00","12:00"]],"sun":[]}`)
	p.KnowledgeBases = model.IDs{7, 3, 7}
	if err := persona.Validate(&p); err != nil {
		t.Fatal(err)
	}
	if p.Name != "Ana da Padaria" || p.Instructions != "Seja breve.\nUse emojis." || p.Tone != "formal" || p.Language != "pt-BR" ||
		p.NothingFound != "silent" || p.Temperature != 0.46 {
		t.Errorf("cleaned: %+v", p)
	}
	if want := (model.Labels{"Atendente", "falar com humano", "Humano"}); !slices.Equal(p.HandoverKeywords, want) {
		t.Errorf("keywords %q, want %q", p.HandoverKeywords, want)
	}
	if got := string(p.BusinessHours); got != `{"mon":[["08:00","12:00"],["13:00","18:00"]]}` {
		t.Errorf("hours %s", got)
	}
	if !slices.Equal(p.KnowledgeBases, model.IDs{3, 7}) {
		t.Errorf("knowledge bases %v", p.KnowledgeBases)
	}
}

// TestPersonaParseDay: a day's hours as people type them.
func TestPersonaParseDay(t *testing.T) {
	for in, want := range map[string]string{
		"":                          "",
		"  ":                        "",
		"08:00-12:00":               "08:00-12:00",
		"8:00 - 12:00, 13:00-18:00": "08:00-12:00, 13:00-18:00",
		"13:00-18:00; 8h-12h":       "08:00-12:00, 13:00-18:00",
		"8h30 – 17h":                "08:30-17:00",
		"9 to 17":                   "09:00-17:00",
		"9 a 17":                    "09:00-17:00",
		"18:00-24:00":               "18:00-24:00",
	} {
		rs, key := persona.ParseDay(in)
		if key != "" || persona.FormatDay(rs) != want {
			t.Errorf("%q: %q %q, want %q", in, persona.FormatDay(rs), key, want)
		}
	}
	for in, wantKey := range map[string]string{
		"manhã":                                  "persona.error.hours_format",
		"08:00":                                  "persona.error.hours_format",
		"08:00-":                                 "persona.error.hours_format",
		"18:00-08:00":                            "persona.error.hours_range",
		"25:00-26:00":                            "persona.error.hours_range",
		"08:60-09:00":                            "persona.error.hours_range",
		"08:00-12:00, 11:00-13:00":               "persona.error.hours_overlap",
		"1-2, 3-4, 5-6, 7-8":                     "persona.error.hours_many",
		"08:00-12:00\x00":                        "persona.error.text",
		"08:00-12:00 \xff":                       "persona.error.text",
		"123-456":                                "persona.error.hours_format",
		"08:00-12:00, 08:00-12:00":               "persona.error.hours_overlap",
		"07:00-08:00, 09:00-10:00, 10:00-10:00x": "persona.error.hours_format",
		"07:00-08:00, 09:00-10:00, 10:00-09:00":  "persona.error.hours_range",
		"07:00-08:00, 09:00-10:00, 11:00-12:00 ,": "",
	} {
		if _, key := persona.ParseDay(in); key != wantKey {
			t.Errorf("%q: %q, want %q", in, key, wantKey)
		}
	}
	if got := persona.KeywordList("atendente, humano;\npessoa,, "); !slices.Equal(got, model.Labels{"atendente", "humano", "pessoa"}) {
		t.Errorf("keyword list %q", got)
	}
}

type fixture struct {
	st        *store.Store
	svc       *persona.Service
	a, b      model.Org
	ownerA    model.Actor
	ownerB    model.Actor
	kbA, kbB  model.KnowledgeBase
	chA, chB  model.Channel
	ctx       context.Context
	eventsOfA func() []string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, _ := storetest.New(t)
	ctx := context.Background()
	f := &fixture{st: st, svc: persona.New(st), ctx: ctx}
	var err error
	if f.a, err = st.CreateOrg(ctx, "Padaria A"); err != nil {
		t.Fatal(err)
	}
	if f.b, err = st.CreateOrg(ctx, "Clínica B"); err != nil {
		t.Fatal(err)
	}
	f.ownerA, f.ownerB = model.Actor{OrgID: f.a.ID, Role: model.RoleOwner}, model.Actor{OrgID: f.b.ID, Role: model.RoleOwner}
	if f.kbA, err = st.CreateKnowledgeBase(ctx, f.a.ID, "Cardápio", "", 0); err != nil {
		t.Fatal(err)
	}
	if f.kbB, err = st.CreateKnowledgeBase(ctx, f.b.ID, "Exames", "", 0); err != nil {
		t.Fatal(err)
	}
	if f.chA, err = st.CreateChannel(ctx, model.Channel{OrgID: f.a.ID, Kind: model.KindSandbox, Name: "WhatsApp A", Rate: 10}); err != nil {
		t.Fatal(err)
	}
	if f.chB, err = st.CreateChannel(ctx, model.Channel{OrgID: f.b.ID, Kind: model.KindSandbox, Name: "WhatsApp B", Rate: 10}); err != nil {
		t.Fatal(err)
	}
	f.eventsOfA = func() []string {
		es, err := st.EventsSince(ctx, f.a.ID, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range es {
			out = append(out, e.Type+" "+string(e.Payload))
		}
		return out
	}
	return f
}

// TestPersonaLifecycle: create, update, put on a channel, delete (refused while in use
// until confirmed), with an event for each change and the roles that may.
func TestPersonaLifecycle(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := f.ctx
	in := valid()
	in.KnowledgeBases = model.IDs{f.kbA.ID}
	in.BusinessHours = json.RawMessage(`{"mon":[["08:00","18:00"]]}`)
	agent := model.Actor{OrgID: f.a.ID, Role: model.RoleAgent}
	if _, err := f.svc.Create(ctx, agent, in); !errors.Is(err, model.ErrForbidden) {
		t.Fatalf("an agent creates: %v", err)
	}
	manager := model.Actor{OrgID: f.a.ID, Role: model.RoleManager}
	p, err := f.svc.Create(ctx, manager, in)
	if err != nil {
		t.Fatal(err)
	}
	if p.ID == 0 || p.Name != "Padaria" || !slices.Equal(p.KnowledgeBases, model.IDs{f.kbA.ID}) || string(p.BusinessHours) != `{"mon": [["08:00", "18:00"]]}` ||
		p.Temperature != 0.3 || !slices.Equal(p.HandoverKeywords, model.Labels{"atendente", "humano", "pessoa"}) {
		t.Fatalf("created: %+v (hours %s)", p, p.BusinessHours)
	}
	list, err := f.svc.Personas(ctx, f.a.ID)
	if err != nil || len(list) != 1 || list[0].ID != p.ID {
		t.Fatalf("list: %+v %v", list, err)
	}

	// Update: another tone, no knowledge base, always open.
	p.Tone, p.KnowledgeBases, p.BusinessHours, p.Temperature = "formal", nil, json.RawMessage(`{}`), 1.25
	if _, err := f.svc.Update(ctx, agent, p); !errors.Is(err, model.ErrForbidden) {
		t.Fatalf("an agent updates: %v", err)
	}
	up, err := f.svc.Update(ctx, manager, p)
	if err != nil {
		t.Fatal(err)
	}
	if up.Tone != "formal" || len(up.KnowledgeBases) != 0 || string(up.BusinessHours) != "{}" || up.Temperature != 1.25 {
		t.Fatalf("updated: %+v", up)
	}
	bad := up
	bad.Name = ""
	if _, err := f.svc.Update(ctx, manager, bad); !errors.Is(err, model.ErrInvalid) {
		t.Fatalf("an invalid update: %v", err)
	}
	if got, _ := f.svc.Persona(ctx, f.a.ID, p.ID); got.Name != "Padaria" {
		t.Fatalf("a refused update changed the persona: %+v", got)
	}

	// On a channel; a delete names it, and goes through only when confirmed.
	if err := f.svc.SetChannelBot(ctx, agent, f.chA.ID, &p.ID); !errors.Is(err, model.ErrForbidden) {
		t.Fatalf("an agent sets the bot: %v", err)
	}
	if err := f.svc.SetChannelBot(ctx, manager, f.chA.ID, &p.ID); err != nil {
		t.Fatal(err)
	}
	if ch, _ := f.st.Channel(ctx, f.a.ID, f.chA.ID); ch.PersonaID == nil || *ch.PersonaID != p.ID {
		t.Fatalf("channel persona: %v", ch.PersonaID)
	}
	err = f.svc.Delete(ctx, manager, p.ID, false)
	var inUse *persona.InUseError
	if !errors.As(err, &inUse) || !errors.Is(err, persona.ErrInUse) || !errors.Is(err, model.ErrConflict) ||
		len(inUse.Channels) != 1 || inUse.Channels[0].Name != "WhatsApp A" {
		t.Fatalf("delete in use: %v", err)
	}
	if _, err := f.svc.Persona(ctx, f.a.ID, p.ID); err != nil {
		t.Fatalf("an unconfirmed delete removed it: %v", err)
	}
	if err := f.svc.Delete(ctx, agent, p.ID, true); !errors.Is(err, model.ErrForbidden) {
		t.Fatalf("an agent deletes: %v", err)
	}
	if err := f.svc.Delete(ctx, manager, p.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Persona(ctx, f.a.ID, p.ID); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("deleted: %v", err)
	}
	if ch, _ := f.st.Channel(ctx, f.a.ID, f.chA.ID); ch.PersonaID != nil {
		t.Fatalf("the channel still runs a deleted persona: %v", *ch.PersonaID)
	}
	if err := f.svc.Delete(ctx, manager, p.ID, true); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("deleted twice: %v", err)
	}
	// A persona used nowhere goes without a confirmation; the bot comes off a channel.
	q, err := f.svc.Create(ctx, f.ownerA, valid())
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SetChannelBot(ctx, f.ownerA, f.chA.ID, &q.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SetChannelBot(ctx, f.ownerA, f.chA.ID, nil); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Delete(ctx, f.ownerA, q.ID, false); err != nil {
		t.Fatalf("a persona used nowhere: %v", err)
	}

	want := []string{
		fmt.Sprintf(`persona.created {"name": "Padaria", "persona_id": %d}`, p.ID),
		fmt.Sprintf(`persona.updated {"name": "Padaria", "persona_id": %d}`, p.ID),
		fmt.Sprintf(`channel.bot {"channel_id": %d, "persona_id": %d}`, f.chA.ID, p.ID),
		fmt.Sprintf(`persona.deleted {"name": "Padaria", "persona_id": %d}`, p.ID),
		fmt.Sprintf(`persona.created {"name": "Padaria", "persona_id": %d}`, q.ID),
		fmt.Sprintf(`channel.bot {"channel_id": %d, "persona_id": %d}`, f.chA.ID, q.ID),
		fmt.Sprintf(`channel.bot {"channel_id": %d, "persona_id": null}`, f.chA.ID),
		fmt.Sprintf(`persona.deleted {"name": "Padaria", "persona_id": %d}`, q.ID),
	}
	if got := f.eventsOfA(); !slices.Equal(got, want) {
		t.Errorf("events:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestPersonaTenancy: another org's persona, channel and knowledge bases are out of reach,
// through the service and through the store itself.
func TestPersonaTenancy(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := f.ctx
	pa, err := f.svc.Create(ctx, f.ownerA, valid())
	if err != nil {
		t.Fatal(err)
	}
	inB := valid()
	inB.Name = "Recepção"
	inB.KnowledgeBases = model.IDs{f.kbB.ID}
	pb, err := f.svc.Create(ctx, f.ownerB, inB)
	if err != nil {
		t.Fatal(err)
	}

	// The service: B's persona from A is not found, whatever the call.
	if _, err := f.svc.Persona(ctx, f.a.ID, pb.ID); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("read B's persona from A: %v", err)
	}
	upd := pb
	upd.Name = "Tomada"
	if _, err := f.svc.Update(ctx, f.ownerA, upd); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("update B's persona from A: %v", err)
	}
	if err := f.svc.Delete(ctx, f.ownerA, pb.ID, true); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("delete B's persona from A: %v", err)
	}
	if err := f.svc.SetChannelBot(ctx, f.ownerA, f.chA.ID, &pb.ID); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("B's persona on A's channel: %v", err)
	}
	if err := f.svc.SetChannelBot(ctx, f.ownerA, f.chB.ID, &pa.ID); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("A's persona on B's channel: %v", err)
	}
	if err := f.svc.SetChannelBot(ctx, f.ownerA, f.chB.ID, nil); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("B's channel's bot taken off from A: %v", err)
	}
	withB := pa
	withB.KnowledgeBases = model.IDs{f.kbA.ID, f.kbB.ID}
	var v *model.ValidationError
	if _, err := f.svc.Update(ctx, f.ownerA, withB); !errors.As(err, &v) || v.Fields["knowledge_base_ids"] != "persona.error.knowledge_bases" {
		t.Errorf("B's knowledge base on A's persona: %v", err)
	}
	if list, _ := f.svc.Personas(ctx, f.a.ID); len(list) != 1 || list[0].ID != pa.ID {
		t.Errorf("A's list: %+v", list)
	}
	if used, _ := f.svc.UsedBy(ctx, f.a.ID, pb.ID); len(used) != 0 {
		t.Errorf("A's channels using B's persona: %+v", used)
	}

	// The store: the same, without the service's checks.
	if _, err := f.st.Persona(ctx, f.a.ID, pb.ID); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("store: read B's persona from A: %v", err)
	}
	if err := f.st.UpdatePersona(ctx, f.a.ID, upd); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("store: update B's persona from A: %v", err)
	}
	if err := f.st.DeletePersona(ctx, f.a.ID, pb.ID); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("store: delete B's persona from A: %v", err)
	}
	if err := f.st.SetChannelPersona(ctx, f.a.ID, f.chA.ID, &pb.ID); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("store: B's persona on A's channel: %v", err)
	}
	if err := f.st.SetChannelPersona(ctx, f.a.ID, f.chB.ID, &pa.ID); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("store: A's persona on B's channel: %v", err)
	}
	if err := f.st.SetPersonaKnowledgeBases(ctx, f.a.ID, pa.ID, []int64{f.kbA.ID, f.kbB.ID}); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.st.Persona(ctx, f.a.ID, pa.ID); !slices.Equal(got.KnowledgeBases, model.IDs{f.kbA.ID}) {
		t.Errorf("store: B's knowledge base was attached to A's persona: %v", got.KnowledgeBases)
	}
	// A's org id with B's persona: nothing attached to it.
	if err := f.st.SetPersonaKnowledgeBases(ctx, f.a.ID, pb.ID, []int64{f.kbA.ID}); err == nil {
		if got, _ := f.st.Persona(ctx, f.b.ID, pb.ID); !slices.Equal(got.KnowledgeBases, model.IDs{f.kbB.ID}) {
			t.Errorf("store: A's knowledge base attached to B's persona: %v", got.KnowledgeBases)
		}
	}
	// B's persona is untouched by all of it.
	if got, err := f.svc.Persona(ctx, f.b.ID, pb.ID); err != nil || got.Name != "Recepção" || !slices.Equal(got.KnowledgeBases, model.IDs{f.kbB.ID}) {
		t.Errorf("B's persona after A's attempts: %+v %v", got, err)
	}
	if ch, _ := f.st.Channel(ctx, f.b.ID, f.chB.ID); ch.PersonaID != nil {
		t.Errorf("B's channel runs %v", *ch.PersonaID)
	}
	if es, _ := f.st.EventsSince(ctx, f.b.ID, 0, 100); len(es) != 1 {
		t.Errorf("B's events: %+v", es)
	}
}
