package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
)

// Enqueuer submits poster jobs. The task id is the job id (the content
// hash), so a duplicate in flight is the same job; a job that failed is
// replaced, since asking again is how a client retries after fixing the
// cause (publishing the page, say). The producer (one poster) and batches
// (many) both submit through it.
type Enqueuer struct {
	Client    *asynq.Client
	Inspector *asynq.Inspector
	Retention time.Duration
	Timeout   time.Duration
	MaxRetry  int
}

// Enqueue submits the job id with payload p on queue. It returns the
// task's state: nil info for a new task, the existing task's info when the
// same job was already there (pending, running, retrying or completed).
// replaced reports that a failed (archived) job was deleted and submitted
// again.
func (e *Enqueuer) Enqueue(ctx context.Context, queue, id string, p PosterPayload) (info *asynq.TaskInfo, replaced bool, err error) {
	body, err := json.Marshal(p)
	if err != nil {
		return nil, false, fmt.Errorf("encode payload: %w", err)
	}
	task := asynq.NewTaskWithHeaders(TypeGeneratePoster, body, EnqueueHeaders(time.Now()))
	opts := []asynq.Option{
		asynq.Queue(queue), asynq.TaskID(id), asynq.Retention(e.Retention),
		asynq.MaxRetry(e.MaxRetry), asynq.Timeout(e.Timeout),
	}
	for range 3 {
		_, err := e.Client.EnqueueContext(ctx, task, opts...)
		if err == nil {
			return nil, replaced, nil
		}
		if !errors.Is(err, asynq.ErrTaskIDConflict) {
			return nil, replaced, err
		}
		info, err := e.Inspector.GetTaskInfo(queue, id)
		if IsNotFound(err) {
			continue // finished and cleaned up in between: enqueue again
		}
		if err != nil {
			return nil, replaced, err
		}
		if info.State != asynq.TaskStateArchived {
			return info, replaced, nil
		}
		if err := e.Inspector.DeleteTask(queue, id); err != nil && !IsNotFound(err) {
			return nil, replaced, fmt.Errorf("replace failed job: %w", err)
		}
		replaced = true
	}
	return nil, replaced, errors.New("job id kept conflicting")
}

// IsNotFound reports whether err says the task (or its queue) is not there.
func IsNotFound(err error) bool {
	return errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound)
}
