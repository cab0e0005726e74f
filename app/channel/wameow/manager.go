// Package wameow is the WhatsApp channel linked by QR code, over whatsmeow (the protocol of
// WhatsApp Web). Each channel is a device linked to a phone; its keys live in whatsmeow's
// tables (whatsmeow_*) in the app's own database, so a session comes back after a restart.
//
// A session must run on exactly one instance: two clients with the same keys knock each
// other off. The Manager of every instance looks for sessions and runs only those whose
// PostgreSQL advisory lock it holds, all on one connection it keeps while it runs any
// (store.QRLocks); when an instance dies its connection drops, the locks go with it, and
// another instance's next look takes the sessions over.
package wameow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.mau.fi/whatsmeow"

	"masteria/app/channel"
	"masteria/app/events"
	"masteria/app/model"
	"masteria/app/store"
)

// Options tune a Manager.
type Options struct {
	// Every is how often the manager looks for sessions nobody runs (default 12 s).
	Every time.Duration
	// Run runs one session whose lock this instance holds, until ctx ends. Nil runs it on
	// WhatsApp; tests pass their own so that the locking is tested without dialing out.
	Run func(ctx context.Context, ch model.Channel) error
}

// Manager runs the WhatsApp QR sessions this instance holds the lock of.
type Manager struct {
	st    *store.Store
	recv  channel.Receiver // the inbox
	every time.Duration
	run   func(ctx context.Context, s *session) error
	wa    *whatsApp // nil when Options.Run replaces it
	locks *store.QRLocks

	wake   chan struct{}
	mu     sync.Mutex
	held   map[int64]*session
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// session is one channel whose lock this instance holds.
type session struct {
	ch     model.Channel
	gen    int64 // the generation of the locks' connection it was locked on
	cancel context.CancelFunc
	done   chan struct{}
	// ending: the session set its own final status and is stopping; the sweep leaves it be.
	ending atomic.Bool
	// logout: unlink the device from the phone when stopping (the user disconnected it).
	logout atomic.Bool
	// paired: the device is linked to a phone; connected: the channel says so.
	paired, connected atomic.Bool
	client            atomic.Pointer[whatsmeow.Client]
}

// New returns a manager over the app's store, giving inbound messages to recv.
func New(st *store.Store, recv channel.Receiver, opts Options) *Manager {
	m := &Manager{st: st, recv: recv, every: opts.Every, wake: make(chan struct{}, 1), held: map[int64]*session{}, locks: st.NewQRLocks()}
	if m.every <= 0 {
		m.every = 12 * time.Second
	}
	if opts.Run != nil {
		m.run = func(ctx context.Context, s *session) error { return opts.Run(ctx, s.ch) }
	} else {
		m.wa = newWhatsApp(m)
		m.run = m.wa.run
	}
	return m
}

// Start looks for sessions now and then every Options.Every, until Stop.
func (m *Manager) Start(ctx context.Context) {
	ctx, m.cancel = context.WithCancel(context.WithoutCancel(ctx))
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		t := time.NewTicker(m.every)
		defer t.Stop()
		for {
			m.sweep(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			case <-m.wake:
			}
		}
	}()
}

// Stop ends every session this instance runs (the devices stay linked) and releases their
// locks, so another instance can take them over at once.
func (m *Manager) Stop() {
	if m.cancel == nil {
		return
	}
	m.cancel()
	m.wg.Wait()
}

// Wake makes the manager look for sessions now: a channel was just created or asked to pair.
// Another instance finds it at its next look.
func (m *Manager) Wake() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// Holds says whether this instance runs channel id's session.
func (m *Manager) Holds(id int64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.held[id]
	return ok
}

// sweep starts the sessions nobody runs and stops those that should no longer run here.
func (m *Manager) sweep(ctx context.Context) {
	list, err := m.st.QRSessions(ctx)
	if err != nil {
		if ctx.Err() == nil {
			slog.Warn("wameow: list sessions", "err", err)
		}
		return
	}
	want := make(map[int64]model.Channel, len(list))
	for _, ch := range list {
		want[ch.ID] = ch
	}
	m.mu.Lock()
	held := make([]*session, 0, len(m.held))
	for _, s := range m.held {
		held = append(held, s)
	}
	m.mu.Unlock()
	var gen int64
	if len(held) > 0 {
		gen, _ = m.locks.Alive(ctx) // 0: the locks' connection is gone
	}
	for _, s := range held {
		switch {
		case s.ending.Load():
		case want[s.ch.ID].ID == 0, want[s.ch.ID].Status == "pending" && s.paired.Load():
			// Disconnected by a user, deleted, or asked to pair anew: unlink the device.
			s.logout.Store(true)
			s.cancel()
		case s.gen != gen:
			// The locks' connection is gone, and this lock with it: stop before another
			// instance starts the same session.
			slog.Warn("wameow: lost the lock of a session", "channel", s.ch.ID)
			s.cancel()
		}
	}
	for _, ch := range list {
		if ctx.Err() != nil {
			return
		}
		if m.Holds(ch.ID) {
			continue
		}
		gen, ok, err := m.locks.TryLock(ctx, ch.ID)
		if err != nil {
			slog.Warn("wameow: lock", "channel", ch.ID, "err", err)
			continue
		}
		if !ok {
			continue // another instance runs it
		}
		m.start(ctx, ch, gen)
	}
}

func (m *Manager) start(ctx context.Context, ch model.Channel, gen int64) {
	sctx, cancel := context.WithCancel(ctx)
	s := &session{ch: ch, gen: gen, cancel: cancel, done: make(chan struct{})}
	s.connected.Store(ch.Status == "connected")
	m.mu.Lock()
	m.held[ch.ID] = s
	m.mu.Unlock()
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		defer close(s.done)
		err := m.run(sctx, s)
		cancel()
		if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, errEnded) {
			slog.Warn("wameow: session ended", "channel", ch.ID, "err", err)
		}
		m.mu.Lock()
		delete(m.held, ch.ID)
		m.mu.Unlock()
		rel, done := context.WithTimeout(context.Background(), 5*time.Second)
		m.locks.Unlock(rel, ch.ID, s.gen)
		done()
	}()
}

// setState records a QR channel's status as its session sees it, forgetting its pairing
// code unless it is still pairing, and tells the org's open pages.
func (m *Manager) setState(ctx context.Context, ch model.Channel, status, lastError string, set map[string]string, drop ...string) (model.Channel, error) {
	var out model.Channel
	err := m.st.Tx(ctx, func(tx *store.Store) error {
		var err error
		if out, err = tx.SetQRState(ctx, ch.OrgID, ch.ID, status, lastError, set, drop...); err != nil {
			return err
		}
		if status != "pending" {
			if err := tx.DeleteQRCode(ctx, ch.OrgID, ch.ID); err != nil {
				return err
			}
		}
		_, err = events.ChannelStatus.Publish(ctx, tx, ch.OrgID, events.ChannelState{ID: ch.ID, Status: status})
		return err
	})
	return out, err
}

// putQR stores the pairing code to show until expires and tells the org's open pages.
func (m *Manager) putQR(ctx context.Context, ch model.Channel, code string, expires time.Time) error {
	return m.st.Tx(ctx, func(tx *store.Store) error {
		if err := tx.PutQRCode(ctx, ch.OrgID, ch.ID, code, expires); err != nil {
			return err
		}
		// The event names the channel, not the code: the page reads the code from the
		// database, so it never sits in the events table.
		_, err := events.ChannelQR.Publish(ctx, tx, ch.OrgID, events.ChannelCode{ID: ch.ID, ExpiresAt: expires})
		return err
	})
}

// qrChannel returns a QR channel of the actor's org; any other is ErrNotFound.
func (m *Manager) qrChannel(ctx context.Context, orgID, id int64) (model.Channel, error) {
	ch, err := m.st.Channel(ctx, orgID, id)
	if err != nil {
		return ch, err
	}
	if ch.Kind != model.KindWhatsAppQR {
		return ch, model.ErrNotFound
	}
	return ch, nil
}

// Pair asks for a new pairing code: for a channel never paired, disconnected, or whose
// codes ran out. A connected channel is left as it is.
func (m *Manager) Pair(ctx context.Context, a model.Actor, id int64) (model.Channel, error) {
	ch, err := m.qrChannel(ctx, a.OrgID, id)
	if err != nil || ch.Status == "connected" {
		return ch, err
	}
	if ch, err = m.setState(ctx, ch, "pending", "", nil); err == nil {
		m.Wake()
	}
	return ch, err
}

// Disconnect unlinks a channel's device from the phone: the instance running its session
// logs it out at its next look (at once when it is this one).
func (m *Manager) Disconnect(ctx context.Context, a model.Actor, id int64) (model.Channel, error) {
	ch, err := m.qrChannel(ctx, a.OrgID, id)
	if err != nil {
		return ch, err
	}
	if ch, err = m.setState(ctx, ch, "disconnected", "", nil); err == nil {
		m.Wake()
	}
	return ch, err
}

// QR returns a channel's current pairing code; ErrNotFound when it shows none (paired,
// not yet started, or another org's).
func (m *Manager) QR(ctx context.Context, orgID, id int64) (store.QRCode, error) {
	q, err := m.st.QRCode(ctx, orgID, id)
	if err == nil && time.Now().After(q.ExpiresAt) {
		return q, fmt.Errorf("wameow: qr code expired: %w", model.ErrNotFound)
	}
	return q, err
}
