// Package model holds the plain domain types of Master IA and their validation.
// It knows nothing of SQL or HTTP, so every other package can depend on it.
package model

import (
	"errors"
	"slices"
	"sort"
	"strings"
)

// Sentinel errors shared by the store, the services and the web layer, which maps them to HTTP.
var (
	ErrNotFound  = errors.New("not found")
	ErrConflict  = errors.New("conflict")
	ErrForbidden = errors.New("forbidden")
	ErrInvalid   = errors.New("invalid input")
)

// ValidationError says which fields of an input are wrong. Values are i18n keys, so the page
// shows the message in the reader's language. It matches ErrInvalid with errors.Is.
type ValidationError struct {
	Fields map[string]string
	// order is the fields in the order they failed, so that "the first error" is always the
	// same one (Fields, a map, has no order).
	order []string
}

// NewValidationError starts an empty set of field errors.
func NewValidationError() *ValidationError { return &ValidationError{Fields: map[string]string{}} }

// Add records the first problem found for a field.
func (v *ValidationError) Add(field, key string) {
	if _, ok := v.Fields[field]; !ok {
		v.Fields[field] = key
		v.order = append(v.order, field)
	}
}

// Order returns the failed fields in the order they were added; fields set in Fields
// directly follow, by name.
func (v *ValidationError) Order() []string {
	out := make([]string, 0, len(v.Fields))
	for _, f := range v.order {
		if _, ok := v.Fields[f]; ok {
			out = append(out, f)
		}
	}
	var rest []string
	for f := range v.Fields {
		if !slices.Contains(out, f) {
			rest = append(rest, f)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}

// Err returns nil when no field failed, so callers can `return v.Err()`.
func (v *ValidationError) Err() error {
	if v == nil || len(v.Fields) == 0 {
		return nil
	}
	return v
}

func (v *ValidationError) Error() string {
	names := make([]string, 0, len(v.Fields))
	for f, k := range v.Fields {
		names = append(names, f+": "+k)
	}
	sort.Strings(names)
	return "invalid input: " + strings.Join(names, ", ")
}

func (v *ValidationError) Is(target error) bool { return target == ErrInvalid }

// FieldError builds a ValidationError with a single field.
func FieldError(field, key string) error {
	v := NewValidationError()
	v.Add(field, key)
	return v
}
