package analytics

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// A dashboard asks many figures of one filter: its KPIs, their series and its tables read
// the same rollup rows again and again. Within a context from WithMemo, each rollup query
// (same org, filter and buckets) runs once and its rows are shared.

type memoKey struct{}

type memo struct {
	mu   sync.Mutex
	rows map[string]*memoEntry
}

// memoEntry is one query's rows, ready once done is closed.
type memoEntry struct {
	done chan struct{}
	v    any
	err  error
}

// WithMemo is ctx in which the engine reads each rollup query once: wrap one request's
// context (a page, an export, an API call) with it, never a long-lived one — what it read
// does not change afterwards. Home does it itself.
func WithMemo(ctx context.Context) context.Context {
	if _, ok := ctx.Value(memoKey{}).(*memo); ok {
		return ctx
	}
	return context.WithValue(ctx, memoKey{}, &memo{rows: map[string]*memoEntry{}})
}

// remembered runs read once per key within a memo context (every time without one). Parts
// of a request may ask at once (Home works its parts out side by side): the first runs the
// query, the others wait for its rows. A failed read is not kept, so the next asks again.
func remembered[T any](ctx context.Context, key string, read func() (T, error)) (T, error) {
	m, ok := ctx.Value(memoKey{}).(*memo)
	if !ok {
		return read()
	}
	m.mu.Lock()
	e, found := m.rows[key]
	if !found {
		e = &memoEntry{done: make(chan struct{})}
		m.rows[key] = e
	}
	m.mu.Unlock()
	if found {
		select {
		case <-e.done:
		case <-ctx.Done():
			var zero T
			return zero, ctx.Err()
		}
		if e.err == nil {
			return e.v.(T), nil
		}
		return read()
	}
	v, err := read()
	e.v, e.err = v, err
	if err != nil {
		m.mu.Lock()
		delete(m.rows, key)
		m.mu.Unlock()
	}
	close(e.done)
	return v, err
}

// memoKeyOf names a rollup query of an org, a filter and buckets.
func memoKeyOf(what string, orgID int64, f Filter, starts []time.Time, more ...any) string {
	key := fmt.Sprintf("%s|%d|%s|%v|%d|%v", what, orgID, f.String(), f.From.Unix(), len(starts), more)
	if len(starts) > 0 {
		key += fmt.Sprintf("|%d|%d", starts[0].Unix(), starts[len(starts)-1].Unix())
	}
	return key
}
