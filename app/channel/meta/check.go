package meta

import (
	"context"
	"net/http"
	"strings"

	"masteria/app/channel"
)

var _ channel.Checker = (*Client)(nil)

// Check reads the channel's phone number node: a wrong token, a number of another account
// or a deleted number fail here with Meta's own message.
func (c *Client) Check(ctx context.Context) (string, error) {
	var n struct {
		DisplayPhoneNumber string `json:"display_phone_number"`
		VerifiedName       string `json:"verified_name"`
		QualityRating      string `json:"quality_rating"`
	}
	u := c.endpoint(c.cfg.PhoneNumberID) + "?fields=display_phone_number,verified_name,quality_rating"
	if err := c.do(ctx, http.MethodGet, u, nil, &n); err != nil {
		return "", err
	}
	parts := []string{n.DisplayPhoneNumber, n.VerifiedName}
	if n.QualityRating != "" {
		parts = append(parts, "quality "+n.QualityRating)
	}
	return strings.Join(parts, " · "), nil
}
