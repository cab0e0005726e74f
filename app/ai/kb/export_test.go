package kb

import (
	"context"
	"net/netip"
)

// PublicAddr is publicAddr, for tests.
func PublicAddr(a netip.Addr) bool { return publicAddr(a) }

// FetchPage is fetchPage, for tests.
func (s *Service) FetchPage(ctx context.Context, raw string) (string, error) {
	return s.fetchPage(ctx, raw)
}
