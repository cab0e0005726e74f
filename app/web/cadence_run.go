package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"

	"masteria/app/campaign/cadence"
	"masteria/app/model"
	cadenceview "masteria/views/cadences"
)

// cadenceRunRoutes mounts the running cadences' pages under /o/:org: a cadence's "People"
// tab (funnel and enrolments), an enrolment's timeline with pause, resume and remove, the
// contact page's card of cadences, and enrolling from a contact, the contacts list or a
// board card. The builder's pages (the list, the "Steps" tab) are the cadence builder's.
func (s *Server) cadenceRunRoutes(o *echo.Group) {
	o.GET("/contacts/:id/cadences", s.contactCadences)
	m := o.Group("", requireMay(model.RunCampaigns))
	m.GET("/cadences/:id/people", s.cadencePeople)
	m.POST("/cadences/enrol", s.cadenceEnrol)
	m.GET("/enrolments/:id", s.enrolmentPage)
	m.POST("/enrolments/:id/pause", s.enrolmentPause)
	m.POST("/enrolments/:id/resume", s.enrolmentResume)
	m.POST("/enrolments/:id/exit", s.enrolmentExit)
}

// peoplePage is how many enrolments the People tab lists at a time.
const peoplePage = 50

func (s *Server) cadencePeople(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	a := actorOf(c)
	d := cadenceview.PeopleData{Status: c.QueryParam("status")}
	if d.Status != "" && !slices.Contains(cadenceview.EnrolmentStatuses, d.Status) {
		return model.FieldError("status", "cadence.run.error.status")
	}
	var before int64
	if v := c.QueryParam("before"); v != "" {
		if before, err = strconv.ParseInt(v, 10, 64); err != nil || before < 0 {
			return echo.NewHTTPError(http.StatusBadRequest, "before")
		}
	}
	if d.Cadence, d.Funnel, err = s.cadRun.Funnel(ctx, a.OrgID, id); err != nil {
		return err
	}
	if d.Enrolments, err = s.cadRun.Enrolments(ctx, a.OrgID, id, d.Status, before, peoplePage); err != nil {
		return err
	}
	d.More = len(d.Enrolments) == peoplePage
	return render(c, http.StatusOK, cadenceview.People(d), cadenceview.PeopleLive(d))
}

func (s *Server) enrolmentPage(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	en, err := s.cadRun.Enrolment(ctx, actorOf(c).OrgID, id)
	if err != nil {
		return err
	}
	steps, err := s.cadRun.EnrolmentSteps(ctx, en)
	if err != nil {
		return err
	}
	d := cadenceview.TimelineData{Enrolment: en, Steps: steps}
	return render(c, http.StatusOK, cadenceview.Timeline(d), cadenceview.TimelineLive(d))
}

// contactCadences is the contact page's card of cadences (any member reads it; the actions
// are for managers).
func (s *Server) contactCadences(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	if _, err := s.st.Contact(c.Request().Context(), actorOf(c).OrgID, id); err != nil {
		return err
	}
	d, err := s.contactCadencesData(c, id)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, cadenceview.ContactCadences(*d), cadenceview.ContactCadences(*d))
}

// enrolAll enrols the contacts list's bulk selection (ids, or every match of the filter up
// to cadence.MaxEnrol) in the form's cadence.
func (s *Server) enrolAll(c echo.Context, cadenceID int64, ids []int64, all bool, f model.ContactFilter) (model.EnrolResult, error) {
	ctx := c.Request().Context()
	a := actorOf(c)
	if all {
		var err error
		if ids, err = s.st.ContactIDs(ctx, a.OrgID, 0, f, cadence.MaxEnrol); err != nil {
			return model.EnrolResult{}, err
		}
	}
	return s.cadRun.Enrol(ctx, a, cadenceID, ids, model.EnrolManual)
}

// contactCadencesData is a contact's cadences and, for managers, the active cadences to
// enrol it in.
func (s *Server) contactCadencesData(c echo.Context, contactID int64) (*cadenceview.ContactCadencesData, error) {
	ctx := c.Request().Context()
	a := actorOf(c)
	d := &cadenceview.ContactCadencesData{ContactID: contactID}
	var err error
	if d.Enrolments, err = s.cadRun.ContactEnrolments(ctx, a.OrgID, contactID); err != nil {
		return nil, err
	}
	if a.Role.AtLeast(model.RunCampaigns.MinRole()) {
		if d.Active, err = s.cadRun.Active(ctx, a.OrgID); err != nil {
			return nil, err
		}
		// A contact is in a cadence once at a time: the form offers the others.
		d.Active = slices.DeleteFunc(d.Active, func(cd model.Cadence) bool {
			return slices.ContainsFunc(d.Enrolments, func(e model.Enrolment) bool { return e.CadenceID == cd.ID && e.Running() })
		})
	}
	return d, nil
}

// cadenceEnrol enrols the form's contacts (contact_id, one or many) in its cadence, then
// goes back to the contact (one) or the cadence's people (many) with a toast of the counts.
func (s *Server) cadenceEnrol(c echo.Context) error {
	f, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "form")
	}
	cadenceID, err := strconv.ParseInt(f.Get("cadence_id"), 10, 64)
	if err != nil || cadenceID <= 0 {
		return model.FieldError("cadence_id", "cadence.error.not_active")
	}
	var ids []int64
	for _, v := range f["contact_id"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return model.FieldError("contact_id", "cadence.error.no_contacts")
		}
		ids = append(ids, id)
	}
	res, err := s.cadRun.Enrol(c.Request().Context(), actorOf(c), cadenceID, ids, model.EnrolManual)
	if err != nil {
		return err
	}
	if len(ids) > 0 && res.NotFound == len(ids) {
		return model.ErrNotFound
	}
	switch {
	case res.Enrolled > 0:
		toastN(c, "success", "cadence.run.enrolled_toast", res.Enrolled)
	default:
		toast(c, "info", "cadence.run.already_toast")
	}
	if ret := f.Get("return"); ret != "" {
		return redirect(c, safeReturn(c, ret))
	}
	back := "/cadences/" + strconv.FormatInt(cadenceID, 10) + "/people"
	if len(ids) == 1 {
		back = "/contacts/" + strconv.FormatInt(ids[0], 10)
	}
	return redirect(c, orgPath(c, back))
}

func (s *Server) enrolmentPause(c echo.Context) error {
	return s.enrolmentAction(c, "pause")
}

func (s *Server) enrolmentResume(c echo.Context) error {
	return s.enrolmentAction(c, "resume")
}

func (s *Server) enrolmentExit(c echo.Context) error {
	return s.enrolmentAction(c, "exit")
}

// enrolmentAction pauses, resumes or removes an enrolment, then goes back where the
// request came from: the contact page or the timeline.
func (s *Server) enrolmentAction(c echo.Context, action string) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	a := actorOf(c)
	en, err := s.cadRun.Enrolment(ctx, a.OrgID, id)
	if err != nil {
		return err
	}
	key := "cadence.run.exit_toast"
	switch action {
	case "pause":
		err, key = s.cadRun.PauseEnrolment(ctx, a, id), "cadence.run.pause_toast"
	case "resume":
		err, key = s.cadRun.ResumeEnrolment(ctx, a, id), "cadence.run.resume_toast"
	default:
		err = s.cadRun.Exit(ctx, a, id, model.ExitManual)
	}
	if err != nil {
		return err
	}
	toast(c, "success", key, "cadence", en.CadenceName)
	return redirect(c, orgPath(c, "/enrolments/"+strconv.FormatInt(id, 10)))
}

// apiCadenceRunRoutes mounts enrolments in the REST API.
func (s *Server) apiCadenceRunRoutes(api *echo.Group) {
	api.POST("/cadences/:id/enrolments", s.apiCadenceEnrol)
	api.DELETE("/cadences/:id/enrolments/:enrolment", s.apiCadenceRemove)
	api.GET("/enrolments/:id", s.apiEnrolment)
}

// apiEnrolFail answers the engine's refusals in the API's shape.
func apiEnrolFail(c echo.Context, err error, notFound string) error {
	switch {
	case errors.Is(err, model.ErrNotFound):
		return apiFail(c, http.StatusNotFound, "not_found", notFound)
	case errors.Is(err, model.ErrForbidden):
		return apiFail(c, http.StatusForbidden, "forbidden", "this key may not run cadences (managers and above)")
	}
	return apiCampaignFail(c, err, notFound, "")
}

func apiPathID(c echo.Context, name string) (int64, bool) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	return id, err == nil && id > 0
}

// apiCadenceEnrol enrols contacts: {"contact_ids":[1,2]} → the counts and the new
// enrolments' ids. A contact in the cadence already is counted, not enrolled again.
func (s *Server) apiCadenceEnrol(c echo.Context) error {
	id, ok := apiPathID(c, "id")
	if !ok {
		return apiFail(c, http.StatusNotFound, "not_found", noSuchCadence)
	}
	var in struct {
		ContactIDs []int64 `json:"contact_ids"`
	}
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return apiFail(c, http.StatusBadRequest, "bad_json", `the body must be JSON like {"contact_ids":[1,2]}: `+err.Error())
	}
	a := apiActor(c)
	res, err := s.cadRun.Enrol(c.Request().Context(), a, id, in.ContactIDs, model.EnrolAPI)
	if err != nil {
		return apiEnrolFail(c, err, noSuchCadence)
	}
	if res.IDs == nil {
		res.IDs = []int64{}
	}
	return c.JSON(http.StatusOK, map[string]any{"enrolled": res.Enrolled, "already": res.Already, "not_found": res.NotFound,
		"enrolment_ids": res.IDs})
}

// apiCadenceRemove removes an enrolment from its cadence: 204, also when it had ended.
func (s *Server) apiCadenceRemove(c echo.Context) error {
	id, ok := apiPathID(c, "id")
	eid, ok2 := apiPathID(c, "enrolment")
	if !ok || !ok2 {
		return apiFail(c, http.StatusNotFound, "not_found", "no such enrolment")
	}
	a := apiActor(c)
	ctx := c.Request().Context()
	en, err := s.cadRun.Enrolment(ctx, a.OrgID, eid)
	if err == nil && en.CadenceID != id {
		err = model.ErrNotFound
	}
	if err == nil {
		err = s.cadRun.Exit(ctx, a, eid, model.ExitManual)
	}
	if err != nil {
		return apiEnrolFail(c, err, "no such enrolment")
	}
	return c.NoContent(http.StatusNoContent)
}

// apiEnrolment is one enrolment with its timeline.
func (s *Server) apiEnrolment(c echo.Context) error {
	id, ok := apiPathID(c, "id")
	if !ok {
		return apiFail(c, http.StatusNotFound, "not_found", "no such enrolment")
	}
	en, err := s.cadRun.Enrolment(c.Request().Context(), apiActor(c).OrgID, id)
	if err != nil {
		return apiEnrolFail(c, err, "no such enrolment")
	}
	if en.Steps == nil {
		en.Steps = []model.EnrolmentStep{}
	}
	return c.JSON(http.StatusOK, map[string]any{"enrolment": en})
}
