package wameow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/lib/pq"
	"go.mau.fi/whatsmeow"
	wastore "go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/store/sqlstore"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	waLog "go.mau.fi/whatsmeow/util/log"

	"masteria/app/channel"
)

func init() {
	// whatsmeow passes arrays to lib/pq through this hook (it has no array type of its own).
	sqlstore.PostgresArrayWrapper = pq.Array
}

// whatsApp runs sessions on WhatsApp's servers with whatsmeow.
type whatsApp struct {
	m         *Manager
	container *sqlstore.Container

	mu       sync.Mutex
	upgraded bool
}

func newWhatsApp(m *Manager) *whatsApp {
	return &whatsApp{m: m, container: sqlstore.NewWithDB(m.st.DB().DB, "postgres", slogger("store"))}
}

// Container is whatsmeow's device store in the app's database.
func (m *Manager) Container() *sqlstore.Container {
	if m.wa == nil {
		return nil
	}
	return m.wa.container
}

// Upgrade creates or updates whatsmeow's tables, one instance at a time. It runs before
// the first session, so an app without QR channels never creates them.
func (m *Manager) Upgrade(ctx context.Context) error {
	if m.wa == nil {
		return nil
	}
	return m.wa.upgrade(ctx)
}

func (w *whatsApp) upgrade(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.upgraded {
		return nil
	}
	lock, err := w.m.st.LockQRSchema(ctx)
	if err != nil {
		return err
	}
	defer lock.Release(context.WithoutCancel(ctx))
	if err := w.container.Upgrade(ctx); err != nil {
		return fmt.Errorf("wameow: upgrade whatsmeow tables: %w", err)
	}
	w.upgraded = true
	return nil
}

// errEnded is a session that set its own final status (logged out, banned, codes ran out).
var errEnded = errors.New("wameow: session ended")

// run runs one session: pairs it when it has no device yet, otherwise connects it, then
// keeps it until ctx ends or WhatsApp ends it.
func (w *whatsApp) run(ctx context.Context, s *session) error {
	if err := w.upgrade(ctx); err != nil {
		return err
	}
	dev, err := w.device(ctx, s)
	if err != nil || dev == nil {
		return err
	}
	cli := whatsmeow.NewClient(dev, slogger(fmt.Sprintf("channel %d", s.ch.ID)))
	cli.SynchronousAck = true // a message is acknowledged only once the inbox stored it
	cli.EnableAutoReconnect = true
	cli.AddEventHandlerWithSuccessStatus(func(evt any) bool { return w.handle(ctx, s, cli, evt) })
	s.client.Store(cli)
	defer s.client.Store(nil)
	defer func() {
		if s.logout.Load() && cli.Store.ID != nil {
			out, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if err := cli.Logout(out); err != nil {
				slog.Warn("wameow: logout", "channel", s.ch.ID, "err", err)
				_ = cli.Store.Delete(out) // unlinked or not, this device is not used again
			}
		}
		cli.Disconnect()
	}()

	if dev.ID == nil {
		if err := w.pair(ctx, s, cli); err != nil {
			return err
		}
	} else {
		s.paired.Store(true)
		if err := cli.ConnectContext(ctx); err != nil {
			return fmt.Errorf("wameow: connect: %w", err)
		}
	}
	<-ctx.Done()
	return ctx.Err()
}

// device is the session's whatsmeow device: the stored one of a connected channel, a new
// one for a channel to pair (after deleting the one it had, if any). Nil when the stored
// device is gone: the channel is marked disconnected.
func (w *whatsApp) device(ctx context.Context, s *session) (*wastore.Device, error) {
	var cfg struct {
		JID string `json:"jid"`
	}
	if err := channel.Config(s.ch, &cfg); err != nil {
		return nil, err
	}
	var old *wastore.Device
	if cfg.JID != "" {
		jid, err := types.ParseJID(cfg.JID)
		if err != nil {
			return nil, fmt.Errorf("wameow: channel %d jid: %w", s.ch.ID, err)
		}
		if old, err = w.container.GetDevice(ctx, jid); err != nil {
			return nil, err
		}
	}
	if s.ch.Status == "pending" {
		if old != nil {
			if err := old.Delete(ctx); err != nil {
				return nil, err
			}
		}
		return w.container.NewDevice(), nil
	}
	if old == nil {
		s.ending.Store(true)
		_, err := w.m.setState(ctx, s.ch, "disconnected", "The session was lost: connect the number again.", nil, "jid")
		return nil, err
	}
	return old, nil
}

// pair shows pairing codes until the phone scans one, then records the linked number.
func (w *whatsApp) pair(ctx context.Context, s *session, cli *whatsmeow.Client) error {
	qr, err := cli.GetQRChannel(ctx)
	if err != nil {
		return fmt.Errorf("wameow: qr channel: %w", err)
	}
	if err := cli.ConnectContext(ctx); err != nil {
		return fmt.Errorf("wameow: connect: %w", err)
	}
	for item := range qr {
		switch {
		case item.Event == whatsmeow.QRChannelEventCode:
			if err := w.m.putQR(ctx, s.ch, item.Code, time.Now().Add(item.Timeout)); err != nil {
				return err
			}
		case item == whatsmeow.QRChannelSuccess:
			id := cli.Store.ID
			if id == nil {
				return fmt.Errorf("wameow: paired without a device id")
			}
			s.paired.Store(true)
			s.connected.Store(true)
			_, err := w.m.setState(ctx, s.ch, "connected", "", map[string]string{"jid": id.String(), "phone": Phone(id.ToNonAD())})
			return err
		case item == whatsmeow.QRChannelTimeout:
			return w.end(ctx, s, "error", "The QR code expired before it was scanned.")
		default:
			msg := item.Event
			if item.Error != nil {
				msg = item.Error.Error()
			}
			return w.end(ctx, s, "error", "Pairing failed: "+msg)
		}
	}
	return ctx.Err()
}

// end records a session's final status and stops it.
func (w *whatsApp) end(ctx context.Context, s *session, status, why string, drop ...string) error {
	s.ending.Store(true)
	defer s.cancel()
	if _, err := w.m.setState(context.WithoutCancel(ctx), s.ch, status, why, nil, drop...); err != nil {
		return err
	}
	return errEnded
}

// handle is whatsmeow's event handler. Returning false for a message leaves it
// unacknowledged, so WhatsApp delivers it again.
func (w *whatsApp) handle(ctx context.Context, s *session, cli *whatsmeow.Client, evt any) bool {
	switch e := evt.(type) {
	case *events.Message:
		if Phone(e.Info.Sender.ToNonAD()) == "" && Phone(e.Info.SenderAlt.ToNonAD()) == "" && e.Info.Sender.Server == types.HiddenUserServer {
			// A LID sender: its number, if WhatsApp shared it, is in the LID map.
			if pn, err := cli.Store.LIDs.GetPNForLID(ctx, e.Info.Sender.ToNonAD()); err == nil && !pn.IsEmpty() {
				cp := *e
				cp.Info.SenderAlt = pn
				e = &cp
			}
		}
		in, skip := Inbound(e)
		if skip != SkipNone {
			return true
		}
		if _, err := w.m.recv.Receive(ctx, s.ch, in); err != nil {
			slog.Warn("wameow: store inbound", "channel", s.ch.ID, "id", in.ProviderID, "err", err)
			return false
		}
	case *events.Receipt:
		status, ids, ok := Receipt(e)
		if !ok {
			return true
		}
		for _, id := range ids {
			if err := w.m.recv.Status(ctx, s.ch, channel.StatusUpdate{ProviderID: id, Status: status}); err != nil {
				slog.Warn("wameow: receipt", "channel", s.ch.ID, "id", id, "err", err)
				return false
			}
		}
	case *events.Connected:
		s.paired.Store(true)
		if s.connected.CompareAndSwap(false, true) {
			if _, err := w.m.setState(ctx, s.ch, "connected", "", nil); err != nil {
				slog.Warn("wameow: connected", "channel", s.ch.ID, "err", err)
			}
		}
	case *events.LoggedOut:
		// whatsmeow deletes the device itself.
		go w.end(ctx, s, "disconnected", "Logged out from the phone.", "jid") //nolint:errcheck // logged by the session
	case *events.TemporaryBan:
		go w.end(ctx, s, "error", e.String()) //nolint:errcheck
	case *events.ConnectFailure, *events.ClientOutdated, *events.StreamReplaced, *events.CATRefreshError:
		why := "WhatsApp closed the connection."
		if p, ok := evt.(events.PermanentDisconnect); ok {
			why = "WhatsApp closed the connection: " + p.PermanentDisconnectDescription()
		}
		go w.end(ctx, s, "error", why) //nolint:errcheck
	}
	return true
}

// ErrNotHere is a send through a QR channel whose session another instance runs (or none
// does yet): the job retries, and the instance that holds it sends it.
var ErrNotHere = fmt.Errorf("wameow: this instance does not run the channel's session: %w", channel.ErrElsewhere)

// client is the live client of a channel's session on this instance, if any.
func (m *Manager) client(id int64) *whatsmeow.Client {
	m.mu.Lock()
	s := m.held[id]
	m.mu.Unlock()
	if s == nil {
		return nil
	}
	return s.client.Load()
}

// slogger adapts whatsmeow's logger to log/slog.
func slogger(module string) waLog.Logger { return slogLog{slog.With("module", "whatsmeow/"+module)} }

type slogLog struct{ l *slog.Logger }

func (s slogLog) Errorf(msg string, args ...any) { s.l.Error(fmt.Sprintf(msg, args...)) }
func (s slogLog) Warnf(msg string, args ...any)  { s.l.Warn(fmt.Sprintf(msg, args...)) }
func (s slogLog) Infof(msg string, args ...any)  { s.l.Debug(fmt.Sprintf(msg, args...)) }
func (s slogLog) Debugf(msg string, args ...any) { s.l.Debug(fmt.Sprintf(msg, args...)) }
func (s slogLog) Sub(module string) waLog.Logger { return slogLog{s.l.With("sub", module)} }
