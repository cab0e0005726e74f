package metasim

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// mediaFile is an uploaded or inbound file, owned by the phone number it came through.
type mediaFile struct {
	owner string // phone number id
	mime  string
	data  []byte
}

// supportedMIME lists the types the Media reference accepts for upload.
var supportedMIME = []string{
	"audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg",
	"text/plain", "application/pdf",
	"application/vnd.ms-powerpoint", "application/msword", "application/vnd.ms-excel",
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	"application/vnd.openxmlformats-officedocument.presentationml.presentation",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	"image/jpeg", "image/png", "image/webp",
	"video/3gpp", "video/mp4",
}

const maxUpload = 100 << 20 // the Media reference's largest limit (documents)

// AddMedia stores a file as media of the number and returns its media id, as if it had been
// uploaded; sends can then refer to it by id.
func (s *Server) AddMedia(phoneNumberID string, data []byte, mimeType string) string {
	id := numericID(16)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.media[id] = &mediaFile{owner: phoneNumberID, mime: mimeType, data: slices.Clone(data)}
	return id
}

// MediaBytes returns a stored file and its MIME type, for tests to check an upload.
func (s *Server) MediaBytes(id string) (data []byte, mimeType string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.media[id]
	if m == nil {
		return nil, "", false
	}
	return slices.Clone(m.data), m.mime, true
}

// handleUpload follows the Media reference's upload: multipart/form-data with
// messaging_product=whatsapp, file and type; the answer is {"id":"<MEDIA_ID>"}.
func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request) {
	n, ok := s.authNumber(w, r, "post", r.PathValue("id"))
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload+1<<20)
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeGraphError(w, s.cloudFailure(CloudError(131053, "")))
			return
		}
		writeGraphError(w, paramError("The parameter file is required."))
		return
	}
	defer func() { _ = r.MultipartForm.RemoveAll() }()
	if mp := r.FormValue("messaging_product"); mp != "whatsapp" {
		writeGraphError(w, paramError("The parameter messaging_product is required."))
		return
	}
	f, hdr, err := r.FormFile("file")
	if err != nil {
		writeGraphError(w, paramError("The parameter file is required."))
		return
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		writeGraphError(w, paramError("The parameter file is required."))
		return
	}
	typ := r.FormValue("type")
	if typ == "" {
		typ = hdr.Header.Get("Content-Type")
	}
	if typ == "" || typ == "application/octet-stream" {
		typ = http.DetectContentType(data)
	}
	base, _, err := mime.ParseMediaType(typ)
	if err != nil || !slices.Contains(supportedMIME, base) {
		writeGraphError(w, paramError("Param file must be a file with one of the following types: "+strings.Join(supportedMIME, ", ")+". Received file of type '"+typ+"'."))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"id": s.AddMedia(n.PhoneNumberID, data, typ)})
}

// mediaFor checks that the token belongs to the number owning the media; ok is false once an
// error has been written.
func (s *Server) mediaFor(w http.ResponseWriter, r *http.Request, method, id string) (*mediaFile, bool) {
	s.mu.Lock()
	m := s.media[id]
	var token string
	if m != nil {
		if n := s.numbers[m.owner]; n != nil {
			token = n.AccessToken
		}
	}
	s.mu.Unlock()
	got := accessToken(r)
	switch {
	case m == nil && s.knownToken(got):
		writeGraphError(w, unknownObject(method, id))
		return nil, false
	case m == nil, !tokenMatches(got, token):
		writeGraphError(w, badToken)
		return nil, false
	}
	if p := r.URL.Query().Get("phone_number_id"); p != "" && p != m.owner {
		writeGraphError(w, paramError("Media does not belong to phone number id "+p))
		return nil, false
	}
	return m, true
}

// handleMediaURL follows the Media reference's retrieve: {"messaging_product":"whatsapp",
// "url","mime_type","sha256","file_size","id"}. file_size is a string as Meta sends it, and the
// URL needs the same Bearer token to download.
func (s *Server) handleMediaURL(w http.ResponseWriter, r *http.Request, id string) {
	m, ok := s.mediaFor(w, r, "get", id)
	if !ok {
		return
	}
	sum := sha256.Sum256(m.data)
	q := url.Values{
		"mid":  {id},
		"ext":  {strconv.FormatInt(s.now().Unix(), 10)},
		"hash": {traceID()},
	}
	writeJSON(w, http.StatusOK, map[string]string{
		"messaging_product": "whatsapp",
		"url":               s.base(r) + "/whatsapp_business/attachments/?" + q.Encode(),
		"mime_type":         m.mime,
		"sha256":            hex.EncodeToString(sum[:]),
		"file_size":         strconv.Itoa(len(m.data)),
		"id":                id,
	})
}

// handleDownload serves the bytes behind a media URL. Like Meta's CDN it wants the access token
// of the owning number and answers 401 without it.
func (s *Server) handleDownload(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("mid")
	s.mu.Lock()
	m := s.media[id]
	var token string
	if m != nil {
		if n := s.numbers[m.owner]; n != nil {
			token = n.AccessToken
		}
	}
	s.mu.Unlock()
	if m == nil {
		http.Error(w, "Not Found", http.StatusNotFound)
		return
	}
	if !tokenMatches(accessToken(r), token) {
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", m.mime)
	w.Header().Set("Content-Length", strconv.Itoa(len(m.data)))
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", id))
	_, _ = w.Write(m.data)
}

// handleDeleteMedia follows the Media reference's delete: {"success":true}.
func (s *Server) handleDeleteMedia(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, ok := s.mediaFor(w, r, "delete", id); !ok {
		return
	}
	s.mu.Lock()
	delete(s.media, id)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]bool{"success": true})
}
