package worker

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/wxposter/wxposter/internal/testenv"
)

// pingCounter counts the PINGs sent through a client.
type pingCounter struct{ n atomic.Int32 }

func (p *pingCounter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (p *pingCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
func (p *pingCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if cmd.Name() == "ping" {
			p.n.Add(1)
		}
		return next(ctx, cmd)
	}
}

// awaitRedis asks Redis whether it is there after a task, unless the
// handler's last step was just answered by Redis.
func TestAwaitRedisPingsOnlyWhenItMustKnow(t *testing.T) {
	rdb := testenv.Redis(t)
	pings := &pingCounter{}
	rdb.AddHook(pings)
	for _, tc := range []struct {
		name     string
		answered bool
		want     int32
	}{
		{"handler just heard from Redis", true, 0},
		{"handler did not", false, 1},
	} {
		pings.n.Store(0)
		h := awaitRedis(rdb, 5*time.Second)(asynq.HandlerFunc(func(ctx context.Context, _ *asynq.Task) error {
			if tc.answered {
				redisAnswered(ctx)
			}
			return nil
		}))
		if err := h.ProcessTask(context.Background(), asynq.NewTask("t", nil)); err != nil {
			t.Fatal(err)
		}
		if got := pings.n.Load(); got != tc.want {
			t.Errorf("%s: %d PINGs, want %d", tc.name, got, tc.want)
		}
	}
}
