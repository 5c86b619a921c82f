package wechat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/bsm/redislock"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/singleflight"
)

// fetchFunc gets a fresh credential from upstream: its value and lifetime
// in seconds.
type fetchFunc func(ctx context.Context, app App) (value string, expiresIn int, err error)

// credCache holds one kind of credential per app (access_token, jsapi_ticket)
// for the whole cluster. It reads, in order:
//
//  1. the process's own copy, trusted for memTTL (WeChat's guidance: workers
//     may keep the central value in memory for about a minute);
//  2. Redis, shared by every process;
//  3. upstream, fetched under single-flight in the process and a Redis lock
//     across processes. The lock holder reads Redis again before fetching,
//     and everyone else waits for the cache to fill.
//
// Shortly before a credential goes stale, one process refreshes it in the
// background while the old value keeps being served. If Redis is down,
// processes fall back to their own copies and fetch upstream themselves, at
// most once per fallbackEvery per app.
type credCache struct {
	kind  string // in keys and logs: "stable_token", "jsapi_ticket", …
	rdb   redis.UniversalClient
	fetch fetchFunc
	log   *slog.Logger

	prefix        string
	lockTTL       time.Duration
	maxWait       time.Duration
	pollStep      time.Duration
	memTTL        time.Duration
	fallbackEvery time.Duration
	now           func() time.Time

	group  singleflight.Group
	locker *redislock.Client

	mu           sync.Mutex
	mem          map[string]memCred
	lastFallback map[string]time.Time
	refreshing   map[string]bool
	// revoked is the last value invalidated per app. A reader that read it
	// from Redis just before the invalidation must not cache it again.
	revoked map[string]string
}

// cred is a cached credential and its schedule.
type cred struct {
	value     string
	expiresAt time.Time // when WeChat stops accepting it
	refreshAt time.Time // when to fetch its successor in the background
	useUntil  time.Time // after this it is not handed out (Redis key expiry)
}

type memCred struct {
	cred
	readAt time.Time
}

func newCredCache(kind string, rdb redis.UniversalClient, fetch fetchFunc, log *slog.Logger) *credCache {
	return &credCache{
		kind: kind, rdb: rdb, fetch: fetch, log: log,
		prefix:        "wxposter:wx:",
		lockTTL:       15 * time.Second,
		maxWait:       20 * time.Second,
		pollStep:      25 * time.Millisecond,
		memTTL:        30 * time.Second,
		fallbackEvery: 30 * time.Second,
		now:           time.Now,
		locker:        redislock.New(rdb),
		mem:           map[string]memCred{},
		lastFallback:  map[string]time.Time{},
		refreshing:    map[string]bool{},
		revoked:       map[string]string{},
	}
}

func (c *credCache) key(appID string) string     { return c.prefix + appID + ":" + c.kind }
func (c *credCache) lockKey(appID string) string { return c.key(appID) + ":lock" }

// schedule computes when a credential living expiresIn seconds from now
// should stop being handed out and when its successor should be fetched.
// The margin is 10 % of the lifetime, at least a minute: stable_token may
// answer expires_in as low as 300 s (it rotates in the last 5 minutes), so a
// fixed margin like 1500 s would give a TTL <= 0.
func schedule(now time.Time, expiresIn int) cred {
	life := time.Duration(expiresIn) * time.Second
	use := cacheTTL(expiresIn)
	ahead := min(5*time.Minute, use/2)
	return cred{expiresAt: now.Add(life), useUntil: now.Add(use), refreshAt: now.Add(use - ahead)}
}

func cacheTTL(expiresIn int) time.Duration {
	life := time.Duration(expiresIn) * time.Second
	margin := max(life/10, time.Minute)
	if life-margin < 30*time.Second {
		return max(life/2, time.Second)
	}
	return life - margin
}

// Get returns a usable credential for app.
func (c *credCache) Get(ctx context.Context, app App) (string, error) {
	now := c.now()
	if m, ok := c.memGet(app.AppID); ok && now.Sub(m.readAt) < c.memTTL && now.Before(m.useUntil) {
		c.maybeRefresh(app, m.cred)
		return m.value, nil
	}
	cr, err := c.read(ctx, app.AppID)
	if err != nil {
		return c.fallback(ctx, app, err)
	}
	if cr != nil && now.Before(cr.useUntil) {
		c.memPut(app.AppID, *cr)
		c.maybeRefresh(app, *cr)
		return cr.value, nil
	}
	// The shared fetch must not die with whichever caller happened to start
	// it; it is bounded by maxWait instead.
	v, err, _ := c.group.Do(app.AppID, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.maxWait)
		defer cancel()
		return c.fill(fctx, app)
	})
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

// fill makes Redis hold a credential: fetch it under the lock, or wait for
// the process that holds the lock.
func (c *credCache) fill(ctx context.Context, app App) (string, error) {
	deadline := c.now().Add(c.maxWait)
	for {
		if cr, err := c.read(ctx, app.AppID); err != nil {
			return c.fallback(ctx, app, err)
		} else if cr != nil && c.now().Before(cr.useUntil) {
			c.memPut(app.AppID, *cr)
			return cr.value, nil
		}
		lock, err := c.locker.Obtain(ctx, c.lockKey(app.AppID), c.lockTTL, nil)
		switch {
		case err == nil:
			v, ferr := c.fetchLocked(ctx, app, false)
			// Compare-and-delete: releases only our own lock.
			_ = lock.Release(context.WithoutCancel(ctx))
			return v, ferr
		case !errors.Is(err, redislock.ErrNotObtained):
			return c.fallback(ctx, app, err)
		}
		if c.now().After(deadline) {
			return "", fmt.Errorf("%w: waited %s for another process to fetch the %s", ErrTokenUnavailable, c.maxWait, c.kind)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(c.pollStep):
		}
	}
}

// fetchLocked fetches and stores a credential; the caller holds the lock.
// Unless refresh is set, a usable credential found on the re-check wins.
func (c *credCache) fetchLocked(ctx context.Context, app App, refresh bool) (string, error) {
	cr, err := c.read(ctx, app.AppID)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrTokenUnavailable, err)
	}
	now := c.now()
	if cr != nil && now.Before(cr.useUntil) && (!refresh || now.Before(cr.refreshAt)) {
		c.memPut(app.AppID, *cr)
		return cr.value, nil
	}
	v, expiresIn, err := c.fetch(ctx, app)
	if err != nil {
		return "", err
	}
	if err := c.store(ctx, app.AppID, v, expiresIn); err != nil {
		return "", err
	}
	c.log.InfoContext(ctx, "fetched "+c.kind, "app", app.AppID, "expires_in", expiresIn, "background", refresh)
	return v, nil
}

// store writes a fresh credential to Redis and to the process copy.
func (c *credCache) store(ctx context.Context, appID, value string, expiresIn int) error {
	c.unrevoke(appID, value)
	cr := schedule(c.now(), expiresIn)
	cr.value = value
	key := c.key(appID)
	_, err := c.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, key, "value", value,
			"expires_at", cr.expiresAt.UnixMilli(), "refresh_at", cr.refreshAt.UnixMilli(), "use_until", cr.useUntil.UnixMilli())
		p.PExpireAt(ctx, key, cr.useUntil)
		return nil
	})
	if err != nil {
		return fmt.Errorf("%w: write cache: %w", ErrTokenUnavailable, err)
	}
	c.memPut(appID, cr)
	return nil
}

// read returns the cached credential, nil if none.
func (c *credCache) read(ctx context.Context, appID string) (*cred, error) {
	m, err := c.rdb.HGetAll(ctx, c.key(appID)).Result()
	if err != nil {
		return nil, err
	}
	if m["value"] == "" || c.isRevoked(appID, m["value"]) {
		return nil, nil
	}
	ms := func(k string) time.Time {
		n, _ := strconv.ParseInt(m[k], 10, 64)
		return time.UnixMilli(n)
	}
	return &cred{value: m["value"], expiresAt: ms("expires_at"), refreshAt: ms("refresh_at"), useUntil: ms("use_until")}, nil
}

// maybeRefresh starts a background refresh once cr is due for one. At most
// one runs per process (the flag) and per cluster (the lock, not waited for).
func (c *credCache) maybeRefresh(app App, cr cred) {
	if c.now().Before(cr.refreshAt) {
		return
	}
	c.mu.Lock()
	if c.refreshing[app.AppID] {
		c.mu.Unlock()
		return
	}
	c.refreshing[app.AppID] = true
	c.mu.Unlock()
	go func() {
		defer func() {
			c.mu.Lock()
			delete(c.refreshing, app.AppID)
			c.mu.Unlock()
		}()
		ctx, cancel := context.WithTimeout(context.Background(), c.maxWait)
		defer cancel()
		lock, err := c.locker.Obtain(ctx, c.lockKey(app.AppID), c.lockTTL, nil)
		if err != nil {
			return // another process is fetching, or Redis is down
		}
		defer lock.Release(context.WithoutCancel(ctx))
		if _, err := c.fetchLocked(ctx, app, true); err != nil {
			c.log.WarnContext(ctx, "background refresh failed; the current value is still served", "kind", c.kind, "app", app.AppID, "err", err)
		}
	}()
}

// fallback serves when Redis cannot be used: the process's own copy if it
// is still usable, otherwise an upstream fetch, at most one per
// fallbackEvery per app so that an outage cannot burn the daily quota.
func (c *credCache) fallback(ctx context.Context, app App, redisErr error) (string, error) {
	now := c.now()
	if m, ok := c.memGet(app.AppID); ok && now.Before(m.useUntil) {
		return m.value, nil
	}
	c.mu.Lock()
	last, tried := c.lastFallback[app.AppID]
	if tried && now.Sub(last) < c.fallbackEvery {
		c.mu.Unlock()
		return "", fmt.Errorf("%w: redis unavailable (%w) and the last direct fetch was %s ago",
			ErrTokenUnavailable, redisErr, now.Sub(last).Round(time.Second))
	}
	c.lastFallback[app.AppID] = now
	c.mu.Unlock()
	c.log.WarnContext(ctx, "redis unavailable; fetching "+c.kind+" directly", "app", app.AppID, "err", redisErr)
	v, expiresIn, err := c.fetch(ctx, app)
	if err != nil {
		return "", err
	}
	cr := schedule(now, expiresIn)
	cr.value = v
	c.unrevoke(app.AppID, v)
	c.memPut(app.AppID, cr)
	return v, nil
}

// Invalidate drops value from Redis, if Redis still holds it (a value
// another process already replaced must survive), and then from the process
// copy. The value is remembered as revoked, so that a concurrent reader
// that fetched it from Redis before the drop cannot put it back into the
// process copy (nor is it served if the Redis drop failed).
func (c *credCache) Invalidate(ctx context.Context, app App, value string) error {
	c.mu.Lock()
	c.revoked[app.AppID] = value
	c.mu.Unlock()
	if err := invalidateScript.Run(ctx, c.rdb, []string{c.key(app.AppID)}, value).Err(); err != nil {
		c.log.WarnContext(ctx, "could not invalidate cached "+c.kind, "app", app.AppID, "err", err)
	}
	c.mu.Lock()
	if m, ok := c.mem[app.AppID]; ok && m.value == value {
		delete(c.mem, app.AppID)
	}
	c.mu.Unlock()
	return nil
}

// unrevoke forgets a revocation once upstream hands out the value again
// (stable_token may): a fresh fetch vouches for it.
func (c *credCache) unrevoke(appID, value string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.revoked[appID] == value {
		delete(c.revoked, appID)
	}
}

func (c *credCache) isRevoked(appID, value string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.revoked[appID] == value
}

var invalidateScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'value') == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`)

func (c *credCache) memGet(appID string) (memCred, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, ok := c.mem[appID]
	return m, ok
}

func (c *credCache) memPut(appID string, cr cred) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.revoked[appID] == cr.value {
		return
	}
	c.mem[appID] = memCred{cred: cr, readAt: c.now()}
}
