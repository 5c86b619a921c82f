package wechat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Token endpoints.
const (
	// TokenStable is /cgi-bin/stable_token in normal mode (the default). It
	// returns the same token while it is valid, and its tokens are isolated
	// from /cgi-bin/token, so another system refreshing its token cannot
	// break ours and our processes cannot break each other.
	TokenStable = "stable"
	// TokenClassic is /cgi-bin/token. Every call invalidates the previous
	// token (after 5 minutes), including other systems' copies: use it only
	// if wxposter is the app's one central control server.
	TokenClassic = "classic"
)

// TokenStore is the cluster's access_token central control: one token per
// app shared through Redis by every process (see credCache for the layers).
type TokenStore struct {
	c      *Client
	cache  *credCache
	opts   []TokenOption
	source string // TokenStable, TokenClassic, or "external"
	extURL string
}

// TokenOption configures the TokenStore.
type TokenOption func(*TokenStore)

// WithKeyPrefix sets the Redis key prefix (default "wxposter:wx:").
func WithKeyPrefix(p string) TokenOption { return func(t *TokenStore) { t.cache.prefix = p } }

// WithLockTTL sets how long a fetching process holds the lock. It must be
// longer than the HTTP timeout, so that a lock never expires mid-fetch.
func WithLockTTL(d time.Duration) TokenOption { return func(t *TokenStore) { t.cache.lockTTL = d } }

// WithMemoryTTL sets how long a process trusts its own copy before reading
// Redis again (default 30 s).
func WithMemoryTTL(d time.Duration) TokenOption { return func(t *TokenStore) { t.cache.memTTL = d } }

// WithFallbackInterval bounds direct upstream fetches per app while Redis is
// unavailable (default one per 30 s).
func WithFallbackInterval(d time.Duration) TokenOption {
	return func(t *TokenStore) { t.cache.fallbackEvery = d }
}

// WithTokenEndpoint chooses TokenStable (default) or TokenClassic.
func WithTokenEndpoint(e string) TokenOption { return func(t *TokenStore) { t.source = e } }

// WithTokenSourceURL takes tokens from an existing central control server
// instead of WeChat: GET <url>?appid=<appid> answering
// {"access_token":"…","expires_in":N}. wxposter then never fetches tokens
// itself, which would invalidate the other server's.
func WithTokenSourceURL(u string) TokenOption {
	return func(t *TokenStore) { t.source, t.extURL = "external", u }
}

func (t *TokenStore) init(c *Client) {
	t.c = c
	t.source = TokenStable
	t.cache = newCredCache("", c.rdb, t.fetch, c.log)
	if c.http.Timeout > 0 {
		t.cache.lockTTL = c.http.Timeout + 5*time.Second
		t.cache.maxWait = t.cache.lockTTL + 5*time.Second
	}
	for _, o := range t.opts {
		o(t)
	}
	t.cache.kind = map[string]string{TokenStable: "stable_token", TokenClassic: "access_token", "external": "external_token"}[t.source]
}

// ErrTokenUnavailable wraps failures to get a credential that are worth
// retrying (Redis down and the fallback exhausted, lock waits, …).
var ErrTokenUnavailable = errors.New("wechat: access_token unavailable")

// Token returns a valid access_token for app.
func (t *TokenStore) Token(ctx context.Context, app App) (string, error) {
	return t.cache.Get(ctx, app)
}

// Invalidate drops token after WeChat rejected it, unless it was already
// replaced.
func (t *TokenStore) Invalidate(ctx context.Context, app App, token string) error {
	return t.cache.Invalidate(ctx, app, token)
}

// ExpiresAt reports when the cached token of appID expires (zero if none).
func (t *TokenStore) ExpiresAt(ctx context.Context, appID string) (time.Time, error) {
	cr, err := t.cache.read(ctx, appID)
	if err != nil || cr == nil {
		return time.Time{}, err
	}
	return cr.expiresAt, nil
}

func (t *TokenStore) fetch(ctx context.Context, app App) (tok string, expiresIn int, err error) {
	source := t.source
	switch source {
	case TokenClassic:
		tok, expiresIn, err = t.fetchClassic(ctx, app)
	case "external":
		tok, expiresIn, err = t.fetchExternal(ctx, app)
	default:
		source = "stable"
		tok, expiresIn, err = t.fetchStable(ctx, app, false)
	}
	if t.c.obs != nil {
		t.c.obs.TokenFetch(app.AppID, source, err)
	}
	return tok, expiresIn, err
}

// fetchStable calls /cgi-bin/stable_token.
func (t *TokenStore) fetchStable(ctx context.Context, app App, force bool) (string, int, error) {
	body, _ := json.Marshal(map[string]any{
		"grant_type": "client_credential", "appid": app.AppID, "secret": app.Secret, "force_refresh": force,
	})
	resp, err := t.c.do(ctx, http.MethodPost, "cgi-bin/stable_token", nil, body)
	return tokenAnswer("cgi-bin/stable_token", resp, err)
}

// fetchClassic calls /cgi-bin/token. The secret travels in the query, so
// the URL is only ever logged redacted.
func (t *TokenStore) fetchClassic(ctx context.Context, app App) (string, int, error) {
	q := url.Values{"grant_type": {"client_credential"}, "appid": {app.AppID}, "secret": {app.Secret}}
	resp, err := t.c.do(ctx, http.MethodGet, "cgi-bin/token", q, nil)
	return tokenAnswer("cgi-bin/token", resp, err)
}

// fetchExternal asks the company's central control server.
func (t *TokenStore) fetchExternal(ctx context.Context, app App) (string, int, error) {
	u, err := url.Parse(t.extURL)
	if err != nil {
		return "", 0, fmt.Errorf("token source: bad URL: %w", err)
	}
	q := u.Query()
	q.Set("appid", app.AppID)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", 0, fmt.Errorf("token source: %w", redactErr(err))
	}
	resp, err := t.c.http.Do(req)
	if err != nil {
		return "", 0, fmt.Errorf("%w: token source: %w", ErrTokenUnavailable, redactErr(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", 0, fmt.Errorf("%w: token source answered HTTP %d", ErrTokenUnavailable, resp.StatusCode)
	}
	var r struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 64<<10)).Decode(&r); err != nil || r.AccessToken == "" {
		return "", 0, fmt.Errorf("token source: no access_token in answer: %w", ErrUnexpectedPayload)
	}
	if r.ExpiresIn <= 0 {
		r.ExpiresIn = 300 // unknown lifetime: keep it briefly and ask again
	}
	return r.AccessToken, r.ExpiresIn, nil
}

func tokenAnswer(api string, resp *response, err error) (string, int, error) {
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

// Force-refresh limits: WeChat allows 20 a day, 30 s apart; past them it
// answers 45009, which only clear_quota fixes.
const (
	ForceRefreshPerDay  = 20
	ForceRefreshSpacing = 30 * time.Second
)

// ErrForceRefreshLimited is a force refresh refused by the guard.
var ErrForceRefreshLimited = errors.New("wechat: force refresh refused")

// chinaTime is WeChat's day boundary for daily limits.
var chinaTime = time.FixedZone("CST", 8*3600)

// ForceRefresh gets a new stable token with force_refresh=true, which
// invalidates the current one everywhere. It is for a leaked token, so it
// is guarded cluster-wide in Redis: at most ForceRefreshPerDay per China
// day and ForceRefreshSpacing apart.
func (t *TokenStore) ForceRefresh(ctx context.Context, app App) (string, error) {
	if t.source != TokenStable {
		return "", fmt.Errorf("%w: only stable tokens can be force-refreshed", ErrForceRefreshLimited)
	}
	base := t.cache.key(app.AppID) + ":force"
	ok, err := t.c.rdb.SetNX(ctx, base+":spacing", 1, ForceRefreshSpacing).Result()
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrTokenUnavailable, err)
	}
	if !ok {
		return "", fmt.Errorf("%w: less than %s since the last one", ErrForceRefreshLimited, ForceRefreshSpacing)
	}
	day := base + ":" + t.cache.now().In(chinaTime).Format("20060102")
	n, err := t.c.rdb.Incr(ctx, day).Result()
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrTokenUnavailable, err)
	}
	t.c.rdb.Expire(ctx, day, 48*time.Hour)
	if n > ForceRefreshPerDay {
		return "", fmt.Errorf("%w: %d already today (limit %d)", ErrForceRefreshLimited, n-1, ForceRefreshPerDay)
	}
	lock, err := t.cache.locker.Obtain(ctx, t.cache.lockKey(app.AppID), t.cache.lockTTL, nil)
	if err != nil {
		return "", fmt.Errorf("%w: lock: %w", ErrTokenUnavailable, err)
	}
	defer lock.Release(context.WithoutCancel(ctx))
	tok, expiresIn, err := t.fetchStable(ctx, app, true)
	if err != nil {
		return "", err
	}
	if err := t.cache.store(ctx, app.AppID, tok, expiresIn); err != nil {
		return "", err
	}
	t.c.log.WarnContext(ctx, "force-refreshed access_token", "app", app.AppID, "today", n)
	return tok, nil
}

// ForceRefreshToken is TokenStore.ForceRefresh for callers that only need
// to know whether it happened (the token itself stays server-side).
func (c *Client) ForceRefreshToken(ctx context.Context, app App) error {
	_, err := c.tokens.ForceRefresh(ctx, app)
	return err
}
