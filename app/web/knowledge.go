package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"masteria/app/ai/kb"
	"masteria/app/model"
	"masteria/views/ai"
)

// isKBUpload is the knowledge-base file upload, which reads its own 5 MB limit and says
// clearly when a file is too big.
func isKBUpload(p string) bool {
	return strings.HasPrefix(p, "/o/") && strings.HasSuffix(p, "/documents/file")
}

// kbUploadMax is what a knowledge-base upload may send: twice the file limit, so that a
// file somewhat over it still reaches the page, which says what the limit is.
const kbUploadMax = 2 * kb.MaxFileBytes

// kbUploadLimit bounds the knowledge-base uploads (the page's form and the API's) before
// anything reads their body (the CSRF check and the text check parse the form): a declared
// length over the limit is refused at once, unread; a body sent without one fails as soon
// as it passes the limit.
func kbUploadLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		api := isAPIKBUpload(r.URL.Path)
		if r.Method != http.MethodPost || r.Body == nil || !api && !isKBUpload(r.URL.Path) {
			return next(c)
		}
		if r.ContentLength > kbUploadMax {
			if api {
				return apiKBFail(c, kb.ErrTooLarge)
			}
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "the file is larger than 5 MB")
		}
		r.Body = http.MaxBytesReader(c.Response(), r.Body, kbUploadMax)
		return next(c)
	}
}

func (s *Server) knowledgeRoutes(o *echo.Group) {
	g := o.Group("/knowledge", requireMay(model.ManageKnowledge))
	g.GET("", s.kbList)
	g.POST("", s.kbCreate)
	g.GET("/:knowledge", s.kbPage)
	g.POST("/:knowledge", s.kbRename)
	g.POST("/:knowledge/delete", s.kbDelete)
	g.GET("/:knowledge/search", s.kbSearch)
	g.POST("/:knowledge/documents/text", s.kbAddText)
	g.POST("/:knowledge/documents/file", s.kbAddFile)
	g.POST("/:knowledge/documents/url", s.kbAddURL)
	g.GET("/:knowledge/documents/:documents", s.kbDocPage)
	g.POST("/:knowledge/documents/:documents", s.kbDocSave)
	g.POST("/:knowledge/documents/:documents/delete", s.kbDocDelete)
	g.POST("/:knowledge/documents/:documents/reindex", s.kbDocReindex)
}

func (s *Server) kbListData(c echo.Context) (ai.ListData, error) {
	ctx := c.Request().Context()
	org := reqOf(c).Org.ID
	bases, err := s.kb.Bases(ctx, org)
	if err != nil {
		return ai.ListData{}, err
	}
	d := ai.ListData{}
	for _, b := range bases {
		docs, err := s.kb.Documents(ctx, org, b.ID)
		if err != nil {
			return d, err
		}
		d.Rows = append(d.Rows, ai.BaseRow{Base: b, Documents: len(docs)})
	}
	return d, nil
}

func (s *Server) kbList(c echo.Context) error {
	d, err := s.kbListData(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, ai.List(d), nil)
}

func (s *Server) kbCreate(c echo.Context) error {
	name := c.FormValue("name")
	b, err := s.kb.CreateBase(c.Request().Context(), actorOf(c), name, c.FormValue("description"))
	var v *model.ValidationError
	if errors.As(err, &v) {
		d, derr := s.kbListData(c)
		if derr != nil {
			return derr
		}
		d.Name, d.Error = name, v.Fields["name"]
		return refuseForm(c, ai.List(d), nil)
	}
	if err != nil {
		return err
	}
	toast(c, "success", "kb.created")
	return redirect(c, orgPath(c, fmt.Sprintf("/knowledge/%d", b.ID)))
}

func (s *Server) kbData(c echo.Context) (ai.BaseData, error) {
	ctx := c.Request().Context()
	org := reqOf(c).Org.ID
	id, err := paramID(c, "knowledge")
	if err != nil {
		return ai.BaseData{}, err
	}
	b, err := s.kb.Base(ctx, org, id)
	if err != nil {
		return ai.BaseData{}, err
	}
	docs, err := s.kb.Documents(ctx, org, id)
	if err != nil {
		return ai.BaseData{}, err
	}
	return ai.BaseData{Base: b, Documents: docs, MaxFileMB: kb.MaxFileBytes >> 20,
		Playground: ai.PlaygroundData{BaseID: b.ID, VectorOn: s.kb.VectorOn(ctx, org)}}, nil
}

func (s *Server) kbPage(c echo.Context) error {
	d, err := s.kbData(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, ai.Base(d), nil)
}

func (s *Server) kbRename(c echo.Context) error {
	id, err := paramID(c, "knowledge")
	if err != nil {
		return err
	}
	name := c.FormValue("name")
	_, err = s.kb.RenameBase(c.Request().Context(), actorOf(c), id, name, c.FormValue("description"))
	var v *model.ValidationError
	if errors.As(err, &v) {
		d, derr := s.kbData(c)
		if derr != nil {
			return derr
		}
		d.Rename, d.RenameError = name, v.Fields["name"]
		return refuseForm(c, ai.Base(d), nil)
	}
	if err != nil {
		return err
	}
	toast(c, "success", "kb.renamed")
	return redirect(c, orgPath(c, fmt.Sprintf("/knowledge/%d", id)))
}

func (s *Server) kbDelete(c echo.Context) error {
	id, err := paramID(c, "knowledge")
	if err != nil {
		return err
	}
	if err := s.kb.DeleteBase(c.Request().Context(), actorOf(c), id); err != nil {
		return err
	}
	toast(c, "success", "kb.deleted")
	return redirect(c, orgPath(c, "/knowledge"))
}

func (s *Server) kbSearch(c echo.Context) error {
	d, err := s.kbData(c)
	if err != nil {
		return err
	}
	p := &d.Playground
	p.Query = c.QueryParam("q")
	if strings.TrimSpace(p.Query) != "" {
		p.Asked = true
		hits, verr, err := s.kb.Search(c.Request().Context(), reqOf(c).Org.ID, []int64{d.Base.ID}, p.Query, 5)
		if err != nil {
			return err
		}
		p.Hits = hits
		if verr != nil {
			p.Warning = verr.Error()
		}
		p.Answer = s.playgroundAnswer(c, d.Base.ID, p.Query)
	}
	return render(c, http.StatusOK, ai.Base(d), ai.Results(*p))
}

// kbAdded answers an add form: back to the page, or the page with the form's error.
func (s *Server) kbAdded(c echo.Context, form string, err error, fill func(*ai.BaseData)) error {
	if err == nil {
		toast(c, "success", "kb.doc_added")
		return redirect(c, orgPath(c, "/knowledge/"+c.Param("knowledge")))
	}
	key, status := "", http.StatusUnprocessableEntity
	var v *model.ValidationError
	switch {
	case errors.As(err, &v):
		key = firstError(v)
	case errors.Is(err, kb.ErrTooLarge):
		key, status = "kb.error.too_large", http.StatusRequestEntityTooLarge
	case kb.ErrorKey(err) != "":
		key = kb.ErrorKey(err)
	default:
		return err
	}
	d, derr := s.kbData(c)
	if derr != nil {
		return derr
	}
	d.Form, d.Error = form, key
	if fill != nil {
		fill(&d)
	}
	return render(c, status, ai.Base(d), nil)
}

func (s *Server) kbAddText(c echo.Context) error {
	id, err := paramID(c, "knowledge")
	if err != nil {
		return err
	}
	title, text := c.FormValue("title"), c.FormValue("text")
	_, err = s.kb.AddText(c.Request().Context(), actorOf(c), id, title, text)
	return s.kbAdded(c, "text", err, func(d *ai.BaseData) { d.Title, d.Text = title, text })
}

func (s *Server) kbAddFile(c echo.Context) error {
	id, err := paramID(c, "knowledge")
	if err != nil {
		return err
	}
	r := c.Request() // its body is bounded by kbUploadLimit
	fh, err := c.FormFile("file")
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return s.kbAdded(c, "file", kb.ErrTooLarge, nil)
	case err != nil:
		v := model.NewValidationError()
		v.Add("file", "kb.error.no_file")
		return s.kbAdded(c, "file", v, nil)
	case fh.Size > kb.MaxFileBytes:
		return s.kbAdded(c, "file", kb.ErrTooLarge, nil)
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, kb.MaxFileBytes+1))
	if err != nil {
		return err
	}
	_, err = s.kb.AddFile(r.Context(), actorOf(c), id, c.FormValue("title"), fh.Filename, data)
	return s.kbAdded(c, "file", err, nil)
}

func (s *Server) kbAddURL(c echo.Context) error {
	id, err := paramID(c, "knowledge")
	if err != nil {
		return err
	}
	u := c.FormValue("url")
	_, err = s.kb.AddURL(c.Request().Context(), actorOf(c), id, c.FormValue("title"), u)
	return s.kbAdded(c, "url", err, func(d *ai.BaseData) { d.URL = u })
}

func (s *Server) kbDoc(c echo.Context) (ai.DocumentData, error) {
	ctx := c.Request().Context()
	org := reqOf(c).Org.ID
	kbID, err := paramID(c, "knowledge")
	if err != nil {
		return ai.DocumentData{}, err
	}
	docID, err := paramID(c, "documents")
	if err != nil {
		return ai.DocumentData{}, err
	}
	b, err := s.kb.Base(ctx, org, kbID)
	if err != nil {
		return ai.DocumentData{}, err
	}
	doc, err := s.kb.Document(ctx, org, docID)
	if err != nil {
		return ai.DocumentData{}, err
	}
	if doc.KnowledgeBaseID != b.ID {
		return ai.DocumentData{}, model.ErrNotFound
	}
	return ai.DocumentData{Base: b, Document: doc}, nil
}

func (s *Server) kbDocPage(c echo.Context) error {
	d, err := s.kbDoc(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, ai.Document(d), nil)
}

func (s *Server) kbDocSave(c echo.Context) error {
	d, err := s.kbDoc(c)
	if err != nil {
		return err
	}
	title, text := c.FormValue("title"), c.FormValue("text")
	err = s.kb.UpdateDocument(c.Request().Context(), actorOf(c), d.Document.ID, title, text)
	var v *model.ValidationError
	if errors.As(err, &v) {
		d.Document.Title, d.Document.Content, d.Error = title, text, firstError(v)
		return refuseForm(c, ai.Document(d), nil)
	}
	if err != nil {
		return err
	}
	toast(c, "success", "kb.doc_saved")
	return redirect(c, orgPath(c, fmt.Sprintf("/knowledge/%d", d.Base.ID)))
}

func (s *Server) kbDocDelete(c echo.Context) error {
	d, err := s.kbDoc(c)
	if err != nil {
		return err
	}
	if _, err := s.kb.DeleteDocument(c.Request().Context(), actorOf(c), d.Document.ID); err != nil {
		return err
	}
	toast(c, "success", "kb.doc_removed")
	return redirect(c, orgPath(c, fmt.Sprintf("/knowledge/%d", d.Base.ID)))
}

func (s *Server) kbDocReindex(c echo.Context) error {
	d, err := s.kbDoc(c)
	if err != nil {
		return err
	}
	if err := s.kb.Reindex(c.Request().Context(), actorOf(c), d.Document.ID); err != nil {
		return err
	}
	toast(c, "success", "kb.doc_reindexing")
	return redirect(c, orgPath(c, fmt.Sprintf("/knowledge/%d", d.Base.ID)))
}
