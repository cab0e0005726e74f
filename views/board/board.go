// Package board renders the Kanban lead board: the board with its columns and cards, the
// lead drawer and forms, and the pipeline settings.
package board

import (
	"context"
	"net/url"
	"strconv"
	"time"

	"masteria/app/i18n"
	"masteria/app/model"
	"masteria/views/ui"
)

// Page is GET /o/{org}/board: one pipeline's columns as the filters show them.
type Page struct {
	Pipeline  Pipeline
	Pipelines []Pipeline // every pipeline, for the picker
	Columns   []Column
	Stages    []Stage // the pipeline's stages, for the move menus and forms
	Filter    Filter
	Members   []model.Membership // owners to filter by and to pick
	New       LeadForm           // the new-lead form of the dialog
	AIOn      bool               // the AI moves this pipeline's leads
}

// Pipeline is a pipeline as the pages show it.
type Pipeline struct {
	ID       int64
	Name     string
	Currency string
	Stages   int64
	Leads    int64
}

// Stage is one stage of a pipeline.
type Stage struct {
	ID          int64
	Name        string
	Color       string
	Description string
	Outcome     string // open, won, lost
}

// Column is a stage on the board with its first cards.
type Column struct {
	Stage    Stage
	Cards    []Card
	Count    int64 // leads in the stage that the filters show, not only the cards shown
	SumCents int64
	More     bool // more cards follow the ones shown
}

// Card is a lead on the board.
type Card struct {
	ID          int64
	StageID     int64
	Rank        string
	Title       string
	ContactName string
	ValueCents  int64
	Currency    string
	OwnerName   string
	MovedAt     *time.Time
	MovedBy     string
	AI          CardAI
}

// CardAI is what a card (and a lead's drawer) shows of the AI: the move that put the lead
// in its stage, with an undo, and a suggestion to accept or dismiss. Either may be nil.
type CardAI struct {
	Move       *AIDecision
	Suggestion *AIDecision
}

// AIDecision is an AI move or suggestion as people read it.
type AIDecision struct {
	ID      int64
	From    string
	To      string
	Percent int
	Reason  string
}

// Filter is the board's filters as typed, kept in the URL.
type Filter struct {
	Owner  string // "", "none" or a user id
	Q      string
	Min    string
	Max    string
	Errors map[string]string // min, max → i18n key
}

// Active tells whether any filter is set.
func (f Filter) Active() bool { return f.Owner != "" || f.Q != "" || f.Min != "" || f.Max != "" }

// Values are the filter's URL query values.
func (f Filter) Values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"owner": f.Owner, "q": f.Q, "min": f.Min, "max": f.Max} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

// Query is the filter as a query string without "?" ("" when none is set).
func (f Filter) Query() string { return f.Values().Encode() }

// LeadForm is the new-lead and edit-lead form: values as typed and errors.
type LeadForm struct {
	ID         int64 // 0 for a new lead
	PipelineID int64
	StageID    int64
	Title      string
	Value      string
	OwnerID    string
	Source     string
	Notes      string
	// New leads: an existing contact, or a new one by name and phone.
	ContactID    string
	ContactName  string
	ContactPhone string
	Contacts     []ContactOption // the contact search results kept after an error
	// Edited leads: the contact, read-only.
	Contact  string
	Currency string
	Stages   []Stage
	Members  []model.Membership
	Errors   map[string]string // field → i18n key
	Return   string            // the board URL (with its filters) to go back to
}

// ContactOption is a contact found by the lead form's search.
type ContactOption struct {
	ID    int64
	Name  string
	Phone string
}

// LeadPage is a lead's drawer (or page): the form, its history and the delete button.
type LeadPage struct {
	ContactID int64 // the lead's contact: its page and its conversation are a click away
	Form      LeadForm
	AI        CardAI
	Moves     []Move
	CreatedAt time.Time
	CanDelete bool
}

// Move is a line of a lead's history.
type Move struct {
	From, To, Who string
	At            time.Time
	// The AI decision behind it: "move" (the AI moved it) or "suggestion" (a member
	// accepted the AI's suggestion), with its confidence and reason.
	AIKind    string
	AIPercent int
	AIReason  string
}

// PipelinesPage is GET /o/{org}/board/pipelines: the list and the create form.
type PipelinesPage struct {
	Pipelines []Pipeline
	Form      PipelineForm
}

// PipelineForm is the pipeline name and currency as typed, and their errors.
type PipelineForm struct {
	Name     string
	Currency string
	Errors   map[string]string
}

// PipelinePage is GET /o/{org}/board/pipelines/{id}: the pipeline and its stages.
type PipelinePage struct {
	Pipeline Pipeline
	Form     PipelineForm
	Stages   []StageForm
	NewStage StageForm
	// Error is an i18n key shown at the top (a refused delete); ErrorN its count.
	Error  string
	ErrorN int64
	AI     AIForm
}

// AIForm is a pipeline's lead progression settings as typed: on or off, and the
// threshold in percent.
type AIForm struct {
	Enabled    bool
	Threshold  string // percent, 50 to 100
	NoProvider bool   // the org has no AI provider yet: nothing would happen
	Errors     map[string]string
}

// StageForm is a stage's fields as typed and their errors; ID 0 is the add form.
type StageForm struct {
	ID          int64
	Name        string
	Color       string
	Description string
	Outcome     string
	Leads       int64
	Errors      map[string]string
}

// The forms offer the choices and limits the board service accepts (app/model).
var (
	Colors     = model.StageColors
	Currencies = model.Currencies
	Outcomes   = model.StageOutcomes
)

const (
	maxPipelineName = model.MaxPipelineName
	maxStageName    = model.MaxStageName
	maxDescription  = model.MaxStageDescription
	maxTitle        = model.MaxLeadTitle
	maxSource       = model.MaxLeadSource
	maxNotes        = model.MaxLeadNotes
	maxContactName  = model.MaxLeadContactName
)

// Money writes cents in the currency the reader's way: "R$ 1.234,56" in Portuguese,
// "R$1,234.56" in English.
func Money(ctx context.Context, cents int64, currency string) string {
	l := ui.From(ctx).Locale
	sym := currency
	switch currency {
	case "BRL", "":
		sym = "R$"
	case "USD":
		sym = "US$"
		if l != i18n.PTBR {
			sym = "$"
		}
	case "EUR":
		sym = "€"
	}
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	frac := strconv.FormatInt(cents%100, 10)
	if len(frac) == 1 {
		frac = "0" + frac
	}
	whole := i18n.FormatInt(l, cents/100)
	if l == i18n.PTBR {
		return sign + sym + "\u00a0" + whole + "," + frac
	}
	return sign + sym + whole + "." + frac
}

// MoneyInput writes cents for an input field the reader's way, without the symbol:
// "1.234,56" or "1234.56"; "" for zero.
func MoneyInput(ctx context.Context, cents int64) string {
	if cents == 0 {
		return ""
	}
	frac := strconv.FormatInt(cents%100, 10)
	if len(frac) == 1 {
		frac = "0" + frac
	}
	if ui.From(ctx).Locale == i18n.PTBR {
		return i18n.FormatInt(i18n.PTBR, cents/100) + "," + frac
	}
	return strconv.FormatInt(cents/100, 10) + "." + frac
}

func id(n int64) string { return strconv.FormatInt(n, 10) }

// pct writes a whole percentage for a message's {percent}.
func pct(n int) string { return strconv.Itoa(n) }

// boardURL is the board of pipeline p with the filter f.
func boardURL(ctx context.Context, p int64, f Filter) string {
	v := f.Values()
	v.Set("pipeline", id(p))
	return ui.OrgURL(ctx, "/board?"+v.Encode())
}

// withFilter appends the filter's query to path.
func withFilter(path string, f Filter) string {
	if q := f.Query(); q != "" {
		return path + "?" + q
	}
	return path
}

// stageName finds a stage's name, "" when it is not among stages.
func stageName(stages []Stage, stageID int64) string {
	for _, s := range stages {
		if s.ID == stageID {
			return s.Name
		}
	}
	return ""
}

func outcomeLabel(ctx context.Context, o string) string {
	switch o {
	case "won":
		return ui.T(ctx, "board.outcome.won")
	case "lost":
		return ui.T(ctx, "board.outcome.lost")
	}
	return ui.T(ctx, "board.outcome.open")
}

func colorLabel(ctx context.Context, c string) string {
	key := "board.color." + c // keys built at run time: the render test covers them
	return ui.T(ctx, key)
}

func errOf(m map[string]string, field string) string {
	if m == nil {
		return ""
	}
	return m[field]
}

func ownerSelected(f Filter, uid int64) bool { return f.Owner == id(uid) }

// addParam appends key=value to a path that may already have a query.
func addParam(path, key, value string) string {
	sep := "?"
	for i := 0; i < len(path); i++ {
		if path[i] == '?' {
			sep = "&"
			break
		}
	}
	return path + sep + url.QueryEscape(key) + "=" + url.QueryEscape(value)
}

// movedTitle says who moved the card to its stage and when.
func movedTitle(ctx context.Context, c Card) string {
	if c.MovedAt == nil {
		return ""
	}
	if c.MovedBy == "" {
		return ui.T(ctx, "board.card.moved_at", "when", ui.DateTime(ctx, *c.MovedAt))
	}
	return ui.T(ctx, "board.card.moved_by", "name", c.MovedBy, "when", ui.DateTime(ctx, *c.MovedAt))
}

// moneyPlaceholder shows how to type an amount in the reader's language.
func moneyPlaceholder(ctx context.Context) string {
	if ui.From(ctx).Locale == i18n.PTBR {
		return "0,00"
	}
	return "0.00"
}
