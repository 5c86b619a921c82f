package metrics

import (
	"context"
	"errors"
	"fmt"
	"image"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/wxposter/wxposter/pacing"
	"github.com/wxposter/wxposter/worker"
)

// fakePacer admits or holds as told.
type fakePacer struct{ hold pacing.Hold }

func (f fakePacer) Admit(context.Context, string, time.Duration) (pacing.Hold, error) {
	return f.hold, nil
}
func (f fakePacer) MinuteQuotaHit(context.Context, string) (pacing.Hold, error) {
	return pacing.Hold{Reason: pacing.ReasonCooldown, RetryIn: time.Minute}, nil
}
func (f fakePacer) DailyQuotaHit(context.Context, string) (pacing.Hold, error) {
	return pacing.Hold{Reason: pacing.ReasonPaused, RetryIn: time.Hour}, errors.New("redis down")
}

func TestPacerCountsAdmissionsAndHolds(t *testing.T) {
	m := New()
	ctx := context.Background()
	open := m.Pacer(fakePacer{})
	held := m.Pacer(fakePacer{hold: pacing.Hold{Reason: pacing.ReasonRate, RetryIn: time.Second}})
	for range 3 {
		open.Admit(ctx, "wxa", time.Second)
	}
	held.Admit(ctx, "wxa", time.Second)
	open.MinuteQuotaHit(ctx, "wxa")
	open.DailyQuotaHit(ctx, "wxb") // the hold counts even when sharing it failed
	for _, c := range []struct {
		got  float64
		want float64
		what string
	}{
		{testutil.ToFloat64(m.admissions.WithLabelValues("wxa")), 3, "admissions"},
		{testutil.ToFloat64(m.holds.WithLabelValues("wxa", "rate")), 1, "rate holds"},
		{testutil.ToFloat64(m.holds.WithLabelValues("wxa", "minute_quota")), 1, "45011 holds"},
		{testutil.ToFloat64(m.holds.WithLabelValues("wxb", "daily_quota")), 1, "45009 holds"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
}

func TestOutcome(t *testing.T) {
	rl := &worker.RateLimitError{AppID: "wxa", RetryIn: time.Second, Hold: pacing.Hold{Reason: pacing.ReasonRate}}
	cases := []struct {
		name    string
		err     error
		retried int
		want    string
	}{
		{"success", nil, 0, StatusSucceeded},
		{"held by pacing", fmt.Errorf("wrapped: %w", rl), 5, StatusHeld},
		{"permanent", fmt.Errorf("41030: %w", asynq.SkipRetry), 0, StatusFailed},
		{"transient, retries left", errors.New("busy"), 1, StatusRetry},
		{"transient, last attempt", errors.New("busy"), 3, StatusFailed},
		{"outage, last attempt", &worker.OutageError{}, 3, StatusRetry},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := outcome(tc.err, tc.retried, 3, true); got != tc.want {
				t.Fatalf("outcome = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestRequestsByRoute(t *testing.T) {
	m := New()
	m.ObserveRequest("GET /v1/posters/{id}", 200, 3*time.Millisecond)
	m.ObserveRequest("GET /v1/posters/{id}", 200, 5*time.Millisecond)
	m.ObserveRequest("", 404, time.Millisecond)
	m.BatchItems(BatchItemSucceeded, 2)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`wxposter_http_requests_total{route="GET /v1/posters/{id}",status="200"} 2`,
		`wxposter_http_requests_total{route="unmatched",status="404"} 1`,
		`wxposter_http_request_duration_seconds_count{route="GET /v1/posters/{id}"} 2`,
		`wxposter_batch_items_total{status="succeeded"} 2`,
		`go_goroutines `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// recycler is a renderer that counts the canvases given back to it.
type recycler struct {
	worker.Renderer
	back int
}

func (r *recycler) Recycle(*image.RGBA) { r.back++ }

// The timing wrapper passes canvases back: the worker recycles through the
// renderer it holds, which is this wrapper.
func TestRendererPassesCanvasesBack(t *testing.T) {
	inner := &recycler{}
	wrapped := New().Renderer(inner)
	rc, ok := wrapped.(interface{ Recycle(*image.RGBA) })
	if !ok {
		t.Fatal("the wrapped renderer has no Recycle")
	}
	rc.Recycle(image.NewRGBA(image.Rect(0, 0, 1, 1)))
	if inner.back != 1 {
		t.Errorf("canvases passed back: %d, want 1", inner.back)
	}
}
