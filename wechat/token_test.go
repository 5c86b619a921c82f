package wechat

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/wxposter/wxposter/internal/testenv"
	"github.com/wxposter/wxposter/wxsim"
)

// Three "processes" (clients with their own single-flight) × 10 goroutines,
// cold cache: exactly one stable_token call reaches WeChat.
func TestTokenFetchedOnceAcrossProcesses(t *testing.T) {
	app := App{AppID: testenv.AppID(), Secret: "sec"}
	sim := wxsim.New(wxsim.WithApp(app.AppID, app.Secret), wxsim.WithLatency(50*time.Millisecond))
	srv := httptest.NewServer(sim)
	defer srv.Close()

	var clients []*Client
	for range 3 {
		clients = append(clients, New(testenv.Redis(t), WithBaseURL(srv.URL)))
	}
	var wg sync.WaitGroup
	tokens := make(chan string, 30)
	for _, c := range clients {
		for range 10 {
			wg.Go(func() {
				tok, err := c.Tokens().Token(context.Background(), app)
				if err != nil {
					t.Error(err)
				}
				tokens <- tok
			})
		}
	}
	wg.Wait()
	close(tokens)
	first := ""
	for tok := range tokens {
		if first == "" {
			first = tok
		}
		if tok != first || tok == "" {
			t.Fatalf("processes got different tokens")
		}
	}
	if n := sim.Total("/cgi-bin/stable_token"); n != 1 {
		t.Fatalf("stable_token calls = %d, want 1", n)
	}
	if n := sim.Total("/cgi-bin/token"); n != 0 {
		t.Fatalf("/cgi-bin/token calls = %d, want 0 (it would invalidate other systems' tokens)", n)
	}
	exp, err := clients[0].Tokens().ExpiresAt(context.Background(), app.AppID)
	if err != nil || time.Until(exp) < time.Hour {
		t.Fatalf("expires_at = %v, %v", exp, err)
	}
}

// Invalidate removes the cached token only if it is still the failed one.
func TestInvalidateComparesToken(t *testing.T) {
	app := App{AppID: testenv.AppID(), Secret: "sec"}
	sim := wxsim.New(wxsim.WithApp(app.AppID, app.Secret))
	srv := httptest.NewServer(sim)
	defer srv.Close()
	ctx := context.Background()
	ts := New(testenv.Redis(t), WithBaseURL(srv.URL)).Tokens()

	tok, err := ts.Token(ctx, app)
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.Invalidate(ctx, app, "some-older-token"); err != nil {
		t.Fatal(err)
	}
	if again, _ := ts.Token(ctx, app); again != tok {
		t.Fatal("a stale invalidation dropped the current token")
	}
	if err := ts.Invalidate(ctx, app, tok); err != nil {
		t.Fatal(err)
	}
	if n, _ := ts.c.rdb.Exists(ctx, ts.cache.key(app.AppID)).Result(); n != 0 {
		t.Fatal("the failed token is still cached")
	}
}

func TestCacheTTL(t *testing.T) {
	for _, tc := range []struct {
		expiresIn int
		want      time.Duration
	}{
		{7200, 7200*time.Second - 720*time.Second},
		{600, 540 * time.Second},
		{300, 240 * time.Second},
		{60, 30 * time.Second},
		{1, time.Second},
	} {
		if got := cacheTTL(tc.expiresIn); got != tc.want {
			t.Errorf("cacheTTL(%d) = %s, want %s", tc.expiresIn, got, tc.want)
		}
	}
}
