package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"masteria/app/model"
)

// voiceDialQueries start calls (queries/voice_dial.sql).
type voiceDialQueries struct {
	DialContext *sqlx.Stmt `query:"dial-context"`
	DialLock    *sqlx.Stmt `query:"dial-lock"`
	DialReserve *sqlx.Stmt `query:"dial-reserve"`
	DialConfirm *sqlx.Stmt `query:"dial-confirm"`
	DialDrop    *sqlx.Stmt `query:"dial-drop"`
	CallsLive   *sqlx.Stmt `query:"calls-live"`
	DialNumbers *sqlx.Stmt `query:"dial-numbers"`
}

// DialNumber is a number calls can go out from.
type DialNumber struct {
	ID              int64  `db:"id"`
	PhoneNumber     string `db:"phone_number"`
	Nickname        string `db:"nickname"`
	OutboundAgentID string `db:"outbound_agent_id"`
}

// DialNumbers lists the org's numbers calls can go out from, oldest first (the first is
// the default).
func (s *Store) DialNumbers(ctx context.Context, orgID int64) ([]DialNumber, error) {
	var out []DialNumber
	if err := s.sel(ctx, s.q.DialNumbers, &out, orgID); err != nil {
		return nil, fmt.Errorf("store: dial numbers: %w", err)
	}
	return out, nil
}

// DialContext is what starting a call needs to know; nil pointers are what the org does not
// have (no such contact, lead, conversation, ready number or Retell account).
type DialContext struct {
	ContactID       *int64          `db:"contact_id"`
	Name            *string         `db:"name"`
	Phone           *string         `db:"phone"`
	Email           *string         `db:"email"`
	Attributes      json.RawMessage `db:"attributes"`
	OptedOut        *bool           `db:"opted_out"`
	LeadID          *int64          `db:"lead_id"`
	LeadTitle       *string         `db:"lead_title"`
	LeadValueCents  *int64          `db:"lead_value_cents"`
	Stage           *string         `db:"stage"`
	Pipeline        *string         `db:"pipeline"`
	Currency        *string         `db:"currency"`
	ConversationID  *int64          `db:"conversation_id"`
	NumberID        *int64          `db:"number_id"`
	FromNumber      *string         `db:"from_number"`
	OutboundAgentID *string         `db:"outbound_agent_id"`
	AccountID       *int64          `db:"account_id"`
	MaxConcurrent   *int            `db:"max_concurrent"`
	CallHoursStart  *int            `db:"call_hours_start"`
	CallHoursEnd    *int            `db:"call_hours_end"`
	CallDays        *int            `db:"call_days"`
	OrgZone         string          `db:"org_zone"`
}

// DialContext reads what a call to a contact (or to a lead's or conversation's contact)
// needs, in one round trip; see dial-context.
func (s *Store) DialContext(ctx context.Context, orgID, contactID, leadID, convID, numberID int64) (DialContext, error) {
	var d DialContext
	if err := s.get(ctx, s.q.DialContext, &d, orgID, contactID, leadID, convID, numberID); err != nil {
		return d, fmt.Errorf("store: dial context: %w", err)
	}
	return d, nil
}

// CallReservation is the row of a call about to be started.
type CallReservation struct {
	Placeholder                                   string // the call id until Retell gives one
	From, To, AgentID                             string
	ContactID, LeadID, ConversationID, CampaignID *int64
	NumberID                                      int64
	Metadata, Variables                           json.RawMessage
	StartedBy                                     *int64
	Max                                           int // the org's limit of calls at once
}

// ReserveCall writes the call's row unless the org already has Max calls live, in which
// case it returns false. Starts of one org take turns, so the last slot goes to one.
func (s *Store) ReserveCall(ctx context.Context, orgID int64, r CallReservation) (int64, bool, error) {
	var id int64
	err := s.Tx(ctx, func(tx *Store) error {
		if _, err := tx.exec(ctx, tx.q.DialLock, orgID); err != nil {
			return err
		}
		return tx.get(ctx, tx.q.DialReserve, &id, orgID, r.Placeholder, r.From, r.To, r.AgentID, r.ContactID, r.LeadID,
			r.ConversationID, r.CampaignID, r.NumberID, jsonOr(r.Metadata, "{}"), jsonOr(r.Variables, "{}"), r.StartedBy, r.Max)
	})
	if errors.Is(err, model.ErrNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("store: reserve call: %w", err)
	}
	return id, true, nil
}

// ConfirmCall gives a reserved call Retell's id and runs then in the same transaction;
// false when an event of the call came first and made its own row (the reservation is
// then dropped, and then is not run).
func (s *Store) ConfirmCall(ctx context.Context, orgID, id int64, callID, agentID string, then func(tx *Store) error) (bool, error) {
	mine := false
	err := s.Tx(ctx, func(tx *Store) error {
		var got int64
		err := tx.get(ctx, tx.q.DialConfirm, &got, orgID, id, callID, agentID)
		if errors.Is(err, model.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		mine = true
		return then(tx)
	})
	if isUnique(err) || (err == nil && !mine) {
		return false, s.DropCall(ctx, orgID, id)
	}
	if err != nil {
		return false, fmt.Errorf("store: confirm call: %w", err)
	}
	return true, nil
}

// DropCall deletes a reservation whose call was not started.
func (s *Store) DropCall(ctx context.Context, orgID, id int64) error {
	if _, err := s.exec(ctx, s.q.DialDrop, orgID, id); err != nil {
		return fmt.Errorf("store: drop call: %w", err)
	}
	return nil
}

// CallsLive counts the org's calls waiting to connect or connected, or those of one
// campaign (campaignID > 0).
func (s *Store) CallsLive(ctx context.Context, orgID, campaignID int64) (int, error) {
	var n int
	if err := s.get(ctx, s.q.CallsLive, &n, orgID, campaignID); err != nil {
		return 0, fmt.Errorf("store: calls live: %w", err)
	}
	return n, nil
}

// SetCallHours sets the org's calling hours.
func (s *Store) SetCallHours(ctx context.Context, orgID int64, start, end, days int) error {
	k, err := s.exec(ctx, s.q.VoiceAccountSetHours, orgID, start, end, days)
	if err != nil {
		return fmt.Errorf("store: call hours: %w", err)
	}
	if k == 0 {
		return fmt.Errorf("store: call hours: %w", model.ErrNotFound)
	}
	return nil
}

// CallByRetellID returns the org's call by Retell's id.
func (s *Store) CallByRetellID(ctx context.Context, orgID int64, callID string) (model.Call, error) {
	b := newBuilder(s.fragment("call-columns"), orgID)
	b.where("c.call_id = ?", callID)
	var c model.Call
	if err := notFound(sqlx.GetContext(ctx, s.queryer(), &c, b.String(), b.args...)); err != nil {
		return c, fmt.Errorf("store: call %s: %w", callID, err)
	}
	return c, nil
}
