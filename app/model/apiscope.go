package model

import (
	"slices"
	"strings"
)

// APIAreas are the parts of the REST API a key's scope names, each read or write.
var APIAreas = []string{"contacts", "board", "inbox", "campaigns", "cadences", "voice", "ai", "analytics", "webhooks"}

// ScopeRead lets a key read every area and change nothing.
const ScopeRead = "read"

// ParseScope checks a key's scope, space-separated as in OAuth: empty (everything),
// "read", or area:read / area:write entries. It returns the scope written the one way
// (sorted, without repeats) and whether it holds.
func ParseScope(s string) (string, bool) {
	fields := strings.Fields(s)
	for _, f := range fields {
		if f == ScopeRead {
			continue
		}
		area, access, ok := strings.Cut(f, ":")
		if !ok || !slices.Contains(APIAreas, area) || (access != "read" && access != "write") {
			return "", false
		}
	}
	slices.Sort(fields)
	return strings.Join(slices.Compact(fields), " "), true
}

// Allows says whether the key may read (write false) or change (write true) an area. A
// key without a scope may do everything; write implies read.
func (k APIKey) Allows(area string, write bool) bool {
	if k.Scope == "" {
		return true
	}
	for _, f := range strings.Fields(k.Scope) {
		switch {
		case f == ScopeRead && !write:
			return true
		case f == area+":write", f == area+":read" && !write:
			return true
		}
	}
	return false
}
