// Package vault seals secrets at rest (provider tokens, app secrets) with
// AES-256-GCM, under a key ring read from MASTERIA_SECRET_KEY.
//
// The ring is one or more keys separated by commas, each "kid:base64" where
// the base64 (standard or raw URL alphabet, padded or not) decodes to exactly
// 32 bytes:
//
//	MASTERIA_SECRET_KEY="k20261125a1b2:3q2+7w...,k20250101c3d4:AAEC..."
//
// The first key is the primary: Seal always uses it. The others only open
// values sealed before a rotation. To rotate, generate a key (masteria
// keygen), put it first, keep the old ones after it, and let the store re-seal
// rows where NeedsReseal reports true; once no row uses an old key it can be
// dropped from the ring.
//
// A sealed value is a text token
//
//	v1.<kid>.<base64url(nonce || ciphertext || tag)>
//
// with a random 12-byte nonce. The caller passes associated data naming where
// the value lives (for example "org:12:twilio_token"), so a token copied to
// another row or column does not open. The token header "v1.<kid>." is bound
// too, so the key id cannot be swapped either.
package vault

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// KeySize is the length of an AES-256 key in bytes.
const KeySize = 32

const (
	version   = "v1"
	nonceSize = 12
	tagSize   = 16
	maxKIDLen = 32
)

var (
	// ErrNoKeys is returned when the key ring is empty or nil.
	ErrNoKeys = errors.New("vault: no keys")
	// ErrBadKey is returned by ParseKeyRing for an entry that is not a valid "kid:base64" key.
	ErrBadKey = errors.New("vault: bad key")
	// ErrDuplicateKey is returned by ParseKeyRing when a key id or key appears twice.
	ErrDuplicateKey = errors.New("vault: duplicate key")
	// ErrMalformed is returned by Open for a token that is not shaped like one Seal makes.
	ErrMalformed = errors.New("vault: malformed token")
	// ErrUnknownKey is returned by Open for a token sealed with a key id not in the ring.
	ErrUnknownKey = errors.New("vault: unknown key id")
	// ErrTampered is returned by Open when authentication fails: the token was
	// changed, the associated data differs, or the key under that id is not the one that sealed it.
	ErrTampered = errors.New("vault: token does not authenticate")
)

// Ring is an ordered set of keys; the first one seals. It is safe for concurrent use.
type Ring struct {
	primary string
	ids     []string
	aeads   map[string]cipher.AEAD
}

// ParseKeyRing parses MASTERIA_SECRET_KEY. Blank entries (a trailing comma,
// spaces) are skipped; error messages never contain key material.
func ParseKeyRing(s string) (*Ring, error) {
	r := &Ring{aeads: make(map[string]cipher.AEAD)}
	seen := make(map[string]string) // key bytes -> kid, to catch one key pasted under two ids
	for i, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		kid, encoded, ok := strings.Cut(entry, ":")
		if !ok {
			return nil, fmt.Errorf("%w: entry %d: want kid:base64", ErrBadKey, i+1)
		}
		kid = strings.TrimSpace(kid)
		if err := checkKID(kid); err != nil {
			return nil, fmt.Errorf("%w: entry %d: %w", ErrBadKey, i+1, err)
		}
		key, err := decodeKey(strings.TrimSpace(encoded))
		if err != nil {
			return nil, fmt.Errorf("%w: key %q: %w", ErrBadKey, kid, err)
		}
		if _, dup := r.aeads[kid]; dup {
			return nil, fmt.Errorf("%w: key id %q appears twice", ErrDuplicateKey, kid)
		}
		if other, dup := seen[string(key)]; dup {
			return nil, fmt.Errorf("%w: keys %q and %q are the same key", ErrDuplicateKey, other, kid)
		}
		seen[string(key)] = kid
		aead, err := newAEAD(key)
		if err != nil {
			return nil, fmt.Errorf("vault: key %q: %w", kid, err)
		}
		r.aeads[kid] = aead
		r.ids = append(r.ids, kid)
	}
	if len(r.ids) == 0 {
		return nil, ErrNoKeys
	}
	r.primary = r.ids[0]
	return r, nil
}

// checkKID keeps key ids short and free of the token separators.
func checkKID(kid string) error {
	if kid == "" {
		return errors.New("empty key id")
	}
	if len(kid) > maxKIDLen {
		return fmt.Errorf("key id longer than %d characters", maxKIDLen)
	}
	for _, c := range kid {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return fmt.Errorf("key id %q: only letters, digits, '-' and '_' are allowed", kid)
		}
	}
	return nil
}

// decodeKey accepts the standard and the URL base64 alphabets, padded or not.
func decodeKey(s string) ([]byte, error) {
	if s == "" {
		return nil, errors.New("empty key")
	}
	var key []byte
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if key, err = enc.DecodeString(s); err == nil {
			break
		}
	}
	if err != nil {
		return nil, errors.New("not valid base64")
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("decodes to %d bytes, want %d", len(key), KeySize)
	}
	return key, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// GenerateKey returns a new random key as "kid:base64" (standard alphabet,
// padded), ready to be put first in MASTERIA_SECRET_KEY. The kid is "k", the
// UTC date as YYYYMMDD and 4 random hex digits, e.g. "k20261125a1b2", so keys
// sort by age and an operator can tell which one is newest.
func GenerateKey() (string, error) {
	var key [KeySize]byte
	if _, err := rand.Read(key[:]); err != nil {
		return "", fmt.Errorf("vault: generate key: %w", err)
	}
	var suffix [2]byte
	if _, err := rand.Read(suffix[:]); err != nil {
		return "", fmt.Errorf("vault: generate key id: %w", err)
	}
	kid := "k" + time.Now().UTC().Format("20060102") + hex.EncodeToString(suffix[:])
	return kid + ":" + base64.StdEncoding.EncodeToString(key[:]), nil
}

// PrimaryID returns the id of the key that Seal uses.
func (r *Ring) PrimaryID() string {
	if r == nil {
		return ""
	}
	return r.primary
}

// KeyIDs returns the key ids in ring order, primary first.
func (r *Ring) KeyIDs() []string {
	if r == nil {
		return nil
	}
	return append([]string(nil), r.ids...)
}

// Seal encrypts plaintext with the primary key. associatedData is not stored
// in the token; Open must be given the same bytes.
func (r *Ring) Seal(plaintext, associatedData []byte) (string, error) {
	if r == nil || r.primary == "" {
		return "", ErrNoKeys
	}
	aead := r.aeads[r.primary]
	header := version + "." + r.primary + "."

	buf := make([]byte, nonceSize, nonceSize+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("vault: nonce: %w", err)
	}
	buf = aead.Seal(buf, buf[:nonceSize], plaintext, boundAD(header, associatedData))

	var b strings.Builder
	b.Grow(len(header) + base64.RawURLEncoding.EncodedLen(len(buf)))
	b.WriteString(header)
	b.WriteString(base64.RawURLEncoding.EncodeToString(buf))
	return b.String(), nil
}

// Open decrypts a token made by Seal. It returns ErrMalformed, ErrUnknownKey
// or ErrTampered (test with errors.Is), never partial plaintext.
func (r *Ring) Open(token string, associatedData []byte) ([]byte, error) {
	if r == nil || r.primary == "" {
		return nil, ErrNoKeys
	}
	kid, body, err := split(token)
	if err != nil {
		return nil, err
	}
	aead, ok := r.aeads[kid]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownKey, kid)
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(body)
	if err != nil {
		return nil, fmt.Errorf("%w: bad base64", ErrMalformed)
	}
	if len(raw) < nonceSize+tagSize {
		return nil, fmt.Errorf("%w: too short", ErrMalformed)
	}
	header := version + "." + kid + "."
	plaintext, err := aead.Open(nil, raw[:nonceSize], raw[nonceSize:], boundAD(header, associatedData))
	if err != nil {
		return nil, ErrTampered
	}
	return plaintext, nil
}

// SealString is Seal for string values and associated data.
func (r *Ring) SealString(plaintext, associatedData string) (string, error) {
	return r.Seal([]byte(plaintext), []byte(associatedData))
}

// OpenString is Open for string values and associated data.
func (r *Ring) OpenString(token, associatedData string) (string, error) {
	b, err := r.Open(token, []byte(associatedData))
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// NeedsReseal reports whether token is well formed and sealed with a key other
// than the primary (known to the ring or not). A malformed token reports
// false: re-sealing cannot fix it.
func (r *Ring) NeedsReseal(token string) bool {
	kid, _, err := split(token)
	return err == nil && kid != r.PrimaryID()
}

// Reseal opens token with whichever ring key sealed it and seals the
// plaintext again with the primary key. A token already under the primary is
// checked and returned unchanged.
func (r *Ring) Reseal(token string, associatedData []byte) (string, error) {
	plaintext, err := r.Open(token, associatedData)
	if err != nil {
		return "", err
	}
	defer clear(plaintext)
	if !r.NeedsReseal(token) {
		return token, nil
	}
	return r.Seal(plaintext, associatedData)
}

// split checks the "v1.<kid>.<body>" shape and returns kid and body.
func split(token string) (kid, body string, err error) {
	rest, ok := strings.CutPrefix(token, version+".")
	if !ok {
		return "", "", fmt.Errorf("%w: missing %s prefix", ErrMalformed, version)
	}
	kid, body, ok = strings.Cut(rest, ".")
	if !ok || body == "" {
		return "", "", fmt.Errorf("%w: missing body", ErrMalformed)
	}
	if checkKID(kid) != nil {
		return "", "", fmt.Errorf("%w: bad key id", ErrMalformed)
	}
	return kid, body, nil
}

// boundAD prefixes the caller's associated data with the token header. The
// header ends in '.', which a kid cannot contain, so the join is unambiguous.
func boundAD(header string, associatedData []byte) []byte {
	return bytes.Join([][]byte{[]byte(header), associatedData}, nil)
}
