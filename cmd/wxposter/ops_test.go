package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/redis/go-redis/v9"

	"github.com/wxposter/wxposter/finished"
	"github.com/wxposter/wxposter/internal/testenv"
	"github.com/wxposter/wxposter/storage"
)

// Ports of this test, in the ops range of the shared machine.
const (
	opsProducer = "127.0.0.1:7500"
	opsWorker   = "127.0.0.1:7501" // WXPOSTER_METRICS_LISTEN
	opsSim      = "127.0.0.1:7502"
)

// TestOperatorSurface runs `wxposter sim`, `wxposter worker` and `wxposter
// producer` as the binary does (separate configurations, metrics registries
// and Redis pools; one test process), makes a few posters, then reads
// /metrics on the producer and on the worker's metrics listener and checks
// the values (a batch's too), and checks the dashboard's auth and queue
// list.
func TestOperatorSurface(t *testing.T) {
	const key = "ops-test-key-0123456789"
	app := testenv.AppID()
	queue, batchQueue := "ops-"+testenv.ID(4), "ops-batch-"+testenv.ID(4)
	bucket := "wxtest-ops-" + testenv.ID(4)
	for k, v := range map[string]string{
		"WXPOSTER_LISTEN": opsProducer, "WXPOSTER_METRICS_LISTEN": opsWorker,
		"WXPOSTER_SIM_LISTEN": opsSim, "WXPOSTER_WECHAT_API_BASE": "http://" + opsSim,
		"WXPOSTER_APPS": app + ":ops-secret", "WXPOSTER_API_KEYS": key,
		"WXPOSTER_QUEUE": queue, "WXPOSTER_BATCH_QUEUE": batchQueue, "WXPOSTER_BUCKET": bucket,
		"WXPOSTER_MINIO_ACCESS_KEY": testenv.MinIOKey, "WXPOSTER_MINIO_SECRET_KEY": testenv.MinIOSecret,
		"WXPOSTER_MAX_RETRY": "2", "WXPOSTER_WORKER_POLL_INTERVAL": "20ms", "WXPOSTER_LOG_LEVEL": "warn",
		"WXPOSTER_DASHBOARD_KEYS": "", "WXPOSTER_TEMPLATE_DIR": "", "WXPOSTER_MADE_INDEX_MB": "1",
	} {
		t.Setenv(k, v)
	}
	rdb := testenv.Redis(t)
	t.Cleanup(func() {
		insp := asynq.NewInspectorFromRedisClient(rdb)
		insp.DeleteQueue(queue, true)
		insp.DeleteQueue(batchQueue, true)
		if s, err := storage.New(context.Background(), storage.Config{Endpoint: testenv.MinIOServer,
			AccessKey: testenv.MinIOKey, SecretKey: testenv.MinIOSecret, Bucket: bucket}); err == nil {
			rdb.Del(context.Background(), indexOf(rdb, s).IndexKey())
			s.RemoveAll(context.Background())
		}
	})

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	done := make(chan error, 3)
	for _, role := range []string{"sim", "worker", "producer"} {
		go func() { done <- run(ctx, []string{role}, io.Discard) }()
	}
	t.Cleanup(func() {
		cancel()
		for range 3 {
			if err := <-done; err != nil {
				t.Errorf("stop: %v", err)
			}
		}
	})
	base := "http://" + opsProducer
	waitUp(t, base+"/healthz")
	waitUp(t, "http://"+opsWorker+"/metrics")
	// The worker builds the index of made posters of the new bucket at once.
	if s, err := storage.New(ctx, storage.Config{Endpoint: testenv.MinIOServer,
		AccessKey: testenv.MinIOKey, SecretKey: testenv.MinIOSecret, Bucket: bucket}); err != nil {
		t.Fatal(err)
	} else {
		for end := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			if ok, _ := indexOf(rdb, s).IndexComplete(ctx); ok {
				break
			}
			if time.Now().After(end) {
				t.Fatal("the worker did not build the index of made posters")
			}
		}
	}

	call := func(method, path string, body any, want int) map[string]any {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, base+path, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		if resp.StatusCode != want {
			t.Fatalf("%s %s = %d %v, want %d", method, path, resp.StatusCode, out, want)
		}
		return out
	}
	poster := func(page, scene string) map[string]any {
		return map[string]any{"template": "default", "page": page, "scene": scene,
			"data": map[string]string{"nickname": "运维", "title": "metrics"}}
	}
	// Three posters, one on an unpublished page (41030: fails at once), and
	// the first again once it exists (answered from storage, no job).
	var ids []string
	for i := range 3 {
		ids = append(ids, call("POST", "/v1/posters", poster("pages/index/index", fmt.Sprintf("ops:%d", i)), 202)["id"].(string))
	}
	ids = append(ids, call("POST", "/v1/posters", poster("pages/not/published", "ops:x"), 202)["id"].(string))
	polls := 0
	for i, id := range ids {
		want := "succeeded"
		if i == 3 {
			want = "failed"
		}
		for {
			polls++
			j := call("GET", "/v1/posters/"+id+"?wait=10", nil, 200)
			if j["status"] == want {
				break
			}
			if j["status"] == "succeeded" || j["status"] == "failed" {
				t.Fatalf("job %d: %v, want %s", i, j, want)
			}
		}
	}
	call("POST", "/v1/posters", poster("pages/index/index", "ops:0"), 200)

	// The worker's metrics. The last job's middleware finishes just after
	// its result is recorded, so wait for it.
	var wm metricFamilies
	deadline := time.Now().Add(10 * time.Second)
	for {
		wm = scrape(t, "http://"+opsWorker+"/metrics")
		if wm.value(t, "wxposter_job_duration_seconds", "queue", queue, "status", "failed") == 1 &&
			wm.value(t, "wxposter_job_duration_seconds", "queue", queue, "status", "succeeded") == 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	const code = "wxa/getwxacodeunlimit"
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"wxposter_posters_finished_total", []string{"app", app, "template", "default", "status", "succeeded"}, 3},
		{"wxposter_posters_finished_total", []string{"app", app, "template", "default", "status", "failed"}, 1},
		{"wxposter_job_duration_seconds", []string{"queue", queue, "status", "succeeded"}, 3}, // histogram: count
		{"wxposter_job_duration_seconds", []string{"queue", queue, "status", "failed"}, 1},
		{"wxposter_job_queue_wait_seconds", []string{"queue", queue}, 4},
		{"wxposter_render_duration_seconds", []string{"template", "default"}, 3},
		{"wxposter_wechat_calls_total", []string{"api", code, "errcode", "0"}, 3},
		{"wxposter_wechat_calls_total", []string{"api", code, "errcode", "41030"}, 1},
		{"wxposter_wechat_calls_total", []string{"api", "cgi-bin/stable_token", "errcode", "0"}, 1},
		{"wxposter_wechat_call_duration_seconds", []string{"api", code}, 4},
		{"wxposter_token_fetches_total", []string{"app", app, "source", "stable", "result", "ok"}, 1},
		{"wxposter_code_rate_admissions_total", []string{"app", app}, 4},
		{"wxposter_storage_operation_duration_seconds", []string{"operation", "put", "result", "ok"}, 6}, // 3 codes, 3 posters
	} {
		if got := wm.value(t, c.name, c.labels...); got != c.want {
			t.Errorf("worker %s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if got := wm.value(t, "wxposter_storage_operation_duration_seconds", "operation", "get", "result", "not_found"); got < 4 {
		t.Errorf("worker storage gets of missing codes = %v, want at least one per job", got)
	}
	if got := wm.sum(t, "wxposter_job_duration_seconds", "queue", queue, "status", "succeeded"); got <= 0 {
		t.Errorf("job durations sum to %v", got)
	}
	for _, name := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "process_resident_memory_bytes"} {
		if wm[name] == nil {
			t.Errorf("worker metrics lack the runtime metric %s", name)
		}
	}
	if wm["asynq_queue_size"] != nil {
		t.Error("the worker registers asynq's queue collector; only the producer should")
	}

	// The producer's metrics: no API key needed.
	pm := scrape(t, base+"/metrics")
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"wxposter_http_requests_total", []string{"route", "POST /v1/posters", "status", "202"}, 4},
		{"wxposter_http_requests_total", []string{"route", "POST /v1/posters", "status", "200"}, 1},
		{"wxposter_http_requests_total", []string{"route", "GET /v1/posters/{id}", "status", "200"}, float64(polls)},
		{"wxposter_http_request_duration_seconds", []string{"route", "POST /v1/posters"}, 5},
		// No storage check: the index of made posters has never seen the new
		// posters, and the repeat is answered from the finished-poster record.
		{"wxposter_storage_operation_duration_seconds", []string{"operation", "exists", "result", "ok"}, 0},
		{"asynq_queue_size", []string{"queue", queue}, 4}, // asynq counts completed and archived tasks too
		{"asynq_queue_size", []string{"queue", batchQueue}, 0},
		{"asynq_tasks_enqueued_total", []string{"queue", queue, "state", "completed"}, 3},
		{"asynq_tasks_enqueued_total", []string{"queue", queue, "state", "archived"}, 1},
	} {
		if got := pm.value(t, c.name, c.labels...); got != c.want {
			t.Errorf("producer %s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	for _, m := range pm["wxposter_http_requests_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if strings.Contains(l.GetValue(), ids[0]) {
				t.Errorf("a raw path in a route label: %q", l.GetValue())
			}
		}
	}

	// A batch of three items, one on the unpublished page: batch items are
	// counted by the state transitions the batch store commits.
	b := call("POST", "/v1/batches", map[string]any{"template": "default", "page": "pages/index/index",
		"data":  map[string]string{"nickname": "运维", "title": "batch"},
		"items": []map[string]string{{"scene": "b:1"}, {"scene": "b:2"}, {"scene": "b:3", "page": "pages/not/published"}}}, 202)
	for {
		v := call("GET", "/v1/batches/"+b["id"].(string)+"?wait=10", nil, 200)
		if v["status"] == "completed" {
			break
		}
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		wm = scrape(t, "http://"+opsWorker+"/metrics")
		if wm.value(t, "wxposter_posters_finished_total", "app", app, "template", "default", "status", "succeeded") == 5 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"wxposter_batch_items_total", []string{"status", "succeeded"}, 2},
		{"wxposter_batch_items_total", []string{"status", "failed"}, 1},
		{"wxposter_posters_finished_total", []string{"app", app, "template", "default", "status", "succeeded"}, 5},
		{"wxposter_posters_finished_total", []string{"app", app, "template", "default", "status", "failed"}, 2},
		{"wxposter_job_queue_wait_seconds", []string{"queue", batchQueue}, 3},
		{"wxposter_code_rate_admissions_total", []string{"app", app}, 7},
	} {
		if got := wm.value(t, c.name, c.labels...); got != c.want {
			t.Errorf("after the batch, worker %s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}

	// The dashboard on the producer: the API key opens it (any user name).
	for _, c := range []struct {
		user, pass string
		want       int
	}{{"", "", 401}, {"ops", "wrong-key-0123456789", 401}, {"ops", key, 200}} {
		req, _ := http.NewRequest("GET", base+"/monitoring/api/queues", nil)
		if c.pass != "" {
			req.SetBasicAuth(c.user, c.pass)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Fatalf("GET /monitoring/api/queues as %q = %d, want %d", c.pass, resp.StatusCode, c.want)
		}
		if c.want == 200 && (!strings.Contains(string(b), `"queue":"`+queue+`"`) || !strings.Contains(string(b), `"queue":"`+batchQueue+`"`)) {
			t.Fatalf("the dashboard lists neither %s nor %s: %.400s", queue, batchQueue, b)
		}
	}
}

func waitUp(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not up: %v", url, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// metricFamilies is a parsed /metrics answer.
type metricFamilies map[string]*dto.MetricFamily

func scrape(t *testing.T, url string) metricFamilies {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s = %d", url, resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("%s: not the Prometheus text format: %v", url, err)
	}
	return mfs
}

// find is the series of name with exactly these label values (name=value
// pairs; other labels may be anything), or nil.
func (m metricFamilies) find(name string, labels ...string) *dto.Metric {
	mf := m[name]
	if mf == nil {
		return nil
	}
next:
	for _, s := range mf.GetMetric() {
		have := map[string]string{}
		for _, l := range s.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				continue next
			}
		}
		return s
	}
	return nil
}

// value is a counter's or gauge's value, or a histogram's count; 0 when the
// series does not exist.
func (m metricFamilies) value(t *testing.T, name string, labels ...string) float64 {
	s := m.find(name, labels...)
	switch {
	case s == nil:
		return 0
	case s.Counter != nil:
		return s.Counter.GetValue()
	case s.Gauge != nil:
		return s.Gauge.GetValue()
	case s.Histogram != nil:
		return float64(s.Histogram.GetSampleCount())
	}
	t.Fatalf("%s: unexpected metric type", name)
	return 0
}

// sum is a histogram's sum of observations.
func (m metricFamilies) sum(t *testing.T, name string, labels ...string) float64 {
	s := m.find(name, labels...)
	if s == nil || s.Histogram == nil {
		t.Fatalf("no histogram %s%v", name, labels)
	}
	return s.Histogram.GetSampleSum()
}

// indexOf is the index of made posters of store's bucket (its Redis key).
func indexOf(rdb redis.UniversalClient, store *storage.Store) *finished.Records {
	return finished.New(rdb, finished.WithIndex(1<<23, store.URL("")))
}
