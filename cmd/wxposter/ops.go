package main

import (
	"context"
	"net/http"

	"github.com/hibiken/asynq"
	asynqmetrics "github.com/hibiken/asynq/x/metrics"

	"github.com/wxposter/wxposter/dashboard"
	"github.com/wxposter/wxposter/producer"
	"github.com/wxposter/wxposter/tasks"
)

// opsRoutes are the producer's operator routes: /metrics (with asynq's
// queue collector, registered here in the producer only so that N worker
// replicas do not multiply its Redis reads) and the dashboard.
func (d *deps) opsRoutes(ctx context.Context) ([]producer.Option, error) {
	d.metrics.Registry().MustRegister(asynqmetrics.NewQueueMetricsCollector(asynq.NewInspectorFromRedisClient(d.rdb)))
	cfg := d.cfg
	dash, err := dashboard.New(ctx, d.redis.AsynqOpt(),
		dashboard.WithPasswords(cfg.DashboardPasswords()...),
		dashboard.WithOpen(cfg.DashboardOpen),
		dashboard.WithReadOnly(cfg.DashboardReadOnly),
		dashboard.WithShowData(cfg.DashboardShowData),
		dashboard.WithQueues(append(tasks.ShardQueues(cfg.Queue, cfg.QueueShards), cfg.BatchQueue)...),
		dashboard.WithLogger(d.log),
	)
	if err != nil {
		return nil, err
	}
	d.closers = append(d.closers, dash.Close)
	return []producer.Option{
		producer.WithRequestObserver(d.metrics),
		producer.WithRoute("GET /metrics", d.metrics.Handler()),
		producer.WithRoute(dashboard.Pattern, dash),
	}, nil
}

// serveWorkerMetrics serves the worker's /metrics on WXPOSTER_METRICS_LISTEN
// (unless empty) until ctx ends.
func (d *deps) serveWorkerMetrics(ctx context.Context) {
	if d.cfg.MetricsListen == "" {
		return
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", d.metrics.Handler())
	go func() {
		if err := serveHTTP(ctx, d.log, "worker metrics", d.cfg.MetricsListen, mux); err != nil {
			d.log.Error("worker metrics stopped", "addr", d.cfg.MetricsListen, "err", err)
		}
	}()
}

// close releases what deps opened beside Redis (the dashboard's pool).
func (d *deps) close() {
	for _, c := range d.closers {
		if err := c(); err != nil {
			d.log.Warn("close", "err", err)
		}
	}
}
