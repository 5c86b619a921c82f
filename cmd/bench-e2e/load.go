package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// client is a keep-alive HTTP client for many connections to one host.
var client = &http.Client{
	Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256},
	Timeout:   60 * time.Second,
}

// job is a poster job as the API shows it.
type job struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	URL    string `json:"url"`
	Error  any    `json:"error"`
}

func call(ctx context.Context, method, url string, body []byte, out any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if out == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, err
	}
	return resp.StatusCode, json.NewDecoder(resp.Body).Decode(out)
}

// make posts body with ?wait=30 (the job's end comes in the same request,
// as the poster button asks) and, if it did not end in time, polls; it
// returns the finished job.
func (s *system) make(ctx context.Context, body map[string]any) (job, error) {
	b, _ := json.Marshal(body)
	var j job
	code, err := call(ctx, http.MethodPost, s.api+"/v1/posters?wait=30", b, &j)
	if err != nil {
		return j, err
	}
	if code != http.StatusOK && code != http.StatusAccepted {
		return j, fmt.Errorf("POST /v1/posters = %d", code)
	}
	for j.Status != "succeeded" && j.Status != "failed" {
		if _, err := call(ctx, http.MethodGet, s.api+"/v1/posters/"+j.ID+"?wait=30", nil, &j); err != nil {
			return j, err
		}
	}
	if j.Status == "failed" {
		return j, fmt.Errorf("job %s failed: %v", j.ID, j.Error)
	}
	return j, nil
}

// result of a closed-loop run: operations done and their latencies.
type result struct {
	n       int
	all     int // every operation that succeeded, warm-up and tail included
	elapsed time.Duration
	lat     []time.Duration
	errs    int
}

// add merges a client goroutine's part into r.
func (r *result) add(o result) {
	r.n += o.n
	r.all += o.all
	r.errs += o.errs
	r.lat = append(r.lat, o.lat...)
}

func (r result) rate() float64 { return float64(r.n) / r.elapsed.Seconds() }

func (r result) pct(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	slices.Sort(r.lat)
	i := int(p * float64(len(r.lat)-1))
	return r.lat[i]
}

// closedLoop runs op from conns goroutines for warm + d and reports the
// operations completed within d (after the warm-up) and the latencies of
// those that also started within it.
func closedLoop(ctx context.Context, conns int, warm, d time.Duration, op func(ctx context.Context, worker, i int) error) result {
	var (
		mu  sync.Mutex
		res result
		wg  sync.WaitGroup
	)
	start := time.Now()
	measureFrom, end := start.Add(warm), start.Add(warm+d)
	for w := range conns {
		wg.Go(func() {
			var lat []time.Duration
			n, all, errs := 0, 0, 0
			for i := 0; ; i++ {
				t0 := time.Now()
				if t0.After(end) || ctx.Err() != nil {
					break
				}
				err := op(ctx, w, i)
				t1 := time.Now()
				if err == nil {
					all++
				}
				if t1.Before(measureFrom) || t1.After(end) {
					continue // finished during the warm-up or after the window
				}
				if err != nil {
					errs++
					continue
				}
				n++ // throughput: completions inside the window
				if !t0.Before(measureFrom) {
					lat = append(lat, t1.Sub(t0))
				}
			}
			mu.Lock()
			res.add(result{n: n, all: all, errs: errs, lat: lat})
			mu.Unlock()
		})
	}
	wg.Wait()
	res.elapsed = d
	return res
}

func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// openLoop sends rate requests per second in total from conns goroutines
// on a fixed schedule for d, after warm. Latency is measured from when each
// request is sent: on this shared machine a client goroutine's timer often
// fires late, and that lateness is the client's, not the server's. (A
// server that fell behind would show as a rate below the one asked for.)
func openLoop(ctx context.Context, conns int, rate float64, warm, d time.Duration, op func(ctx context.Context, worker, i int) error) result {
	var (
		mu  sync.Mutex
		res result
		wg  sync.WaitGroup
	)
	interval := time.Duration(float64(conns) / rate * float64(time.Second))
	start := time.Now()
	measureFrom, end := start.Add(warm), start.Add(warm+d)
	for w := range conns {
		wg.Go(func() {
			var lat []time.Duration
			n, errs := 0, 0
			for i := 0; ; i++ {
				due := start.Add(time.Duration(w)*interval/time.Duration(conns) + time.Duration(i)*interval)
				if due.After(end) || ctx.Err() != nil {
					break
				}
				time.Sleep(time.Until(due))
				t0 := time.Now()
				err := op(ctx, w, i)
				if due.Before(measureFrom) {
					continue
				}
				if err != nil {
					errs++
					continue
				}
				n++
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			res.add(result{n: n, errs: errs, lat: lat})
			mu.Unlock()
		})
	}
	wg.Wait()
	res.elapsed = d
	return res
}
