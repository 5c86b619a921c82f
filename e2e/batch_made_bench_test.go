package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	wxbatch "github.com/wxposter/wxposter/batch"
	"github.com/wxposter/wxposter/storage"
	"github.com/wxposter/wxposter/tasks"
)

// BenchmarkBatchDispatchMade measures the dispatch of a campaign whose
// posters are all made already (objects stored, finished records written,
// as a worker leaves them): from POST /v1/batches to every item counted as
// succeeded. WXPOSTER_BENCH_BATCH_ITEMS sets the size (default 10,000).
func BenchmarkBatchDispatchMade(b *testing.B) {
	n := 10_000
	if v, err := strconv.Atoi(os.Getenv("WXPOSTER_BENCH_BATCH_ITEMS")); err == nil && v > 0 {
		n = v
	}
	s := start(b, withWorkerProcesses(2), withWorkerConcurrency(4), withPollInterval(100*time.Millisecond))
	insp := asynq.NewInspectorFromRedisClient(s.rdb)
	defer insp.Close()
	body := func(name string) []byte {
		var w bytes.Buffer
		w.WriteString(`{"name":"` + name + `","template":"default","page":"` + pageIndex + `","items":[`)
		for i := range n {
			if i > 0 {
				w.WriteByte(',')
			}
			fmt.Fprintf(&w, `{"key":"user-%06d","scene":"m:%d"}`, i, i)
		}
		w.WriteString(`]}`)
		return w.Bytes()
	}
	ctx := ctxT(b)
	// The job ids: from a first batch, dispatched with its queue paused and
	// then cancelled.
	c := asynq.NewClientFromRedisClient(s.rdb)
	c.Enqueue(asynq.NewTask("noop", nil), asynq.Queue(s.batchQueue), asynq.ProcessIn(time.Hour))
	c.Close()
	if err := insp.PauseQueue(s.batchQueue); err != nil {
		b.Fatal(err)
	}
	code, out := s.call(http.MethodPost, "/v1/batches", body("seed"))
	if code != http.StatusAccepted {
		b.Fatalf("create = %d %s", code, out)
	}
	seed := between(string(out), `"id":"`, `"`)
	var keys []string
	var ids []string
	if _, err := s.batches.Items(ctx, seed, 0, n, 0, s.store.URL, func(v wxbatch.ItemView) bool {
		ids, keys = append(ids, v.ID), append(keys, v.ObjectKey)
		return true
	}); err != nil || len(ids) != n {
		b.Fatalf("items of the seed batch: %d, %v", len(ids), err)
	}
	_, _, _ = s.batches.Cancel(ctx, seed)
	for t0 := time.Now(); time.Since(t0) < time.Minute; time.Sleep(200 * time.Millisecond) {
		if info, err := insp.GetQueueInfo(s.batchQueue); err == nil && info.Pending <= 1 {
			break
		}
	}
	_ = insp.UnpauseQueue(s.batchQueue)
	// Made: each poster stored and recorded, as a worker leaves it.
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	for i := range ids {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := s.store.Put(ctx, keys[i], []byte("jpeg"), storage.PutOptions{ContentType: "image/jpeg"}); err != nil {
				b.Error(err)
			}
			s.rdb.Set(ctx, tasks.FinishedKey(ids[i]), s.store.URL(keys[i]), time.Hour)
		})
	}
	wg.Wait()
	b.Cleanup(func() {
		for i := range ids {
			s.rdb.Del(ctx, tasks.FinishedKey(ids[i]))
		}
	})
	for b.Loop() {
		start := time.Now()
		code, out := s.call(http.MethodPost, "/v1/batches", body(fmt.Sprint("made-", time.Now().UnixNano())))
		if code != http.StatusAccepted {
			b.Fatalf("create = %d %s", code, out)
		}
		v := s.awaitBatch(between(string(out), `"id":"`, `"`), 10*time.Minute)
		if v.Counts["succeeded"] != n {
			b.Fatalf("batch: %+v", v)
		}
		b.ReportMetric(time.Since(start).Seconds(), "s/completed")
	}
}
