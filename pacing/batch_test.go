package pacing

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"

	"github.com/wxposter/wxposter/internal/testenv"
)

func TestBatchLimitIsTheShare(t *testing.T) {
	for _, tc := range []struct {
		rate  int
		share float64
		want  redis_rate.Limit
	}{
		{4500, 0.8, redis_rate.Limit{Rate: 3597, Burst: 3, Period: time.Minute}},
		{600, 0.8, redis_rate.Limit{Rate: 477, Burst: 3, Period: time.Minute}},
		{600, 1, redis_rate.Limit{Rate: 597, Burst: 3, Period: time.Minute}},
		{10, 0.5, redis_rate.Limit{Rate: 4, Burst: 1, Period: time.Minute}},
	} {
		p := New(nil, WithRates(tc.rate, nil), WithBatchShare(tc.share))
		if got := p.BatchLimit("wx1"); got != tc.want {
			t.Errorf("rate %d share %v: %v, want %v", tc.rate, tc.share, got, tc.want)
		}
	}
}

// Batch callers hammering an app get at most their share; interactive
// callers arriving meanwhile are admitted (they line up apart and the rest
// of the rate is theirs).
func TestBatchShareLeavesRoomForInteractive(t *testing.T) {
	const (
		perPeriod = 40
		period    = 2 * time.Second
		run       = 4 * time.Second
	)
	prefix, app := testPrefix(), testenv.AppID()
	p := newPacer(t, prefix, WithRates(perPeriod, nil), WithBatchShare(0.5))
	p.period = period
	ctx, cancel := context.WithTimeout(context.Background(), run)
	defer cancel()
	var batchN, interN atomic.Int64
	var wg sync.WaitGroup
	for range 6 { // batch work saturating its share
		wg.Go(func() {
			bctx := AsBatch(ctx)
			for ctx.Err() == nil {
				if h, err := p.Admit(bctx, app, 300*time.Millisecond); err == nil && !h.Held() {
					batchN.Add(1)
				}
			}
		})
	}
	wg.Go(func() { // one interactive call every 200 ms
		for ctx.Err() == nil {
			if h, err := p.Admit(ctx, app, time.Second); err == nil && !h.Held() {
				interN.Add(1)
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
	wg.Wait()
	periods := float64(run) / float64(period)
	// GCRA admits its burst at once, then the rate: allow the burst once.
	if max := int64(periods*perPeriod/2) + 3; batchN.Load() > max {
		t.Errorf("batch calls = %d, over the share of %d", batchN.Load(), max)
	}
	if batchN.Load() < int64(periods*perPeriod/2*0.5) {
		t.Errorf("batch calls = %d, far under the share", batchN.Load())
	}
	// Interactive calls are never held back by batch work: every one that
	// asked was admitted (the rest of the rate is theirs).
	if interN.Load() < 10 {
		t.Errorf("interactive calls = %d in %s, want about one per 200 ms", interN.Load(), run)
	}
}
