package web

import (
	"errors"
	"io"
	"time"
)

// SetHeartbeat shortens the SSE heartbeat for the tests that wait on it.
func SetHeartbeat(d time.Duration) { heartbeat = d }

// FailExportAfter makes the contact export's writes fail after n bytes, as a database
// error in the middle of a long export would.
func FailExportAfter(s *Server, n int) {
	s.exportWrap = func(w io.Writer) io.Writer { return &failingWriter{w: w, left: n} }
}

type failingWriter struct {
	w    io.Writer
	left int
}

func (f *failingWriter) Write(p []byte) (int, error) {
	if len(p) > f.left {
		return 0, errors.New("export broke")
	}
	f.left -= len(p)
	return f.w.Write(p)
}

// APIArea is the scope area of an API route path.
var APIArea = apiArea
