// Package pacing keeps each app's WeChat code calls within WeChat's quotas,
// for every worker process sharing one Redis together.
//
// Three things can hold a call back:
//
//   - the rate: a GCRA limiter (go-redis/redis_rate) per app, so that no
//     60-second span ever sees more than the configured calls;
//   - a cooldown after WeChat answered 45011 (minute quota), in case
//     something else spends the same app's quota;
//   - a pause after WeChat answered 45009 (daily quota), until the quota
//     resets at 00:00 China time.
//
// Batch work (AsBatch) is also held to a share of the rate
// (WithBatchShare), so the rest stays free for interactive requests.
//
// Redis keys: rate:wxposter:pace:<appid>:gcra (the limiter's state),
// rate:wxposter:pace:<appid>:gcra-batch (the batch share's),
// wxposter:pace:<appid>:cooldown and wxposter:pace:<appid>:paused.
package pacing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// DefaultRatePerMinute is the default cap of code calls per app in any
// minute: 10 % under WeChat's 5000, leaving room for other systems and
// clock skew.
const DefaultRatePerMinute = 4500

// Pacer decides when an app's next code call may go to WeChat. It is safe
// for concurrent use; every Pacer on the same Redis (and key prefix) shares
// the same limits.
type Pacer struct {
	rdb      redis.UniversalClient
	limiter  *redis_rate.Limiter
	prefix   string
	rate     func(appID string) int
	burst    int
	period   time.Duration // one minute; tests shorten it
	cooldown time.Duration
	share    float64 // of the rate, for batch work
	recheck  time.Duration
	clock    func() time.Time
	log      *slog.Logger

	mu    sync.Mutex
	gates map[string]*gate
}

// gate lines up one process's callers for an app, so that one of them at a
// time asks Redis instead of all of them at every free slot.
type gate struct{ turn chan struct{} }

// New returns a Pacer on rdb.
func New(rdb redis.UniversalClient, opts ...Option) *Pacer {
	p := &Pacer{
		rdb:      rdb,
		limiter:  redis_rate.NewLimiter(rdb),
		prefix:   "wxposter:pace:",
		rate:     func(string) int { return DefaultRatePerMinute },
		burst:    3,
		period:   time.Minute,
		cooldown: time.Minute,
		share:    DefaultBatchShare,
		recheck:  10 * time.Minute,
		clock:    time.Now,
		log:      slog.Default(),
		gates:    map[string]*gate{},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

// Admit returns a zero Hold once one code call for appID may go to WeChat,
// or a Hold saying why not and when to ask again. Errors are Redis's or
// ctx's.
//
// A process's callers for an app take turns: the one whose turn it is asks
// Redis and waits for the app's next slot, however long ctx allows, so the
// app's slots go unused only when nobody waits for them. The others wait
// at most maxWait for their turn. A pause, or a cooldown longer than
// maxWait, holds the call at once.
//
// An admitted call counts against the rate whether or not it is then made,
// so ask only right before calling.
func (p *Pacer) Admit(ctx context.Context, appID string, maxWait time.Duration) (Hold, error) {
	deadline := time.Now().Add(maxWait)
	gateKey := appID
	if IsBatch(ctx) {
		gateKey += "\x00batch" // batch callers line up apart from interactive ones
	}
	g := p.gate(gateKey)

	if err := g.enter(ctx, maxWait); err != nil {
		if ctx.Err() != nil {
			return Hold{}, ctx.Err()
		}
		return p.rateHold(appID), nil
	}
	defer g.leave()

	limits := p.limits(ctx, appID)
	for {
		h, err := p.State(ctx, appID)
		if err != nil {
			return Hold{}, err
		}
		if h.Held() {
			if h.Reason != ReasonCooldown || time.Now().Add(h.RetryIn).After(deadline) {
				return h, nil
			}
			if err := sleep(ctx, h.RetryIn); err != nil {
				return Hold{}, err
			}
			continue
		}
		// A batch call passes the batch share first, then the app's rate:
		// both count it, and it waits here for each in turn.
		res, err := p.limiter.Allow(ctx, limits[0].key, limits[0].l)
		if err != nil {
			return Hold{}, fmt.Errorf("pacing %s: rate limiter: %w", appID, err)
		}
		if res.Allowed > 0 {
			if limits = limits[1:]; len(limits) == 0 {
				return Hold{}, nil
			}
			continue
		}
		if err := sleep(ctx, res.RetryAfter); err != nil {
			return Hold{}, err
		}
	}
}

// Limit is the GCRA limit used for appID. With burst B and rate R per
// period, any span of one period admits at most B+R calls, so R is the
// configured rate less the burst: the configured rate is a hard cap for
// every 60 seconds, however WeChat aligns its windows.
func (p *Pacer) Limit(appID string) redis_rate.Limit {
	n := p.rate(appID)
	if n <= 0 {
		n = DefaultRatePerMinute
	}
	b := min(max(p.burst, 1), max(n/10, 1))
	return redis_rate.Limit{Rate: max(n-b, 1), Burst: b, Period: p.period}
}

// rateHold is the hold of a call that did not get its turn in time. It
// comes back at the app's next slot at the earliest, and at least 1 s
// later (asynq moves due jobs back in whole seconds). How many times it is
// held is bounded by the callers' concurrency, not by the backlog: each
// hold freed a worker for maxWait.
func (p *Pacer) rateHold(appID string) Hold {
	l := p.Limit(appID)
	return Hold{Reason: ReasonRate, RetryIn: max(l.Period/time.Duration(l.Rate), time.Second), Rate: l.Rate + l.Burst}
}

// enter waits up to maxWait for the gate's turn.
func (g *gate) enter(ctx context.Context, maxWait time.Duration) error {
	select {
	case g.turn <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(maxWait)
	defer t.Stop()
	select {
	case g.turn <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return errTimeout
	}
}

func (g *gate) leave() { <-g.turn }

var errTimeout = errors.New("pacing: no turn in time")

func (p *Pacer) gate(appID string) *gate {
	p.mu.Lock()
	defer p.mu.Unlock()
	g, ok := p.gates[appID]
	if !ok {
		g = &gate{turn: make(chan struct{}, 1)}
		p.gates[appID] = g
	}
	return g
}

func (p *Pacer) key(appID, what string) string { return p.prefix + appID + ":" + what }

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
