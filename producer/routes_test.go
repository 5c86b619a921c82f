package producer

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wxposter/wxposter/internal/testenv"
)

type seen struct {
	mu     sync.Mutex
	routes []string
}

func (s *seen) ObserveRequest(route string, status int, _ time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.routes = append(s.routes, route+" "+http.StatusText(status))
}

// Requests are observed by route pattern, never by raw path; WithRoute's
// handlers are served and listed in Routes.
func TestRoutesAndRequestObserver(t *testing.T) {
	obs := &seen{}
	s := New(testenv.Redis(t), nil, WithRequestObserver(obs),
		WithRoute("GET /metrics", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("m 1\n")) })))
	defer s.Close()
	for _, p := range []string{"GET /healthz", "GET /openapi.json", "GET /metrics", "GET /v1/posters/{id}", "/"} {
		if !slices.Contains(s.Routes(), p) {
			t.Errorf("Routes() lacks %q: %q", p, s.Routes())
		}
	}
	for _, path := range []string{"/healthz", "/metrics", "/openapi.json", "/v1/scenes/abc", "/nowhere/42"} {
		s.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
	}
	want := []string{"GET /healthz OK", "GET /metrics OK", "GET /openapi.json OK", "GET /v1/scenes/{scene} Not Found", "/ Not Found"}
	if !slices.Equal(obs.routes, want) {
		t.Fatalf("observed %q, want %q", obs.routes, want)
	}
}
