package worker

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/wxposter/wxposter/pacing"
	"github.com/wxposter/wxposter/wechat"
)

func TestIsFailure(t *testing.T) {
	held := &RateLimitError{AppID: "wx1", RetryIn: time.Second, Hold: pacing.Hold{Reason: pacing.ReasonRate}}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"plain error", errors.New("boom"), true},
		{"WeChat busy", &wechat.Error{Code: -1}, true},
		{"bare 45011", &wechat.Error{Code: wechat.CodeMinuteQuota}, true},
		{"lease expired", asynq.ErrLeaseExpired, false},
		{"held by pacing", held, false},
		{"held, wrapped", fmt.Errorf("job: %w", held), false},
		{"held after 45009", &RateLimitError{Err: &wechat.Error{Code: wechat.CodeDailyQuota}}, false},
	} {
		if got := IsFailure(tc.err); got != tc.want {
			t.Errorf("%s: IsFailure = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestRetryDelayOfHeldJobs(t *testing.T) {
	for _, retryIn := range []time.Duration{0, 300 * time.Millisecond, 5 * time.Second, 10 * time.Minute} {
		// n is large: a held job's delay does not grow with failed attempts.
		err := fmt.Errorf("x: %w", &RateLimitError{RetryIn: retryIn, Err: &wechat.Error{Code: wechat.CodeMinuteQuota}})
		for range 20 {
			got := RetryDelay(5, err, nil)
			if got < retryIn || got > retryIn+min(retryIn/10, 5*time.Second) {
				t.Fatalf("RetryDelay(RetryIn %s) = %s, want RetryIn plus up to 10%% (at most 5s)", retryIn, got)
			}
		}
	}
}

func TestRateLimitErrorTellsClientsWhy(t *testing.T) {
	until := time.Date(2026, 11, 22, 0, 0, 0, 0, pacing.ChinaTime)
	for _, tc := range []struct {
		hold    pacing.Hold
		code    string
		errcode int
		msg     string
	}{
		{pacing.Hold{Reason: pacing.ReasonPaused, Until: until.UTC(), RetryIn: 10 * time.Minute}, "45009", 45009,
			"WeChat's daily quota for app wxabc is used up; code fetching is paused until 2026-11-22 00:00 CST and the job will continue then"},
		{pacing.Hold{Reason: pacing.ReasonCooldown, Until: until.Add(-30 * time.Second), RetryIn: 30 * time.Second}, "45011", 45011,
			"WeChat's per-minute quota for app wxabc was reached; code fetching pauses until 23:59:30 CST"},
		{pacing.Hold{Reason: pacing.ReasonRate, Rate: 4500, RetryIn: 3 * time.Second}, "rate_limited", 0,
			"within app wxabc's 4500 code calls a minute; the job will continue in about 3s"},
	} {
		e := &RateLimitError{AppID: "wxabc", RetryIn: tc.hold.RetryIn, Hold: tc.hold}
		pub := e.public()
		if pub.Code != tc.code || (pub.Errcode == nil) != (tc.errcode == 0) || (pub.Errcode != nil && *pub.Errcode != tc.errcode) {
			t.Errorf("%s: public = %+v, want code %s errcode %d", tc.hold.Reason, pub, tc.code, tc.errcode)
		}
		if !strings.Contains(pub.Message, tc.msg) {
			t.Errorf("%s: message %q, want it to contain %q", tc.hold.Reason, pub.Message, tc.msg)
		}
	}
}
