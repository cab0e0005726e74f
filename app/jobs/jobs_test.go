package jobs

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// TestLevelFilterSurvivesWith: River derives loggers with With; they must stay filtered.
func TestLevelFilterSurvivesWith(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(levelFilter{min: slog.LevelWarn, Handler: slog.NewTextHandler(&buf, nil)}).With("component", "river").WithGroup("g")
	l.Info("routine")
	l.Warn("worth reading")
	if out := buf.String(); strings.Contains(out, "routine") || !strings.Contains(out, "worth reading") {
		t.Fatalf("log: %q", out)
	}
}
