package board

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"masteria/app/crm/rank"
	"masteria/app/events"
	"masteria/app/model"
	"masteria/app/phone"
	"masteria/app/store"
)

// Board is one pipeline as the board page shows it.
type Board struct {
	Pipeline  model.Pipeline
	Pipelines []model.Pipeline // every pipeline of the org, for the picker (without counts)
	Stages    []model.Stage
	Cards     map[int64][]model.Lead     // by stage id, in order; at most PerStage each
	More      map[int64]bool             // the stage has more cards than shown
	Totals    map[int64]model.StageTotal // by stage id; a stage without leads has none
}

// Board returns the first cards of each stage of a pipeline, with every stage's count and
// value, as filtered by f. Pipeline 0 is the org's first; an org without pipelines gets an
// empty Board (no Pipelines).
func (s *Service) Board(ctx context.Context, orgID, pipelineID int64, f model.LeadFilter) (Board, error) {
	b := Board{Cards: map[int64][]model.Lead{}, More: map[int64]bool{}, Totals: map[int64]model.StageTotal{}}
	var err error
	if b.Pipelines, err = s.st.PipelineList(ctx, orgID); err != nil {
		return b, err
	}
	if pipelineID == 0 { // the first pipeline, if the org has one yet
		if len(b.Pipelines) == 0 {
			return b, nil
		}
		pipelineID = b.Pipelines[0].ID
	}
	found := false
	for _, p := range b.Pipelines {
		if p.ID == pipelineID {
			b.Pipeline, found = p, true
		}
	}
	if !found {
		return b, model.ErrNotFound
	}
	if b.Stages, err = s.st.Stages(ctx, orgID, pipelineID); err != nil {
		return b, err
	}
	cards, err := s.st.BoardCards(ctx, orgID, pipelineID, f, s.PerStage+1)
	if err != nil {
		return b, err
	}
	for _, l := range cards {
		if len(b.Cards[l.StageID]) == s.PerStage {
			b.More[l.StageID] = true
			continue
		}
		b.Cards[l.StageID] = append(b.Cards[l.StageID], l)
	}
	totals, err := s.st.BoardTotals(ctx, orgID, pipelineID, f)
	if err != nil {
		return b, err
	}
	for _, t := range totals {
		b.Totals[t.StageID] = t
	}
	return b, nil
}

// StageCards returns the next PerStage cards of a stage after key ("" from the top), and
// whether more follow.
func (s *Service) StageCards(ctx context.Context, orgID, stageID int64, f model.LeadFilter, after string) ([]model.Lead, bool, error) {
	if after != "" && !rank.Valid(after) {
		return nil, false, model.ErrInvalid
	}
	ls, err := s.st.StageCards(ctx, orgID, stageID, f, after, s.PerStage+1)
	if err != nil {
		return nil, false, err
	}
	if len(ls) > s.PerStage {
		return ls[:s.PerStage], true, nil
	}
	return ls, false, nil
}

// Totals returns the count and value of each stage's filtered leads, by stage id.
func (s *Service) Totals(ctx context.Context, orgID, pipelineID int64, f model.LeadFilter) (map[int64]model.StageTotal, error) {
	ts, err := s.st.BoardTotals(ctx, orgID, pipelineID, f)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]model.StageTotal, len(ts))
	for _, t := range ts {
		out[t.StageID] = t
	}
	return out, nil
}

// Lead returns one lead of an org.
func (s *Service) Lead(ctx context.Context, orgID, id int64) (model.Lead, error) {
	return s.st.Lead(ctx, orgID, id)
}

// LeadCard returns a lead as a board filtered by f shows it; model.ErrNotFound when the
// filter hides it.
func (s *Service) LeadCard(ctx context.Context, orgID, id int64, f model.LeadFilter) (model.Lead, error) {
	return s.st.LeadFiltered(ctx, orgID, id, f)
}

// LeadMoves lists a lead's last changes of stage, newest first.
func (s *Service) LeadMoves(ctx context.Context, orgID, id int64) ([]model.LeadMove, error) {
	return s.st.LeadMoves(ctx, orgID, id, 50)
}

// SearchContacts finds a few contacts by name, phone or email for the lead form.
func (s *Service) SearchContacts(ctx context.Context, orgID int64, q string) ([]model.BoardContact, error) {
	q = model.CleanSearch(q)
	if q == "" {
		return nil, nil
	}
	return s.st.SearchBoardContacts(ctx, orgID, q, 8)
}

// LeadInput is what the lead forms send, as typed.
type LeadInput struct {
	// StageID places a new lead (and so picks its pipeline); on an update, a stage other
	// than the lead's moves it there (to the top), 0 leaves it.
	StageID int64
	Title   string
	Value   string // money as typed; "" is zero
	OwnerID string // a member's user id; "" is nobody
	Source  string
	Notes   string
	// The contact of a new lead: an existing one by id, or else one found or created by
	// phone (as typed; read in the org's country unless it starts with +), with this name.
	ContactID    string
	ContactName  string
	ContactPhone string
}

// lead is the checked form of a LeadInput.
type lead struct {
	title, source, notes string
	value                int64
	owner                *int64
	contactID            int64
	contactName          string
	contactPhone         *string
}

// check validates the fields of in; with contact it also checks the contact fields.
// Owner and contact ids are looked up in the org.
func (s *Service) check(ctx context.Context, orgID int64, in LeadInput, contact bool) (lead, error) {
	var out lead
	v := model.NewValidationError()
	var ok bool
	if out.title, ok = cleanText(in.Title, MaxTitle); !ok {
		v.Add("title", "board.error.title")
	}
	if strings.TrimSpace(in.Value) != "" {
		val, err := ParseMoney(in.Value)
		switch {
		case err != nil && strings.HasPrefix(strings.TrimSpace(in.Value), "-"):
			v.Add("value", "board.error.value_negative")
		case err != nil:
			v.Add("value", "board.error.value")
		default:
			out.value = val
		}
	}
	if in.OwnerID != "" {
		uid, perr := strconv.ParseInt(in.OwnerID, 10, 64)
		if perr != nil || uid <= 0 {
			v.Add("owner", "board.error.owner")
		} else {
			_, err := s.st.Member(ctx, orgID, uid)
			switch {
			case err == nil:
				out.owner = &uid
			case errors.Is(err, model.ErrNotFound):
				v.Add("owner", "board.error.owner")
			default:
				return out, err
			}
		}
	}
	out.source = strings.TrimSpace(in.Source)
	if !within(out.source, MaxSource) {
		v.Add("source", "board.error.too_long")
	}
	out.notes = strings.TrimSpace(in.Notes)
	if !within(out.notes, MaxNotes) {
		v.Add("notes", "board.error.too_long")
	}
	if contact {
		if err := s.checkContact(ctx, orgID, in, &out, v); err != nil {
			return out, err
		}
	}
	return out, v.Err()
}

func (s *Service) checkContact(ctx context.Context, orgID int64, in LeadInput, out *lead, v *model.ValidationError) error {
	if in.ContactID != "" {
		id, err := strconv.ParseInt(in.ContactID, 10, 64)
		if err != nil || id <= 0 {
			v.Add("contact", "board.error.contact_unknown")
			return nil
		}
		c, err := s.st.BoardContact(ctx, orgID, id)
		if errors.Is(err, model.ErrNotFound) {
			v.Add("contact", "board.error.contact_unknown")
			return nil
		}
		if err != nil {
			return err
		}
		out.contactID, out.contactName = c.ID, c.Name
		return nil
	}
	name, ok := cleanText(in.ContactName, MaxContactName)
	if !ok {
		v.Add("contact_name", "board.error.contact_name")
	}
	out.contactName = name
	if p := strings.TrimSpace(in.ContactPhone); p != "" {
		org, err := s.st.Org(ctx, orgID)
		if err != nil {
			return err
		}
		e164, err := phone.Normalize(p, org.DefaultCountry)
		var pe *phone.Error
		switch {
		case errors.As(err, &pe):
			v.Add("contact_phone", "board.error.phone")
		case err != nil:
			return err
		default:
			out.contactPhone = &e164
		}
	}
	return nil
}

// CreateLead adds a lead at the top of its stage, with its contact: an existing one, or
// one found by phone or created.
func (s *Service) CreateLead(ctx context.Context, a model.Actor, in LeadInput) (model.Lead, error) {
	l, err := s.check(ctx, a.OrgID, in, true)
	if err != nil {
		return model.Lead{}, err
	}
	var id int64
	err = s.st.Tx(ctx, func(tx *store.Store) error {
		stage, err := tx.LockStage(ctx, a.OrgID, in.StageID)
		if err != nil {
			return err
		}
		contactID := l.contactID
		if contactID == 0 {
			if contactID, err = tx.LeadContact(ctx, a.OrgID, l.contactName, l.contactPhone); err != nil {
				return err
			}
		}
		key, after, before, err := s.gap(ctx, tx, a.OrgID, stage.ID, 0, 0, 0)
		if err != nil {
			return err
		}
		id, err = tx.CreateLead(ctx, model.Lead{OrgID: a.OrgID, PipelineID: stage.PipelineID, StageID: stage.ID, ContactID: contactID,
			Title: l.title, ValueCents: l.value, OwnerID: l.owner, Source: l.source, Notes: l.notes, Rank: key, CreatedBy: a.UserRef()})
		if err != nil {
			return err
		}
		if err := tx.AddLeadEvent(ctx, a.OrgID, contactID, "lead_created", a.UserRef(), map[string]any{
			"lead_id": id, "title": l.title, "to_name": stage.Name}); err != nil {
			return err
		}
		for _, h := range s.moved {
			if err := h(ctx, tx, a.OrgID, id, contactID, 0, stage.ID); err != nil {
				return err
			}
		}
		_, err = events.LeadCreated.Publish(ctx, tx, a.OrgID, events.LeadPlaced{LeadID: id, PipelineID: stage.PipelineID,
			StageID: stage.ID, AfterID: after, BeforeID: before, Rank: key})
		return err
	})
	if err != nil {
		return model.Lead{}, err
	}
	return s.st.Lead(ctx, a.OrgID, id)
}

// UpdateLead saves a lead's title, value, owner, source and notes; a StageID other than
// the lead's moves it to the top of that stage of the same pipeline.
func (s *Service) UpdateLead(ctx context.Context, a model.Actor, id int64, in LeadInput) (model.Lead, error) {
	l, err := s.check(ctx, a.OrgID, in, false)
	if err != nil {
		return model.Lead{}, err
	}
	err = s.st.Tx(ctx, func(tx *store.Store) error {
		cur, err := tx.LockLead(ctx, a.OrgID, id)
		if err != nil {
			return err
		}
		err = tx.UpdateLead(ctx, model.Lead{OrgID: a.OrgID, ID: id, Title: l.title, ValueCents: l.value, OwnerID: l.owner, Source: l.source, Notes: l.notes})
		if err != nil {
			return err
		}
		if in.StageID != 0 && in.StageID != cur.StageID {
			if _, err := s.move(ctx, tx, a, cur, MoveInput{StageID: in.StageID}); err != nil {
				return err
			}
		}
		_, err = events.LeadUpdated.Publish(ctx, tx, a.OrgID, events.LeadRef{LeadID: id, PipelineID: cur.PipelineID})
		return err
	})
	if err != nil {
		return model.Lead{}, err
	}
	return s.st.Lead(ctx, a.OrgID, id)
}

// DeleteLead deletes a lead. Agents may delete only the leads they own or created.
func (s *Service) DeleteLead(ctx context.Context, a model.Actor, id int64) error {
	return s.st.Tx(ctx, func(tx *store.Store) error {
		cur, err := tx.LockLead(ctx, a.OrgID, id)
		if err != nil {
			return err
		}
		if !a.MayDeleteLead(cur.OwnerID, cur.CreatedBy) {
			return model.ErrForbidden
		}
		full, err := tx.Lead(ctx, a.OrgID, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteLead(ctx, a.OrgID, id); err != nil {
			return err
		}
		return s.record(ctx, tx, a, "lead.deleted", full.Title,
			events.LeadDeleted.With(events.LeadGone{LeadID: id, PipelineID: cur.PipelineID, StageID: cur.StageID}))
	})
}

// MoveInput says where a card goes: a stage and the cards around it there.
type MoveInput struct {
	StageID int64
	// AfterID is the card that ends up just above the moved one, BeforeID the one just
	// below; 0 for none. When they no longer sit in the stage (someone moved them since),
	// the card goes after AfterID if it is still there, else before BeforeID, else to the
	// top of the stage.
	AfterID  int64
	BeforeID int64
}

// Placement is where a move put a lead: its new key and the leads around it.
type Placement struct {
	Lead     model.Lead
	FromID   int64 // the stage it left (the same for a move within a stage)
	AfterID  int64
	BeforeID int64
}

// MoveLead moves a lead to a stage of its pipeline, between two cards. A stage of another
// pipeline or org is model.ErrNotFound and changes nothing.
func (s *Service) MoveLead(ctx context.Context, a model.Actor, id int64, in MoveInput) (Placement, error) {
	var pl Placement
	err := s.st.Tx(ctx, func(tx *store.Store) error {
		cur, err := tx.LockLead(ctx, a.OrgID, id)
		if err != nil {
			return err
		}
		pl, err = s.move(ctx, tx, a, cur, in)
		return err
	})
	if err != nil {
		return pl, err
	}
	pl.Lead, err = s.st.Lead(ctx, a.OrgID, id)
	return pl, err
}

// MoveTx moves a lead to the top of a stage of its pipeline inside the caller's
// transaction, as a, which may be no user (the AI's moves): the change of stage is
// recorded and published like any other. A stage of another pipeline or org is
// model.ErrNotFound.
func (s *Service) MoveTx(ctx context.Context, tx *store.Store, a model.Actor, leadID, stageID int64) error {
	cur, err := tx.LockLead(ctx, a.OrgID, leadID)
	if err != nil {
		return err
	}
	_, err = s.move(ctx, tx, a, cur, MoveInput{StageID: stageID})
	return err
}

// StepLead moves a lead one card up (delta -1) or down (+1) in its stage; at either end
// it stays and ok is false.
func (s *Service) StepLead(ctx context.Context, a model.Actor, id int64, delta int) (pl Placement, ok bool, err error) {
	err = s.st.Tx(ctx, func(tx *store.Store) error {
		cur, err := tx.LockLead(ctx, a.OrgID, id)
		if err != nil {
			return err
		}
		if _, err := tx.LockStage(ctx, a.OrgID, cur.StageID); err != nil {
			return err
		}
		in := MoveInput{StageID: cur.StageID}
		if delta < 0 {
			prev, found, err := tx.PrevInStage(ctx, a.OrgID, cur.StageID, cur.Rank, cur.ID)
			if err != nil || !found {
				return err
			}
			in.BeforeID = prev.ID
		} else {
			next, found, err := tx.NextInStage(ctx, a.OrgID, cur.StageID, cur.Rank, cur.ID)
			if err != nil || !found {
				return err
			}
			in.AfterID = next.ID
		}
		ok = true
		pl, err = s.move(ctx, tx, a, cur, in)
		return err
	})
	if err != nil || !ok {
		return pl, ok, err
	}
	pl.Lead, err = s.st.Lead(ctx, a.OrgID, id)
	return pl, ok, err
}

// move places cur in tx: it locks the destination stage, reads its neighbours' keys, and
// writes the lead's new stage and key; a change of stage is recorded in lead_moves and on
// the contact's timeline. The event goes out in the same transaction.
func (s *Service) move(ctx context.Context, tx *store.Store, a model.Actor, cur model.LeadRow, in MoveInput) (Placement, error) {
	pl := Placement{FromID: cur.StageID}
	to, err := tx.LockStage(ctx, a.OrgID, in.StageID)
	if err != nil {
		return pl, err
	}
	if to.PipelineID != cur.PipelineID {
		return pl, model.ErrNotFound
	}
	key, after, before, err := s.gap(ctx, tx, a.OrgID, to.ID, cur.ID, in.AfterID, in.BeforeID)
	if err != nil {
		return pl, err
	}
	pl.AfterID, pl.BeforeID = after, before
	if err := tx.PlaceLead(ctx, a.OrgID, cur.ID, to.ID, key, a.UserRef()); err != nil {
		return pl, err
	}
	if to.ID != cur.StageID {
		from, err := tx.Stage(ctx, a.OrgID, cur.StageID)
		if err != nil {
			return pl, err
		}
		if err := tx.AddLeadMove(ctx, a.OrgID, cur.ID, from, to, a.UserRef()); err != nil {
			return pl, err
		}
		err = tx.AddLeadEvent(ctx, a.OrgID, cur.ContactID, "stage_changed", a.UserRef(), map[string]any{
			"lead_id": cur.ID, "from": from.ID, "to": to.ID, "from_name": from.Name, "to_name": to.Name})
		if err != nil {
			return pl, err
		}
		for _, h := range s.moved {
			if err := h(ctx, tx, a.OrgID, cur.ID, cur.ContactID, from.ID, to.ID); err != nil {
				return pl, err
			}
		}
	}
	_, err = events.LeadMoved.Publish(ctx, tx, a.OrgID, events.LeadMove{LeadID: cur.ID, PipelineID: cur.PipelineID,
		FromStageID: cur.StageID, ToStageID: to.ID, AfterID: after, BeforeID: before, Rank: key})
	return pl, err
}

// gap finds the key for lead (0: a new one) in a stage whose row the caller has locked:
// after afterID when it is in the stage, else before beforeID when it is, else at the top.
// It returns the key and the ids of the leads now above and below (0 for none).
func (s *Service) gap(ctx context.Context, tx *store.Store, orgID, stageID, lead, afterID, beforeID int64) (string, int64, int64, error) {
	var above, below model.Neighbour
	var err error
	placed := false
	if afterID != 0 && afterID != lead {
		above.Rank, err = tx.LeadRank(ctx, orgID, stageID, afterID)
		switch {
		case err == nil:
			above.ID, placed = afterID, true
			if below, _, err = tx.NextInStage(ctx, orgID, stageID, above.Rank, lead); err != nil {
				return "", 0, 0, err
			}
		case !errors.Is(err, model.ErrNotFound):
			return "", 0, 0, err
		default:
			above = model.Neighbour{}
		}
	}
	if !placed && beforeID != 0 && beforeID != lead {
		below.Rank, err = tx.LeadRank(ctx, orgID, stageID, beforeID)
		switch {
		case err == nil:
			below.ID, placed = beforeID, true
			if above, _, err = tx.PrevInStage(ctx, orgID, stageID, below.Rank, lead); err != nil {
				return "", 0, 0, err
			}
		case !errors.Is(err, model.ErrNotFound):
			return "", 0, 0, err
		default:
			below = model.Neighbour{}
		}
	}
	if !placed {
		above = model.Neighbour{}
		if below, _, err = tx.FirstInStage(ctx, orgID, stageID, lead); err != nil {
			return "", 0, 0, err
		}
	}
	key, err := rank.Between(above.Rank, below.Rank)
	if err != nil {
		return "", 0, 0, err
	}
	return key, above.ID, below.ID, nil
}
