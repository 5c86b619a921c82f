package pacing

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"

	"github.com/wxposter/wxposter/internal/testenv"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// newPacer returns a Pacer on its own Redis client (as another process
// would have) under prefix, with a quiet logger.
func newPacer(t *testing.T, prefix string, opts ...Option) *Pacer {
	t.Helper()
	return New(testenv.Redis(t), append([]Option{WithKeyPrefix(prefix), WithLogger(quiet)}, opts...)...)
}

func testPrefix() string { return "wxtest:pace:" + testenv.ID(6) + ":" }

func TestLimitKeepsRatePlusBurstUnderTheCap(t *testing.T) {
	for _, tc := range []struct {
		perMinute, burst int
		want             redis_rate.Limit
	}{
		{4500, 3, redis_rate.Limit{Rate: 4497, Burst: 3, Period: time.Minute}},
		{120, 3, redis_rate.Limit{Rate: 117, Burst: 3, Period: time.Minute}},
		{30, 3, redis_rate.Limit{Rate: 27, Burst: 3, Period: time.Minute}},
		{30, 10, redis_rate.Limit{Rate: 27, Burst: 3, Period: time.Minute}}, // at most a tenth
		{6, 3, redis_rate.Limit{Rate: 5, Burst: 1, Period: time.Minute}},
		{100, 0, redis_rate.Limit{Rate: 99, Burst: 1, Period: time.Minute}},
		{0, 3, redis_rate.Limit{Rate: DefaultRatePerMinute - 3, Burst: 3, Period: time.Minute}},
	} {
		p := New(nil, WithRates(tc.perMinute, nil), WithBurst(tc.burst))
		if got := p.Limit("wx1"); got != tc.want {
			t.Errorf("rate %d burst %d: Limit = %v, want %v", tc.perMinute, tc.burst, got, tc.want)
		}
	}
	p := New(nil, WithRates(100, map[string]int{"wxbig": 4000, "wxzero": 0}))
	for app, want := range map[string]int{"wxbig": 4000, "wxzero": 100, "wxother": 100} {
		if l := p.Limit(app); l.Rate+l.Burst != want {
			t.Errorf("%s: rate+burst = %d, want %d", app, l.Rate+l.Burst, want)
		}
	}
}

// Three processes' pacers hammer one app together: no span of one period
// may see more than the cap, and the cap must be nearly reached.
func TestAdmitCapsEveryWindowAcrossProcesses(t *testing.T) {
	const (
		perPeriod = 30
		period    = 3 * time.Second
		run       = 6 * time.Second
	)
	prefix, app := testPrefix(), testenv.AppID()
	var (
		mu       sync.Mutex
		admitted []time.Time
		holds    []Hold
	)
	ctx, cancel := context.WithTimeout(context.Background(), run)
	defer cancel()
	var wg sync.WaitGroup
	for range 3 {
		p := newPacer(t, prefix, WithRates(perPeriod, nil))
		p.period = period
		for range 4 {
			wg.Go(func() {
				for ctx.Err() == nil {
					h, err := p.Admit(ctx, app, 500*time.Millisecond)
					if err != nil {
						return // ctx ended
					}
					mu.Lock()
					if h.Held() {
						holds = append(holds, h)
					} else {
						admitted = append(admitted, time.Now())
					}
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	slices.SortFunc(admitted, func(a, b time.Time) int { return a.Compare(b) })

	// Admission is decided on Redis's clock and seen here a little later;
	// the windows are shortened by that much.
	const slack = 200 * time.Millisecond
	worst := 0
	for i, a := range admitted {
		n := 0
		for _, b := range admitted[i:] {
			if b.Sub(a) > period-slack {
				break
			}
			n++
		}
		worst = max(worst, n)
	}
	if worst > perPeriod {
		t.Errorf("%d calls admitted within %s, cap is %d per %s", worst, period-slack, perPeriod, period)
	}
	// Burst 3 at once, then 27 per period; loosely, as a loaded machine
	// delays waiters (the e2e benchmark measures throughput).
	if want := 3 + 27*int(run/period); len(admitted) < want*2/3 {
		t.Errorf("admitted %d in %s, want about %d", len(admitted), run, want)
	}
	if len(holds) == 0 {
		t.Fatal("12 waiters at 10/s and nobody was held back")
	}
	for _, h := range holds {
		if h.Reason != ReasonRate || h.RetryIn < time.Second || h.RetryIn > period || h.Rate != perPeriod {
			t.Errorf("hold %+v: want a rate hold of 1s..%s at %d/min", h, period, perPeriod)
			break
		}
	}
	t.Logf("admitted %d, held %d, worst window %d", len(admitted), len(holds), worst)
}

// The caller whose turn it is waits for the app's next slot (as long as its
// context allows); the callers queued behind it give up after maxWait with
// a Hold that sends them back no sooner than the next slot.
func TestAdmitTurns(t *testing.T) {
	p := newPacer(t, testPrefix(), WithRates(6, nil)) // burst 1, then one call per 12 s
	app := testenv.AppID()
	if h, err := p.Admit(context.Background(), app, 0); err != nil || h.Held() {
		t.Fatalf("first call: %+v %v, want admitted", h, err)
	}

	turn := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := p.Admit(ctx, app, 100*time.Millisecond)
		turn <- err
	}()
	time.Sleep(100 * time.Millisecond)

	start := time.Now()
	h, err := p.Admit(context.Background(), app, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 500*time.Millisecond {
		t.Errorf("a caller without the turn waited %s, want about maxWait", took)
	}
	// Not before the next slot.
	if h.Reason != ReasonRate || h.RetryIn != 12*time.Second || h.Rate != 6 {
		t.Errorf("hold = %+v, want a rate hold of 12s", h)
	}
	if err := <-turn; !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("the caller with the turn: %v, want it to wait for the slot until its context ended", err)
	}
	if took := time.Since(start); took < 800*time.Millisecond {
		t.Errorf("the caller with the turn gave up after %s", took)
	}
}

func TestCooldownHoldsEveryProcessThenEnds(t *testing.T) {
	prefix, app, ctx := testPrefix(), testenv.AppID(), context.Background()
	a := newPacer(t, prefix, WithCooldown(400*time.Millisecond))
	b := newPacer(t, prefix, WithCooldown(400*time.Millisecond))

	h, err := a.MinuteQuotaHit(ctx, app)
	if err != nil || h.Reason != ReasonCooldown || h.RetryIn != 400*time.Millisecond {
		t.Fatalf("MinuteQuotaHit = %+v %v", h, err)
	}
	time.Sleep(100 * time.Millisecond)
	// A second 45011 from the same window does not extend the cooldown.
	if h, err := b.MinuteQuotaHit(ctx, app); err != nil || h.Reason != ReasonCooldown || h.RetryIn > 300*time.Millisecond+20*time.Millisecond {
		t.Fatalf("second MinuteQuotaHit = %+v %v, want the running cooldown", h, err)
	}
	if h, err := b.Admit(ctx, app, 0); err != nil || h.Reason != ReasonCooldown || h.RetryIn <= 0 || h.RetryIn > 300*time.Millisecond {
		t.Fatalf("Admit during cooldown = %+v %v, want a cooldown hold", h, err)
	}
	// A caller willing to wait out the cooldown is admitted after it.
	start := time.Now()
	if h, err := b.Admit(ctx, app, time.Second); err != nil || h.Held() {
		t.Fatalf("Admit = %+v %v, want admitted after the cooldown", h, err)
	}
	if took := time.Since(start); took < 200*time.Millisecond {
		t.Errorf("admitted after %s, before the cooldown ended", took)
	}
	if h, err := a.State(ctx, app); err != nil || h.Held() {
		t.Errorf("State after cooldown = %+v %v", h, err)
	}
}

func TestDailyReset(t *testing.T) {
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct{ at, want string }{
		{"2026-11-21T15:59:59.999Z", "2026-11-21T16:00:00Z"},       // 23:59:59.999 CST
		{"2026-11-21T16:00:00Z", "2026-11-22T16:00:00Z"},           // 00:00 CST: the next one
		{"2026-11-21T23:30:00Z", "2026-11-22T16:00:00Z"},           // UTC day ends, CST day goes on
		{"2026-11-22T00:10:00Z", "2026-11-22T16:00:00Z"},           // new UTC day, same CST day
		{"2026-11-21T07:59:00-08:00", "2026-11-21T16:00:00Z"},      // any zone in
		{"2026-12-31T16:30:00Z", "2027-01-01T16:00:00Z"},           // new year in China first
		{"2028-02-28T16:00:00Z", "2028-02-29T16:00:00Z"},           // leap day
		{"2026-03-29T01:30:00+01:00", "2026-03-29T16:00:00Z"},      // DST elsewhere: no matter
		{"2026-11-21T15:59:59.999999999Z", "2026-11-21T16:00:00Z"}, // last nanosecond
	} {
		got := DailyReset(utc(tc.at))
		if !got.Equal(utc(tc.want)) {
			t.Errorf("DailyReset(%s) = %s, want %s", tc.at, got.UTC().Format(time.RFC3339), tc.want)
		}
		if got.Location() != ChinaTime || got.Hour() != 0 || got.Minute() != 0 {
			t.Errorf("DailyReset(%s) = %s, want 00:00 CST", tc.at, got)
		}
	}
}

func TestPauseUntilDailyReset(t *testing.T) {
	cst := func(s string) time.Time {
		v, err := time.ParseInLocation(time.DateTime+".000", s, ChinaTime)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		name, now, until string
		recheck          time.Duration
		wantRetryIn      time.Duration
		expires          bool // within the test
	}{
		{"just before midnight: the pause ends by itself", "2026-11-21 23:59:59.600", "2026-11-22 00:00:00.000",
			10 * time.Minute, 400 * time.Millisecond, true},
		{"at noon: jobs recheck", "2026-11-22 12:00:00.000", "2026-11-23 00:00:00.000",
			2 * time.Second, 2 * time.Second, false},
		{"at midnight: a whole day", "2026-11-22 00:00:00.000", "2026-11-23 00:00:00.000",
			10 * time.Minute, 10 * time.Minute, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prefix, app, ctx := testPrefix(), testenv.AppID(), context.Background()
			now := cst(tc.now)
			hit := newPacer(t, prefix, WithPauseRecheck(tc.recheck))
			hit.clock = func() time.Time { return now }
			other := newPacer(t, prefix, WithPauseRecheck(tc.recheck)) // real clock

			h, err := hit.DailyQuotaHit(ctx, app)
			if err != nil || h.Reason != ReasonPaused || !h.Until.Equal(cst(tc.until)) || h.RetryIn != tc.wantRetryIn {
				t.Fatalf("DailyQuotaHit = %+v %v, want paused until %s, retry in %s", h, err, tc.until, tc.wantRetryIn)
			}
			if msg := h.Until.Format("2006-01-02 15:04 MST"); msg != tc.until[:16]+" CST" {
				t.Errorf("until prints as %q", msg)
			}
			ttl := hit.rdb.PTTL(ctx, prefix+app+":paused").Val()
			if want := cst(tc.until).Sub(now); ttl > want || ttl < want-time.Second {
				t.Errorf("pause key TTL = %s, want %s", ttl, want)
			}
			// Every process sees the pause, with the reset time.
			h, err = other.Admit(ctx, app, time.Second)
			if err != nil || h.Reason != ReasonPaused || !h.Until.Equal(cst(tc.until)) || h.RetryIn > tc.recheck {
				t.Fatalf("Admit while paused = %+v %v", h, err)
			}
			if tc.expires {
				time.Sleep(tc.wantRetryIn + 100*time.Millisecond)
			} else if err := other.Resume(ctx, app); err != nil {
				t.Fatal(err)
			}
			if h, err := other.Admit(ctx, app, time.Second); err != nil || h.Held() {
				t.Fatalf("Admit after the pause = %+v %v, want admitted", h, err)
			}
		})
	}
}
