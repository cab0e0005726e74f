package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"masteria/app/ai/provider"
	"masteria/app/config"
	"masteria/app/inbox"
	"masteria/app/model"
	"masteria/app/sim/metasim"
	"masteria/app/sim/openaisim"
	"masteria/app/sim/twiliosim"
	"masteria/app/store"
)

// The demo org's simulated numbers: a WhatsApp Cloud number at the Meta simulator and a
// Twilio number at the Twilio simulator, so `masteria dev` shows real webhooks, sends and
// status ticks without any account.
const (
	devWhatsAppName  = "WhatsApp (simulado)"
	devPhoneNumberID = "100000000000001"
	devWABAID        = "200000000000001"
	devMetaToken     = "EAAdev-simulated-token"
	devMetaSecret    = "dev-simulated-app-secret"
	devVerifyToken   = "dev-verify-token"
	devSMSName       = "SMS (simulado)"
	devAccountSID    = "AC00000000000000000000000000000dev"
	devTwilioToken   = "dev-simulated-auth-token"
	devSMSNumber     = "+15005550006"
	// The demo org's AI provider: the OpenAI simulator, with a small chat model and an
	// embedding model of the size knowledge bases store (migration 00015).
	devOpenAIKey         = "sk-dev-simulated-openai-key"
	devChatModel         = "gpt-4o-mini"
	devEmbeddingModel    = "text-embedding-3-small"
	devEmbeddingDims     = 1536
	devOpenAIBudgetInUSD = 5
)

// devSims are the provider simulators `masteria dev` runs, and a small control endpoint that
// makes a simulated customer write.
type devSims struct {
	meta     *metasim.Server
	twilio   *twiliosim.Server
	ai       *openaisim.Server
	control  *http.Server
	whatsapp int64 // the demo channels' ids, once known
	sms      int64
	smsSID   string // the simulated Twilio number's SID
}

// startDevSims starts the simulators unless META_GRAPH_URL or TWILIO_API_URL are set (the
// configuration's defaults are the real providers), and points cfg at them.
func startDevSims(cfg *config.Config) (*devSims, error) {
	d := &devSims{}
	if os.Getenv("META_GRAPH_URL") == "" {
		d.meta = metasim.New(metasim.WithStatusDelays(400*time.Millisecond, 800*time.Millisecond, 2*time.Second))
		u, err := d.meta.Start()
		if err != nil {
			return nil, err
		}
		cfg.MetaGraphURL = u
		for _, t := range []struct{ name, category, body string }{
			{"pedido_confirmado", "UTILITY", "Olá {{1}}, seu pedido {{2}} foi confirmado e chega amanhã."},
			{"promocao_semana", "MARKETING", "Oi {{1}}! Esta semana tem {{2}} de desconto na loja."},
		} {
			d.meta.AddTemplate(devWABAID, metasim.Template{Name: t.name, Language: "pt_BR", Status: "APPROVED", Category: t.category,
				Components: []map[string]any{{"type": "BODY", "text": t.body}}})
		}
	}
	if os.Getenv("TWILIO_API_URL") == "" {
		d.twilio = twiliosim.New()
		u, err := d.twilio.Start()
		if err != nil {
			d.Close()
			return nil, err
		}
		cfg.TwilioAPIURL = u
		if os.Getenv("TWILIO_TRUNKING_URL") == "" {
			cfg.TwilioTrunkingURL = u // the sim serves the trunking paths too
		}
		d.twilio.AddAccount(devAccountSID, devTwilioToken)
	}
	d.ai = openaisim.New(openaisim.WithAPIKey(devOpenAIKey))
	if _, err := d.ai.Start(); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// Close stops the simulators.
func (d *devSims) Close() {
	if d.control != nil {
		_ = d.control.Close()
	}
	if d.meta != nil {
		d.meta.Close()
	}
	if d.twilio != nil {
		d.twilio.Close()
	}
	if d.ai != nil {
		d.ai.Close()
	}
}

// wireAI connects the demo org to the OpenAI simulator: on the first run, and on later runs
// when its provider still points at a simulator of an earlier run (its port changes); a
// provider the user pointed elsewhere is left alone.
func (d *devSims) wireAI(ctx context.Context, st *store.Store, svc *provider.Service) error {
	if d.ai == nil {
		return nil
	}
	actors, err := demoActors(ctx, st)
	if err != nil {
		return err
	}
	base := d.ai.URL() + "/v1"
	for _, a := range actors {
		p, err := svc.Settings(ctx, a.OrgID)
		switch {
		case errors.Is(err, model.ErrNotFound):
			err = svc.Save(ctx, a, provider.Input{BaseURL: base, Key: devOpenAIKey, ChatModel: devChatModel,
				EmbeddingModel: devEmbeddingModel, EmbeddingDimensions: devEmbeddingDims, MonthlyBudget: devOpenAIBudgetInUSD})
		case err != nil:
		case p.BaseURL != base && strings.HasPrefix(p.BaseURL, "http://127.0.0.1:"):
			err = svc.Save(ctx, a, provider.Input{BaseURL: base, ChatModel: p.ChatModel, EmbeddingModel: p.EmbeddingModel,
				EmbeddingDimensions: p.EmbeddingDimensions, MonthlyBudget: p.MonthlyBudget})
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// seedChannels connects the demo org to the simulated numbers, once.
func (d *devSims) seedChannels(ctx context.Context, svc *inbox.Service, a model.Actor) error {
	chs, err := svc.Channels(ctx, a.OrgID)
	if err != nil {
		return err
	}
	has := map[string]bool{}
	for _, ch := range chs {
		has[ch.Name] = true
	}
	if d.meta != nil && !has[devWhatsAppName] {
		if _, err := svc.CreateChannel(ctx, a, model.KindWhatsAppCloud, devWhatsAppName,
			map[string]string{"phone_number_id": devPhoneNumberID, "waba_id": devWABAID},
			map[string]string{"access_token": devMetaToken, "app_secret": devMetaSecret, "verify_token": devVerifyToken}); err != nil {
			return err
		}
	}
	if d.twilio != nil && !has[devSMSName] {
		if _, err := svc.CreateChannel(ctx, a, model.KindTwilioSMS, devSMSName,
			map[string]string{"account_sid": devAccountSID, "from": devSMSNumber},
			map[string]string{"auth_token": devTwilioToken}); err != nil {
			return err
		}
	}
	return nil
}

// wire finds the demo channels on every run and gives the simulators their webhook URLs.
func (d *devSims) wire(ctx context.Context, st *store.Store, cfg config.Config, svc *inbox.Service) error {
	u, err := st.UserByEmail(ctx, demoEmail)
	if err != nil {
		return err
	}
	orgs, err := st.MembershipsOfUser(ctx, u.ID)
	if err != nil {
		return err
	}
	for _, m := range orgs {
		chs, err := svc.Channels(ctx, m.OrgID)
		if err != nil {
			return err
		}
		for _, ch := range chs {
			switch {
			case ch.Name == devWhatsAppName && ch.Kind == model.KindWhatsAppCloud && d.meta != nil && ch.Status != model.ChannelDisconnected:
				d.whatsapp = ch.ID
				d.meta.AddNumber(metasim.Number{PhoneNumberID: devPhoneNumberID, WABAID: devWABAID, DisplayNumber: "+55 11 4000-0001",
					VerifiedName: demoOrg, AccessToken: devMetaToken, AppSecret: devMetaSecret,
					WebhookURL: fmt.Sprintf("%s/webhooks/whatsapp/%d", cfg.BaseURL, ch.ID)})
			case ch.Name == devSMSName && ch.Kind == model.KindTwilioSMS && d.twilio != nil && ch.Status != model.ChannelDisconnected && d.sms == 0:
				sid, err := d.twilio.AddNumber(devAccountSID, devSMSNumber, fmt.Sprintf("%s/webhooks/twilio/%d", cfg.BaseURL, ch.ID))
				if err != nil {
					return err
				}
				d.sms, d.smsSID = ch.ID, sid
			}
		}
	}
	return nil
}

// serveControl listens on a loopback port for "a customer writes": POST /whatsapp or /sms
// with from= and text= makes the simulator deliver that message to the app's webhook, signed
// as the provider would. The port is the app's plus one when free (the same curl lines work
// run after run), any free one otherwise.
func (d *devSims) serveControl(appAddr string) (string, error) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /whatsapp", func(w http.ResponseWriter, r *http.Request) {
		if d.meta == nil || d.whatsapp == 0 {
			http.Error(w, "no simulated WhatsApp channel", http.StatusNotFound)
			return
		}
		// curl -d sends a "+" as a space: a number reads the same either way.
		from := strings.TrimPrefix(strings.TrimSpace(r.FormValue("from")), "+")
		if from == "" || r.FormValue("text") == "" {
			http.Error(w, "from and text are required", http.StatusBadRequest)
			return
		}
		_, status, err := d.meta.InboundText(r.Context(), devPhoneNumberID, metasim.Sender{WaID: from, Name: r.FormValue("name")}, r.FormValue("text"))
		d.answer(w, status, err)
	})
	mux.HandleFunc("POST /sms", func(w http.ResponseWriter, r *http.Request) {
		if d.twilio == nil || d.sms == 0 {
			http.Error(w, "no simulated SMS channel", http.StatusNotFound)
			return
		}
		from := r.FormValue("from")
		if strings.HasPrefix(from, " ") { // curl -d sends a "+" as a space
			from = "+" + strings.TrimSpace(from)
		}
		if !strings.HasPrefix(from, "+") || r.FormValue("text") == "" {
			http.Error(w, "from (E.164, with +) and text are required", http.StatusBadRequest)
			return
		}
		res, err := d.twilio.Inbound(r.Context(), d.smsSID, from, r.FormValue("text"))
		d.answer(w, res.Status, err)
	})
	ln, err := net.Listen("tcp", nextPort(appAddr))
	if err != nil {
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return "", err
		}
	}
	d.control = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := d.control.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Warn("dev simulator control", "err", err)
		}
	}()
	return "http://" + ln.Addr().String(), nil
}

func (d *devSims) answer(w http.ResponseWriter, appStatus int, err error) {
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	fmt.Fprintf(w, "delivered to the app's webhook: HTTP %d\n", appStatus)
}

// nextPort is the loopback address one port above addr's ("127.0.0.1:8081" for ":8080").
func nextPort(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	n, perr := strconv.Atoi(port)
	if err != nil || perr != nil || n <= 0 || n >= 65535 {
		return "127.0.0.1:0"
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(n+1))
}
