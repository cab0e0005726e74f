package twiliosim

import (
	"net/http"
	"strconv"
	"sync"
)

// mediaFile is an MMS attachment a handset sent, served at its MediaUrl.
type mediaFile struct {
	account, message string
	contentType      string
	data             []byte
}

// WithMediaFile attaches a file the sim stores and serves, like Twilio's
// /Accounts/{AccountSid}/Messages/{MessageSid}/Media/{MediaSid}: the webhook carries that
// URL as MediaUrlN, and fetching it needs the account's HTTP Basic credentials.
func WithMediaFile(data []byte, contentType string) InboundOption {
	return func(o *inboundOptions) {
		o.files = append(o.files, mediaFile{contentType: contentType, data: append([]byte(nil), data...)})
	}
}

// mediaStore keeps the served files by media SID; a separate lock, so serving never waits
// on the sim's main one.
type mediaStore struct {
	mu    sync.Mutex
	files map[string]mediaFile
}

func (m *mediaStore) put(sid string, f mediaFile) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.files == nil {
		m.files = map[string]mediaFile{}
	}
	m.files[sid] = f
}

func (m *mediaStore) get(sid string) (mediaFile, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f, ok := m.files[sid]
	return f, ok
}

// attachFiles gives each file of o a media SID under the message and adds its URL to o's
// media, the way Twilio numbers them.
func (s *Server) attachFiles(o *inboundOptions, account, messageSid string) {
	for _, f := range o.files {
		sid := NewSID("ME")
		f.account, f.message = account, messageSid
		s.mediaFiles.put(sid, f)
		u := s.URL() + "/" + apiVersion + "/Accounts/" + account + "/Messages/" + messageSid + "/Media/" + sid
		o.media = append(o.media, media{u, f.contentType})
	}
}

// handleMedia serves an attachment's bytes to the owning account.
func (s *Server) handleMedia(w http.ResponseWriter, r *http.Request) {
	acct, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	f, found := s.mediaFiles.get(r.PathValue("MediaSid"))
	if !found || f.account != acct.sid || f.message != r.PathValue("MessageSid") {
		s.handleNotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", f.contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(f.data)))
	_, _ = w.Write(f.data)
}
