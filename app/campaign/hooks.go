package campaign

import (
	"context"
	"log/slog"
	"time"

	"masteria/app/channel"
	"masteria/app/events"
	"masteria/app/model"
	"masteria/app/store"
)

// Hooks follow the inbox for campaigns (inbox.Hooks): their messages' statuses, replies, and
// the provider's notices on the account.
type Hooks struct{ s *Service }

// Hooks returns the service's inbox hooks.
func (s *Service) Hooks() Hooks { return Hooks{s} }

// cappedCode is WhatsApp's per-person marketing cap: the message is withheld, to try again
// days later.
const cappedCode = "131049"

// optOutCode is a person who stopped marketing messages on WhatsApp.
const optOutCode = "131050"

// MessagesMoved moves the recipients of campaign messages with their provider's report, in
// the inbox's transaction. A 131049 failure makes the recipient capped; a 131050 one opts
// the contact out of WhatsApp.
func (h Hooks) MessagesMoved(ctx context.Context, tx *store.Store, orgID int64, ids []int64, status, code, title string) error {
	st := status
	switch {
	case status == model.StatusFailed && code == cappedCode:
		st = model.RecipientCapped
	case status == model.StatusFailed:
		st = model.RecipientFailed
	case status != model.StatusSent && status != model.StatusDelivered && status != model.StatusRead:
		return nil
	}
	changed, err := tx.RecipientsByMessage(ctx, orgID, ids, st, code, title)
	if err != nil || len(changed) == 0 {
		return err
	}
	if code == optOutCode {
		for _, c := range changed {
			if c.ContactID != nil {
				if _, err := tx.SetOptOut(ctx, orgID, *c.ContactID, "whatsapp", true); err != nil {
					return err
				}
			}
		}
	}
	return publishChanges(ctx, tx, orgID, changed, code)
}

// Replied counts a customer's message as the reply to their latest campaign send on the
// channel within its reply window.
func (h Hooks) Replied(ctx context.Context, tx *store.Store, orgID, channelID, contactID int64, at time.Time) error {
	changed, err := tx.RecipientsReplied(ctx, orgID, channelID, contactID, at)
	if err != nil || len(changed) == 0 {
		return err
	}
	return publishChanges(ctx, tx, orgID, changed, "")
}

func publishChanges(ctx context.Context, tx *store.Store, orgID int64, changed []store.RecipientChange, code string) error {
	evs := make([]events.CampaignRecipient, len(changed))
	for i, c := range changed {
		evs[i] = events.CampaignRecipient{CampaignID: c.CampaignID, RecipientID: c.ID, Status: c.Status, ErrorCode: code}
		if c.ContactID != nil {
			evs[i].ContactID = *c.ContactID
		}
	}
	return events.CampaignRecipientStatus.PublishMany(ctx, tx, orgID, evs)
}

// Notice reacts to the provider's word on the account: a paused or disabled template pauses
// the campaigns sending it, a lower number quality pauses the channel's campaigns, and a new
// messaging limit is kept for the governor.
func (h Hooks) Notice(ctx context.Context, ch model.Channel, n channel.Notice) error {
	s := h.s
	switch n.Kind {
	case channel.NoticeTemplateStatus:
		switch n.Event {
		case "PAUSED", "DISABLED", "REJECTED", "PENDING_DELETION", "DELETED", "ARCHIVED":
			ids, err := s.st.CampaignsUsingTemplate(ctx, ch.OrgID, ch.ID, n.Template)
			if err != nil {
				return err
			}
			for _, id := range ids {
				if err := s.pause(ctx, ch.OrgID, id, model.PauseTemplate, n.Template+": "+n.Event); err != nil {
					return err
				}
			}
		}
	case channel.NoticeNumberQuality:
		if n.Limit != 0 {
			if err := s.st.SetChannelLimits(ctx, ch.OrgID, ch.ID, n.Limit, n.Quality); err != nil {
				return err
			}
		}
		if n.Event == "DOWNGRADE" || n.Event == "FLAGGED" {
			ids, err := s.st.CampaignsOfChannel(ctx, ch.OrgID, ch.ID)
			if err != nil {
				return err
			}
			for _, id := range ids {
				if err := s.pause(ctx, ch.OrgID, id, model.PauseQuality, n.Event); err != nil {
					return err
				}
			}
		}
	case channel.NoticeMessagingLimit:
		if n.Limit != 0 {
			l, err := s.st.ChannelLimits(ctx, ch.OrgID, ch.ID)
			if err != nil {
				return err
			}
			return s.st.SetChannelLimits(ctx, ch.OrgID, ch.ID, n.Limit, l.Quality)
		}
	default:
		slog.Debug("campaign: notice ignored", "kind", n.Kind, "channel", ch.ID)
	}
	return nil
}
