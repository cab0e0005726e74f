package twilio

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"masteria/app/channel"
)

var _ channel.MediaFetcher = (*client)(nil)

// mediaHTTP downloads MMS media, which may be larger than an API answer.
var mediaHTTP = &http.Client{Timeout: 5 * time.Minute}

// Fetch downloads an MMS attachment from its MediaUrl with the account's credentials
// (HTTP Basic, as Twilio asks when media authentication is on). Only URLs of the
// configured API are fetched: the credentials never go to another host. Twilio may
// redirect to its storage, and Go drops the credentials on such a redirect.
func (c *client) Fetch(ctx context.Context, mediaURL string) (io.ReadCloser, string, error) {
	if !strings.HasPrefix(mediaURL, c.cfg.APIURL+"/") {
		return nil, "", &channel.SendError{Code: "media", Title: "media URL outside the Twilio API", Permanent: true}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, mediaURL, nil)
	if err != nil {
		return nil, "", fmt.Errorf("twilio: %w", err)
	}
	req.SetBasicAuth(c.cfg.AccountSID, c.token)
	res, err := mediaHTTP.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("twilio: media: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		res.Body.Close()
		se := &channel.SendError{Code: fmt.Sprint(res.StatusCode), Title: "media download: " + http.StatusText(res.StatusCode)}
		se.Permanent = res.StatusCode == http.StatusNotFound || res.StatusCode == http.StatusUnauthorized || res.StatusCode == http.StatusForbidden
		return nil, "", se
	}
	return res.Body, res.Header.Get("Content-Type"), nil
}
