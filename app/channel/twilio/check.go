package twilio

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"masteria/app/channel"
)

var _ channel.Checker = (*client)(nil)

// Check fetches the account (a wrong SID or auth token fails here) and, for a sender number,
// makes sure the number belongs to that account.
func (c *client) Check(ctx context.Context) (string, error) {
	base := c.cfg.APIURL + "/2010-04-01/Accounts/" + url.PathEscape(c.cfg.AccountSID)
	var acct struct {
		FriendlyName string `json:"friendly_name"`
		Status       string `json:"status"`
	}
	if err := c.get(ctx, base+".json", &acct); err != nil {
		return "", err
	}
	if acct.Status != "active" {
		return "", &channel.SendError{Code: "account_" + acct.Status, Title: "The Twilio account is " + acct.Status + ".", Permanent: true}
	}
	if c.cfg.From == "" {
		return acct.FriendlyName + " · " + c.cfg.MessagingServiceSID, nil
	}
	var nums struct {
		Numbers []struct {
			PhoneNumber string `json:"phone_number"`
		} `json:"incoming_phone_numbers"`
	}
	if err := c.get(ctx, base+"/IncomingPhoneNumbers.json?PhoneNumber="+url.QueryEscape(c.cfg.From), &nums); err != nil {
		return "", err
	}
	if len(nums.Numbers) == 0 {
		return "", &channel.SendError{Code: "21606", Title: c.cfg.From + " is not a number of this Twilio account.", Permanent: true}
	}
	return acct.FriendlyName + " · " + c.cfg.From, nil
}

// get makes one authenticated REST read and decodes a 2xx answer into out.
func (c *client) get(ctx context.Context, endpoint string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return fmt.Errorf("twilio: %w", err)
	}
	req.SetBasicAuth(c.cfg.AccountSID, c.token)
	req.Header.Set("Accept", "application/json")
	res, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("twilio: %w", err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("twilio: reading the answer: %w", err)
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return sendError(res, raw)
	}
	return json.Unmarshal(raw, out)
}
