package calls

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/riverqueue/river"

	"masteria/app/events"
	"masteria/app/jobs"
	"masteria/app/model"
	"masteria/app/store"
)

// RecordingArgs copies a call's recording from Retell (a signed, short-lived URL) into the
// media store.
type RecordingArgs struct {
	OrgID int64 `json:"org_id"`
	ID    int64 `json:"id"` // our call id
}

// Kind is the job's stable name.
func (RecordingArgs) Kind() string { return "voice_call_recording" }

// Media keeps files (app/media).
type Media interface {
	PutInbound(ctx context.Context, orgID int64, r io.Reader, mimeType, filename string) (model.Media, error)
}

// Register adds the recording's worker: recordings are fetched with hc (a client with a
// timeout when nil) and kept in m.
func Register(reg *jobs.Registry, s *Service, m Media, hc *http.Client) {
	if hc == nil {
		hc = &http.Client{Timeout: 2 * time.Minute}
	}
	river.AddWorker(reg.Workers, &recordingWorker{s: s, media: m, hc: hc})
	river.AddWorker(reg.Workers, &statsWorker{s: s})
	reg.Periodic = append(reg.Periodic, river.NewPeriodicJob(river.PeriodicInterval(time.Minute),
		func() (river.JobArgs, *river.InsertOpts) { return StatsArgs{}, nil },
		&river.PeriodicJobOpts{ID: "voice.call_stats", RunOnStart: true}))
}

// StatsArgs stores the daily call figures of the orgs whose calls changed lately, so the
// analytics page reads them instead of the calls.
type StatsArgs struct{}

// Kind is the job's stable name.
func (StatsArgs) Kind() string { return "voice_call_stats" }

type statsWorker struct {
	river.WorkerDefaults[StatsArgs]
	s *Service
}

// Work visits the orgs with calls changed in the last ten minutes (a missed run is caught
// by the next); an org that fails does not stop the others.
func (w *statsWorker) Work(ctx context.Context, _ *river.Job[StatsArgs]) error {
	orgs, err := w.s.st.CallStatsOrgs(ctx, time.Now().Add(-10*time.Minute))
	if err != nil {
		return err
	}
	var first error
	for _, id := range orgs {
		if _, err := w.s.RefreshStats(ctx, id); err != nil && first == nil {
			first = err
		}
	}
	return first
}

type recordingWorker struct {
	river.WorkerDefaults[RecordingArgs]
	s     *Service
	media Media
	hc    *http.Client
}

func (w *recordingWorker) Timeout(*river.Job[RecordingArgs]) time.Duration { return 5 * time.Minute }

// Work downloads the recording and keeps it once: a retry after the copy was recorded
// does nothing, and the same bytes stored twice give the same file.
func (w *recordingWorker) Work(ctx context.Context, job *river.Job[RecordingArgs]) error {
	return w.s.CopyRecording(ctx, job.Args.OrgID, job.Args.ID, w.media, w.hc)
}

// CopyRecording copies a call's recording into the media store, once.
func (s *Service) CopyRecording(ctx context.Context, orgID, id int64, m Media, hc *http.Client) error {
	c, err := s.st.Call(ctx, orgID, id)
	if err != nil {
		return err
	}
	if c.RecordingFileID != nil || c.RecordingURL == "" {
		return nil
	}
	u, err := url.Parse(c.RecordingURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return river.JobCancel(fmt.Errorf("calls: recording URL of call %d is not http(s)", id))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return river.JobCancel(err)
	}
	res, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("calls: fetch recording: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("calls: fetch recording: HTTP %d", res.StatusCode)
	}
	mime := res.Header.Get("Content-Type")
	if mime == "" {
		mime = "audio/wav"
	}
	f, err := m.PutInbound(ctx, orgID, res.Body, mime, fmt.Sprintf("call-%d", id))
	if err != nil {
		return err
	}
	return s.st.Tx(ctx, func(tx *store.Store) error {
		set, err := tx.SetCallRecording(ctx, orgID, id, f.ID)
		if err != nil || !set {
			return err
		}
		c.RecordingFileID = &f.ID
		_, err = events.CallRecordingSaved.Publish(ctx, tx, orgID, Ref(c))
		return err
	})
}
