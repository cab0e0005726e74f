package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"masteria/app/crm/board"
	"masteria/app/model"
	"masteria/app/store"
)

// apiBoardRoutes mounts pipelines (read) and leads (create, read, change, move, delete) in
// the REST API, through the board service the Kanban board uses: a lead created or moved
// into a stage runs the same hooks (a cadence's enrol stage enrols its contact).
func (s *Server) apiBoardRoutes(api *echo.Group) {
	api.GET("/pipelines", s.apiPipelines)
	api.GET("/pipelines/:id", s.apiPipeline)
	api.GET("/leads", s.apiLeads)
	api.POST("/leads", s.apiLeadCreate)
	api.GET("/leads/:id", s.apiLead)
	api.PATCH("/leads/:id", s.apiLeadUpdate)
	api.DELETE("/leads/:id", s.apiLeadDelete)
	api.POST("/leads/:id/move", s.apiLeadMove)
}

const (
	noSuchLead     = "no such lead"
	noSuchPipeline = "no such pipeline"
)

type apiPipelineJSON struct {
	ID         int64     `json:"id"`
	Name       string    `json:"name"`
	Currency   string    `json:"currency"`
	Position   int       `json:"position"`
	StageCount *int64    `json:"stage_count,omitempty"`
	LeadCount  *int64    `json:"lead_count,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

type apiStageJSON struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Color       string `json:"color"`
	Description string `json:"description"`
	Outcome     string `json:"outcome"`
	Position    int    `json:"position"`
}

type apiLeadJSON struct {
	ID           int64      `json:"id"`
	PipelineID   int64      `json:"pipeline_id"`
	StageID      int64      `json:"stage_id"`
	ContactID    int64      `json:"contact_id"`
	ContactName  string     `json:"contact_name"`
	ContactPhone *string    `json:"contact_phone"`
	Title        string     `json:"title"`
	ValueCents   int64      `json:"value_cents"`
	Currency     string     `json:"currency"`
	OwnerID      *int64     `json:"owner_id"`
	OwnerName    *string    `json:"owner_name"`
	Source       string     `json:"source"`
	Notes        string     `json:"notes"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
	MovedAt      *time.Time `json:"moved_at"`
}

func leadJSON(l model.Lead) apiLeadJSON {
	return apiLeadJSON{ID: l.ID, PipelineID: l.PipelineID, StageID: l.StageID, ContactID: l.ContactID, ContactName: l.ContactName,
		ContactPhone: l.ContactPhone, Title: l.Title, ValueCents: l.ValueCents, Currency: l.Currency, OwnerID: l.OwnerID,
		OwnerName: l.OwnerName, Source: l.Source, Notes: l.Notes, CreatedAt: l.CreatedAt, UpdatedAt: l.UpdatedAt, MovedAt: l.MovedAt}
}

// apiPipelines is GET /pipelines: the org's pipelines in the order they were made (each
// with its board position), with how many stages and leads each has; ?after=<next> reads on.
func (s *Server) apiPipelines(c echo.Context) error {
	pg, ok, err := apiPageOf(c, 50, 100)
	if !ok {
		return err
	}
	ps, err := s.board.PipelinesPage(c.Request().Context(), apiActor(c).OrgID, pg.After, pg.Limit+1)
	if err != nil {
		return err
	}
	ps, next := apiNext(ps, pg.Limit, func(p model.Pipeline) int64 { return p.ID })
	out := make([]apiPipelineJSON, 0, len(ps))
	for _, p := range ps {
		out = append(out, apiPipelineJSON{ID: p.ID, Name: p.Name, Currency: p.Currency, Position: p.Position,
			StageCount: &p.StageCount, LeadCount: &p.LeadCount, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt})
	}
	return c.JSON(http.StatusOK, map[string]any{"pipelines": out, "next": next})
}

// apiPipeline is GET /pipelines/{id}: the pipeline with its stages in the board's order.
func (s *Server) apiPipeline(c echo.Context) error {
	id, ok := apiPathID(c, "id")
	if !ok {
		return apiFail(c, http.StatusNotFound, "not_found", noSuchPipeline)
	}
	ctx := c.Request().Context()
	orgID := apiActor(c).OrgID
	p, err := s.board.Pipeline(ctx, orgID, id)
	if err != nil {
		return apiCRMFail(c, err, noSuchPipeline)
	}
	stages, err := s.board.Stages(ctx, orgID, id)
	if err != nil {
		return err
	}
	st := make([]apiStageJSON, 0, len(stages))
	for _, x := range stages {
		st = append(st, apiStageJSON{ID: x.ID, Name: x.Name, Color: x.Color, Description: x.Description, Outcome: x.Outcome, Position: x.Position})
	}
	return c.JSON(http.StatusOK, map[string]any{"pipeline": apiPipelineJSON{ID: p.ID, Name: p.Name, Currency: p.Currency,
		Position: p.Position, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}, "stages": st})
}

// apiLeads is GET /leads: a page of leads, newest first, filtered by pipeline, stage,
// contact and owner; ?after=<next> reads on.
func (s *Server) apiLeads(c echo.Context) error {
	pg, ok, err := apiPageOf(c, 50, 100, "pipeline_id", "stage_id", "contact_id", "owner")
	if !ok {
		return err
	}
	var f store.LeadList
	v := model.NewValidationError()
	for name, dst := range map[string]*int64{"pipeline_id": &f.PipelineID, "stage_id": &f.StageID, "contact_id": &f.ContactID} {
		if raw := c.QueryParam(name); raw != "" {
			n, err := strconv.ParseInt(raw, 10, 64)
			if err != nil || n <= 0 {
				v.Add(name, "contacts.error.filter")
			}
			*dst = n
		}
	}
	switch raw := c.QueryParam("owner"); raw {
	case "":
	case "none":
		f.OwnerID = model.NoOwner
	default:
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n <= 0 {
			v.Add("owner", "contacts.error.filter")
		}
		f.OwnerID = n
	}
	if err := v.Err(); err != nil {
		return apiCRMFail(c, err, "")
	}
	ctx := c.Request().Context()
	orgID := apiActor(c).OrgID
	if f.PipelineID != 0 {
		if _, err := s.board.Pipeline(ctx, orgID, f.PipelineID); err != nil {
			return apiCRMFail(c, err, noSuchPipeline)
		}
	}
	if f.StageID != 0 {
		if _, err := s.board.Stage(ctx, orgID, f.StageID); err != nil {
			return apiCRMFail(c, err, "no such stage")
		}
	}
	if f.ContactID != 0 {
		if _, err := s.crm.Contact(ctx, orgID, f.ContactID); err != nil {
			return apiCRMFail(c, err, noSuchContact)
		}
	}
	ls, err := s.board.Leads(ctx, orgID, f, pg.After, pg.Limit+1)
	if err != nil {
		return err
	}
	ls, next := apiNext(ls, pg.Limit, func(l model.Lead) int64 { return l.ID })
	out := make([]apiLeadJSON, 0, len(ls))
	for _, l := range ls {
		out = append(out, leadJSON(l))
	}
	return c.JSON(http.StatusOK, map[string]any{"leads": out, "next": next})
}

func (s *Server) apiLead(c echo.Context) error {
	id, ok := apiPathID(c, "id")
	if !ok {
		return apiFail(c, http.StatusNotFound, "not_found", noSuchLead)
	}
	l, err := s.board.Lead(c.Request().Context(), apiActor(c).OrgID, id)
	if err != nil {
		return apiCRMFail(c, err, noSuchLead)
	}
	return c.JSON(http.StatusOK, map[string]any{"lead": leadJSON(l)})
}

// apiLeadIn is a lead as the API takes it; on PATCH a field left out stays as it is.
type apiLeadIn struct {
	StageID    *int64          `json:"stage_id"`
	Title      *string         `json:"title"`
	ValueCents *int64          `json:"value_cents"`
	OwnerID    json.RawMessage `json:"owner_id"`
	Source     *string         `json:"source"`
	Notes      *string         `json:"notes"`
	ContactID  *int64          `json:"contact_id"`
	Contact    *struct {
		Name  string `json:"name"`
		Phone string `json:"phone"`
	} `json:"contact"`
}

const leadExample = `{"stage_id":12,"title":"Bolo de casamento","value_cents":45000,"contact_id":7}`

// money writes cents as the lead form types an amount.
func money(cents int64) string {
	if cents < 0 {
		return fmt.Sprintf("-%d.%02d", -cents/100, -cents%100)
	}
	return fmt.Sprintf("%d.%02d", cents/100, cents%100)
}

// apply lays the body over in.
func (b apiLeadIn) apply(in *board.LeadInput) error {
	v := model.NewValidationError()
	if b.StageID != nil {
		in.StageID = *b.StageID
	}
	if b.Title != nil {
		in.Title = *b.Title
	}
	if b.ValueCents != nil {
		in.Value = money(*b.ValueCents)
	}
	if len(b.OwnerID) > 0 {
		var id int64
		switch {
		case string(b.OwnerID) == "null":
			in.OwnerID = ""
		case json.Unmarshal(b.OwnerID, &id) != nil || id <= 0:
			v.Add("owner_id", "board.error.owner")
		default:
			in.OwnerID = strconv.FormatInt(id, 10)
		}
	}
	if b.Source != nil {
		in.Source = *b.Source
	}
	if b.Notes != nil {
		in.Notes = *b.Notes
	}
	return v.Err()
}

// apiLeadCreate is POST /leads: a lead at the top of its stage, for an existing contact
// (contact_id) or one found by phone or created (contact).
func (s *Server) apiLeadCreate(c echo.Context) error {
	var body apiLeadIn
	if !apiDecode(c, &body, leadExample) {
		return nil
	}
	ctx := c.Request().Context()
	a := apiActor(c)
	var in board.LeadInput
	if err := body.apply(&in); err != nil {
		return apiCRMFail(c, err, "")
	}
	v := model.NewValidationError()
	if in.StageID <= 0 {
		v.Add("stage_id", "api.error.stage_id")
	}
	switch {
	case body.ContactID != nil && body.Contact != nil:
		v.Add("contact", "api.error.lead_contact")
	case body.ContactID != nil:
		if _, err := s.crm.Contact(ctx, a.OrgID, *body.ContactID); err != nil {
			return apiCRMFail(c, err, noSuchContact)
		}
		in.ContactID = strconv.FormatInt(*body.ContactID, 10)
	case body.Contact != nil:
		in.ContactName, in.ContactPhone = body.Contact.Name, body.Contact.Phone
	default:
		v.Add("contact", "api.error.lead_contact")
	}
	if err := v.Err(); err != nil {
		return apiCRMFail(c, err, "")
	}
	l, err := s.board.CreateLead(ctx, a, in)
	if err != nil {
		return apiCRMFail(c, err, "a stage that is not in your organization")
	}
	return c.JSON(http.StatusCreated, map[string]any{"lead": leadJSON(l)})
}

// apiLeadUpdate is PATCH /leads/{id}: the fields sent change; a stage_id of another stage
// of its pipeline moves it to the top of that stage.
func (s *Server) apiLeadUpdate(c echo.Context) error {
	id, ok := apiPathID(c, "id")
	if !ok {
		return apiFail(c, http.StatusNotFound, "not_found", noSuchLead)
	}
	var body apiLeadIn
	if !apiDecode(c, &body, `{"title":"Bolo de casamento","value_cents":50000}`) {
		return nil
	}
	if body.ContactID != nil || body.Contact != nil {
		return apiCRMFail(c, model.FieldError("contact", "api.error.lead_contact_fixed"), "")
	}
	ctx := c.Request().Context()
	a := apiActor(c)
	cur, err := s.board.Lead(ctx, a.OrgID, id)
	if err != nil {
		return apiCRMFail(c, err, noSuchLead)
	}
	in := board.LeadInput{Title: cur.Title, Value: money(cur.ValueCents), Source: cur.Source, Notes: cur.Notes}
	if cur.OwnerID != nil {
		in.OwnerID = strconv.FormatInt(*cur.OwnerID, 10)
	}
	if err := body.apply(&in); err != nil {
		return apiCRMFail(c, err, "")
	}
	l, err := s.board.UpdateLead(ctx, a, id, in)
	if err != nil {
		return apiCRMFail(c, err, "no such lead, or a stage that is not in its pipeline")
	}
	return c.JSON(http.StatusOK, map[string]any{"lead": leadJSON(l)})
}

func (s *Server) apiLeadDelete(c echo.Context) error {
	id, ok := apiPathID(c, "id")
	if !ok {
		return apiFail(c, http.StatusNotFound, "not_found", noSuchLead)
	}
	if err := s.board.DeleteLead(c.Request().Context(), apiActor(c), id); err != nil {
		return apiCRMFail(c, err, noSuchLead)
	}
	return c.NoContent(http.StatusNoContent)
}

// apiLeadMove is POST /leads/{id}/move {"stage_id":…, "after_id":…, "before_id":…}: as a
// drag on the board, to a stage of the lead's pipeline, under after_id or above before_id
// (the top of the stage when neither is there).
func (s *Server) apiLeadMove(c echo.Context) error {
	id, ok := apiPathID(c, "id")
	if !ok {
		return apiFail(c, http.StatusNotFound, "not_found", noSuchLead)
	}
	var body struct {
		StageID  int64 `json:"stage_id"`
		AfterID  int64 `json:"after_id"`
		BeforeID int64 `json:"before_id"`
	}
	if !apiDecode(c, &body, `{"stage_id":13,"after_id":40}`) {
		return nil
	}
	if body.StageID <= 0 {
		return apiCRMFail(c, model.FieldError("stage_id", "api.error.stage_id"), "")
	}
	pl, err := s.board.MoveLead(c.Request().Context(), apiActor(c), id, board.MoveInput{StageID: body.StageID, AfterID: body.AfterID, BeforeID: body.BeforeID})
	if err != nil {
		return apiCRMFail(c, err, "no such lead, or a stage that is not in its pipeline")
	}
	out := map[string]any{"lead": leadJSON(pl.Lead), "from_stage_id": pl.FromID, "after_id": nilIfZero(pl.AfterID), "before_id": nilIfZero(pl.BeforeID)}
	return c.JSON(http.StatusOK, out)
}

func nilIfZero(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}
