// Package calls takes Retell's call events and keeps the call record: one row per Retell
// call however often and in whatever order its events come, tied to the contact (found or
// created by number for inbound calls, from the metadata the call was started with for
// outbound ones), its lead, conversation and campaign; the recording copied into the
// media store; the call events published for the live pages; the analytics of the calls.
package calls

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"masteria/app/events"
	"masteria/app/model"
	"masteria/app/store"
	"masteria/app/voice/retell"
)

// Errors of Ingest, for the webhook's answer.
var (
	// ErrUnknownAccount is a webhook URL that names no Retell account (404).
	ErrUnknownAccount = errors.New("calls: unknown voice account")
	// ErrSignature is a missing, wrong or stale x-retell-signature (401).
	ErrSignature = retell.ErrSignature
	// ErrBadEvent is a body that is not a call event (400).
	ErrBadEvent = errors.New("calls: not a call event")
)

// Ranks of the events: a call's row only moves forward along them.
var ranks = map[string]int{"call_started": 1, "call_ended": 2, "call_analyzed": 3}

// Jobs inserts River jobs in the caller's transaction.
type Jobs interface {
	InsertTx(ctx context.Context, tx *sql.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// Options wire the service.
type Options struct {
	// WebhookKey returns the Retell account a webhook URL names and its API key in clear
	// (app/voice), model.ErrNotFound for an unknown account or one without a key.
	WebhookKey func(ctx context.Context, accountID int64) (model.VoiceAccount, string, error)
	// Now is the clock the signature's tolerance is read against (time.Now when nil).
	Now func() time.Time
	// CacheTTL is how long an account's key is kept in memory (30 s when 0); a signature
	// that fails against the kept key is checked again against the stored one.
	CacheTTL time.Duration
}

// Service ingests call events and reads calls.
type Service struct {
	st   *store.Store
	opts Options
	jobs Jobs

	hooks      []hook
	batchHooks []batchHook

	e164 e164Cache // the callers' numbers read before

	mu    sync.Mutex
	cache map[int64]cachedKey

	bmu      sync.Mutex // guards the events waiting for a statement
	queue    []*pending
	running  int              // runners of statements (see submit)
	inflight map[callKey]bool // the calls of the statements running

	statements atomic.Int64 // statements run, and the events they carried (Stats)
	applied    atomic.Int64
}

// Hook runs inside the transaction that applies a call event (call_started, call_ended,
// call_analyzed), with the call's row as it now stands (a later event of the call applied
// in the same statement shows in it: the hook runs once for each event, in their order);
// an error undoes the event, and Retell's retry brings it again. Campaigns settle their
// ledger here, and a call's outcome moves its lead.
type Hook func(ctx context.Context, tx *store.Store, event string, c model.Call) error

// hook is a Hook and the events it runs on (all when none are named).
type hook struct {
	run    Hook
	events []string
}

func (h hook) on(event string) bool { return len(h.events) == 0 || slices.Contains(h.events, event) }

// BatchHook is a Hook that takes every call an event was applied to in one statement at
// once (event is one of them; the rows as they now stand, one per call), so that what it
// reads costs one query for the group instead of one per call. It runs in the statement's
// transaction, after the per-call hooks; an error undoes every event of the group (each is
// then tried alone, as when the statement fails).
type BatchHook func(ctx context.Context, tx *store.Store, event string, cs []model.Call) error

type batchHook struct {
	run    BatchHook
	events []string
}

// AddHook adds h to the hooks run on every applied event, or only on the events named
// (call_started, call_ended, call_analyzed): events no hook runs on need no transaction
// of their own. Call it before serving.
func (s *Service) AddHook(h Hook, events ...string) {
	s.hooks = append(s.hooks, hook{run: h, events: slices.Clone(events)})
}

// AddBatchHook adds h to the hooks run once per statement on every applied event, or
// only on the events named. Call it before serving.
func (s *Service) AddBatchHook(h BatchHook, events ...string) {
	s.batchHooks = append(s.batchHooks, batchHook{run: h, events: slices.Clone(events)})
}

// Outbound wraps h so that it runs on outbound calls only: a hook that follows the calls
// Master IA placed (a cadence's, a campaign's) has nothing to do with a caller's call, and
// skipping it there saves its queries.
func Outbound(h Hook) Hook {
	return func(ctx context.Context, tx *store.Store, event string, c model.Call) error {
		if c.Direction != "outbound" {
			return nil
		}
		return h(ctx, tx, event, c)
	}
}

type cachedKey struct {
	acct    model.VoiceAccount
	key     string
	expires time.Time
}

// New returns the service.
func New(st *store.Store, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.CacheTTL == 0 {
		opts.CacheTTL = 30 * time.Second
	}
	return &Service{st: st, opts: opts, cache: map[int64]cachedKey{}, inflight: map[callKey]bool{}}
}

// SetJobs gives the service its job queue (the recording's copy); without one, recordings
// stay at Retell.
func (s *Service) SetJobs(j Jobs) { s.jobs = j }

// Result is what an ingested event did.
type Result struct {
	Call      model.Call
	Duplicate bool // the event had been applied already: nothing was done
	Ignored   bool // an event of no interest (transcript_updated, a web call): nothing was done
}

// account returns the account and its key, from the cache unless fresh.
func (s *Service) account(ctx context.Context, id int64, fresh bool) (model.VoiceAccount, string, error) {
	now := time.Now()
	if !fresh {
		s.mu.Lock()
		c, ok := s.cache[id]
		s.mu.Unlock()
		if ok && now.Before(c.expires) {
			return c.acct, c.key, nil
		}
	}
	if s.opts.WebhookKey == nil {
		return model.VoiceAccount{}, "", errors.New("calls: no webhook keys")
	}
	a, key, err := s.opts.WebhookKey(ctx, id)
	if errors.Is(err, model.ErrNotFound) {
		return a, "", ErrUnknownAccount
	}
	if err != nil {
		return a, "", err
	}
	s.mu.Lock()
	s.cache[id] = cachedKey{acct: a, key: key, expires: now.Add(s.opts.CacheTTL)}
	s.mu.Unlock()
	return a, key, nil
}

// Ingest takes one webhook delivery for the account: it checks header (x-retell-signature)
// against the account's key, then applies the event. A duplicate is recognised and does
// nothing; an unknown call creates its row.
func (s *Service) Ingest(ctx context.Context, accountID int64, header string, body []byte) (Result, error) {
	a, key, err := s.account(ctx, accountID, false)
	if err != nil {
		return Result{}, err
	}
	if err := retell.Verify(body, header, key, s.opts.Now()); err != nil {
		// The key may have changed since it was cached: check the stored one.
		if a, key, err = s.account(ctx, accountID, true); err != nil {
			return Result{}, err
		}
		if err := retell.Verify(body, header, key, s.opts.Now()); err != nil {
			return Result{}, ErrSignature
		}
	}
	// PostgreSQL text holds no NUL: such an event is refused before anything is written.
	if bytes.Contains(body, []byte(`\u0000`)) {
		return Result{}, fmt.Errorf("%w: a NUL character", ErrBadEvent)
	}
	var ev retell.Event
	if err := json.Unmarshal(body, &ev); err != nil {
		return Result{}, fmt.Errorf("%w: %v", ErrBadEvent, err)
	}
	rank, ok := ranks[ev.Event]
	if !ok || ev.Call.CallType == "web_call" {
		return Result{Ignored: true}, nil
	}
	c, err := callOf(a.OrgID, ev.Call, rank)
	if err != nil {
		return Result{}, err
	}
	return s.apply(ev.Event, c)
}

// Stats are the statements the ingest ran and the events they applied, since the start.
func (s *Service) Stats() (statements, events int64) { return s.statements.Load(), s.applied.Load() }

// callOf reads Retell's call object into a row of this event's rank.
func callOf(orgID int64, rc retell.Call, rank int) (model.Call, error) {
	if rc.CallID == "" || len(rc.CallID) > 128 {
		return model.Call{}, fmt.Errorf("%w: no call id", ErrBadEvent)
	}
	c := model.Call{OrgID: orgID, CallID: rc.CallID, Direction: rc.Direction, FromNumber: rc.FromNumber, ToNumber: rc.ToNumber,
		AgentID: rc.AgentID, AgentName: rc.AgentName, Status: rc.CallStatus, EventRank: rank,
		DisconnectionReason: rc.DisconnectionReason, DurationMS: rc.DurationMS, RecordingURL: rc.RecordingURL,
		Transcript: rc.Transcript, Metadata: rc.Metadata}
	if c.Direction != "inbound" {
		c.Direction = "outbound"
	}
	switch c.Status {
	case model.CallRegistered, model.CallOngoing, model.CallEnded, model.CallNotConnected, model.CallError:
	default:
		// An event says what happened even where the status is missing.
		c.Status = map[int]string{1: model.CallOngoing, 2: model.CallEnded, 3: model.CallEnded}[rank]
	}
	if rc.StartTimestamp > 0 {
		t := time.UnixMilli(rc.StartTimestamp).UTC()
		c.StartedAt = &t
	}
	if rc.EndTimestamp > 0 {
		t := time.UnixMilli(rc.EndTimestamp).UTC()
		c.EndedAt = &t
	}
	if c.DurationMS == 0 && c.StartedAt != nil && c.EndedAt != nil {
		c.DurationMS = c.EndedAt.Sub(*c.StartedAt).Milliseconds()
	}
	if len(rc.TranscriptObject) > 0 {
		// The words' timings are not kept: the thread shows who said what.
		turns := make([]Turn, len(rc.TranscriptObject))
		for i, u := range rc.TranscriptObject {
			turns[i] = Turn{Role: u.Role, Content: u.Content}
		}
		c.TranscriptObject, _ = json.Marshal(turns)
	}
	if rc.DynamicVariables != nil {
		c.DynamicVariables, _ = json.Marshal(rc.DynamicVariables)
	}
	if an := rc.CallAnalysis; an != nil {
		c.Summary = an.CallSummary
		switch an.UserSentiment {
		case "Positive", "Neutral", "Negative", "Unknown":
			c.Sentiment = an.UserSentiment
		}
		c.Successful, c.InVoicemail = an.CallSuccessful, an.InVoicemail
		if len(an.CustomAnalysisData) > 0 && an.CustomAnalysisData[0] == '{' {
			c.CustomAnalysis = an.CustomAnalysisData
		}
	}
	if rc.CallCost != nil {
		c.CostCents = rc.CallCost.CombinedCost
	}
	if len(c.Metadata) > 0 && c.Metadata[0] != '{' {
		c.Metadata = nil // metadata is an object; anything else is not ours
	}
	return c, nil
}

// Turn is one turn of a call's transcript.
type Turn struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Turns reads a call's transcript by speaker.
func Turns(c model.Call) []Turn {
	var out []Turn
	_ = json.Unmarshal(c.TranscriptObject, &out)
	return out
}

// links are the ids an outbound call was started with.
type links struct {
	ContactID      flexID `json:"contact_id"`
	LeadID         flexID `json:"lead_id"`
	ConversationID flexID `json:"conversation_id"`
	CampaignID     flexID `json:"campaign_id"`
}

// flexID reads an id given as a number or a string (Retell's metadata is free JSON).
type flexID int64

func (f *flexID) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		b = []byte(s)
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil || n < 0 {
		*f = 0
		return nil
	}
	*f = flexID(n)
	return nil
}

// callEventTypes are the events a call's events publish.
var callEventTypes = map[string]events.Type[events.CallRef]{"call_started": events.CallStarted, "call_ended": events.CallEnded,
	"call_analyzed": events.CallAnalyzed}

// apply writes the event into the call's row, unless the event came before: one statement
// (store.IngestCallEvents) claims the event, ties the call to the org's records (creating
// an inbound caller's contact), moves the row forward and records the events. Events that
// arrive together go in one statement (see submit).
func (s *Service) apply(event string, c model.Call) (Result, error) {
	ours, theirs := c.ToNumber, c.FromNumber
	if c.Direction == "outbound" {
		ours, theirs = c.FromNumber, c.ToNumber
	}
	var l links
	if len(c.Metadata) > 0 {
		_ = json.Unmarshal(c.Metadata, &l)
	}
	e164 := s.e164.normalize(theirs)
	in := store.CallEvent{Call: c, Event: event, ContactID: int64(l.ContactID), LeadID: int64(l.LeadID),
		ConvID: int64(l.ConversationID), CampaignID: int64(l.CampaignID), OurNumber: ours, TheirNumber: e164,
		CallEventType: callEventTypes[event].Name()}
	o := s.submit(in)
	if o.err != nil {
		return Result{}, o.err
	}
	return Result{Call: o.call, Duplicate: !o.fresh}, nil
}

// maxBatch is the most events one statement applies. One runner of statements is the
// cheapest (the bigger the statements, the less an event costs); a second starts when more
// than maxBatch/4 events wait, so that a statement held up (a locked row, a slow hook) does
// not hold up every event. maxStatements bounds the runners. (Most of a statement's cost is
// the statement's, not its events': measured with pgbench, about 0.5 ms of PostgreSQL's CPU a
// statement, much of it in starting the plan, and 0.1 ms an event.)
const (
	maxBatch      = 64
	maxStatements = 2
)

// pending is an event waiting for its statement.
type pending struct {
	in   store.CallEvent
	out  outcome
	done chan struct{} // closed once out is set
}

type outcome struct {
	call  model.Call
	fresh bool
	err   error
}

// submit applies an event together with those that arrive meanwhile (group commit): the
// event waits in a queue that a runner (two when many wait) empties, taking every event
// waiting (each event of a call once, maxBatch in all) into each statement; a runner ends
// when the queue is empty. At low load a statement carries one event; under load one round
// trip carries many.
func (s *Service) submit(in store.CallEvent) outcome {
	p := &pending{in: in, done: make(chan struct{})}
	s.bmu.Lock()
	s.queue = append(s.queue, p)
	if s.running == 0 || (s.running < maxStatements && len(s.queue) > maxBatch/4) {
		s.running++
		go s.runner()
	}
	s.bmu.Unlock()
	<-p.done
	return p.out
}

// runner runs statements until no event waits.
func (s *Service) runner() {
	for {
		s.bmu.Lock()
		batch := s.takeLocked()
		if len(batch) == 0 {
			s.running--
			s.bmu.Unlock()
			return
		}
		s.bmu.Unlock()
		s.run(context.Background(), batch)
		s.bmu.Lock()
		for _, p := range batch {
			delete(s.inflight, callKey{p.in.Call.OrgID, p.in.Call.CallID})
		}
		s.bmu.Unlock()
	}
}

// callKey names a call across orgs.
type callKey struct {
	org  int64
	call string
}

// takeLocked takes the next statement's events off the queue: in order, at most maxBatch,
// each event of a call once (a second copy waits for the next statement, where it is a
// duplicate) and none of a call another statement is applying (they wait for the next
// statement), so that statements running at once touch different calls. The events of a
// call that arrive together (Retell's call_ended and call_analyzed often do) go into one
// statement, folded into one change of the call's row. The caller holds bmu.
func (s *Service) takeLocked() []*pending {
	type eventKey struct {
		callKey
		event string
	}
	var batch []*pending
	calls := map[callKey]bool{}
	seen := map[eventKey]bool{}
	rest := s.queue[:0]
	for _, p := range s.queue {
		k := callKey{p.in.Call.OrgID, p.in.Call.CallID}
		e := eventKey{k, p.in.Event}
		if seen[e] || s.inflight[k] || len(batch) == maxBatch {
			rest = append(rest, p)
			continue
		}
		seen[e], calls[k] = true, true
		batch = append(batch, p)
	}
	clear(s.queue[len(rest):])
	s.queue = rest
	for k := range calls {
		s.inflight[k] = true
	}
	// Rows are locked in the same order by every instance's statements.
	slices.SortFunc(batch, func(a, b *pending) int {
		return cmp.Or(cmp.Compare(a.in.Call.OrgID, b.in.Call.OrgID), cmp.Compare(a.in.Call.CallID, b.in.Call.CallID),
			cmp.Compare(a.in.Call.EventRank, b.in.Call.EventRank))
	})
	return batch
}

// run applies a batch and gives each event its outcome. When the statement (or a hook)
// fails, each event of a batch of several is tried alone, so that only the failing one
// fails.
func (s *Service) run(ctx context.Context, batch []*pending) {
	if len(batch) == 0 {
		return
	}
	s.statements.Add(1)
	s.applied.Add(int64(len(batch)))
	rows, err := s.safeIngest(ctx, batch)
	if err != nil && len(batch) > 1 {
		for _, p := range batch {
			s.run(ctx, []*pending{p})
		}
		return
	}
	byCall := make(map[callKey]store.IngestedCall, len(rows))
	for _, r := range rows {
		byCall[callKey{r.OrgID, r.CallID}] = r
	}
	for _, p := range batch {
		if err != nil {
			p.out.err = err
		} else if r, ok := byCall[callKey{p.in.Call.OrgID, p.in.Call.CallID}]; ok && slices.Contains(r.Events, p.in.Event) {
			p.out = outcome{call: r.Call, fresh: true}
		}
		close(p.done)
	}
}

// safeIngest is ingest with a panic turned into the batch's error, so that the events
// waiting on this batch get an answer and the runner goes on.
func (s *Service) safeIngest(ctx context.Context, batch []*pending) (rows []store.IngestedCall, err error) {
	defer func() {
		if r := recover(); r != nil {
			rows, err = nil, fmt.Errorf("calls: ingest panicked: %v", r)
		}
	}()
	return s.ingest(ctx, batch)
}

// runHook runs a hook, its panic made an error so that the transaction is rolled back.
func runHook(ctx context.Context, h Hook, tx *store.Store, event string, c model.Call) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("calls: a hook panicked on %s of call %s: %v", event, c.CallID, r)
		}
	}()
	return h(ctx, tx, event, c)
}

// runBatchHook runs a batch hook, its panic made an error so that the transaction is
// rolled back.
func runBatchHook(ctx context.Context, h BatchHook, tx *store.Store, event string, cs []model.Call) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("calls: a hook panicked on %s of %d calls: %v", event, len(cs), r)
		}
	}()
	return h(ctx, tx, event, cs)
}

// ingest runs the statement of a batch: on its own (one round trip), or in a transaction
// when hooks run or a recording's copy is to be queued, each hook once for each new event
// of a call (in their order) with the call's row as the statement left it.
func (s *Service) ingest(ctx context.Context, batch []*pending) ([]store.IngestedCall, error) {
	ins := make([]store.CallEvent, len(batch))
	tx := false
	for i, p := range batch {
		ins[i] = p.in
		tx = tx || (s.jobs != nil && p.in.Call.RecordingURL != "")
		for _, h := range s.hooks {
			tx = tx || h.on(p.in.Event)
		}
		for _, h := range s.batchHooks {
			tx = tx || len(h.events) == 0 || slices.Contains(h.events, p.in.Event)
		}
	}
	contactCreated := events.ContactCreated.Name()
	if !tx {
		return s.st.IngestCallEvents(ctx, ins, contactCreated)
	}
	var rows []store.IngestedCall
	err := s.st.Tx(ctx, func(tx *store.Store) error {
		var err error
		if rows, err = tx.IngestCallEvents(ctx, ins, contactCreated); err != nil {
			return err
		}
		byEvent := map[string][]model.Call{}
		for _, row := range rows {
			recording := false
			for _, event := range row.Events {
				var p *pending
				for _, q := range batch {
					if q.in.Call.OrgID == row.OrgID && q.in.Call.CallID == row.CallID && q.in.Event == event {
						p = q
					}
				}
				if p == nil {
					return fmt.Errorf("calls: %s of call %s came back from no event", event, row.CallID)
				}
				recording = recording || p.in.Call.RecordingURL != ""
				byEvent[event] = append(byEvent[event], row.Call)
				for _, h := range s.hooks {
					if !h.on(event) {
						continue
					}
					if err := runHook(ctx, h.run, tx, event, row.Call); err != nil {
						return err
					}
				}
			}
			if s.jobs != nil && recording && row.RecordingURL != "" && row.RecordingFileID == nil {
				if _, err := s.jobs.InsertTx(ctx, tx.SQLTx(), RecordingArgs{OrgID: row.OrgID, ID: row.ID}, &river.InsertOpts{
					UniqueOpts: river.UniqueOpts{ByArgs: true},
				}); err != nil {
					return fmt.Errorf("calls: queue the recording: %w", err)
				}
			}
		}
		for _, event := range []string{"call_started", "call_ended", "call_analyzed"} {
			if len(byEvent[event]) == 0 {
				continue
			}
			for _, h := range s.batchHooks {
				if len(h.events) > 0 && !slices.Contains(h.events, event) {
					continue
				}
				if err := runBatchHook(ctx, h.run, tx, event, byEvent[event]); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rows, nil
}

// Ref is the event payload of a call.
func Ref(c model.Call) events.CallRef {
	r := events.CallRef{ID: c.ID, CallID: c.CallID, Direction: c.Direction, Status: c.Status, Outcome: c.Outcome()}
	if c.ContactID != nil {
		r.ContactID = *c.ContactID
	}
	if c.LeadID != nil {
		r.LeadID = *c.LeadID
	}
	if c.ConversationID != nil {
		r.ConversationID = *c.ConversationID
	}
	if c.CampaignID != nil {
		r.CampaignID = *c.CampaignID
	}
	return r
}
