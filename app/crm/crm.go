// Package crm is the contact book: contacts with tags, custom fields and opt-outs, their
// timeline, bulk actions, saved segments, and CSV import and export.
package crm

import (
	"github.com/riverqueue/river"

	"masteria/app/jobs"
	"masteria/app/store"
)

// Service runs contact operations on a store.
type Service struct {
	st   *store.Store
	jobs Inserter
}

// New returns the contacts service.
func New(st *store.Store) *Service { return &Service{st: st} }

// SetJobs gives the service the queue it inserts import jobs into (set once at start).
func (s *Service) SetJobs(j Inserter) { s.jobs = j }

// Register adds the contact area's job workers (the CSV import).
func Register(reg *jobs.Registry, s *Service) {
	river.AddWorker(reg.Workers, &ImportWorker{Service: s})
}
