// Package boot assembles a running instance from its configuration: the store, the vault,
// the services, the event broker, the job queue and the web server. `masteria serve`,
// `worker` and `dev` use it, and so do the tests that run whole instances.
package boot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"masteria/app/account"
	"masteria/app/ai/assist"
	"masteria/app/ai/bot"
	"masteria/app/ai/kb"
	"masteria/app/ai/persona"
	"masteria/app/ai/progression"
	"masteria/app/ai/provider"
	"masteria/app/analytics"
	"masteria/app/auth/oauth"
	"masteria/app/campaign"
	"masteria/app/campaign/cadence"
	"masteria/app/campaign/policy"
	"masteria/app/channel"
	"masteria/app/channel/meta"
	"masteria/app/channel/sandbox"
	"masteria/app/channel/twilio"
	"masteria/app/channel/wameow"
	"masteria/app/config"
	"masteria/app/crm"
	"masteria/app/crm/board"
	"masteria/app/events"
	"masteria/app/hooks"
	"masteria/app/inbox"
	"masteria/app/jobs"
	"masteria/app/media"
	"masteria/app/model"
	"masteria/app/store"
	"masteria/app/vault"
	"masteria/app/voice"
	"masteria/app/voice/calls"
	"masteria/app/voice/dial"
	"masteria/app/voice/numbers"
	"masteria/app/voice/retell"
	"masteria/app/web"
)

// App is one instance of Master IA.
type App struct {
	Config  config.Config
	Store   *store.Store
	Vault   *vault.Ring
	Account *account.Service
	CRM     *crm.Service
	Inbox   *inbox.Service
	Board   *board.Service
	// Campaigns send one message to many people, through the inbox's channels.
	Campaigns *campaign.Service
	// Cadences builds cadences (their definitions and versions).
	Cadences *cadence.Service
	// CadenceEngine runs them: enrolments, their steps, outcomes and exits.
	CadenceEngine *cadence.Engine
	// AI is the org's AI provider: its settings, clients, usage and budget.
	AI *provider.Service
	// Knowledge: knowledge bases, their indexing and retrieval.
	Knowledge *kb.Service
	// Progression: the AI that moves leads along the board.
	Progression *progression.Service
	Bot         *bot.Service
	// Assist helps agents in the composer: summaries, suggested replies, rewrites.
	Assist *assist.Service
	Broker *events.Broker
	Jobs   *jobs.Client
	Web    *web.Server
	// WhatsAppQR runs the WhatsApp QR sessions this instance holds the lock of.
	WhatsAppQR *wameow.Manager
	runQR      bool

	// Personas: how the bot speaks and when it hands over, and the bot of each channel.
	Personas *persona.Service
	// Dial starts calls.
	Dial *dial.Service
	// Calls: Retell's call events, the call record and the calls analytics.
	Calls *calls.Service
	// Numbers: voice numbers bought from Twilio and wired to Retell.
	Numbers *numbers.Service

	// Voice is the org's Retell account (voice AI calls).
	Voice *voice.Service
	// Hooks: outgoing webhooks (endpoints, the dispatcher, deliveries).
	Hooks    *hooks.Service
	runHooks bool
	// Analytics: the metric engine and the job that keeps its rollups.
	Analytics *analytics.Service
}

// Options says which parts this process runs.
type Options struct {
	Workers bool // run River workers (serve without --no-workers, worker)
	Web     bool // build the web server
}

// ErrNotMigrated is a database whose schema is behind this binary.
var ErrNotMigrated = errors.New("the database schema is not up to date: run `masteria migrate`")

// Open connects to cfg.DatabaseURL (which must be set) and builds the instance.
func Open(ctx context.Context, cfg config.Config, ring *vault.Ring, opts Options) (*App, error) {
	st, err := store.Connect(ctx, cfg.DatabaseURL)
	if err != nil {
		if m, merr := migrationState(ctx, cfg.DatabaseURL); merr == nil && (m.Current < m.Latest || m.RiverPending) {
			return nil, ErrNotMigrated
		}
		return nil, err
	}
	a := &App{Config: cfg, Store: st, Vault: ring, Account: account.New(st), CRM: crm.New(st), Board: board.New(st), Inbox: inbox.New(st, ring)}
	a.Inbox.Registry().Register(model.KindSandbox, sandbox.New)
	// Each kind's webhook answers at /webhooks/{path}/{channel}; the paths are the ones
	// providers' consoles already hold.
	a.Inbox.Registry().RegisterWebhook("whatsapp", meta.Hook{})
	a.Inbox.Registry().RegisterWebhook("twilio", twilio.Hook{})
	a.Inbox.Registry().Register(model.KindWhatsAppCloud, func(c model.Channel, sec map[string]string, r channel.StatusFunc) (channel.Channel, error) {
		return meta.New(withConfig(c, map[string]string{"graph_url": cfg.MetaGraphURL}), sec, r)
	})
	a.Inbox.Registry().Register(model.KindTwilioSMS, func(c model.Channel, sec map[string]string, r channel.StatusFunc) (channel.Channel, error) {
		return twilio.New(withConfig(c, map[string]string{
			"api_url":         cfg.TwilioAPIURL,
			"status_callback": fmt.Sprintf("%s/webhooks/twilio/%d", cfg.BaseURL, c.ID),
		}), sec, r)
	})
	bucket, err := media.OpenBucket(ctx, cfg.MediaURL, cfg.DataDir)
	if err != nil {
		st.Close()
		return nil, err
	}
	med := media.New(st, bucket, account.NewSecrets(st, ring), cfg.BaseURL)
	med.SetCDN(cfg.MediaCDNURL)
	a.Inbox.SetMedia(med)
	// QR sessions run where jobs run: a send goes out only through the session's holder.
	a.WhatsAppQR, a.runQR = wameow.New(st, a.Inbox, wameow.Options{}), opts.Workers && cfg.WhatsAppQR
	a.Inbox.Registry().Register(model.KindWhatsAppQR, a.WhatsAppQR.Factory)
	a.Broker = events.NewBroker(st, cfg.DatabaseURL)

	reg := jobs.NewRegistry()
	account.Register(reg, st)
	crm.Register(reg, a.CRM)
	board.Register(reg, st)
	inbox.Register(reg, a.Inbox)
	a.Campaigns = campaign.New(st, a.Inbox)
	a.Cadences = cadence.New(st)
	a.AI = provider.New(st, ring, provider.WithTimeouts(min(10*time.Second, cfg.AITimeout), cfg.AITimeout))
	a.Voice = voice.New(st, ring, cfg.RetellAPIURL)
	a.Progression = progression.New(st, a.AI, a.Board, progression.Options{Delay: cfg.AIProgressionDelay})
	a.CadenceEngine = cadence.NewEngine(st, cadence.EngineOptions{Sender: a.Inbox, Mover: a.Board, Classifier: a.Progression,
		Policy: cadence.PolicyOf(policy.New(st))})
	a.Board.AddMoveHook(a.CadenceEngine.LeadMoved)
	a.Inbox.SetHooks(a.Campaigns.Hooks(), a.Progression.Hooks(), a.CadenceEngine.Hooks())
	progression.Register(reg, a.Progression)
	campaign.Register(reg, a.Campaigns, cfg.CampaignTick)
	a.Knowledge = kb.New(st, kb.Options{AllowPrivateURLs: cfg.KBPrivateURLs})
	a.Knowledge.SetEmbedderFor(embedderOf(a.AI))
	kb.Register(reg, a.Knowledge)
	a.Personas = persona.New(st)
	a.Numbers = numbers.New(st, ring, numbers.Config{TwilioAPIURL: cfg.TwilioAPIURL, TwilioTrunkingURL: cfg.TwilioTrunkingURL,
		ChannelSecrets: a.Inbox.Secrets, Retell: func(ctx context.Context, orgID int64) (numbers.Retell, error) {
			c, _, err := a.Voice.Client(ctx, orgID)
			if err != nil {
				return nil, err
			}
			return c, nil
		}})
	debounce := cfg.BotDebounce
	if debounce == 0 {
		debounce = bot.NoDebounce
	}
	a.Bot = bot.New(st, a.Inbox, a.AI, a.Knowledge, bot.Options{Debounce: debounce})
	a.Inbox.SetBot(a.Bot)
	bot.Register(reg, a.Bot)
	// An agent is waiting for the assist: it gives up sooner than the bot, at 30 s.
	a.Assist = assist.New(st, a.Inbox, a.AI, a.Knowledge, assist.Options{Timeout: min(30*time.Second, cfg.AITimeout)})
	a.Calls = calls.New(st, calls.Options{WebhookKey: a.Voice.WebhookKey})
	a.Dial = dial.New(st, a.Voice)
	a.Campaigns.SetDialer(campaignDialer{a.Dial})
	// The only event it reads; the followed leads of a statement's calls in one query.
	a.Calls.AddBatchHook(a.Progression.CallsHook, "call_analyzed")
	// A cadence call's end (and its analysis: voicemail) is what an await on it sees; a
	// cadence only places calls, so a caller's call is none of its business.
	a.Calls.AddHook(calls.Outbound(a.CadenceEngine.CallHook), "call_ended", "call_analyzed")
	a.CadenceEngine.SetDialer(a.Dial)
	cadence.Register(reg, a.CadenceEngine, cfg.CampaignTick)
	calls.Register(reg, a.Calls, med, nil)
	// A campaign call's end settles its recipient, in the event's transaction.
	a.Calls.AddHook(a.Campaigns.CallHook, "call_ended", "call_analyzed")
	a.Hooks, a.runHooks = hooks.New(st, ring, hooks.Options{AllowPrivate: cfg.WebhooksAllowPrivate}), opts.Workers
	hooks.Register(reg, a.Hooks)
	a.Analytics = analytics.New(st)
	// Open dashboards refresh when the org's figures change, every 3 s at most.
	a.Analytics.OnChange = analytics.Throttled(3*time.Second, func(ctx context.Context, orgID int64) {
		if err := events.AnalyticsChanged.Signal(ctx, st, orgID, events.AnalyticsChange{}); err != nil {
			slog.Warn("analytics: change signal", "org", orgID, "err", err)
		}
	})
	analytics.Register(reg, a.Analytics)
	workers := 0
	if opts.Workers {
		workers = cfg.Workers
	}
	if a.Jobs, err = jobs.New(ctx, st.DB().DB, cfg.DatabaseURL, reg, jobs.Options{MaxWorkers: workers}); err != nil {
		st.Close()
		return nil, err
	}
	a.CRM.SetJobs(a.Jobs)
	a.Inbox.SetJobs(a.Jobs)
	a.Campaigns.SetJobs(a.Jobs)
	a.CadenceEngine.SetJobs(a.Jobs)
	a.Knowledge.SetJobs(a.Jobs)
	a.Progression.SetJobs(a.Jobs)
	a.Bot.SetJobs(a.Jobs)
	a.Calls.SetJobs(a.Jobs)
	a.Hooks.SetJobs(a.Jobs)
	if opts.Web {
		var providers *oauth.Providers
		if cfg.GoogleClientID != "" || cfg.FacebookClientID != "" {
			providers, err = oauth.New(oauth.Config{
				BaseURL:        cfg.BaseURL,
				GoogleClientID: cfg.GoogleClientID, GoogleClientSecret: cfg.GoogleClientSecret, GoogleDiscoveryURL: cfg.GoogleDiscoveryURL,
				FacebookClientID: cfg.FacebookClientID, FacebookClientSecret: cfg.FacebookClientSecret, FacebookBaseURL: cfg.FacebookBaseURL,
			})
			if err != nil {
				a.Close()
				return nil, fmt.Errorf("boot: social login: %w", err)
			}
		}
		a.Web = web.New(web.Deps{Config: cfg, Store: st, Account: a.Account, OAuth: providers, Broker: a.Broker, CRM: a.CRM, Board: a.Board, Inbox: a.Inbox, Campaigns: a.Campaigns, Cadences: a.Cadences, AI: a.AI, QR: a.WhatsAppQR, Knowledge: a.Knowledge, Bot: a.Bot, Assist: a.Assist, Voice: a.Voice,
			Personas: a.Personas, Progression: a.Progression, Numbers: a.Numbers, Calls: a.Calls, Dial: a.Dial, CadenceEngine: a.CadenceEngine,
			Hooks: a.Hooks, Analytics: a.Analytics})
	}
	return a, nil
}

func migrationState(ctx context.Context, url string) (store.MigrationState, error) {
	db, err := openDB(url)
	if err != nil {
		return store.MigrationState{}, err
	}
	defer db.Close()
	return store.Migrations(ctx, db)
}

// Background starts what runs beside the HTTP server: the event listener and the job
// workers. It returns at once; everything stops when ctx ends and Close is called.
func (a *App) Background(ctx context.Context) error {
	go func() {
		if err := a.Broker.Run(ctx); err != nil {
			slog.Error("events broker stopped", "err", err)
		}
	}()
	if a.runQR {
		a.WhatsAppQR.Start(ctx)
	}
	if a.runHooks {
		go func() {
			if err := a.Hooks.Run(ctx, a.Config.DatabaseURL); err != nil {
				slog.Error("webhooks listener stopped", "err", err)
			}
		}()
	}
	return a.Jobs.Start(ctx)
}

// Serve runs the HTTP server on cfg.Addr until ctx ends, then shuts down gracefully.
func (a *App) Serve(ctx context.Context) error {
	ln, err := net.Listen("tcp", a.Config.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", a.Config.Addr, err)
	}
	return a.ServeListener(ctx, ln)
}

// ServeListener is Serve on a listener the caller opened.
func (a *App) ServeListener(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           a.Web.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second, // the SSE handler lifts it for its own stream
		IdleTimeout:       120 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shut)
}

// Close stops the workers and closes the database pool.
func (a *App) Close() {
	if a.WhatsAppQR != nil {
		a.WhatsAppQR.Stop() // releases the sessions' locks for another instance
	}
	if a.Jobs != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := a.Jobs.Stop(ctx); err != nil {
			slog.Warn("jobs stop", "err", err)
		}
		cancel()
	}
	a.Store.Close()
}

// withConfig sets server-level settings in a channel's config before it is built: where the
// provider is reached and where it reports back are the server's, not the form's.
func withConfig(c model.Channel, set map[string]string) model.Channel {
	var cfg map[string]any
	_ = json.Unmarshal(c.Config, &cfg)
	if cfg == nil { // a row whose config is JSON null unmarshals to a nil map
		cfg = map[string]any{}
	}
	for k, v := range set {
		if v != "" {
			cfg[k] = v
		}
	}
	c.Config, _ = json.Marshal(cfg)
	return c
}

// embedderOf gives knowledge bases the org's embedding model, when it has one whose vectors
// fit the chunks' column; without one they are searched by their words alone.
func embedderOf(ai *provider.Service) func(ctx context.Context, orgID int64) (kb.Embedder, error) {
	return func(ctx context.Context, orgID int64) (kb.Embedder, error) {
		p, err := ai.Settings(ctx, orgID)
		if errors.Is(err, model.ErrNotFound) || (err == nil && p.EmbeddingModel == "") {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if p.EmbeddingDimensions != 0 && p.EmbeddingDimensions != store.EmbeddingDims {
			return nil, nil
		}
		return ai.Embedder(ctx, orgID)
	}
}

// campaignDialer starts a call campaign's calls through app/voice/dial, its errors told in
// the campaigns' words (the campaign package knows no voice package).
type campaignDialer struct{ d *dial.Service }

func (c campaignDialer) StartCall(ctx context.Context, r campaign.CallRequest) (model.Call, error) {
	call, err := c.d.Start(ctx, dial.Request{OrgID: r.OrgID, ContactID: r.ContactID, CampaignID: r.CampaignID,
		NumberID: r.NumberID, AgentID: r.AgentID})
	var oh *dial.OutsideHours
	var re *retell.Error
	switch {
	case errors.Is(err, dial.ErrBusy):
		return call, fmt.Errorf("%w: %w", campaign.ErrCallBusy, err)
	case errors.As(err, &oh):
		return call, &campaign.OutsideHours{Next: oh.Next, Zone: oh.Zone}
	case errors.As(err, &re) && (re.Status == http.StatusUnauthorized || re.Status == http.StatusForbidden ||
		re.Status == http.StatusPaymentRequired || strings.Contains(re.Message, "from_number") || strings.Contains(re.Message, "agent")):
		// The key, the payment, the number or the agent: no call of the campaign can go.
		return call, fmt.Errorf("%w: %w", campaign.ErrCannotCall, err)
	}
	return call, err
}
