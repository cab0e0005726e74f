package web

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"masteria/app/store"
)

// health reports whether this instance can serve: the database answers, the schema is
// migrated, and the job queue's tables are there. It answers 503 while the database is down
// and recovers by itself when it returns: the pool reconnects, nothing is cached.
func (s *Server) health(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
	defer cancel()
	checks := map[string]string{}
	ok := true
	fail := func(name string, err error) {
		ok = false
		checks[name] = "error: " + err.Error()
	}
	db := s.st.DB()
	if err := db.PingContext(ctx); err != nil {
		fail("database", err)
	} else {
		checks["database"] = "ok"
		if m, err := store.Migrations(ctx, db.DB); err != nil {
			fail("migrations", err)
		} else if m.Current < m.Latest || m.RiverPending {
			fail("migrations", fmt.Errorf("schema at %d, binary wants %d: run `masteria migrate`", m.Current, m.Latest))
		} else {
			checks["migrations"] = fmt.Sprintf("ok (version %d)", m.Current)
		}
		if queued, err := s.st.JobsWaiting(ctx); err != nil {
			fail("jobs", err)
		} else {
			checks["jobs"] = fmt.Sprintf("ok (%d waiting)", queued)
		}
	}
	status, code := "ok", http.StatusOK
	if !ok {
		status, code = "unavailable", http.StatusServiceUnavailable
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(code, map[string]any{"status": status, "checks": checks, "version": Version})
}

// Version is set at build time (-ldflags "-X masteria/app/web.Version=…").
var Version = "dev"
