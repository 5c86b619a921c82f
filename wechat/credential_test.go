package wechat

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wxposter/wxposter/internal/testenv"
	"github.com/wxposter/wxposter/wxsim"
)

// countingTokens is an upstream whose every stable_token call issues a new
// token, so tests can see which fetch a value came from.
type countingTokens struct{ n atomic.Int32 }

func (c *countingTokens) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := c.n.Add(1)
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"access_token":"TOKEN-%d","expires_in":7200}`, n)
}

func newApp() App { return App{AppID: testenv.AppID(), Secret: "sec"} }

func TestMemoryCopyServesWithoutRedis(t *testing.T) {
	up := &countingTokens{}
	srv := httptest.NewServer(up)
	defer srv.Close()
	rdb := testenv.Redis(t)
	c := New(rdb, WithBaseURL(srv.URL))
	app, ctx := newApp(), context.Background()

	tok, err := c.Tokens().Token(ctx, app)
	if err != nil || tok != "TOKEN-1" {
		t.Fatal(tok, err)
	}
	rdb.Del(ctx, c.tokens.cache.key(app.AppID)) // Redis loses it; the process copy still serves
	if tok, _ := c.Tokens().Token(ctx, app); tok != "TOKEN-1" || up.n.Load() != 1 {
		t.Fatalf("got %s after %d fetches, want the in-process copy", tok, up.n.Load())
	}
	c.tokens.cache.memTTL = 0 // past the memory TTL, Redis is read (and, empty, refilled)
	if tok, _ := c.Tokens().Token(ctx, app); tok != "TOKEN-2" {
		t.Fatalf("got %s, want a refetch", tok)
	}
}

func TestProactiveRefresh(t *testing.T) {
	up := &countingTokens{}
	srv := httptest.NewServer(up)
	defer srv.Close()
	c := New(testenv.Redis(t), WithBaseURL(srv.URL))
	app, ctx := newApp(), context.Background()
	cache := c.tokens.cache
	clock := time.Now()
	var mu sync.Mutex
	cache.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }

	if tok, _ := c.Tokens().Token(ctx, app); tok != "TOKEN-1" {
		t.Fatal(tok)
	}
	cr, _ := cache.read(ctx, app.AppID)
	mu.Lock()
	clock = cr.refreshAt.Add(time.Second) // due for refresh, still usable
	mu.Unlock()
	// The caller is served the current token at once; the successor is
	// fetched in the background.
	if tok, _ := c.Tokens().Token(ctx, app); tok != "TOKEN-1" {
		t.Fatalf("got %s, want the current token while refreshing", tok)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if cr, _ := cache.read(ctx, app.AppID); cr != nil && cr.value == "TOKEN-2" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no background refresh")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := up.n.Load(); n != 2 {
		t.Fatalf("upstream calls = %d, want 2", n)
	}
}

func TestRedisDownFallsBackRateLimited(t *testing.T) {
	up := &countingTokens{}
	srv := httptest.NewServer(up)
	defer srv.Close()
	dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 100 * time.Millisecond, MaxRetries: -1})
	defer dead.Close()
	c := New(dead, WithBaseURL(srv.URL))
	app, ctx := newApp(), context.Background()

	tok, err := c.Tokens().Token(ctx, app)
	if err != nil || tok != "TOKEN-1" {
		t.Fatalf("fallback fetch: %s, %v", tok, err)
	}
	if tok, _ := c.Tokens().Token(ctx, app); tok != "TOKEN-1" || up.n.Load() != 1 {
		t.Fatalf("second call fetched again (%d calls)", up.n.Load())
	}
	_ = c.Tokens().Invalidate(ctx, app, tok)
	if _, err := c.Tokens().Token(ctx, app); !errors.Is(err, ErrTokenUnavailable) {
		t.Fatalf("err = %v, want ErrTokenUnavailable: direct fetches are rate-limited", err)
	}
	c.tokens.cache.fallbackEvery = 0
	if tok, _ := c.Tokens().Token(ctx, app); tok != "TOKEN-2" {
		t.Fatalf("got %s after the interval, want a new direct fetch", tok)
	}
}

func TestTokenEndpoints(t *testing.T) {
	app := newApp()
	sim := wxsim.New(wxsim.WithApp(app.AppID, app.Secret))
	srv := httptest.NewServer(sim)
	defer srv.Close()
	ctx := context.Background()

	classic := New(testenv.Redis(t), WithBaseURL(srv.URL), WithTokenOptions(WithTokenEndpoint(TokenClassic)))
	if _, err := classic.Tokens().Token(ctx, app); err != nil {
		t.Fatal(err)
	}
	if sim.Total("/cgi-bin/token") != 1 || sim.Total("/cgi-bin/stable_token") != 0 {
		t.Fatalf("classic: %+v", sim.Stats())
	}

	var asked atomic.Int32
	central := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		if r.URL.Query().Get("appid") != app.AppID {
			http.Error(w, "unknown app", http.StatusNotFound)
			return
		}
		fmt.Fprint(w, `{"access_token":"FROM-CENTRAL","expires_in":3600}`)
	}))
	defer central.Close()
	ext := New(testenv.Redis(t), WithBaseURL(srv.URL), WithTokenOptions(WithTokenSourceURL(central.URL+"/token?k=v")))
	sim.Reset()
	for range 5 {
		if tok, err := ext.Tokens().Token(ctx, app); err != nil || tok != "FROM-CENTRAL" {
			t.Fatal(tok, err)
		}
	}
	if asked.Load() != 1 || sim.Total("/cgi-bin/token")+sim.Total("/cgi-bin/stable_token") != 0 {
		t.Fatalf("central asked %d times; WeChat token calls %+v: want 1 and none", asked.Load(), sim.Stats())
	}
}

func TestForceRefreshGuard(t *testing.T) {
	app := newApp()
	sim := wxsim.New(wxsim.WithApp(app.AppID, app.Secret))
	srv := httptest.NewServer(sim)
	defer srv.Close()
	rdb := testenv.Redis(t)
	c := New(rdb, WithBaseURL(srv.URL))
	ctx := context.Background()

	old, _ := c.Tokens().Token(ctx, app)
	tok, err := c.Tokens().ForceRefresh(ctx, app)
	if err != nil || tok == old {
		t.Fatalf("force refresh: %v (same token: %v)", err, tok == old)
	}
	if cur, _ := c.Tokens().Token(ctx, app); cur != tok {
		t.Fatal("the cache does not hold the new token")
	}
	if _, err := c.Tokens().ForceRefresh(ctx, app); !errors.Is(err, ErrForceRefreshLimited) {
		t.Fatalf("second force refresh within 30 s: %v, want refused", err)
	}
	// The daily budget is shared by the cluster and counted in China time.
	base := c.tokens.cache.key(app.AppID) + ":force"
	rdb.Del(ctx, base+":spacing")
	rdb.Set(ctx, base+":"+time.Now().In(chinaTime).Format("20060102"), ForceRefreshPerDay, time.Hour)
	if _, err := c.Tokens().ForceRefresh(ctx, app); !errors.Is(err, ErrForceRefreshLimited) {
		t.Fatalf("21st force refresh today: %v, want refused", err)
	}
	if n := sim.Total("/cgi-bin/stable_token"); n != 2 {
		t.Fatalf("stable_token calls = %d, want 2 (refused refreshes never reach WeChat)", n)
	}
	rdb.Del(ctx, base+":spacing", base+":"+time.Now().In(chinaTime).Format("20060102"))
}

func TestJSAPITicketFetchedOnceAcrossProcesses(t *testing.T) {
	app := newApp()
	sim := wxsim.New(wxsim.WithApp(app.AppID, app.Secret), wxsim.WithLatency(30*time.Millisecond))
	srv := httptest.NewServer(sim)
	defer srv.Close()
	var wg sync.WaitGroup
	tickets := make(chan string, 30)
	for range 3 {
		c := New(testenv.Redis(t), WithBaseURL(srv.URL))
		for range 10 {
			wg.Go(func() {
				tk, err := c.JSAPITicket(context.Background(), app)
				if err != nil {
					t.Error(err)
				}
				tickets <- tk
			})
		}
	}
	wg.Wait()
	close(tickets)
	first := <-tickets
	for tk := range tickets {
		if tk != first || !sim.ValidTicket(tk) {
			t.Fatal("processes got different or invalid tickets")
		}
	}
	if n := sim.Total("/cgi-bin/ticket/getticket"); n != 1 {
		t.Fatalf("getticket calls = %d, want 1", n)
	}
}

// issue 9: a token invalidated after 40001 could be cached again by a
// concurrent reader right after the refresh (the process copy was dropped
// before Redis was). The interleaving, step by step: a reader reads Redis,
// the invalidation runs, the reader caches what it read.
func TestInvalidatedTokenIsNotCachedAgain(t *testing.T) {
	up := &countingTokens{}
	srv := httptest.NewServer(up)
	defer srv.Close()
	rdb := testenv.Redis(t)
	c := New(rdb, WithBaseURL(srv.URL))
	cache := c.tokens.cache
	app, ctx := newApp(), context.Background()

	tok, err := c.Tokens().Token(ctx, app)
	if err != nil || tok != "TOKEN-1" {
		t.Fatal(tok, err)
	}
	cache.mu.Lock()
	delete(cache.mem, app.AppID) // the reader's process copy has aged out
	cache.mu.Unlock()
	stale, err := cache.read(ctx, app.AppID) // the reader reads Redis…
	if err != nil || stale == nil || stale.value != "TOKEN-1" {
		t.Fatal(stale, err)
	}
	if err := cache.Invalidate(ctx, app, "TOKEN-1"); err != nil { // …WeChat said 40001…
		t.Fatal(err)
	}
	cache.memPut(app.AppID, *stale) // …and the reader caches what it read.
	if tok, err := c.Tokens().Token(ctx, app); err != nil || tok != "TOKEN-2" {
		t.Fatalf("after invalidation got %s (%v), want a fresh token", tok, err)
	}
	// If the Redis drop had failed, the revoked value is not served either.
	rdb.HSet(ctx, cache.key(app.AppID), "value", "TOKEN-2", "use_until", time.Now().Add(time.Hour).UnixMilli())
	cache.Invalidate(ctx, app, "TOKEN-2")
	rdb.HSet(ctx, cache.key(app.AppID), "value", "TOKEN-2", "use_until", time.Now().Add(time.Hour).UnixMilli())
	if cr, _ := cache.read(ctx, app.AppID); cr != nil {
		t.Fatalf("read served the revoked %s", cr.value)
	}
}

// A value upstream hands out again after its invalidation is used, not
// refused forever (stable_token returns the same token until it rotates).
func TestRevokedValueFetchedAgainIsUsed(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"SAME","expires_in":7200}`)
	}))
	defer srv.Close()
	c := New(testenv.Redis(t), WithBaseURL(srv.URL))
	app, ctx := newApp(), context.Background()
	if tok, _ := c.Tokens().Token(ctx, app); tok != "SAME" {
		t.Fatal(tok)
	}
	c.tokens.cache.Invalidate(ctx, app, "SAME")
	for range 3 {
		if tok, err := c.Tokens().Token(ctx, app); err != nil || tok != "SAME" {
			t.Fatal(tok, err)
		}
	}
	if n.Load() != 2 {
		t.Fatalf("%d fetches, want 2 (one refetch after the invalidation)", n.Load())
	}
}
