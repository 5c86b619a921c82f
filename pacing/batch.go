package pacing

import (
	"context"

	"github.com/go-redis/redis_rate/v10"
)

// DefaultBatchShare is the share of each app's code rate batch work may
// use; the rest is kept for interactive requests (the poster button).
const DefaultBatchShare = 0.8

type batchKey struct{}

// AsBatch marks ctx as batch work: Admit then paces it within the batch
// share of the app's rate (WithBatchShare), on top of the app's rate, and
// lines it up apart from interactive callers so they never wait behind it.
func AsBatch(ctx context.Context) context.Context { return context.WithValue(ctx, batchKey{}, true) }

// IsBatch reports whether ctx was marked with AsBatch.
func IsBatch(ctx context.Context) bool { b, _ := ctx.Value(batchKey{}).(bool); return b }

// WithBatchShare sets the share of each app's rate batch work may use
// (default DefaultBatchShare; 1 lets batches use all of it).
func WithBatchShare(f float64) Option {
	return func(p *Pacer) {
		if f > 0 && f <= 1 {
			p.share = f
		}
	}
}

// BatchLimit is the GCRA limit batch work of appID is held to in addition
// to Limit: the batch share of the configured rate, burst included, so that
// at least the rest of every minute's calls stays free for interactive
// requests.
func (p *Pacer) BatchLimit(appID string) redis_rate.Limit {
	n := p.rate(appID)
	if n <= 0 {
		n = DefaultRatePerMinute
	}
	n = max(int(float64(n)*p.share), 1)
	b := min(max(p.burst, 1), max(n/10, 1))
	return redis_rate.Limit{Rate: max(n-b, 1), Burst: b, Period: p.period}
}

// limits are the GCRA limiters a call must pass, in order.
func (p *Pacer) limits(ctx context.Context, appID string) []limit {
	all := limit{key: p.key(appID, "gcra"), l: p.Limit(appID)}
	if IsBatch(ctx) && p.share < 1 {
		return []limit{{key: p.key(appID, "gcra-batch"), l: p.BatchLimit(appID)}, all}
	}
	return []limit{all}
}

type limit struct {
	key string
	l   redis_rate.Limit
}
