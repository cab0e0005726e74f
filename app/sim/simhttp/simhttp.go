// Package simhttp is what every simulator of app/sim shares: serving its handler on a
// loopback port in the background, and stopping it.
package simhttp

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Serve listens on addr (like "127.0.0.1:0") and serves h until Close; name prefixes errors
// and logs. It returns the server, its listener and the base URL of the address.
func Serve(name, addr string, h http.Handler, log *slog.Logger) (*http.Server, net.Listener, string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, "", fmt.Errorf("%s: listen: %w", name, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error(name+": serve", "err", err)
		}
	}()
	base := "http://" + ln.Addr().String()
	log.Debug(name+": started", "url", base)
	return srv, ln, base, nil
}

// Close stops a server from Serve (nil is fine) and closes its connections.
func Close(name string, srv *http.Server, log *slog.Logger) {
	if srv == nil {
		return
	}
	if err := srv.Close(); err != nil {
		log.Warn(name+": close", "err", err)
	}
}
