package web

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"masteria/app/campaign"
	"masteria/app/csvout"
	"masteria/app/i18n"
	"masteria/app/model"
	"masteria/app/phone"
	campaignview "masteria/views/campaigns"
)

// campaignRunRoutes mounts the run page of a launched campaign under /o/:org: live
// progress, the controls, the recipient table and its CSV.
func (s *Server) campaignRunRoutes(o *echo.Group) {
	o.GET("/campaigns/:id", s.campaignRunPage)
	o.GET("/campaigns/:id/live", s.campaignRunLive)
	o.GET("/campaigns/:id/recipients", s.campaignRunRows)
	o.GET("/campaigns/:id/export", s.campaignRunExport)
	o.POST("/campaigns/:id/pause", s.campaignRunPause)
	o.POST("/campaigns/:id/resume", s.campaignRunResume)
	o.POST("/campaigns/:id/cancel", s.campaignRunCancel)
	o.POST("/campaigns/:id/retry-failed", s.campaignRunRetry)
	o.POST("/campaigns/:id/winner", s.campaignRunWinner)
}

// maxRunRows bounds one request of the table: a live refresh asks as many rows as the
// page shows, up to this.
const maxRunRows = 500

// runStatusOK says whether a table filter is a recipient status ("" is everyone).
func runStatusOK(s string) bool { return s == "" || slices.Contains(model.RecipientStatuses, s) }

// runLive gathers the live part of the run page.
func (s *Server) runLive(c echo.Context, id int64) (campaignview.RunLiveData, error) {
	ctx := c.Request().Context()
	a := actorOf(c)
	var d campaignview.RunLiveData
	cp, err := s.camp.Campaign(ctx, a, id)
	if err != nil {
		return d, err
	}
	d.Campaign = cp
	if cp.Voice() {
		if n, err := s.st.VoiceNumber(ctx, a.OrgID, *cp.VoiceNumberID); err == nil {
			d.ChannelName = phone.Format(n.PhoneNumber, reqOf(c).Org.DefaultCountry)
			if n.Nickname != "" {
				d.ChannelName = n.Nickname + " · " + d.ChannelName
			}
		} else if !errors.Is(err, model.ErrNotFound) {
			return d, err
		}
		d.ChannelKind = campaign.KindVoice
		f, err := s.camp.CallFigures(ctx, a, id)
		if err != nil {
			return d, err
		}
		d.Calls = &f
	}
	if cp.ChannelID != nil {
		if ch, err := s.inbox.Channel(ctx, a.OrgID, *cp.ChannelID); err == nil {
			d.ChannelName, d.ChannelKind = ch.Name, ch.Kind
		} else if !errors.Is(err, model.ErrNotFound) {
			return d, err
		}
	}
	if d.Progress, err = s.camp.Progress(ctx, a, id); err != nil {
		return d, err
	}
	mins, err := s.camp.PerMinute(ctx, a, id)
	if err != nil {
		return d, err
	}
	if tz, err := s.st.OrgTimeZone(ctx, a.OrgID); err == nil && tz != "" {
		d.Zone, _ = time.LoadLocation(tz)
	}
	// One bar per minute of the last hour, the quiet minutes too; nothing when nothing went out.
	if len(mins) > 0 {
		now := time.Now().Truncate(time.Minute)
		by := make(map[int64]int64, len(mins))
		for _, m := range mins {
			by[m.Minute.Truncate(time.Minute).Unix()] = m.N
		}
		for t := now.Add(-59 * time.Minute); !t.After(now); t = t.Add(time.Minute) {
			d.Minutes = append(d.Minutes, campaignview.RunMinute{At: t, N: by[t.Unix()]})
		}
	}
	if len(cp.Message.Variants) > 1 {
		vs, err := s.camp.Variants(ctx, a, id)
		if err != nil {
			return d, err
		}
		got := map[int]campaignview.RunVariant{}
		for _, v := range vs {
			got[v.Variant] = campaignview.RunVariant{Index: v.Variant, Sent: v.Sent, Read: v.Read, Replied: v.Replied}
		}
		for i := range cp.Message.Variants {
			v := got[i]
			v.Index = i
			d.Variants = append(d.Variants, v)
		}
	}
	return d, nil
}

// runRows reads a page of the table: status "" is everyone; limit is clamped.
func (s *Server) runRows(c echo.Context, id int64, status string, after int64, limit int) (campaignview.RunRowsData, error) {
	ctx := c.Request().Context()
	a := actorOf(c)
	d := campaignview.RunRowsData{CampaignID: id, Status: status, Limit: min(max(limit, 1), maxRunRows)}
	cp, err := s.camp.Campaign(ctx, a, id)
	if err != nil {
		return d, err
	}
	d.Variants = len(cp.Message.Variants)
	d.Voice = cp.Voice()
	if d.Counts, err = s.camp.Progress(ctx, a, id); err != nil {
		return d, err
	}
	if d.Rows, err = s.camp.Recipients(ctx, a, id, status, max(after, 0), d.Limit); err != nil {
		return d, err
	}
	d.More = len(d.Rows) == d.Limit
	return d, nil
}

// queryLimit reads ?limit (a page when absent); a value that is not a number is refused.
func queryLimit(c echo.Context) (int, error) {
	v := c.QueryParam("limit")
	if v == "" {
		return campaignview.RunPageSize, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, echo.NewHTTPError(http.StatusBadRequest, "limit")
	}
	return min(n, maxRunRows), nil
}

func (s *Server) campaignRunPage(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	live, err := s.runLive(c, id)
	if err != nil {
		return err
	}
	if live.Campaign.Status == model.CampaignDraft {
		return c.Redirect(http.StatusSeeOther, orgPath(c, fmt.Sprintf("/campaigns/%d/edit", id)))
	}
	limit, err := queryLimit(c)
	if err != nil {
		return err
	}
	status, bad := c.QueryParam("status"), false
	if !runStatusOK(status) {
		status, bad = "", true
	}
	rows, err := s.runRows(c, id, status, 0, limit)
	if err != nil {
		return err
	}
	rows.BadFilter = bad
	code := http.StatusOK
	if bad {
		code = http.StatusUnprocessableEntity
	}
	return render(c, code, campaignview.Run(campaignview.RunData{Live: live, Rows: rows}), nil)
}

// campaignRunLive is the live part alone, asked again when the campaign's events arrive.
func (s *Server) campaignRunLive(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	live, err := s.runLive(c, id)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, campaignview.RunLive(live), campaignview.RunLive(live))
}

// campaignRunRows is the recipient table: with ?after, the rows after that recipient (load
// more); without, the whole table with its tabs (a filter, a live refresh).
func (s *Server) campaignRunRows(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	status := c.QueryParam("status")
	if !runStatusOK(status) {
		return model.FieldError("status", "campaigns.run.error.status")
	}
	var after int64
	if v := c.QueryParam("after"); v != "" {
		if after, err = strconv.ParseInt(v, 10, 64); err != nil || after < 0 {
			return echo.NewHTTPError(http.StatusBadRequest, "after")
		}
	}
	limit, err := queryLimit(c)
	if err != nil {
		return err
	}
	d, err := s.runRows(c, id, status, after, limit)
	if err != nil {
		return err
	}
	if after > 0 {
		return render(c, http.StatusOK, campaignview.RunRows(d), campaignview.RunRows(d))
	}
	return render(c, http.StatusOK, campaignview.RunRecipients(d), campaignview.RunRecipients(d))
}

// runExportPage is how many recipients the export reads at a time.
const runExportPage = 1000

var e164Addr = regexp.MustCompile(`^\+[0-9]{6,15}$`)

// campaignRunExport streams every recipient as a CSV row, through csvout (a name typed as
// a formula stays text in a spreadsheet).
func (s *Server) campaignRunExport(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	a := actorOf(c)
	if _, err := s.camp.Campaign(ctx, a, id); err != nil {
		return err
	}
	name := fmt.Sprintf("campanha-%d-%s.csv", id, time.Now().Format("2006-01-02"))
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	c.Response().WriteHeader(http.StatusOK)
	var w io.Writer = c.Response()
	if s.exportWrap != nil {
		w = s.exportWrap(w)
	}
	err = s.writeRecipientsCSV(c, w, id)
	if err == nil || ctx.Err() != nil {
		return nil
	}
	// Rows are already out: say so in the file and cut the connection, so the browser
	// marks the download failed rather than keeping a file that looks whole.
	slog.Error("campaign export failed", "org", a.OrgID, "campaign", id, "err", err)
	_, _ = io.WriteString(c.Response(), "\n"+i18n.T(reqOf(c).Locale, "contacts.export.failed")+"\n")
	c.Response().Flush()
	panic(http.ErrAbortHandler)
}

func (s *Server) writeRecipientsCSV(c echo.Context, w io.Writer, id int64) error {
	ctx := c.Request().Context()
	a := actorOf(c)
	cw, err := csvout.NewWriter(w, 0)
	if err != nil {
		return err
	}
	if err := cw.Write([]string{"name", "address", "status", "skip_reason", "error_code", "error", "sent_at", "delivered_at",
		"read_at", "replied_at", "failed_at", "variant"}); err != nil {
		return err
	}
	stamp := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	var after int64
	for {
		rs, err := s.camp.Recipients(ctx, a, id, "", after, runExportPage)
		if err != nil {
			return err
		}
		for _, r := range rs {
			addr := r.Address
			if !e164Addr.MatchString(addr) {
				addr = csvout.Safe(addr)
			}
			variant := ""
			if r.Variant != nil {
				variant = string(rune('A' + *r.Variant))
			}
			if err := cw.Write([]string{csvout.Safe(r.Name), addr, r.Status, r.SkipReason, csvout.Safe(r.ErrorCode),
				csvout.Safe(r.ErrorTitle), stamp(r.SentAt), stamp(r.DeliveredAt), stamp(r.ReadAt), stamp(r.RepliedAt),
				stamp(r.FailedAt), variant}); err != nil {
				return err
			}
			after = r.ID
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
		if len(rs) < runExportPage {
			return nil
		}
	}
}

// campaignRunDone answers a control: htmx gets the live part again (the buttons that now
// apply), a plain form goes back to the page.
func (s *Server) campaignRunDone(c echo.Context, id int64) error {
	if !isHTMX(c) {
		return c.Redirect(http.StatusSeeOther, orgPath(c, fmt.Sprintf("/campaigns/%d", id)))
	}
	live, err := s.runLive(c, id)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, campaignview.RunLive(live), campaignview.RunLive(live))
}

func (s *Server) campaignRunControl(c echo.Context, do func(id int64) error, okKey string) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	if err := do(id); err != nil {
		return err
	}
	toast(c, "success", okKey)
	return s.campaignRunDone(c, id)
}

func (s *Server) campaignRunPause(c echo.Context) error {
	return s.campaignRunControl(c, func(id int64) error {
		return s.camp.Pause(c.Request().Context(), actorOf(c), id)
	}, "campaigns.run.toast.paused")
}

func (s *Server) campaignRunResume(c echo.Context) error {
	return s.campaignRunControl(c, func(id int64) error {
		return s.camp.Resume(c.Request().Context(), actorOf(c), id)
	}, "campaigns.run.toast.resumed")
}

func (s *Server) campaignRunCancel(c echo.Context) error {
	return s.campaignRunControl(c, func(id int64) error {
		return s.camp.Cancel(c.Request().Context(), actorOf(c), id)
	}, "campaigns.run.toast.cancelled")
}

func (s *Server) campaignRunRetry(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	n, err := s.camp.RetryFailed(c.Request().Context(), actorOf(c), id)
	if err != nil {
		return err
	}
	if n == 0 {
		toast(c, "info", "campaigns.run.toast.nothing_to_retry")
	} else {
		toastN(c, "success", "campaigns.run.toast.retried", int(n))
	}
	return s.campaignRunDone(c, id)
}

func (s *Server) campaignRunWinner(c echo.Context) error {
	return s.campaignRunControl(c, func(id int64) error {
		cp, err := s.camp.Campaign(c.Request().Context(), actorOf(c), id)
		if err != nil {
			return err
		}
		v, err := strconv.Atoi(c.FormValue("variant"))
		if err != nil || v < 0 || v >= len(cp.Message.Variants) {
			return model.FieldError("variant", "campaigns.run.error.variant")
		}
		return s.camp.ChooseWinner(c.Request().Context(), actorOf(c), id, v)
	}, "campaigns.run.toast.winner")
}
