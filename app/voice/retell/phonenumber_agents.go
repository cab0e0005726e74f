package retell

import (
	"context"
	"net/http"
	"net/url"
)

// SetPhoneNumberAgents changes which agents answer and place a number's calls:
// PATCH /update-phone-number/{phone_number} with inbound_agents and outbound_agents (an
// empty list clears them). It answers the updated number.
func (c *Client) SetPhoneNumberAgents(ctx context.Context, phone string, inbound, outbound []AgentWeight) (PhoneNumber, error) {
	body := struct {
		Inbound  []AgentWeight `json:"inbound_agents"`
		Outbound []AgentWeight `json:"outbound_agents"`
	}{Inbound: inbound, Outbound: outbound}
	if body.Inbound == nil {
		body.Inbound = []AgentWeight{}
	}
	if body.Outbound == nil {
		body.Outbound = []AgentWeight{}
	}
	var p PhoneNumber
	err := c.do(ctx, http.MethodPatch, "/update-phone-number/"+url.PathEscape(phone), nil, body, &p)
	return p, err
}
