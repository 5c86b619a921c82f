package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/wxposter/wxposter/tasks"
	"github.com/wxposter/wxposter/wechat"
)

// ServerConfig configures the asynq server that runs Handler.
type ServerConfig struct {
	Queue string // default tasks.DefaultQueue
	// BatchQueue, when set, is also served, strictly after Queue: a batch
	// item runs only when no single poster waits.
	BatchQueue string
	// Shards is WXPOSTER_QUEUE_SHARDS: the worker consumes every shard of
	// Queue (tasks.ShardQueues), all with the same priority.
	Shards      int
	Concurrency int // default 10
	// PollInterval is how long an idle worker sleeps before looking for work
	// again. asynq's default of 1 s would add up to a second to every poster.
	PollInterval    time.Duration
	ShutdownTimeout time.Duration // default 30 s: longer than a poster takes
	// RetryCheckInterval is how often retried and held-back jobs that are
	// due are moved back to the queue (default: asynq's 5 s), so it is the
	// precision of RetryDelay.
	RetryCheckInterval time.Duration
	Logger             *slog.Logger
	// DisableWake turns off waking on tasks.Wake: an idle worker then
	// finds new jobs only by polling every PollInterval (wake.go).
	DisableWake bool
}

// NewServer returns an asynq server for poster jobs on rdb. Unless
// cfg.DisableWake, it adds a hook to rdb with which an idle worker waits
// for tasks.Wake instead of sleeping (wake.go): PollInterval is then only
// the longest wait.
func NewServer(rdb redis.UniversalClient, cfg ServerConfig) *asynq.Server {
	srv, _ := newServer(rdb, cfg)
	return srv
}

func newServer(rdb redis.UniversalClient, cfg ServerConfig) (*asynq.Server, *wakeGate) {
	acfg := cfg.asynq()
	var gate *wakeGate
	if !cfg.DisableWake {
		queues := make([]string, 0, len(acfg.Queues))
		for q := range acfg.Queues {
			queues = append(queues, q)
		}
		slices.Sort(queues)
		gate = installWake(rdb, queues, acfg.TaskCheckInterval)
		acfg.TaskCheckInterval = wakePoll
	}
	return asynq.NewServerFromRedisClient(rdb, acfg), gate
}

func (cfg ServerConfig) asynq() asynq.Config {
	if cfg.Queue == "" {
		cfg.Queue = tasks.DefaultQueue
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 10
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 100 * time.Millisecond
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	log := cfg.Logger
	queues, strict := queues(cfg.Queue, cfg.Shards, cfg.BatchQueue)
	return asynq.Config{
		Concurrency:              cfg.Concurrency,
		Queues:                   queues,
		StrictPriority:           strict,
		TaskCheckInterval:        cfg.PollInterval,
		ShutdownTimeout:          cfg.ShutdownTimeout,
		DelayedTaskCheckInterval: cfg.RetryCheckInterval,
		RetryDelayFunc:           RetryDelay,
		IsFailure:                IsFailure,
		Logger:                   asynqLogger{log},
		LogLevel:                 asynq.WarnLevel,
		HealthCheckFunc: func(err error) {
			if err != nil {
				log.Error("worker cannot reach Redis", "err", err)
			}
		},
	}
}

// queues are the queues a worker serves: every shard of the poster queue
// and the batch queue. Batch items run only when no single poster waits
// (strict priority); but with several shards strict priority would always
// drain one shard first and starve the others under a backlog, so then
// queues are picked by weight: each shard 10, the batch queue 1.
func queues(base string, shards int, batch string) (map[string]int, bool) {
	qs := tasks.ShardQueues(base, shards)
	m := map[string]int{}
	if batch == "" || batch == base {
		for _, q := range qs {
			m[q] = 1
		}
		return m, false
	}
	if len(qs) == 1 {
		m[base], m[batch] = 2, 1
		return m, true
	}
	for _, q := range qs {
		m[q] = 10
	}
	m[batch] = 1
	return m, false
}

// NewMux routes poster tasks to h. After each task it waits for Redis to
// answer (see awaitRedis), so asynq can record the outcome.
func NewMux(h *Handler) *asynq.ServeMux {
	mux := asynq.NewServeMux()
	mux.Use(awaitRedis(h.rdb, 20*time.Second)) // outcomes survive a Sentinel failover
	mux.Handle(tasks.TypeGeneratePoster, h)
	return mux
}

// RetryDelay backs off exponentially from 1 s to 1 min with jitter. asynq's
// default (n^4 + 15 s + ...) is tuned for background jobs, not for a client
// polling for its poster. A job held back by pacing comes back when pacing
// said, with a little jitter so held jobs don't return all at once; a bare
// 45011 waits for the next minute.
func RetryDelay(n int, err error, _ *asynq.Task) time.Duration {
	var bo backoffer
	if errors.As(err, &bo) {
		return bo.Backoff(n)
	}
	var rl *RateLimitError
	if errors.As(err, &rl) {
		return rl.RetryIn + jitter(min(rl.RetryIn/10, 5*time.Second))
	}
	var oe *OutageError
	if errors.As(err, &oe) {
		return oe.RetryIn + jitter(oe.RetryIn/4)
	}
	var we *wechat.Error
	if errors.As(err, &we) && we.Code == wechat.CodeMinuteQuota {
		return time.Duration(60-time.Now().Second())*time.Second + jitter(time.Second)
	}
	d := min(time.Second<<min(n, 6), time.Minute)
	return d + jitter(d/4)
}

func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d)
}

// asynqLogger sends asynq's own logs to slog.
type asynqLogger struct{ l *slog.Logger }

func (a asynqLogger) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Info(args ...any)  { a.l.Info(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Error(args ...any) { a.l.Error(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Fatal(args ...any) {
	a.l.Log(context.Background(), slog.LevelError+4, fmt.Sprint(args...), "component", "asynq")
	os.Exit(1) // asynq's contract: Fatal ends the process

}
