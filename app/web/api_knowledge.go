package web

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"masteria/app/ai/kb"
	"masteria/app/i18n"
	"masteria/app/model"
)

// isAPIKBUpload is the API's document upload, which reads its own 5 MB limit.
func isAPIKBUpload(p string) bool {
	return strings.HasPrefix(p, "/api/v1/knowledge-bases/") && strings.HasSuffix(p, "/documents")
}

func (s *Server) apiKnowledgeRoutes(api *echo.Group) {
	api.GET("/knowledge-bases", s.apiKBs)
	api.POST("/knowledge-bases", s.apiKBCreate)
	api.GET("/knowledge-bases/:id", s.apiKB)
	api.PATCH("/knowledge-bases/:id", s.apiKBUpdate)
	api.DELETE("/knowledge-bases/:id", s.apiKBDelete)
	api.GET("/knowledge-bases/:id/documents", s.apiKBDocuments)
	api.POST("/knowledge-bases/:id/documents", s.apiKBAddDocument)
	api.GET("/knowledge-bases/:id/documents/:doc", s.apiKBDocument)
	api.DELETE("/knowledge-bases/:id/documents/:doc", s.apiKBDeleteDocument)
	api.GET("/knowledge-bases/:id/search", s.apiKBSearch)
}

// apiKBs is GET /api/v1/knowledge-bases: the org's knowledge bases in the order they were
// made; ?after=<next> reads on.
func (s *Server) apiKBs(c echo.Context) error {
	p, ok, err := apiPageOf(c, 50, 100)
	if !ok {
		return err
	}
	bs, err := s.kb.BasesPage(c.Request().Context(), apiActor(c).OrgID, p.After, p.Limit+1)
	if err != nil {
		return err
	}
	bs, next := apiNext(bs, p.Limit, func(b model.KnowledgeBase) int64 { return b.ID })
	return c.JSON(http.StatusOK, map[string]any{"knowledge_bases": bs, "next": next})
}

func (s *Server) apiKB(c echo.Context) error {
	id, err := apiKBID(c, "id")
	if err != nil {
		return apiKBFail(c, err)
	}
	b, err := s.kb.Base(c.Request().Context(), apiActor(c).OrgID, id)
	if err != nil {
		return apiKBFail(c, err)
	}
	return c.JSON(http.StatusOK, map[string]any{"knowledge_base": b})
}

// apiKBUpdate is PATCH /api/v1/knowledge-bases/{id} {"name":…,"description":…}: what is
// left out stays.
func (s *Server) apiKBUpdate(c echo.Context) error {
	id, err := apiKBID(c, "id")
	if err != nil {
		return apiKBFail(c, err)
	}
	var in struct {
		Name        *string `json:"name"`
		Description *string `json:"description"`
	}
	if !apiDecode(c, &in, `{"name":"Cardápio","description":"Pratos e preços"}`) {
		return nil
	}
	ctx, a := c.Request().Context(), apiActor(c)
	b, err := s.kb.Base(ctx, a.OrgID, id)
	if err != nil {
		return apiKBFail(c, err)
	}
	if in.Name != nil {
		b.Name = *in.Name
	}
	if in.Description != nil {
		b.Description = *in.Description
	}
	if b, err = s.kb.RenameBase(ctx, a, id, b.Name, b.Description); err != nil {
		return apiKBFail(c, err)
	}
	return c.JSON(http.StatusOK, map[string]any{"knowledge_base": b})
}

// apiKBDelete removes a knowledge base with its documents; personas stop citing it.
func (s *Server) apiKBDelete(c echo.Context) error {
	id, err := apiKBID(c, "id")
	if err != nil {
		return apiKBFail(c, err)
	}
	if err := s.kb.DeleteBase(c.Request().Context(), apiActor(c), id); err != nil {
		return apiKBFail(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}

// apiKBDocuments is GET /api/v1/knowledge-bases/{id}/documents: its documents (without
// their text), newest first; ?after=<next> reads on.
func (s *Server) apiKBDocuments(c echo.Context) error {
	id, err := apiKBID(c, "id")
	if err != nil {
		return apiKBFail(c, err)
	}
	p, ok, err := apiPageOf(c, 50, 100)
	if !ok {
		return err
	}
	docs, err := s.kb.DocumentsPage(c.Request().Context(), apiActor(c).OrgID, id, p.After, p.Limit+1)
	if err != nil {
		return apiKBFail(c, err)
	}
	docs, next := apiNext(docs, p.Limit, func(d model.KBDocument) int64 { return d.ID })
	for i := range docs {
		docs[i].Error = apiKBDocError(docs[i].Error)
	}
	return c.JSON(http.StatusOK, map[string]any{"documents": docs, "next": next})
}

// apiKBDocError is a document's indexing error in English (some are kept as their message key).
func apiKBDocError(e string) string {
	if strings.HasPrefix(e, "kb.error.") {
		return i18n.T(i18n.EN, e, "mb", strconv.Itoa(kb.MaxFileBytes>>20))
	}
	return e
}

// apiKBDeleteDocument removes a document of the knowledge base and its chunks.
func (s *Server) apiKBDeleteDocument(c echo.Context) error {
	id, err := apiKBID(c, "id")
	if err != nil {
		return apiKBFail(c, err)
	}
	docID, err := apiKBID(c, "doc")
	if err != nil {
		return apiKBFail(c, err)
	}
	ctx, a := c.Request().Context(), apiActor(c)
	doc, err := s.kb.Document(ctx, a.OrgID, docID)
	if err == nil && doc.KnowledgeBaseID != id {
		err = model.ErrNotFound
	}
	if err == nil {
		_, err = s.kb.DeleteDocument(ctx, a, docID)
	}
	if err != nil {
		return apiKBFail(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}

// apiKBFail answers a knowledge-base error in the API's shape, or returns it when unexpected.
func apiKBFail(c echo.Context, err error) error {
	var v *model.ValidationError
	switch {
	case errors.Is(err, model.ErrNotFound):
		return apiFail(c, http.StatusNotFound, "not_found", "no such knowledge base or document")
	case errors.As(err, &v):
		return apiFail(c, http.StatusUnprocessableEntity, "invalid", apiInvalid(v))
	case errors.Is(err, kb.ErrTooLarge):
		return apiFail(c, http.StatusRequestEntityTooLarge, "too_large", "the file is larger than 5 MB")
	case kb.ErrorKey(err) != "":
		return apiFail(c, http.StatusUnprocessableEntity, "invalid", strings.TrimPrefix(err.Error(), "kb: "))
	}
	return err
}

func apiKBID(c echo.Context, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, model.ErrNotFound
	}
	return id, nil
}

// apiKBCreate is POST /api/v1/knowledge-bases {"name":…,"description":…}.
func (s *Server) apiKBCreate(c echo.Context) error {
	var in struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	}
	if !apiDecode(c, &in, `{"name":"Cardápio","description":"Pratos e preços"}`) {
		return nil
	}
	b, err := s.kb.CreateBase(c.Request().Context(), apiActor(c), in.Name, in.Description)
	if err != nil {
		return apiKBFail(c, err)
	}
	return c.JSON(http.StatusCreated, map[string]any{"knowledge_base": b})
}

// apiKBAddDocument is POST /api/v1/knowledge-bases/{id}/documents: {"title":…,"text":…},
// {"title":…,"url":…}, or a multipart form with a file (and a title).
func (s *Server) apiKBAddDocument(c echo.Context) error {
	id, err := apiKBID(c, "id")
	if err != nil {
		return apiKBFail(c, err)
	}
	r := c.Request() // its body is bounded by kbUploadLimit
	ctx, a := r.Context(), apiActor(c)
	var doc model.KBDocument
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		fh, ferr := c.FormFile("file")
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(ferr, &tooBig):
			return apiKBFail(c, kb.ErrTooLarge)
		case ferr != nil:
			return apiFail(c, http.StatusBadRequest, "bad_request", "send the file in a multipart field named file")
		case fh.Size > kb.MaxFileBytes:
			return apiKBFail(c, kb.ErrTooLarge)
		}
		f, ferr := fh.Open()
		if ferr != nil {
			return ferr
		}
		defer f.Close()
		data, ferr := io.ReadAll(io.LimitReader(f, kb.MaxFileBytes+1))
		if ferr != nil {
			return ferr
		}
		doc, err = s.kb.AddFile(ctx, a, id, c.FormValue("title"), fh.Filename, data)
	} else {
		var in struct {
			Title string `json:"title"`
			Text  string `json:"text"`
			URL   string `json:"url"`
		}
		body, rerr := io.ReadAll(r.Body)
		var tooBig *http.MaxBytesError
		if errors.As(rerr, &tooBig) {
			return apiKBFail(c, kb.ErrTooLarge)
		}
		if rerr != nil || json.Unmarshal(body, &in) != nil || (in.Text == "") == (in.URL == "") {
			return apiFail(c, http.StatusBadRequest, "bad_request", `send {"title": "…", "text": "…"} or {"url": "https://…"}, or a multipart file`)
		}
		if in.URL != "" {
			doc, err = s.kb.AddURL(ctx, a, id, in.Title, in.URL)
		} else {
			doc, err = s.kb.AddText(ctx, a, id, in.Title, in.Text)
		}
	}
	if err != nil {
		return apiKBFail(c, err)
	}
	return c.JSON(http.StatusAccepted, map[string]any{"document": doc})
}

// apiKBDocument is GET /api/v1/knowledge-bases/{id}/documents/{doc}: its indexing status.
func (s *Server) apiKBDocument(c echo.Context) error {
	id, err := apiKBID(c, "id")
	if err != nil {
		return apiKBFail(c, err)
	}
	docID, err := apiKBID(c, "doc")
	if err != nil {
		return apiKBFail(c, err)
	}
	org := apiActor(c).OrgID
	doc, err := s.kb.Document(c.Request().Context(), org, docID)
	if err == nil && doc.KnowledgeBaseID != id {
		err = model.ErrNotFound
	}
	if err != nil {
		return apiKBFail(c, err)
	}
	doc.Error = apiKBDocError(doc.Error)
	return c.JSON(http.StatusOK, map[string]any{"document": doc})
}

// apiKBSearch is GET /api/v1/knowledge-bases/{id}/search?q=…&k=5: the chunks that best
// answer q, best first.
func (s *Server) apiKBSearch(c echo.Context) error {
	id, err := apiKBID(c, "id")
	if err != nil {
		return apiKBFail(c, err)
	}
	ctx, org := c.Request().Context(), apiActor(c).OrgID
	if _, err := s.kb.Base(ctx, org, id); err != nil {
		return apiKBFail(c, err)
	}
	k := 5
	if v := c.QueryParam("k"); v != "" {
		if k, err = strconv.Atoi(v); err != nil || k < 1 || k > 50 {
			return apiFail(c, http.StatusUnprocessableEntity, "invalid", "k: a whole number from 1 to 50")
		}
	}
	hits, _, err := s.kb.Search(ctx, org, []int64{id}, c.QueryParam("q"), k)
	if err != nil {
		return err
	}
	type result struct {
		ChunkID        int64    `json:"chunk_id"`
		DocumentID     int64    `json:"document_id"`
		Title          string   `json:"title"`
		Heading        string   `json:"heading"`
		Text           string   `json:"text"`
		Score          float64  `json:"score"`
		LexicalRank    float64  `json:"lexical_rank"`
		VectorDistance *float64 `json:"vector_distance"`
	}
	out := make([]result, 0, len(hits))
	for _, h := range hits {
		out = append(out, result{h.ChunkID, h.DocumentID, h.Title, h.Heading, h.Text, h.Score, h.LexicalRank, h.VectorDistance})
	}
	return c.JSON(http.StatusOK, map[string]any{"results": out})
}
