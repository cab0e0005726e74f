package meta

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"time"

	"masteria/app/channel"
)

var _ channel.MediaFetcher = (*Client)(nil)

// mediaHTTP moves files: up to 100 MB each way, so it waits longer than a send.
var mediaHTTP = &http.Client{Timeout: 5 * time.Minute}

// Upload posts a file to /{phone_number_id}/media as the Media reference describes it
// (multipart: messaging_product, type, file) and returns its media id.
func (c *Client) Upload(ctx context.Context, a *channel.Attachment) (string, error) {
	if a.Open == nil {
		return "", &channel.SendError{Code: "media", Title: "no file to upload", Permanent: true}
	}
	src, err := a.Open(ctx)
	if err != nil {
		return "", fmt.Errorf("meta: upload: %w", err)
	}
	defer src.Close()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		err := mw.WriteField("messaging_product", "whatsapp")
		if err == nil {
			err = mw.WriteField("type", a.MIME)
		}
		if err == nil {
			h := textproto.MIMEHeader{}
			name := a.Filename
			if name == "" {
				name = "file"
			}
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, name))
			h.Set("Content-Type", a.MIME)
			var part io.Writer
			if part, err = mw.CreatePart(h); err == nil {
				_, err = io.Copy(part, src)
			}
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint(c.cfg.PhoneNumberID, "media"), pr)
	if err != nil {
		pr.Close()
		return "", fmt.Errorf("meta: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res, err := mediaHTTP.Do(req)
	if err != nil {
		return "", fmt.Errorf("meta: upload: %w", err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return "", classify(res, raw)
	}
	var out struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || out.ID == "" {
		return "", errors.New("meta: upload answered without a media id")
	}
	return out.ID, nil
}

// Fetch downloads an inbound message's media: GET /{media_id} gives a short-lived URL,
// which needs the same bearer token.
func (c *Client) Fetch(ctx context.Context, mediaID string) (io.ReadCloser, string, error) {
	if mediaID == "" || strings.ContainsAny(mediaID, "/?#") {
		return nil, "", &channel.SendError{Code: "media", Title: "bad media id", Permanent: true}
	}
	var info struct {
		URL      string `json:"url"`
		MIMEType string `json:"mime_type"`
	}
	if err := c.do(ctx, http.MethodGet, c.endpoint(mediaID), nil, &info); err != nil {
		return nil, "", err
	}
	if !strings.HasPrefix(info.URL, "https://") && !strings.HasPrefix(info.URL, "http://") {
		return nil, "", errors.New("meta: media answered without a URL")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, info.URL, nil)
	if err != nil {
		return nil, "", fmt.Errorf("meta: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	res, err := mediaHTTP.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("meta: download: %s: %w", redact(info.URL), err)
	}
	if res.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
		res.Body.Close()
		return nil, "", classify(res, raw)
	}
	t := info.MIMEType
	if t == "" {
		t = res.Header.Get("Content-Type")
	}
	return res.Body, t, nil
}
