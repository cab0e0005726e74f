package kb

import (
	"context"
	"net/netip"
	"time"
)

// SetPDFTimeLimit changes how long a PDF may take to read, until the test ends.
func SetPDFTimeLimit(d time.Duration) (restore func()) {
	old := pdfTimeLimit
	pdfTimeLimit = d
	return func() { pdfTimeLimit = old }
}

// PublicAddr is publicAddr, for tests.
func PublicAddr(a netip.Addr) bool { return publicAddr(a) }

// FetchPage is fetchPage, for tests.
func (s *Service) FetchPage(ctx context.Context, raw string) (string, error) {
	return s.fetchPage(ctx, raw)
}
