package e2e

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	wxbatch "github.com/wxposter/wxposter/batch"
	"github.com/wxposter/wxposter/finished"
	"github.com/wxposter/wxposter/pacing"
	"github.com/wxposter/wxposter/poster"
	"github.com/wxposter/wxposter/tasks"
	"github.com/wxposter/wxposter/templates"
	"github.com/wxposter/wxposter/wechat"
	"github.com/wxposter/wxposter/worker"
)

// withCallbacks sets the batch callback secret and allowed hosts.
func withCallbacks(secret string, hosts ...string) setting {
	return func(s *settings) { s.callbackSecret, s.callbackHosts = secret, hosts }
}

// withBatchShare sets the batches' share of each app's code rate.
func withBatchShare(f float64) setting { return func(s *settings) { s.batchShare = f } }

func mustHosts(tb testing.TB, hosts []string) *wxbatch.Hosts {
	h, err := wxbatch.ParseHosts(hosts)
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

// batchStore is a batch store on rdb under the test's prefix and queues.
func (s *system) batchStore(rdb redis.UniversalClient) *wxbatch.Store {
	st := wxbatch.NewStore(rdb, wxbatch.WithKeyPrefix(s.batchPrefix+"batch:"),
		wxbatch.WithQueues(tasks.ShardQueues(s.queue, s.shards)[0], s.batchQueue), wxbatch.WithLogger(s.logs.Logger()))
	s.tb.Cleanup(func() { st.Close() })
	return st
}

// startWorker starts one worker "process" on rdb: the poster handler with
// batch tracking, both queues, and the batch control tasks.
func (s *system) startWorker(rdb redis.UniversalClient, wx *wechat.Client, renderer *poster.Renderer, images worker.Images, set settings, opts ...worker.HandlerOption) {
	tb := s.tb
	log := s.logs.Logger()
	srv, mux := s.newWorker(rdb, wx, renderer, images, set, log, opts...)
	if err := srv.Start(mux); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(srv.Shutdown)
}

func (s *system) newWorker(rdb redis.UniversalClient, wx *wechat.Client, renderer *poster.Renderer, images worker.Images, set settings, log *slog.Logger, opts ...worker.HandlerOption) (*asynq.Server, *asynq.ServeMux) {
	store := s.batchStore(rdb)
	share := set.batchShare
	if share == 0 {
		share = pacing.DefaultBatchShare
	}
	h := worker.NewHandler(rdb, []wechat.App{s.app}, wx, s.store, renderer, images,
		append([]worker.HandlerOption{worker.WithLogger(log),
			worker.WithTemplates(templates.NewStore(rdb, templates.WithKeyPrefix(s.tmplPrefix))),
			worker.WithBatches(store, s.batchQueue, worker.BatchSlots(set.workers, share)),
			worker.WithPacingOptions(pacing.WithBatchShare(share)),
		}, opts...)...)
	srv := worker.NewServer(rdb, worker.ServerConfig{
		Queue: s.queue, Shards: s.shards, BatchQueue: s.batchQueue, Concurrency: set.workers, PollInterval: set.poll, Logger: log,
	})
	mux := worker.NewMux(h)
	enq := &tasks.Enqueuer{Client: asynq.NewClientFromRedisClient(rdb), Inspector: asynq.NewInspectorFromRedisClient(rdb),
		Retention: 24 * time.Hour, Timeout: 2 * time.Minute, MaxRetry: set.maxRetry}
	var objects finished.Objects = s.store
	if set.dispatchStore != nil {
		objects = set.dispatchStore(s.store)
	}
	mux.Handle(wxbatch.TypeDispatch, wxbatch.NewDispatcher(store, finished.NewChecker(finished.NewCache(finished.New(rdb), 0, 0), objects, log), enq))
	mux.Handle(wxbatch.TypeCallback, wxbatch.NewDeliverer(set.callbackSecret, mustHosts(tb(s), set.callbackHosts), log))
	return srv, mux
}

func tb(s *system) testing.TB { return s.tb }

// batchView is GET /v1/batches/{id}.
type batchView struct {
	ID         string         `json:"id"`
	Name       string         `json:"name"`
	Status     string         `json:"status"`
	Total      int            `json:"total"`
	Counts     map[string]int `json:"counts"`
	FinishedAt *time.Time     `json:"finished_at"`
	ETASeconds *int           `json:"eta_seconds"`
}

func (v batchView) sum() int {
	n := 0
	for _, c := range v.Counts {
		n += c
	}
	return n
}

// createBatch posts a batch and returns its id.
func (s *system) createBatch(body map[string]any) string {
	s.tb.Helper()
	code, b := s.call(http.MethodPost, "/v1/batches", body)
	if code != http.StatusAccepted {
		s.tb.Fatalf("POST /v1/batches = %d %s", code, b)
	}
	var out struct {
		ID, Status, StatusURL string
		Total                 int
	}
	if err := json.Unmarshal(b, &out); err != nil {
		s.tb.Fatal(err)
	}
	return out.ID
}

// batch reads a batch, holding up to wait seconds.
func (s *system) batch(id string, wait int) batchView {
	s.tb.Helper()
	code, b := s.call(http.MethodGet, fmt.Sprintf("/v1/batches/%s?wait=%d", id, wait), nil)
	if code != http.StatusOK {
		s.tb.Fatalf("GET batch = %d %s", code, b)
	}
	var v batchView
	if err := json.Unmarshal(b, &v); err != nil {
		s.tb.Fatal(err)
	}
	if v.sum() != v.Total {
		s.tb.Fatalf("counts %v do not add up to total %d", v.Counts, v.Total)
	}
	return v
}

// awaitBatch polls until the batch ends (at most d).
func (s *system) awaitBatch(id string, d time.Duration) batchView {
	s.tb.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if v := s.batch(id, 10); v.FinishedAt != nil {
			return v
		}
	}
	v := s.batch(id, 0)
	s.tb.Fatalf("batch %s did not end in %s: %+v", id, d, v)
	return v
}

// dumpLogsOnFailure prints the system's logs if the test failed.
func (s *system) dumpLogsOnFailure() {
	s.tb.Cleanup(func() {
		if s.tb.Failed() {
			s.tb.Log(s.logs.String())
		}
	})
}
