package crm_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// BenchmarkContactImport runs 100,000 CSV rows through the real import: upload, column
// guess, the River job's worker with phone normalization, tags, batched upserts, timeline
// lines and progress events. It reports rows/s.
func BenchmarkContactImport(b *testing.B) {
	const rows = 100_000
	var sb strings.Builder
	sb.WriteString("Nome;Celular;E-mail;Etiquetas;Cidade\n")
	for i := 0; i < rows; i++ {
		fmt.Fprintf(&sb, "Cliente %d da Silva;(%d) 9%04d-%04d;cliente%d@mail.com;%s;São Paulo\n",
			i, ddds[i%len(ddds)], (i/10000)%10000, i%10000, i, []string{"VIP", "Atacado", "Varejo", ""}[i%4])
	}
	data := sb.String()
	b.ReportMetric(float64(len(data))/(1<<20), "MB")
	var total time.Duration
	for b.Loop() {
		b.StopTimer()
		e := newEnv(b)
		run := withQueue(b, e)
		b.StartTimer()
		start := time.Now()
		im, rs := importCSV(b, e, run, data, "update")
		total += time.Since(start)
		if im.Imported != rows || len(rs) != 0 {
			b.Fatalf("imported %d of %d, %d rejected (first: %+v)", im.Imported, rows, len(rs), first(rs))
		}
	}
	b.ReportMetric(float64(rows*b.N)/total.Seconds(), "rows/s")
}

// ddds are Brazilian area codes, so every generated phone is valid.
var ddds = []int{11, 21, 31, 41, 51, 61, 71, 81, 91, 19, 27, 48, 62, 85}

func first[T any](s []T) any {
	if len(s) == 0 {
		return nil
	}
	return s[0]
}
