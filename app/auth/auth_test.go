package auth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"masteria/app/auth"
	"masteria/app/store/storetest"
)

func TestPasswordHash(t *testing.T) {
	h, err := auth.HashPassword("cafe-com-leite-42")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=2,p=2$") {
		t.Fatalf("hash format: %s", h)
	}
	if err := auth.CheckPassword(h, "cafe-com-leite-42"); err != nil {
		t.Fatal(err)
	}
	if err := auth.CheckPassword(h, "cafe-com-leite-43"); !errors.Is(err, auth.ErrMismatch) {
		t.Fatalf("wrong password: %v", err)
	}
	h2, _ := auth.HashPassword("cafe-com-leite-42")
	if h == h2 {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	for _, bad := range []string{"", "plain", "$argon2id$v=19$m=x$a$b", "$bcrypt$x$y$z$w"} {
		if err := auth.CheckPassword(bad, "x"); err == nil {
			t.Errorf("malformed hash %q accepted", bad)
		}
	}
	if err := auth.CheckNoUser("anything"); !errors.Is(err, auth.ErrMismatch) {
		t.Fatal("CheckNoUser must always fail")
	}
}

func TestBearerToken(t *testing.T) {
	key, prefix, hash, err := auth.NewAPIKey()
	if err != nil || !strings.HasPrefix(key, "mia_") || !strings.HasPrefix(key, prefix) || len(hash) != 32 {
		t.Fatalf("NewAPIKey: %q %q %d %v", key, prefix, len(hash), err)
	}
	if tok, ok := auth.BearerToken("Bearer " + key); !ok || tok != key {
		t.Fatal("valid header refused")
	}
	if tok, ok := auth.BearerToken("bearer   " + key + "  "); !ok || tok != key {
		t.Fatal("scheme is case-insensitive and spaces are trimmed")
	}
	for _, h := range []string{"", "Bearer", "Basic " + key, "Bearer mia_", "Bearer sk_" + key[4:], key} {
		if _, ok := auth.BearerToken(h); ok {
			t.Errorf("%q accepted", h)
		}
	}
}

// TestSessionStore saves a session, loads it back from PostgreSQL, and checks that an
// expired or deleted one reads as gone, never as someone's session.
func TestSessionStore(t *testing.T) {
	st, _ := storetest.New(t)
	ctx := context.Background()
	u, err := st.CreateUser(ctx, "vera@loja.com.br", "Vera", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ss := auth.NewSessionStore(st, time.Hour, false, nil)

	req := httptest.NewRequest(http.MethodGet, "/", nil)
	sess, err := ss.Get(req, auth.SessionName)
	if err != nil || !sess.IsNew {
		t.Fatalf("first visit: %v new=%v", err, sess.IsNew)
	}
	sess.Values[auth.KeyUserID] = u.ID
	sess.Values[auth.KeyOrgID] = int64(7)
	rec := httptest.NewRecorder()
	if err := ss.Save(req, rec, sess); err != nil {
		t.Fatal(err)
	}
	ck := rec.Result().Cookies()[0]
	if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.MaxAge != 3600 {
		t.Fatalf("cookie flags: %+v", ck)
	}
	var stored int
	_ = st.DB().Get(&stored, `SELECT count(*) FROM sessions WHERE token_hash = $1`, auth.HashToken(ck.Value))
	if stored != 1 {
		t.Fatal("the session row is not keyed by the token's hash")
	}

	again := httptest.NewRequest(http.MethodGet, "/", nil)
	again.AddCookie(ck)
	loaded, err := ss.Get(again, auth.SessionName)
	if err != nil || loaded.IsNew || loaded.Values[auth.KeyUserID] != u.ID || loaded.Values[auth.KeyOrgID] != int64(7) {
		t.Fatalf("reload: %v %+v", err, loaded.Values)
	}

	_, _ = st.DB().Exec(`UPDATE sessions SET expires_at = now() - interval '1 minute'`)
	expired := httptest.NewRequest(http.MethodGet, "/", nil)
	expired.AddCookie(ck)
	gone, err := ss.Get(expired, auth.SessionName)
	if !errors.Is(err, auth.ErrSessionGone) || gone.Values[auth.KeyUserID] != nil {
		t.Fatalf("expired session: %v %+v", err, gone.Values)
	}
	if n, err := ss.Cleanup(ctx); err != nil || n != 1 {
		t.Fatalf("cleanup: %d %v", n, err)
	}

	forged := httptest.NewRequest(http.MethodGet, "/", nil)
	forged.AddCookie(&http.Cookie{Name: auth.SessionName, Value: "made-up-token"})
	if s, err := ss.Get(forged, auth.SessionName); !errors.Is(err, auth.ErrSessionGone) || s.Values[auth.KeyUserID] != nil {
		t.Fatalf("forged cookie: %v", err)
	}
}
