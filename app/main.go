// Command masteria runs Master IA: the web app, its background workers and its tools.
//
//	masteria serve [--no-workers]   HTTP server and job workers
//	masteria worker                 job workers only
//	masteria migrate                bring the database schema up to date
//	masteria dev                    local database, demo data, simulated providers, then serve
//	masteria user create --org NAME --email E --password P [--role owner|admin|manager|agent]
//	masteria apikey create --org NAME --name N
//	masteria keygen                 print a new vault key
//	masteria keys rotate            re-seal stored secrets with the first key of MASTERIA_SECRET_KEY
//	masteria db start|stop|url      the private PostgreSQL cluster under MASTERIA_DATA_DIR
//	masteria version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "masteria:", err)
		os.Exit(1)
	}
}

const usage = `masteria — WhatsApp and SMS CRM

Commands:
  serve [--no-workers]   run the web app (and the job workers unless --no-workers)
  worker                 run the job workers only
  migrate                bring the database schema up to date (safe to run twice at once)
  dev                    private database under MASTERIA_DATA_DIR, demo data, simulated providers, then serve
  user create            --org NAME --email E --password P [--role owner|admin|manager|agent]
  apikey create          --org NAME --name N   (prints the new key once)
  keygen                 print a new key for MASTERIA_SECRET_KEY
  keys rotate            re-seal stored secrets with the first key of MASTERIA_SECRET_KEY
  db start|stop|url      manage the private PostgreSQL cluster under MASTERIA_DATA_DIR
  version                print the version

Configuration comes from the environment; see the README.
`

func run(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(out, usage)
		return flag.ErrHelp
	}
	setupLogging()
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return cmdServe(ctx, rest, true)
	case "worker":
		return cmdServe(ctx, rest, false)
	case "migrate":
		return cmdMigrate(ctx)
	case "dev":
		return cmdDev(ctx, out)
	case "user":
		return cmdUser(ctx, rest, out)
	case "apikey":
		return cmdAPIKey(ctx, rest, out)
	case "keygen":
		return cmdKeygen(out)
	case "keys":
		return cmdKeys(ctx, rest, out)
	case "db":
		return cmdDB(ctx, rest, out)
	case "version":
		fmt.Fprintln(out, "masteria", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(out, usage)
		return nil
	}
	fmt.Fprint(os.Stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

func setupLogging() {
	level := slog.LevelInfo
	switch strings.ToLower(os.Getenv("MASTERIA_LOG_LEVEL")) {
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
}
