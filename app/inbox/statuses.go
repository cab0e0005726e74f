package inbox

import (
	"context"
	"sync"
	"time"

	"masteria/app/channel"
	"masteria/app/events"
	"masteria/app/model"
	"masteria/app/store"
)

// Status reports arrive by the thousand during a campaign, one webhook each. Each webhook
// hands its reports to the batcher and waits: one transaction applies every report that
// arrived while the previous one ran (group commit), so the cost per report falls as the
// load rises, and a webhook is still answered only after its reports are stored.

// maxStatusBatch bounds one transaction.
const maxStatusBatch = 1000

type statusReq struct {
	ch   model.Channel
	st   channel.StatusUpdate
	done chan error
}

type statusBatcher struct {
	mu      sync.Mutex
	running bool
	queue   []statusReq
	wake    chan struct{}
}

// applyBatched queues one report and waits until a batch holding it is applied.
func (s *Service) applyBatched(ctx context.Context, ch model.Channel, st channel.StatusUpdate) error {
	b := &s.statuses
	req := statusReq{ch: ch, st: st, done: make(chan error, 1)}
	b.mu.Lock()
	b.queue = append(b.queue, req)
	if !b.running {
		b.running = true
		if b.wake == nil {
			b.wake = make(chan struct{}, 1)
		}
		go s.drainStatuses()
	}
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		return ctx.Err() // the batch still applies it; the provider's retry changes nothing
	}
}

// drainStatuses applies the queue in batches until it stays empty for a while.
func (s *Service) drainStatuses() {
	b := &s.statuses
	for {
		b.mu.Lock()
		if len(b.queue) == 0 {
			b.mu.Unlock()
			select {
			case <-b.wake:
				continue
			case <-time.After(2 * time.Second):
				b.mu.Lock()
				if len(b.queue) == 0 {
					b.running = false
					b.mu.Unlock()
					return
				}
				b.mu.Unlock()
				continue
			}
		}
		n := min(len(b.queue), maxStatusBatch)
		batch := append([]statusReq(nil), b.queue[:n]...)
		b.queue = b.queue[n:]
		b.mu.Unlock()
		s.applyStatusBatch(batch)
	}
}

// statusRank orders a batch's reports of one message: the furthest is applied (failed
// ends only a send not yet delivered).
func statusRank(status string) int {
	switch status {
	case model.StatusSent:
		return 1
	case model.StatusFailed:
		return 2
	case model.StatusDelivered:
		return 3
	case model.StatusRead:
		return 4
	}
	return 0
}

// applyStatusBatch applies a batch in one transaction; if it fails, each report is applied
// alone, so one bad report does not fail the others.
func (s *Service) applyStatusBatch(batch []statusReq) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	type key struct {
		channel  int64
		provider string
	}
	furthest := map[key]int{}
	var reports []store.StatusReport
	for _, r := range batch {
		k := key{r.ch.ID, r.st.ProviderID}
		rep := reportOf(r.ch, r.st)
		if i, ok := furthest[k]; ok {
			if statusRank(rep.Status) > statusRank(reports[i].Status) {
				if rep.RefID == 0 {
					rep.RefID = reports[i].RefID
				}
				reports[i] = rep
			}
			continue
		}
		furthest[k] = len(reports)
		reports = append(reports, rep)
	}
	err := s.st.Tx(ctx, func(tx *store.Store) error {
		moved, err := tx.ApplyStatusReports(ctx, reports)
		if err != nil {
			return err
		}
		return s.announceMoved(ctx, tx, moved)
	})
	if err == nil {
		for _, r := range batch {
			r.done <- nil
		}
		return
	}
	for _, r := range batch {
		r.done <- s.applyReport(ctx, r.ch, r.st)
	}
}

// announceMoved publishes the moved messages' events, per org, and tells the hooks, per
// status.
func (s *Service) announceMoved(ctx context.Context, tx *store.Store, moved []store.MovedMessage) error {
	type group struct {
		org                 int64
		status, code, title string
	}
	evs := map[int64][]events.MessageState{}
	ids := map[group][]int64{}
	var order []group
	for _, m := range moved {
		evs[m.OrgID] = append(evs[m.OrgID], events.MessageState{MessageID: m.ID, ConversationID: m.ConversationID,
			Status: m.Status, ErrorCode: m.ErrorCode, ErrorTitle: m.ErrorTitle})
		g := group{m.OrgID, m.Status, m.ErrorCode, m.ErrorTitle}
		if _, ok := ids[g]; !ok {
			order = append(order, g)
		}
		ids[g] = append(ids[g], m.ID)
	}
	for org, list := range evs {
		if err := events.MessageStatus.PublishMany(ctx, tx, org, list); err != nil {
			return err
		}
	}
	if s.followers == nil {
		return nil
	}
	for _, g := range order {
		if err := s.followers.MessagesMoved(ctx, tx, g.org, ids[g], g.status, g.code, g.title); err != nil {
			return err
		}
	}
	return nil
}

// reportOf is a channel's status report as the store applies it: the message its Ref names,
// if any, reconciles a send whose answer was lost.
func reportOf(ch model.Channel, st channel.StatusUpdate) store.StatusReport {
	rep := store.StatusReport{OrgID: ch.OrgID, ChannelID: ch.ID, ProviderID: st.ProviderID, Status: st.Status,
		ErrorCode: st.ErrorCode, ErrorTitle: st.ErrorTitle}
	if id, ok := refMessage(st.Ref); ok {
		rep.RefID = id
	}
	return rep
}
