package metasim_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"masteria/app/sim/metasim"
)

// BenchmarkSend measures the bare send path of the sim over loopback (no status webhooks),
// with a pair rate and a messaging limit on, so their bookkeeping is part of the cost.
func BenchmarkSend(b *testing.B) {
	s := metasim.New(metasim.WithoutStatuses(), metasim.WithPairRate(10, time.Second))
	base, err := s.Start()
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	s.AddNumber(metasim.Number{PhoneNumberID: phoneID, WABAID: wabaID, DisplayNumber: display, AccessToken: token, AppSecret: appSecret})
	s.AddTemplate(wabaID, metasim.Template{Name: "promo", Language: "pt_BR", Components: []map[string]any{{"type": "BODY", "text": "Oi"}}})
	s.SetMessagingLimit(wabaID, 1<<30)
	url := base + "/v21.0/" + phoneID + "/messages"
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	client := &http.Client{Transport: tr}
	var seq atomic.Int64
	start := time.Now()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := seq.Add(1)
			body, _ := json.Marshal(templateBody(fmt.Sprintf("55119%08d", i), "promo", fmt.Sprint("m", i)))
			req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("HTTP %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}
