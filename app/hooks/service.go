package hooks

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"masteria/app/events"
	"masteria/app/jobs"
	"masteria/app/model"
	"masteria/app/store"
	"masteria/app/vault"
)

// Options tune delivery; the zero value takes the defaults below.
type Options struct {
	// AllowPrivate lets endpoints use plain http and reach private, loopback, link-local,
	// CGNAT and other non-public addresses (MASTERIA_WEBHOOKS_ALLOW_PRIVATE).
	AllowPrivate bool
	// Timeout bounds one attempt (15 s).
	Timeout time.Duration
	// Schedule is the delay before each attempt; the first is 0 (§3.4: about three days).
	Schedule []time.Duration
	// Concurrency is how many requests go to one endpoint at once (16).
	Concurrency int
	// BreakerThreshold is how many failures in a row open an endpoint's circuit (20: a
	// receiver failing 30 % of requests at random trips it about once in 3·10¹⁰), and
	// BreakerTimeouts how many attempts in a row without any answer (timeouts, refused
	// connections) do (5: a dead receiver is found after one round of timeouts).
	// BreakerCooldown is how long the circuit then holds deliveries before one probes (30 s).
	BreakerThreshold int
	BreakerTimeouts  int
	BreakerCooldown  time.Duration
	// DisableAfter disables an endpoint that has failed every attempt for this long (72 h).
	DisableAfter time.Duration
	// Overlap is how long a rotated secret stays valid beside the new one (24 h).
	Overlap time.Duration
}

// DefaultSchedule is Standard Webhooks' example schedule (§3.4): the delay before each attempt.
var DefaultSchedule = []time.Duration{0, 5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour,
	5 * time.Hour, 10 * time.Hour, 14 * time.Hour, 20 * time.Hour, 24 * time.Hour}

func (o *Options) defaults() {
	if o.Timeout <= 0 {
		o.Timeout = 15 * time.Second
	}
	if len(o.Schedule) == 0 {
		o.Schedule = DefaultSchedule
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 16
	}
	if o.BreakerThreshold <= 0 {
		o.BreakerThreshold = 20
	}
	if o.BreakerTimeouts <= 0 {
		o.BreakerTimeouts = 5
	}
	if o.BreakerCooldown <= 0 {
		o.BreakerCooldown = 30 * time.Second
	}
	if o.DisableAfter <= 0 {
		o.DisableAfter = 72 * time.Hour
	}
	if o.Overlap <= 0 {
		o.Overlap = 24 * time.Hour
	}
}

// Service manages an org's endpoints and sends their deliveries.
type Service struct {
	st     *store.Store
	ring   *vault.Ring
	jobs   *jobs.Client
	opts   Options
	client *http.Client

	mu    sync.Mutex
	lanes map[int64]bool // endpoints this process is sending to right now

	// active: some org has an enabled endpoint (as the last dispatch saw, or one was just
	// made here). Without any, events wake no dispatcher: the periodic one keeps the
	// cursor up, so an app that sends no webhooks does no work per event for them.
	active atomic.Bool
}

// New returns the service.
func New(st *store.Store, ring *vault.Ring, opts Options) *Service {
	opts.defaults()
	s := &Service{st: st, ring: ring, opts: opts, lanes: map[int64]bool{}}
	s.active.Store(true) // until the first dispatch looks
	s.client = newClient(opts)
	return s
}

// SetJobs gives the service the queue its deliveries run on.
func (s *Service) SetJobs(j *jobs.Client) { s.jobs = j }

// Options returns the service's options, defaults filled in.
func (s *Service) Options() Options { return s.opts }

// Input is what a member sets on an endpoint.
type Input struct {
	URL         string
	Description string
	// EventTypes: names from the catalogue; AllEvents: every event, new ones too.
	EventTypes []string
	AllEvents  bool
}

// Limits of an endpoint's fields.
const (
	MaxURL         = 2000
	MaxDescription = 500
)

// may refuses anyone but owners and admins.
func may(a model.Actor) error {
	if !a.Role.May(model.ManageOrg) {
		return model.ErrForbidden
	}
	return nil
}

// Subscribable lists the catalogue's events an endpoint may want (not the transient ones).
func Subscribable() []events.Def {
	var out []events.Def
	for _, d := range events.All() {
		if !d.Transient {
			out = append(out, d)
		}
	}
	return out
}

func (s *Service) validate(in Input) (store.WebhookEndpointInput, error) {
	v := model.NewValidationError()
	out := store.WebhookEndpointInput{URL: strings.TrimSpace(in.URL), Description: strings.TrimSpace(in.Description), AllEvents: in.AllEvents}
	if err := s.CheckURL(out.URL); err != nil {
		if errors.Is(err, ErrPrivateAddress) {
			v.Add("url", "hooks.error.url_private")
		} else {
			v.Add("url", "hooks.error.url")
		}
	}
	if utf8.RuneCountInString(out.Description) > MaxDescription || !utf8.ValidString(out.Description) || strings.ContainsRune(out.Description, 0) {
		v.Add("description", "hooks.error.description")
	}
	seen := map[string]bool{}
	if !in.AllEvents {
		for _, t := range in.EventTypes {
			d, ok := events.Lookup(t)
			if !ok || d.Transient {
				v.Add("event_types", "hooks.error.event_type")
				break
			}
			if !seen[t] {
				seen[t] = true
				out.EventTypes = append(out.EventTypes, t)
			}
		}
		if len(out.EventTypes) == 0 {
			v.Add("event_types", "hooks.error.no_events")
		}
	}
	return out, v.Err()
}

// ErrPrivateAddress is an endpoint address that is not on the public internet (or plain
// http) while the server does not allow them.
var ErrPrivateAddress = errors.New("hooks: the address is private, loopback, link-local or otherwise not public")

// CheckURL refuses anything but an absolute https URL (http too when private addresses are
// allowed) without credentials, and, unless allowed, a host that is a non-public IP address
// or localhost. Names are checked again on the address dialled, at every delivery.
func (s *Service) CheckURL(raw string) error {
	if raw == "" || len(raw) > MaxURL || !utf8.ValidString(raw) || strings.ContainsAny(raw, "\x00 \t\r\n") {
		return model.ErrInvalid
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.Opaque != "" {
		return model.ErrInvalid
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !s.opts.AllowPrivate {
			return ErrPrivateAddress
		}
	default:
		return model.ErrInvalid
	}
	if s.opts.AllowPrivate {
		return nil
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return ErrPrivateAddress
	}
	if a, err := netip.ParseAddr(host); err == nil && !publicAddr(a) {
		return ErrPrivateAddress
	}
	return nil
}

// Created is a new endpoint and its secret, shown once.
type Created struct {
	Endpoint model.WebhookEndpoint
	Secret   string
}

func secretAD(orgID, endpointID int64) []byte {
	return []byte("webhook-secret:" + strconv.FormatInt(orgID, 10) + ":" + strconv.FormatInt(endpointID, 10))
}

// Create adds an endpoint with a fresh secret; the secret is returned this once.
func (s *Service) Create(ctx context.Context, a model.Actor, in Input) (Created, error) {
	if err := may(a); err != nil {
		return Created{}, err
	}
	v, err := s.validate(in)
	if err != nil {
		return Created{}, err
	}
	secret := NewSecret()
	e, err := s.st.CreateWebhookEndpoint(ctx, a.OrgID, v, a.UserRef(), func(id int64) (string, error) {
		return s.ring.SealString(secret, string(secretAD(a.OrgID, id)))
	})
	if err != nil {
		return Created{}, err
	}
	s.audit(ctx, a, "webhook.created", e.ID, e.URL)
	s.active.Store(true)
	return Created{Endpoint: e, Secret: secret}, nil
}

// Endpoint returns one of the org's endpoints.
func (s *Service) Endpoint(ctx context.Context, a model.Actor, id int64) (model.WebhookEndpoint, error) {
	if err := may(a); err != nil {
		return model.WebhookEndpoint{}, err
	}
	return s.st.WebhookEndpoint(ctx, a.OrgID, id)
}

// Endpoints lists the org's endpoints after afterID, at most limit.
func (s *Service) Endpoints(ctx context.Context, a model.Actor, afterID int64, limit int) ([]model.WebhookEndpoint, error) {
	if err := may(a); err != nil {
		return nil, err
	}
	return s.st.WebhookEndpoints(ctx, a.OrgID, afterID, limit)
}

// Update changes an endpoint's URL, description and events.
func (s *Service) Update(ctx context.Context, a model.Actor, id int64, in Input) (model.WebhookEndpoint, error) {
	if err := may(a); err != nil {
		return model.WebhookEndpoint{}, err
	}
	v, err := s.validate(in)
	if err != nil {
		return model.WebhookEndpoint{}, err
	}
	e, err := s.st.UpdateWebhookEndpoint(ctx, a.OrgID, id, v)
	if err == nil {
		s.audit(ctx, a, "webhook.updated", e.ID, e.URL)
	}
	return e, err
}

// SetEnabled enables or disables an endpoint by hand.
func (s *Service) SetEnabled(ctx context.Context, a model.Actor, id int64, enabled bool) (model.WebhookEndpoint, error) {
	if err := may(a); err != nil {
		return model.WebhookEndpoint{}, err
	}
	if _, err := s.st.WebhookEndpoint(ctx, a.OrgID, id); err != nil {
		return model.WebhookEndpoint{}, err
	}
	if _, err := s.st.SetWebhookEndpointEnabled(ctx, a.OrgID, id, enabled, "manual"); err != nil {
		return model.WebhookEndpoint{}, err
	}
	act := "webhook.disabled"
	if enabled {
		act = "webhook.enabled"
		s.active.Store(true)
	}
	e, err := s.st.WebhookEndpoint(ctx, a.OrgID, id)
	if err == nil {
		s.audit(ctx, a, act, id, e.URL)
	}
	return e, err
}

// Delete removes an endpoint and its log.
func (s *Service) Delete(ctx context.Context, a model.Actor, id int64) error {
	if err := may(a); err != nil {
		return err
	}
	e, err := s.st.WebhookEndpoint(ctx, a.OrgID, id)
	if err != nil {
		return err
	}
	if err := s.st.DeleteWebhookEndpoint(ctx, a.OrgID, id); err != nil {
		return err
	}
	s.audit(ctx, a, "webhook.deleted", id, e.URL)
	return nil
}

// Rotated is an endpoint's new secret (shown once) and until when the old ones stay valid.
type Rotated struct {
	Secret     string
	OldExpires time.Time
}

// Rotate gives an endpoint a new secret; the previous ones stay valid for overlap (0: the
// default, 24 h; at most 7 days), and deliveries are signed with all of them meanwhile.
func (s *Service) Rotate(ctx context.Context, a model.Actor, id int64, overlap time.Duration) (Rotated, error) {
	if err := may(a); err != nil {
		return Rotated{}, err
	}
	if overlap < 0 || overlap > 7*24*time.Hour {
		v := model.NewValidationError()
		v.Add("overlap", "hooks.error.overlap")
		return Rotated{}, v.Err()
	}
	if overlap == 0 {
		overlap = s.opts.Overlap
	}
	e, err := s.st.WebhookEndpoint(ctx, a.OrgID, id)
	if err != nil {
		return Rotated{}, err
	}
	secret := NewSecret()
	sealed, err := s.ring.SealString(secret, string(secretAD(a.OrgID, id)))
	if err != nil {
		return Rotated{}, err
	}
	exp := time.Now().Add(overlap)
	if err := s.st.RotateWebhookSecret(ctx, a.OrgID, id, exp, sealed); err != nil {
		return Rotated{}, err
	}
	s.audit(ctx, a, "webhook.rotated", id, e.URL)
	return Rotated{Secret: secret, OldExpires: exp}, nil
}

// keys opens an endpoint's valid secrets, newest first.
func (s *Service) keys(ctx context.Context, orgID, endpointID int64) ([][]byte, error) {
	secs, err := s.st.WebhookSecrets(ctx, orgID, endpointID)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, 0, len(secs))
	for _, sec := range secs {
		plain, err := s.ring.OpenString(sec.Sealed, string(secretAD(orgID, endpointID)))
		if err != nil {
			return nil, fmt.Errorf("hooks: open secret of endpoint %d: %w", endpointID, err)
		}
		k, err := SecretKey(plain)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("hooks: endpoint %d has no valid secret", endpointID)
	}
	return out, nil
}

// Test sends a webhook.test event to the endpoint at once (even a disabled one) and
// returns the delivery with its attempt.
func (s *Service) Test(ctx context.Context, a model.Actor, id int64) (model.WebhookDelivery, error) {
	if err := may(a); err != nil {
		return model.WebhookDelivery{}, err
	}
	e, err := s.st.WebhookEndpoint(ctx, a.OrgID, id)
	if err != nil {
		return model.WebhookDelivery{}, err
	}
	keys, err := s.keys(ctx, a.OrgID, id)
	if err != nil {
		return model.WebhookDelivery{}, err
	}
	payload := fmt.Appendf(nil, `{"endpoint_id":%d,"message":"This is a test ping from Master IA."}`, id)
	d, err := s.st.AddWebhookTest(ctx, a.OrgID, id, events.WebhookTest.Name(), payload)
	if err != nil {
		return model.WebhookDelivery{}, err
	}
	r := s.attempt(ctx, e.URL, keys, d)
	// A test is one attempt: its delivery ends with it, whatever the answer.
	r.State, r.NextAt = "failed", r.At
	if r.OK {
		r.State = "delivered"
	}
	if err := s.st.RecordWebhookAttempts(ctx, a.OrgID, id, []store.WebhookResult{r.WebhookResult}); err != nil {
		return model.WebhookDelivery{}, err
	}
	return s.st.WebhookDelivery(ctx, a.OrgID, id, d.ID)
}

// Deliveries returns an endpoint's log, newest first.
func (s *Service) Deliveries(ctx context.Context, a model.Actor, endpointID int64, f store.WebhookDeliveryFilter) ([]model.WebhookDelivery, error) {
	if err := may(a); err != nil {
		return nil, err
	}
	if _, err := s.st.WebhookEndpoint(ctx, a.OrgID, endpointID); err != nil {
		return nil, err
	}
	return s.st.WebhookDeliveries(ctx, a.OrgID, endpointID, f)
}

// Delivery returns one delivery of an endpoint with its attempts.
func (s *Service) Delivery(ctx context.Context, a model.Actor, endpointID, id int64) (model.WebhookDelivery, error) {
	if err := may(a); err != nil {
		return model.WebhookDelivery{}, err
	}
	return s.st.WebhookDelivery(ctx, a.OrgID, endpointID, id)
}

// Replay sends a delivery again now: new attempts, the same webhook-id.
func (s *Service) Replay(ctx context.Context, a model.Actor, endpointID, id int64) (model.WebhookDelivery, error) {
	if err := may(a); err != nil {
		return model.WebhookDelivery{}, err
	}
	if err := s.enabledEndpoint(ctx, a.OrgID, endpointID); err != nil {
		return model.WebhookDelivery{}, err
	}
	if err := s.st.ReplayWebhookDelivery(ctx, a.OrgID, endpointID, id); err != nil {
		if errors.Is(err, model.ErrNotFound) {
			if _, gerr := s.st.WebhookDelivery(ctx, a.OrgID, endpointID, id); gerr == nil {
				return model.WebhookDelivery{}, model.ErrConflict // being sent right now
			}
		}
		return model.WebhookDelivery{}, err
	}
	s.wake(ctx, a.OrgID, endpointID)
	return s.st.WebhookDelivery(ctx, a.OrgID, endpointID, id)
}

// ReplayRange sends again every delivery of an endpoint created in [from, to).
func (s *Service) ReplayRange(ctx context.Context, a model.Actor, endpointID int64, from, to time.Time) (int64, error) {
	if err := may(a); err != nil {
		return 0, err
	}
	if from.IsZero() || to.IsZero() || !from.Before(to) {
		v := model.NewValidationError()
		v.Add("from", "hooks.error.range")
		return 0, v.Err()
	}
	if err := s.enabledEndpoint(ctx, a.OrgID, endpointID); err != nil {
		return 0, err
	}
	n, err := s.st.ReplayWebhookDeliveries(ctx, a.OrgID, endpointID, from, to)
	if err == nil && n > 0 {
		s.wake(ctx, a.OrgID, endpointID)
	}
	return n, err
}

// ErrDisabled is a replay to a disabled endpoint: enable it first.
var ErrDisabled = errors.New("hooks: the endpoint is disabled")

func (s *Service) enabledEndpoint(ctx context.Context, orgID, id int64) error {
	e, err := s.st.WebhookEndpoint(ctx, orgID, id)
	if err != nil {
		return err
	}
	if !e.Enabled {
		return ErrDisabled
	}
	return nil
}

func (s *Service) audit(ctx context.Context, a model.Actor, action string, id int64, u string) {
	_ = s.st.Audit(ctx, model.AuditEntry{OrgID: a.OrgID, UserID: a.UserRef(), Action: action,
		Target: "webhook " + strconv.FormatInt(id, 10) + " " + u, IP: a.IP, UserAgent: a.UserAgent})
}

// Area is a group of subscribable events, for the form that picks them.
type Area struct {
	Key    string // hooks.area.<key> names it
	Events []events.Def
}

// areaOf files an event under the area of the product it comes from.
var areaOf = map[string]string{
	"message": "inbox", "conversation": "inbox", "inbox": "inbox", "channel": "inbox", "templates": "inbox",
	"contact": "contacts", "contacts": "contacts", "import": "contacts",
	"lead": "leads", "pipeline": "leads",
	"campaign": "campaigns", "cadence": "cadences", "call": "calls",
	"ai": "ai", "kb": "ai", "persona": "ai",
}

var areaOrder = []string{"inbox", "contacts", "leads", "campaigns", "cadences", "calls", "ai", "org"}

// Areas groups the subscribable events by area, in the catalogue's order within each.
func Areas() []Area {
	by := map[string][]events.Def{}
	for _, d := range Subscribable() {
		prefix, _, _ := strings.Cut(d.Name, ".")
		a, ok := areaOf[prefix]
		if !ok {
			a = "org"
		}
		by[a] = append(by[a], d)
	}
	out := make([]Area, 0, len(areaOrder))
	for _, k := range areaOrder {
		if len(by[k]) > 0 {
			out = append(out, Area{Key: k, Events: by[k]})
		}
	}
	return out
}

// Reseal re-seals with the ring's primary key every webhook secret sealed with an older
// one (`masteria keys rotate`). Safe to run again and beside running instances.
func Reseal(ctx context.Context, st *store.Store, ring *vault.Ring) (int, error) {
	all, err := st.AllWebhookSecrets(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, sec := range all {
		if !ring.NeedsReseal(sec.Sealed) {
			continue
		}
		fresh, err := ring.Reseal(sec.Sealed, secretAD(sec.OrgID, sec.EndpointID))
		if err != nil {
			return n, fmt.Errorf("hooks: reseal the secret of endpoint %d: %w", sec.EndpointID, err)
		}
		ok, err := st.ResealWebhookSecret(ctx, sec.OrgID, sec.ID, sec.Sealed, fresh)
		if err != nil {
			return n, err
		}
		if ok {
			n++
		}
	}
	return n, nil
}
