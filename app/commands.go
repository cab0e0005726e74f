package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"masteria/app/account"
	"masteria/app/boot"
	"masteria/app/config"
	"masteria/app/model"
	"masteria/app/pgdev"
	"masteria/app/store"
	"masteria/app/vault"
	"masteria/app/web"
)

// loadConfig reads the environment and finds the database, starting the private cluster
// when DATABASE_URL is not set.
func loadConfig(ctx context.Context) (config.Config, error) {
	cfg, err := config.FromEnv()
	if err != nil {
		return cfg, err
	}
	return cfg, boot.ResolveDatabase(ctx, &cfg)
}

func cmdServe(ctx context.Context, args []string, withWeb bool) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	noWorkers := fs.Bool("no-workers", false, "serve HTTP only; run `masteria worker` elsewhere")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(ctx)
	if err != nil {
		return err
	}
	return serve(ctx, cfg, withWeb, withWeb && !*noWorkers || !withWeb)
}

func serve(ctx context.Context, cfg config.Config, withWeb, workers bool) error {
	ring, err := boot.KeyRing(cfg)
	if err != nil {
		return err
	}
	web.Version = version
	app, err := boot.Open(ctx, cfg, ring, boot.Options{Workers: workers, Web: withWeb})
	if err != nil {
		return err
	}
	defer app.Close()
	if err := app.Background(ctx); err != nil {
		return err
	}
	if !withWeb {
		slog.Info("worker running")
		<-ctx.Done()
		return nil
	}
	slog.Info("listening", "addr", cfg.Addr, "url", cfg.BaseURL, "workers", workers)
	return app.Serve(ctx)
}

func cmdMigrate(ctx context.Context) error {
	cfg, err := loadConfig(ctx)
	if err != nil {
		return err
	}
	if err := boot.Migrate(ctx, cfg); err != nil {
		return err
	}
	slog.Info("schema up to date")
	return nil
}

// openStore connects to a migrated database for the one-shot commands.
func openStore(ctx context.Context) (*store.Store, config.Config, error) {
	cfg, err := loadConfig(ctx)
	if err != nil {
		return nil, cfg, err
	}
	if err := boot.Migrate(ctx, cfg); err != nil {
		return nil, cfg, err
	}
	st, err := store.Connect(ctx, cfg.DatabaseURL)
	return st, cfg, err
}

func cmdUser(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return fmt.Errorf("usage: masteria user create --org NAME --email E --password P [--role owner|admin|manager|agent]")
	}
	fs := flag.NewFlagSet("user create", flag.ContinueOnError)
	org := fs.String("org", "", "organization name (created when it does not exist)")
	email := fs.String("email", "", "email")
	password := fs.String("password", "", "password (at least 10 characters)")
	name := fs.String("name", "", "display name (defaults to the part of the email before @)")
	role := fs.String("role", "owner", "owner, admin, manager or agent")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	st, _, err := openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	res, err := account.New(st).CreateUserInOrg(ctx, *org, *name, *email, *password, model.Role(*role))
	if err != nil {
		var v *model.ValidationError
		if errors.As(err, &v) {
			return fmt.Errorf("%s", describe(v))
		}
		return err
	}
	fmt.Fprintf(out, "user %s (%d) is %s of %q (org %d)\n", res.User.Email, res.User.ID, res.Role, res.Org.Name, res.Org.ID)
	return nil
}

// describe turns field errors into English words for the terminal.
func describe(v *model.ValidationError) string {
	msg := "invalid input:"
	for field, key := range v.Fields {
		msg += fmt.Sprintf(" %s (%s);", field, key)
	}
	return msg
}

func cmdAPIKey(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return fmt.Errorf("usage: masteria apikey create --org NAME --name N [--scope \"contacts:write board:read\"]")
	}
	fs := flag.NewFlagSet("apikey create", flag.ContinueOnError)
	org := fs.String("org", "", "organization name")
	name := fs.String("name", "", "a name for the key, like the integration that uses it")
	scope := fs.String("scope", "", `what the key may do: "read", or areas each read or write ("contacts:write board:read"); empty is everything`)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	st, _, err := openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	key, err := account.New(st).CreateScopedAPIKeyForOrgName(ctx, *org, *name, *scope)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, key)
	fmt.Fprintln(os.Stderr, "Keep this key now: it is not shown again. Use it as `Authorization: Bearer <key>`.")
	return nil
}

func cmdKeygen(out io.Writer) error {
	k, err := vault.GenerateKey()
	if err != nil {
		return err
	}
	fmt.Fprintln(out, k)
	return nil
}

func cmdKeys(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 || args[0] != "rotate" {
		return fmt.Errorf("usage: masteria keys rotate (with MASTERIA_SECRET_KEY=new,old)")
	}
	st, cfg, err := openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	ring, err := boot.KeyRing(cfg)
	if err != nil {
		return err
	}
	n, err := boot.Reseal(ctx, st, ring)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "re-sealed %d secrets with key %s\n", n, ring.PrimaryID())
	return nil
}

func cmdDB(ctx context.Context, args []string, out io.Writer) error {
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	if len(args) != 1 {
		return fmt.Errorf("usage: masteria db start|stop|url")
	}
	switch args[0] {
	case "start", "url":
		if err := boot.ResolveDatabase(ctx, &cfg); err != nil {
			return err
		}
		fmt.Fprintln(out, cfg.DatabaseURL)
		return nil
	case "stop":
		cl, ok := pgdev.Running(cfg.DataDir)
		if !ok {
			fmt.Fprintln(out, "not running")
			return nil
		}
		return cl.Stop(ctx)
	}
	return fmt.Errorf("usage: masteria db start|stop|url")
}
