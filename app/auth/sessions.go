package auth

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/gorilla/sessions"

	"masteria/app/model"
	"masteria/app/store"
)

// Session value keys.
const (
	KeyUserID = "user_id"
	KeyOrgID  = "org_id" // the org last opened, where "/" leads
	keySeen   = "seen"   // unix time of the last write, to refresh expiry without a write per request
)

// SessionName is the cookie that carries the session token.
const SessionName = "masteria_session"

// SessionStore is a gorilla/sessions Store that keeps sessions in PostgreSQL. The cookie
// holds only a random token; the row is found by its SHA-256. A session is stored only once
// it has a user: anonymous visitors cost no rows.
type SessionStore struct {
	st      *store.Store
	maxAge  time.Duration
	secure  bool
	now     func() time.Time
	cleanIP func(*http.Request) string
}

// NewSessionStore returns a store whose sessions last maxAge after their last use.
func NewSessionStore(st *store.Store, maxAge time.Duration, secure bool, clientIP func(*http.Request) string) *SessionStore {
	if clientIP == nil {
		clientIP = func(r *http.Request) string {
			host, _, _ := net.SplitHostPort(r.RemoteAddr)
			return host
		}
	}
	return &SessionStore{st: st, maxAge: maxAge, secure: secure, now: time.Now, cleanIP: clientIP}
}

func (s *SessionStore) options() *sessions.Options {
	return &sessions.Options{Path: "/", MaxAge: int(s.maxAge.Seconds()), HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode}
}

// Get returns the request's session, loaded once per request.
func (s *SessionStore) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(s, name)
}

// New loads the session named by the request's cookie, or starts an empty one. A cookie
// whose session expired or was revoked gives an empty session and ErrSessionGone, so the
// caller can tell "never logged in" from "logged out under you".
func (s *SessionStore) New(r *http.Request, name string) (*sessions.Session, error) {
	sess := sessions.NewSession(s, name)
	sess.Options = s.options()
	sess.IsNew = true
	c, err := r.Cookie(name)
	if err != nil || c.Value == "" {
		return sess, nil
	}
	row, err := s.st.SessionByToken(r.Context(), HashToken(c.Value))
	if errors.Is(err, model.ErrNotFound) {
		return sess, ErrSessionGone
	}
	if err != nil {
		return sess, err
	}
	if err := gob.NewDecoder(bytes.NewReader(row.Data)).Decode(&sess.Values); err != nil {
		return sess, fmt.Errorf("auth: decode session: %w", err)
	}
	sess.ID = c.Value
	sess.IsNew = false
	return sess, nil
}

// ErrSessionGone is a session cookie whose session no longer exists (expired, logged out).
var ErrSessionGone = errors.New("auth: session expired")

// Save writes the session and its cookie; MaxAge < 0 deletes both.
func (s *SessionStore) Save(r *http.Request, w http.ResponseWriter, sess *sessions.Session) error {
	ctx := r.Context()
	if sess.Options.MaxAge < 0 || sess.Values[KeyUserID] == nil {
		if sess.ID != "" {
			if err := s.st.DeleteSession(ctx, HashToken(sess.ID)); err != nil {
				return err
			}
		}
		http.SetCookie(w, sessions.NewCookie(sess.Name(), "", &sessions.Options{Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode}))
		return nil
	}
	userID, ok := sess.Values[KeyUserID].(int64)
	if !ok {
		return fmt.Errorf("auth: session user id has type %T", sess.Values[KeyUserID])
	}
	now := s.now()
	sess.Values[keySeen] = now.Unix()
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(sess.Values); err != nil {
		return fmt.Errorf("auth: encode session: %w", err)
	}
	expires := now.Add(s.maxAge)
	ip, ua := s.cleanIP(r), truncate(r.UserAgent(), 400)
	if sess.ID == "" {
		tok, err := NewToken(32)
		if err != nil {
			return err
		}
		if _, err := s.st.CreateSession(ctx, HashToken(tok), userID, buf.Bytes(), ip, ua, expires); err != nil {
			return err
		}
		sess.ID = tok
	} else if err := s.st.UpdateSession(ctx, HashToken(sess.ID), buf.Bytes(), expires, ip, ua); err != nil {
		return err
	}
	http.SetCookie(w, sessions.NewCookie(sess.Name(), sess.ID, sess.Options))
	return nil
}

// Login starts a logged-in session for userID in place of sess: the old row is deleted and
// a new token is issued, so a token planted before login (session fixation) is worth nothing.
func (s *SessionStore) Login(r *http.Request, w http.ResponseWriter, sess *sessions.Session, userID int64) error {
	if sess.ID != "" {
		if err := s.st.DeleteSession(r.Context(), HashToken(sess.ID)); err != nil {
			return err
		}
		sess.ID = ""
	}
	clear(sess.Values)
	sess.Options = s.options()
	sess.Values[KeyUserID] = userID
	return s.Save(r, w, sess)
}

// NeedsRefresh tells whether a session was last written long enough ago that its expiry
// should be pushed back; checking this keeps reads from writing on every request.
func (s *SessionStore) NeedsRefresh(sess *sessions.Session) bool {
	seen, _ := sess.Values[keySeen].(int64)
	return s.now().Sub(time.Unix(seen, 0)) > 5*time.Minute
}

// Cleanup deletes expired sessions; a periodic job calls it.
func (s *SessionStore) Cleanup(ctx context.Context) (int64, error) {
	return s.st.DeleteExpiredSessions(ctx)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
