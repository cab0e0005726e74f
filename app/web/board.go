package web

import (
	"github.com/a-h/templ"

	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"masteria/app/crm/board"
	"masteria/app/i18n"
	"masteria/app/model"
	"masteria/app/phone"
	boardview "masteria/views/board"
	cadenceview "masteria/views/cadences"
)

// boardRoutes mounts the Kanban board pages under /o/:org. Every member works the board;
// managers and above shape its pipelines and stages.
func (s *Server) boardRoutes(o *echo.Group) {
	o.GET("/board", s.boardPage)
	o.POST("/board/start", s.boardStart)
	o.GET("/board/totals", s.boardTotals)
	o.GET("/board/contacts", s.boardContacts)
	o.GET("/board/stages/:id/cards", s.boardStageCards)
	o.GET("/board/leads/new", s.leadNewPage)
	o.POST("/board/leads", s.leadCreate)
	o.GET("/board/leads/:id", s.leadPage)
	o.GET("/board/leads/:id/card", s.leadCard)
	o.GET("/board/leads/:id/menu", s.leadMenu)
	o.POST("/board/leads/:id", s.leadSave)
	o.POST("/board/leads/:id/move", s.leadMove)
	o.POST("/board/leads/:id/delete", s.leadDelete)

	mgr := requireMay(model.ShapePipelines)
	o.GET("/board/pipelines", s.pipelinesPage, mgr)
	o.POST("/board/pipelines", s.pipelineCreate, mgr)
	o.GET("/board/pipelines/:id", s.pipelinePage, mgr)
	o.POST("/board/pipelines/:id", s.pipelineSave, mgr)
	o.POST("/board/pipelines/:id/delete", s.pipelineDelete, mgr)
	o.POST("/board/pipelines/:id/stages", s.stageCreate, mgr)
	o.POST("/board/pipelines/:id/stages/order", s.stagesOrder, mgr)
	o.POST("/board/stages/:id", s.stageSave, mgr)
	o.POST("/board/stages/:id/move", s.stageMove, mgr)
	o.POST("/board/stages/:id/delete", s.stageDelete, mgr)
}

// --- Filters, conversions, helpers ---

// boardFilter reads the board's filters from query values. An owner that is not a number
// is a bad request; amounts that do not read are field errors on the filter form, and the
// board shows without them.
func boardFilter(q url.Values) (model.LeadFilter, boardview.Filter, error) {
	vf := boardview.Filter{Owner: q.Get("owner"), Q: model.CleanSearch(q.Get("q")), Min: strings.TrimSpace(q.Get("min")), Max: strings.TrimSpace(q.Get("max"))}
	var lf model.LeadFilter
	switch vf.Owner {
	case "":
	case "none":
		lf.OwnerID = model.NoOwner
	default:
		uid, err := strconv.ParseInt(vf.Owner, 10, 64)
		if err != nil || uid <= 0 {
			return lf, vf, echo.NewHTTPError(http.StatusBadRequest, "bad owner")
		}
		lf.OwnerID = uid
	}
	if r := []rune(vf.Q); len(r) > 100 {
		vf.Q = string(r[:100])
	}
	lf.Search = vf.Q
	for _, m := range []struct {
		raw   string
		field string
		dst   **int64
	}{{vf.Min, "min", &lf.Min}, {vf.Max, "max", &lf.Max}} {
		if m.raw == "" {
			continue
		}
		v, err := board.ParseMoney(m.raw)
		if err != nil {
			if vf.Errors == nil {
				vf.Errors = map[string]string{}
			}
			vf.Errors[m.field] = "board.error.value"
			continue
		}
		*m.dst = &v
	}
	return lf, vf, nil
}

func viewStage(st model.Stage) boardview.Stage {
	return boardview.Stage{ID: st.ID, Name: st.Name, Color: st.Color, Description: st.Description, Outcome: st.Outcome}
}

func viewStages(ss []model.Stage) []boardview.Stage {
	out := make([]boardview.Stage, len(ss))
	for i, st := range ss {
		out[i] = viewStage(st)
	}
	return out
}

func viewCard(l model.Lead, currency string) boardview.Card {
	c := boardview.Card{ID: l.ID, StageID: l.StageID, Rank: l.Rank, Title: l.Title, ContactName: l.ContactName,
		ValueCents: l.ValueCents, Currency: currency, MovedAt: l.MovedAt}
	if l.OwnerName != nil {
		c.OwnerName = *l.OwnerName
	}
	if l.MovedByName != nil {
		c.MovedBy = *l.MovedByName
	}
	if c.ContactName == "" && l.ContactPhone != nil {
		c.ContactName = *l.ContactPhone
	}
	return c
}

func viewCards(ls []model.Lead, currency string) []boardview.Card {
	out := make([]boardview.Card, len(ls))
	for i, l := range ls {
		out[i] = viewCard(l, currency)
	}
	return out
}

func viewPipeline(p model.Pipeline) boardview.Pipeline {
	return boardview.Pipeline{ID: p.ID, Name: p.Name, Currency: p.Currency, Stages: p.StageCount, Leads: p.LeadCount}
}

// boardURLOf is the board of pipeline p with filter f.
func boardURLOf(c echo.Context, p int64, f boardview.Filter) string {
	v := f.Values()
	v.Set("pipeline", strconv.FormatInt(p, 10))
	return orgPath(c, "/board?"+v.Encode())
}

// returnTo is the form's "return" field when it is a board URL of this org, else the board.
func returnTo(c echo.Context) string { return safeReturn(c, c.FormValue("return")) }

// safeReturn is ret when it is a board URL of this org, else the board.
func safeReturn(c echo.Context, ret string) string {
	base := orgPath(c, "/board")
	if (ret == base || strings.HasPrefix(ret, base+"?")) && !strings.ContainsAny(ret, "\\\r\n") {
		return ret
	}
	return base
}

// hxTrigger adds an event to the HX-Trigger header, next to a toast already there.
func hxTrigger(c echo.Context, name string, detail any) {
	h := c.Response().Header()
	events := map[string]any{}
	if cur := h.Get("HX-Trigger"); cur != "" {
		_ = json.Unmarshal([]byte(cur), &events)
	}
	events[name] = detail
	b, _ := json.Marshal(events)
	h.Set("HX-Trigger", headerJSON(b))
}

// formID reads an optional numeric form field: 0 when empty; anything else but a positive
// number is a bad request.
func formID(c echo.Context, name string) (int64, error) {
	v := c.FormValue(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, echo.NewHTTPError(http.StatusBadRequest, "bad "+name)
	}
	return n, nil
}

// --- The board ---

func (s *Server) boardPage(c echo.Context) error {
	r := reqOf(c)
	ctx := c.Request().Context()
	lf, vf, err := boardFilter(c.QueryParams())
	if err != nil {
		return err
	}
	var pid int64
	if raw := c.QueryParam("pipeline"); raw != "" {
		if pid, err = strconv.ParseInt(raw, 10, 64); err != nil || pid <= 0 {
			return echo.ErrNotFound
		}
	}
	b, err := s.board.Board(ctx, r.Org.ID, pid, lf) // pid 0: the first pipeline
	if err != nil {
		return err
	}
	if len(b.Pipelines) == 0 { // a GET creates nothing: the page offers to start the board
		return render(c, http.StatusOK, boardview.BoardStart(), nil)
	}
	members, err := s.acct.Members(ctx, r.Org.ID)
	if err != nil {
		return err
	}
	d := boardview.Page{Pipeline: viewPipeline(b.Pipeline), Stages: viewStages(b.Stages), Filter: vf, Members: members}
	for _, p := range b.Pipelines {
		d.Pipelines = append(d.Pipelines, viewPipeline(p))
	}
	aiOn, err := s.prog.Settings(ctx, r.Org.ID, b.Pipeline.ID)
	if err != nil {
		return err
	}
	d.AIOn = aiOn.Enabled
	for _, st := range b.Stages {
		t := b.Totals[st.ID]
		d.Columns = append(d.Columns, boardview.Column{Stage: viewStage(st), Cards: viewCards(b.Cards[st.ID], b.Pipeline.Currency),
			Count: t.Count, SumCents: t.SumCents, More: b.More[st.ID]})
	}
	if err := s.markCards(c, d.Columns); err != nil {
		return err
	}
	d.New = boardview.LeadForm{PipelineID: pid, Stages: d.Stages, Members: members, Currency: b.Pipeline.Currency,
		Return: boardURLOf(c, pid, vf)}
	if len(d.Stages) > 0 {
		d.New.StageID = d.Stages[0].ID
	}
	status := http.StatusOK
	if len(vf.Errors) > 0 {
		status = http.StatusUnprocessableEntity
	}
	return render(c, status, boardview.BoardPage(d), nil)
}

// boardStart gives an org without a pipeline the default sales pipeline (once, however
// many members press it) and opens it.
func (s *Server) boardStart(c echo.Context) error {
	p, err := s.board.EnsurePipeline(c.Request().Context(), actorOf(c), reqOf(c).Locale)
	if err != nil {
		return err
	}
	return redirect(c, orgPath(c, "/board?pipeline="+strconv.FormatInt(p.ID, 10)))
}

// startBoard gives a new org its default pipeline, so the board is ready on the first
// visit. A failure only leaves the board's start button to press.
func (s *Server) startBoard(c echo.Context, orgID, userID int64) {
	a := model.Actor{OrgID: orgID, UserID: userID, Role: model.RoleOwner, IP: c.RealIP(), UserAgent: c.Request().UserAgent()}
	if _, err := s.board.EnsurePipeline(c.Request().Context(), a, reqOf(c).Locale); err != nil {
		slog.Warn("web: start the board", "org", orgID, "err", err)
	}
}

// boardTotals answers the count and value of each column of a (filtered) board, for
// board.js to refresh the column headers after a live change.
func (s *Server) boardTotals(c echo.Context) error {
	r := reqOf(c)
	ctx := c.Request().Context()
	pid, err := strconv.ParseInt(c.QueryParam("pipeline"), 10, 64)
	if err != nil || pid <= 0 {
		return echo.ErrNotFound
	}
	lf, _, err := boardFilter(c.QueryParams())
	if err != nil {
		return err
	}
	p, err := s.board.Pipeline(ctx, r.Org.ID, pid)
	if err != nil {
		return err
	}
	stages, err := s.board.Stages(ctx, r.Org.ID, pid)
	if err != nil {
		return err
	}
	ts, err := s.board.Totals(ctx, r.Org.ID, pid, lf)
	if err != nil {
		return err
	}
	type total struct {
		Count      int64  `json:"count"`
		CountLabel string `json:"count_label"`
		Sum        string `json:"sum"`
	}
	out := map[string]total{}
	for _, st := range stages {
		t := ts[st.ID]
		out[strconv.FormatInt(st.ID, 10)] = total{Count: t.Count, CountLabel: i18n.N(r.Locale, "board.leads", int(t.Count)),
			Sum: boardview.Money(c.Request().Context(), t.SumCents, p.Currency)}
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, map[string]any{"stages": out})
}

// boardStageCards is "Show more" of a column: the next cards after a key.
func (s *Server) boardStageCards(c echo.Context) error {
	r := reqOf(c)
	ctx := c.Request().Context()
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	lf, vf, err := boardFilter(c.QueryParams())
	if err != nil {
		return err
	}
	st, err := s.board.Stage(ctx, r.Org.ID, id)
	if err != nil {
		return err
	}
	p, err := s.board.Pipeline(ctx, r.Org.ID, st.PipelineID)
	if err != nil {
		return err
	}
	cards, more, err := s.board.StageCards(ctx, r.Org.ID, id, lf, c.QueryParam("after"))
	if errors.Is(err, model.ErrInvalid) {
		return echo.NewHTTPError(http.StatusBadRequest, "bad key")
	}
	if err != nil {
		return err
	}
	col := boardview.Column{Stage: viewStage(st), Cards: viewCards(cards, p.Currency), More: more}
	if err := s.markCards(c, []boardview.Column{col}); err != nil {
		return err
	}
	vf.Errors = nil
	return render(c, http.StatusOK, boardview.Cards(col, vf), nil)
}

// boardContacts is the contact search of the new-lead form.
func (s *Server) boardContacts(c echo.Context) error {
	cs, err := s.board.SearchContacts(c.Request().Context(), reqOf(c).Org.ID, c.QueryParam("contact_q"))
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, boardview.ContactResults(contactOptions(c, cs), "", strings.TrimSpace(c.QueryParam("contact_q")) != ""), nil)
}

func contactOptions(c echo.Context, cs []model.BoardContact) []boardview.ContactOption {
	out := make([]boardview.ContactOption, len(cs))
	for i, ct := range cs {
		out[i] = boardview.ContactOption{ID: ct.ID, Name: ct.Name}
		if ct.Phone != nil {
			out[i].Phone = phone.Format(*ct.Phone, reqOf(c).Org.DefaultCountry)
		}
	}
	return out
}

// --- Leads ---

// leadForm is the empty lead form of a pipeline.
func (s *Server) leadForm(c echo.Context, pipelineID int64) (boardview.LeadForm, error) {
	r := reqOf(c)
	ctx := c.Request().Context()
	p, err := s.board.Pipeline(ctx, r.Org.ID, pipelineID)
	if err != nil {
		return boardview.LeadForm{}, err
	}
	stages, err := s.board.Stages(ctx, r.Org.ID, pipelineID)
	if err != nil {
		return boardview.LeadForm{}, err
	}
	members, err := s.acct.Members(ctx, r.Org.ID)
	if err != nil {
		return boardview.LeadForm{}, err
	}
	f := boardview.LeadForm{PipelineID: p.ID, Stages: viewStages(stages), Members: members, Currency: p.Currency, Return: returnTo(c)}
	if len(stages) > 0 {
		f.StageID = stages[0].ID
	}
	return f, nil
}

func leadInputOf(c echo.Context) (board.LeadInput, error) {
	stage, err := formID(c, "stage_id")
	if err != nil {
		return board.LeadInput{}, err
	}
	return board.LeadInput{StageID: stage, Title: c.FormValue("title"), Value: c.FormValue("value"), OwnerID: c.FormValue("owner_id"),
		Source: c.FormValue("source"), Notes: c.FormValue("notes"), ContactID: c.FormValue("contact_id"),
		ContactName: c.FormValue("contact_name"), ContactPhone: c.FormValue("contact_phone")}, nil
}

func (s *Server) leadNewPage(c echo.Context) error {
	pid, err := strconv.ParseInt(c.QueryParam("pipeline"), 10, 64)
	if err != nil || pid <= 0 {
		return echo.ErrNotFound
	}
	f, err := s.leadForm(c, pid)
	if err != nil {
		return err
	}
	if st, err := strconv.ParseInt(c.QueryParam("stage"), 10, 64); err == nil {
		f.StageID = st
	}
	f.Return = boardURLOf(c, pid, boardview.Filter{})
	return render(c, http.StatusOK, boardview.NewLeadPage(f), boardview.NewLeadPanel(f))
}

func (s *Server) leadCreate(c echo.Context) error {
	r := reqOf(c)
	ctx := c.Request().Context()
	in, err := leadInputOf(c)
	if err != nil {
		return err
	}
	if in.StageID == 0 {
		return echo.NewHTTPError(http.StatusBadRequest, "no stage")
	}
	st, err := s.board.Stage(ctx, r.Org.ID, in.StageID)
	if err != nil {
		return err
	}
	l, err := s.board.CreateLead(ctx, actorOf(c), in)
	var v *model.ValidationError
	if errors.As(err, &v) {
		f, ferr := s.leadForm(c, st.PipelineID)
		if ferr != nil {
			return ferr
		}
		f.StageID, f.Title, f.Value, f.OwnerID, f.Source, f.Notes = in.StageID, in.Title, in.Value, in.OwnerID, in.Source, in.Notes
		f.ContactID, f.ContactName, f.ContactPhone, f.Errors = in.ContactID, in.ContactName, in.ContactPhone, v.Fields
		if q := strings.TrimSpace(c.FormValue("contact_q")); q != "" {
			if cs, err := s.board.SearchContacts(ctx, r.Org.ID, q); err == nil {
				f.Contacts = contactOptions(c, cs)
			}
		}
		return refuseForm(c, boardview.NewLeadPage(f), boardview.NewLeadPanel(f))
	}
	if err != nil {
		return err
	}
	toast(c, "success", "board.toast.created")
	if c.Request().Header.Get("HX-Request") != "true" {
		return redirect(c, returnTo(c))
	}
	hxTrigger(c, "leadCreated", map[string]any{"id": l.ID, "stage_id": l.StageID})
	f, err := s.leadForm(c, st.PipelineID)
	if err != nil {
		return err
	}
	f.StageID = l.StageID
	return render(c, http.StatusOK, boardview.NewLeadPanel(f), nil)
}

// leadPageData builds a lead's drawer.
func (s *Server) leadPageData(c echo.Context, l model.Lead) (boardview.LeadPage, error) {
	r := reqOf(c)
	ctx := c.Request().Context()
	f, err := s.leadForm(c, l.PipelineID)
	if err != nil {
		return boardview.LeadPage{}, err
	}
	if c.Request().Method == http.MethodGet {
		f.Return = boardURLOf(c, l.PipelineID, boardview.Filter{})
	}
	f.ID, f.StageID, f.Title, f.Source, f.Notes = l.ID, l.StageID, l.Title, l.Source, l.Notes
	f.Value = boardview.MoneyInput(ctx, l.ValueCents)
	if l.OwnerID != nil {
		f.OwnerID = strconv.FormatInt(*l.OwnerID, 10)
	}
	f.Contact = l.ContactName
	if l.ContactPhone != nil {
		f.Contact = strings.TrimSpace(f.Contact + " · " + phone.Format(*l.ContactPhone, r.Org.DefaultCountry))
	}
	moves, err := s.board.LeadMoves(ctx, r.Org.ID, l.ID)
	if err != nil {
		return boardview.LeadPage{}, err
	}
	d := boardview.LeadPage{Form: f, CreatedAt: l.CreatedAt, ContactID: l.ContactID,
		CanDelete: actorOf(c).MayDeleteLead(l.OwnerID, l.CreatedBy)}
	for _, m := range moves {
		mv := boardview.Move{From: m.FromName, To: m.ToName, At: m.CreatedAt}
		if m.ActorName != nil {
			mv.Who = *m.ActorName
		}
		if m.AIKind != nil && m.AIConfidence != nil && m.AIReason != nil {
			mv.AIKind, mv.AIPercent, mv.AIReason = *m.AIKind, percent(*m.AIConfidence), *m.AIReason
		}
		d.Moves = append(d.Moves, mv)
	}
	mark, err := s.prog.Mark(ctx, r.Org.ID, l.ID)
	if err != nil {
		return boardview.LeadPage{}, err
	}
	d.AI = viewAI(mark)
	return d, nil
}

func (s *Server) leadPage(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	l, err := s.board.Lead(c.Request().Context(), reqOf(c).Org.ID, id)
	if err != nil {
		return err
	}
	d, err := s.leadPageData(c, l)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, boardview.LeadPageFull(d), boardview.LeadPanel(d))
}

// leadCard is one card as the board with the query's filters shows it; 204 when the
// filters hide it or it is gone, so board.js takes it off.
func (s *Server) leadCard(c echo.Context) error {
	r := reqOf(c)
	ctx := c.Request().Context()
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	lf, _, err := boardFilter(c.QueryParams())
	if err != nil {
		return err
	}
	l, err := s.board.LeadCard(ctx, r.Org.ID, id, lf)
	if errors.Is(err, model.ErrNotFound) {
		return c.NoContent(http.StatusNoContent)
	}
	if err != nil {
		return err
	}
	return s.renderCard(c, l)
}

func (s *Server) renderCard(c echo.Context, l model.Lead) error {
	card := viewCard(l, l.Currency)
	mark, err := s.prog.Mark(c.Request().Context(), l.OrgID, l.ID)
	if err != nil {
		return err
	}
	card.AI = viewAI(mark)
	c.Response().Header().Set("Cache-Control", "no-store")
	return render(c, http.StatusOK, boardview.CardItem(card), nil)
}

// leadMenu is the form of a card's menu, loaded when the menu first opens. It comes back
// to the page it was opened from (htmx says which in HX-Current-URL).
func (s *Server) leadMenu(c echo.Context) error {
	r := reqOf(c)
	ctx := c.Request().Context()
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	l, err := s.board.Lead(ctx, r.Org.ID, id)
	if err != nil {
		return err
	}
	stages, err := s.board.Stages(ctx, r.Org.ID, l.PipelineID)
	if err != nil {
		return err
	}
	ret := orgPath(c, "/board")
	if u, err := url.Parse(c.Request().Header.Get("HX-Current-URL")); err == nil {
		ret = safeReturn(c, u.RequestURI())
	}
	from, err := s.callNumbers(c)
	if err != nil {
		return err
	}
	var active []model.Cadence
	if r.Role.AtLeast(model.RunCampaigns.MinRole()) && s.cadRun != nil {
		if active, err = s.cadRun.Active(ctx, r.Org.ID); err != nil {
			return err
		}
	}
	return render(c, http.StatusOK, templ.Join(boardview.MoveMenu(viewCard(l, l.Currency), viewStages(stages), ret, from),
		cadenceview.LeadMenuEnrol(l.ContactID, active, ret)), nil)
}

func (s *Server) leadSave(c echo.Context) error {
	r := reqOf(c)
	ctx := c.Request().Context()
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	in, err := leadInputOf(c)
	if err != nil {
		return err
	}
	cur, err := s.board.Lead(ctx, r.Org.ID, id)
	if err != nil {
		return err
	}
	l, err := s.board.UpdateLead(ctx, actorOf(c), id, in)
	var v *model.ValidationError
	if errors.As(err, &v) {
		d, derr := s.leadPageData(c, cur)
		if derr != nil {
			return derr
		}
		f := &d.Form
		f.StageID, f.Title, f.Value, f.OwnerID, f.Source, f.Notes, f.Errors = in.StageID, in.Title, in.Value, in.OwnerID, in.Source, in.Notes, v.Fields
		return refuseForm(c, boardview.LeadPageFull(d), boardview.LeadPanel(d))
	}
	if err != nil {
		return err
	}
	toast(c, "success", "board.toast.saved")
	if c.Request().Header.Get("HX-Request") != "true" {
		return redirect(c, returnTo(c))
	}
	hxTrigger(c, "leadSaved", map[string]any{"id": l.ID, "stage_id": l.StageID})
	d, err := s.leadPageData(c, l)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, boardview.LeadPanel(d), nil)
}

// leadMove moves a card: from a drag (stage_id with after_id/before_id, the cards around
// its new place) or from the card's menu (stage_id alone: the top of that stage; or dir
// up/down). board.js gets the moved card back; a plain form goes back to the board.
func (s *Server) leadMove(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	var pl board.Placement
	moved := true
	switch dir := c.FormValue("dir"); dir {
	case "up", "down":
		delta := -1
		if dir == "down" {
			delta = 1
		}
		pl, moved, err = s.board.StepLead(ctx, actorOf(c), id, delta)
		if err == nil && !moved {
			pl.Lead, err = s.board.Lead(ctx, reqOf(c).Org.ID, id)
		}
	case "":
		in := board.MoveInput{}
		if in.StageID, err = formID(c, "stage_id"); err != nil {
			return err
		}
		if in.StageID == 0 {
			return echo.NewHTTPError(http.StatusBadRequest, "no stage")
		}
		if in.AfterID, err = formID(c, "after_id"); err != nil {
			return err
		}
		if in.BeforeID, err = formID(c, "before_id"); err != nil {
			return err
		}
		pl, err = s.board.MoveLead(ctx, actorOf(c), id, in)
	default:
		return echo.NewHTTPError(http.StatusBadRequest, "bad dir")
	}
	if err != nil {
		return err
	}
	ret := returnTo(c)
	if c.Request().Header.Get("HX-Request") != "true" {
		if moved {
			toast(c, "success", "board.toast.moved")
		}
		return redirect(c, ret+"#lead-"+strconv.FormatInt(id, 10))
	}
	return s.renderCard(c, pl.Lead)
}

func (s *Server) leadDelete(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	if err := s.board.DeleteLead(c.Request().Context(), actorOf(c), id); err != nil {
		return err
	}
	toast(c, "success", "board.toast.deleted")
	if c.Request().Header.Get("HX-Request") != "true" {
		return redirect(c, returnTo(c))
	}
	hxTrigger(c, "leadDeleted", map[string]any{"id": id})
	return render(c, http.StatusOK, boardview.LeadGone(), nil)
}

// --- Pipelines and stages (managers and above) ---

func (s *Server) pipelinesData(c echo.Context) (boardview.PipelinesPage, error) {
	ps, err := s.board.Pipelines(c.Request().Context(), reqOf(c).Org.ID)
	d := boardview.PipelinesPage{Form: boardview.PipelineForm{Currency: "BRL"}}
	for _, p := range ps {
		d.Pipelines = append(d.Pipelines, viewPipeline(p))
	}
	return d, err
}

func (s *Server) pipelinesPage(c echo.Context) error {
	d, err := s.pipelinesData(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, boardview.PipelinesList(d), nil)
}

func (s *Server) pipelineCreate(c echo.Context) error {
	in := board.PipelineInput{Name: c.FormValue("name"), Currency: c.FormValue("currency")}
	p, err := s.board.CreatePipeline(c.Request().Context(), actorOf(c), in, reqOf(c).Locale)
	var v *model.ValidationError
	if errors.As(err, &v) {
		d, derr := s.pipelinesData(c)
		if derr != nil {
			return derr
		}
		d.Form = boardview.PipelineForm{Name: in.Name, Currency: in.Currency, Errors: v.Fields}
		return refuseForm(c, boardview.PipelinesList(d), nil)
	}
	if err != nil {
		return err
	}
	toast(c, "success", "board.toast.pipeline_created")
	return redirect(c, orgPath(c, "/board/pipelines/"+strconv.FormatInt(p.ID, 10)))
}

// pipelineData is a pipeline's settings page.
func (s *Server) pipelineData(c echo.Context, id int64) (boardview.PipelinePage, error) {
	r := reqOf(c)
	ctx := c.Request().Context()
	var d boardview.PipelinePage
	p, err := s.board.Pipeline(ctx, r.Org.ID, id)
	if err != nil {
		return d, err
	}
	stages, err := s.board.Stages(ctx, r.Org.ID, id)
	if err != nil {
		return d, err
	}
	counts, err := s.board.Totals(ctx, r.Org.ID, id, model.LeadFilter{})
	if err != nil {
		return d, err
	}
	d.Pipeline = viewPipeline(p)
	d.Form = boardview.PipelineForm{Name: p.Name, Currency: p.Currency}
	for _, st := range stages {
		d.Stages = append(d.Stages, boardview.StageForm{ID: st.ID, Name: st.Name, Color: st.Color, Description: st.Description,
			Outcome: st.Outcome, Leads: counts[st.ID].Count})
	}
	d.NewStage = boardview.StageForm{Color: "gray", Outcome: model.OutcomeOpen}
	if d.AI, err = s.aiForm(c, id); err != nil {
		return d, err
	}
	return d, nil
}

func (s *Server) pipelinePage(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	d, err := s.pipelineData(c, id)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, boardview.PipelineEdit(d), nil)
}

func (s *Server) pipelineSave(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	in := board.PipelineInput{Name: c.FormValue("name"), Currency: c.FormValue("currency")}
	_, err = s.board.UpdatePipeline(c.Request().Context(), actorOf(c), id, in)
	var v *model.ValidationError
	if errors.As(err, &v) {
		d, derr := s.pipelineData(c, id)
		if derr != nil {
			return derr
		}
		d.Form = boardview.PipelineForm{Name: in.Name, Currency: in.Currency, Errors: v.Fields}
		return refuseForm(c, boardview.PipelineEdit(d), nil)
	}
	if err != nil {
		return err
	}
	toast(c, "success", "toast.saved")
	return redirect(c, orgPath(c, "/board/pipelines/"+strconv.FormatInt(id, 10)))
}

// refused renders a pipeline's page with the reason a delete was refused: it still has
// leads, or it is the last stage.
func (s *Server) refused(c echo.Context, pipelineID int64, err error) error {
	var hl *board.HasLeadsError
	key, n := "", int64(0)
	switch {
	case errors.As(err, &hl):
		key, n = "board.error.has_leads", hl.Leads
	case errors.Is(err, board.ErrLastStage):
		key = "board.error.last_stage"
	default:
		return err
	}
	d, derr := s.pipelineData(c, pipelineID)
	if derr != nil {
		return derr
	}
	d.Error, d.ErrorN = key, n
	c.Response().Header().Set("X-Refused", strings.TrimPrefix(key, "board.error."))
	return render(c, http.StatusConflict, boardview.PipelineEdit(d), nil)
}

func (s *Server) pipelineDelete(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	if err := s.board.DeletePipeline(c.Request().Context(), actorOf(c), id); err != nil {
		return s.refused(c, id, err)
	}
	toast(c, "success", "board.toast.pipeline_deleted")
	return redirect(c, orgPath(c, "/board/pipelines"))
}

func stageInputOf(c echo.Context) board.StageInput {
	return board.StageInput{Name: c.FormValue("name"), Color: c.FormValue("color"), Description: c.FormValue("description"), Outcome: c.FormValue("outcome")}
}

func (s *Server) stageCreate(c echo.Context) error {
	pid, err := paramID(c, "id")
	if err != nil {
		return err
	}
	in := stageInputOf(c)
	_, err = s.board.CreateStage(c.Request().Context(), actorOf(c), pid, in)
	var v *model.ValidationError
	if errors.As(err, &v) {
		d, derr := s.pipelineData(c, pid)
		if derr != nil {
			return derr
		}
		d.NewStage = boardview.StageForm{Name: in.Name, Color: in.Color, Description: in.Description, Outcome: in.Outcome, Errors: v.Fields}
		return refuseForm(c, boardview.PipelineEdit(d), nil)
	}
	if err != nil {
		return err
	}
	toast(c, "success", "board.toast.stage_added")
	return redirect(c, orgPath(c, "/board/pipelines/"+strconv.FormatInt(pid, 10)))
}

func (s *Server) stageSave(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	st, err := s.board.Stage(c.Request().Context(), reqOf(c).Org.ID, id)
	if err != nil {
		return err
	}
	in := stageInputOf(c)
	_, err = s.board.UpdateStage(c.Request().Context(), actorOf(c), id, in)
	var v *model.ValidationError
	if errors.As(err, &v) {
		d, derr := s.pipelineData(c, st.PipelineID)
		if derr != nil {
			return derr
		}
		for i := range d.Stages {
			if d.Stages[i].ID == id {
				d.Stages[i].Name, d.Stages[i].Color, d.Stages[i].Description, d.Stages[i].Outcome = in.Name, in.Color, in.Description, in.Outcome
				d.Stages[i].Errors = v.Fields
			}
		}
		return refuseForm(c, boardview.PipelineEdit(d), nil)
	}
	if err != nil {
		return err
	}
	toast(c, "success", "toast.saved")
	return redirect(c, orgPath(c, "/board/pipelines/"+strconv.FormatInt(st.PipelineID, 10)))
}

func (s *Server) stageMove(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	delta := 0
	switch c.FormValue("dir") {
	case "up":
		delta = -1
	case "down":
		delta = 1
	default:
		return echo.NewHTTPError(http.StatusBadRequest, "bad dir")
	}
	st, err := s.board.StepStage(c.Request().Context(), actorOf(c), id, delta)
	if err != nil {
		return err
	}
	toast(c, "success", "board.toast.stages_reordered")
	return redirect(c, orgPath(c, "/board/pipelines/"+strconv.FormatInt(st.PipelineID, 10)+"#stage-list"))
}

// stagesOrder saves the order of a pipeline's stages after a drag: ids, every stage once.
func (s *Server) stagesOrder(c echo.Context) error {
	pid, err := paramID(c, "id")
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "bad form")
	}
	var ids []int64
	for _, raw := range form["ids"] {
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n <= 0 {
			return echo.NewHTTPError(http.StatusBadRequest, "bad id")
		}
		ids = append(ids, n)
	}
	err = s.board.ReorderStages(c.Request().Context(), actorOf(c), pid, ids)
	var v *model.ValidationError
	if errors.As(err, &v) {
		toast(c, "error", "board.error.order")
		return c.NoContent(http.StatusUnprocessableEntity)
	}
	if err != nil {
		return err
	}
	toast(c, "success", "board.toast.stages_reordered")
	return redirect(c, orgPath(c, "/board/pipelines/"+strconv.FormatInt(pid, 10)))
}

func (s *Server) stageDelete(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	st, err := s.board.Stage(c.Request().Context(), reqOf(c).Org.ID, id)
	if err != nil {
		return err
	}
	if err := s.board.DeleteStage(c.Request().Context(), actorOf(c), id); err != nil {
		return s.refused(c, st.PipelineID, err)
	}
	toast(c, "success", "board.toast.stage_deleted")
	return redirect(c, orgPath(c, "/board/pipelines/"+strconv.FormatInt(st.PipelineID, 10)))
}
