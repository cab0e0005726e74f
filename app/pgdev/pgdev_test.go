package pgdev

import (
	"context"
	"database/sql"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// clusterDir returns a fresh directory under os.TempDir() that the postgres user can traverse
// when the tests run as root (t.TempDir() makes 0700 directories it could not enter).
func clusterDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pgdev-test-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func TestCluster(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := clusterDir(t)

	// Two callers at once on a new directory: one initdb's and starts, the other reuses it.
	var (
		wg       sync.WaitGroup
		clusters [2]*Cluster
		errs     [2]error
	)
	for i := range clusters {
		wg.Go(func() { clusters[i], errs[i] = Start(ctx, dir, WithFastUnsafe()) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Start #%d: %v", i, err)
		}
	}
	c := clusters[0]
	t.Cleanup(func() {
		if err := c.Stop(context.Background()); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	if c.Port == 0 || clusters[1].Port != c.Port {
		t.Fatalf("ports: %d and %d, want the same non-zero port", c.Port, clusters[1].Port)
	}
	if r, ok := Running(dir); !ok || r.Port != c.Port {
		t.Fatalf("Running = %v, %v; want port %d", r, ok, c.Port)
	}
	conf, err := os.ReadFile(filepath.Join(dir, "pg", "postgresql.conf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"port = " + strconv.Itoa(c.Port), "listen_addresses = '127.0.0.1'", "fsync = off"} {
		if !strings.Contains(string(conf), want) {
			t.Errorf("postgresql.conf lacks %q", want)
		}
	}

	for range 2 { // idempotent
		if err := c.EnsureDatabase(ctx, "app"); err != nil {
			t.Fatalf("EnsureDatabase: %v", err)
		}
	}
	checkVector(t, c.URL("app"))

	if err := c.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if _, ok := Running(dir); ok {
		t.Fatal("Running after Stop")
	}
	if err := c.Stop(ctx); err != nil {
		t.Fatalf("Stop of a stopped cluster: %v", err)
	}

	// Something else took the cluster's port while it was stopped: it moves to another one.
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(c.Port)))
	if err != nil {
		t.Fatalf("occupy port %d: %v", c.Port, err)
	}
	defer l.Close()
	again, err := Start(ctx, dir, WithFastUnsafe())
	if err != nil {
		t.Fatalf("Start after Stop: %v", err)
	}
	if again.Port == c.Port {
		t.Fatalf("restarted on the taken port %d", c.Port)
	}
	c.Port = again.Port // for the cleanup's Stop
	checkVector(t, again.URL("app"))
}

func checkVector(t *testing.T, url string) {
	t.Helper()
	db, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v string
	if err := db.QueryRow(`SELECT '[1,2,3]'::vector::text`).Scan(&v); err != nil {
		t.Fatalf("vector query: %v", err)
	}
	if v != "[1,2,3]" {
		t.Fatalf("vector = %q", v)
	}
}

func TestStartNotTraversable(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root runs the server as another user")
	}
	closed := t.TempDir() // 0700, owned by root
	_, err := Start(context.Background(), filepath.Join(closed, "db"))
	if err == nil || !strings.Contains(err.Error(), "not traversable") {
		t.Fatalf("err = %v, want a not traversable error", err)
	}
}

func TestStartWithoutPostgres(t *testing.T) {
	_, err := Start(context.Background(), t.TempDir(), WithBinDir(t.TempDir()))
	if err == nil || !strings.Contains(err.Error(), "PostgreSQL not found") {
		t.Fatalf("err = %v, want PostgreSQL not found", err)
	}
}

func TestURL(t *testing.T) {
	c := &Cluster{Port: 5433}
	if got, want := c.URL("app"), "postgres://postgres@127.0.0.1:5433/app?sslmode=disable"; got != want {
		t.Fatalf("URL = %q, want %q", got, want)
	}
}
