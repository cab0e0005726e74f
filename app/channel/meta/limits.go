package meta

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"masteria/app/channel"
)

var _ channel.LimitReader = (*Client)(nil)

// Limits reads the number's limits from its phone number node: the portfolio's messaging
// limit (whatsapp_business_manager_messaging_limit, a TIER_* string or a number), the
// throughput level (STANDARD is 80 messages a second, HIGH 1,000; a number is taken as is)
// and the quality rating (GREEN, YELLOW, RED, UNKNOWN).
func (c *Client) Limits(ctx context.Context) (channel.Limits, error) {
	var n struct {
		Messaging  json.RawMessage `json:"whatsapp_business_manager_messaging_limit"`
		Throughput struct {
			Level json.RawMessage `json:"level"`
		} `json:"throughput"`
		Quality string `json:"quality_rating"`
	}
	u := c.endpoint(c.cfg.PhoneNumberID) + "?fields=whatsapp_business_manager_messaging_limit,throughput,quality_rating"
	if err := c.do(ctx, http.MethodGet, u, nil, &n); err != nil {
		return channel.Limits{}, err
	}
	return channel.Limits{Messaging: ParseLimit(n.Messaging), PerSecond: throughput(n.Throughput.Level), Quality: strings.ToUpper(n.Quality)}, nil
}

// throughput is a number's messages per second from its throughput level; 0 when unknown.
func throughput(raw json.RawMessage) int {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		s = string(raw)
	}
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "STANDARD":
		return 80
	case "HIGH":
		return 1000
	}
	if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && n > 0 {
		return n
	}
	return 0
}
