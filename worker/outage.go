package worker

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wxposter/wxposter/tasks"
	"github.com/wxposter/wxposter/wechat"
)

// DefaultOutageTolerance is how long a job waits out a backend outage
// (storage, Redis, WeChat's network or errcode -1) before its transient
// errors start counting against its retries (WXPOSTER_OUTAGE_TOLERANCE).
const DefaultOutageTolerance = 10 * time.Minute

// WithOutageTolerance sets DefaultOutageTolerance; 0 or less disables it
// (every transient error then spends a retry, as any other error).
func WithOutageTolerance(d time.Duration) HandlerOption {
	return func(h *Handler) { h.outageTolerance = d }
}

// WithStorageTimeout bounds each storage call of a job (default 5 s): a dead
// store must not hold a worker slot for the client's own retry loop.
func WithStorageTimeout(d time.Duration) HandlerOption {
	return func(h *Handler) { h.storageTimeout = d }
}

// OutageError holds a job back while a backend it needs is unavailable.
// Like RateLimitError it is not a failure (IsFailure): the job comes back
// after RetryIn without spending a retry, for as long as the outage it has
// seen is shorter than the handler's outage tolerance.
type OutageError struct {
	Since   time.Duration // how long this job has been meeting the outage
	RetryIn time.Duration
	Err     error
}

func (e *OutageError) Error() string {
	return fmt.Sprintf("backend unavailable for %s, retry in %s: %v",
		e.Since.Round(time.Second), e.RetryIn.Round(time.Millisecond), e.Err)
}

func (e *OutageError) Unwrap() error { return e.Err }

// public keeps WeChat's errcode when WeChat caused the outage (-1).
func (e *OutageError) public() *tasks.JobError {
	again := fmt.Sprintf("; the job will try again in about %s", max(e.RetryIn.Round(time.Second), time.Second))
	var we *wechat.Error
	if errors.As(e.Err, &we) {
		pub := classify(e.Err).public()
		pub.Message += again
		return pub
	}
	return &tasks.JobError{Code: "unavailable", Message: "a backend (WeChat, storage or Redis) is unavailable" + again}
}

// outageBackoff grows with the outage, from 1 s to 15 s: short blips end
// fast, long outages cost a few attempts a minute. It cannot use asynq's
// retry count, which a non-failure does not increase.
func outageBackoff(since time.Duration) time.Duration {
	return min(max(since/4, time.Second), 15*time.Second)
}

// isOutage reports whether err is a backend being unavailable, as opposed
// to something wrong with the job: storage and Redis errors, WeChat's
// network errors, 5xx and errcode -1, and per-call timeouts (not the
// job's own deadline, ctx).
func isOutage(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var we *wechat.Error
	if errors.As(err, &we) {
		return we.Code == wechat.CodeSystemBusy
	}
	var rl *RateLimitError
	if errors.As(err, &rl) {
		return false
	}
	je := classify(err)
	return !je.permanent && (je.code == "unavailable" || je.code == "timeout")
}

func outageKey(id string) string { return "wxposter:outage:" + id }

// outage decides what a transient backend error does to job id: within the
// tolerance, an OutageError (no retry spent); past it, nil (a failure like
// any other). The start of the outage is kept in Redis so that it spans
// attempts on any worker; when Redis itself is down the outage counts from
// now (asynq cannot record a retry then either).
func (h *Handler) outage(ctx context.Context, id string, err error) *OutageError {
	if h.outageTolerance <= 0 || id == "" {
		return nil
	}
	now := time.Now()
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	first := now
	ms, rerr := h.rdb.Get(rctx, outageKey(id)).Int64()
	switch {
	case rerr == nil:
		first = time.UnixMilli(ms)
	case errors.Is(rerr, redis.Nil):
		// The tolerance plus an hour: the key outlives every retry of this outage.
		h.rdb.SetNX(rctx, outageKey(id), strconv.FormatInt(now.UnixMilli(), 10), h.outageTolerance+time.Hour)
	}
	since := now.Sub(first)
	if since >= h.outageTolerance {
		return nil
	}
	return &OutageError{Since: since, RetryIn: outageBackoff(since), Err: err}
}

// outageOver forgets job id's outage once it succeeded.
func (h *Handler) outageOver(ctx context.Context, id string) {
	if h.outageTolerance <= 0 || id == "" {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	h.rdb.Del(rctx, outageKey(id))
}

// waitOutage waits out an outage in the worker when the job is on its last
// attempt (asynq would archive it on any error). It reports whether it
// waited, false when the job's deadline is too close.
func (h *Handler) waitOutage(ctx context.Context, oe *OutageError) bool {
	if !lastAttempt(ctx) {
		return false
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < oe.RetryIn+holdReserve {
		return false
	}
	return sleep(ctx, oe.RetryIn)
}

// sleep waits d, or less if ctx ends first; it reports whether it waited d.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// opTimeout gives one storage call its own short deadline.
func (h *Handler) opTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if h.storageTimeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, h.storageTimeout)
}
