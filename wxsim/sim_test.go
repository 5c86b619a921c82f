package wxsim

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	testApp    = "wxtestapp0000001"
	testSecret = "s3cr3t"
)

// fakeClock lets tests move time without sleeping.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// newTestSim starts a Sim with one app and a fake clock.
func newTestSim(t *testing.T, opts ...Option) (*Sim, *httptest.Server, *fakeClock) {
	t.Helper()
	clk := &fakeClock{t: time.Date(2025, 3, 1, 10, 0, 0, 0, chinaTime)}
	// A debug logger to io.Discard runs the logging code without noise.
	debug := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := New(append([]Option{WithApp(testApp, testSecret), WithLogger(debug)}, opts...)...)
	s.now = clk.Now
	return s, newServer(t, s), clk
}

func newServer(t *testing.T, s *Sim) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv
}

type answer struct {
	status int
	ctype  string
	body   []byte
}

// String shows an answer without dumping images.
func (a answer) String() string {
	if !strings.HasPrefix(a.ctype, "application/json") {
		return fmt.Sprintf("%d %s (%d bytes)", a.status, a.ctype, len(a.body))
	}
	return fmt.Sprintf("%d %s %s", a.status, a.ctype, a.body)
}

// errcode is the errcode of a JSON answer, 0 when absent.
func (a answer) errcode(t *testing.T) int {
	t.Helper()
	var v struct {
		Errcode int `json:"errcode"`
	}
	if err := json.Unmarshal(a.body, &v); err != nil {
		t.Fatalf("answer is not JSON: %s", a)
	}
	return v.Errcode
}

func (a answer) field(t *testing.T, name string) any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("answer is not JSON: %s", a)
	}
	return m[name]
}

func (a answer) str(t *testing.T, name string) string {
	t.Helper()
	s, _ := a.field(t, name).(string)
	return s
}

func do(t *testing.T, method, u, body string) answer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header.Get("Content-Type"), b}
}

func get(t *testing.T, srv *httptest.Server, path string, q url.Values) answer {
	t.Helper()
	return do(t, http.MethodGet, srv.URL+path+"?"+q.Encode(), "")
}

func post(t *testing.T, srv *httptest.Server, path, token, body string) answer {
	t.Helper()
	u := srv.URL + path
	if token != "" {
		u += "?access_token=" + url.QueryEscape(token)
	}
	return do(t, http.MethodPost, u, body)
}

// getToken fetches a /cgi-bin/token token for the test app.
func getToken(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	a := get(t, srv, PathToken, url.Values{"grant_type": {"client_credential"}, "appid": {testApp}, "secret": {testSecret}})
	tok := a.str(t, "access_token")
	if tok == "" {
		t.Fatalf("no token: %s", a)
	}
	return tok
}

func TestUnknownPath(t *testing.T) {
	s, srv, _ := newTestSim(t)
	a := do(t, http.MethodGet, srv.URL+"/cgi-bin/nope", "")
	if a.status != http.StatusNotFound || a.errcode(t) != 404 || a.ctype != jsonContentType {
		t.Fatalf("got %d %q %s", a.status, a.ctype, a)
	}
	if n := len(s.Stats().Calls); n != 0 {
		t.Fatalf("unknown path counted: %v", s.Stats())
	}
}

func TestLatency(t *testing.T) {
	s, srv, _ := newTestSim(t, WithLatency(150*time.Millisecond))

	start := time.Now()
	getToken(t, srv)
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("answered after %v, want >= 150ms", d)
	}

	// Admin endpoints are not delayed.
	start = time.Now()
	do(t, http.MethodGet, srv.URL+pathAdminStats, "")
	if d := time.Since(start); d >= 150*time.Millisecond {
		t.Fatalf("admin endpoint delayed %v", d)
	}

	// A client that gives up is neither answered nor counted.
	s.SetLatency(5 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+PathToken, nil)
	start = time.Now()
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("want a timeout")
	}
	s.SetLatency(0)
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("cancel took %v", d)
	}
	if n := s.Total(PathToken); n != 1 {
		t.Fatalf("token calls = %d, want 1", n)
	}
}

func TestOptionsClamp(t *testing.T) {
	s := New(WithQuotaPerMinute(-3), WithErrorRatio(7), WithLatency(-time.Second), WithTokenTTL(-1), WithLogger(nil), nil)
	if s.quota != 0 || s.ratio != 1 || s.latency != 0 || s.tokenTTL != defaultTokenTTL || s.log == nil {
		t.Fatalf("quota=%d ratio=%v latency=%v ttl=%v", s.quota, s.ratio, s.latency, s.tokenTTL)
	}
	s.SetErrorRatio(-1)
	if s.ratio != 0 {
		t.Fatalf("ratio = %v", s.ratio)
	}
	if !New().pages[defaultPage] {
		t.Fatal("default page not published")
	}
}
