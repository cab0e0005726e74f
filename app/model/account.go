package model

import (
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Org is a tenant: a business with its members, channels and customers.
type Org struct {
	ID   int64  `db:"id" json:"id"`
	Name string `db:"name" json:"name"`
	// DefaultCountry reads phone numbers typed without a country code (ISO 3166, "BR").
	DefaultCountry string    `db:"default_country" json:"default_country"`
	CreatedAt      time.Time `db:"created_at" json:"created_at"`
	UpdatedAt      time.Time `db:"updated_at" json:"updated_at"`
}

// User is a person who logs in. One user may belong to several orgs.
type User struct {
	ID           int64     `db:"id"`
	Email        string    `db:"email"`
	Name         string    `db:"name"`
	PasswordHash *string   `db:"password_hash"`
	Locale       *string   `db:"locale"`
	Theme        string    `db:"theme"`
	CreatedAt    time.Time `db:"created_at"`
}

// Membership is a user's place in an org.
type Membership struct {
	OrgID     int64     `db:"org_id"`
	OrgName   string    `db:"org_name"`
	UserID    int64     `db:"user_id"`
	UserName  string    `db:"user_name"`
	UserEmail string    `db:"user_email"`
	Role      Role      `db:"role"`
	CreatedAt time.Time `db:"created_at"`
}

// Invite is a link that lets someone join an org with a role.
type Invite struct {
	ID         int64      `db:"id"`
	OrgID      int64      `db:"org_id"`
	OrgName    string     `db:"org_name"`
	Email      *string    `db:"email"`
	Role       Role       `db:"role"`
	InvitedBy  *int64     `db:"invited_by"`
	CreatedAt  time.Time  `db:"created_at"`
	ExpiresAt  time.Time  `db:"expires_at"`
	AcceptedAt *time.Time `db:"accepted_at"`
	RevokedAt  *time.Time `db:"revoked_at"`
}

// Usable tells whether the invite can still be accepted.
func (i Invite) Usable(now time.Time) bool {
	return i.AcceptedAt == nil && i.RevokedAt == nil && now.Before(i.ExpiresAt)
}

// APIKey is an org's key for the REST API. Only its hash is stored; Prefix is shown in lists.
type APIKey struct {
	ID         int64      `db:"id"`
	OrgID      int64      `db:"org_id"`
	Name       string     `db:"name"`
	Prefix     string     `db:"prefix"`
	CreatedBy  *int64     `db:"created_by"`
	CreatedAt  time.Time  `db:"created_at"`
	LastUsedAt *time.Time `db:"last_used_at"`
	RevokedAt  *time.Time `db:"revoked_at"`
	// Scope is what the key may do (ParseScope); empty is everything.
	Scope string `db:"scope"`
}

// Session is a logged-in browser, listed in settings so a user can end it.
type Session struct {
	ID         int64     `db:"id"`
	UserID     int64     `db:"user_id"`
	IP         string    `db:"ip"`
	UserAgent  string    `db:"user_agent"`
	CreatedAt  time.Time `db:"created_at"`
	LastSeenAt time.Time `db:"last_seen_at"`
	ExpiresAt  time.Time `db:"expires_at"`
}

// AuditEntry records who did what, when and from where.
type AuditEntry struct {
	ID        int64     `db:"id"`
	OrgID     int64     `db:"org_id"`
	UserID    *int64    `db:"user_id"`
	UserName  *string   `db:"user_name"`
	Action    string    `db:"action"`
	Target    string    `db:"target"`
	IP        string    `db:"ip"`
	UserAgent string    `db:"user_agent"`
	CreatedAt time.Time `db:"created_at"`
}

// Limits on account fields, shared by validation and the forms' attributes.
const (
	MinPasswordLen = 10
	MaxPasswordLen = 128
	MaxNameLen     = 120
	MaxEmailLen    = 254
)

// Countries are the default countries an org can pick for reading phone numbers (ISO 3166),
// Brazil first: most customers are there, then Portuguese and Spanish speaking neighbours.
var Countries = []string{"BR", "PT", "AO", "MZ", "AR", "CL", "CO", "MX", "PE", "PY", "UY", "ES", "US", "CA", "GB"}

// NormalizeEmail trims and lower-cases an address so one person has one account.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// ValidEmail accepts a bare address (no display name) with a dot in its domain.
func ValidEmail(s string) bool {
	if s == "" || len(s) > MaxEmailLen {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	return at > 0 && strings.Contains(domain, ".") && !strings.HasSuffix(domain, ".")
}

// PasswordProblem returns an i18n key saying why a password is too weak, or "" when it is fine.
// Length matters most; a password of one repeated character or a very common one is refused too.
func PasswordProblem(pw, email string) string {
	n := utf8.RuneCountInString(pw)
	switch {
	case n < MinPasswordLen:
		return "signup.error.password_short"
	case n > MaxPasswordLen:
		return "signup.error.password_long"
	}
	distinct := map[rune]bool{}
	letters, others := 0, 0
	for _, r := range pw {
		distinct[r] = true
		if unicode.IsLetter(r) {
			letters++
		} else {
			others++
		}
	}
	lower := strings.ToLower(pw)
	if len(distinct) < 4 || commonPasswords[lower] {
		return "signup.error.password_common"
	}
	if local, _, ok := strings.Cut(NormalizeEmail(email), "@"); ok && len(local) >= 4 && strings.Contains(lower, local) {
		return "signup.error.password_email"
	}
	return ""
}

// A short list of the passwords tried first in every attack, in English and Portuguese.
var commonPasswords = map[string]bool{
	"1234567890": true, "12345678910": true, "password123": true, "password1234": true,
	"qwertyuiop": true, "senha12345": true, "senha123456": true, "mudar12345": true,
	"abcdefghij": true, "abc1234567": true, "0987654321": true, "iloveyou123": true,
	"brasil1234": true, "masteria123": true, "qwerty12345": true, "1q2w3e4r5t": true,
}

// CleanName trims a person's or org's name and checks its length.
func CleanName(s string) (string, bool) {
	s = strings.Join(strings.Fields(s), " ")
	n := utf8.RuneCountInString(s)
	return s, n >= 1 && n <= MaxNameLen
}
