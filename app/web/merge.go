package web

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"masteria/app/model"
	"masteria/views/contacts"
)

// mergeRoutes mounts the merge of two contacts on m, the group of roles that may merge.
func (s *Server) mergeRoutes(m *echo.Group) {
	m.GET("/contacts/:id/merge", s.contactMergePage)
	m.POST("/contacts/:id/merge", s.contactMerge)
}

// mergeCandidates is how many contacts the merge search lists.
const mergeCandidates = 20

// contactMergePage is GET /o/{org}/contacts/{id}/merge: search for the other contact
// (?q=), pick it (?other=) and see what moves.
func (s *Server) contactMergePage(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	otherID, _ := strconv.ParseInt(c.QueryParam("other"), 10, 64)
	d, err := s.mergeData(c, id, c.QueryParam("q"), otherID)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, contacts.Merge(d), nil)
}

func (s *Server) mergeData(c echo.Context, id int64, q string, otherID int64) (contacts.MergeData, error) {
	ctx := c.Request().Context()
	a := actorOf(c)
	keep, err := s.crm.Contact(ctx, a.OrgID, id)
	if err != nil {
		return contacts.MergeData{}, err
	}
	d := contacts.MergeData{Contact: keep, Query: q, Phones: map[int64]string{keep.ID: s.phoneDisplay(c, keep.Phone)}}
	if q != "" {
		page, err := s.crm.List(ctx, a, model.ContactFilter{Query: q}, model.ContactSort{}, "")
		if err != nil {
			return d, err
		}
		for _, ct := range page.Contacts {
			if ct.ID != id && len(d.Candidates) < mergeCandidates {
				d.Candidates = append(d.Candidates, ct)
				d.Phones[ct.ID] = s.phoneDisplay(c, ct.Phone)
			}
		}
	}
	if otherID > 0 && otherID != id {
		other, err := s.crm.Contact(ctx, a.OrgID, otherID)
		if err != nil {
			return d, err
		}
		p, err := s.crm.PreviewMerge(ctx, a, id, otherID)
		if err != nil {
			return d, err
		}
		d.Other = &other
		d.Phones[other.ID] = s.phoneDisplay(c, other.Phone)
		d.Moves = contacts.MergeMoves{Conversations: p.Conversations, Leads: p.Leads, Identities: p.Identities, Timeline: p.Events, Tags: p.Tags}
	}
	return d, nil
}

// contactMerge is POST /o/{org}/contacts/{id}/merge with other_id: the other contact is
// merged into this one, which the browser then shows.
func (s *Server) contactMerge(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	otherID, err := strconv.ParseInt(c.FormValue("other_id"), 10, 64)
	if err != nil || otherID <= 0 {
		return echo.ErrNotFound
	}
	_, err = s.crm.Merge(c.Request().Context(), actorOf(c), id, otherID)
	var v *model.ValidationError
	if errors.As(err, &v) {
		d, derr := s.mergeData(c, id, "", 0)
		if derr != nil {
			return derr
		}
		d.Error = v.Fields["other_id"]
		return render(c, http.StatusUnprocessableEntity, contacts.Merge(d), nil)
	}
	if err != nil {
		return err
	}
	toast(c, "success", "contacts.merge.done")
	return redirect(c, orgPath(c, "/contacts/"+strconv.FormatInt(id, 10)))
}

// apiMergeRoutes mounts the merge in the REST API.
func (s *Server) apiMergeRoutes(api *echo.Group) {
	api.POST("/contacts/:id/merge", s.apiContactMerge)
}

// apiContactMerge is POST /api/v1/contacts/{id}/merge {"other_id": …}: 200 with the kept
// contact and what moved, 404 when either is not the org's, 422 for the same id twice.
func (s *Server) apiContactMerge(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return apiFail(c, http.StatusNotFound, "not_found", "no such contact")
	}
	var in struct {
		OtherID int64 `json:"other_id"`
	}
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, 1<<16))
	if err != nil || json.Unmarshal(body, &in) != nil {
		return apiFail(c, http.StatusBadRequest, "bad_request", `send {"other_id": <contact id>}`)
	}
	if in.OtherID <= 0 {
		return apiFail(c, http.StatusUnprocessableEntity, "invalid", "other_id is required")
	}
	ctx := c.Request().Context()
	a := apiActor(c)
	moved, err := s.crm.Merge(ctx, a, id, in.OtherID)
	var v *model.ValidationError
	switch {
	case errors.Is(err, model.ErrNotFound):
		return apiFail(c, http.StatusNotFound, "not_found", "no such contact")
	case errors.As(err, &v):
		return apiFail(c, http.StatusUnprocessableEntity, "invalid", "a contact cannot be merged into itself")
	case err != nil:
		return err
	}
	kept, err := s.crm.Contact(ctx, a.OrgID, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"contact": kept, "moved": moved})
}
