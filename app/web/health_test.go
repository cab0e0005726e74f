package web_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"masteria/app/store/storetest"
	"masteria/app/web/webtest"
)

// cutProxy forwards TCP to the database and can be cut and restored, so a test can take
// the database away from one instance without touching the cluster other tests share.
type cutProxy struct {
	t      *testing.T
	addr   string
	target string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]bool
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	p := &cutProxy{t: t, target: target, conns: map[net.Conn]bool{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.cut)
	return p
}

func (p *cutProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns[c], p.conns[up] = true, true
			p.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
}

// cut closes the listener and every open connection: the database is "down".
func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]bool{}
}

// restore listens again on the same address: the database is back.
func (p *cutProxy) restore() {
	var ln net.Listener
	var err error
	for range 50 { // the port can take a moment to be free again
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		p.t.Fatal(err)
	}
	p.serve(ln)
}

type healthBody struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

func getHealth(t *testing.T, c *webtest.Client) (int, healthBody) {
	t.Helper()
	res := c.Get("/health")
	var b healthBody
	if err := json.Unmarshal([]byte(res.Body), &b); err != nil {
		t.Fatalf("health body %q: %v", res.Body, err)
	}
	return res.StatusCode, b
}

func TestHealthFollowsTheDatabase(t *testing.T) {
	t.Parallel()
	dbURL := storetest.URL(t)
	u, _ := url.Parse(dbURL)
	proxy := newCutProxy(t, u.Host)
	u.Host = proxy.addr
	inst := webtest.StartOn(t, u.String(), nil)
	c := webtest.NewClient(t, inst.URL)

	code, b := getHealth(t, c)
	if code != http.StatusOK || b.Status != "ok" || b.Checks["database"] != "ok" || b.Checks["migrations"] == "" || b.Checks["jobs"] == "" {
		t.Fatalf("healthy: %d %+v", code, b)
	}

	proxy.cut()
	code, b = getHealth(t, c)
	if code != http.StatusServiceUnavailable || b.Status != "unavailable" {
		t.Fatalf("database down: %d %+v", code, b)
	}

	proxy.restore()
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, b = getHealth(t, c)
		if code == http.StatusOK && b.Status == "ok" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not healthy again after the database came back: %d %+v", code, b)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
