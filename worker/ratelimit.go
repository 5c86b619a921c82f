package worker

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hibiken/asynq"

	"github.com/wxposter/wxposter/pacing"
	"github.com/wxposter/wxposter/tasks"
	"github.com/wxposter/wxposter/wechat"
)

// RateLimitError holds a job back to keep its app within WeChat's quotas.
// It is not a failure: asynq runs the job again after RetryIn without
// spending one of its retries (IsFailure, RetryDelay). Only on a job's last
// attempt would asynq archive it anyway; the handler then waits in place
// instead (see Handler.waitOut).
type RateLimitError struct {
	AppID   string
	RetryIn time.Duration
	Hold    pacing.Hold // why, and until when
	Err     error       // WeChat's 45011 or 45009, when it caused the hold
}

func (e *RateLimitError) Error() string {
	s := fmt.Sprintf("rate limited: app %s: %s, retry in %s", e.AppID, e.Hold.Reason, e.RetryIn.Round(time.Millisecond))
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *RateLimitError) Unwrap() error { return e.Err }

// public is what the job's status shows while it is held.
func (e *RateLimitError) public() *tasks.JobError {
	until := e.Hold.Until.In(pacing.ChinaTime).Format("2006-01-02 15:04 MST")
	switch e.Hold.Reason {
	case pacing.ReasonPaused:
		return quotaError(wechat.CodeDailyQuota, "WeChat's daily quota for app "+e.AppID+
			" is used up; code fetching is paused until "+until+" and the job will continue then")
	case pacing.ReasonCooldown:
		return quotaError(wechat.CodeMinuteQuota, "WeChat's per-minute quota for app "+e.AppID+
			" was reached; code fetching pauses until "+e.Hold.Until.In(pacing.ChinaTime).Format("15:04:05 MST")+
			" and the job will continue then")
	}
	return &tasks.JobError{Code: "rate_limited", Message: fmt.Sprintf(
		"waiting for a turn within app %s's %d code calls a minute; the job will continue in about %s",
		e.AppID, e.Hold.Rate, e.RetryIn.Round(time.Second))}
}

func quotaError(code int, msg string) *tasks.JobError {
	return &tasks.JobError{Code: strconv.Itoa(code), Errcode: &code, Message: msg}
}

// IsFailure reports whether err counts against a job's retries. A job held
// back by pacing did nothing wrong, and neither did one whose worker died
// mid-job (lease expired, asynq issue #1015) or one waiting out a backend
// outage (OutageError).
func IsFailure(err error) bool {
	var (
		rl *RateLimitError
		oe *OutageError
	)
	return !errors.Is(err, asynq.ErrLeaseExpired) && !errors.As(err, &rl) && !errors.As(err, &oe)
}
