package batch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"golang.org/x/sync/errgroup"

	"github.com/wxposter/wxposter/tasks"
)

// TypeDispatch is the task that submits one chunk of a batch's items.
const TypeDispatch = "batch:dispatch"

type dispatchPayload struct {
	Batch string `json:"batch"`
	Round string `json:"round"`
	From  int    `json:"from"`
	To    int    `json:"to"`
}

// dispatchAll enqueues the dispatch of every chunk of batch id for round
// (gen: "0" at creation, then the retry's number; "c<gen>" after a cancel).
// Task ids are fixed per chunk and round, so asking twice enqueues once.
func (s *Store) dispatchAll(ctx context.Context, id string, round string) error {
	total, err := s.total(ctx, id)
	if err != nil {
		return err
	}
	for from := 0; from < total; from += chunkSize {
		b, _ := json.Marshal(dispatchPayload{Batch: id, Round: round, From: from, To: min(from+chunkSize, total)})
		_, err := s.client.EnqueueContext(ctx, asynq.NewTask(TypeDispatch, b),
			asynq.Queue(s.queue), asynq.TaskID(fmt.Sprintf("batch-dispatch-%s-%s-%d", id, round, from/chunkSize)),
			asynq.MaxRetry(20), asynq.Timeout(5*time.Minute), asynq.Retention(time.Hour))
		if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
			return fmt.Errorf("batch: enqueue dispatch: %w", err)
		}
	}
	return nil
}

// Made is the "already made?" check of a poster: finished.Checker, the
// same check the single-poster path makes (memory, the Redis record of
// finished posters, then storage, failing open), so that a campaign of
// posters already made dispatches without a storage request per item.
type Made interface {
	Made(ctx context.Context, id, key string) bool
}

// Dispatcher runs TypeDispatch tasks: for each queued item of its chunk it
// registers the batch against the item's job, counts a poster already made
// as succeeded, and otherwise submits the job (tasks.Enqueuer, on the batch
// queue); for each cancelled item it removes the job's pending task unless
// another batch waits on it. Running it twice changes nothing.
type Dispatcher struct {
	store      *Store
	made       Made
	enqueuer   *tasks.Enqueuer
	inspector  *asynq.Inspector
	concurrent int
	log        *slog.Logger
}

// NewDispatcher returns the dispatch handler. enq submits the poster jobs
// with the same options as single posters.
func NewDispatcher(s *Store, made Made, enq *tasks.Enqueuer) *Dispatcher {
	return &Dispatcher{store: s, made: made, enqueuer: enq, inspector: enq.Inspector,
		concurrent: 16, log: s.log}
}

// ProcessTask implements asynq.Handler.
func (d *Dispatcher) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p dispatchPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || !ValidID(p.Batch) {
		return fmt.Errorf("batch: bad dispatch payload: %w", asynq.SkipRetry)
	}
	start := time.Now()
	s := d.store
	k := s.keysOf(p.Batch)
	queued := map[string]bool{}
	var cancelled []string
	_, err := s.Items(ctx, p.Batch, p.From, p.To, 0, func(string) string { return "" }, func(v ItemView) bool {
		switch v.Status {
		case ItemQueued:
			queued[v.ID] = true
		case ItemCancelled:
			cancelled = append(cancelled, v.ID)
		}
		return true
	})
	if errors.Is(err, ErrNotFound) {
		return nil // expired
	}
	if err != nil {
		return err
	}
	if len(queued) > 0 {
		ids := make([]string, 0, len(queued))
		pipe := s.rdb.Pipeline()
		for id := range queued {
			ids = append(ids, id)
			pipe.SAdd(ctx, s.jobKey(id), p.Batch)
			pipe.Expire(ctx, s.jobKey(id), s.retention)
		}
		pays := pipe.HMGet(ctx, k.pay, ids...)
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("batch: register jobs: %w", err)
		}
		registered := time.Now()
		// Check every job first (concurrently), then submit the ones not
		// made: the enqueues are a Redis round trip each and go fastest from
		// one goroutine per slot without check waits between.
		jobs := make([]pending, len(ids))
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(d.concurrent)
		for i, id := range ids {
			raw, _ := pays.Val()[i].(string)
			g.Go(func() (err error) {
				jobs[i], err = d.check(gctx, p.Batch, id, raw)
				return err
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
		checked := time.Now()
		g, gctx = errgroup.WithContext(ctx)
		g.SetLimit(4)
		for _, j := range jobs {
			g.Go(func() error { return d.submit(gctx, p.Batch, j) })
		}
		if err := g.Wait(); err != nil {
			return err
		}
		// Wake idle workers for the chunk rather than leave it to their poll.
		if err := tasks.Wake(ctx, d.store.rdb, d.store.batchQueue, len(jobs)); err != nil {
			d.log.DebugContext(ctx, "batch: could not wake workers", "batch", p.Batch, "err", err)
		}
		d.log.DebugContext(ctx, "batch chunk dispatched", "batch", p.Batch, "from", p.From, "jobs", len(ids),
			"register", registered.Sub(start), "check", checked.Sub(registered), "submit", time.Since(checked))
	}
	for _, id := range cancelled {
		d.unqueue(ctx, id)
	}
	return nil
}

// pending is a job of a chunk, checked by Made.
type pending struct {
	id   string
	p    tasks.PosterPayload
	made bool
}

// check reads the job's payload and asks whether its poster is made. A
// check that cannot answer says "not made": the job is enqueued, its id
// dedupes, and the worker finds the poster before rendering it.
func (d *Dispatcher) check(ctx context.Context, batchID, id, raw string) (pending, error) {
	j := pending{id: id}
	if err := json.Unmarshal([]byte(raw), &j.p); err != nil {
		return j, fmt.Errorf("batch %s: payload of job %s: %w", batchID, id, err)
	}
	j.made = d.made.Made(ctx, id, tasks.PosterKey(id, j.p.PosterExt()))
	return j, nil
}

// submit makes sure job j will run, or counts it as made.
func (d *Dispatcher) submit(ctx context.Context, batchID string, j pending) error {
	made := j.made
	if !made {
		info, replaced, err := d.enqueuer.Enqueue(ctx, d.store.batchQueue, j.id, j.p)
		if err != nil {
			return fmt.Errorf("batch %s: enqueue job %s: %w", batchID, j.id, err)
		}
		if replaced {
			d.log.InfoContext(ctx, "batch: replaced a failed job", "batch", batchID, "job", j.id)
		}
		// A job that completed between our check and its enqueue is made.
		made = info != nil && info.State == asynq.TaskStateCompleted
	}
	if made {
		return d.store.transition(ctx, batchID, j.id, stSucceeded, "qrt", "")
	}
	return nil
}

// unqueue removes the pending task of a cancelled item's job when no other
// batch waits on it. A task it misses (or that another batch still needs)
// is harmless: the worker skips jobs no live item waits on.
func (d *Dispatcher) unqueue(ctx context.Context, id string) {
	n, err := d.store.rdb.SCard(ctx, d.store.jobKey(id)).Result()
	if err != nil || n > 1 {
		return
	}
	info, err := d.inspector.GetTaskInfo(d.store.batchQueue, id)
	if err != nil {
		return
	}
	switch info.State {
	case asynq.TaskStatePending, asynq.TaskStateScheduled, asynq.TaskStateRetry:
		if err := d.inspector.DeleteTask(d.store.batchQueue, id); err == nil {
			d.log.DebugContext(ctx, "batch: removed the task of a cancelled item", "job", id)
		}
	}
}
