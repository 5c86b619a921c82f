package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/wxposter/wxposter/worker"
	"github.com/wxposter/wxposter/wxsim"
)

// BenchmarkBatchCreate100k creates one batch of 100,000 default-template
// posters with distinct scenes. It reports how long POST /v1/batches takes
// to answer, how long until every item's job is enqueued (the dispatch
// tasks), and the Redis memory per item: the batch's own keys, the job
// registry, and asynq's pending task. The batch queue is paused so no
// poster is made.
func BenchmarkBatchCreate100k(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("WXPOSTER_BENCH_BATCH_ITEMS")); err == nil && v > 0 {
		n = v // for a quicker look
	}
	s := start(b, withWorkerProcesses(2), withWorkerConcurrency(4), withPollInterval(100*time.Millisecond))
	insp := asynq.NewInspectorFromRedisClient(s.rdb)
	defer insp.Close()
	var body bytes.Buffer
	body.WriteString(`{"name":"bench","template":"default","page":"` + pageIndex + `","data":{"title":"双十一会场：满 300 减 50"},"items":[`)
	for i := range n {
		if i > 0 {
			body.WriteByte(',')
		}
		fmt.Fprintf(&body, `{"key":"user-%06d","scene":"u:%d","data":{"nickname":"用户%d"}}`, i, i, i)
	}
	body.WriteString(`]}`)
	b.Logf("request body: %.1f MiB", float64(body.Len())/(1<<20))
	for b.Loop() {
		// Pausing needs the queue to exist: one throwaway enqueue.
		c := asynq.NewClientFromRedisClient(s.rdb)
		c.Enqueue(asynq.NewTask("noop", nil), asynq.Queue(s.batchQueue), asynq.ProcessIn(time.Hour))
		c.Close()
		if err := insp.PauseQueue(s.batchQueue); err != nil {
			b.Fatal(err)
		}
		// Baseline in the same sitting: storage HEADs of missing posters at
		// the dispatchers' concurrency (2 processes × 4 tasks × 16).
		headRate := rawHeadRate(b, s, 4000, 128)
		b.ReportMetric(headRate, "HEAD/s-raw")
		start := time.Now()
		code, out := s.call(http.MethodPost, "/v1/batches", body.Bytes())
		answered := time.Since(start)
		if code != http.StatusAccepted {
			b.Fatalf("create = %d %s", code, out)
		}
		id := between(string(out), `"id":"`, `"`)
		for {
			info, err := insp.GetQueueInfo(s.batchQueue)
			if err == nil && info.Pending == n {
				break
			}
			if time.Since(start) > 10*time.Minute {
				b.Fatalf("dispatch incomplete: %+v %v", info, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
		dispatched := time.Since(start)
		shown := 0
		for _, l := range strings.Split(s.logs.String(), "\n") {
			if strings.Contains(l, "chunk dispatched") && shown < 4 {
				b.Log(l[strings.Index(l, "msg="):])
				shown++
			}
		}
		b.ReportMetric(answered.Seconds(), "s/answer")
		b.ReportMetric(dispatched.Seconds(), "s/enqueued")
		b.ReportMetric(float64(n)/dispatched.Seconds()/headRate, "dispatch/HEAD-rate")

		ctx := ctxT(b)
		var batchBytes int64
		for _, k := range []string{"meta", "st", "items", "jobs", "pay", "err"} {
			batchBytes += s.rdb.MemoryUsage(ctx, s.batchPrefix+"batch:{"+id+"}:"+k, 0).Val()
		}
		// The registry and asynq's tasks are one key per job: sample them.
		var regBytes, taskBytes int64
		tasks, _ := insp.ListPendingTasks(s.batchQueue, asynq.PageSize(100))
		for _, t := range tasks {
			regBytes += s.rdb.MemoryUsage(ctx, s.batchPrefix+"job:"+t.ID+":batches", 0).Val()
			taskBytes += s.rdb.MemoryUsage(ctx, "asynq:{"+s.batchQueue+"}:t:"+t.ID, 0).Val()
		}
		pendingList := s.rdb.MemoryUsage(ctx, "asynq:{"+s.batchQueue+"}:pending", 0).Val()
		b.ReportMetric(float64(batchBytes)/float64(n), "B/item-batch")
		b.ReportMetric(float64(regBytes)/float64(len(tasks)), "B/item-registry")
		b.ReportMetric(float64(taskBytes)/float64(len(tasks))+float64(pendingList)/float64(n), "B/item-asynq")
		_ = insp.UnpauseQueue(s.batchQueue)
		_, _, _ = s.batches.Cancel(ctx, id)
	}
}

// rawHeadRate is how many existence checks of missing posters storage
// answers per second at concurrency conc.
func rawHeadRate(b *testing.B, s *system, n, conc int) float64 {
	ctx := ctxT(b)
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if _, err := s.store.Exists(ctx, fmt.Sprintf("posters/baseline-%d.jpg", i)); err != nil {
				b.Error(err)
			}
		})
	}
	wg.Wait()
	return float64(n) / time.Since(t0).Seconds()
}

func between(s, a, b string) string {
	_, rest, _ := strings.Cut(s, a)
	v, _, _ := strings.Cut(rest, b)
	return v
}

// BenchmarkBatchColdUnderQuota runs a 1,000-item cold batch (every item
// needs its own code call) against a simulator quota of 600 calls a minute,
// with the workers' code rate at the same 600 and the shipped batch share
// of 0.8: the ideal is 1,000 / 480 per minute = 125 s. Meanwhile 20 single
// posters are sent one every 4 s; their latency is compared with 20 sent to
// the same system while idle.
func BenchmarkBatchColdUnderQuota(b *testing.B) {
	const (
		n     = 1000
		quota = 600
		share = 0.8
	)
	s := start(b, withSim(wxsim.WithQuotaPerMinute(quota)), withWorkerProcesses(2), withWorkerConcurrency(10),
		withPollInterval(100*time.Millisecond), withBatchShare(share),
		withHandlerOptions(worker.WithCodeRate(quota, nil)))
	single := func(tag string, i int) time.Duration {
		t0 := time.Now()
		j := s.submit(map[string]any{"template": "default", "page": pageIndex, "scene": fmt.Sprintf("%s:%d", tag, i),
			"data": map[string]string{"title": "单张海报"}})
		if done := s.await(j.ID); done.Status != "succeeded" {
			b.Fatalf("single poster %+v", done)
		}
		return time.Since(t0)
	}
	for b.Loop() {
		s.await(s.submit(map[string]any{"page": pageIndex, "scene": "warm"}).ID) // token, connections
		var idle []time.Duration
		for i := range 20 {
			idle = append(idle, single("idle", i))
			time.Sleep(time.Second)
		}
		items := make([]map[string]any, n)
		for i := range items {
			items[i] = map[string]any{"scene": fmt.Sprintf("cold:%d", i)}
		}
		t0 := time.Now()
		id := s.createBatch(map[string]any{"template": "default", "page": pageIndex,
			"data": map[string]string{"title": "冷启动批量"}, "items": items})
		var busy []time.Duration
		time.Sleep(10 * time.Second)
		for i := range 20 {
			busy = append(busy, single("busy", i))
			time.Sleep(4 * time.Second)
		}
		v := s.awaitBatch(id, 10*time.Minute)
		wall := v.FinishedAt.Sub(t0)
		if v.Counts["succeeded"] != n {
			b.Fatalf("batch %+v", v)
		}
		if v.FinishedAt.Before(t0.Add(90 * time.Second)) {
			b.Logf("note: the batch ended before all singles were sent")
		}
		idealSec := float64(n) / (quota * share) * 60
		b.ReportMetric(wall.Seconds(), "s/batch")
		b.ReportMetric(wall.Seconds()/idealSec, "wall/ideal")
		b.ReportMetric(float64(s.sim.Count(codeAPI, 45011)), "x45011")
		slices.Sort(idle)
		slices.Sort(busy)
		b.ReportMetric(ms(idle[len(idle)/2]), "ms-idle-p50")
		b.ReportMetric(ms(idle[len(idle)*19/20]), "ms-idle-p95")
		b.ReportMetric(ms(busy[len(busy)/2]), "ms-busy-p50")
		b.ReportMetric(ms(busy[len(busy)*19/20]), "ms-busy-p95")
		b.Logf("idle: %v", idle)
		b.Logf("during batch: %v", busy)
	}
}

func ms(d time.Duration) float64 {
	v, _ := strconv.ParseFloat(fmt.Sprintf("%.1f", float64(d)/1e6), 64)
	return v
}
