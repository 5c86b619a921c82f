package worker

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wxposter/wxposter/tasks"
)

// wakeGate lets an idle worker start a new job within milliseconds without
// polling Redis every few milliseconds.
//
// asynq v0.26's processor looks for work in a loop: one dequeue script per
// queue, and when all are empty a plain time.Sleep of TaskCheckInterval/2
// plus jitter, which nothing can interrupt. So the worker sets that interval
// to a couple of milliseconds and does the real waiting here, in a go-redis
// hook around the dequeue script: after a round in which every queue was
// empty, the next dequeue first blocks on the queues' wake lists (BLPOP,
// tasks.Wake pushes a token after each enqueue) for at most the poll
// interval. A token starts the dequeue at once; no token by the deadline is
// the old poll, which still finds jobs nobody woke the worker for (retries,
// jobs enqueued by other tools). Nothing of asynq is forked or patched.
type wakeGate struct {
	rdb      redis.UniversalClient
	pending  map[string]bool // asynq's pending-list keys of the served queues
	wakeArgs []any           // BLPOP <wake keys...> <timeout>
	timeout  time.Duration
	queues   int

	mu    sync.Mutex
	armed bool // the last round found every queue empty
	left  int  // dequeues left in the current round before arming

	waits, woken atomic.Int64 // for tests and debugging
}

// Bounds of the gate's wait: below a millisecond BLPOP would mean "forever"
// (0), and a long blocking read would outlast go-redis's read timeout.
const (
	minWakeWait = time.Millisecond
	maxWakeWait = time.Second
	// wakePoll is asynq's TaskCheckInterval when the gate is installed:
	// the processor's own sleep between rounds, 1-3 ms.
	wakePoll = 2 * time.Millisecond
)

// installWake adds the gate to rdb for the given queues, with poll as the
// longest wait for a token.
func installWake(rdb redis.UniversalClient, queues []string, poll time.Duration) *wakeGate {
	g := &wakeGate{
		rdb: rdb, pending: map[string]bool{}, queues: len(queues),
		timeout: min(max(poll, minWakeWait), maxWakeWait),
	}
	g.left = g.queues
	g.wakeArgs = append(g.wakeArgs, "BLPOP")
	for _, q := range queues {
		g.pending[pendingKey(q)] = true
		g.wakeArgs = append(g.wakeArgs, tasks.WakeKey(q))
	}
	g.wakeArgs = append(g.wakeArgs, strconv.FormatFloat(g.timeout.Seconds(), 'f', 3, 64))
	rdb.AddHook(g)
	return g
}

// pendingKey is asynq's list of a queue's pending tasks (base.PendingKey),
// the first key of its dequeue script. TestWakeGateSeesAsynqDequeues fails
// if a new asynq names it differently.
func pendingKey(queue string) string { return "asynq:{" + queue + "}:pending" }

// isDequeue reports whether cmd is asynq's dequeue script for one of the
// gate's queues: EVALSHA/EVAL sha 4 <pending> <paused> <active> <lease> ...
func (g *wakeGate) isDequeue(cmd redis.Cmder) bool {
	name := cmd.Name()
	if name != "evalsha" && name != "eval" {
		return false
	}
	args := cmd.Args()
	if len(args) < 7 {
		return false
	}
	pending, _ := args[3].(string)
	paused, _ := args[4].(string)
	return g.pending[pending] && strings.HasSuffix(paused, ":paused")
}

func (g *wakeGate) DialHook(next redis.DialHook) redis.DialHook { return next }

func (g *wakeGate) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func (g *wakeGate) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if !g.isDequeue(cmd) {
			return next(ctx, cmd)
		}
		g.before()
		err := next(ctx, cmd)
		g.after(err)
		return err
	}
}

// before waits for a wake token if the last round came back empty. Only
// asynq's processor goroutine dequeues, so waits never overlap.
func (g *wakeGate) before() {
	g.mu.Lock()
	armed := g.armed
	g.mu.Unlock()
	if !armed {
		return
	}
	g.wait()
	g.mu.Lock()
	g.armed, g.left = false, g.queues
	g.mu.Unlock()
}

func (g *wakeGate) wait() {
	g.waits.Add(1)
	ctx, cancel := context.WithTimeout(context.Background(), g.timeout+3*time.Second)
	defer cancel()
	start := time.Now()
	err := g.rdb.Do(ctx, g.wakeArgs...).Err()
	switch {
	case err == nil:
		g.woken.Add(1)
	case errors.Is(err, redis.Nil): // no token: the poll interval passed
	default:
		// Redis is unreachable: asynq will log its own dequeue error; keep
		// the pace of a poll instead of spinning.
		time.Sleep(g.timeout - time.Since(start))
	}
}

// after counts the round: a found job ends it (the processor looks again
// at once); a round in which every queue was empty arms the gate.
func (g *wakeGate) after(err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case err == nil:
		g.armed, g.left = false, g.queues
	case errors.Is(err, redis.Nil):
		if g.left--; g.left <= 0 {
			g.armed = true
		}
	}
	// Other errors (NOSCRIPT before go-redis retries with EVAL, a
	// connection error) leave the round as it was.
}
