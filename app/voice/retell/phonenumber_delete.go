package retell

import (
	"context"
	"net/http"
	"net/url"
)

// DeletePhoneNumber removes a number from the account (DELETE /delete-phone-number/{n}):
// its calls stop reaching the agents. A number the account no longer has (404, or 422 as
// Retell answers for assets it does not find) is no error: it is gone already. It is tried
// again like a read, since a second delete changes nothing.
func (c *Client) DeletePhoneNumber(ctx context.Context, phone string) error {
	err := c.read(ctx, http.MethodDelete, "/delete-phone-number/"+url.PathEscape(phone), nil, nil, nil)
	if s := StatusOf(err); s == http.StatusNotFound || s == http.StatusUnprocessableEntity {
		return nil
	}
	return err
}
