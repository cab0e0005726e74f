package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"masteria/app/ai/progression"
	"masteria/app/model"
	boardview "masteria/views/board"
)

// progressionRoutes mounts the answers to the AI on the board (every member works the
// board) and a pipeline's AI settings (those who shape pipelines).
func (s *Server) progressionRoutes(o *echo.Group) {
	o.POST("/board/leads/:id/ai/accept", s.leadAIAnswer(aiAccept))
	o.POST("/board/leads/:id/ai/dismiss", s.leadAIAnswer(aiDismiss))
	o.POST("/board/leads/:id/ai/undo", s.leadAIAnswer(aiUndo))
	o.POST("/board/pipelines/:id/ai", s.pipelineAISave, requireMay(model.ShapePipelines))
}

// percent is a confidence as a whole percentage.
func percent(f float64) int { return int(f*100 + 0.5) }

func viewDecision(d model.LeadAIDecision) *boardview.AIDecision {
	return &boardview.AIDecision{ID: d.ID, From: d.FromName, To: d.ToName, Percent: percent(d.Confidence), Reason: d.Reason}
}

func viewAI(m model.LeadAIMark) boardview.CardAI {
	var out boardview.CardAI
	if m.Move != nil {
		out.Move = viewDecision(*m.Move)
	}
	if m.Suggestion != nil {
		out.Suggestion = viewDecision(*m.Suggestion)
	}
	return out
}

// markCards gives the cards of columns what they show of the AI, in one query.
func (s *Server) markCards(c echo.Context, cols []boardview.Column) error {
	var ids []int64
	for _, col := range cols {
		for _, card := range col.Cards {
			ids = append(ids, card.ID)
		}
	}
	marks, err := s.prog.Marks(c.Request().Context(), reqOf(c).Org.ID, ids)
	if err != nil {
		return err
	}
	for i := range cols {
		for j := range cols[i].Cards {
			if m, ok := marks[cols[i].Cards[j].ID]; ok {
				cols[i].Cards[j].AI = viewAI(m)
			}
		}
	}
	return nil
}

// aiForm is a pipeline's AI settings as its page shows them.
func (s *Server) aiForm(c echo.Context, pipelineID int64) (boardview.AIForm, error) {
	ctx := c.Request().Context()
	org := reqOf(c).Org.ID
	set, err := s.prog.Settings(ctx, org, pipelineID)
	if err != nil {
		return boardview.AIForm{}, err
	}
	_, perr := s.ai.Settings(ctx, org)
	if perr != nil && !errors.Is(perr, model.ErrNotFound) {
		return boardview.AIForm{}, perr
	}
	return boardview.AIForm{Enabled: set.Enabled, Threshold: strconv.Itoa(percent(set.Threshold)),
		NoProvider: errors.Is(perr, model.ErrNotFound)}, nil
}

// The answers a member gives the AI.
const (
	aiAccept  = "accept"
	aiDismiss = "dismiss"
	aiUndo    = "undo"
)

// leadAIAnswer accepts or dismisses a lead's suggestion, or undoes the AI's move, named by
// the form's decision_id (it must be this lead's). On the board (view "card") it answers
// the card, in the drawer (view "panel") the drawer's panel, and a plain form goes back.
// A suggestion or move overtaken by events changes nothing and says so.
func (s *Server) leadAIAnswer(action string) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := reqOf(c)
		ctx := c.Request().Context()
		leadID, err := paramID(c, "id")
		if err != nil {
			return err
		}
		did, err := formID(c, "decision_id")
		if err != nil {
			return err
		}
		view := c.FormValue("view")
		if did == 0 || (view != "" && view != "card" && view != "panel") {
			return echo.NewHTTPError(http.StatusBadRequest, "bad decision or view")
		}
		d, err := s.prog.Decision(ctx, r.Org.ID, did)
		if err != nil {
			return err
		}
		if d.LeadID != leadID {
			return echo.ErrNotFound
		}
		a := actorOf(c)
		key := ""
		switch action {
		case aiAccept:
			_, err = s.prog.Accept(ctx, a, did)
			key = "ai.progression.toast.accepted"
		case aiDismiss:
			_, err = s.prog.Dismiss(ctx, a, did)
			key = "ai.progression.toast.dismissed"
		default:
			_, err = s.prog.Undo(ctx, a, did)
			key = "ai.progression.toast.undone"
		}
		switch {
		case errors.Is(err, progression.ErrStale):
			toast(c, "error", "ai.progression.toast.stale")
		case err != nil:
			return err
		default:
			toast(c, "success", key)
		}
		if !isHTMX(c) {
			return redirect(c, returnTo(c)+"#lead-"+strconv.FormatInt(leadID, 10))
		}
		l, err := s.board.Lead(ctx, r.Org.ID, leadID)
		if err != nil {
			return err
		}
		if view == "panel" {
			pd, err := s.leadPageData(c, l)
			if err != nil {
				return err
			}
			return render(c, http.StatusOK, boardview.LeadPanel(pd), nil)
		}
		return s.renderCard(c, l)
	}
}

// pipelineAISave turns a pipeline's AI on or off and sets its threshold, typed in percent.
func (s *Server) pipelineAISave(c echo.Context) error {
	pid, err := paramID(c, "id")
	if err != nil {
		return err
	}
	enabled := c.FormValue("enabled") == "on"
	raw := strings.TrimSpace(c.FormValue("threshold"))
	pct, perr := strconv.ParseFloat(strings.Replace(raw, ",", ".", 1), 64)
	if perr != nil || len(raw) > 10 {
		err = model.FieldError("threshold", progression.ThresholdError)
	} else {
		_, err = s.prog.SaveSettings(c.Request().Context(), actorOf(c), pid, enabled, pct/100)
	}
	var v *model.ValidationError
	if errors.As(err, &v) {
		d, derr := s.pipelineData(c, pid)
		if derr != nil {
			return derr
		}
		d.AI.Enabled, d.AI.Threshold, d.AI.Errors = enabled, raw, v.Fields
		return refuseForm(c, boardview.PipelineEdit(d), nil)
	}
	if err != nil {
		return err
	}
	toast(c, "success", "ai.progression.toast.saved")
	return redirect(c, orgPath(c, "/board/pipelines/"+strconv.FormatInt(pid, 10)+"#pipeline-ai"))
}
