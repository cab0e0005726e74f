package web

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"masteria/app/crm"
	"masteria/app/crm/csvimport"
	"masteria/app/csvout"
	"masteria/app/i18n"
	"masteria/app/model"
	"masteria/app/phone"
	"masteria/views/contacts"
)

// contactRoutes mounts the contact pages under /o/:org.
func (s *Server) contactRoutes(o *echo.Group) {
	o.GET("/contacts", s.contactList)
	o.GET("/contacts/new", s.contactNew)
	o.POST("/contacts", s.contactCreate)
	o.POST("/contacts/bulk", s.contactBulk)
	o.GET("/contacts/:id", s.contactShow)
	o.GET("/contacts/:id/edit", s.contactEdit)
	o.POST("/contacts/:id", s.contactUpdate)

	m := o.Group("", requireMay(model.ManageContacts))
	m.POST("/contacts/:id/delete", s.contactDelete)
	s.mergeRoutes(m)
	m.GET("/contacts/export.csv", s.contactExport)
	m.GET("/contacts/import", s.importPage)
	m.POST("/contacts/import", s.importUpload)
	m.GET("/contacts/imports/:id", s.importShow)
	m.POST("/contacts/imports/:id", s.importStart)
	m.GET("/contacts/imports/:id/rejects.csv", s.importRejectsCSV)
	m.GET("/contacts/manage", s.managePage)
	m.POST("/contacts/tags", s.tagCreate)
	m.POST("/contacts/tags/:id/delete", s.tagDelete)
	m.POST("/contacts/fields", s.fieldCreate)
	m.POST("/contacts/fields/:id/delete", s.fieldDelete)
	m.POST("/contacts/segments", s.segmentSave)
	m.POST("/contacts/segments/:id/delete", s.segmentDelete)
}

// phoneDisplay writes a stored phone the way people of the org's country read it.
func (s *Server) phoneDisplay(c echo.Context, p *string) string {
	if p == nil {
		return ""
	}
	return phone.Format(*p, reqOf(c).Org.DefaultCountry)
}

// listFilter reads the list's filter from the URL, or from the open segment.
func (s *Server) listFilter(c echo.Context) (model.ContactFilter, int64, map[string]string, error) {
	ctx := c.Request().Context()
	if sid, _ := strconv.ParseInt(c.QueryParam("segment"), 10, 64); sid > 0 {
		_, f, err := s.crm.Segment(ctx, reqOf(c).Org.ID, sid)
		return f, sid, nil, err
	}
	f, err := model.ParseContactFilter(c.QueryParams())
	var v *model.ValidationError
	if errors.As(err, &v) {
		return f, 0, v.Fields, nil // the page says which filters were ignored
	}
	return f, 0, nil, err
}

func (s *Server) contactList(c echo.Context) error {
	d, err := s.listData(c)
	if err != nil {
		return err
	}
	if isHTMX(c) && c.Request().Header.Get("X-Contacts-Empty") == "1" && d.HasContacts {
		// The page was drawn empty, without its filter bar: the first contact reloads it.
		c.Response().Header().Set("HX-Refresh", "true")
		return c.NoContent(http.StatusOK)
	}
	return render(c, http.StatusOK, contacts.List(d), contacts.ListFragment(d))
}

func (s *Server) listData(c echo.Context) (contacts.ListData, error) {
	ctx := c.Request().Context()
	a := actorOf(c)
	var d contacts.ListData
	f, sid, ferrs, err := s.listFilter(c)
	if err != nil {
		return d, err
	}
	d.Filter, d.SegmentID, d.FilterErrors = f, sid, ferrs
	d.Sort = model.ParseContactSort(c.QueryParam("sort"))
	d.After = c.QueryParam("after")
	page, err := s.crm.List(ctx, a, f, d.Sort, d.After)
	var v *model.ValidationError
	if errors.As(err, &v) { // a forged or stale cursor: start from the first page
		d.After = ""
		page, err = s.crm.List(ctx, a, f, d.Sort, "")
	}
	if err != nil {
		return d, err
	}
	d.Next = page.Next
	for _, ct := range page.Contacts {
		d.Rows = append(d.Rows, contacts.Row{Contact: ct, PhoneDisplay: s.phoneDisplay(c, ct.Phone)})
	}
	if d.Total, err = s.crm.Count(ctx, a, f); err != nil {
		return d, err
	}
	d.HasContacts = d.Total > 0
	if !d.HasContacts && !f.Empty() {
		n, err := s.crm.Count(ctx, a, model.ContactFilter{})
		if err != nil {
			return d, err
		}
		d.HasContacts = n > 0
	}
	if d.Tags, err = s.crm.Tags(ctx, a.OrgID); err != nil {
		return d, err
	}
	if d.Fields, err = s.crm.Fields(ctx, a.OrgID); err != nil {
		return d, err
	}
	// A fixed number of queries however many pipelines and segments there are.
	stages, err := s.board.StageOptions(ctx, a.OrgID)
	if err != nil {
		return d, err
	}
	for _, st := range stages {
		d.Stages = append(d.Stages, contacts.StageOption{ID: st.ID, Label: st.PipelineName + " · " + st.Name})
	}
	if d.Members, err = s.acct.Members(ctx, a.OrgID); err != nil {
		return d, err
	}
	if a.Role.AtLeast(model.RunCampaigns.MinRole()) && s.cadRun != nil {
		if d.Cadences, err = s.cadRun.Active(ctx, a.OrgID); err != nil {
			return d, err
		}
	}
	segs, err := s.crm.Segments(ctx, a.OrgID)
	if err != nil {
		return d, err
	}
	fs := make([]model.ContactFilter, len(segs))
	for i, sg := range segs {
		if fs[i], err = crm.SegmentFilter(sg); err != nil { // the list already holds each filter: no second read
			return d, err
		}
	}
	counts, err := s.crm.CountEach(ctx, a, fs)
	if err != nil {
		return d, err
	}
	for i, sg := range segs {
		d.Segments = append(d.Segments, contacts.SegmentItem{Segment: sg, Count: counts[i]})
	}
	return d, nil
}

func (s *Server) contactShow(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	d, err := s.contactPage(c, id)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, contacts.Show(d), nil)
}

// contactPage is what the contact page shows: the contact, its home (timeline,
// conversations, leads) and the org's tags, fields and the contact's identities.
func (s *Server) contactPage(c echo.Context, id int64) (contacts.ShowData, error) {
	ctx := c.Request().Context()
	orgID := reqOf(c).Org.ID
	ct, err := s.crm.Contact(ctx, orgID, id)
	if err != nil {
		return contacts.ShowData{}, err
	}
	d := contacts.ShowData{Contact: ct, PhoneDisplay: s.phoneDisplay(c, ct.Phone)}
	if err := s.contactHome(c, &d); err != nil {
		return d, err
	}
	if d.Tags, err = s.crm.Tags(ctx, orgID); err != nil {
		return d, err
	}
	if d.Fields, err = s.crm.Fields(ctx, orgID); err != nil {
		return d, err
	}
	if d.Identities, err = s.crm.Identities(ctx, orgID, id); err != nil {
		return d, err
	}
	d.Cadences, err = s.contactCadencesData(c, id)
	return d, err
}

// formData fills the lists a contact form offers.
func (s *Server) formData(c echo.Context, d contacts.FormData) (contacts.FormData, error) {
	ctx := c.Request().Context()
	orgID := reqOf(c).Org.ID
	var err error
	if d.Members, err = s.acct.Members(ctx, orgID); err != nil {
		return d, err
	}
	if d.Tags, err = s.crm.Tags(ctx, orgID); err != nil {
		return d, err
	}
	d.Fields, err = s.crm.Fields(ctx, orgID)
	return d, err
}

func (s *Server) contactNew(c echo.Context) error {
	d, err := s.formData(c, contacts.FormData{Values: contacts.FormValues{Name: c.QueryParam("name"), Phone: c.QueryParam("phone")}})
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, contacts.Form(d), nil)
}

func (s *Server) contactEdit(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	ct, err := s.crm.Contact(c.Request().Context(), reqOf(c).Org.ID, id)
	if err != nil {
		return err
	}
	d, err := s.formData(c, contacts.FormData{ID: id, Values: contacts.FormValuesOf(ct, s.phoneDisplay(c, ct.Phone))})
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, contacts.Form(d), nil)
}

// contactForm reads the contact form: what was typed (to show again) and the input.
func contactForm(c echo.Context) (contacts.FormValues, crm.ContactInput, error) {
	form, err := c.FormParams()
	if err != nil {
		return contacts.FormValues{}, crm.ContactInput{}, echo.NewHTTPError(http.StatusBadRequest, "unreadable form")
	}
	v := contacts.FormValues{Name: form.Get("name"), Phone: form.Get("phone"), Email: form.Get("email"), Attrs: map[string]string{}}
	v.OwnerID, _ = strconv.ParseInt(form.Get("owner"), 10, 64)
	for _, t := range form["tags"] {
		if id, err := strconv.ParseInt(t, 10, 64); err == nil {
			v.TagIDs = append(v.TagIDs, id)
		}
	}
	v.OptedOut = form["opted_out"]
	for k, vals := range form {
		if key, ok := strings.CutPrefix(k, "attr."); ok && len(vals) > 0 {
			v.Attrs[key] = vals[0]
		}
	}
	in := crm.ContactInput{Name: v.Name, Phone: v.Phone, Email: v.Email, OwnerID: v.OwnerID, TagIDs: v.TagIDs, OptedOut: v.OptedOut, Attributes: v.Attrs}
	return v, in, nil
}

func (s *Server) contactCreate(c echo.Context) error {
	vals, in, err := contactForm(c)
	if err != nil {
		return err
	}
	ct, err := s.crm.Create(c.Request().Context(), actorOf(c), in)
	if handled, err := s.formError(c, err, contacts.FormData{Values: vals}); handled || err != nil {
		return err
	}
	toast(c, "success", "contacts.toast.created")
	return redirect(c, orgPath(c, fmt.Sprintf("/contacts/%d", ct.ID)))
}

func (s *Server) contactUpdate(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	vals, in, err := contactForm(c)
	if err != nil {
		return err
	}
	_, err = s.crm.Update(c.Request().Context(), actorOf(c), id, in)
	if handled, err := s.formError(c, err, contacts.FormData{ID: id, Values: vals}); handled || err != nil {
		return err
	}
	toast(c, "success", "contacts.toast.updated")
	return redirect(c, orgPath(c, fmt.Sprintf("/contacts/%d", id)))
}

// formError renders the contact form again with 422 when err is a field error, and says
// whether it did; any other error is handed back for the error handler.
func (s *Server) formError(c echo.Context, err error, d contacts.FormData) (bool, error) {
	var v *model.ValidationError
	if err == nil || !errors.As(err, &v) {
		return false, err
	}
	d.Errors = v.Fields
	d, err = s.formData(c, d)
	if err != nil {
		return true, err
	}
	return true, refuseForm(c, contacts.Form(d), nil)
}

func (s *Server) contactDelete(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	if err := s.crm.Delete(c.Request().Context(), actorOf(c), id); err != nil {
		return err
	}
	toast(c, "success", "contacts.toast.deleted")
	return redirect(c, orgPath(c, "/contacts"))
}

func (s *Server) contactBulk(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "unreadable form")
	}
	var ids []int64
	for _, v := range form["ids"] {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil && id > 0 {
			ids = append(ids, id)
		}
	}
	f, _ := model.ParseContactFilter(form)
	all := form.Get("all") == "1"
	if sid, _ := strconv.ParseInt(form.Get("segment"), 10, 64); sid > 0 && all {
		if _, f, err = s.crm.Segment(c.Request().Context(), reqOf(c).Org.ID, sid); err != nil {
			return err
		}
	}
	action := form.Get("action")
	var arg int64
	switch action {
	case crm.BulkTag, crm.BulkUntag: // the filter's own tag/owner fields ride along, hence the _id names
		arg, _ = strconv.ParseInt(form.Get("tag_id"), 10, 64)
	case crm.BulkAssign:
		arg, _ = strconv.ParseInt(form.Get("owner_id"), 10, 64)
	}
	var n int
	if action == "enrol" { // into a cadence: the cadences' engine, managers and above
		cid, _ := strconv.ParseInt(form.Get("cadence_id"), 10, 64)
		var res model.EnrolResult
		if res, err = s.enrolAll(c, cid, ids, all, f); err == nil {
			n = res.Enrolled
		}
	} else {
		n, err = s.crm.Bulk(c.Request().Context(), actorOf(c), action, ids, all, f, arg)
	}
	var v *model.ValidationError
	switch {
	case errors.As(err, &v):
		toast(c, "error", firstError(v))
	case err != nil:
		return err
	default:
		toastN(c, "success", "contacts.toast.bulk_done", n)
	}
	back := orgPath(c, "/contacts")
	if q := form.Get("back"); strings.HasPrefix(q, "?") {
		back += q
	}
	return redirect(c, back)
}

func (s *Server) contactExport(c echo.Context) error {
	f, _, _, err := s.listFilter(c)
	if err != nil {
		return err
	}
	name := fmt.Sprintf("contatos-%s.csv", time.Now().Format("2006-01-02"))
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	c.Response().WriteHeader(http.StatusOK)
	var w io.Writer = c.Response()
	if s.exportWrap != nil {
		w = s.exportWrap(w)
	}
	err = s.crm.Export(c.Request().Context(), actorOf(c), f, w)
	if err == nil || c.Request().Context().Err() != nil {
		return nil // done, or the browser left
	}
	// The status and some rows are already sent: say in the file that it is incomplete,
	// then cut the connection so the browser marks the download failed rather than
	// keeping a file that looks whole.
	slog.Error("contact export failed", "org", reqOf(c).Org.ID, "err", err)
	_, _ = io.WriteString(c.Response(), "\n"+i18n.T(reqOf(c).Locale, "contacts.export.failed")+"\n")
	c.Response().Flush()
	panic(http.ErrAbortHandler)
}

// --- Import ---

func (s *Server) importPage(c echo.Context) error {
	ims, err := s.crm.Imports(c.Request().Context(), reqOf(c).Org.ID)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, contacts.ImportUpload(contacts.UploadData{Imports: ims, MaxMB: crm.MaxImportSize >> 20}), nil)
}

func (s *Server) importUploadError(c echo.Context, key string) error {
	ims, err := s.crm.Imports(c.Request().Context(), reqOf(c).Org.ID)
	if err != nil {
		return err
	}
	status := http.StatusUnprocessableEntity
	if key == "contacts.import.error.too_large" {
		status = http.StatusRequestEntityTooLarge
	}
	return render(c, status, contacts.ImportUpload(contacts.UploadData{Error: key, Imports: ims, MaxMB: crm.MaxImportSize >> 20}), nil)
}

func (s *Server) importUpload(c echo.Context) error {
	r := c.Request()
	// Read at most the limit and a byte: one more means too large, said clearly, nothing kept.
	r.Body = http.MaxBytesReader(c.Response(), r.Body, crm.MaxImportSize+1<<20)
	fh, err := c.FormFile("file")
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return s.importUploadError(c, "contacts.import.error.too_large")
	case err != nil:
		return s.importUploadError(c, "contacts.import.error.no_file")
	}
	if fh.Size > crm.MaxImportSize {
		return s.importUploadError(c, "contacts.import.error.too_large")
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, crm.MaxImportSize+1))
	if err != nil {
		return err
	}
	id, err := s.crm.Upload(r.Context(), actorOf(c), fh.Filename, data)
	var v *model.ValidationError
	if errors.As(err, &v) {
		return s.importUploadError(c, v.Fields["file"])
	}
	if err != nil {
		return err
	}
	return redirect(c, orgPath(c, fmt.Sprintf("/contacts/imports/%d", id)))
}

func (s *Server) importShow(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	return s.renderImport(c, id, "", "", http.StatusOK)
}

// renderImport shows the mapping form while the import is pending, its progress or report after.
func (s *Server) renderImport(c echo.Context, id int64, errKey, onExisting string, status int) error {
	ctx := c.Request().Context()
	orgID := reqOf(c).Org.ID
	p, err := s.crm.Preview(ctx, orgID, id)
	if err != nil {
		return err
	}
	fields, err := s.crm.Fields(ctx, orgID)
	if err != nil {
		return err
	}
	if p.Import.Status != "pending" {
		d := contacts.ProgressData{Import: p.Import, Fields: fields}
		if p.Import.Status == "done" || p.Import.Status == "failed" {
			rs, err := s.crm.Rejects(ctx, orgID, id)
			if err != nil {
				return err
			}
			if len(rs) > 100 {
				rs = rs[:100]
			}
			d.Rejects = rs
		}
		return render(c, status, contacts.ImportProgress(d), nil)
	}
	d := contacts.MappingData{Import: p.Import, Delimiter: p.Delimiter, Encoding: p.Encoding, Fields: fields, OnExisting: onExisting, Error: errKey}
	for i, h := range p.Header {
		col := contacts.MappingColumn{Header: h}
		if i < len(p.Mapping) {
			col.Target = string(p.Mapping[i])
		}
		for _, row := range p.Sample {
			if i < len(row) && len(col.Samples) < 3 {
				col.Samples = append(col.Samples, row[i])
			}
		}
		d.Columns = append(d.Columns, col)
	}
	return render(c, status, contacts.ImportMapping(d), nil)
}

func (s *Server) importStart(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "unreadable form")
	}
	var m csvimport.Mapping
	for _, t := range form["col"] {
		if t == contacts.TargetIgnore {
			t = ""
		}
		m = append(m, csvimport.Target(t))
	}
	onExisting := form.Get("on_existing")
	err = s.crm.StartImport(c.Request().Context(), actorOf(c), id, m, onExisting)
	var v *model.ValidationError
	if errors.As(err, &v) {
		return s.renderImport(c, id, firstError(v), onExisting, http.StatusUnprocessableEntity)
	}
	if err != nil {
		return err
	}
	return redirect(c, orgPath(c, fmt.Sprintf("/contacts/imports/%d", id)))
}

func (s *Server) importRejectsCSV(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	orgID := reqOf(c).Org.ID
	im, err := s.crm.Import(ctx, orgID, id)
	if err != nil {
		return err
	}
	rs, err := s.crm.Rejects(ctx, orgID, id)
	if err != nil {
		return err
	}
	fields, err := s.crm.Fields(ctx, orgID)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, `attachment; filename="`+url.PathEscape(strings.TrimSuffix(im.FileName, ".csv"))+`-recusadas.csv"`)
	c.Response().WriteHeader(http.StatusOK)
	// The rows as they were, with the line and the reason in the reader's language, so the
	// file can be fixed in a spreadsheet and imported again.
	// With a BOM and the upload's own delimiter, it opens in the spreadsheet the upload came
	// from (a Brazilian Excel splits on ";"); cells that look like formulas are defused.
	loc := reqOf(c).Locale
	delim, _ := utf8.DecodeRuneInString(im.Delimiter)
	w, err := csvout.NewWriter(c.Response(), delim)
	if err != nil {
		return nil // the browser left
	}
	_ = w.Write([]string{i18n.T(loc, "contacts.import.line"), i18n.T(loc, "contacts.import.reason"), i18n.T(loc, "contacts.import.row")})
	for _, r := range rs {
		key, args := model.RejectKey(r.Reason, fields)
		_ = w.Write(csvout.SafeRow([]string{strconv.Itoa(r.Line), i18n.T(loc, key, args...), r.Raw}))
	}
	w.Flush()
	return w.Error()
}

// --- Tags, fields, segments ---

func (s *Server) manageData(c echo.Context) (contacts.ManageData, error) {
	ctx := c.Request().Context()
	orgID := reqOf(c).Org.ID
	var d contacts.ManageData
	var err error
	if d.Tags, err = s.crm.Tags(ctx, orgID); err != nil {
		return d, err
	}
	d.Fields, err = s.crm.Fields(ctx, orgID)
	return d, err
}

func (s *Server) managePage(c echo.Context) error {
	d, err := s.manageData(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, contacts.Manage(d), nil)
}

func (s *Server) tagCreate(c echo.Context) error {
	name, color := c.FormValue("name"), c.FormValue("color")
	_, err := s.crm.CreateTag(c.Request().Context(), actorOf(c), name, color)
	var v *model.ValidationError
	if errors.As(err, &v) {
		d, derr := s.manageData(c)
		if derr != nil {
			return derr
		}
		d.Tag = contacts.TagForm{Name: name, Color: color, Errors: v.Fields}
		return refuseForm(c, contacts.Manage(d), nil)
	}
	if err != nil {
		return err
	}
	toast(c, "success", "toast.saved")
	return redirect(c, orgPath(c, "/contacts/manage"))
}

func (s *Server) tagDelete(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	if err := s.crm.DeleteTag(c.Request().Context(), actorOf(c), id); err != nil {
		return err
	}
	toast(c, "success", "toast.saved")
	return redirect(c, orgPath(c, "/contacts/manage"))
}

func (s *Server) fieldCreate(c echo.Context) error {
	label, typ, choices := c.FormValue("label"), c.FormValue("type"), c.FormValue("choices")
	_, err := s.crm.CreateField(c.Request().Context(), actorOf(c), label, typ, strings.Split(choices, "\n"))
	var v *model.ValidationError
	if errors.As(err, &v) {
		d, derr := s.manageData(c)
		if derr != nil {
			return derr
		}
		d.Field = contacts.FieldForm{Label: label, Type: typ, Choices: choices, Errors: v.Fields}
		return refuseForm(c, contacts.Manage(d), nil)
	}
	if err != nil {
		return err
	}
	toast(c, "success", "toast.saved")
	return redirect(c, orgPath(c, "/contacts/manage"))
}

func (s *Server) fieldDelete(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	if err := s.crm.DeleteField(c.Request().Context(), actorOf(c), id); err != nil {
		return err
	}
	toast(c, "success", "toast.saved")
	return redirect(c, orgPath(c, "/contacts/manage"))
}

func (s *Server) segmentSave(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "unreadable form")
	}
	f, _ := model.ParseContactFilter(form)
	id, err := s.crm.SaveSegment(c.Request().Context(), actorOf(c), 0, form.Get("name"), f)
	var v *model.ValidationError
	if errors.As(err, &v) {
		c.Request().URL.RawQuery = f.Values().Encode()
		d, derr := s.listData(c)
		if derr != nil {
			return derr
		}
		d.SegmentName, d.SegmentError = form.Get("name"), v.Fields["name"]
		return refuseForm(c, contacts.List(d), nil)
	}
	if err != nil {
		return err
	}
	toast(c, "success", "contacts.toast.segment_saved")
	return redirect(c, orgPath(c, fmt.Sprintf("/contacts?segment=%d", id)))
}

func (s *Server) segmentDelete(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	if err := s.crm.DeleteSegment(c.Request().Context(), actorOf(c), id); err != nil {
		return err
	}
	toast(c, "success", "toast.saved")
	return redirect(c, orgPath(c, "/contacts"))
}
