// Package board is the Kanban lead board: pipelines with ordered stages, and leads (a
// contact on a pipeline) that move between and within stages.
//
// A lead's place in its stage is a fractional-index key (package rank). A move locks the
// destination stage, reads its neighbours' current keys there and writes one row: the
// moved lead. Every change writes its event (and, for pipelines, its audit entry) in the
// same transaction, so every open board of the org follows it.
package board

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"masteria/app/events"
	"masteria/app/jobs"
	"masteria/app/model"
	"masteria/app/store"
)

// Limits of the board's fields and the choices its forms offer live in app/model, where
// the forms read them too.
const (
	MaxPipelineName = model.MaxPipelineName
	MaxStageName    = model.MaxStageName
	MaxDescription  = model.MaxStageDescription
	MaxTitle        = model.MaxLeadTitle
	MaxSource       = model.MaxLeadSource
	MaxNotes        = model.MaxLeadNotes
	MaxContactName  = model.MaxLeadContactName
	MaxValueCents   = model.MaxLeadValueCents
)

// Colors, Currencies and Outcomes are the model's StageColors, Currencies and StageOutcomes.
var (
	Colors     = model.StageColors
	Currencies = model.Currencies
	Outcomes   = model.StageOutcomes
)

// HasLeadsError refuses to delete a pipeline or stage that still has leads, saying how
// many: they would be lost without a word. It matches model.ErrConflict.
type HasLeadsError struct{ Leads int64 }

func (e *HasLeadsError) Error() string {
	return fmt.Sprintf("board: %d leads would be lost", e.Leads)
}

// Is makes the error a model.ErrConflict.
func (e *HasLeadsError) Is(target error) bool { return target == model.ErrConflict }

// ErrLastStage refuses to delete the only stage of a pipeline.
var ErrLastStage = fmt.Errorf("board: a pipeline needs a stage: %w", model.ErrConflict)

// Service runs pipeline and lead operations on a store.
type Service struct {
	st *store.Store
	// PerStage is how many cards of each stage a board shows before "Show more".
	PerStage int
	// moved are other areas' hooks on a lead's change of stage (AddMoveHook).
	moved []MoveHook
}

// MoveHook is called in the transaction that moves a lead to another stage (cadences enrol
// and end enrolments on it), and in the one that creates a lead, with fromStage 0; an
// error rolls the move (or the creation) back.
type MoveHook func(ctx context.Context, tx *store.Store, orgID, leadID, contactID, fromStage, toStage int64) error

// AddMoveHook adds h to the hooks run on every change of stage. Call it before serving.
func (s *Service) AddMoveHook(h MoveHook) { s.moved = append(s.moved, h) }

// New returns the board service.
func New(st *store.Store) *Service { return &Service{st: st, PerStage: 50} }

// Register adds the board area's job workers, if any.
func Register(reg *jobs.Registry, st *store.Store) {}

// record writes a change's audit entry, when action is set, and its event, both in tx.
func (s *Service) record(ctx context.Context, tx *store.Store, a model.Actor, action, target string, ev events.Pending) error {
	if action != "" {
		err := tx.Audit(ctx, model.AuditEntry{OrgID: a.OrgID, UserID: a.UserRef(), Action: action, Target: target, IP: a.IP, UserAgent: a.UserAgent})
		if err != nil {
			return err
		}
	}
	return ev.Publish(ctx, tx, a.OrgID)
}

// cleanText trims s and folds its runs of spaces; ok is false when it is empty or longer
// than max runes.
func cleanText(s string, max int) (string, bool) {
	s = strings.Join(strings.Fields(s), " ")
	n := utf8.RuneCountInString(s)
	return s, n >= 1 && n <= max
}

// within tells whether s fits in max runes.
func within(s string, max int) bool { return utf8.RuneCountInString(s) <= max }

func oneOf(s string, list []string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// ParseMoney reads an amount as people type it and returns it in cents: "1.234,56",
// "1,234.56", "1234.5", "R$ 99" and "1.000" (a thousand) all work. The last "," or "."
// followed by one or two digits is the decimal separator; other separators group
// thousands. A minus sign or anything else is refused.
func ParseMoney(s string) (int64, error) {
	s = strings.TrimSpace(s)
	for _, sym := range []string{"R$", "US$", "$", "€", "BRL", "USD", "EUR"} {
		s = strings.TrimSpace(strings.TrimPrefix(s, sym))
	}
	s = strings.ReplaceAll(strings.ReplaceAll(s, " ", ""), "\u00a0", "")
	if s == "" {
		return 0, model.ErrInvalid
	}
	whole, frac := s, ""
	if i := strings.LastIndexAny(s, ".,"); i >= 0 && len(s)-i-1 <= 2 && len(s)-i-1 >= 1 {
		whole, frac = s[:i], s[i+1:]
	}
	// Thousands separators may only group by three.
	if strings.ContainsAny(whole, ".,") {
		groups := strings.FieldsFunc(whole, func(r rune) bool { return r == '.' || r == ',' })
		if len(groups) < 2 || len(groups[0]) > 3 || strings.HasPrefix(whole, ".") || strings.HasPrefix(whole, ",") {
			return 0, model.ErrInvalid
		}
		for _, g := range groups[1:] {
			if len(g) != 3 {
				return 0, model.ErrInvalid
			}
		}
		whole = strings.Join(groups, "")
	}
	if whole == "" {
		whole = "0"
	}
	for _, part := range []string{whole, frac} {
		for _, r := range part {
			if r < '0' || r > '9' {
				return 0, model.ErrInvalid
			}
		}
	}
	if len(whole) > 15 {
		return 0, model.ErrInvalid
	}
	units, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, model.ErrInvalid
	}
	cents := int64(0)
	if frac != "" {
		c, _ := strconv.ParseInt(frac, 10, 64)
		if len(frac) == 1 {
			c *= 10
		}
		cents = c
	}
	v := units*100 + cents
	if v > MaxValueCents {
		return 0, model.ErrInvalid
	}
	return v, nil
}
