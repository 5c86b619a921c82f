package worker

import (
	"context"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// awaitRedis is middleware that, after a task's handler returns, waits (up
// to max) until Redis answers again. asynq writes the outcome (done, retry)
// right after; during a Sentinel failover that write fails, and asynq
// v0.26's syncer retries it with a context it has already cancelled, so the
// task would stay "active" until the lease recoverer takes it (30 s lease +
// 30 s grace + up to a 1 min scan) and then run again. Waiting here sends
// the write to the promoted master instead. When Redis is healthy it costs
// one PING per job.
func awaitRedis(rdb redis.UniversalClient, max time.Duration) asynq.MiddlewareFunc {
	return func(next asynq.Handler) asynq.Handler {
		return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
			err := next.ProcessTask(ctx, t)
			wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), max)
			defer cancel()
			for wait := 50 * time.Millisecond; rdb.Ping(wctx).Err() != nil; wait = min(2*wait, time.Second) {
				select {
				case <-wctx.Done():
					return err
				case <-time.After(wait):
				}
			}
			return err
		})
	}
}

// writeResult writes a task's result, retrying for up to max (or ctx) while
// Redis does not answer, as during a Sentinel failover.
func writeResult(ctx context.Context, w *asynq.ResultWriter, b []byte, max time.Duration) error {
	deadline := time.Now().Add(max)
	for wait := 50 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		_, err := w.Write(b)
		if err == nil || ctx.Err() != nil || time.Now().Add(wait).After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}
