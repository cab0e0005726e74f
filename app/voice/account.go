// Package voice is the org's voice AI: its Retell account (the key sealed by app/vault, a
// Test, the agents, the webhook URL to paste into Retell, the calls allowed at once); the
// numbers (app/voice/numbers) and the calls (app/voice/calls) build on it.
package voice

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"masteria/app/model"
	"masteria/app/store"
	"masteria/app/vault"
	"masteria/app/voice/retell"
)

// Limits of the account settings.
const (
	MaxKeyLen        = 200
	MaxConcurrentMax = 1000
)

// Service keeps the org's Retell account and builds its clients.
type Service struct {
	st      *store.Store
	ring    *vault.Ring
	apiURL  string
	timeout time.Duration
}

// Option configures a Service.
type Option func(*Service)

// WithTimeout sets how long one Retell request may take (default 15 s).
func WithTimeout(d time.Duration) Option { return func(s *Service) { s.timeout = d } }

// New returns the voice account service; apiURL is RETELL_API_URL.
func New(st *store.Store, ring *vault.Ring, apiURL string, opts ...Option) *Service {
	s := &Service{st: st, ring: ring, apiURL: strings.TrimRight(apiURL, "/"), timeout: 15 * time.Second}
	for _, o := range opts {
		o(s)
	}
	return s
}

// KeyAD binds a sealed key to its org and account: copied to another row, it does not open.
func KeyAD(orgID, accountID int64) []byte {
	return fmt.Appendf(nil, "org:%d:voice-account:%d:retell-key", orgID, accountID)
}

// WebhookPath is the path Retell posts an account's call events to; the page shows it after
// the server's base URL.
func WebhookPath(accountID int64) string {
	return "/webhooks/retell/" + strconv.FormatInt(accountID, 10)
}

// Account returns the org's Retell account (its key stays sealed), or model.ErrNotFound.
func (s *Service) Account(ctx context.Context, orgID int64) (model.VoiceAccount, error) {
	return s.st.VoiceAccount(ctx, orgID)
}

// checkKey refuses a key that cannot be one: blank, too long, with spaces or control bytes.
func checkKey(key string) error {
	switch {
	case key == "":
		return model.FieldError("key", "form.error.required")
	case len(key) > MaxKeyLen || !utf8.ValidString(key) || strings.ContainsFunc(key, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return model.FieldError("key", "voice.retell.error.key")
	}
	return nil
}

// Connect saves the org's Retell API key, sealed and bound to the account's id; the account
// is untested until Test. Only those who may manage the org may.
func (s *Service) Connect(ctx context.Context, a model.Actor, apiKey string) (model.VoiceAccount, error) {
	if !a.Role.May(model.ManageOrg) {
		return model.VoiceAccount{}, model.ErrForbidden
	}
	key := strings.TrimSpace(apiKey)
	if err := checkKey(key); err != nil {
		return model.VoiceAccount{}, err
	}
	var acc model.VoiceAccount
	err := s.st.Tx(ctx, func(tx *store.Store) error {
		var err error
		acc, err = tx.PutVoiceAccountKey(ctx, a.OrgID, func(id int64) (string, error) {
			return s.ring.Seal([]byte(key), KeyAD(a.OrgID, id))
		})
		if err != nil {
			return err
		}
		return tx.Audit(ctx, model.AuditEntry{OrgID: a.OrgID, UserID: a.UserRef(), Action: "voice.retell_connected",
			Target: "voice_account:" + strconv.FormatInt(acc.ID, 10), IP: a.IP, UserAgent: a.UserAgent})
	})
	return acc, err
}

// SetMaxConcurrent sets how many calls the org may have at once (1 to 1000).
func (s *Service) SetMaxConcurrent(ctx context.Context, a model.Actor, n int) error {
	if !a.Role.May(model.ManageOrg) {
		return model.ErrForbidden
	}
	if n < 1 || n > MaxConcurrentMax {
		return model.FieldError("max_concurrent", "voice.retell.error.max_concurrent")
	}
	return s.st.SetVoiceMaxConcurrent(ctx, a.OrgID, n)
}

// SetCallHours sets when the org's calls may go out, in each contact's zone: from start to
// end o'clock on days (a bit per weekday, Sunday 0).
func (s *Service) SetCallHours(ctx context.Context, a model.Actor, start, end, days int) error {
	if !a.Role.May(model.ManageOrg) {
		return model.ErrForbidden
	}
	if start < 0 || start >= end || end > 24 || days < 1 || days > 127 {
		return model.FieldError("call_hours", "voice.hours.error")
	}
	return s.st.SetCallHours(ctx, a.OrgID, start, end, days)
}

// open returns the account and its key in clear.
func (s *Service) open(acc model.VoiceAccount) (string, error) {
	if acc.KeySealed == "" {
		return "", fmt.Errorf("voice: account %d has no key: %w", acc.ID, model.ErrNotFound)
	}
	key, err := s.ring.Open(acc.KeySealed, KeyAD(acc.OrgID, acc.ID))
	if err != nil {
		return "", fmt.Errorf("voice: open the key of account %d: %w", acc.ID, err)
	}
	return string(key), nil
}

// Client returns a Retell client with the org's key, and its account.
func (s *Service) Client(ctx context.Context, orgID int64) (*retell.Client, model.VoiceAccount, error) {
	acc, err := s.st.VoiceAccount(ctx, orgID)
	if err != nil {
		return nil, acc, err
	}
	key, err := s.open(acc)
	if err != nil {
		return nil, acc, err
	}
	return retell.New(s.apiURL, key, &http.Client{Timeout: s.timeout}), acc, nil
}

// WebhookKey returns the account a webhook URL names and the key its signature is checked
// with; model.ErrNotFound for an unknown account or one without a key.
func (s *Service) WebhookKey(ctx context.Context, accountID int64) (model.VoiceAccount, string, error) {
	acc, err := s.st.VoiceAccountByID(ctx, accountID)
	if err != nil {
		return acc, "", err
	}
	key, err := s.open(acc)
	return acc, key, err
}

// TestResult is what Test found.
type TestResult struct {
	OK      bool
	Message string // Retell's words when it failed
	Agents  []retell.Agent
}

// Test lists the account's agents with its key and records ok, or the error in Retell's
// words. Errors of Retell are a result, not an error.
func (s *Service) Test(ctx context.Context, a model.Actor) (TestResult, error) {
	if !a.Role.May(model.ManageOrg) {
		return TestResult{}, model.ErrForbidden
	}
	c, _, err := s.Client(ctx, a.OrgID)
	if err != nil {
		return TestResult{}, err
	}
	agents, err := c.ListAgents(ctx)
	var re *retell.Error
	switch {
	case errors.As(err, &re):
		msg := re.Error()
		if err := s.st.SetVoiceAccountStatus(ctx, a.OrgID, "error", msg); err != nil {
			return TestResult{}, err
		}
		return TestResult{Message: msg}, nil
	case err != nil:
		return TestResult{}, err
	}
	if err := s.st.SetVoiceAccountStatus(ctx, a.OrgID, "ok", ""); err != nil {
		return TestResult{}, err
	}
	return TestResult{OK: true, Agents: agents}, nil
}

// Agents lists the org's Retell agents (for the page and the numbers' agent choice).
func (s *Service) Agents(ctx context.Context, a model.Actor) ([]retell.Agent, error) {
	if !a.Role.May(model.ManageOrg) {
		return nil, model.ErrForbidden
	}
	c, _, err := s.Client(ctx, a.OrgID)
	if err != nil {
		return nil, err
	}
	return c.ListAgents(ctx)
}
