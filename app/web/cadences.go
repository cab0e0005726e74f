package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"masteria/app/campaign/cadence"
	"masteria/app/i18n"
	"masteria/app/model"
	"masteria/views/cadences"
)

// cadenceBuildRoutes mounts the cadence list and the builder: every member reads them,
// managers and up build (model.RunCampaigns).
func (s *Server) cadenceBuildRoutes(o *echo.Group) {
	o.GET("/cadences", s.cadenceList)
	o.GET("/cadences/:id", s.cadencePage)
	m := o.Group("", requireMay(model.RunCampaigns))
	m.GET("/cadences/new", s.cadenceNew)
	m.POST("/cadences", s.cadenceCreate)
	m.POST("/cadences/:id", s.cadenceSave)
	m.POST("/cadences/:id/activate", s.cadenceStatus)
	m.POST("/cadences/:id/pause", s.cadenceStatus)
	m.POST("/cadences/:id/archive", s.cadenceStatus)
}

const cadencePage = 50

func (s *Server) cadenceList(c echo.Context) error {
	before, err := queryID(c, "before")
	if err != nil {
		return err
	}
	a := actorOf(c)
	list, err := s.cad.List(c.Request().Context(), a, before, cadencePage+1)
	if err != nil {
		return err
	}
	d := cadences.ListData{MayBuild: a.Role.May(model.RunCampaigns)}
	if len(list) > cadencePage {
		list = list[:cadencePage]
		d.Next = list[len(list)-1].ID
	}
	d.Rows = list
	return render(c, http.StatusOK, cadences.List(d), nil)
}

// cadenceNew is an empty cadence with one WhatsApp step, or (?from=ready) the ready-made
// WhatsApp → SMS if not delivered → wait a day → AI call, on the org's first channels.
func (s *Server) cadenceNew(c echo.Context) error {
	d, err := s.cadenceBuildData(c, model.Cadence{Status: model.CadenceDraft, ExitOnReply: true})
	if err != nil {
		return err
	}
	if c.QueryParam("from") == "ready" {
		var wa, sms int64
		for _, ch := range d.Channels {
			if wa == 0 && (ch.Kind == model.KindWhatsAppCloud || ch.Kind == model.KindWhatsAppQR) {
				wa = ch.ID
			}
			if sms == 0 && ch.Kind == model.KindTwilioSMS {
				sms = ch.ID
			}
		}
		loc := reqOf(c).Locale
		steps := cadence.ReadyMade(wa, sms)
		steps[0].Message.Text = i18n.T(loc, "cadences.ready.whatsapp_text")
		steps[2].Message.Text = i18n.T(loc, "cadences.ready.sms_text")
		d.Cadence.Name = i18n.T(loc, "cadences.ready.name")
		d.Cadence.Steps = formSteps(steps)
	} else {
		d.Cadence.Steps = []model.CadenceStep{{ID: "s1", Kind: model.StepWhatsApp}}
	}
	return render(c, http.StatusOK, cadences.Build(d), nil)
}

func (s *Server) cadencePage(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	cd, err := s.cad.Cadence(c.Request().Context(), actorOf(c), id)
	if err != nil {
		return err
	}
	cd.Steps = formSteps(cd.Steps)
	d, err := s.cadenceBuildData(c, cd)
	if err != nil {
		return err
	}
	d.Saved = c.QueryParam("saved") == "1"
	d.People = s.hasRoute(http.MethodGet, "/o/:org/cadences/:id/people")
	return render(c, http.StatusOK, cadences.Build(d), nil)
}

func (s *Server) cadenceCreate(c echo.Context) error {
	return s.cadenceSubmit(c, model.Cadence{Status: model.CadenceDraft})
}

func (s *Server) cadenceSave(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	cd, err := s.cad.Cadence(c.Request().Context(), actorOf(c), id)
	if err != nil {
		return err
	}
	return s.cadenceSubmit(c, cd)
}

// cadenceSubmit reads the builder's form over cur and does its op: save (create or edit),
// or change the form (add, remove, move a step; refresh after a choice) and show it again.
func (s *Server) cadenceSubmit(c echo.Context, cur model.Cadence) error {
	ctx := c.Request().Context()
	f, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "unreadable form")
	}
	in, bad := cadenceFromForm(f, cur)
	op := f.Get("op")
	if op != "" && op != "save" {
		if in.Steps, err = editSteps(f, in.Steps, op); err != nil {
			return err
		}
		d, err := s.cadenceBuildData(c, in)
		if err != nil {
			return err
		}
		d.Errors = bad
		return render(c, http.StatusOK, cadences.Build(d), cadences.BuildForm(d))
	}
	out := in
	out.Steps = modelSteps(in.Steps)
	v := model.NewValidationError()
	for k, msg := range bad {
		v.Add(k, msg)
	}
	var saved model.Cadence
	if err = v.Err(); err == nil {
		if cur.ID == 0 {
			saved, err = s.cad.Create(ctx, actorOf(c), out)
		} else {
			saved, err = s.cad.Update(ctx, actorOf(c), out)
		}
	}
	if errors.As(err, &v) {
		d, derr := s.cadenceBuildData(c, in)
		if derr != nil {
			return derr
		}
		d.Errors, d.Error = v.Fields, "cadences.error.fix"
		return refuseForm(c, cadences.Build(d), cadences.BuildForm(d))
	}
	if errors.Is(err, cadence.ErrStatus) {
		return echo.NewHTTPError(http.StatusConflict, i18n.T(reqOf(c).Locale, "cadences.error.archived"))
	}
	if err != nil {
		return err
	}
	return redirect(c, orgPath(c, fmt.Sprintf("/cadences/%d?saved=1", saved.ID)))
}

func (s *Server) cadenceStatus(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	ctx, a := c.Request().Context(), actorOf(c)
	action := c.Path()[strings.LastIndexByte(c.Path(), '/')+1:]
	switch action {
	case "activate":
		_, err = s.cad.Activate(ctx, a, id)
	case "pause":
		_, err = s.cad.Pause(ctx, a, id)
	default:
		_, err = s.cad.Archive(ctx, a, id)
	}
	var v *model.ValidationError
	switch {
	case errors.As(err, &v):
		cd, derr := s.cad.Cadence(ctx, a, id)
		if derr != nil {
			return derr
		}
		cd.Steps = formSteps(cd.Steps)
		d, derr := s.cadenceBuildData(c, cd)
		if derr != nil {
			return derr
		}
		d.Errors, d.Error = v.Fields, "cadences.error.not_ready"
		return refuseForm(c, cadences.Build(d), nil)
	case errors.Is(err, cadence.ErrStatus):
		return echo.NewHTTPError(http.StatusConflict, i18n.T(reqOf(c).Locale, "cadences.error.status"))
	case err != nil:
		return err
	}
	switch action {
	case "activate":
		toast(c, "success", "cadences.done.activate")
	case "pause":
		toast(c, "success", "cadences.done.pause")
	default:
		toast(c, "success", "cadences.done.archive")
	}
	return redirect(c, orgPath(c, fmt.Sprintf("/cadences/%d", id)))
}

// cadenceBuildData loads what the builder offers to choose from.
func (s *Server) cadenceBuildData(c echo.Context, cd model.Cadence) (cadences.BuildData, error) {
	ctx := c.Request().Context()
	a := actorOf(c)
	d := cadences.BuildData{Cadence: cd, Errors: map[string]string{}, MayBuild: a.Role.May(model.RunCampaigns),
		Templates: map[int64][]model.Template{}}
	chs, err := s.inbox.Channels(ctx, a.OrgID)
	if err != nil {
		return d, err
	}
	for _, ch := range chs {
		switch ch.Kind {
		case model.KindWhatsAppCloud:
			if d.Templates[ch.ID], err = s.approved(ctx, a.OrgID, ch.ID, ""); err != nil {
				return d, err
			}
			fallthrough
		case model.KindWhatsAppQR, model.KindTwilioSMS:
			d.Channels = append(d.Channels, ch)
		}
	}
	if d.Stages, err = s.board.StageOptions(ctx, a.OrgID); err != nil {
		return d, err
	}
	if d.Tags, err = s.crm.Tags(ctx, a.OrgID); err != nil {
		return d, err
	}
	if d.Segments, err = s.crm.Segments(ctx, a.OrgID); err != nil {
		return d, err
	}
	if d.Fields, err = s.crm.Fields(ctx, a.OrgID); err != nil {
		return d, err
	}
	if d.Members, err = s.st.Members(ctx, a.OrgID); err != nil {
		return d, err
	}
	if d.Numbers, err = s.st.VoiceNumbers(ctx, a.OrgID); err != nil {
		return d, err
	}
	return d, nil
}

// --- the form's steps ---
//
// The form holds each card's "next" as cadences.NextFollowing (the card below), NextEnd or
// a step id, so that moving a card keeps "the one below"; saving resolves them.

// formSteps turns saved steps into the form's: a next that is the card below reads as
// NextFollowing, an end before the last card as NextEnd.
func formSteps(steps []model.CadenceStep) []model.CadenceStep {
	out := slices.Clone(steps)
	for i := range out {
		f := ""
		if i+1 < len(out) {
			f = out[i+1].ID
		}
		raw := func(t string) string {
			switch {
			case t == f:
				return cadences.NextFollowing
			case t == "":
				return cadences.NextEnd
			}
			return t
		}
		out[i].Next = raw(out[i].Next)
		if out[i].Kind == model.StepAwait {
			out[i].Next = ""
			out[i].Otherwise = raw(out[i].Otherwise)
			bs := make([]model.AwaitBranch, len(out[i].Branches))
			for j, b := range out[i].Branches {
				bs[j] = b
				if b.Next == "" {
					bs[j].Next = cadences.NextEnd
				}
			}
			out[i].Branches = bs
		}
	}
	return out
}

// modelSteps resolves the form's steps into what is saved.
func modelSteps(steps []model.CadenceStep) []model.CadenceStep {
	out := slices.Clone(steps)
	for i := range out {
		f := ""
		if i+1 < len(out) {
			f = out[i+1].ID
		}
		resolve := func(t string) string {
			switch t {
			case cadences.NextFollowing:
				return f
			case cadences.NextEnd:
				return ""
			}
			return t
		}
		if out[i].Kind == model.StepAwait {
			out[i].Next = ""
			out[i].Otherwise = resolve(out[i].Otherwise)
			bs := make([]model.AwaitBranch, len(out[i].Branches))
			for j, b := range out[i].Branches {
				bs[j] = b
				if b.Next == cadences.NextEnd {
					bs[j].Next = ""
				}
			}
			out[i].Branches = bs
		} else {
			out[i].Next = resolve(out[i].Next)
		}
	}
	return out
}

// formNumber reads a whole number; anything else (absent counts as def) is -1, which the
// validation refuses.
func formNumber(f url.Values, name string, def int64) int64 {
	raw := strings.TrimSpace(f.Get(name))
	if raw == "" {
		return def
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

func formRef(f url.Values, name string) *int64 {
	n := formNumber(f, name, 0)
	if n == 0 {
		return nil
	}
	return &n
}

// formMinutes reads an amount and its unit as minutes.
func formMinutes(f url.Values, name string) int {
	n := formNumber(f, name, 0)
	if n < 0 || n > model.MaxStepWait {
		return -1
	}
	switch f.Get(name + "_unit") {
	case "hours":
		n *= 60
	case "days":
		n *= 24 * 60
	}
	if n > model.MaxStepWait {
		return -1
	}
	return int(n)
}

// cadenceFromForm reads the builder's form over cur (its id and status stay): the steps in
// the form's shape, and the errors of values that are not even numbers.
func cadenceFromForm(f url.Values, cur model.Cadence) (model.Cadence, map[string]string) {
	bad := map[string]string{}
	c := cur
	c.Name = f.Get("name")
	c.EnrolSegmentID, c.EnrolStageID, c.GoalStageID = formRef(f, "enrol_segment"), formRef(f, "enrol_stage"), formRef(f, "goal_stage")
	for name, p := range map[string]*int64{"enrol_segment_id": c.EnrolSegmentID, "enrol_stage_id": c.EnrolStageID, "goal_stage_id": c.GoalStageID} {
		if p != nil && *p < 0 {
			bad[name] = "cadence.error.ref"
		}
	}
	c.ExitOnReply, c.ExitOnStageChange = f.Get("exit_on_reply") == "1", f.Get("exit_on_stage_change") == "1"
	c.Steps = nil
	for i := 0; i <= model.MaxCadenceSteps; i++ {
		p := "st" + strconv.Itoa(i) + "_"
		if _, ok := f[p+"id"]; !ok {
			break
		}
		s := model.CadenceStep{ID: f.Get(p + "id"), Kind: f.Get(p + "kind"), Next: f.Get(p + "next")}
		switch s.Kind {
		case model.StepWhatsApp, model.StepSMS:
			s.ChannelID = formNumber(f, p+"channel", 0)
			m := &model.Variant{Text: f.Get(p + "text"), TemplateID: formNumber(f, p+"template", 0)}
			if m.TemplateID < 0 {
				m.TemplateID = 0
				bad["steps."+s.ID+".message"] = "cadence.error.template"
			}
			if m.TemplateID != 0 {
				m.Text = ""
				for j := 0; ; j++ {
					vm, ok := varOf(f, p+"var"+strconv.Itoa(j))
					if !ok {
						break
					}
					m.Vars = append(m.Vars, vm)
				}
				for j := 0; ; j++ {
					vm, ok := varOf(f, p+"hvar"+strconv.Itoa(j))
					if !ok {
						break
					}
					m.HeaderVars = append(m.HeaderVars, vm)
				}
			}
			s.Message = m
		case model.StepCall:
			s.NumberID, s.AgentID = formNumber(f, p+"number", 0), strings.TrimSpace(f.Get(p+"agent"))
		case model.StepWait:
			s.WaitMinutes = formMinutes(f, p+"wait")
			if f.Get(p+"window") == "1" {
				w := &model.StepWindow{Start: int(formNumber(f, p+"wstart", 9)), End: int(formNumber(f, p+"wend", 18))}
				for _, d := range f[p+"wday"] {
					if n, err := strconv.Atoi(d); err == nil && n >= 0 && n < 7 {
						w.Days |= 1 << n
					}
				}
				s.Window = w
			}
		case model.StepAwait:
			s.Next = ""
			s.Await, s.WithinMinutes, s.Otherwise = f.Get(p+"await"), formMinutes(f, p+"within"), f.Get(p+"otherwise")
			// Each outcome's target: outcomes going to the same step make one branch, in
			// the order of their first outcome.
			for _, o := range model.AwaitOutcomes[awaitKind(f, s.Await)] {
				t := f.Get(p + "on_" + o)
				if t == "" {
					continue
				}
				k := slices.IndexFunc(s.Branches, func(b model.AwaitBranch) bool { return b.Next == t })
				if k < 0 {
					s.Branches = append(s.Branches, model.AwaitBranch{Next: t})
					k = len(s.Branches) - 1
				}
				s.Branches[k].Outcomes = append(s.Branches[k].Outcomes, o)
			}
		case model.StepStage:
			s.StageID = formNumber(f, p+"stage", 0)
		case model.StepTag, model.StepUntag:
			s.TagID = formNumber(f, p+"tag", 0)
		case model.StepAssign:
			s.UserID = formNumber(f, p+"user", 0)
		case model.StepNotify:
			s.UserID, s.Note = formNumber(f, p+"user", 0), strings.TrimSpace(f.Get(p+"note"))
		}
		c.Steps = append(c.Steps, s)
	}
	return c, bad
}

// awaitKind is the kind of the form's step id (what an await waits on).
func awaitKind(f url.Values, sid string) string {
	for i := 0; i <= model.MaxCadenceSteps; i++ {
		p := "st" + strconv.Itoa(i) + "_"
		if _, ok := f[p+"id"]; !ok {
			break
		}
		if f.Get(p+"id") == sid {
			return f.Get(p + "kind")
		}
	}
	return model.StepWhatsApp
}

// editSteps does a change of the form: "add:i" puts a step of the chosen kind at place i,
// "remove:i" takes card i out (what pointed to it goes to the card below instead), "up:i"
// and "down:i" move card i; "refresh" changes nothing.
func editSteps(f url.Values, steps []model.CadenceStep, op string) ([]model.CadenceStep, error) {
	verb, arg, _ := strings.Cut(op, ":")
	if verb == "refresh" {
		return steps, nil
	}
	i, err := strconv.Atoi(arg)
	if err != nil || i < 0 || i > len(steps) {
		return nil, echo.NewHTTPError(http.StatusBadRequest, "no such step")
	}
	switch verb {
	case "add":
		kind := f.Get("add_kind_" + arg)
		if !slices.Contains(model.StepKinds, kind) {
			return nil, echo.NewHTTPError(http.StatusBadRequest, "no such kind of step")
		}
		if len(steps) >= model.MaxCadenceSteps {
			return steps, nil
		}
		s := model.CadenceStep{ID: newStepID(steps), Kind: kind}
		switch kind {
		case model.StepWait:
			s.WaitMinutes = 24 * 60
		case model.StepAwait:
			s.WithinMinutes = 10
			if ss := previousSend(steps, i); ss != "" {
				s.Await = ss
			}
		}
		return slices.Insert(steps, i, s), nil
	case "remove":
		if i >= len(steps) {
			return nil, echo.NewHTTPError(http.StatusBadRequest, "no such step")
		}
		gone := steps[i].ID
		steps = slices.Delete(steps, i, i+1)
		for j := range steps {
			s := &steps[j]
			if s.Next == gone {
				s.Next = cadences.NextFollowing
			}
			if s.Otherwise == gone {
				s.Otherwise = cadences.NextFollowing
			}
			if s.Await == gone {
				s.Await = ""
			}
			s.Branches = slices.DeleteFunc(s.Branches, func(b model.AwaitBranch) bool { return b.Next == gone })
		}
		return steps, nil
	case "up", "down":
		j := i - 1
		if verb == "down" {
			j = i + 1
		}
		if i >= len(steps) || j < 0 || j >= len(steps) {
			return steps, nil
		}
		steps[i], steps[j] = steps[j], steps[i]
		return steps, nil
	}
	return nil, echo.NewHTTPError(http.StatusBadRequest, "unknown change")
}

// newStepID is an id no step has: s<n> after the highest.
func newStepID(steps []model.CadenceStep) string {
	n := 0
	for _, s := range steps {
		if k, err := strconv.Atoi(strings.TrimPrefix(s.ID, "s")); err == nil && k > n {
			n = k
		}
	}
	return "s" + strconv.Itoa(n+1)
}

// previousSend is the last send or call before place i.
func previousSend(steps []model.CadenceStep, i int) string {
	for j := min(i, len(steps)) - 1; j >= 0; j-- {
		if model.IsSend(steps[j].Kind) {
			return steps[j].ID
		}
	}
	return ""
}

// hasRoute tells whether the router serves a path (a page another part mounts, such as a
// cadence's people, is linked only once it exists).
func (s *Server) hasRoute(method, path string) bool {
	return slices.Contains(s.RoutesOf(method), path)
}
