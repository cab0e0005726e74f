package simhttp

import (
	"context"
	"sync"
)

// Changes lets a simulator's callers wait until its state holds something (a send
// recorded, a callback posted). The simulator calls Notify after each change, holding its
// own lock; Wait evaluates cond under that same lock.
type Changes struct {
	mu *sync.Mutex
	ch chan struct{} // closed and replaced on every change
}

// NewChanges returns the changes of a simulator whose state mu guards.
func NewChanges(mu *sync.Mutex) *Changes { return &Changes{mu: mu, ch: make(chan struct{})} }

// Notify wakes the waiters. The caller holds the simulator's lock.
func (c *Changes) Notify() {
	close(c.ch)
	c.ch = make(chan struct{})
}

// Wait blocks until cond, evaluated with the simulator's lock held, is true, or ctx ends.
func (c *Changes) Wait(ctx context.Context, cond func() bool) error {
	for {
		c.mu.Lock()
		ok, ch := cond(), c.ch
		c.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
