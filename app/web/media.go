package web

import (
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"masteria/app/inbox"
	"masteria/app/media"
	"masteria/app/model"
)

// mediaRoutes serves stored files: to the org's members under /o/:org, and by a signed,
// expiring link to providers that fetch attachments themselves (Twilio MMS).
func (s *Server) mediaRoutes(e *echo.Echo, o *echo.Group) {
	o.GET("/media/:id", s.mediaFile)
	e.GET("/media/:id/:exp/:sig", s.mediaSigned)
}

// mediaFile streams a file of the member's org; another org's id is 404.
func (s *Server) mediaFile(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	m, rc, err := s.inbox.Media().Open(c.Request().Context(), reqOf(c).Org.ID, id)
	if err != nil {
		return err
	}
	defer rc.Close()
	return serveMedia(c, m, rc, "private, max-age=3600")
}

// mediaSigned streams a file to whoever holds an unexpired signed link; any doubt is 404.
func (s *Server) mediaSigned(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	m, rc, err := s.inbox.Media().OpenSigned(c.Request().Context(), id, c.Param("exp"), c.Param("sig"))
	if errors.Is(err, model.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	if err != nil {
		return err
	}
	defer rc.Close()
	// A file never changes under its link, so a CDN in front of this app (the media
	// links' base, MASTERIA_MEDIA_CDN_URL) may keep it until the link expires.
	return serveMedia(c, m, rc, "public, max-age="+strconv.Itoa(signedMaxAge(c.Param("exp"), time.Now())))
}

// signedMaxAge is how long a signed link stays valid, in seconds, at most a day.
func signedMaxAge(exp string, now time.Time) int {
	at, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		return 0
	}
	return int(max(0, min(at-now.Unix(), 86400)))
}

// inlineTypes are shown in the page (img, audio, video); everything else downloads.
var inlineTypes = map[string]bool{"image/jpeg": true, "image/png": true, "image/webp": true, "image/gif": true}

func inline(mimeType string) bool {
	return inlineTypes[mimeType] || strings.HasPrefix(mimeType, "audio/") || strings.HasPrefix(mimeType, "video/")
}

// serveMedia writes a file with its own type, never sniffed, sandboxed, cached as told
// (a member's file by the browser only); documents download under their name. Ranges work (audio and video seek).
func serveMedia(c echo.Context, m model.Media, rc io.ReadCloser, cacheControl string) error {
	h := c.Response().Header()
	h.Set("Content-Type", m.MIME)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", cacheControl)
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
	disposition := "attachment"
	if inline(m.MIME) {
		disposition = "inline"
	}
	name := m.Filename
	if name == "" {
		name = fmt.Sprintf("%s-%d", model.MediaKind(m.MIME), m.ID)
	}
	h.Set("Content-Disposition", fmt.Sprintf(`%s; filename="%s"; filename*=UTF-8''%s`, disposition, asciiName(name), url.PathEscape(name)))
	// A large file may take longer than the server's write timeout.
	_ = http.NewResponseController(c.Response().Writer).SetWriteDeadline(time.Now().Add(10 * time.Minute))
	if rs, ok := rc.(io.ReadSeeker); ok {
		http.ServeContent(c.Response(), c.Request(), "", m.CreatedAt, rs)
		return nil
	}
	h.Set("Content-Length", strconv.FormatInt(m.Size, 10))
	c.Response().WriteHeader(http.StatusOK)
	_, err := io.Copy(c.Response(), rc)
	return err
}

// asciiName is a file name safe inside a quoted header value.
func asciiName(name string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return '_'
		}
		return r
	}, name)
}

// maxUpload bounds a composer post with a file: the largest file and its form.
const maxUpload = media.MaxSize + 1<<20

// composerFile reads the attachment of a composer post, if it has one.
func composerFile(c echo.Context) (*multipart.FileHeader, error) {
	if !strings.HasPrefix(c.Request().Header.Get("Content-Type"), "multipart/form-data") {
		return nil, nil
	}
	if err := c.Request().ParseMultipartForm(8 << 20); err != nil { // bounded by composerLimit
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, model.FieldError("file", "media.error.too_large")
		}
		return nil, echo.NewHTTPError(http.StatusBadRequest, "unreadable form")
	}
	fh, err := c.FormFile("file")
	if errors.Is(err, http.ErrMissingFile) {
		return nil, nil
	}
	if err != nil {
		return nil, echo.NewHTTPError(http.StatusBadRequest, "unreadable file")
	}
	if fh.Size == 0 && fh.Filename == "" {
		return nil, nil // the file input left empty
	}
	return fh, nil
}

// sendFile sends a composer post's attachment with the text as its caption.
func (s *Server) sendFile(c echo.Context, conversationID int64, fh *multipart.FileHeader, caption string) (model.Message, error) {
	f, err := fh.Open()
	if err != nil {
		return model.Message{}, echo.NewHTTPError(http.StatusBadRequest, "unreadable file")
	}
	defer f.Close()
	return s.inbox.SendFile(c.Request().Context(), actorOf(c), conversationID, caption,
		inbox.Upload{Body: f, MIME: fh.Header.Get("Content-Type"), Filename: fh.Filename})
}

// isComposerPost is the composer's send route, which may carry an attachment.
func isComposerPost(path string) bool {
	return strings.HasPrefix(path, "/o/") && strings.HasSuffix(path, "/messages")
}

// isCampaignEdit is a campaign builder's step post, whose message step may carry a file.
func isCampaignEdit(path string) bool {
	return strings.HasPrefix(path, "/o/") && strings.Contains(path, "/campaigns/") && strings.HasSuffix(path, "/edit")
}

// composerLimit bounds the composer's posts at the largest attachment, before anything
// (the CSRF check) reads the form.
func composerLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		switch {
		case r.Method != http.MethodPost:
		case isComposerPost(r.URL.Path):
			r.Body = http.MaxBytesReader(c.Response(), r.Body, maxUpload)
		case isCampaignEdit(r.URL.Path):
			// The campaign's message step uploads a file; its other steps are plain forms.
			limit := int64(2 << 20)
			if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
				limit = maxUpload
			}
			r.Body = http.MaxBytesReader(c.Response(), r.Body, limit)
		}
		return next(c)
	}
}
