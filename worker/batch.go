package worker

import (
	"context"
	"time"

	"github.com/hibiken/asynq"

	"github.com/wxposter/wxposter/batch"
	"github.com/wxposter/wxposter/pacing"
	"github.com/wxposter/wxposter/tasks"
)

// Tracker follows jobs for the batch items waiting on them;
// *batch.Store is the implementation.
type Tracker interface {
	// Started is called before a job runs; run false drops a task of the
	// batch queue that no item waits on any more.
	Started(ctx context.Context, jobID string, fromBatchQueue bool) (run bool, err error)
	// Ended is called after each run of a job.
	Ended(ctx context.Context, jobID string, o batch.Outcome, jerr *tasks.JobError) error
}

var _ Tracker = (*batch.Store)(nil)

// WithBatches makes the handler keep batch items in step with their jobs
// (t), and treat jobs from batchQueue as batch work: they are paced within
// the batches' share of each app's code rate (pacing.WithBatchShare), and
// at most slots of them run at once in this process (0: no limit), so the
// other worker slots stay free for single posters.
func WithBatches(t Tracker, batchQueue string, slots int) HandlerOption {
	return func(h *Handler) {
		h.tracker, h.batchQueue = t, batchQueue
		if slots > 0 {
			h.batchSlots = make(chan struct{}, slots)
		}
	}
}

// BatchSlots is how many of a worker's concurrency slots batch items may
// take: share of them, at least 1, and at least one fewer than all when
// there are two or more.
func BatchSlots(concurrency int, share float64) int {
	n := int(float64(concurrency) * share)
	if n >= concurrency {
		n = concurrency - 1
	}
	return max(n, 1)
}

// batchSlotWait is how long a batch item waits for a batch slot before it
// goes back to the queue: short, since it holds a worker slot meanwhile
// that a single poster may need, but long enough not to spin.
const batchSlotWait = 250 * time.Millisecond

// takeBatchSlot claims one of the process's batch slots, waiting up to
// batchSlotWait; release gives it back. ok is false when none came free.
func (h *Handler) takeBatchSlot(ctx context.Context) (release func(), ok bool) {
	if h.batchSlots == nil || !h.fromBatchQueue(ctx) {
		return func() {}, true
	}
	var timeout <-chan time.Time
	if !lastAttempt(ctx) { // asynq would archive a task erring on its last attempt: wait instead
		t := time.NewTimer(batchSlotWait)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case h.batchSlots <- struct{}{}:
		return func() { <-h.batchSlots }, true
	case <-timeout:
		return nil, false
	case <-ctx.Done():
		return nil, false
	}
}

// fromBatchQueue reports whether the running task came from the batch queue.
func (h *Handler) fromBatchQueue(ctx context.Context) bool {
	q, ok := asynq.GetQueueName(ctx)
	return ok && h.batchQueue != "" && q == h.batchQueue
}

// started tells the tracker a job begins. It returns the context to run
// it with (batch pacing for batch work) and whether to run it at all.
func (h *Handler) started(ctx context.Context, id string) (context.Context, bool, error) {
	fromBatch := h.fromBatchQueue(ctx)
	if fromBatch {
		ctx = pacing.AsBatch(ctx)
	}
	if h.tracker == nil || id == "" {
		return ctx, true, nil
	}
	run, err := h.tracker.Started(ctx, id, fromBatch)
	return ctx, run, err
}

// ended tells the tracker how a run ended. Its own failure is logged; the
// caller decides whether the job must run again for it.
func (h *Handler) ended(ctx context.Context, id string, o batch.Outcome, jerr *tasks.JobError) error {
	if h.tracker == nil || id == "" {
		return nil
	}
	// Finish the bookkeeping even if the job's context just ended.
	tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err := h.tracker.Ended(tctx, id, o, jerr)
	if err != nil {
		h.log.WarnContext(ctx, "could not record the job's end on its batch items", "job", id, "err", err)
	} else {
		redisAnswered(ctx)
	}
	return err
}

// backoffer is an error that says when its task should run again (a batch
// callback's delivery).
type backoffer interface {
	Backoff(n int) time.Duration
}
