package producer

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wxposter/wxposter/tasks"
)

// waiters wakes the polls waiting in this process (?wait=) when their job
// ends. It holds ONE Redis subscription for the whole process, to the
// pattern of every job's done channel, and fans each message out in
// process: 2,000 waiters are one Redis client, not 2,000. go-redis
// re-subscribes after a Redis blip; messages lost meanwhile are covered by
// the waiters' own slow re-read.
type waiters struct {
	rdb redis.UniversalClient

	mu      sync.Mutex
	m       map[string]map[chan string]struct{}
	started bool
	ps      *redis.PubSub
	subs    int // subscriptions opened, for tests

	drain     chan struct{} // closed when the server starts shutting down
	drainOnce sync.Once
}

func newWaiters(rdb redis.UniversalClient) *waiters {
	return &waiters{rdb: rdb, m: map[string]map[chan string]struct{}{}, drain: make(chan struct{})}
}

var donePattern = tasks.DoneChannel("*")

// wait registers interest in job id: ch receives the message (a
// tasks.Done) when the job's done channel fires. Call stop when done
// waiting.
func (w *waiters) wait(id string) (ch chan string, stop func()) {
	ch = make(chan string, 1)
	w.mu.Lock()
	if !w.started {
		w.started = true
		w.subs++
		w.ps = w.rdb.PSubscribe(context.Background(), donePattern)
		go w.run(w.ps)
	}
	if w.m[id] == nil {
		w.m[id] = map[chan string]struct{}{}
	}
	w.m[id][ch] = struct{}{}
	w.mu.Unlock()
	return ch, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		delete(w.m[id], ch)
		if len(w.m[id]) == 0 {
			delete(w.m, id)
		}
	}
}

func (w *waiters) run(ps *redis.PubSub) {
	prefix := strings.TrimSuffix(donePattern, "*")
	for msg := range ps.Channel(redis.WithChannelHealthCheckInterval(10 * time.Second)) {
		id := strings.TrimPrefix(msg.Channel, prefix)
		w.mu.Lock()
		for ch := range w.m[id] {
			select {
			case ch <- msg.Payload:
			default:
			}
		}
		w.mu.Unlock()
	}
}

// startDrain makes every wait return at once (shutdown).
func (w *waiters) startDrain() { w.drainOnce.Do(func() { close(w.drain) }) }

func (w *waiters) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ps != nil {
		w.ps.Close()
	}
}
