package metasim

import (
	"container/heap"
	"errors"
	"net/http"
	"time"
)

// DefaultStatusWorkers is how many status webhooks the sim posts at once.
const DefaultStatusWorkers = 8

// WithStatusWorkers sets how many status webhooks are posted at once (default
// DefaultStatusWorkers). However many sends are accepted, the sim runs this many posting
// goroutines and one timer goroutine; the statuses waiting their turn are a queue in memory.
func WithStatusWorkers(n int) Option {
	return func(s *Server) {
		if n > 0 {
			s.workers = n
		}
	}
}

// WithoutStatuses turns status webhooks off entirely, failures included: a bare sim for
// benchmarks of the send path. SetAutoStatuses cannot turn them back on.
func WithoutStatuses() Option { return func(s *Server) { s.noStatuses = true } }

// statusJob is the automatic status webhooks of one accepted message, posted in order by one
// worker at a time: sent, then delivered, then read (or failed).
type statusJob struct {
	due   time.Time // real time, not the sim's clock: WithStatusDelays are real pauses
	msg   SentMessage
	steps []string
	next  int
	fail  *Error
}

// jobHeap orders jobs by due time.
type jobHeap []*statusJob

func (h jobHeap) Len() int           { return len(h) }
func (h jobHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h jobHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *jobHeap) Push(x any)        { *h = append(*h, x.(*statusJob)) }
func (h *jobHeap) Pop() any {
	old := *h
	j := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return j
}

// enqueue puts a job on the timer queue, starting the timer and the workers on first use.
func (s *Server) enqueue(j *statusJob) {
	s.startWorkers.Do(func() {
		s.work = make(chan *statusJob, 4*s.workers)
		s.wake = make(chan struct{}, 1)
		go s.dispatch()
		for range s.workers {
			go s.postStatuses()
		}
	})
	s.qmu.Lock()
	heap.Push(&s.queue, j)
	s.qmu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// dispatch hands each job to the workers once it is due.
func (s *Server) dispatch() {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		s.qmu.Lock()
		var j *statusJob
		wait := time.Hour
		if len(s.queue) > 0 {
			if d := time.Until(s.queue[0].due); d <= 0 {
				j = heap.Pop(&s.queue).(*statusJob)
			} else {
				wait = d
			}
		}
		s.qmu.Unlock()
		if j != nil {
			select {
			case s.work <- j:
				continue
			case <-s.ctx.Done():
				return
			}
		}
		timer.Reset(wait)
		select {
		case <-timer.C:
		case <-s.wake:
			if !timer.Stop() {
				select {
				case <-timer.C:
				default:
				}
			}
		case <-s.ctx.Done():
			return
		}
	}
}

// postStatuses is one worker: it posts a job's due status and, when the next one has a
// delay, puts the job back on the timer queue instead of sleeping.
func (s *Server) postStatuses() {
	for {
		var j *statusJob
		select {
		case j = <-s.work:
		case <-s.ctx.Done():
			return
		}
		for {
			name := j.steps[j.next]
			j.next++
			st := s.statusFor(j.msg, name)
			if name == StatusFailed {
				st.Errors = []Error{*j.fail}
			}
			code, err := s.SendStatuses(s.ctx, j.msg.PhoneNumberID, st)
			stop := false
			switch {
			case errors.Is(err, ErrNoWebhookURL), s.ctx.Err() != nil:
				stop = true
			case err != nil:
				s.log.Warn("metasim: status webhook", "status", name, "wamid", j.msg.ID, "err", err)
			case code >= 300:
				s.log.Warn("metasim: status webhook refused", "status", name, "wamid", j.msg.ID, "http", code)
			}
			if stop || j.next >= len(j.steps) {
				s.jobDone()
				break
			}
			if d := s.delayFor(j.steps[j.next]); d > 0 {
				j.due = time.Now().Add(d)
				s.enqueue(j)
				break
			}
		}
	}
}

func (s *Server) jobDone() {
	s.mu.Lock()
	if s.pending > 0 {
		s.pending--
	}
	s.changes.Notify()
	s.mu.Unlock()
}

// defaultClient posts webhooks: it keeps enough idle connections for every worker, so a
// busy sim reuses them instead of opening one per status.
func defaultClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	return &http.Client{Timeout: 10 * time.Second, Transport: t}
}
