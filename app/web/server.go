// Package web is the HTTP face of Master IA: the Echo router, middleware, page handlers,
// the SSE stream, the REST API and /health. Handlers parse input, call an area service and
// render a templ component; they hold no SQL and no business rules.
package web

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"masteria/app/account"
	"masteria/app/ai/assist"
	"masteria/app/ai/bot"
	"masteria/app/ai/kb"
	"masteria/app/ai/persona"
	"masteria/app/ai/progression"
	"masteria/app/ai/provider"
	"masteria/app/analytics"
	"masteria/app/auth"
	"masteria/app/auth/oauth"
	"masteria/app/campaign"
	"masteria/app/campaign/cadence"
	"masteria/app/campaign/policy"
	"masteria/app/config"
	"masteria/app/crm"
	"masteria/app/crm/board"
	"masteria/app/events"
	"masteria/app/hooks"
	"masteria/app/inbox"
	"masteria/app/model"
	"masteria/app/store"
	"masteria/app/voice"
	"masteria/app/voice/calls"
	"masteria/app/voice/dial"
	"masteria/app/voice/numbers"
	"masteria/static"
)

// Deps is what the web layer is built from.
type Deps struct {
	Config  config.Config
	Store   *store.Store
	Account *account.Service
	OAuth   *oauth.Providers // nil: no social login
	Broker  *events.Broker
	CRM     *crm.Service
	Board   *board.Service
	Inbox   *inbox.Service
	// Campaigns: mass sends.
	Campaigns *campaign.Service
	// Cadences: building cadences (definitions and versions).
	Cadences *cadence.Service
	// AI: the org's AI provider.
	AI *provider.Service
	// Knowledge: knowledge bases and retrieval.
	Knowledge *kb.Service
	// Bot: the AI bot (the playground's answers).
	Bot *bot.Service
	QR  QRSessions // WhatsApp QR sessions

	// Personas: the bot's personas and the bot of each channel.
	Personas *persona.Service
	// Progression: the AI that moves leads along the board.
	Progression *progression.Service

	// Assist: the composer's agent assist.
	Assist *assist.Service

	// Calls: voice calls (Retell's webhook, the call record, analytics).
	Calls *calls.Service
	// Numbers: the voice numbers wizard (Settings → Voice → Numbers).
	Numbers *numbers.Service
	// Voice: the org's Retell account.
	Voice *voice.Service
	// Dial: starting calls (contact, lead card, conversation, API).
	Dial *dial.Service
	// CadenceEngine: running cadences (enrol, remove, pause; funnel and timelines).
	CadenceEngine *cadence.Engine
	// Hooks: outgoing webhooks (Settings → Webhooks, /api/v1/webhook-endpoints).
	Hooks *hooks.Service
	// Analytics: the metric engine (the dashboard, its drill-downs and exports, the
	// definitions page, my day, GET /api/v1/analytics/...).
	Analytics *analytics.Service
}

// Server holds the router and what the handlers need.
type Server struct {
	cfg      config.Config
	st       *store.Store
	acct     *account.Service
	sessions *auth.SessionStore
	oauth    *oauth.Providers
	broker   *events.Broker
	crm      *crm.Service
	board    *board.Service
	inbox    *inbox.Service
	camp     *campaign.Service
	cad      *cadence.Service
	ai       *provider.Service
	kb       *kb.Service
	bot      *bot.Service
	prog     *progression.Service
	assist   *assist.Service
	qr       QRSessions
	e        *echo.Echo

	authLimiter *ipLimiter
	apiLimiter  *apiLimiter
	// exportWrap, set by tests only, wraps the contact export's writer to make it fail.
	exportWrap func(io.Writer) io.Writer

	personas *persona.Service
	calls    *calls.Service
	numbers  *numbers.Service
	voice    *voice.Service
	dial     *dial.Service
	cadRun   *cadence.Engine
	// policy: the contact policy's settings (Settings → Contact policy).
	policy *policy.Policy
	hooks  *hooks.Service
	// analytics: the metric engine.
	analytics *analytics.Service
}

// New builds the router.
func New(d Deps) *Server {
	s := &Server{
		cfg: d.Config, st: d.Store, acct: d.Account, oauth: d.OAuth, broker: d.Broker, crm: d.CRM, board: d.Board, inbox: d.Inbox, camp: d.Campaigns, ai: d.AI, qr: d.QR, kb: d.Knowledge, bot: d.Bot, prog: d.Progression, assist: d.Assist,
		authLimiter: newIPLimiter(6*time.Second, 20), // a burst of 20, then one every 6 s per IP
		apiLimiter:  newAPILimiter(max(1, d.Config.APIRateLimit)),
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.IPExtractor = echo.ExtractIPFromXFFHeader() // trusts loopback and private proxies only
	e.HTTPErrorHandler = s.errorHandler
	s.sessions = auth.NewSessionStore(d.Store, d.Config.SessionMaxAge, d.Config.SecureCookies(), func(r *http.Request) string {
		return e.IPExtractor(r)
	})
	s.personas = d.Personas
	s.calls = d.Calls
	s.numbers = d.Numbers
	s.voice = d.Voice
	s.dial = d.Dial
	s.cad = d.Cadences
	s.cadRun = d.CadenceEngine
	s.hooks = d.Hooks
	s.analytics = d.Analytics
	s.policy = policy.New(d.Store)
	s.e = e
	s.routes()
	return s
}

// Handler is the whole app as an http.Handler.
func (s *Server) Handler() http.Handler { return s.e }

// Sessions is the session store, for the job that cleans it.
func (s *Server) Sessions() *auth.SessionStore { return s.sessions }

func (s *Server) oauthNames() []string {
	if s.oauth == nil {
		return nil
	}
	return s.oauth.Enabled()
}

func (s *Server) routes() {
	e := s.e
	e.Use(middleware.Recover())
	e.Use(timing)
	// 2 MB for every request but CSV uploads, which read their own larger limit and say
	// clearly when a file is too big.
	e.Use(bodyLimit(2<<20, func(p string) bool {
		// The composer's attachments (up to 100 MB) are bounded by their handler.
		return strings.HasSuffix(p, "/contacts/import") || isComposerPost(p) || isCampaignCSV(p) || isCampaignEdit(p) || isKBUpload(p) || isAPIKBUpload(p)
	}))
	e.Use(composerLimit)
	e.Use(kbUploadLimit)

	// Machine endpoints: no session, no CSRF.
	e.GET("/health", s.health)
	e.HEAD("/health", s.health)
	e.GET("/static/*", echo.WrapHandler(static.Handler()))
	e.GET("/sw.js", echo.WrapHandler(static.ServiceWorker()))
	e.GET("/manifest.webmanifest", echo.WrapHandler(static.Manifest()))
	e.GET("/favicon.ico", func(c echo.Context) error {
		return c.Redirect(http.StatusMovedPermanently, static.Path("icons/favicon-32.png"))
	})
	s.retellWebhookRoutes(e)
	s.webhookRoutes(e)
	api := e.Group("/api/v1", s.apiKeyAuth, s.apiLimiter.limit, apiScope, apiJSONBody, checkText, s.apiIdempotency)
	api.GET("/me", s.apiMe)
	s.apiInboxRoutes(api)
	s.apiMergeRoutes(api)
	s.apiCRMRoutes(api)
	s.apiBoardRoutes(api)
	s.apiTagRoutes(api)
	s.apiCampaignRoutes(api)
	s.apiCadenceRoutes(api)
	s.apiKnowledgeRoutes(api)
	s.apiPersonaRoutes(api)
	s.apiProgressionRoutes(api)
	s.apiAssistRoutes(api)
	s.apiCallRoutes(api)
	s.apiVoiceNumberRoutes(api)
	s.apiCadenceRunRoutes(api)
	s.apiWebhookRoutes(api)
	s.apiAnalyticsRoutes(api)
	e.GET("/api/v1/openapi.yaml", openAPIDoc)

	// Pages.
	p := e.Group("", securityHeaders, s.csrf, s.locale, s.loadSession, checkText)
	p.GET("/", s.root)
	p.GET("/offline", s.offline)
	p.POST("/locale", s.setLocale)
	p.GET("/login", s.loginPage)
	p.POST("/login", s.login, s.authLimiter.limitPOST)
	p.GET("/signup", s.signupPage)
	p.POST("/signup", s.signup, s.authLimiter.limitPOST)
	p.POST("/logout", s.logout)
	p.GET("/auth/:provider", s.oauthStart)
	p.GET("/auth/:provider/callback", s.oauthCallback)
	p.GET("/invite/:token", s.invitePage)
	p.POST("/invite/:token", s.inviteAccept, s.authLimiter.limitPOST)

	u := p.Group("", requireUser, noStore)
	u.GET("/events", s.events)
	u.GET("/orgs/new", s.orgNewPage)
	u.POST("/orgs", s.orgCreate)
	u.POST("/theme", s.setTheme)

	o := u.Group("/o/:org", s.orgMember)
	o.GET("", s.home)
	o.GET("/partials/org-name", s.orgNamePartial)
	o.GET("/settings/profile", s.profilePage)
	o.POST("/settings/profile", s.profileSave)
	o.GET("/settings/sessions", s.sessionsPage)
	o.POST("/settings/sessions/:id/revoke", s.sessionRevoke)
	o.POST("/settings/sessions/revoke-all", s.sessionsRevokeAll)

	s.contactRoutes(o)
	s.boardRoutes(o)
	s.inboxRoutes(o)
	s.wameowRoutes(o)
	s.mediaRoutes(e, o)
	s.templateRoutes(o)
	s.inboxTeamRoutes(o)
	s.policyRoutes(o)
	s.crmLinkRoutes(o)
	s.campaignRunRoutes(o)
	s.campaignBuildRoutes(o)
	s.cadenceBuildRoutes(o)
	s.knowledgeRoutes(o)
	s.personaRoutes(o)
	s.progressionRoutes(o)
	s.assistRoutes(o)
	s.callAnalyticsRoutes(o)
	s.callRoutes(o)
	s.cadenceRunRoutes(o)
	s.analyticsRoutes(o)
	s.analyticsDefinitionRoutes(o)

	mgr := o.Group("", requireMay(model.SeeMembers))
	mgr.GET("/settings/members", s.membersPage)

	adm := o.Group("", requireMay(model.ManageOrg))
	adm.GET("/settings", s.generalPage)
	adm.POST("/settings", s.generalSave)
	adm.POST("/settings/members/invite", s.memberInvite)
	adm.POST("/settings/members/:user/role", s.memberRole)
	adm.POST("/settings/members/:user/remove", s.memberRemove)
	adm.POST("/settings/invites/:id/revoke", s.inviteRevoke)
	adm.GET("/settings/apikeys", s.apiKeysPage)
	adm.POST("/settings/apikeys", s.apiKeyCreate)
	adm.POST("/settings/apikeys/:id/revoke", s.apiKeyRevoke)
	adm.GET("/settings/audit", s.auditPage)
	adm.GET("/settings/ai", s.aiPage)
	adm.POST("/settings/ai", s.aiSave)
	adm.POST("/settings/ai/models", s.aiModels)
	adm.POST("/settings/ai/test", s.aiTest)
	adm.GET("/settings/voice/numbers", s.voiceNumbersPage)
	adm.POST("/settings/voice/numbers/search", s.voiceNumbersSearch)
	adm.POST("/settings/voice/numbers/buy", s.voiceNumbersBuy)
	adm.POST("/settings/voice/numbers/link", s.voiceNumbersLink)
	adm.POST("/settings/voice/numbers/:id/continue", s.voiceNumbersContinue)
	adm.POST("/settings/voice/numbers/:id/agents", s.voiceNumbersAgents)
	adm.POST("/settings/voice/numbers/:id/release", s.voiceNumbersRelease)
	s.voiceRoutes(adm)
	s.webhookPageRoutes(adm)
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// RoutesOf lists the router's paths for one method, for tests that visit every page.
func (s *Server) RoutesOf(method string) []string {
	var out []string
	for _, r := range s.e.Routes() {
		if r.Method == method {
			out = append(out, r.Path)
		}
	}
	return out
}

// Routes lists the router's paths, for tests that keep documents in step with it.
func (s *Server) Routes() []string {
	var out []string
	for _, r := range s.e.Routes() {
		out = append(out, r.Path)
	}
	return out
}

// Endpoints lists the router's methods and paths, for tests that walk every route.
func (s *Server) Endpoints() []*echo.Route { return s.e.Routes() }
