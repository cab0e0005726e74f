package account_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"masteria/app/account"
	"masteria/app/auth"
	"masteria/app/model"
)

// apiRequest is an API call carrying an Authorization header (none when header is "").
func apiRequest(header string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/api/v1/contacts", nil)
	if header != "" {
		r.Header.Set("Authorization", header)
	}
	return r
}

func TestCreateAPIKeyStoresOnlyItsHash(t *testing.T) {
	f := newFixture(t)
	in := f.ownedOrg()
	k, key, err := f.svc.CreateAPIKey(f.ctx, in.as, "  Integração   ERP ")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(key, "mia_") || len(key) < 40 {
		t.Fatalf("key %q: want mia_ and a long random part", key)
	}
	if k.Name != "Integração ERP" || k.OrgID != in.org.ID || k.Prefix != key[:10] || k.CreatedBy == nil || *k.CreatedBy != in.owner.ID {
		t.Fatalf("key row: %+v (key %q)", k, key)
	}

	var row string
	if err := f.st.DB().GetContext(f.ctx, &row, `SELECT a::text FROM api_keys a WHERE id = $1`, k.ID); err != nil {
		t.Fatal(err)
	}
	if secret := key[len(k.Prefix):]; strings.Contains(row, secret) {
		t.Fatalf("the key's secret part is stored in clear: %s", row)
	}
	var hash []byte
	if err := f.st.DB().GetContext(f.ctx, &hash, `SELECT key_hash FROM api_keys WHERE id = $1`, k.ID); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(hash, auth.HashToken(key)) {
		t.Fatalf("stored hash is not the key's SHA-256")
	}

	// Shown once: a second key is another key, and listing gives no key back.
	_, key2, err := f.svc.CreateAPIKey(f.ctx, in.as, "Outra")
	if err != nil || key2 == key {
		t.Fatalf("second key %q (%v)", key2, err)
	}
	list, err := f.svc.APIKeys(f.ctx, in.org.ID)
	if err != nil || len(list) != 2 {
		t.Fatalf("list: %d keys (%v)", len(list), err)
	}
	if b, _ := json.Marshal(list); bytes.Contains(b, []byte(key[10:])) || bytes.Contains(b, []byte(key2[10:])) {
		t.Fatalf("the key list holds a key")
	}
	if got := f.eventTypes(in.org.ID); !slices.Equal(got, []string{"apikey.created", "apikey.created"}) {
		t.Fatalf("events: %v", got)
	}

	_, _, err = f.svc.CreateAPIKey(f.ctx, in.as, "   ")
	wantFieldError(t, err, "name", "signup.error.required")
}

func TestAuthenticateAPIKey(t *testing.T) {
	f := newFixture(t)
	in := f.ownedOrg()
	k, key, err := f.svc.CreateAPIKey(f.ctx, in.as, "ERP")
	if err != nil {
		t.Fatal(err)
	}
	if k.LastUsedAt != nil {
		t.Fatalf("a new key has last_used_at %v", k.LastUsedAt)
	}

	for _, header := range []string{"Bearer " + key, "bearer " + key, "  Bearer   " + key + "  "} {
		gotKey, org, err := f.svc.AuthenticateAPIKey(f.ctx, apiRequest(header))
		if err != nil {
			t.Fatalf("%q: %v", header, err)
		}
		if org.ID != in.org.ID || gotKey.ID != k.ID {
			t.Fatalf("%q: org %d key %d, want org %d key %d", header, org.ID, gotKey.ID, in.org.ID, k.ID)
		}
	}
	list, _ := f.svc.APIKeys(f.ctx, in.org.ID)
	if len(list) != 1 || list[0].LastUsedAt == nil || time.Since(*list[0].LastUsedAt) > time.Minute {
		t.Fatalf("last_used_at not set after use: %+v", list)
	}

	bad := []string{
		"",
		"Basic x",
		"Basic " + key,
		"Bearer",
		"Bearer ",
		"Bearer mia_short",
		key,
		"Token " + key,
		"Bearer " + key + "x",
		"Bearer " + key[:len(key)-1],
		"Bearer mia_" + strings.Repeat("A", 43),
		"Bearer " + strings.TrimPrefix(key, "mia_"),
	}
	for _, header := range bad {
		if _, _, err := f.svc.AuthenticateAPIKey(f.ctx, apiRequest(header)); err != account.ErrBadAPIKey {
			t.Errorf("%q: want ErrBadAPIKey, got %v", header, err)
		}
	}
}

func TestRevokeAPIKey(t *testing.T) {
	f := newFixture(t)
	in := f.ownedOrg()
	k, key, err := f.svc.CreateAPIKey(f.ctx, in.as, "ERP")
	if err != nil {
		t.Fatal(err)
	}
	keep, keepKey, err := f.svc.CreateAPIKey(f.ctx, in.as, "Site")
	if err != nil {
		t.Fatal(err)
	}

	// Another org's owner cannot revoke it, nor learn that it exists.
	other := f.org("Outra")
	boss := f.user("chefe@outra.com", "Chefe", false)
	f.join(other, boss, model.RoleOwner)
	if err := f.svc.RevokeAPIKey(f.ctx, f.actor(other, boss), k.ID); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("revoke from another org: want ErrNotFound, got %v", err)
	}
	if _, _, err := f.svc.AuthenticateAPIKey(f.ctx, apiRequest("Bearer "+key)); err != nil {
		t.Fatalf("another org's revoke stopped the key: %v", err)
	}
	if got := f.eventTypes(other.ID); len(got) != 0 {
		t.Fatalf("events in the other org: %v", got)
	}

	if err := f.svc.RevokeAPIKey(f.ctx, in.as, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.AuthenticateAPIKey(f.ctx, apiRequest("Bearer "+key)); err != account.ErrBadAPIKey {
		t.Fatalf("revoked key: want ErrBadAPIKey, got %v", err)
	}
	if _, _, err := f.svc.AuthenticateAPIKey(f.ctx, apiRequest("Bearer "+keepKey)); err != nil {
		t.Fatalf("revoking one key stopped another: %v", err)
	}
	evs := f.events(in.org.ID)
	last := evs[len(evs)-1]
	var payload struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	}
	if err := json.Unmarshal(last.Payload, &payload); last.Type != "apikey.revoked" || err != nil || payload.ID != k.ID || payload.Name != "ERP" {
		t.Fatalf("last event %s %s", last.Type, last.Payload)
	}
	if acts := f.auditActions(in.org.ID); acts[len(acts)-1] != "apikey.revoked" {
		t.Fatalf("audit: %v", acts)
	}
	if err := f.svc.RevokeAPIKey(f.ctx, in.as, k.ID); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("revoking twice: want ErrNotFound, got %v", err)
	}
	list, _ := f.svc.APIKeys(f.ctx, in.org.ID)
	if len(list) != 2 || list[0].ID != keep.ID || list[1].RevokedAt == nil {
		t.Fatalf("list: want the live key first and the revoked one marked, got %+v", list)
	}
}

func sessionIDs(t *testing.T, f *fixture, u model.User) []int64 {
	t.Helper()
	ss, err := f.svc.Sessions(f.ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, s := range ss {
		ids = append(ids, s.ID)
	}
	slices.Sort(ids)
	return ids
}

func TestRevokeSessions(t *testing.T) {
	f := newFixture(t)
	in := f.ownedOrg()
	bia := f.user("bia@gmail.com", "Bia", false)
	later := time.Now().Add(time.Hour)
	current, tok := f.session(in.owner, later)
	other, _ := f.session(in.owner, later)
	f.session(in.owner, later)
	f.session(in.owner, later)
	hers, _ := f.session(bia, later)

	// One session by id: only one's own.
	if err := f.svc.RevokeSession(f.ctx, in.as, hers); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("revoking another user's session: want ErrNotFound, got %v", err)
	}
	if got := sessionIDs(t, f, bia); !slices.Equal(got, []int64{hers}) {
		t.Fatalf("another user's session was revoked: %v", got)
	}
	if acts := f.auditActions(in.org.ID); len(acts) != 0 {
		t.Fatalf("a refused revoke wrote %v", acts)
	}
	if err := f.svc.RevokeSession(f.ctx, in.as, other); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.RevokeSession(f.ctx, in.as, other); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("revoking twice: want ErrNotFound, got %v", err)
	}
	if got := sessionIDs(t, f, in.owner); len(got) != 3 || slices.Contains(got, other) {
		t.Fatalf("sessions left: %v", got)
	}

	// Every other session: the current one stays, and so do other users' sessions.
	n, err := f.svc.RevokeOtherSessions(f.ctx, in.as, tok)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("revoked %d sessions, want 2", n)
	}
	if got := sessionIDs(t, f, in.owner); !slices.Equal(got, []int64{current}) {
		t.Fatalf("sessions left: %v, want only the current %d", got, current)
	}
	if got := sessionIDs(t, f, bia); !slices.Equal(got, []int64{hers}) {
		t.Fatalf("another user's sessions changed: %v", got)
	}
	if acts := f.auditActions(in.org.ID); !slices.Equal(acts, []string{"session.revoked", "sessions.revoked_all"}) {
		t.Fatalf("audit: %v", acts)
	}

	// Without a current token, every session of the user ends.
	if _, err := f.svc.RevokeOtherSessions(f.ctx, in.as, ""); err != nil {
		t.Fatal(err)
	}
	if got := sessionIDs(t, f, in.owner); len(got) != 0 {
		t.Fatalf("sessions left: %v", got)
	}
	if got := sessionIDs(t, f, bia); len(got) != 1 {
		t.Fatalf("another user's sessions changed: %v", got)
	}
}
