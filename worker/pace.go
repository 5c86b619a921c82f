package worker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/wxposter/wxposter/pacing"
	"github.com/wxposter/wxposter/wechat"
)

// Pacer keeps code calls within WeChat's quotas for all workers together;
// *pacing.Pacer is the implementation.
type Pacer interface {
	// Admit returns a zero Hold once a code call for appID may go to
	// WeChat, or a Hold saying why not. It waits at most maxWait for its
	// turn in this process; the caller whose turn it is waits for the
	// app's next slot while ctx allows.
	Admit(ctx context.Context, appID string, maxWait time.Duration) (pacing.Hold, error)
	// MinuteQuotaHit records WeChat's 45011; DailyQuotaHit its 45009. Both
	// return a usable Hold even with an error.
	MinuteQuotaHit(ctx context.Context, appID string) (pacing.Hold, error)
	DailyQuotaHit(ctx context.Context, appID string) (pacing.Hold, error)
}

var _ Pacer = (*pacing.Pacer)(nil)

// WithPacer replaces the built-in pacer (a *pacing.Pacer on the handler's
// Redis); WithCodeRate and WithPacingOptions then have no effect.
func WithPacer(p Pacer) HandlerOption {
	return func(h *Handler) {
		if p != nil {
			h.pacer = p
		}
	}
}

// WithCodeRate caps each app's code calls per minute, over all workers:
// perApp[appID] when positive, else defaultPerMinute (else
// pacing.DefaultRatePerMinute, 4500: under WeChat's 5000).
func WithCodeRate(defaultPerMinute int, perApp map[string]int) HandlerOption {
	return WithPacingOptions(pacing.WithRates(defaultPerMinute, perApp))
}

// WithPacingOptions configures the built-in pacer.
func WithPacingOptions(o ...pacing.Option) HandlerOption {
	return func(h *Handler) { h.pacingOpts = append(h.pacingOpts, o...) }
}

// WithPaceWait sets how long a job waits in the worker for its turn to call
// WeChat (default 2 s); past that it frees the worker and is rescheduled,
// without spending a retry. The one job per app and process whose turn it
// is waits for the app's next slot, up to 15 s (half the code lock's TTL).
func WithPaceWait(d time.Duration) HandlerOption { return func(h *Handler) { h.paceWait = d } }

// holdReserve is the time a job keeps after waiting in the worker for the
// rest of its work (fetch, render, upload).
const holdReserve = 5 * time.Second

// admit waits for pacing to let one code call for appID go. The job whose
// turn it is in this process waits for the app's next slot, but not past
// the end of its attempt nor for long under the code lock (whose TTL would
// let a second job fetch the same code).
func (h *Handler) admit(ctx context.Context, appID string) error {
	end := time.Now().Add(h.codeLock / 2)
	if dl, ok := ctx.Deadline(); ok && dl.Add(-holdReserve).Before(end) {
		end = dl.Add(-holdReserve)
	}
	actx, cancel := context.WithDeadline(ctx, end)
	defer cancel()
	hold, err := h.pacer.Admit(actx, appID, h.paceWait)
	if err != nil && ctx.Err() == nil && actx.Err() != nil {
		// Waited as long as this attempt can: next time, then.
		hold, err = pacing.Hold{Reason: pacing.ReasonRate, RetryIn: time.Second}, nil
	}
	if err != nil {
		return fmt.Errorf("pace code call: %w", err)
	}
	if hold.Held() {
		return &RateLimitError{AppID: appID, RetryIn: hold.RetryIn, Hold: hold}
	}
	return nil
}

// quotaHit turns WeChat's quota errcodes into holds for the app on every
// worker; other errors pass through.
func (h *Handler) quotaHit(ctx context.Context, appID string, err error) error {
	var we *wechat.Error
	if !errors.As(err, &we) || !isCodeAPI(we.API) {
		return err // a token endpoint's 45009 is about tokens, not codes
	}
	var hold pacing.Hold
	var perr error
	switch we.Code {
	case wechat.CodeMinuteQuota:
		hold, perr = h.pacer.MinuteQuotaHit(ctx, appID)
	case wechat.CodeDailyQuota:
		hold, perr = h.pacer.DailyQuotaHit(ctx, appID)
	default:
		return err
	}
	if perr != nil {
		h.log.WarnContext(ctx, "could not share a WeChat quota hold with other workers", "app", appID, "err", perr)
	}
	return &RateLimitError{AppID: appID, RetryIn: hold.RetryIn, Hold: hold, Err: err}
}

// isCodeAPI reports whether api is one of the code endpoints, which share
// the minute quota ("" when unknown).
func isCodeAPI(api string) bool {
	return api == "" || strings.HasPrefix(api, "wxa/") || strings.HasPrefix(api, "cgi-bin/wxaapp/")
}

// waitOut waits out a hold in the worker when the job cannot be rescheduled
// without failing: asynq archives a job that errs on its last attempt
// (Retried >= MaxRetry; with MaxRetry(0), on the first), before IsFailure
// is asked. It reports whether it waited; if the hold outlasts the job's
// deadline, the job ends failed with the hold's reason.
func (h *Handler) waitOut(ctx context.Context, rl *RateLimitError) bool {
	if !lastAttempt(ctx) {
		return false
	}
	wait := rl.RetryIn + jitter(min(rl.RetryIn/10, time.Second))
	if dl, ok := ctx.Deadline(); !ok || time.Until(dl) < wait+holdReserve {
		return false
	}
	h.log.DebugContext(ctx, "waiting in the worker: the job has no retry left", "app", rl.AppID,
		"reason", rl.Hold.Reason, "wait", wait)
	return sleep(ctx, wait)
}

// lastAttempt reports whether asynq would archive the running job if it
// returned an error.
func lastAttempt(ctx context.Context) bool {
	retried, ok1 := asynq.GetRetryCount(ctx)
	maxRetry, ok2 := asynq.GetMaxRetry(ctx)
	return ok1 && ok2 && retried >= maxRetry
}
