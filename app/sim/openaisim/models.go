package openaisim

import (
	"net/http"
	"slices"
)

// TestEmbeddingModel is a small embedding model (64 dimensions, any smaller size on request)
// for tests that store many vectors.
const TestEmbeddingModel = "test-embedding"

// Model is a model the sim lists and serves.
type Model struct {
	ID           string
	Created      int64  // Unix seconds
	OwnedBy      string // "openai" when empty
	ShutdownDate string // e.g. "2026-10-23"; "" is null
	// Dimensions is the native vector size of an embedding model; 0 for a chat model.
	Dimensions int
	// Shortenable embedding models accept the dimensions parameter (text-embedding-3 and newer).
	Shortenable bool
}

// DefaultModels returns the models a new Server serves: chat models gpt-4o-mini, gpt-4o,
// gpt-4.1-mini and gpt-3.5-turbo (langchaingo's default), and embedding models
// text-embedding-3-small (1536), text-embedding-3-large (3072), text-embedding-ada-002 (1536,
// no dimensions parameter) and TestEmbeddingModel (64).
func DefaultModels() []Model {
	return []Model{
		{ID: "gpt-4o-mini", Created: 1721172741, OwnedBy: "system"},
		{ID: "gpt-4o", Created: 1715367049, OwnedBy: "system"},
		{ID: "gpt-4.1-mini", Created: 1744318173, OwnedBy: "system"},
		{ID: "gpt-3.5-turbo", Created: 1677610602, OwnedBy: "openai", ShutdownDate: "2026-10-23"},
		{ID: "text-embedding-3-small", Created: 1705948997, OwnedBy: "system", Dimensions: 1536, Shortenable: true},
		{ID: "text-embedding-3-large", Created: 1705953180, OwnedBy: "system", Dimensions: 3072, Shortenable: true},
		{ID: "text-embedding-ada-002", Created: 1671217299, OwnedBy: "openai-internal", Dimensions: 1536},
		{ID: TestEmbeddingModel, Created: 1735689600, OwnedBy: "system", Dimensions: 64, Shortenable: true},
	}
}

// AddModel adds a model, or replaces the one with the same ID.
func (s *Server) AddModel(m Model) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i := slices.IndexFunc(s.models, func(o Model) bool { return o.ID == m.ID }); i >= 0 {
		s.models[i] = m
		return
	}
	s.models = append(s.models, m)
}

// Models returns the served models.
func (s *Server) Models() []Model {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.models)
}

func (s *Server) model(id string) (Model, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.models, func(m Model) bool { return m.ID == id })
	if i < 0 {
		return Model{}, false
	}
	return s.models[i], true
}

func modelNotFound(id string) apiError {
	return apiError{status: http.StatusNotFound, Type: "invalid_request_error", Param: "model", Code: "model_not_found",
		Message: "The model `" + id + "` does not exist or you do not have access to it."}
}

func (m Model) wire() map[string]any {
	owner := m.OwnedBy
	if owner == "" {
		owner = "openai"
	}
	var shutdown any
	if m.ShutdownDate != "" {
		shutdown = m.ShutdownDate
	}
	return map[string]any{"id": m.ID, "object": "model", "created": m.Created, "owned_by": owner, "shutdown_date": shutdown}
}

// handleModels answers GET /v1/models.
func (s *Server) handleModels(w http.ResponseWriter, _ *http.Request, _ *Request) {
	models := s.Models()
	data := make([]map[string]any, len(models))
	for i, m := range models {
		data[i] = m.wire()
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": data})
}

// handleModel answers GET /v1/models/{model}.
func (s *Server) handleModel(w http.ResponseWriter, r *http.Request, _ *Request) {
	id := r.PathValue("model")
	m, ok := s.model(id)
	if !ok {
		writeError(w, modelNotFound(id))
		return
	}
	writeJSON(w, http.StatusOK, m.wire())
}
