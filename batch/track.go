package batch

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/wxposter/wxposter/tasks"
)

// Outcome is how a run of a job ended, for the items waiting on it.
type Outcome int

const (
	// Succeeded: the poster is stored.
	Succeeded Outcome = iota
	// Failed: the job will not run again.
	Failed
	// Retrying: the job failed and will run again.
	Retrying
	// Held: pacing put the job back without spending a retry.
	Held
)

// Started records that a worker began job jobID: the items waiting on it
// become running. run is false when the task came from the batch queue and
// no item of any batch still waits on the job (they were cancelled, or the
// job ended elsewhere): the worker then drops the task without calling
// WeChat. Jobs no batch knows always run.
func (s *Store) Started(ctx context.Context, jobID string, fromBatchQueue bool) (run bool, err error) {
	batches, err := s.rdb.SMembers(ctx, s.jobKey(jobID)).Result()
	if err != nil {
		return false, fmt.Errorf("batch: batches of job %s: %w", jobID, err)
	}
	if len(batches) == 0 {
		return true, nil
	}
	live := 0
	for _, b := range batches {
		n, err := s.transitionLive(ctx, b, jobID, stRunning, "qt", "")
		if err != nil {
			return false, err
		}
		live += n
	}
	return live > 0 || !fromBatchQueue, nil
}

// Ended records how a run of job jobID ended on every item waiting on it;
// jerr is the error of a failed job.
func (s *Store) Ended(ctx context.Context, jobID string, o Outcome, jerr *tasks.JobError) error {
	batches, err := s.rdb.SMembers(ctx, s.jobKey(jobID)).Result()
	if err != nil {
		return fmt.Errorf("batch: batches of job %s: %w", jobID, err)
	}
	var to byte
	var from, text string
	switch o {
	case Succeeded:
		to, from = stSucceeded, "qrt"
	case Failed:
		to, from, text = stFailed, "qrt", formatItemError(jerr)
	case Retrying:
		to, from = stRetrying, "qr"
	case Held:
		to, from = stQueued, "r"
	}
	var errs []error
	for _, b := range batches {
		if err := s.transition(ctx, b, jobID, to, from, text); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// transition moves the items of job jobID in batch id whose state is in
// from to state to, and enqueues the completion callback if the batch
// ended.
func (s *Store) transition(ctx context.Context, id, jobID string, to byte, from, errText string) error {
	_, err := s.transitionLive(ctx, id, jobID, to, from, errText)
	return err
}

func (s *Store) transitionLive(ctx context.Context, id, jobID string, to byte, from, errText string) (int, error) {
	res, err := transitionScript.Run(ctx, s.rdb, s.keysOf(id).all(),
		jobID, string(rune(to)), from, errText, s.clock().UnixMilli(), s.ttl()).Int64Slice()
	if err != nil {
		return 0, fmt.Errorf("batch %s: item transition: %w", id, err)
	}
	s.observeItems(to, res[0]) // res[0]: the items this call moved
	return int(res[1]), s.afterTransition(ctx, id, res[2])
}

// afterTransition enqueues the callback of completion epoch cb (0: none
// pending) and then clears its mark. Whoever sees the mark enqueues: the
// task id is fixed per completion, so a crash between the script and the
// enqueue is repaired by the next run of the same task (asynq delivers it
// again), and two racing runs enqueue one callback.
func (s *Store) afterTransition(ctx context.Context, id string, cb int64) error {
	if cb <= 0 {
		return nil
	}
	if err := s.enqueueCallback(ctx, id, cb); err != nil {
		return err
	}
	err := clearCallbackScript.Run(ctx, s.rdb, []string{s.keysOf(id).meta}, cb).Err()
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("batch %s: clear callback mark: %w", id, err)
	}
	return nil
}
