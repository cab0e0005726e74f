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
	rows map[string]any
}

// WithMemo is ctx in which the engine reads each rollup query once: wrap one request's
// context (a page, an export, an API call) with it, never a long-lived one — what it read
// does not change afterwards. Home does it itself.
func WithMemo(ctx context.Context) context.Context {
	if _, ok := ctx.Value(memoKey{}).(*memo); ok {
		return ctx
	}
	return context.WithValue(ctx, memoKey{}, &memo{rows: map[string]any{}})
}

// remembered runs read once per key within a memo context (every time without one).
func remembered[T any](ctx context.Context, key string, read func() (T, error)) (T, error) {
	m, ok := ctx.Value(memoKey{}).(*memo)
	if !ok {
		return read()
	}
	m.mu.Lock()
	defer m.mu.Unlock() // one reader at a time: the engine's calls of one request are sequential
	if v, ok := m.rows[key]; ok {
		return v.(T), nil
	}
	v, err := read()
	if err == nil {
		m.rows[key] = v
	}
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
