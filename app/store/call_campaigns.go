package store

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"masteria/app/model"
)

// callCampaignQueries are the queries of call campaigns (queries/call_campaigns.sql).
type callCampaignQueries struct {
	CallCampaignLock     *sqlx.Stmt `query:"call-campaign-lock"`
	CallCampaignLive     *sqlx.Stmt `query:"call-campaign-live"`
	CallCampaignCalling  *sqlx.Stmt `query:"call-campaign-calling"`
	CallRecipientCalled  *sqlx.Stmt `query:"call-recipient-called"`
	CallRecipientSettle  *sqlx.Stmt `query:"call-recipient-settle"`
	CallRecipientSuccess *sqlx.Stmt `query:"call-recipient-success"`
	CallCampaignFigures  *sqlx.Stmt `query:"call-campaign-figures"`
	CallCampaignsOfNum   *sqlx.Stmt `query:"call-campaigns-of-number"`
	CallRecipientsLost   *sqlx.Stmt `query:"call-recipients-lost"`
}

// SettleLostCalls settles the recipients whose call Retell said nothing more about for two
// hours: again after the delay while attempts are left, else failed.
func (s *Store) SettleLostCalls(ctx context.Context, orgID, campaignID int64, retryMinutes, attempts int) ([]RecipientChange, error) {
	var out []RecipientChange
	if err := s.sel(ctx, s.q.CallRecipientsLost, &out, orgID, campaignID, retryMinutes, attempts); err != nil {
		return nil, fmt.Errorf("store: settle lost calls: %w", err)
	}
	return out, nil
}

// LockCallCampaign serializes, until the end of the transaction, the runners of one call
// campaign while they count its calls and claim.
func (s *Store) LockCallCampaign(ctx context.Context, orgID, campaignID int64) error {
	_, err := s.exec(ctx, s.q.CallCampaignLock, orgID, campaignID)
	return err
}

// CallCampaignLive counts a call campaign's calls running and recipients being dialled.
func (s *Store) CallCampaignLive(ctx context.Context, orgID, campaignID int64) (int64, error) {
	var n int64
	if err := s.get(ctx, s.q.CallCampaignLive, &n, orgID, campaignID); err != nil {
		return 0, fmt.Errorf("store: call campaign live: %w", err)
	}
	return n, nil
}

// CallCampaignCalling counts a call campaign's recipients being dialled or in a call.
func (s *Store) CallCampaignCalling(ctx context.Context, orgID, campaignID int64) (int64, error) {
	var n int64
	if err := s.get(ctx, s.q.CallCampaignCalling, &n, orgID, campaignID); err != nil {
		return 0, fmt.Errorf("store: call campaign calling: %w", err)
	}
	return n, nil
}

// RecipientCalled records the call Retell took for a claimed recipient; false when the
// call's events settled the recipient first.
func (s *Store) RecipientCalled(ctx context.Context, orgID, recipientID int64, callID string) (bool, error) {
	n, err := s.exec(ctx, s.q.CallRecipientCalled, orgID, recipientID, callID)
	if err != nil {
		return false, fmt.Errorf("store: recipient called: %w", err)
	}
	return n == 1, nil
}

// Call outcomes a settlement gives a recipient.
const (
	CallAnswered = "answered"
	CallRetry    = "retry" // pending again after the delay while attempts are left, else failed
	CallFailed   = "failed"
)

// CallSettlement is what one ended call does to its campaign recipient.
type CallSettlement struct {
	CampaignID, ContactID int64
	CallID                string
	Outcome               string // CallAnswered, CallRetry, CallFailed
	Result, Words         string // model.CallResult… and the reason in plain words
	RetryMinutes          int
	Attempts              int
	Successful            *bool
}

// SettleCallRecipient settles the recipient of an ended call, once per call; nil when the
// call settled it before, or is not the one in progress.
func (s *Store) SettleCallRecipient(ctx context.Context, orgID int64, c CallSettlement) ([]RecipientChange, error) {
	var out []RecipientChange
	if err := s.sel(ctx, s.q.CallRecipientSettle, &out, orgID, c.CampaignID, c.ContactID, c.CallID, c.Outcome, c.Result,
		c.Words, c.RetryMinutes, c.Attempts, c.Successful); err != nil {
		return nil, fmt.Errorf("store: settle call recipient: %w", err)
	}
	return out, nil
}

// SetCallSuccess records Retell's verdict on a campaign call's success.
func (s *Store) SetCallSuccess(ctx context.Context, orgID, campaignID int64, callID string, ok bool) ([]RecipientChange, error) {
	var out []RecipientChange
	if err := s.sel(ctx, s.q.CallRecipientSuccess, &out, orgID, campaignID, callID, ok); err != nil {
		return nil, fmt.Errorf("store: call success: %w", err)
	}
	return out, nil
}

// CallFigures counts a call campaign's progress in plain words.
func (s *Store) CallFigures(ctx context.Context, orgID, campaignID int64) (model.CallFigures, error) {
	var f model.CallFigures
	if err := s.get(ctx, s.q.CallCampaignFigures, &f, orgID, campaignID); err != nil {
		return f, fmt.Errorf("store: call figures: %w", err)
	}
	return f, nil
}

// CallCampaignsOfNumber are a voice number's running or scheduled call campaigns.
func (s *Store) CallCampaignsOfNumber(ctx context.Context, orgID, numberID int64) ([]int64, error) {
	return s.ids(ctx, s.q.CallCampaignsOfNum, orgID, numberID)
}
