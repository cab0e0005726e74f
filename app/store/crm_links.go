package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"masteria/app/model"
)

// crmLinkQueries read across contacts, conversations and leads (queries/crm_links.sql).
type crmLinkQueries struct {
	ContactConversations *sqlx.Stmt `query:"contact-conversations"`
	ContactTimeline      *sqlx.Stmt `query:"contact-timeline"`
	OrgSetup             *sqlx.Stmt `query:"org-setup"`
}

// OrgSetup is what an org has done with the product, for the home page's checklist.
type OrgSetup struct {
	Channel      bool `db:"channel"`
	Contacts     bool `db:"contacts"`
	FirstMessage bool `db:"first_message"`
}

// Setup reads an org's OrgSetup.
func (s *Store) Setup(ctx context.Context, orgID int64) (OrgSetup, error) {
	var out OrgSetup
	if err := s.get(ctx, s.q.OrgSetup, &out, orgID); err != nil {
		return out, fmt.Errorf("store: org setup: %w", err)
	}
	return out, nil
}

// ContactConversations lists a contact's conversations, the latest first; onlyVisible > 0
// keeps those an agent restricted to their own and unassigned ones may see.
func (s *Store) ContactConversations(ctx context.Context, orgID, contactID, onlyVisible int64) ([]model.Conversation, error) {
	var out []model.Conversation
	if err := s.sel(ctx, s.q.ContactConversations, &out, orgID, contactID, onlyVisible); err != nil {
		return nil, fmt.Errorf("store: contact conversations: %w", err)
	}
	return out, nil
}

// ContactTimeline returns up to limit lines of a contact's timeline, newest first, after
// the line the cursor names (the newest page for a zero cursor); conversations and notes
// only where onlyVisible (a member id, 0 for everyone) may see them.
func (s *Store) ContactTimeline(ctx context.Context, orgID, contactID int64, after model.TimelineCursor, limit int, onlyVisible int64) ([]model.ContactEvent, error) {
	var at *time.Time
	if !after.At.IsZero() {
		at = &after.At
	}
	var out []model.ContactEvent
	if err := s.sel(ctx, s.q.ContactTimeline, &out, orgID, contactID, at, limit, onlyVisible, after.Source, after.ID); err != nil {
		return nil, fmt.Errorf("store: contact timeline: %w", err)
	}
	return out, nil
}
