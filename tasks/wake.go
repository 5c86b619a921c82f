package tasks

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// WakeKey is the Redis list an idle worker of queue blocks on (BLPOP), so
// that a new job starts within milliseconds instead of at the worker's next
// poll (worker.ServerConfig.Wake). All wake lists share one hash tag, so a
// worker serving several queues can wait on all of them at once, also on
// Redis Cluster.
func WakeKey(queue string) string { return "wxposter:{wake}:" + queue }

// maxWakeTokens bounds a wake list while every worker is busy (tokens are
// only hints: a spare one costs an idle worker one extra look).
const maxWakeTokens = 64

// Wake tells up to n idle workers of queue that jobs were enqueued: call it
// after a successful enqueue with n = 1, after a batch with n = the number
// of jobs (capped at 64; a woken worker that finds a job takes more at
// once, up to its concurrency). Best effort: without it a job starts at the
// next poll.
func Wake(ctx context.Context, rdb redis.UniversalClient, queue string, n int) error {
	n = max(1, min(n, maxWakeTokens))
	tokens := make([]any, n)
	for i := range tokens {
		tokens[i] = "1"
	}
	key := WakeKey(queue)
	_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.LPush(ctx, key, tokens...)
		p.LTrim(ctx, key, 0, maxWakeTokens-1)
		return nil
	})
	return err
}
