package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wxposter/wxposter/internal/testenv"
	"github.com/wxposter/wxposter/pacing"
	"github.com/wxposter/wxposter/worker"
	"github.com/wxposter/wxposter/wxsim"
)

const codeAPI = "/wxa/getwxacodeunlimit"

// batch is the outcome of runBatch.
type batch struct {
	jobs    []job
	elapsed time.Duration
}

// runBatch submits n plain-code posters with distinct scenes (so each needs
// its own code call) and waits until all have ended.
func (s *system) runBatch(n int, limit time.Duration) batch {
	s.tb.Helper()
	prefix := testenv.ID(4)
	begin := time.Now()
	ids := make([]string, n)
	for i := range n {
		ids[i] = s.submit(map[string]any{"page": pageIndex, "scene": fmt.Sprintf("%s:%d", prefix, i)}).ID
	}
	// Jobs end in about the order they were submitted, so waiting for each
	// in turn sees the last one end when it does.
	b := batch{jobs: make([]job, n)}
	for i, id := range ids {
		b.jobs[i] = s.awaitUntil(id, begin.Add(limit))
	}
	b.elapsed = time.Since(begin)
	return b
}

// awaitUntil polls job id until it ends, failing the test at deadline.
func (s *system) awaitUntil(id string, deadline time.Time) job {
	s.tb.Helper()
	for time.Now().Before(deadline) {
		code, j := s.get(id, 10)
		if code != http.StatusOK {
			s.tb.Fatalf("GET job %s = %d", id, code)
		}
		if j.Status == "succeeded" || j.Status == "failed" {
			return j
		}
	}
	s.tb.Fatalf("job %s did not end by %s", id, deadline.Format(time.TimeOnly))
	return job{}
}

// checkPaced fails unless every job of b succeeded on its first attempt with
// one code call each and no 45011, and returns elapsed / (n / quota minutes).
func (s *system) checkPaced(b batch, quota int) float64 {
	s.tb.Helper()
	for _, j := range b.jobs {
		if j.Status != "succeeded" || j.Attempts != 1 {
			s.tb.Errorf("job = %+v, want succeeded on attempt 1", j)
			break
		}
	}
	if got := s.sim.Count(codeAPI, 45011); got != 0 {
		s.tb.Errorf("WeChat answered 45011 %d times, want 0", got)
	}
	if got := s.sim.Total(codeAPI); got != len(b.jobs) {
		s.tb.Errorf("code calls = %d, want %d (one per poster)", got, len(b.jobs))
	}
	if s.logs.Contains("poster failed") {
		s.tb.Error("held-back jobs were logged as failures")
	}
	ideal := time.Duration(float64(len(b.jobs)) / float64(quota) * float64(time.Minute))
	return float64(b.elapsed) / float64(ideal)
}

// A batch larger than WeChat's minute quota, on three workers: pacing
// spreads the calls so that WeChat never refuses one, and no job spends a
// retry on waiting. The ratio is logged, not asserted (see
// BenchmarkQuotaPacing and docs/benchmarks.md).
func TestQuotaPacing(t *testing.T) {
	const quota, posters = 30, 33 // about 67 s: 3 at once, then 27 a minute
	s := start(t,
		withSim(wxsim.WithQuotaPerMinute(quota)),
		withWorkerProcesses(3), withWorkerConcurrency(10),
		withHandlerOptions(worker.WithCodeRate(quota, nil)),
	)
	b := s.runBatch(posters, 3*time.Minute)
	ratio := s.checkPaced(b, quota)
	t.Logf("%d posters at %d/min: %s, %.3f × the quota's time", posters, quota, b.elapsed.Round(time.Millisecond), ratio)
}

// BenchmarkQuotaPacing runs 1.5 × the simulator's minute quota of posters
// on three workers of ten, and reports the time taken against what the
// quota allows (x_ideal: elapsed / (posters / quota minutes)) and WeChat's
// 45011 answers.
func BenchmarkQuotaPacing(b *testing.B) {
	const quota, posters = 120, 180
	s := start(b,
		withSim(wxsim.WithQuotaPerMinute(quota)),
		withWorkerProcesses(3), withWorkerConcurrency(10),
		withPollInterval(100*time.Millisecond), // the shipped default
		withHandlerOptions(worker.WithCodeRate(quota, nil)),
	)
	var ratio float64
	for b.Loop() {
		s.sim.Reset()
		ratio = s.checkPaced(s.runBatch(posters, 5*time.Minute), quota)
	}
	b.ReportMetric(ratio, "x_ideal")
	b.ReportMetric(float64(s.sim.Count(codeAPI, 45011)), "45011s")
}

// 45009 pauses the app's code calls on every worker until the daily quota
// resets; held jobs say why, spend no retry, and finish once it is lifted.
func TestDailyQuotaPausesApp(t *testing.T) {
	var exhausted atomic.Bool
	var refused atomic.Int32
	s := start(t,
		withWorkerProcesses(3),
		withHandlerOptions(worker.WithPacingOptions(pacing.WithPauseRecheck(time.Second))),
		withSimMiddleware(func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == codeAPI && exhausted.Load() {
					refused.Add(1)
					w.Header().Set("Content-Type", "application/json; encoding=utf-8")
					_, _ = w.Write([]byte(`{"errcode":45009,"errmsg":"reach max api daily quota limit"}`))
					return
				}
				next.ServeHTTP(w, r)
			})
		}),
	)
	exhausted.Store(true)
	reset := pacing.DailyReset(time.Now()).Format("2006-01-02 15:04 MST")

	// held waits until job id is rescheduled with the pause as its error.
	held := func(id string) job {
		t.Helper()
		for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
			_, j := s.get(id, 0)
			if j.Status == "failed" || j.Status == "succeeded" {
				t.Fatalf("job = %+v, want it held", j)
			}
			if j.Status == "retrying" && j.Error != nil {
				return j
			}
		}
		t.Fatalf("job %s was not held", id)
		return job{}
	}
	first := s.submit(map[string]any{"page": pageIndex, "scene": "daily:0"}).ID
	j := held(first)
	if j.Error.Code != "45009" || j.Error.Errcode == nil || *j.Error.Errcode != 45009 || j.Attempts != 0 ||
		!strings.Contains(j.Error.Message, "paused until "+reset) || !strings.Contains(j.Error.Message, s.app.AppID) {
		t.Fatalf("held job = %+v %+v, want 45009 saying code fetching is paused until %s, no attempt spent", j, j.Error, reset)
	}
	want := time.Until(pacing.DailyReset(time.Now()))
	ttl := s.rdb.PTTL(ctxT(t), "wxposter:pace:"+s.app.AppID+":paused").Val()
	if ttl > want+time.Second || ttl < want-5*time.Second {
		t.Errorf("pause TTL = %s, want %s (until 00:00 China time)", ttl, want)
	}

	// Later jobs, on any worker, are held without calling WeChat.
	var later []string
	for i := 1; i <= 4; i++ {
		later = append(later, s.submit(map[string]any{"page": pageIndex, "scene": fmt.Sprintf("daily:%d", i)}).ID)
	}
	for _, id := range later {
		if j := held(id); j.Error.Code != "45009" || !strings.Contains(j.Error.Message, reset) {
			t.Fatalf("later job = %+v %+v, want held by the pause", j, j.Error)
		}
	}
	time.Sleep(2 * time.Second) // a few rechecks
	if n := refused.Load(); n != 1 {
		t.Errorf("WeChat was called %d times while paused, want only the first call", n)
	}

	exhausted.Store(false)
	if err := pacing.New(s.rdb, pacing.WithLogger(s.logs.Logger())).Resume(ctxT(t), s.app.AppID); err != nil {
		t.Fatal(err)
	}
	for _, id := range append([]string{first}, later...) {
		if j := s.await(id); j.Status != "succeeded" || j.Attempts != 1 {
			t.Errorf("after resume: %+v, want succeeded without a failed attempt", j)
		}
	}
	if n := s.sim.Total(codeAPI); n != 5 {
		t.Errorf("code calls after resume = %d, want 5", n)
	}
}
