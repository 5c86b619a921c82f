package worker

import (
	"context"
	"sync/atomic"
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
// the write to the promoted master instead. A handler whose last step was
// answered by Redis a moment ago (redisAnswered) needs no PING: it knows
// as much as the PING would; otherwise the wait costs one PING per job.
func awaitRedis(rdb redis.UniversalClient, max time.Duration) asynq.MiddlewareFunc {
	return func(next asynq.Handler) asynq.Handler {
		return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
			seen := new(atomic.Int64)
			err := next.ProcessTask(context.WithValue(ctx, redisSeenKey{}, seen), t)
			if time.Since(time.Unix(0, seen.Load())) < redisFresh {
				return err
			}
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

// redisFresh is how recent a Redis answer to the handler spares the PING.
const redisFresh = 50 * time.Millisecond

type redisSeenKey struct{}

// redisAnswered notes, for awaitRedis, that Redis just answered the task
// of ctx.
func redisAnswered(ctx context.Context) {
	if seen, ok := ctx.Value(redisSeenKey{}).(*atomic.Int64); ok {
		seen.Store(time.Now().UnixNano())
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
