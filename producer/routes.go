package producer

import (
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/wxposter/wxposter/openapi"
)

// routeMux is the API's ServeMux, remembering every pattern registered on
// it: the OpenAPI test checks each one is documented.
type routeMux struct {
	*http.ServeMux
	patterns []string
}

func newRouteMux() *routeMux { return &routeMux{ServeMux: http.NewServeMux()} }

func (m *routeMux) Handle(pattern string, h http.Handler) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.Handle(pattern, h)
}

func (m *routeMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.Handle(pattern, http.HandlerFunc(h))
}

// Routes are the patterns the server answers, in registration order
// (e.g. "GET /v1/posters/{id}"; "/" is the catch-all 404).
func (s *Server) Routes() []string { return slices.Clone(s.mux.patterns) }

// RequestObserver is told about every request the server answers, by route
// pattern (never the raw path), for metrics.
type RequestObserver interface {
	ObserveRequest(route string, status int, took time.Duration)
}

// WithRequestObserver sets the RequestObserver (default none).
func WithRequestObserver(o RequestObserver) Option { return func(s *Server) { s.observer = o } }

// WithRoute serves h at pattern next to the API, e.g. /metrics or the
// dashboard (which do their own auth, if any).
func WithRoute(pattern string, h http.Handler) Option {
	return func(s *Server) { s.extra = append(s.extra, extraRoute{pattern, h}) }
}

type extraRoute struct {
	pattern string
	h       http.Handler
}

// accessLogLevel is Info for a request that failed (4xx, 5xx) and Debug
// for the rest: at thousands of cache hits a second a line per request was
// 7 % of the producer's CPU (a write each) and a flood nobody reads; counts
// and latencies by route and status are in /metrics. The routes of
// WithRoute (Prometheus scraping /metrics, the dashboard polling its API)
// are Debug whatever their status.
func (s *Server) accessLogLevel(route string, status int) slog.Level {
	for _, e := range s.extra {
		if e.pattern == route {
			return slog.LevelDebug
		}
	}
	if status >= 400 {
		return slog.LevelInfo
	}
	return slog.LevelDebug
}

// serveOpenAPI serves the API's OpenAPI document (openapi/openapi.json).
func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openapi.Document)
}
