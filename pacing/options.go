package pacing

import (
	"log/slog"
	"maps"
	"time"
)

// Option configures a Pacer.
type Option func(*Pacer)

// WithRates sets the cap of code calls per app in any minute: perApp[appID]
// when positive, otherwise defaultPerMinute (DefaultRatePerMinute when not
// positive).
func WithRates(defaultPerMinute int, perApp map[string]int) Option {
	perApp = maps.Clone(perApp)
	return WithRateFunc(func(appID string) int {
		if n := perApp[appID]; n > 0 {
			return n
		}
		if defaultPerMinute > 0 {
			return defaultPerMinute
		}
		return DefaultRatePerMinute
	})
}

// WithRateFunc sets the cap of code calls per minute for each app.
func WithRateFunc(perMinute func(appID string) int) Option {
	return func(p *Pacer) { p.rate = perMinute }
}

// WithBurst sets how many calls may go at once after a quiet spell (default
// 3, at most a tenth of the rate). The burst is taken out of the rate, not
// added to it.
func WithBurst(n int) Option { return func(p *Pacer) { p.burst = n } }

// WithCooldown sets how long an app's calls stop after WeChat answered 45011
// (default 1 min: longer than any minute window, however it is aligned).
func WithCooldown(d time.Duration) Option { return func(p *Pacer) { p.cooldown = d } }

// WithPauseRecheck sets how often jobs held by a 45009 pause come back to
// see whether it was lifted early with Resume (default 10 min).
func WithPauseRecheck(d time.Duration) Option { return func(p *Pacer) { p.recheck = d } }

// WithKeyPrefix sets the prefix of the Redis keys (default "wxposter:pace:").
func WithKeyPrefix(prefix string) Option { return func(p *Pacer) { p.prefix = prefix } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(p *Pacer) { p.log = l } }
