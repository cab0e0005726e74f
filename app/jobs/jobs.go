// Package jobs wires River, the job queue that lives in our PostgreSQL. Areas register their
// own workers and periodic jobs on a Registry; this package builds the client from it.
package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
)

// Registry collects what the areas contribute to the queue.
type Registry struct {
	Workers  *river.Workers
	Periodic []*river.PeriodicJob
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{Workers: river.NewWorkers()} }

// Client is River's client over database/sql, with a pgx pool used only for LISTEN so that
// jobs inserted with InsertTx wake the workers at once instead of waiting for a poll.
type Client struct {
	*river.Client[*sql.Tx]
	listener *pgxpool.Pool
	working  bool
}

// QueueBot is the queue of the AI bot's replies: a customer is waiting.
const QueueBot = "bot"

// QueueCadence is the queue of cadences' steps, so a cadence's many due steps never hold
// up replies and campaigns (and the other way round).
const QueueCadence = "cadence"

// Options says how this process takes part in the queue.
type Options struct {
	// MaxWorkers is how many jobs run at once; 0 makes an insert-only client (serve --no-workers).
	MaxWorkers int
	Logger     *slog.Logger
	// Queue is the queue this client works (default: River's default queue).
	Queue string
}

// New builds the client on db (the pool shared with the store) and url (for the listener).
func New(ctx context.Context, db *sql.DB, url string, reg *Registry, opts Options) (*Client, error) {
	pcfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("jobs: listener url: %w", err)
	}
	pcfg.MinConns, pcfg.MaxConns = 0, 2
	listener, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("jobs: listener pool: %w", err)
	}
	logger := opts.Logger
	if logger == nil {
		// River reports its routine work at info level every few seconds; keep warnings only.
		logger = slog.New(levelFilter{min: slog.LevelWarn, Handler: slog.Default().Handler()}).With("component", "river")
	}
	// The client's fetch cooldown also spaces the notifications an insert sends, per
	// queue: at River's 100 ms, a second bot reply queued within 100 ms of the first would
	// wait for a poll. Each queue sets its own fetch cooldown below.
	cfg := &river.Config{Logger: logger, Workers: reg.Workers, FetchCooldown: 5 * time.Millisecond}
	if opts.MaxWorkers > 0 {
		queue := opts.Queue
		if queue == "" {
			queue = river.QueueDefault
		}
		cfg.Queues = map[string]river.QueueConfig{queue: {MaxWorkers: opts.MaxWorkers, FetchCooldown: 100 * time.Millisecond}}
		if queue == river.QueueDefault {
			// A customer waits for the bot: its queue is fetched as soon as a job comes
			// (the other queues wait 100 ms between fetches, River's default) and polled
			// often in case a notification is missed; its own workers keep a campaign
			// from holding it up.
			cfg.Queues[QueueBot] = river.QueueConfig{MaxWorkers: max(2, opts.MaxWorkers/4),
				FetchCooldown: 5 * time.Millisecond, FetchPollInterval: 100 * time.Millisecond}
			// Cadence steps are short transactions, many due at once (a segment enrolled,
			// a morning's window): as many workers as the default queue, fetched often.
			cfg.Queues[QueueCadence] = river.QueueConfig{MaxWorkers: max(2, opts.MaxWorkers), FetchCooldown: 10 * time.Millisecond}
		}
		cfg.PeriodicJobs = reg.Periodic
	}
	rc, err := river.NewClient(riverdatabasesql.NewWithPgxListener(db, listener), cfg)
	if err != nil {
		listener.Close()
		return nil, fmt.Errorf("jobs: client: %w", err)
	}
	return &Client{Client: rc, listener: listener, working: opts.MaxWorkers > 0}, nil
}

// Start runs the workers, when this process has any.
func (c *Client) Start(ctx context.Context) error {
	if !c.working {
		return nil
	}
	return c.Client.Start(ctx)
}

// Stop lets running jobs finish (until ctx ends) and closes the listener pool.
func (c *Client) Stop(ctx context.Context) error {
	var err error
	if c.working {
		err = c.Client.Stop(ctx)
	}
	c.listener.Close()
	return err
}

// levelFilter drops records below min.
type levelFilter struct {
	min slog.Level
	slog.Handler
}

func (f levelFilter) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= f.min && f.Handler.Enabled(ctx, l)
}

// WithAttrs and WithGroup keep the filter on the loggers River derives with With.
func (f levelFilter) WithAttrs(as []slog.Attr) slog.Handler {
	return levelFilter{min: f.min, Handler: f.Handler.WithAttrs(as)}
}

func (f levelFilter) WithGroup(name string) slog.Handler {
	return levelFilter{min: f.min, Handler: f.Handler.WithGroup(name)}
}
