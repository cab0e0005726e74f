package account_test

import (
	"errors"
	"strings"
	"testing"

	"masteria/app/account"
	"masteria/app/model"
	"masteria/app/vault"
)

// ring parses a key ring made of the given "kid:base64" entries.
func ring(t *testing.T, keys ...string) *vault.Ring {
	t.Helper()
	r, err := vault.ParseKeyRing(strings.Join(keys, ","))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func newKey(t *testing.T) string {
	t.Helper()
	k, err := vault.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// sealed returns the stored form of a secret.
func (f *fixture) sealed(orgID int64, name string) string {
	f.t.Helper()
	s, err := f.st.Secret(f.ctx, orgID, name)
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

func TestSecretsRoundTrip(t *testing.T) {
	f := newFixture(t)
	o := f.org("Loja")
	sec := account.NewSecrets(f.st, ring(t, newKey(t)))
	const token = "EAAG-meta-token-ção-🔑"
	if err := sec.Put(f.ctx, o.ID, "meta_token", token); err != nil {
		t.Fatal(err)
	}
	if got, err := sec.Get(f.ctx, o.ID, "meta_token"); err != nil || got != token {
		t.Fatalf("Get: %q (%v), want %q", got, err, token)
	}
	if stored := f.sealed(o.ID, "meta_token"); strings.Contains(stored, "meta-token") || !strings.HasPrefix(stored, "v1.") {
		t.Fatalf("stored in clear or not sealed: %q", stored)
	}
	// Put again replaces the value.
	if err := sec.Put(f.ctx, o.ID, "meta_token", "new"); err != nil {
		t.Fatal(err)
	}
	if got, err := sec.Get(f.ctx, o.ID, "meta_token"); err != nil || got != "new" {
		t.Fatalf("after replacing: %q (%v)", got, err)
	}
	if _, err := sec.Get(f.ctx, o.ID, "twilio_token"); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("missing secret: want ErrNotFound, got %v", err)
	}
}

func TestSecretsRefuseTamperedOrMovedValues(t *testing.T) {
	f := newFixture(t)
	lojaA, lojaB := f.org("Loja A"), f.org("Loja B")
	sec := account.NewSecrets(f.st, ring(t, newKey(t)))
	for _, o := range []model.Org{lojaA, lojaB} {
		for _, name := range []string{"meta_token", "twilio_token"} {
			if err := sec.Put(f.ctx, o.ID, name, o.Name+" "+name); err != nil {
				t.Fatal(err)
			}
		}
	}

	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	orig := f.sealed(lojaA.ID, "meta_token")
	tests := []struct {
		name   string
		sealed string // the value written into lojaA's meta_token row
		want   error
	}{
		{"a character of the body flipped", flip(orig, len(orig)/2+5), vault.ErrTampered},
		{"the last character flipped", flip(orig, len(orig)-1), nil},
		{"truncated", orig[:len(orig)-4], nil},
		{"key id changed", strings.Replace(orig, "v1.k", "v1.x", 1), vault.ErrUnknownKey},
		{"another org's value for the same name", f.sealed(lojaB.ID, "meta_token"), vault.ErrTampered},
		{"another name's value of the same org", f.sealed(lojaA.ID, "twilio_token"), vault.ErrTampered},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.exec(`UPDATE org_secrets SET sealed = $3 WHERE org_id = $1 AND name = $2`, lojaA.ID, "meta_token", tt.sealed)
			got, err := sec.Get(f.ctx, lojaA.ID, "meta_token")
			if err == nil || got != "" {
				t.Fatalf("want an error and no value, got %q, %v", got, err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("want %v, got %v", tt.want, err)
			}
		})
	}
	// The untouched rows still open.
	if got, err := sec.Get(f.ctx, lojaB.ID, "meta_token"); err != nil || got != "Loja B meta_token" {
		t.Fatalf("untouched secret: %q, %v", got, err)
	}
}

func TestSecretsRotate(t *testing.T) {
	f := newFixture(t)
	lojaA, lojaB := f.org("Loja A"), f.org("Loja B")
	keyOld, keyNew := newKey(t), newKey(t)
	oldRing, bothRing, newRing := ring(t, keyOld), ring(t, keyNew, keyOld), ring(t, keyNew)

	type ref struct {
		org  int64
		name string
	}
	want := map[ref]string{
		{lojaA.ID, "meta_token"}:   "a-meta",
		{lojaA.ID, "twilio_token"}: "a-twilio",
		{lojaB.ID, "meta_token"}:   "b-meta",
	}
	old := account.NewSecrets(f.st, oldRing)
	for k, v := range want {
		if err := old.Put(f.ctx, k.org, k.name, v); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := account.NewSecrets(f.st, newRing).Get(f.ctx, lojaA.ID, "meta_token"); !errors.Is(err, vault.ErrUnknownKey) {
		t.Fatalf("before rotation the new key alone cannot open old values: got %v", err)
	}
	// A value sealed with the new key already stays as it is.
	both := account.NewSecrets(f.st, bothRing)
	if err := both.Put(f.ctx, lojaB.ID, "retell_key", "b-retell"); err != nil {
		t.Fatal(err)
	}
	want[ref{lojaB.ID, "retell_key"}] = "b-retell"
	fresh := f.sealed(lojaB.ID, "retell_key")

	n, err := both.Rotate(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Fatalf("Rotate re-sealed %d values, want 3", n)
	}
	all, err := f.st.AllSecrets(f.ctx)
	if err != nil || len(all) != 4 {
		t.Fatalf("secrets: %d (%v)", len(all), err)
	}
	for _, s := range all {
		if bothRing.NeedsReseal(s.Sealed) {
			t.Errorf("%s of org %d still needs re-sealing", s.Name, s.OrgID)
		}
	}
	if got := f.sealed(lojaB.ID, "retell_key"); got != fresh {
		t.Errorf("a value already under the new key was re-sealed")
	}
	if n, err := both.Rotate(f.ctx); err != nil || n != 0 {
		t.Fatalf("second Rotate: %d (%v), want 0", n, err)
	}

	// The old key can now leave the ring.
	onlyNew := account.NewSecrets(f.st, newRing)
	for k, v := range want {
		if got, err := onlyNew.Get(f.ctx, k.org, k.name); err != nil || got != v {
			t.Errorf("%v with the new key alone: %q (%v), want %q", k, got, err, v)
		}
	}
}
