// Package config reads Master IA's settings from the environment into one typed value.
// Every variable has a default that runs locally; the README lists them all.
package config

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is everything the binary can be told from outside.
type Config struct {
	// DatabaseURL is a PostgreSQL 15+ URL with pgvector. Empty: use the private cluster in DataDir.
	DatabaseURL string
	// Addr is where the HTTP server listens.
	Addr string
	// BaseURL is the public URL of the app, used in links, OAuth callbacks and webhooks.
	BaseURL string
	// SecretKey is the vault key ring (`kid:base64`, comma-separated, first is primary).
	// Empty in dev: a key is generated into DataDir.
	SecretKey string
	// DataDir holds the private PostgreSQL cluster, the generated dev key and local media.
	DataDir string
	// Env is "production" or "development"; production requires SecretKey and secure cookies.
	Env string
	// LogLevel is debug, info, warn or error.
	LogLevel string
	// SessionMaxAge is how long a login lasts without activity.
	SessionMaxAge time.Duration
	// Workers is how many River jobs run at once in this process.
	Workers int

	GoogleClientID       string
	GoogleClientSecret   string
	GoogleDiscoveryURL   string
	FacebookClientID     string
	FacebookClientSecret string
	FacebookBaseURL      string

	// Where the channels' providers are reached: their real APIs in production, the local
	// simulators in `dev` and tests. Server settings, never a form field, so nobody can point
	// a channel's token at another host.
	MetaGraphURL      string
	TwilioAPIURL      string
	TwilioTrunkingURL string // Elastic SIP Trunking (voice numbers)
	RetellAPIURL      string

	// CampaignTick is how often the campaign engine's housekeeping runs.
	CampaignTick time.Duration
	// AITimeout bounds one call to an org's AI provider.
	AITimeout time.Duration
	// BotDebounce is how long the bot waits for more of a customer's messages.
	BotDebounce time.Duration
	// WhatsAppQR: this instance runs WhatsApp QR sessions (off leaves them to the others).
	WhatsAppQR bool

	// APIRateLimit is how many REST API requests a minute each API key may send.
	APIRateLimit int

	// MediaURL is the blob bucket of media files (file:///path, mem://); empty keeps them
	// under DataDir/media.
	MediaURL string
	// MediaCDNURL starts the media links providers fetch, when a CDN fronts the app.
	MediaCDNURL string

	// KBPrivateURLs lets knowledge-base documents be fetched from private, loopback and
	// link-local addresses (an intranet, tests); off refuses them.
	KBPrivateURLs bool

	// AIProgressionDelay is how long after a message the AI looks at the contact's leads
	// (the messages of that while make one request).
	AIProgressionDelay time.Duration
}

// Var documents one environment variable; the README table is checked against this list.
type Var struct {
	Name, Default, Help string
}

// Vars lists every variable the app reads, with its default.
var Vars = []Var{
	{"DATABASE_URL", "", "PostgreSQL 15+ URL with pgvector; empty uses the private cluster under MASTERIA_DATA_DIR"},
	{"MASTERIA_ADDR", "127.0.0.1:8080", "address the HTTP server listens on"},
	{"MASTERIA_BASE_URL", "http://localhost:8080", "public URL of the app (links, OAuth callbacks)"},
	{"MASTERIA_SECRET_KEY", "", "vault key ring `kid:base64,...` from `masteria keygen`; required in production, generated into the data dir in development"},
	{"MASTERIA_DATA_DIR", "./data", "private PostgreSQL cluster, dev secret key and local files"},
	{"MASTERIA_ENV", "development", "`production` turns on secure cookies and requires MASTERIA_SECRET_KEY"},
	{"MASTERIA_LOG_LEVEL", "info", "debug, info, warn or error"},
	{"MASTERIA_SESSION_MAX_AGE", "720h", "how long a login lasts without activity"},
	{"MASTERIA_WORKERS", "20", "background jobs run at once by this process"},
	{"MASTERIA_API_RATE_LIMIT", "600", "REST API requests a minute per API key, per instance (a burst of that many, then an even pace)"},
	{"GOOGLE_CLIENT_ID", "", "enables \"Continue with Google\""},
	{"GOOGLE_CLIENT_SECRET", "", ""},
	{"GOOGLE_DISCOVERY_URL", "https://accounts.google.com/.well-known/openid-configuration", "OpenID discovery document"},
	{"FACEBOOK_CLIENT_ID", "", "enables \"Continue with Facebook\""},
	{"FACEBOOK_CLIENT_SECRET", "", ""},
	{"FACEBOOK_BASE_URL", "", "send Facebook OAuth calls to another base URL (the local simulator)"},
	{"META_GRAPH_URL", "https://graph.facebook.com", "WhatsApp Cloud API (Graph API) base URL"},
	{"TWILIO_API_URL", "https://api.twilio.com", "Twilio REST API base URL"},
	{"TWILIO_TRUNKING_URL", "https://trunking.twilio.com", "Twilio Elastic SIP Trunking API base URL (voice numbers)"},
	{"RETELL_API_URL", "https://api.retellai.com", "Retell AI (voice calls) API base URL"},
	{"MASTERIA_WHATSAPP_QR", "on", "run WhatsApp QR-code sessions in this instance (off leaves them to the other instances)"},
	{"MASTERIA_CAMPAIGN_TICK", "5s", "how often the campaign engine starts scheduled campaigns and settles sends whose process died"},
	{"MASTERIA_AI_TIMEOUT", "60s", "how long a call to the AI provider may take before the bot hands the conversation to a person"},
	{"MASTERIA_BOT_DEBOUNCE", "2s", "how long the AI bot waits after a customer's message for more before it answers them all at once"},
	{"MASTERIA_MEDIA_URL", "", "where media files are kept: a bucket URL, file:///var/lib/masteria/media, s3://bucket?region=sa-east-1 (S3-compatible: &endpoint=https://host&use_path_style=true) or gs://bucket; empty uses MASTERIA_DATA_DIR/media"},
	{"MASTERIA_MEDIA_CDN_URL", "", "base URL of a CDN (CloudFront or any) whose origin is this app, for the media links providers fetch; empty uses MASTERIA_BASE_URL"},
	{"MASTERIA_KB_PRIVATE_URLS", "off", "let knowledge-base web pages be fetched from private, loopback and link-local addresses (on: an intranet)"},
	{"MASTERIA_AI_PROGRESSION_DELAY", "15s", "how long after a message the AI classifies the contact's leads (the messages of that while make one request)"},
}

// FromEnv reads the configuration from the process environment.
func FromEnv() (Config, error) { return Load(os.Getenv) }

// Load reads the configuration through getenv, so tests can pass their own.
func Load(getenv func(string) string) (Config, error) {
	get := func(name string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		for _, v := range Vars {
			if v.Name == name {
				return v.Default
			}
		}
		return ""
	}
	c := Config{
		DatabaseURL:          get("DATABASE_URL"),
		Addr:                 get("MASTERIA_ADDR"),
		BaseURL:              strings.TrimRight(get("MASTERIA_BASE_URL"), "/"),
		SecretKey:            get("MASTERIA_SECRET_KEY"),
		DataDir:              get("MASTERIA_DATA_DIR"),
		Env:                  get("MASTERIA_ENV"),
		LogLevel:             get("MASTERIA_LOG_LEVEL"),
		GoogleClientID:       get("GOOGLE_CLIENT_ID"),
		GoogleClientSecret:   get("GOOGLE_CLIENT_SECRET"),
		GoogleDiscoveryURL:   get("GOOGLE_DISCOVERY_URL"),
		FacebookClientID:     get("FACEBOOK_CLIENT_ID"),
		FacebookClientSecret: get("FACEBOOK_CLIENT_SECRET"),
		FacebookBaseURL:      get("FACEBOOK_BASE_URL"),
		MetaGraphURL:         strings.TrimRight(get("META_GRAPH_URL"), "/"),
		TwilioAPIURL:         strings.TrimRight(get("TWILIO_API_URL"), "/"),
		TwilioTrunkingURL:    strings.TrimRight(get("TWILIO_TRUNKING_URL"), "/"),
		RetellAPIURL:         strings.TrimRight(get("RETELL_API_URL"), "/"),
		WhatsAppQR:           get("MASTERIA_WHATSAPP_QR") != "off",
		MediaURL:             get("MASTERIA_MEDIA_URL"),
		MediaCDNURL:          get("MASTERIA_MEDIA_CDN_URL"),
		KBPrivateURLs:        get("MASTERIA_KB_PRIVATE_URLS") == "on",
	}
	var err error
	if c.SessionMaxAge, err = time.ParseDuration(get("MASTERIA_SESSION_MAX_AGE")); err != nil || c.SessionMaxAge < time.Minute {
		return c, fmt.Errorf("config: MASTERIA_SESSION_MAX_AGE: want a duration of a minute or more, like 720h")
	}
	if c.CampaignTick, err = time.ParseDuration(get("MASTERIA_CAMPAIGN_TICK")); err != nil || c.CampaignTick < time.Second {
		return c, fmt.Errorf("config: MASTERIA_CAMPAIGN_TICK: want a duration of a second or more, like 5s")
	}
	if c.AIProgressionDelay, err = time.ParseDuration(get("MASTERIA_AI_PROGRESSION_DELAY")); err != nil || c.AIProgressionDelay < 100*time.Millisecond {
		return c, fmt.Errorf("config: MASTERIA_AI_PROGRESSION_DELAY: want a duration of 100ms or more, like 15s")
	}
	if c.AITimeout, err = time.ParseDuration(get("MASTERIA_AI_TIMEOUT")); err != nil || c.AITimeout < 100*time.Millisecond {
		return c, fmt.Errorf("config: MASTERIA_AI_TIMEOUT: want a duration of 100ms or more, like 60s")
	}
	if c.BotDebounce, err = time.ParseDuration(get("MASTERIA_BOT_DEBOUNCE")); err != nil || c.BotDebounce < 0 || c.BotDebounce > time.Minute {
		return c, fmt.Errorf("config: MASTERIA_BOT_DEBOUNCE: want a duration from 0s to 1m, like 2s")
	}
	if c.Workers, err = strconv.Atoi(get("MASTERIA_WORKERS")); err != nil || c.Workers < 1 {
		return c, fmt.Errorf("config: MASTERIA_WORKERS: want a whole number above 0")
	}
	if c.APIRateLimit, err = strconv.Atoi(get("MASTERIA_API_RATE_LIMIT")); err != nil || c.APIRateLimit < 1 {
		return c, fmt.Errorf("config: MASTERIA_API_RATE_LIMIT: want a whole number of requests a minute above 0")
	}
	if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, fmt.Errorf("config: MASTERIA_BASE_URL: want an http or https URL, got %q", c.BaseURL)
	}
	if c.Env != "production" && c.Env != "development" {
		return c, fmt.Errorf("config: MASTERIA_ENV: want production or development, got %q", c.Env)
	}
	if c.Production() && c.SecretKey == "" {
		return c, fmt.Errorf("config: MASTERIA_SECRET_KEY is required in production: create one with `masteria keygen`")
	}
	if abs, err := filepath.Abs(c.DataDir); err == nil {
		c.DataDir = abs
	}
	return c, nil
}

// Production tells whether the app runs for real users.
func (c Config) Production() bool { return c.Env == "production" }

// SecureCookies tells whether cookies get the Secure flag: behind TLS, always.
func (c Config) SecureCookies() bool { return strings.HasPrefix(c.BaseURL, "https://") }
