package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"masteria/app/model"
	"masteria/views/settings"
)

// policyRoutes mounts Settings → Contact policy (owners and admins).
func (s *Server) policyRoutes(o *echo.Group) {
	adm := o.Group("", requireMay(model.ManageOrg))
	adm.GET("/settings/policy", s.policyPage)
	adm.POST("/settings/policy", s.policySave)
}

func (s *Server) policyPage(c echo.Context) error {
	p, err := s.policy.Settings(c.Request().Context(), actorOf(c).OrgID)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, settings.Policy(settings.NewPolicyData(p)), nil)
}

// policySave reads the form strictly: a value that is not a whole number is refused (422)
// with the field named, as one out of range is; nothing changes then.
func (s *Server) policySave(c echo.Context) error {
	d := settings.PolicyData{DailyCap: c.FormValue("daily_cap"), QuietStart: c.FormValue("quiet_start"),
		QuietEnd: c.FormValue("quiet_end"), DedupHours: c.FormValue("sms_dedup_hours")}
	v := model.NewValidationError()
	num := func(field, value, key string) int {
		n, err := strconv.Atoi(strings.TrimSpace(value))
		if err != nil {
			v.Add(field, key)
		}
		return n
	}
	in := model.PolicySettings{
		DailyCap:      num("daily_cap", d.DailyCap, "policy.error.daily_cap"),
		QuietStart:    num("quiet_start", d.QuietStart, "policy.error.hour"),
		QuietEnd:      num("quiet_end", d.QuietEnd, "policy.error.hour"),
		SMSDedupHours: num("sms_dedup_hours", d.DedupHours, "policy.error.dedup_hours"),
	}
	err := v.Err()
	if err == nil {
		err = s.policy.Save(c.Request().Context(), actorOf(c), in)
	}
	if errors.As(err, &v) {
		d.Errors = v.Fields
		return refuseForm(c, settings.Policy(d), nil)
	}
	if err != nil {
		return err
	}
	toast(c, "success", "policy.saved")
	return redirect(c, orgPath(c, "/settings/policy"))
}
