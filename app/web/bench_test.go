package web_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"masteria/app/web/webtest"
)

// BenchmarkHomePage measures the server time of an org's home page: the whole handler chain
// (CSP, CSRF, session from PostgreSQL, membership, checklist query, templ rendering) called in
// process, without the network. It reports the median and p95 in milliseconds, and the ratio
// to a bare handler that only writes a few bytes, the floor of any request.
func BenchmarkHomePage(b *testing.B) {
	inst := webtest.Start(b)
	c := webtest.NewClient(b, inst.URL)
	home := c.Signup("Padaria Pão Quente", "Ana", uniqueEmail("bench"), strongPassword)
	u, _ := http.NewRequest(http.MethodGet, inst.URL, nil)
	cookies := c.HTTP.Jar.Cookies(u.URL)
	h := inst.App.Web.Handler()

	request := func() *http.Request {
		req := httptest.NewRequest(http.MethodGet, home, nil)
		req.Header.Set("Accept-Language", "pt-BR")
		for _, ck := range cookies {
			req.AddCookie(ck)
		}
		return req
	}
	if rec := serve(h, request()); rec.Code != http.StatusOK {
		b.Fatalf("home: %d", rec.Code)
	}
	bare := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })

	var homeTimes, bareTimes []time.Duration
	b.ResetTimer()
	for b.Loop() {
		req := request()
		start := time.Now()
		rec := serve(h, req)
		homeTimes = append(homeTimes, time.Since(start))
		if rec.Code != http.StatusOK {
			b.Fatalf("home: %d", rec.Code)
		}
		req = httptest.NewRequest(http.MethodGet, "/", nil)
		start = time.Now()
		serve(bare, req)
		bareTimes = append(bareTimes, time.Since(start))
	}
	b.StopTimer()
	p50, p95 := percentile(homeTimes, 50), percentile(homeTimes, 95)
	b.ReportMetric(ms(p50), "p50-ms")
	b.ReportMetric(ms(p95), "p95-ms")
	b.ReportMetric(float64(p50)/float64(max(percentile(bareTimes, 50), 1)), "x-bare-handler")
}

func serve(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[(len(s)-1)*p/100]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
