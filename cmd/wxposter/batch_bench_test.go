package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wxposter/wxposter/batchclient"
	"github.com/wxposter/wxposter/batchcsv"
)

// BenchmarkCreateFromCSV100k sends a 100,000-row CSV file to a stand-in API
// that only counts bytes, the way `wxposter batch create` does (check the
// file, then stream it), and, as the baseline, the obvious way (read every
// row into a slice, marshal one body). It reports the peak live heap of
// each: streaming keeps it flat whatever the file's size.
//
//	go test -run '^$' -bench CreateFromCSV100k -benchtime 3x ./cmd/wxposter
func BenchmarkCreateFromCSV100k(b *testing.B) {
	path := filepath.Join(b.TempDir(), "big.csv")
	var sb strings.Builder
	sb.WriteString("key,param.from,param.ch,data.nickname,data.title\n")
	for i := range 100_000 {
		fmt.Fprintf(&sb, "u%06d,user-%06d,group,用户%d,周末一起去爬山\n", i, i, i)
	}
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	var got atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		got.Store(n)
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"id":"b1","status":"running","total":100000,"status_url":"/v1/batches/b1"}`)
	}))
	defer srv.Close()
	cl, err := batchclient.New(srv.URL)
	if err != nil {
		b.Fatal(err)
	}
	req := batchclient.CreateRequest{Template: "invite", Page: "pages/index/index"}
	ctx := context.Background()

	b.Run("stream", func(b *testing.B) {
		peak := measurePeakHeap(b, func() {
			if _, err := batchcsv.Scan(path); err != nil {
				b.Fatal(err)
			}
			if _, err := cl.Create(ctx, req, batchcsv.Items(path, nil)); err != nil {
				b.Fatal(err)
			}
		})
		b.ReportMetric(peak/(1<<20), "peak-heap-MiB")
		b.ReportMetric(float64(got.Load())/(1<<20), "body-MiB")
	})
	b.Run("baseline-slice", func(b *testing.B) {
		peak := measurePeakHeap(b, func() {
			var items []batchclient.Item
			for it, err := range batchcsv.Items(path, nil) {
				if err != nil {
					b.Fatal(err)
				}
				items = append(items, it)
			}
			body, err := json.Marshal(struct {
				batchclient.CreateRequest
				Items []batchclient.Item `json:"items"`
			}{req, items})
			if err != nil {
				b.Fatal(err)
			}
			resp, err := http.Post(srv.URL+"/v1/batches", "application/json", strings.NewReader(string(body)))
			if err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
		})
		b.ReportMetric(peak/(1<<20), "peak-heap-MiB")
	})
}

// measurePeakHeap runs f b.N times, sampling the live heap every
// millisecond, and returns the highest sample above the heap before.
func measurePeakHeap(b *testing.B, f func()) float64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	base := sample[0].Value.Uint64()
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				metrics.Read(s)
				if v := s[0].Value.Uint64(); v > peak.Load() {
					peak.Store(v)
				}
			}
		}
	}()
	b.ResetTimer()
	for range b.N {
		f()
	}
	b.StopTimer()
	close(stop)
	<-done
	if p := peak.Load(); p > base {
		return float64(p - base)
	}
	return 0
}
