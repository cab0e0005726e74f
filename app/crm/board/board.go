// Package board is the Kanban lead board: pipelines with ordered stages, and leads (a
// contact on a pipeline) that move between and within stages.
package board

import (
	"masteria/app/jobs"
	"masteria/app/store"
)

// Service runs pipeline and lead operations on a store.
type Service struct {
	st *store.Store
}

// New returns the board service.
func New(st *store.Store) *Service { return &Service{st: st} }

// Register adds the board area's job workers, if any.
func Register(reg *jobs.Registry, st *store.Store) {}
