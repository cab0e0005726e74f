package oauthsim

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
)

var b64 = base64.RawURLEncoding

// jwk is the public half of the signing key as RFC 7517 describes it.
type jwk struct {
	Kty string `json:"kty"`
	Alg string `json:"alg"`
	Use string `json:"use"`
	Kid string `json:"kid"`
	N   string `json:"n"`
	E   string `json:"e"`
}

func publicJWK(pub *rsa.PublicKey, kid string) jwk {
	return jwk{
		Kty: "RSA",
		Alg: "RS256",
		Use: "sig",
		Kid: kid,
		N:   b64.EncodeToString(pub.N.Bytes()),
		E:   b64.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}
}

// jwkThumbprint is the RFC 7638 thumbprint, a stable key id derived from the key itself.
func jwkThumbprint(pub *rsa.PublicKey) string {
	k := publicJWK(pub, "")
	// Members in lexicographic order, no whitespace, as the RFC requires.
	canon := fmt.Sprintf(`{"e":%q,"kty":"RSA","n":%q}`, k.E, k.N)
	sum := sha256.Sum256([]byte(canon))
	return b64.EncodeToString(sum[:])
}

// signJWT returns a compact RS256 JWS of claims.
func signJWT(key *rsa.PrivateKey, kid string, claims map[string]any) (string, error) {
	header, err := json.Marshal(map[string]string{"alg": "RS256", "kid": kid, "typ": "JWT"})
	if err != nil {
		return "", fmt.Errorf("oauthsim: jwt header: %w", err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("oauthsim: jwt claims: %w", err)
	}
	signingInput := b64.EncodeToString(header) + "." + b64.EncodeToString(payload)
	digest := sha256.Sum256([]byte(signingInput))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		return "", fmt.Errorf("oauthsim: jwt sign: %w", err)
	}
	return signingInput + "." + b64.EncodeToString(sig), nil
}

// halfHash is the at_hash of OIDC Core 3.1.3.6: the left half of the SHA-256 of the access token.
func halfHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return b64.EncodeToString(sum[:len(sum)/2])
}

// randomToken returns 32 random bytes, base64url encoded.
func randomToken() string {
	b := make([]byte, 32)
	// crypto/rand.Read never returns an error on supported platforms.
	_, _ = rand.Read(b)
	return b64.EncodeToString(b)
}
