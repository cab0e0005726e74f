// Package pgdev runs a private PostgreSQL cluster out of a directory, with the machine's own
// initdb, pg_ctl and postgres. `masteria dev` keeps its database under ./data with it, and the
// tests of every package share one cluster started by package pgtest.
//
// Layout of the directory:
//
//	dir/pg       the data directory (initdb)
//	dir/pg.log   the server log
//	dir/pg.lock  flock taken while starting or stopping, so parallel callers do not race
//
// The cluster listens on 127.0.0.1 only, on a port picked at initdb time, with trust
// authentication for the `postgres` role; it is meant for development and tests, never production.
package pgdev

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/lib/pq"
)

// Cluster is a PostgreSQL server whose data lives in Dir/pg and which listens on 127.0.0.1:Port.
type Cluster struct {
	Dir  string // absolute directory holding the cluster
	Port int    // TCP port on 127.0.0.1

	opts  options
	bin   string              // directory holding initdb, pg_ctl and postgres; found on first need
	runAs *syscall.Credential // when root: the postgres system user the tools run as
}

// Option changes how Start sets up a cluster.
type Option func(*options)

type options struct {
	fastUnsafe bool
	binDir     string
	logger     *slog.Logger
}

// WithFastUnsafe turns off fsync, synchronous_commit and full_page_writes: much faster, and a
// crash of the machine may lose or corrupt data. For tests only. It applies when Start starts the
// server; a server that already runs keeps its settings.
func WithFastUnsafe() Option { return func(o *options) { o.fastUnsafe = true } }

// WithBinDir uses the PostgreSQL programs in dir instead of looking for them.
func WithBinDir(dir string) Option { return func(o *options) { o.binDir = dir } }

// WithLogger sets where progress (initdb, start, stop) is logged; slog.Default() otherwise.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

const (
	dataName = "pg"
	logName  = "pg.log"
	lockName = "pg.lock"

	// confBegin and confEnd delimit the block of postgresql.conf that pgdev owns and rewrites.
	confBegin = "# --- masteria pgdev: settings below are rewritten on start ---"
	confEnd   = "# --- masteria pgdev: end ---"

	readyTimeout = 60 * time.Second
)

// Start initdb's dir/pg if it holds no cluster, starts the server unless it already runs (a second
// caller on the same dir reuses the running server), waits until it accepts connections and
// returns it. Concurrent callers on the same dir, in this process or others, all succeed.
func Start(ctx context.Context, dir string, opts ...Option) (*Cluster, error) {
	c, err := newCluster(dir, opts)
	if err != nil {
		return nil, err
	}
	if err := c.tools(); err != nil {
		return nil, err
	}
	if err := c.prepareDir(); err != nil {
		return nil, err
	}
	unlock, err := lockDir(ctx, filepath.Join(c.Dir, lockName))
	if err != nil {
		return nil, err
	}
	defer unlock()

	if port, ok := c.runningPort(); ok {
		c.Port = port
		if err := c.waitReady(ctx); err != nil {
			return nil, err
		}
		c.log().Debug("pgdev: reusing running server", "dir", c.Dir, "port", c.Port)
		return c, nil
	}

	if _, err := os.Stat(filepath.Join(c.dataDir(), "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if err := c.initdb(ctx); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, fmt.Errorf("pgdev: %w", err)
	}
	if err := c.start(ctx); err != nil {
		return nil, err
	}
	if err := c.waitReady(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// Running reports whether a server of the cluster in dir is up and ready, and returns it if so.
// It starts nothing and takes no lock.
func Running(dir string) (*Cluster, bool) {
	c, err := newCluster(dir, nil)
	if err != nil {
		return nil, false
	}
	port, ok := c.runningPort()
	if !ok {
		return nil, false
	}
	c.Port = port
	return c, true
}

// URL returns a lib/pq (and pgx) connection URL for database on this cluster.
func (c *Cluster) URL(database string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User("postgres"),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(c.Port)),
		Path:     "/" + database,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// EnsureDatabase creates database name if it is missing, then the pgvector extension in it.
func (c *Cluster) EnsureDatabase(ctx context.Context, name string) error {
	admin, err := sql.Open("postgres", c.URL("postgres"))
	if err != nil {
		return fmt.Errorf("pgdev: open: %w", err)
	}
	defer admin.Close()

	var exists bool
	err = admin.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists)
	if err != nil {
		return fmt.Errorf("pgdev: look up database %s: %w", name, err)
	}
	if !exists {
		_, err := admin.ExecContext(ctx, "CREATE DATABASE "+pq.QuoteIdentifier(name))
		// A concurrent caller may have created it in the meantime.
		if err != nil && !isCode(err, "42P04", "23505") {
			return fmt.Errorf("pgdev: create database %s: %w", name, err)
		}
	}

	db, err := sql.Open("postgres", c.URL(name))
	if err != nil {
		return fmt.Errorf("pgdev: open: %w", err)
	}
	defer db.Close()
	// Concurrent CREATE EXTENSION IF NOT EXISTS can still collide on the catalog's unique index;
	// the loser simply tries again and finds it there.
	for attempt := 0; ; attempt++ {
		_, err = db.ExecContext(ctx, "CREATE EXTENSION IF NOT EXISTS vector")
		if err == nil {
			return nil
		}
		if attempt < 3 && isCode(err, "23505", "42710") {
			continue
		}
		if isCode(err, "0A000", "58P01") || strings.Contains(err.Error(), "vector.control") {
			return fmt.Errorf("pgdev: pgvector is not installed for this PostgreSQL: run `go tool task setup`: %w", err)
		}
		return fmt.Errorf("pgdev: create extension vector in %s: %w", name, err)
	}
}

// Stop stops the server with `pg_ctl stop -m fast`. Stopping a cluster that does not run is not
// an error.
func (c *Cluster) Stop(ctx context.Context) error {
	if err := c.tools(); err != nil {
		return err
	}
	unlock, err := lockDir(ctx, filepath.Join(c.Dir, lockName))
	if err != nil {
		return err
	}
	defer unlock()
	if _, ok := c.pidFile(); !ok {
		return nil
	}
	out, err := c.command(ctx, "pg_ctl", "stop", "-D", c.dataDir(), "-m", "fast", "-w", "-t", "60").CombinedOutput()
	if err != nil {
		if _, ok := c.pidFile(); !ok {
			return nil // it was already going away
		}
		return fmt.Errorf("pgdev: pg_ctl stop: %w: %s", err, strings.TrimSpace(string(out)))
	}
	c.log().Info("pgdev: stopped PostgreSQL", "dir", c.Dir)
	return nil
}

func newCluster(dir string, opts []Option) (*Cluster, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("pgdev: %w", err)
	}
	c := &Cluster{Dir: abs}
	for _, o := range opts {
		o(&c.opts)
	}
	return c, nil
}

func (c *Cluster) dataDir() string { return filepath.Join(c.Dir, dataName) }

func (c *Cluster) log() *slog.Logger {
	if c.opts.logger != nil {
		return c.opts.logger
	}
	return slog.Default()
}

// tools finds the PostgreSQL programs and, when running as root, the user to run them as.
func (c *Cluster) tools() error {
	if c.bin == "" {
		bin, err := findBinDir(c.opts.binDir)
		if err != nil {
			return err
		}
		c.bin = bin
	}
	if os.Geteuid() == 0 && c.runAs == nil {
		cred, err := postgresUser()
		if err != nil {
			return err
		}
		c.runAs = cred
	}
	return nil
}

var binaries = []string{"initdb", "pg_ctl", "postgres"}

// findBinDir returns the directory holding initdb, pg_ctl and postgres: the given one, the one of
// pg_ctl on PATH, or the highest version under /usr/lib/postgresql.
func findBinDir(given string) (string, error) {
	complete := func(dir string) bool {
		for _, b := range binaries {
			if fi, err := os.Stat(filepath.Join(dir, b)); err != nil || fi.IsDir() {
				return false
			}
		}
		return true
	}
	if given != "" {
		if !complete(given) {
			return "", fmt.Errorf("pgdev: PostgreSQL not found in %s (need %s)", given, strings.Join(binaries, ", "))
		}
		return given, nil
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil && complete(filepath.Dir(real)) {
			return filepath.Dir(real), nil
		}
		if complete(filepath.Dir(p)) {
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if complete(d) {
			return d, nil
		}
	}
	return "", errors.New("pgdev: PostgreSQL not found: run `go tool task setup`")
}

// versionOf turns /usr/lib/postgresql/15/bin (or 9.6) into a number that sorts by version.
func versionOf(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}

// postgresUser returns the credential of the `postgres` system user: PostgreSQL refuses to run as root.
func postgresUser() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgdev: running as root needs a `postgres` system user, as PostgreSQL refuses to run as root: %w", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("pgdev: uid of postgres: %w", err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("pgdev: gid of postgres: %w", err)
	}
	cred := &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	if ids, err := u.GroupIds(); err == nil {
		for _, id := range ids {
			if g, err := strconv.ParseUint(id, 10, 32); err == nil {
				cred.Groups = append(cred.Groups, uint32(g))
			}
		}
	}
	return cred, nil
}

// prepareDir creates the cluster directory and, as root, hands it to the postgres user after
// checking that this user can reach it.
func (c *Cluster) prepareDir() error {
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return fmt.Errorf("pgdev: create %s: %w", c.Dir, err)
	}
	if c.runAs == nil {
		return nil
	}
	if err := checkTraversable(c.Dir, c.runAs); err != nil {
		return err
	}
	if err := os.Chown(c.Dir, int(c.runAs.Uid), int(c.runAs.Gid)); err != nil {
		return fmt.Errorf("pgdev: hand %s to the postgres user: %w", c.Dir, err)
	}
	return nil
}

// checkTraversable fails when one of the parents of dir cannot be searched by the user in cred,
// which would make initdb and the server fail with a less helpful message.
func checkTraversable(dir string, cred *syscall.Credential) error {
	var parents []string
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		parents = append(parents, p)
		if p == filepath.Dir(p) {
			break
		}
	}
	for i := len(parents) - 1; i >= 0; i-- {
		p := parents[i]
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("pgdev: %w", err)
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			continue
		}
		if !canSearch(st, cred) {
			return fmt.Errorf("pgdev: %s (mode %v) is not traversable by the postgres user, which runs the server "+
				"because PostgreSQL refuses to run as root: choose a directory it can reach (e.g. under %s) or `chmod o+x %s`",
				p, fi.Mode().Perm(), os.TempDir(), p)
		}
	}
	return nil
}

func canSearch(st *syscall.Stat_t, cred *syscall.Credential) bool {
	mode := st.Mode
	if st.Uid == cred.Uid {
		return mode&0o100 != 0
	}
	if st.Gid == cred.Gid {
		return mode&0o010 != 0
	}
	for _, g := range cred.Groups {
		if st.Gid == g {
			return mode&0o010 != 0
		}
	}
	return mode&0o001 != 0
}

// command prepares one of the PostgreSQL programs, run as the postgres user when we are root,
// in its own process group so a Ctrl-C aimed at the caller does not reach the server.
func (c *Cluster) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, name), args...)
	cmd.Dir = c.Dir // a cwd the postgres user can enter
	cmd.Env = childEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: c.runAs}
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// childEnv is our environment without the PG* variables that would redirect the tools elsewhere.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "LC_ALL=C")
}

// initdb creates the cluster in a scratch directory and renames it into place when complete, so
// an interrupted initdb never leaves a half-made cluster behind.
func (c *Cluster) initdb(ctx context.Context) error {
	scratch := c.dataDir() + ".init"
	if err := os.RemoveAll(scratch); err != nil {
		return fmt.Errorf("pgdev: remove %s: %w", scratch, err)
	}
	if err := os.RemoveAll(c.dataDir()); err != nil { // no PG_VERSION: not a cluster
		return fmt.Errorf("pgdev: remove %s: %w", c.dataDir(), err)
	}
	c.log().Info("pgdev: creating PostgreSQL cluster", "dir", c.dataDir(), "bin", c.bin)
	args := []string{"-D", scratch, "--auth=trust", "--username=postgres", "--encoding=UTF8", "--locale=C", "--no-instructions"}
	if c.opts.fastUnsafe {
		args = append(args, "--no-sync")
	}
	start := time.Now()
	if out, err := c.command(ctx, "initdb", args...).CombinedOutput(); err != nil {
		_ = os.RemoveAll(scratch)
		return fmt.Errorf("pgdev: initdb: %w: %s", err, strings.TrimSpace(string(out)))
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	c.Port = port
	if err := c.writeConf(scratch); err != nil {
		return err
	}
	if err := os.Rename(scratch, c.dataDir()); err != nil {
		return fmt.Errorf("pgdev: %w", err)
	}
	c.log().Info("pgdev: created PostgreSQL cluster", "dir", c.dataDir(), "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// start starts the stopped server on its recorded port, or on another one when that is taken.
func (c *Cluster) start(ctx context.Context) error {
	port, err := c.confPort()
	if err != nil {
		return err
	}
	c.Port = port
	for attempt := 1; ; attempt++ {
		if !portFree(c.Port) {
			p, err := freePort()
			if err != nil {
				return err
			}
			c.log().Info("pgdev: port taken, moving the cluster", "old", c.Port, "new", p)
			c.Port = p
		}
		// Rewritten on every start so the port and the options of this call apply.
		if err := c.writeConf(c.dataDir()); err != nil {
			return err
		}
		logFile := filepath.Join(c.Dir, logName)
		offset := fileSize(logFile)
		// -l sends the server's output to the log file and pg_ctl gives it /dev/null as stdin, so
		// the server never holds the caller's stdout or stderr open.
		cmd := c.command(ctx, "pg_ctl", "start", "-D", c.dataDir(), "-l", logFile, "-w", "-t", "60")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		if err == nil {
			c.log().Info("pgdev: started PostgreSQL", "dir", c.Dir, "port", c.Port)
			return nil
		}
		tail := logTail(logFile, offset)
		// Another program may have grabbed the port between our check and the server's bind.
		if attempt < 3 && (strings.Contains(tail, "could not bind") || strings.Contains(tail, "in use")) {
			c.Port = 0
			continue
		}
		return fmt.Errorf("pgdev: pg_ctl start: %w: %s\n%s", err, strings.TrimSpace(out.String()), tail)
	}
}

// writeConf rewrites pgdev's block at the end of postgresql.conf in dataDir.
func (c *Cluster) writeConf(dataDir string) error {
	path := filepath.Join(dataDir, "postgresql.conf")
	old, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("pgdev: %w", err)
	}
	text := string(old)
	if i := strings.Index(text, confBegin); i >= 0 {
		text = text[:i]
	}
	var b strings.Builder
	b.WriteString(strings.TrimRight(text, "\n"))
	b.WriteString("\n\n" + confBegin + "\n")
	fmt.Fprintf(&b, "port = %d\n", c.Port)
	b.WriteString("listen_addresses = '127.0.0.1'\n")
	b.WriteString("unix_socket_directories = ''\n") // TCP only: no socket path length limits
	b.WriteString("max_connections = 200\n")
	if c.opts.fastUnsafe {
		b.WriteString("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n")
	}
	b.WriteString(confEnd + "\n")
	// Written in place so the file keeps its owner (the postgres user when we are root).
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("pgdev: write %s: %w", path, err)
	}
	return nil
}

// confPort reads the port from pgdev's block of postgresql.conf.
func (c *Cluster) confPort() (int, error) {
	path := filepath.Join(c.dataDir(), "postgresql.conf")
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("pgdev: %w", err)
	}
	text := string(data)
	if i := strings.Index(text, confBegin); i >= 0 {
		text = text[i:]
		for _, line := range strings.Split(text, "\n") {
			if v, ok := strings.CutPrefix(line, "port = "); ok {
				if port, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
					return port, nil
				}
			}
		}
	}
	// A cluster pgdev did not set up (or whose block was edited away): give it a port.
	return freePort()
}

// pidFile reads postmaster.pid when the process it names is alive.
// Its lines are: pid, data dir, start time, port, socket dir, listen address, shmem key, status.
func (c *Cluster) pidFile() ([]string, bool) {
	data, err := os.ReadFile(filepath.Join(c.dataDir(), "postmaster.pid"))
	if err != nil {
		return nil, false
	}
	lines := strings.Split(string(data), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(lines[0]))
	if err != nil || pid <= 0 {
		return nil, false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return nil, false // stale file of a server that died
	}
	// After a crash and reboot the pid may belong to an unrelated process.
	if comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err == nil &&
		!strings.HasPrefix(strings.TrimSpace(string(comm)), "postgres") {
		return nil, false
	}
	return lines, true
}

// runningPort returns the port of the live server of this cluster, if there is one.
func (c *Cluster) runningPort() (int, bool) {
	lines, ok := c.pidFile()
	if !ok || len(lines) < 4 {
		return 0, false
	}
	port, err := strconv.Atoi(strings.TrimSpace(lines[3]))
	if err != nil {
		return 0, false
	}
	if len(lines) >= 8 && strings.TrimSpace(lines[7]) == "stopping" {
		return 0, false
	}
	return port, true
}

// waitReady waits until the server accepts connections.
func (c *Cluster) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	db, err := sql.Open("postgres", c.URL("postgres")+"&connect_timeout=5")
	if err != nil {
		return fmt.Errorf("pgdev: open: %w", err)
	}
	defer db.Close()
	for {
		err := db.PingContext(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("pgdev: PostgreSQL in %s does not accept connections on port %d: %w", c.Dir, c.Port, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// lockDir takes an exclusive flock on path, waiting for it as long as ctx allows.
func lockDir(ctx context.Context, path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("pgdev: open lock file: %w", err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("pgdev: lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("pgdev: wait for lock %s: %w", path, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// freePort asks the kernel for a free TCP port on 127.0.0.1.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgdev: pick a port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func portFree(port int) bool {
	if port <= 0 {
		return false
	}
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// logTail returns the last lines the server logged after offset, for error messages.
func logTail(path string, offset int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if _, err := f.Seek(offset, 0); err != nil {
		return ""
	}
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > 20 {
			lines = lines[1:]
		}
	}
	if len(lines) == 0 {
		return ""
	}
	return "server log (" + path + "):\n" + strings.Join(lines, "\n")
}

// isCode reports whether err is a PostgreSQL error with one of the given SQLSTATE codes.
func isCode(err error, codes ...string) bool {
	var pqErr *pq.Error
	if !errors.As(err, &pqErr) {
		return false
	}
	for _, code := range codes {
		if string(pqErr.Code) == code {
			return true
		}
	}
	return false
}
