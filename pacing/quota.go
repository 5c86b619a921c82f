package pacing

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// ChinaTime is the zone WeChat's daily quotas reset in (UTC+8, no DST).
var ChinaTime = time.FixedZone("CST", 8*60*60)

// DailyReset is the first 00:00 China time after t, when WeChat resets
// daily quotas.
func DailyReset(t time.Time) time.Time {
	c := t.In(ChinaTime)
	return time.Date(c.Year(), c.Month(), c.Day()+1, 0, 0, 0, 0, ChinaTime)
}

// MinuteQuotaHit records that WeChat answered 45011 for appID: no worker
// calls for the app until the cooldown ends. A cooldown already running is
// kept, not extended: calls that were in flight when it began belong to the
// same window. The Hold is usable even when Redis fails.
func (p *Pacer) MinuteQuotaHit(ctx context.Context, appID string) (Hold, error) {
	h := Hold{Reason: ReasonCooldown, RetryIn: p.cooldown, Until: p.clock().Add(p.cooldown)}
	set, err := p.rdb.SetNX(ctx, p.key(appID, "cooldown"), "45011", p.cooldown).Result()
	if err != nil {
		return h, fmt.Errorf("pacing %s: set cooldown: %w", appID, err)
	}
	if set {
		p.log.InfoContext(ctx, "WeChat minute quota reached (45011); code calls for the app stop for a while",
			"app", appID, "cooldown", p.cooldown)
		return h, nil
	}
	if cur, err := p.State(ctx, appID); err == nil && cur.Held() {
		return cur, nil
	}
	return h, nil
}

// DailyQuotaHit records that WeChat answered 45009 for appID: no worker
// calls for the app until the daily quota resets (or Resume). The Hold
// comes back every recheck interval to notice an early Resume. It is usable
// even when Redis fails.
func (p *Pacer) DailyQuotaHit(ctx context.Context, appID string) (Hold, error) {
	now := p.clock()
	until := DailyReset(now)
	h := Hold{Reason: ReasonPaused, Until: until, RetryIn: min(until.Sub(now), p.recheck)}
	// The TTL is relative, so a test clock gives a key that lives as long as
	// the clock says.
	set, err := p.rdb.SetNX(ctx, p.key(appID, "paused"), until.UnixMilli(), until.Sub(now)).Result()
	if err != nil {
		return h, fmt.Errorf("pacing %s: set pause: %w", appID, err)
	}
	if set {
		p.log.WarnContext(ctx, "WeChat daily quota used up (45009); code calls for the app are paused until it resets",
			"app", appID, "until", until.Format(time.DateTime+" MST"))
		return h, nil
	}
	if cur, err := p.State(ctx, appID); err == nil && cur.Held() {
		return cur, nil
	}
	return h, nil
}

// Resume lifts a pause or cooldown of appID's calls at once (for when the
// quota was raised, or 45009 was not about the daily quota).
func (p *Pacer) Resume(ctx context.Context, appID string) error {
	// Two DELs, not one: on Redis Cluster the keys may sit in different slots.
	_, err := p.rdb.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		pipe.Del(ctx, p.key(appID, "paused"))
		pipe.Del(ctx, p.key(appID, "cooldown"))
		return nil
	})
	if err != nil {
		return fmt.Errorf("pacing %s: resume: %w", appID, err)
	}
	p.log.InfoContext(ctx, "code calls resumed", "app", appID)
	return nil
}

// State is the pause or cooldown holding appID's calls now, or the zero
// Hold. It does not look at the rate.
func (p *Pacer) State(ctx context.Context, appID string) (Hold, error) {
	pipe := p.rdb.Pipeline()
	pausedUntil := pipe.Get(ctx, p.key(appID, "paused"))
	pausedTTL := pipe.PTTL(ctx, p.key(appID, "paused"))
	coolTTL := pipe.PTTL(ctx, p.key(appID, "cooldown"))
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return Hold{}, fmt.Errorf("pacing %s: read state: %w", appID, err)
	}
	now := p.clock()
	if ttl := pausedTTL.Val(); ttl > 0 {
		until := now.Add(ttl)
		if ms, err := strconv.ParseInt(pausedUntil.Val(), 10, 64); err == nil {
			until = time.UnixMilli(ms).In(ChinaTime)
		}
		return Hold{Reason: ReasonPaused, Until: until, RetryIn: min(ttl, p.recheck)}, nil
	}
	if ttl := coolTTL.Val(); ttl > 0 {
		return Hold{Reason: ReasonCooldown, Until: now.Add(ttl), RetryIn: ttl}, nil
	}
	return Hold{}, nil
}
