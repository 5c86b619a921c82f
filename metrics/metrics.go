// Package metrics holds wxposter's Prometheus metrics (all named
// wxposter_…) and the small adapters that feed them from the worker, the
// WeChat client, pacing, storage and the HTTP API. Each process has one
// Metrics on its own registry, served at /metrics.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Buckets, in seconds. Jobs and renders take tens of milliseconds to
// seconds; WeChat, storage and HTTP calls milliseconds; queue waits up to
// minutes when pacing holds jobs back.
var (
	fastBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
	jobBuckets  = []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}
	waitBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900}
)

// Metrics is one process's metrics. Its methods are safe for concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	postersFinished *prometheus.CounterVec
	jobDuration     *prometheus.HistogramVec
	jobWait         *prometheus.HistogramVec
	renderDuration  *prometheus.HistogramVec
	wechatCalls     *prometheus.CounterVec
	wechatDuration  *prometheus.HistogramVec
	tokenFetches    *prometheus.CounterVec
	admissions      *prometheus.CounterVec
	holds           *prometheus.CounterVec
	storageDuration *prometheus.HistogramVec
	httpRequests    *prometheus.CounterVec
	httpDuration    *prometheus.HistogramVec
	batchItems      *prometheus.CounterVec
}

// New returns metrics registered on a new registry, with the Go runtime
// and process collectors.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.reg.MustRegister(
		collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(collectors.MetricsGC, collectors.MetricsMemory, collectors.MetricsScheduler)),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
		m.reg.MustRegister(c)
		return c
	}
	histogram := func(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
		h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
		m.reg.MustRegister(h)
		return h
	}
	m.postersFinished = counter("wxposter_posters_finished_total",
		"Poster jobs that ended, by app, template and status (succeeded or failed).", "app", "template", "status")
	m.jobDuration = histogram("wxposter_job_duration_seconds",
		"Time a worker spent on one attempt of a job, by queue and outcome (succeeded, failed, retry, held).", jobBuckets, "queue", "status")
	m.jobWait = histogram("wxposter_job_queue_wait_seconds",
		"Time from enqueue to a worker starting a job's first attempt, by queue.", waitBuckets, "queue")
	m.renderDuration = histogram("wxposter_render_duration_seconds",
		"Time to draw a poster (before encoding), by template.", jobBuckets, "template")
	m.wechatCalls = counter("wxposter_wechat_calls_total",
		"Calls to the WeChat API, by API path and errcode (0: success; \"error\": no answer or an HTTP error).", "api", "errcode")
	m.wechatDuration = histogram("wxposter_wechat_call_duration_seconds",
		"Latency of calls to the WeChat API, by API path.", fastBuckets, "api")
	m.tokenFetches = counter("wxposter_token_fetches_total",
		"access_token fetches, by app, source (stable, classic, external) and result (ok, error).", "app", "source", "result")
	m.admissions = counter("wxposter_code_rate_admissions_total",
		"Code calls let through by pacing, by app.", "app")
	m.holds = counter("wxposter_code_rate_holds_total",
		"Jobs held back by pacing, by app and reason (rate, cooldown, paused).", "app", "reason")
	m.storageDuration = histogram("wxposter_storage_operation_duration_seconds",
		"Latency of object storage operations, by operation (get, put, exists, ping) and result (ok, not_found, error).", fastBuckets, "operation", "result")
	m.httpRequests = counter("wxposter_http_requests_total",
		"HTTP requests answered, by route (the router's pattern, e.g. \"GET /v1/posters/{id}\") and status code.", "route", "status")
	m.httpDuration = histogram("wxposter_http_request_duration_seconds",
		"Latency of HTTP requests, by route (status polls with ?wait= last up to the wait).", fastBuckets, "route")
	m.batchItems = counter("wxposter_batch_items_total",
		"Batch items that reached a state, by status.", "status")
	return m
}

// Registry is the registry the metrics are on; register more collectors
// (asynq's queue collector, in the producer) with it.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}
