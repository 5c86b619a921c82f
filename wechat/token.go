package wechat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/bsm/redislock"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/singleflight"
)

// TokenStore holds each app's access_token in Redis, so every worker of a
// cluster shares one token instead of fetching (and invalidating) its own.
//
// Tokens come from /cgi-bin/stable_token in normal mode: it returns the same
// token while it is valid, and tokens from it are isolated from the classic
// /cgi-bin/token, so other systems refreshing theirs cannot break ours.
//
// A fetch happens under single-flight in the process and a Redis lock across
// processes; whoever takes the lock reads the cache again before fetching,
// and everyone else waits for the cache to fill.
type TokenStore struct {
	rdb  redis.UniversalClient
	c    *Client
	opts []TokenOption

	prefix   string
	lockTTL  time.Duration
	maxWait  time.Duration
	pollStep time.Duration
	group    singleflight.Group
	locker   *redislock.Client
	now      func() time.Time
}

// TokenOption configures the TokenStore.
type TokenOption func(*TokenStore)

// WithKeyPrefix sets the Redis key prefix (default "wxposter:wx:").
func WithKeyPrefix(p string) TokenOption { return func(t *TokenStore) { t.prefix = p } }

// WithLockTTL sets how long a fetching process holds the lock. It must be
// longer than the HTTP timeout, so that a lock never expires mid-fetch.
func WithLockTTL(d time.Duration) TokenOption { return func(t *TokenStore) { t.lockTTL = d } }

func (t *TokenStore) init(c *Client) {
	t.c = c
	t.prefix = "wxposter:wx:"
	t.lockTTL = c.http.Timeout + 5*time.Second
	if c.http.Timeout == 0 {
		t.lockTTL = 30 * time.Second
	}
	t.maxWait = t.lockTTL + 5*time.Second
	t.pollStep = 25 * time.Millisecond
	t.now = time.Now
	for _, o := range t.opts {
		o(t)
	}
	t.locker = redislock.New(t.rdb)
}

func (t *TokenStore) key(appID string) string     { return t.prefix + appID + ":stable_token" }
func (t *TokenStore) lockKey(appID string) string { return t.prefix + appID + ":stable_token:lock" }

// ErrTokenUnavailable wraps failures to get a token that are worth retrying.
var ErrTokenUnavailable = errors.New("wechat: access_token unavailable")

// Token returns a valid access_token for app.
func (t *TokenStore) Token(ctx context.Context, app App) (string, error) {
	if tok, err := t.cached(ctx, app.AppID); err != nil || tok != "" {
		return tok, err
	}
	// The shared fetch must not die with whichever caller happened to start
	// it; it is bounded by maxWait instead.
	v, err, _ := t.group.Do(app.AppID, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), t.maxWait)
		defer cancel()
		return t.fill(fctx, app)
	})
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

func (t *TokenStore) cached(ctx context.Context, appID string) (string, error) {
	tok, err := t.rdb.HGet(ctx, t.key(appID), "token").Result()
	switch {
	case errors.Is(err, redis.Nil):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("%w: read cache: %w", ErrTokenUnavailable, err)
	}
	return tok, nil
}

// fill makes the cache hold a token: fetch it under the lock, or wait for
// the process that holds the lock.
func (t *TokenStore) fill(ctx context.Context, app App) (string, error) {
	deadline := time.Now().Add(t.maxWait)
	for {
		if tok, err := t.cached(ctx, app.AppID); err != nil || tok != "" {
			return tok, err
		}
		lock, err := t.locker.Obtain(ctx, t.lockKey(app.AppID), t.lockTTL, nil)
		switch {
		case err == nil:
			tok, ferr := t.fetchLocked(ctx, app)
			// Compare-and-delete: releases only our own lock.
			_ = lock.Release(context.WithoutCancel(ctx))
			return tok, ferr
		case !errors.Is(err, redislock.ErrNotObtained):
			return "", fmt.Errorf("%w: lock: %w", ErrTokenUnavailable, err)
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("%w: waited %s for another process to fetch it", ErrTokenUnavailable, t.maxWait)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(t.pollStep):
		}
	}
}

func (t *TokenStore) fetchLocked(ctx context.Context, app App) (string, error) {
	// Re-check: the previous holder may have filled the cache just before
	// we took the lock.
	if tok, err := t.cached(ctx, app.AppID); err != nil || tok != "" {
		return tok, err
	}
	tok, expiresIn, err := t.fetchStable(ctx, app)
	if err != nil {
		return "", err
	}
	ttl := cacheTTL(expiresIn)
	key := t.key(app.AppID)
	_, err = t.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, key, "token", tok, "expires_at", t.now().Add(time.Duration(expiresIn)*time.Second).Unix())
		p.PExpire(ctx, key, ttl)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("%w: write cache: %w", ErrTokenUnavailable, err)
	}
	t.c.log.InfoContext(ctx, "fetched access_token", "app", app.AppID, "expires_in", expiresIn, "cached_for", ttl)
	return tok, nil
}

// cacheTTL keeps a margin before expiry: 10 % of the lifetime, at least a
// minute. stable_token may answer expires_in as low as 300 s (it rotates in
// the last 5 minutes), so a fixed margin like 1500 s would give a TTL <= 0.
func cacheTTL(expiresIn int) time.Duration {
	life := time.Duration(expiresIn) * time.Second
	margin := max(life/10, time.Minute)
	if life-margin < 30*time.Second {
		return max(life/2, time.Second)
	}
	return life - margin
}

// fetchStable calls /cgi-bin/stable_token in normal mode.
func (t *TokenStore) fetchStable(ctx context.Context, app App) (string, int, error) {
	const api = "cgi-bin/stable_token"
	body, _ := json.Marshal(map[string]any{
		"grant_type":    "client_credential",
		"appid":         app.AppID,
		"secret":        app.Secret,
		"force_refresh": false,
	})
	resp, err := t.c.do(ctx, http.MethodPost, api, nil, body)
	if err != nil {
		return "", 0, fmt.Errorf("%w: %w", ErrTokenUnavailable, err)
	}
	if we := resp.errcode(api); we != nil {
		return "", 0, we
	}
	var r struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.Unmarshal(resp.body, &r); err != nil || r.AccessToken == "" || r.ExpiresIn <= 0 {
		return "", 0, fmt.Errorf("wechat %s: no access_token in answer: %w", api, ErrUnexpectedPayload)
	}
	return r.AccessToken, r.ExpiresIn, nil
}

// invalidateScript deletes the cached token only if it is still the one
// that failed: a token another worker already replaced must survive.
var invalidateScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'token') == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`)

// Invalidate drops token from the cache if it is still cached.
func (t *TokenStore) Invalidate(ctx context.Context, app App, token string) error {
	if err := invalidateScript.Run(ctx, t.rdb, []string{t.key(app.AppID)}, token).Err(); err != nil {
		return fmt.Errorf("%w: invalidate: %w", ErrTokenUnavailable, err)
	}
	return nil
}

// ExpiresAt reports when the cached token of appID expires (zero if none).
func (t *TokenStore) ExpiresAt(ctx context.Context, appID string) (time.Time, error) {
	s, err := t.rdb.HGet(ctx, t.key(appID), "expires_at").Result()
	if errors.Is(err, redis.Nil) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(n, 0), nil
}
