package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"masteria/app/model"
)

// ReplaceTemplates stores a channel's templates as the provider listed them at syncedAt
// and drops the ones it no longer lists. Run it inside a transaction.
func (s *Store) ReplaceTemplates(ctx context.Context, orgID, channelID int64, list []model.Template, syncedAt time.Time) error {
	for _, t := range list {
		comps := t.Components
		if len(comps) == 0 {
			comps = []byte("[]")
		}
		if _, err := s.exec(ctx, s.q.TemplateUpsert, orgID, channelID, t.ProviderID, t.Name, t.Language, t.Category, t.Status, comps, syncedAt); err != nil {
			return fmt.Errorf("store: template %s/%s: %w", t.Name, t.Language, err)
		}
	}
	if _, err := s.exec(ctx, s.q.TemplatesDeleteGone, orgID, channelID, syncedAt); err != nil {
		return fmt.Errorf("store: templates gone: %w", err)
	}
	return nil
}

// Templates lists a channel's templates by name.
func (s *Store) Templates(ctx context.Context, orgID, channelID int64) ([]model.Template, error) {
	var out []model.Template
	if err := s.sel(ctx, s.q.Templates, &out, orgID, channelID); err != nil {
		return nil, fmt.Errorf("store: templates: %w", err)
	}
	return out, nil
}

// Template returns one template of a channel.
func (s *Store) Template(ctx context.Context, orgID, channelID, id int64) (model.Template, error) {
	var out model.Template
	if err := s.get(ctx, s.q.TemplateByID, &out, orgID, channelID, id); err != nil {
		return out, fmt.Errorf("store: template %d: %w", id, err)
	}
	return out, nil
}

// TemplateByName returns a channel's template of a name and language.
func (s *Store) TemplateByName(ctx context.Context, orgID, channelID int64, name, language string) (model.Template, error) {
	var out model.Template
	if err := s.get(ctx, s.q.TemplateByName, &out, orgID, channelID, name, language); err != nil {
		return out, fmt.Errorf("store: template %s/%s: %w", name, language, err)
	}
	return out, nil
}

// SetTemplateSync records a sync: its time when it worked (nil keeps the last good one)
// and its error, empty when it worked.
func (s *Store) SetTemplateSync(ctx context.Context, orgID, channelID int64, at *time.Time, syncErr string) error {
	if _, err := s.exec(ctx, s.q.TemplateSyncSet, orgID, channelID, at, syncErr); err != nil {
		return fmt.Errorf("store: template sync: %w", err)
	}
	return nil
}

// TemplateSync returns a channel's last template sync; the zero value when none ran.
func (s *Store) TemplateSync(ctx context.Context, orgID, channelID int64) (model.TemplateSync, error) {
	var out model.TemplateSync
	err := s.get(ctx, s.q.TemplateSync, &out, orgID, channelID)
	if errors.Is(err, model.ErrNotFound) {
		return out, nil
	}
	if err != nil {
		return out, fmt.Errorf("store: template sync: %w", err)
	}
	return out, nil
}

// ChannelRef names a channel of some org.
type ChannelRef struct {
	OrgID int64 `db:"org_id"`
	ID    int64 `db:"id"`
}

// CloudChannels lists every org's WhatsApp Cloud channels that are not disconnected.
func (s *Store) CloudChannels(ctx context.Context) ([]ChannelRef, error) {
	var out []ChannelRef
	if err := s.sel(ctx, s.q.CloudChannels, &out); err != nil {
		return nil, fmt.Errorf("store: cloud channels: %w", err)
	}
	return out, nil
}

// SetTemplateStatus records a template's new status from the provider's webhook.
func (s *Store) SetTemplateStatus(ctx context.Context, orgID, channelID int64, name, language, status string) error {
	if _, err := s.exec(ctx, s.q.TemplateSetStatus, orgID, channelID, name, language, status); err != nil {
		return fmt.Errorf("store: template status: %w", err)
	}
	return nil
}
