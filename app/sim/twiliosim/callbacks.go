package twiliosim

import (
	"context"
	"strconv"
	"time"
)

// step is one status change of an outbound message.
type step struct {
	status string
	after  time.Duration
	code   int
}

// steps lists the status changes that get a status callback, following "Outbound Message
// Status in Status Callbacks"
// (https://www.twilio.com/docs/messaging/guides/outbound-message-status-in-status-callbacks):
// no callback for the initial status (queued, or accepted for a Messaging Service send); a
// Messaging Service send is queued once it has a sender; then sent and a final status, or
// failed straight away when the message never leaves Twilio.
func (s *Server) steps(viaService bool, o outcome) []step {
	var st []step
	if viaService {
		st = append(st, step{status: "queued"})
	}
	switch o.status {
	case StatusFailed:
		return append(st, step{status: StatusFailed, after: s.sentDelay, code: o.code})
	case StatusSent:
		return append(st, step{status: StatusSent, after: s.sentDelay})
	case StatusUndelivered:
		return append(st, step{status: StatusSent, after: s.sentDelay},
			step{status: StatusUndelivered, after: s.finalDelay, code: o.code})
	}
	return append(st, step{status: StatusSent, after: s.sentDelay},
		step{status: StatusDelivered, after: s.finalDelay})
}

// schedule runs a message's status changes in the background until Close. Callers hold s.mu.
func (s *Server) schedule(sid string, steps []step) {
	if s.closed {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for _, st := range steps {
			if !sleep(s.ctx, st.after) {
				return
			}
			raw, ok := s.advance(sid, st)
			if ok {
				s.sendCallback(raw)
			}
		}
	}()
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// advance moves a message to the step's status and builds its status callback, signed with
// the account's auth token over the StatusCallback URL exactly as given. ok is false when the
// message has no StatusCallback.
func (s *Server) advance(sid string, st step) (raw RawRequest, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.messages[sid]
	now := s.now()
	m.Status, m.DateUpdated, m.ErrorCode = st.status, now, st.code
	if st.status == StatusSent {
		m.DateSent = now
	}
	acct := s.accounts[m.AccountSid]
	if m.StatusCallback == "" || acct == nil {
		return RawRequest{}, false
	}
	// Parameters and their order as Twilio sends them for SMS: ErrorCode only when delivery
	// did not succeed (https://www.twilio.com/docs/events/event-types/messaging/outbound-message),
	// RawDlrDoneDate as YYMMDDhhmm on delivered and undelivered (Twilio changelog, 2023-02-14,
	// "Addition of RawDlrDoneDate to Delivered and Undelivered Status Webhooks").
	var f form
	if st.code != 0 {
		f.add("ErrorCode", strconv.Itoa(st.code))
	}
	if st.status == StatusDelivered || st.status == StatusUndelivered {
		f.add("RawDlrDoneDate", now.UTC().Format("0601021504"))
	}
	f.add("SmsSid", m.Sid)
	f.add("SmsStatus", st.status)
	f.add("MessageStatus", st.status)
	f.add("To", m.To)
	if m.MessagingServiceSid != "" {
		f.add("MessagingServiceSid", m.MessagingServiceSid)
	}
	f.add("MessageSid", m.Sid)
	f.add("AccountSid", m.AccountSid)
	f.add("From", m.From)
	f.add("ApiVersion", apiVersion)
	return newRawRequest(m.Sid, m.StatusCallback, acct.token, f), true
}

// sendCallback posts a status callback once and records it with the app's answer.
func (s *Server) sendCallback(raw RawRequest) {
	status, _, err := s.post(s.ctx, raw)
	if err != nil {
		if s.ctx.Err() != nil {
			return // closing: nobody waits for this callback any more
		}
		s.log.Warn("twiliosim: status callback", "url", raw.URL, "err", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.callbacks = append(s.callbacks, Callback{
		URL:       raw.URL,
		Params:    raw.Params(),
		Signature: raw.Header.Get("X-Twilio-Signature"),
		Status:    status,
		Err:       err,
	})
	s.changes.Notify()
}
