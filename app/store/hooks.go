package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"masteria/app/model"
)

// hookQueries are the outgoing webhooks' queries (queries/hooks.sql).
type hookQueries struct {
	HookEndpointCreate      *sqlx.Stmt `query:"hook-endpoint-create"`
	HookEndpoint            *sqlx.Stmt `query:"hook-endpoint"`
	HookEndpoints           *sqlx.Stmt `query:"hook-endpoints"`
	HookEndpointUpdate      *sqlx.Stmt `query:"hook-endpoint-update"`
	HookEndpointSetEnabled  *sqlx.Stmt `query:"hook-endpoint-set-enabled"`
	HookEndpointDelete      *sqlx.Stmt `query:"hook-endpoint-delete"`
	HookEndpointHealth      *sqlx.Stmt `query:"hook-endpoint-health"`
	HookEndpointWake        *sqlx.Stmt `query:"hook-endpoint-wake"`
	HookSecretAdd           *sqlx.Stmt `query:"hook-secret-add"`
	HookSecretsExpire       *sqlx.Stmt `query:"hook-secrets-expire"`
	HookSecretsActive       *sqlx.Stmt `query:"hook-secrets-active"`
	HookAnyEnabled          *sqlx.Stmt `query:"hook-any-enabled"`
	HookCursorLock          *sqlx.Stmt `query:"hook-cursor-lock"`
	HookDispatch            *sqlx.Stmt `query:"hook-dispatch"`
	HookDeliveryTest        *sqlx.Stmt `query:"hook-delivery-test"`
	HookClaim               *sqlx.Stmt `query:"hook-claim"`
	HookRecord              *sqlx.Stmt `query:"hook-record"`
	HookRelease             *sqlx.Stmt `query:"hook-release"`
	HookNextDue             *sqlx.Stmt `query:"hook-next-due"`
	HookFailPending         *sqlx.Stmt `query:"hook-fail-pending"`
	HookStale               *sqlx.Stmt `query:"hook-stale"`
	HookDelivery            *sqlx.Stmt `query:"hook-delivery"`
	HookDeliveries          *sqlx.Stmt `query:"hook-deliveries"`
	HookAttempts            *sqlx.Stmt `query:"hook-attempts"`
	HookReplay              *sqlx.Stmt `query:"hook-replay"`
	HookReplayRange         *sqlx.Stmt `query:"hook-replay-range"`
	HookSecretsAll          *sqlx.Stmt `query:"hook-secrets-all"`
	HookSecretReseal        *sqlx.Stmt `query:"hook-secret-reseal"`
	HookDeliveriesDeleteOld *sqlx.Stmt `query:"hook-deliveries-delete-old"`
}

// WebhookEndpointInput is what a member sets on an endpoint.
type WebhookEndpointInput struct {
	URL         string
	Description string
	EventTypes  []string
	AllEvents   bool
}

// CreateWebhookEndpoint adds an endpoint and its first (sealed) secret.
func (s *Store) CreateWebhookEndpoint(ctx context.Context, orgID int64, in WebhookEndpointInput, createdBy *int64,
	seal func(endpointID int64) (string, error)) (model.WebhookEndpoint, error) {
	var e model.WebhookEndpoint
	err := s.Tx(ctx, func(tx *Store) error {
		if err := tx.get(ctx, tx.q.HookEndpointCreate, &e, orgID, in.URL, in.Description, pq.StringArray(nonNil(in.EventTypes)),
			in.AllEvents, createdBy); err != nil {
			return fmt.Errorf("store: create webhook endpoint: %w", err)
		}
		sealed, err := seal(e.ID)
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, tx.q.HookSecretAdd, orgID, e.ID, sealed); err != nil {
			return fmt.Errorf("store: webhook secret: %w", err)
		}
		return nil
	})
	return e, err
}

func nonNil(ss []string) []string {
	if ss == nil {
		return []string{}
	}
	return ss
}

// WebhookEndpoint returns one endpoint of an org.
func (s *Store) WebhookEndpoint(ctx context.Context, orgID, id int64) (model.WebhookEndpoint, error) {
	var e model.WebhookEndpoint
	if err := s.get(ctx, s.q.HookEndpoint, &e, orgID, id); err != nil {
		return e, fmt.Errorf("store: webhook endpoint %d: %w", id, err)
	}
	return e, nil
}

// WebhookEndpoints returns an org's endpoints after the id afterID (0: from the first),
// at most limit, with their last day's attempt counts.
func (s *Store) WebhookEndpoints(ctx context.Context, orgID, afterID int64, limit int) ([]model.WebhookEndpoint, error) {
	out := []model.WebhookEndpoint{}
	if err := s.sel(ctx, s.q.HookEndpoints, &out, orgID, afterID, limit); err != nil {
		return nil, fmt.Errorf("store: webhook endpoints: %w", err)
	}
	return out, nil
}

// UpdateWebhookEndpoint changes an endpoint's URL, description and events.
func (s *Store) UpdateWebhookEndpoint(ctx context.Context, orgID, id int64, in WebhookEndpointInput) (model.WebhookEndpoint, error) {
	var e model.WebhookEndpoint
	if err := s.get(ctx, s.q.HookEndpointUpdate, &e, orgID, id, in.URL, in.Description, pq.StringArray(nonNil(in.EventTypes)), in.AllEvents); err != nil {
		return e, fmt.Errorf("store: update webhook endpoint %d: %w", id, err)
	}
	return e, nil
}

// SetWebhookEndpointEnabled enables or disables an endpoint (reason: why it is disabled).
// It reports false when the endpoint was already so. Disabling fails what it still had to send.
func (s *Store) SetWebhookEndpointEnabled(ctx context.Context, orgID, id int64, enabled bool, reason string) (bool, error) {
	changed := false
	err := s.Tx(ctx, func(tx *Store) error {
		var got int64
		err := tx.get(ctx, tx.q.HookEndpointSetEnabled, &got, orgID, id, enabled, reason)
		if errors.Is(err, model.ErrNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("store: enable webhook endpoint %d: %w", id, err)
		}
		changed = true
		if !enabled {
			if _, err := tx.exec(ctx, tx.q.HookFailPending, orgID, id, "endpoint disabled"); err != nil {
				return fmt.Errorf("store: fail pending deliveries: %w", err)
			}
		}
		return nil
	})
	return changed, err
}

// DeleteWebhookEndpoint removes an endpoint, its secrets and its log.
func (s *Store) DeleteWebhookEndpoint(ctx context.Context, orgID, id int64) error {
	n, err := s.exec(ctx, s.q.HookEndpointDelete, orgID, id)
	if err != nil {
		return fmt.Errorf("store: delete webhook endpoint %d: %w", id, err)
	}
	if n == 0 {
		return model.ErrNotFound
	}
	return nil
}

// SetWebhookEndpointHealth stores the circuit breaker's state.
func (s *Store) SetWebhookEndpointHealth(ctx context.Context, orgID, id int64, failures int, failingSince, openUntil *time.Time) error {
	if _, err := s.exec(ctx, s.q.HookEndpointHealth, orgID, id, failures, failingSince, openUntil); err != nil {
		return fmt.Errorf("store: webhook endpoint health: %w", err)
	}
	return nil
}

// ClaimWebhookWake records that a job wakes the endpoint at at; false when one is due sooner.
func (s *Store) ClaimWebhookWake(ctx context.Context, orgID, id int64, at time.Time) (bool, error) {
	var got int64
	err := s.get(ctx, s.q.HookEndpointWake, &got, orgID, id, at)
	if errors.Is(err, model.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: webhook wake: %w", err)
	}
	return true, nil
}

// RotateWebhookSecret adds a new secret; the ones valid until now stay valid until expire.
func (s *Store) RotateWebhookSecret(ctx context.Context, orgID, id int64, expire time.Time, sealed string) error {
	return s.Tx(ctx, func(tx *Store) error {
		if _, err := tx.exec(ctx, tx.q.HookSecretsExpire, orgID, id, expire); err != nil {
			return fmt.Errorf("store: expire webhook secrets: %w", err)
		}
		if _, err := tx.exec(ctx, tx.q.HookSecretAdd, orgID, id, sealed); err != nil {
			return fmt.Errorf("store: webhook secret: %w", err)
		}
		return nil
	})
}

// WebhookSecret is one sealed signing secret of an endpoint.
type WebhookSecret struct {
	ID        int64      `db:"id"`
	Sealed    string     `db:"sealed"`
	ExpiresAt *time.Time `db:"expires_at"`
}

// WebhookSecrets returns an endpoint's valid secrets, newest first.
func (s *Store) WebhookSecrets(ctx context.Context, orgID, id int64) ([]WebhookSecret, error) {
	var out []WebhookSecret
	if err := s.sel(ctx, s.q.HookSecretsActive, &out, orgID, id); err != nil {
		return nil, fmt.Errorf("store: webhook secrets: %w", err)
	}
	return out, nil
}

// WebhookFanout is the endpoints that got deliveries from one dispatch.
type WebhookFanout struct {
	Events int64
	// More: events wait behind a transaction still running; dispatch again shortly.
	More bool
	// Busy: another dispatcher is at work (it reads what this one would have).
	Busy      bool
	Endpoints []WebhookTarget
}

// WebhookTarget is an endpoint (and its org) with new deliveries.
type WebhookTarget struct {
	OrgID      int64 `db:"org_id"`
	EndpointID int64 `db:"endpoint_id"`
	N          int64 `db:"n"`
}

// AnyWebhookEndpoints tells whether any org has an enabled endpoint.
func (s *Store) AnyWebhookEndpoints(ctx context.Context) (bool, error) {
	var some bool
	if err := s.get(ctx, s.q.HookAnyEnabled, &some); err != nil {
		return false, fmt.Errorf("store: any webhook endpoints: %w", err)
	}
	return some, nil
}

// DispatchWebhooks takes up to limit events after the dispatcher's cursor, in commit order,
// and makes one delivery per subscribed endpoint, in one transaction. While another
// dispatcher is at work it does nothing and reports Busy.
// then runs in the same transaction with the endpoints that got deliveries (to queue their jobs).
func (s *Store) DispatchWebhooks(ctx context.Context, limit int, then func(tx *Store, ts []WebhookTarget) error) (WebhookFanout, error) {
	var out WebhookFanout
	err := s.Tx(ctx, func(tx *Store) error {
		var locked bool
		if err := tx.get(ctx, tx.q.HookCursorLock, &locked); err != nil {
			return fmt.Errorf("store: webhook cursor: %w", err)
		}
		if !locked {
			out.Busy = true
			return nil
		}
		var rows []WebhookTarget
		if err := tx.sel(ctx, tx.q.HookDispatch, &rows, limit); err != nil {
			return fmt.Errorf("store: webhook dispatch: %w", err)
		}
		for _, r := range rows {
			if r.EndpointID == 0 {
				out.Events, out.More = r.N%1000000000, r.N >= 1000000000
				continue
			}
			out.Endpoints = append(out.Endpoints, r)
		}
		return then(tx, out.Endpoints)
	})
	return out, err
}

// AddWebhookTest records a test ping of an endpoint, claimed for sending at once.
func (s *Store) AddWebhookTest(ctx context.Context, orgID, endpointID int64, typ string, payload []byte) (model.WebhookDelivery, error) {
	var d model.WebhookDelivery
	if err := s.get(ctx, s.q.HookDeliveryTest, &d, orgID, endpointID, typ, payload); err != nil {
		return d, fmt.Errorf("store: webhook test: %w", err)
	}
	return d, nil
}

// ClaimWebhookDeliveries takes up to limit due deliveries of an endpoint for lease.
func (s *Store) ClaimWebhookDeliveries(ctx context.Context, orgID, endpointID int64, limit int, lease time.Duration) ([]model.WebhookDelivery, error) {
	var out []model.WebhookDelivery
	if err := s.sel(ctx, s.q.HookClaim, &out, orgID, endpointID, limit, fmt.Sprintf("%d milliseconds", lease.Milliseconds())); err != nil {
		return nil, fmt.Errorf("store: claim webhook deliveries: %w", err)
	}
	return out, nil
}

// WebhookResult is one attempt's outcome and where its delivery goes next.
type WebhookResult struct {
	DeliveryID int64
	At         time.Time
	Status     int
	Error      string
	Body       string
	Duration   time.Duration
	OK         bool
	State      string // delivered, failed or pending
	NextAt     time.Time
}

// RecordWebhookAttempts logs a run of attempts of one endpoint and moves their deliveries on.
func (s *Store) RecordWebhookAttempts(ctx context.Context, orgID, endpointID int64, rs []WebhookResult) error {
	if len(rs) == 0 {
		return nil
	}
	n := len(rs)
	ids, status, durs := make([]int64, n), make([]int64, n), make([]int64, n)
	errs, bodies, states := make([]string, n), make([]string, n), make([]string, n)
	oks := make([]bool, n)
	next, at := make([]string, n), make([]string, n)
	for i, r := range rs {
		ids[i], status[i], durs[i] = r.DeliveryID, int64(r.Status), r.Duration.Milliseconds()
		errs[i], bodies[i], states[i], oks[i] = r.Error, r.Body, r.State, r.OK
		next[i], at[i] = r.NextAt.UTC().Format(time.RFC3339Nano), r.At.UTC().Format(time.RFC3339Nano)
	}
	if _, err := s.exec(ctx, s.q.HookRecord, orgID, pq.Array(ids), pq.Array(status), pq.Array(errs), pq.Array(bodies),
		pq.Array(durs), pq.Array(oks), pq.Array(states), pq.Array(next), pq.Array(at), endpointID); err != nil {
		return fmt.Errorf("store: record webhook attempts: %w", err)
	}
	return nil
}

// ReleaseWebhookDeliveries gives back claimed deliveries unsent, due again at next.
func (s *Store) ReleaseWebhookDeliveries(ctx context.Context, orgID, endpointID int64, ids []int64, next time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	if _, err := s.exec(ctx, s.q.HookRelease, orgID, endpointID, pq.Array(ids), next); err != nil {
		return fmt.Errorf("store: release webhook deliveries: %w", err)
	}
	return nil
}

// NextWebhookDue is when an endpoint's next pending delivery is due (zero: none).
func (s *Store) NextWebhookDue(ctx context.Context, orgID, endpointID int64) (time.Time, error) {
	var t sql.NullTime
	if err := s.get(ctx, s.q.HookNextDue, &t, orgID, endpointID); err != nil {
		return time.Time{}, fmt.Errorf("store: next webhook due: %w", err)
	}
	return t.Time, nil
}

// StaleWebhookTargets lists endpoints with due deliveries that no job is sending.
func (s *Store) StaleWebhookTargets(ctx context.Context) ([]WebhookTarget, error) {
	var out []WebhookTarget
	if err := s.sel(ctx, s.q.HookStale, &out); err != nil {
		return nil, fmt.Errorf("store: stale webhooks: %w", err)
	}
	return out, nil
}

// WebhookDelivery returns one delivery of an endpoint, with its attempts.
func (s *Store) WebhookDelivery(ctx context.Context, orgID, endpointID, id int64) (model.WebhookDelivery, error) {
	var d model.WebhookDelivery
	if err := s.get(ctx, s.q.HookDelivery, &d, orgID, endpointID, id); err != nil {
		return d, fmt.Errorf("store: webhook delivery %d: %w", id, err)
	}
	ds := []model.WebhookDelivery{d}
	if err := s.attachAttempts(ctx, orgID, ds); err != nil {
		return d, err
	}
	return ds[0], nil
}

// WebhookDeliveryFilter narrows an endpoint's log.
type WebhookDeliveryFilter struct {
	State     string
	EventType string
	BeforeID  int64 // cursor: deliveries older than this one
	Limit     int
}

// WebhookDeliveries returns an endpoint's log, newest first, with each delivery's attempts.
func (s *Store) WebhookDeliveries(ctx context.Context, orgID, endpointID int64, f WebhookDeliveryFilter) ([]model.WebhookDelivery, error) {
	out := []model.WebhookDelivery{}
	if err := s.sel(ctx, s.q.HookDeliveries, &out, orgID, endpointID, f.State, f.EventType, f.BeforeID, f.Limit); err != nil {
		return nil, fmt.Errorf("store: webhook deliveries: %w", err)
	}
	return out, s.attachAttempts(ctx, orgID, out)
}

func (s *Store) attachAttempts(ctx context.Context, orgID int64, ds []model.WebhookDelivery) error {
	if len(ds) == 0 {
		return nil
	}
	ids := make([]int64, len(ds))
	at := map[int64]int{}
	for i, d := range ds {
		ids[i], at[d.ID] = d.ID, i
		ds[i].Log = []model.WebhookAttempt{}
	}
	var as []model.WebhookAttempt
	if err := s.sel(ctx, s.q.HookAttempts, &as, orgID, pq.Array(ids)); err != nil {
		return fmt.Errorf("store: webhook attempts: %w", err)
	}
	for _, a := range as {
		i := at[a.DeliveryID]
		ds[i].Log = append(ds[i].Log, a)
	}
	return nil
}

// ReplayWebhookDelivery makes a delivery due again now (same webhook-id, new attempts).
func (s *Store) ReplayWebhookDelivery(ctx context.Context, orgID, endpointID, id int64) error {
	var got int64
	if err := s.get(ctx, s.q.HookReplay, &got, orgID, endpointID, id); err != nil {
		return fmt.Errorf("store: replay webhook delivery %d: %w", id, err)
	}
	return nil
}

// ReplayWebhookDeliveries makes every delivery of an endpoint created in [from, to) due again.
func (s *Store) ReplayWebhookDeliveries(ctx context.Context, orgID, endpointID int64, from, to time.Time) (int64, error) {
	n, err := s.exec(ctx, s.q.HookReplayRange, orgID, endpointID, from, to)
	if err != nil {
		return 0, fmt.Errorf("store: replay webhook deliveries: %w", err)
	}
	return n, nil
}

// SealedWebhookSecret is one webhook secret as stored, for key rotation.
type SealedWebhookSecret struct {
	ID         int64  `db:"id"`
	OrgID      int64  `db:"org_id"`
	EndpointID int64  `db:"endpoint_id"`
	Sealed     string `db:"sealed"`
}

// AllWebhookSecrets returns every org's webhook secrets, sealed.
func (s *Store) AllWebhookSecrets(ctx context.Context) ([]SealedWebhookSecret, error) {
	var out []SealedWebhookSecret
	if err := s.sel(ctx, s.q.HookSecretsAll, &out); err != nil {
		return nil, fmt.Errorf("store: all webhook secrets: %w", err)
	}
	return out, nil
}

// ResealWebhookSecret replaces a secret's sealed value if it is still old; false if it changed.
func (s *Store) ResealWebhookSecret(ctx context.Context, orgID, id int64, old, fresh string) (bool, error) {
	n, err := s.exec(ctx, s.q.HookSecretReseal, orgID, id, old, fresh)
	if err != nil {
		return false, fmt.Errorf("store: reseal webhook secret: %w", err)
	}
	return n == 1, nil
}

// DeleteOldWebhookDeliveries trims the delivery log: finished deliveries (and their
// attempts) last changed more than keep ago.
func (s *Store) DeleteOldWebhookDeliveries(ctx context.Context, keep time.Duration) (int64, error) {
	n, err := s.exec(ctx, s.q.HookDeliveriesDeleteOld, fmt.Sprintf("%d seconds", int64(keep.Seconds())))
	if err != nil {
		return 0, fmt.Errorf("store: delete old webhook deliveries: %w", err)
	}
	return n, nil
}
