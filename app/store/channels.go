package store

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"masteria/app/model"
)

// channelQueries change a channel's connection: its test result, its disconnection.
type channelQueries struct {
	ChannelSetStatus  *sqlx.Stmt `query:"channel-set-status"`
	ChannelDisconnect *sqlx.Stmt `query:"channel-disconnect"`
}

// SetChannelStatus records a channel's test: connected, or error with lastError. A
// disconnected channel stays so (false).
func (s *Store) SetChannelStatus(ctx context.Context, orgID, id int64, status, lastError string) (bool, error) {
	n, err := s.exec(ctx, s.q.ChannelSetStatus, orgID, id, status, lastError)
	if err != nil {
		return false, fmt.Errorf("store: channel status: %w", err)
	}
	return n == 1, nil
}

// DisconnectChannel marks a channel disconnected and drops its secrets; model.ErrNotFound
// when it is not the org's or already disconnected.
func (s *Store) DisconnectChannel(ctx context.Context, orgID, id int64) error {
	n, err := s.exec(ctx, s.q.ChannelDisconnect, orgID, id)
	if err != nil {
		return fmt.Errorf("store: disconnect channel: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("store: disconnect channel: %w", model.ErrNotFound)
	}
	return nil
}
