package vault

import (
	"bytes"
	"encoding/base64"
	"errors"
	"regexp"
	"strings"
	"testing"
)

// testKey returns "kid:base64" for a fixed 32-byte key filled with b.
func testKey(kid string, b byte) string {
	return kid + ":" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, KeySize))
}

func mustRing(t testing.TB, s string) *Ring {
	t.Helper()
	r, err := ParseKeyRing(s)
	if err != nil {
		t.Fatalf("ParseKeyRing: %v", err)
	}
	return r
}

func TestRoundTrip(t *testing.T) {
	r := mustRing(t, testKey("a1", 1))
	ad := []byte("org:12:twilio_token")
	for _, pt := range [][]byte{nil, {}, []byte("x"), []byte("AC1234567890 secret token"), bytes.Repeat([]byte{0xff}, 4096)} {
		tok, err := r.Seal(pt, ad)
		if err != nil {
			t.Fatalf("Seal: %v", err)
		}
		if !strings.HasPrefix(tok, "v1.a1.") {
			t.Fatalf("token %q: want prefix v1.a1.", tok)
		}
		got, err := r.Open(tok, ad)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if !bytes.Equal(got, pt) {
			t.Fatalf("Open = %q, want %q", got, pt)
		}
	}
}

func TestSealUsesFreshNonce(t *testing.T) {
	r := mustRing(t, testKey("a1", 1))
	t1, _ := r.SealString("same", "ad")
	t2, _ := r.SealString("same", "ad")
	if t1 == t2 {
		t.Fatal("two seals of the same value gave the same token")
	}
}

func TestStringHelpers(t *testing.T) {
	r := mustRing(t, testKey("a1", 1))
	tok, err := r.SealString("s3cr3t", "org:1:meta_app_secret")
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.OpenString(tok, "org:1:meta_app_secret")
	if err != nil || got != "s3cr3t" {
		t.Fatalf("OpenString = %q, %v", got, err)
	}
	if _, err := r.OpenString(tok, "org:2:meta_app_secret"); !errors.Is(err, ErrTampered) {
		t.Fatalf("OpenString with other AD: %v, want ErrTampered", err)
	}
}

func TestAssociatedDataMismatch(t *testing.T) {
	r := mustRing(t, testKey("a1", 1))
	tok, _ := r.Seal([]byte("token"), []byte("org:12:twilio_token"))
	for _, ad := range []string{"org:13:twilio_token", "org:12:twilio_sid", "", "org:12:twilio_token "} {
		if _, err := r.Open(tok, []byte(ad)); !errors.Is(err, ErrTampered) {
			t.Errorf("Open with AD %q: %v, want ErrTampered", ad, err)
		}
	}
}

// body decodes the base64 part of a token.
func body(t *testing.T, tok string) (prefix string, raw []byte) {
	t.Helper()
	i := strings.LastIndexByte(tok, '.')
	raw, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
	if err != nil {
		t.Fatal(err)
	}
	return tok[:i+1], raw
}

func TestTampering(t *testing.T) {
	r := mustRing(t, testKey("a1", 1)+","+testKey("b2", 2))
	ad := []byte("org:1:secret")
	tok, _ := r.Seal([]byte("a secret value"), ad)
	prefix, raw := body(t, tok)

	flip := func(i int) string {
		b := bytes.Clone(raw)
		b[i] ^= 0x01
		return prefix + base64.RawURLEncoding.EncodeToString(b)
	}
	cut := func(n int) string {
		return prefix + base64.RawURLEncoding.EncodeToString(raw[:len(raw)-n])
	}

	cases := []struct {
		name  string
		token string
		want  error
	}{
		{"flip nonce", flip(0), ErrTampered},
		{"flip nonce end", flip(nonceSize - 1), ErrTampered},
		{"flip ciphertext", flip(nonceSize), ErrTampered},
		{"flip tag", flip(len(raw) - 1), ErrTampered},
		{"drop last byte", cut(1), ErrTampered},
		{"drop the whole plaintext", cut(len(raw) - nonceSize - tagSize), ErrTampered},
		{"shorter than nonce and tag", cut(len(raw) - nonceSize - tagSize + 1), ErrMalformed},
		{"truncated text", tok[:len(tok)-4], ErrTampered},
		{"only header", "v1.a1.", ErrMalformed},
		{"other known kid", strings.Replace(tok, "v1.a1.", "v1.b2.", 1), ErrTampered},
		{"unknown kid", strings.Replace(tok, "v1.a1.", "v1.zz.", 1), ErrUnknownKey},
		{"empty kid", strings.Replace(tok, "v1.a1.", "v1..", 1), ErrMalformed},
		{"bad kid characters", strings.Replace(tok, "v1.a1.", "v1.a/1.", 1), ErrMalformed},
		{"other version", strings.Replace(tok, "v1.", "v2.", 1), ErrMalformed},
		{"no prefix", tok[3:], ErrMalformed},
		{"empty", "", ErrMalformed},
		{"bad base64", prefix + "!!!!" + tok[len(prefix)+4:], ErrMalformed},
		{"padded base64", tok + "==", ErrMalformed},
		{"std alphabet", prefix + strings.NewReplacer("-", "+", "_", "/").Replace(tok[len(prefix):]) + "+", ErrMalformed},
		{"extra dot", tok + ".x", ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := r.Open(c.token, ad)
			if !errors.Is(err, c.want) {
				t.Fatalf("Open(%q) error = %v, want %v", c.token, err, c.want)
			}
			if got != nil {
				t.Fatalf("Open returned %q with an error", got)
			}
		})
	}
}

func TestWrongKeySameKID(t *testing.T) {
	tok, _ := mustRing(t, testKey("a1", 1)).SealString("v", "ad")
	if _, err := mustRing(t, testKey("a1", 9)).OpenString(tok, "ad"); !errors.Is(err, ErrTampered) {
		t.Fatalf("Open under a different key with the same id: %v, want ErrTampered", err)
	}
}

func TestRotation(t *testing.T) {
	oldRing := mustRing(t, testKey("old", 1))
	ad := []byte("org:7:retell_key")
	oldTok, err := oldRing.Seal([]byte("key_abc"), ad)
	if err != nil {
		t.Fatal(err)
	}
	if oldRing.NeedsReseal(oldTok) {
		t.Fatal("token under the primary needs reseal")
	}

	rotated := mustRing(t, testKey("new", 2)+","+testKey("old", 1))
	if got := rotated.PrimaryID(); got != "new" {
		t.Fatalf("PrimaryID = %q, want new", got)
	}
	if got, err := rotated.Open(oldTok, ad); err != nil || string(got) != "key_abc" {
		t.Fatalf("old token after rotation: %q, %v", got, err)
	}
	if !rotated.NeedsReseal(oldTok) {
		t.Fatal("NeedsReseal = false for a token under the old key")
	}

	newTok, err := rotated.Reseal(oldTok, ad)
	if err != nil {
		t.Fatalf("Reseal: %v", err)
	}
	if !strings.HasPrefix(newTok, "v1.new.") {
		t.Fatalf("resealed token %q: want kid new", newTok)
	}
	if rotated.NeedsReseal(newTok) {
		t.Fatal("resealed token still needs reseal")
	}
	if again, err := rotated.Reseal(newTok, ad); err != nil || again != newTok {
		t.Fatalf("Reseal of a primary token = %q, %v; want it unchanged", again, err)
	}

	newOnly := mustRing(t, testKey("new", 2))
	if got, err := newOnly.Open(newTok, ad); err != nil || string(got) != "key_abc" {
		t.Fatalf("resealed token with the new key alone: %q, %v", got, err)
	}
	if _, err := newOnly.Open(oldTok, ad); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("old token without the old key: %v, want ErrUnknownKey", err)
	}
	if _, err := rotated.Reseal(oldTok, []byte("org:8:retell_key")); !errors.Is(err, ErrTampered) {
		t.Fatalf("Reseal with wrong AD: %v, want ErrTampered", err)
	}
	if rotated.NeedsReseal("garbage") {
		t.Fatal("NeedsReseal = true for a malformed token")
	}
}

func TestParseKeyRing(t *testing.T) {
	key := bytes.Repeat([]byte{7}, KeySize)
	for _, s := range []string{
		"a:" + base64.StdEncoding.EncodeToString(key),
		"a:" + base64.RawStdEncoding.EncodeToString(key),
		"a:" + base64.URLEncoding.EncodeToString(key),
		"a:" + base64.RawURLEncoding.EncodeToString(key),
		" a : " + base64.StdEncoding.EncodeToString(key) + " , ",
	} {
		r, err := ParseKeyRing(s)
		if err != nil {
			t.Errorf("ParseKeyRing(%q): %v", s, err)
			continue
		}
		if r.PrimaryID() != "a" {
			t.Errorf("PrimaryID = %q", r.PrimaryID())
		}
	}

	r := mustRing(t, testKey("one", 1)+","+testKey("two", 2)+","+testKey("three", 3))
	if got := strings.Join(r.KeyIDs(), ","); got != "one,two,three" {
		t.Fatalf("KeyIDs = %s", got)
	}

	secret := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xab}, 16))
	cases := []struct {
		name string
		in   string
		want error
	}{
		{"empty", "", ErrNoKeys},
		{"only commas", " , ,", ErrNoKeys},
		{"no colon", base64.StdEncoding.EncodeToString(key), ErrBadKey},
		{"empty kid", ":" + base64.StdEncoding.EncodeToString(key), ErrBadKey},
		{"kid with dot", "a.b:" + base64.StdEncoding.EncodeToString(key), ErrBadKey},
		{"kid too long", strings.Repeat("k", 33) + ":" + base64.StdEncoding.EncodeToString(key), ErrBadKey},
		{"empty key", "a:", ErrBadKey},
		{"bad base64", "a:not*base64", ErrBadKey},
		{"short key", "a:" + secret, ErrBadKey},
		{"long key", "a:" + base64.StdEncoding.EncodeToString(make([]byte, 33)), ErrBadKey},
		{"duplicate kid", testKey("a", 1) + "," + testKey("a", 2), ErrDuplicateKey},
		{"same key twice", testKey("a", 1) + "," + testKey("b", 1), ErrDuplicateKey},
		{"bad second entry", testKey("a", 1) + ",b:xyz", ErrBadKey},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := ParseKeyRing(c.in)
			if !errors.Is(err, c.want) {
				t.Fatalf("ParseKeyRing(%q) = %v, want %v", c.in, err, c.want)
			}
			if r != nil {
				t.Fatal("ring returned with an error")
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("error %q leaks the key", err)
			}
		})
	}
}

func TestGenerateKey(t *testing.T) {
	s, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^k\d{8}[0-9a-f]{4}:`).MatchString(s) {
		t.Fatalf("GenerateKey = %q: unexpected kid shape", s)
	}
	r, err := ParseKeyRing(s)
	if err != nil {
		t.Fatalf("generated key does not parse: %v", err)
	}
	tok, _ := r.SealString("x", "ad")
	if got, err := r.OpenString(tok, "ad"); err != nil || got != "x" {
		t.Fatalf("round trip with generated key: %q, %v", got, err)
	}
	s2, _ := GenerateKey()
	if s == s2 {
		t.Fatal("two generated keys are equal")
	}
}

func TestNilRing(t *testing.T) {
	var r *Ring
	if _, err := r.Seal([]byte("x"), nil); !errors.Is(err, ErrNoKeys) {
		t.Fatalf("Seal on nil ring: %v", err)
	}
	if _, err := r.Open("v1.a.AAAA", nil); !errors.Is(err, ErrNoKeys) {
		t.Fatalf("Open on nil ring: %v", err)
	}
	if r.PrimaryID() != "" || r.KeyIDs() != nil {
		t.Fatal("nil ring has keys")
	}
}

func FuzzOpen(f *testing.F) {
	r := mustRing(f, testKey("new", 2)+","+testKey("old", 1))
	oldTok, _ := mustRing(f, testKey("old", 1)).SealString("old secret", "org:1:x")
	tok, _ := r.SealString("secret", "org:1:x")
	f.Add(tok, []byte("org:1:x"))
	f.Add(oldTok, []byte("org:1:x"))
	f.Add(tok, []byte("org:2:x"))
	f.Add(tok[:len(tok)-3], []byte("org:1:x"))
	f.Add("", []byte(nil))
	f.Add("v1.", []byte(nil))
	f.Add("v1..", []byte(nil))
	f.Add("v1.new.", []byte(nil))
	f.Add("v1.new.AAAA", []byte(nil))
	f.Add("v1.new."+strings.Repeat("A", 40), []byte(nil))
	f.Add("v1.nope.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", []byte("x"))
	f.Add("v2.new.abc", []byte("x"))
	f.Add("v1.new.@@@@", []byte("x"))

	f.Fuzz(func(t *testing.T, token string, ad []byte) {
		pt, err := r.Open(token, ad)
		if err != nil {
			if pt != nil {
				t.Fatalf("Open returned plaintext with error %v", err)
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnknownKey) && !errors.Is(err, ErrTampered) {
				t.Fatalf("Open error %v is not one of the sentinels", err)
			}
			return
		}
		// Anything that opens must be a token this ring could have made.
		if !strings.HasPrefix(token, "v1.new.") && !strings.HasPrefix(token, "v1.old.") {
			t.Fatalf("Open accepted %q", token)
		}
		r.NeedsReseal(token)
	})
}

func BenchmarkSeal(b *testing.B) {
	r := mustRing(b, testKey("a1", 1))
	pt := bytes.Repeat([]byte("s"), 64)
	ad := []byte("org:12:twilio_token")
	b.SetBytes(int64(len(pt)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Seal(pt, ad); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	r := mustRing(b, testKey("a1", 1))
	pt := bytes.Repeat([]byte("s"), 64)
	ad := []byte("org:12:twilio_token")
	tok, err := r.Seal(pt, ad)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(pt)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Open(tok, ad); err != nil {
			b.Fatal(err)
		}
	}
}
