package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"masteria/app/model"
)

// mergeQueries are the queries that merge two contacts (queries/merge.sql).
type mergeQueries struct {
	MergeLock          *sqlx.Stmt `query:"merge-lock"`
	MergePreview       *sqlx.Stmt `query:"merge-preview"`
	MergeMessages      *sqlx.Stmt `query:"merge-messages"`
	MergeFold          *sqlx.Stmt `query:"merge-fold-conversations"`
	MergeConversations *sqlx.Stmt `query:"merge-conversations"`
	MergeLeads         *sqlx.Stmt `query:"merge-leads"`
	MergeEvents        *sqlx.Stmt `query:"merge-events"`
	MergeIdentities    *sqlx.Stmt `query:"merge-identities"`
	MergeDeleteOther   *sqlx.Stmt `query:"merge-delete-other"`
	MergeFillKept      *sqlx.Stmt `query:"merge-fill-kept"`
}

// MergePreview counts what a merge moves from one contact to another.
type MergePreview struct {
	Conversations int64 `db:"conversations" json:"conversations"`
	Leads         int64 `db:"leads" json:"leads"`
	Identities    int64 `db:"identities" json:"identities"`
	Events        int64 `db:"events" json:"timeline"`
	Tags          int64 `db:"tags" json:"tags"`
}

// PreviewMerge counts what would move from contact otherID to keepID; ErrNotFound when
// either is not the org's.
func (s *Store) PreviewMerge(ctx context.Context, orgID, keepID, otherID int64) (MergePreview, error) {
	var p MergePreview
	if err := s.get(ctx, s.q.MergePreview, &p, orgID, otherID, keepID); err != nil {
		return p, fmt.Errorf("store: merge preview: %w", err)
	}
	return p, nil
}

// MergedAway is the contact a merge deleted, as the timeline names it.
type MergedAway struct {
	Name  string
	Phone *string
}

// MergeContacts moves everything of contact otherID to keepID and deletes otherID. It must
// run inside a transaction (Tx); both contacts must be the org's, else ErrNotFound.
func (s *Store) MergeContacts(ctx context.Context, orgID, keepID, otherID int64) (MergePreview, MergedAway, error) {
	if s.tx == nil {
		return MergePreview{}, MergedAway{}, fmt.Errorf("store: merge contacts outside a transaction")
	}
	var ids []int64
	if err := s.sel(ctx, s.q.MergeLock, &ids, orgID, keepID, otherID); err != nil {
		return MergePreview{}, MergedAway{}, fmt.Errorf("store: merge lock: %w", err)
	}
	if len(ids) != 2 {
		return MergePreview{}, MergedAway{}, fmt.Errorf("store: merge contacts: %w", model.ErrNotFound)
	}
	moved, err := s.PreviewMerge(ctx, orgID, keepID, otherID)
	if err != nil {
		return moved, MergedAway{}, err
	}
	for _, step := range []struct {
		name string
		st   *sqlx.Stmt
	}{
		{"messages", s.q.MergeMessages}, {"conversations", s.q.MergeFold}, {"conversations", s.q.MergeConversations},
		{"leads", s.q.MergeLeads}, {"timeline", s.q.MergeEvents}, {"identities", s.q.MergeIdentities},
	} {
		if _, err := s.exec(ctx, step.st, orgID, keepID, otherID); err != nil {
			return moved, MergedAway{}, fmt.Errorf("store: merge %s: %w", step.name, err)
		}
	}
	var other struct {
		Name         string         `db:"name"`
		Phone        *string        `db:"phone"`
		Email        *string        `db:"email"`
		OwnerID      *int64         `db:"owner_id"`
		Tags         pq.Int64Array  `db:"tag_ids"`
		OptedOut     pq.StringArray `db:"opted_out"`
		Attributes   []byte         `db:"attributes"`
		LastActivity time.Time      `db:"last_activity_at"`
	}
	if err := s.get(ctx, s.q.MergeDeleteOther, &other, orgID, keepID, otherID); err != nil {
		return moved, MergedAway{}, fmt.Errorf("store: merge delete: %w", err)
	}
	attrs := json.RawMessage(other.Attributes)
	if len(attrs) == 0 {
		attrs = json.RawMessage("{}")
	}
	if _, err := s.exec(ctx, s.q.MergeFillKept, orgID, keepID, otherID, other.Name, other.Phone, other.Email, other.OwnerID,
		other.Tags, other.OptedOut, []byte(attrs), other.LastActivity); err != nil {
		return moved, MergedAway{}, fmt.Errorf("store: merge fill: %w", err)
	}
	return moved, MergedAway{Name: other.Name, Phone: other.Phone}, nil
}
