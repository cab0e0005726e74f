package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"masteria/app/model"
)

// policyQueries are the contact policy's (queries/policy.sql).
type policyQueries struct {
	PolicySettings      *sqlx.Stmt `query:"policy-settings"`
	PolicySettingsSave  *sqlx.Stmt `query:"policy-settings-save"`
	PolicyContact       *sqlx.Stmt `query:"policy-contact"`
	PolicyLock          *sqlx.Stmt `query:"policy-lock"`
	AutomatedSendInsert *sqlx.Stmt `query:"automated-send-insert"`
	SMSSendInsert       *sqlx.Stmt `query:"sms-send-insert"`
	SMSSendConflict     *sqlx.Stmt `query:"sms-send-conflict"`
	AutomatedSendsOld   *sqlx.Stmt `query:"automated-sends-delete-old"`
	SMSSendsOld         *sqlx.Stmt `query:"sms-sends-delete-old"`
}

// PolicySettings returns an org's contact policy, the defaults when it never saved one.
func (s *Store) PolicySettings(ctx context.Context, orgID int64) (model.PolicySettings, error) {
	out := model.DefaultPolicySettings
	if err := s.get(ctx, s.q.PolicySettings, &out, orgID); err != nil && !errors.Is(err, model.ErrNotFound) {
		return out, fmt.Errorf("store: policy settings: %w", err)
	}
	return out, nil
}

// SavePolicySettings stores an org's contact policy.
func (s *Store) SavePolicySettings(ctx context.Context, orgID int64, p model.PolicySettings) error {
	if _, err := s.exec(ctx, s.q.PolicySettingsSave, orgID, p.DailyCap, p.QuietStart, p.QuietEnd, p.SMSDedupHours); err != nil {
		return fmt.Errorf("store: save policy settings: %w", err)
	}
	return nil
}

// PolicyContact is what a send to one contact is checked against.
type PolicyContact struct {
	OptedOut pq.StringArray `db:"opted_out"`
	Phone    *string        `db:"phone"`
	Zone     string         `db:"zone"`     // the contact's own time zone, if it has one
	OrgZone  string         `db:"org_zone"` // the org's
	model.PolicySettings
	Recent pq.Int64Array `db:"recent"` // automated sends since the time asked, newest first (µs since 1970)
}

// RecentSends is the times of Recent.
func (p PolicyContact) RecentSends() []time.Time {
	out := make([]time.Time, len(p.Recent))
	for i, us := range p.Recent {
		out[i] = time.UnixMicro(us)
	}
	return out
}

// PolicyContact reads one contact of the org for the policy, with its automated sends
// since since.
func (s *Store) PolicyContact(ctx context.Context, orgID, contactID int64, since time.Time) (PolicyContact, error) {
	var out PolicyContact
	if err := s.get(ctx, s.q.PolicyContact, &out, orgID, contactID, since); err != nil {
		return out, fmt.Errorf("store: policy contact %d: %w", contactID, err)
	}
	return out, nil
}

// LockPolicyContact holds, until the transaction ends, the right to count a contact's
// automated sends and record one more.
func (s *Store) LockPolicyContact(ctx context.Context, orgID, contactID int64) error {
	if s.tx == nil {
		return errors.New("store: lock policy contact: outside a transaction")
	}
	if _, err := s.exec(ctx, s.q.PolicyLock, orgID, contactID); err != nil {
		return fmt.Errorf("store: lock policy contact: %w", err)
	}
	return nil
}

// AutomatedSend is one automated send, as the frequency cap counts it.
type AutomatedSend struct {
	OrgID, ContactID int64
	Channel          string
	Source           string
	SourceID         int64
	SourceName       string
	At               time.Time
}

// InsertAutomatedSend records an automated send toward the contact's cap.
func (s *Store) InsertAutomatedSend(ctx context.Context, a AutomatedSend) error {
	if _, err := s.exec(ctx, s.q.AutomatedSendInsert, a.OrgID, a.ContactID, a.Channel, a.Source, a.SourceID, a.SourceName, a.At); err != nil {
		return fmt.Errorf("store: automated send: %w", err)
	}
	return nil
}

// SMSSend is an SMS's slot in the duplication guard.
type SMSSend struct {
	OrgID      int64
	Phone      string
	TextHash   []byte
	At         time.Time
	Hours      int // the window
	ContactID  int64
	Source     string
	SourceID   int64
	SourceName string
}

// SMSConflict is the earlier send an SMS collided with.
type SMSConflict struct {
	SentAt     time.Time `db:"sent_at"`
	Source     string    `db:"source"`
	SourceID   int64     `db:"source_id"`
	SourceName string    `db:"source_name"`
}

// TakeSMSSlot records an SMS in the duplication guard. When the same text went to the same
// phone within the window (a constraint of the table, so it holds for concurrent
// transactions and every instance), nothing is recorded and the earlier send is returned
// with ok false.
func (s *Store) TakeSMSSlot(ctx context.Context, m SMSSend) (conflict SMSConflict, ok bool, err error) {
	var contact *int64
	if m.ContactID != 0 {
		contact = &m.ContactID
	}
	var id int64
	err = s.get(ctx, s.q.SMSSendInsert, &id, m.OrgID, m.Phone, m.TextHash, m.At, m.Hours, contact, m.Source, m.SourceID, m.SourceName)
	if err == nil {
		return conflict, true, nil
	}
	if !errors.Is(err, model.ErrNotFound) {
		return conflict, false, fmt.Errorf("store: sms slot: %w", err)
	}
	if err := s.get(ctx, s.q.SMSSendConflict, &conflict, m.OrgID, m.Phone, m.TextHash, m.At, m.Hours); err != nil {
		return conflict, false, fmt.Errorf("store: sms slot conflict: %w", err)
	}
	return conflict, false, nil
}

// DeleteOldPolicySends forgets the automated sends the cap no longer counts and the SMS
// slots whose window has closed; it returns how many rows went.
func (s *Store) DeleteOldPolicySends(ctx context.Context) (int64, error) {
	a, err := s.exec(ctx, s.q.AutomatedSendsOld)
	if err != nil {
		return 0, fmt.Errorf("store: delete old automated sends: %w", err)
	}
	b, err := s.exec(ctx, s.q.SMSSendsOld)
	if err != nil {
		return 0, fmt.Errorf("store: delete old sms sends: %w", err)
	}
	return a + b, nil
}
