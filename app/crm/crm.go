// Package crm is the contact book: contacts with tags, custom fields and opt-outs, their
// timeline, bulk actions, saved segments, and CSV import and export.
package crm

import (
	"masteria/app/jobs"
	"masteria/app/store"
)

// Service runs contact operations on a store.
type Service struct {
	st *store.Store
}

// New returns the contacts service.
func New(st *store.Store) *Service { return &Service{st: st} }

// Register adds the contact area's job workers (the CSV import).
func Register(reg *jobs.Registry, st *store.Store) {}
