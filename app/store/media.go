package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jmoiron/sqlx"

	"masteria/app/model"
)

// mediaQueries are the queries of stored files and message templates.
type mediaQueries struct {
	MediaInsert       *sqlx.Stmt `query:"media-insert"`
	MediaByID         *sqlx.Stmt `query:"media-by-id"`
	MediaByHash       *sqlx.Stmt `query:"media-by-hash"`
	MediaByIDForLink  *sqlx.Stmt `query:"media-by-id-for-link"`
	MediaDelete       *sqlx.Stmt `query:"media-delete"`
	MessageAddContent *sqlx.Stmt `query:"message-add-content"`

	TemplateUpsert      *sqlx.Stmt `query:"template-upsert"`
	TemplateSetStatus   *sqlx.Stmt `query:"template-set-status"`
	TemplatesDeleteGone *sqlx.Stmt `query:"templates-delete-gone"`
	Templates           *sqlx.Stmt `query:"templates"`
	TemplateByID        *sqlx.Stmt `query:"template-by-id"`
	TemplateByName      *sqlx.Stmt `query:"template-by-name"`
	TemplateSyncSet     *sqlx.Stmt `query:"template-sync-set"`
	TemplateSync        *sqlx.Stmt `query:"template-sync"`
	CloudChannels       *sqlx.Stmt `query:"cloud-channels"`
}

// CreateMedia records a stored file.
func (s *Store) CreateMedia(ctx context.Context, m model.Media) (model.Media, error) {
	var out model.Media
	if err := s.get(ctx, s.q.MediaInsert, &out, m.OrgID, m.Key, m.MIME, m.Size, m.Filename, m.SHA256); err != nil {
		return out, fmt.Errorf("store: create media: %w", err)
	}
	return out, nil
}

// Media returns one file of an org.
func (s *Store) Media(ctx context.Context, orgID, id int64) (model.Media, error) {
	var out model.Media
	if err := s.get(ctx, s.q.MediaByID, &out, orgID, id); err != nil {
		return out, fmt.Errorf("store: media %d: %w", id, err)
	}
	return out, nil
}

// MediaByHash returns the org's file with these bytes, if it has one.
func (s *Store) MediaByHash(ctx context.Context, orgID int64, sha string, size int64) (model.Media, error) {
	var out model.Media
	if err := s.get(ctx, s.q.MediaByHash, &out, orgID, sha, size); err != nil {
		return out, fmt.Errorf("store: media by hash: %w", err)
	}
	return out, nil
}

// MediaForLink returns a file by id alone, for a signed link whose signature the caller
// then checks with the file's org key.
func (s *Store) MediaForLink(ctx context.Context, id int64) (model.Media, error) {
	var out model.Media
	if err := s.get(ctx, s.q.MediaByIDForLink, &out, id); err != nil {
		return out, fmt.Errorf("store: media %d: %w", id, err)
	}
	return out, nil
}

// DeleteMedia forgets a file's row (its blob is the caller's to delete).
func (s *Store) DeleteMedia(ctx context.Context, orgID, id int64) error {
	if _, err := s.exec(ctx, s.q.MediaDelete, orgID, id); err != nil {
		return fmt.Errorf("store: delete media %d: %w", id, err)
	}
	return nil
}

// AddMessageContent merges the keys of v into a message's content.
func (s *Store) AddMessageContent(ctx context.Context, orgID, messageID int64, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if _, err := s.exec(ctx, s.q.MessageAddContent, orgID, messageID, b); err != nil {
		return fmt.Errorf("store: message content: %w", err)
	}
	return nil
}
