package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"masteria/app/ai/provider"

	"masteria/app/account"
	"masteria/app/boot"
	"masteria/app/crm"
	"masteria/app/crm/board"
	"masteria/app/inbox"
	"masteria/app/model"
	"masteria/app/sim/oauthsim"
	"masteria/app/store"
)

// The demo account `dev` creates, printed on start so anyone can log in at once.
const (
	demoOrg      = "Loja Demo"
	demoName     = "Demo"
	demoEmail    = "demo@masteria.local"
	demoPassword = "vendas-2026!"
)

// cmdDev runs everything locally: the private database, migrations, demo data, the
// simulated login providers, then the app with its workers.
func cmdDev(ctx context.Context, out io.Writer) error {
	cfg, err := loadConfig(ctx)
	if err != nil {
		return err
	}
	if err := boot.Migrate(ctx, cfg); err != nil {
		return err
	}
	// The Meta and Twilio simulators, unless real provider URLs are set: the demo org's
	// WhatsApp and SMS channels talk to them over HTTP like to the real providers.
	sims, err := startDevSims(&cfg)
	if err != nil {
		return err
	}
	defer sims.Close()
	retellSim, err := startDevRetell(&cfg)
	if err != nil {
		return err
	}
	if retellSim != nil {
		defer retellSim.Close()
	}
	ring, err := boot.KeyRing(cfg)
	if err != nil {
		return err
	}
	st, err := store.Connect(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	inboxes := inbox.New(st, ring)
	res, err := account.New(st).CreateUserInOrg(ctx, demoOrg, demoName, demoEmail, demoPassword, model.RoleOwner)
	var v *model.ValidationError
	switch {
	case errors.As(err, &v):
		slog.Warn("demo user exists with another password; leaving it as it is", "email", demoEmail)
	case err != nil:
		st.Close()
		return err
	default:
		a := model.Actor{UserID: res.User.ID, OrgID: res.Org.ID, Role: res.Role}
		if err := crm.New(st).SeedDemo(ctx, a); err != nil {
			slog.Warn("demo contacts", "err", err)
		}
		if err := inboxes.SeedDemo(ctx, a); err != nil {
			slog.Warn("demo inbox", "err", err)
		}
		if err := board.New(st).SeedDemo(ctx, a); err != nil {
			slog.Warn("demo board", "err", err)
		}
		if err := sims.seedChannels(ctx, inboxes, a); err != nil {
			slog.Warn("demo channels", "err", err)
		}
	}
	if err := sims.wire(ctx, st, cfg, inboxes); err != nil {
		slog.Warn("simulated channels", "err", err)
	}
	if err := sims.wireAI(ctx, st, provider.New(st, ring)); err != nil {
		slog.Warn("simulated AI provider", "err", err)
	}
	if err := wireDevRetell(ctx, retellSim, st, ring, cfg); err != nil {
		slog.Warn("simulated Retell", "err", err)
	}
	if err := seedBot(ctx, cfg, ring); err != nil {
		slog.Warn("demo bot", "err", err)
	}
	st.Close()
	control, err := sims.serveControl(cfg.Addr)
	if err != nil {
		return err
	}

	// "Continue with Google/Facebook" against the local simulator, unless real ids are set.
	if cfg.GoogleClientID == "" && cfg.FacebookClientID == "" {
		sim := oauthsim.New()
		simURL, err := sim.Start()
		if err != nil {
			return err
		}
		defer sim.Close()
		sim.AddUser(oauthsim.User{Email: "demo.google@masteria.local", EmailVerified: true, Name: "Demo Google"})
		sim.RegisterClient("dev-google", "dev-google-secret", cfg.BaseURL+"/auth/google/callback")
		sim.RegisterClient("dev-facebook", "dev-facebook-secret", cfg.BaseURL+"/auth/facebook/callback")
		cfg.GoogleClientID, cfg.GoogleClientSecret = "dev-google", "dev-google-secret"
		cfg.GoogleDiscoveryURL = simURL + "/.well-known/openid-configuration"
		cfg.FacebookClientID, cfg.FacebookClientSecret = "dev-facebook", "dev-facebook-secret"
		cfg.FacebookBaseURL = simURL
	}

	fmt.Fprintf(out, "\n  Master IA is starting at %s\n", cfg.BaseURL)
	fmt.Fprintf(out, "  Log in as %s with password %s", demoEmail, demoPassword)
	if res.Org.ID != 0 {
		fmt.Fprintf(out, " (org %q)", res.Org.Name)
	}
	fmt.Fprintf(out, "\n  Database: %s\n", cfg.DatabaseURL)
	if sims.whatsapp != 0 || sims.sms != 0 {
		fmt.Fprintf(out, "  A simulated customer writes on WhatsApp or SMS:\n")
		fmt.Fprintf(out, "    curl -d from=+5511987654321 -d name=Ana -d text=Oi %s/whatsapp\n", control)
		fmt.Fprintf(out, "    curl -d from=+5511987654321 -d text=Oi %s/sms\n", control)
	}
	if sims.ai != nil {
		fmt.Fprintf(out, "  AI provider: the OpenAI simulator at %s/v1 (Settings → AI)\n", sims.ai.URL())
	}
	if retellSim != nil {
		fmt.Fprintf(out, "  Voice: the Retell simulator at %s (Settings → Voice); its calls play themselves\n", retellSim.URL())
	}
	fmt.Fprintln(out)
	return serve(ctx, cfg, true, true)
}
