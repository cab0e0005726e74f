package auth

import (
	"strings"
)

// APIKeyPrefix starts every key, so a leaked key is easy to recognise in code and logs.
const APIKeyPrefix = "mia_"

// NewAPIKey returns a new key, the prefix shown in lists, and the hash to store.
func NewAPIKey() (key, display string, hash []byte, err error) {
	tok, err := NewToken(32)
	if err != nil {
		return "", "", nil, err
	}
	key = APIKeyPrefix + tok
	return key, key[:len(APIKeyPrefix)+6], HashToken(key), nil
}

// BearerToken takes the key out of an `Authorization: Bearer <key>` header value.
func BearerToken(header string) (string, bool) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, strings.HasPrefix(tok, APIKeyPrefix) && len(tok) > len(APIKeyPrefix)+20
}
