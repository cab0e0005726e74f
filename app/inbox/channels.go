package inbox

import (
	"context"
	"errors"
	"fmt"
	"time"

	"masteria/app/channel"
	"masteria/app/events"
	"masteria/app/model"
	"masteria/app/store"
)

// ErrNoCheck is a channel kind whose provider offers nothing to test (the sandbox tests
// itself by sending).
var ErrNoCheck = errors.New("inbox: this kind of channel has no test")

// TestChannel asks the provider whether the channel's settings work and records the
// answer on the channel: connected, or error with the provider's words. It returns what
// the provider says of the number or account.
func (s *Service) TestChannel(ctx context.Context, a model.Actor, id int64) (string, error) {
	ch, err := s.st.Channel(ctx, a.OrgID, id)
	if err != nil {
		return "", err
	}
	if ch.Status == model.ChannelDisconnected {
		return "", ErrChannelDisconnected
	}
	c, err := s.build(ch)
	if err != nil {
		return "", err
	}
	checker, ok := c.(channel.Checker)
	if !ok {
		return "", ErrNoCheck
	}
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	about, checkErr := checker.Check(cctx)
	status, lastError := model.ChannelConnected, ""
	if checkErr != nil {
		status, lastError = model.ChannelError, providerWords(checkErr)
	}
	err = s.st.Tx(ctx, func(tx *store.Store) error {
		changed, err := tx.SetChannelStatus(ctx, a.OrgID, id, status, lastError)
		if err != nil || !changed {
			return err
		}
		_, err = events.ChannelStatus.Publish(ctx, tx, a.OrgID, events.ChannelState{ID: id, Status: status})
		return err
	})
	if err != nil {
		return "", err
	}
	if checkErr != nil {
		return "", &CheckError{Reason: lastError}
	}
	return about, nil
}

// CheckError is a provider's refusal of a channel's settings, in the provider's words.
type CheckError struct{ Reason string }

func (e *CheckError) Error() string { return "inbox: the provider refused the channel: " + e.Reason }

// providerWords is the part of a channel error worth showing to whoever set it up.
func providerWords(err error) string {
	var se *channel.SendError
	var te *channel.ThrottledError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("%s (%s)", se.Title, se.Code)
	case errors.As(err, &te):
		return "the provider asks to slow down (" + te.Code + ")"
	}
	return err.Error()
}

// ErrChannelDisconnected is a send or test through a disconnected channel.
var ErrChannelDisconnected = errors.New("inbox: the channel is disconnected")

// DisconnectChannel stops a channel: it forgets its credentials, sends nothing more and
// refuses its webhooks; its conversations stay in the inbox.
func (s *Service) DisconnectChannel(ctx context.Context, a model.Actor, id int64) error {
	return s.st.Tx(ctx, func(tx *store.Store) error {
		if err := tx.DisconnectChannel(ctx, a.OrgID, id); err != nil {
			return err
		}
		if err := tx.Audit(ctx, model.AuditEntry{OrgID: a.OrgID, UserID: a.UserRef(), Action: "channel.disconnected",
			Target: fmt.Sprint(id), IP: a.IP, UserAgent: a.UserAgent}); err != nil {
			return err
		}
		_, err := events.ChannelStatus.Publish(ctx, tx, a.OrgID, events.ChannelState{ID: id, Status: model.ChannelDisconnected})
		if err == nil {
			s.forgetChannel(id) // other instances notice within webhookChannelTTL
		}
		return err
	})
}
