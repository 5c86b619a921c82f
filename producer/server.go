// Package producer is wxposter's HTTP API: it validates poster requests,
// enqueues jobs with asynq and answers status polls. It does no rendering.
package producer

import (
	"context"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/wxposter/wxposter/finished"
	"github.com/wxposter/wxposter/pacing"
	"github.com/wxposter/wxposter/scene"
	"github.com/wxposter/wxposter/tasks"
	"github.com/wxposter/wxposter/wechat"
)

// Objects is the part of storage the producer needs.
type Objects interface {
	Exists(ctx context.Context, key string) (bool, error)
	URL(key string) string
	Ping(ctx context.Context) error
}

// WeChat is what the producer asks of the WeChat client.
type WeChat interface {
	JSAPITicket(ctx context.Context, app wechat.App) (string, error)
	Code2Session(ctx context.Context, app wechat.App, jsCode string) (*wechat.Session, error)
	ForceRefreshToken(ctx context.Context, app wechat.App) error
}

// Server is the producer's HTTP handler.
type Server struct {
	wx         WeChat
	pacing     Pacing
	scenes     *scene.Store
	sessionTTL time.Duration
	rdb        redis.UniversalClient
	client     *asynq.Client
	inspector  *asynq.Inspector
	store      Objects
	templates  Templates
	render     Renderer // palettes: dry runs of PUT /v1/templates, /v1/preview
	log        *slog.Logger

	apps       []wechat.App
	apiKeys    [][]byte
	imageHosts map[string]bool
	queue      string
	shards     int
	retention  time.Duration
	timeout    time.Duration
	maxRetry   int
	maxWait    time.Duration
	mux        *routeMux
	batches    *Batches

	hub *waiters // the one pub/sub subscription of this process, fanned out

	shareMaxAge               time.Duration
	loginPerAddr, loginPerApp int

	// finished answers "is this poster already made?" from memory or Redis
	// before the object store is asked (finished.go).
	finishedCache *finished.Cache
	made          *finished.Checker
	memo          *requestMemo // the job of a poster request body seen before (memo.go)
	stopListen    context.CancelFunc
	observer      RequestObserver
	extra         []extraRoute
}

// Option configures a Server.
type Option func(*Server)

// WithApps sets the mini-programs; the first is the default.
func WithApps(apps ...wechat.App) Option { return func(s *Server) { s.apps = apps } }

// WithAPIKeys requires "Authorization: Bearer <key>" with one of keys.
// Without keys the API is open (and New logs a warning).
func WithAPIKeys(keys ...string) Option {
	return func(s *Server) {
		for _, k := range keys {
			s.apiKeys = append(s.apiKeys, []byte(k))
		}
	}
}

// WithImageHosts sets the hosts data.avatar URLs may point to.
func WithImageHosts(hosts ...string) Option {
	return func(s *Server) {
		for _, h := range hosts {
			s.imageHosts[strings.ToLower(h)] = true
		}
	}
}

// WithQueue sets the asynq queue (default "posters").
func WithQueue(q string) Option { return func(s *Server) { s.queue = q } }

// WithQueueShards spreads jobs over n queues of the queue (see
// tasks.ShardQueue); workers must consume the same shards.
func WithQueueShards(n int) Option { return func(s *Server) { s.shards = n } }

// queueOf is the queue job id is (or would be) in.
func (s *Server) queueOf(id string) string { return tasks.ShardQueue(s.queue, s.shards, id) }

// WithRetention sets how long finished jobs stay pollable (default 24 h).
func WithRetention(d time.Duration) Option { return func(s *Server) { s.retention = d } }

// WithTimeout sets a job's time limit per attempt (default 2 min).
func WithTimeout(d time.Duration) Option { return func(s *Server) { s.timeout = d } }

// WithMaxRetry sets how often a job is retried on transient errors (default 5).
func WithMaxRetry(n int) Option { return func(s *Server) { s.maxRetry = n } }

// WithTemplates sets the templates beyond the built-in default (which no
// catalogue can replace). A TemplateStore, such as templates.Store, is also
// managed through PUT/GET/DELETE /v1/templates/{name}.
func WithTemplates(t Templates) Option { return func(s *Server) { s.templates = t } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// WithWeChat sets the WeChat client used by login, group share, JS-SDK and
// admin endpoints (without it they answer 503).
func WithWeChat(wx WeChat) Option { return func(s *Server) { s.wx = wx } }

// WithPacing sets the pacing the admin endpoints read and resume (default:
// pacing.New on the same Redis, which shares every worker's state).
func WithPacing(p Pacing) Option { return func(s *Server) { s.pacing = p } }

// WithSessionTTL sets how long a login session (and its session_key) is
// kept (default 72 h).
func WithSessionTTL(d time.Duration) Option { return func(s *Server) { s.sessionTTL = d } }

// New returns the API server. rdb is the Redis asynq uses.
func New(rdb redis.UniversalClient, store Objects, opts ...Option) *Server {
	s := &Server{
		rdb:        rdb,
		client:     asynq.NewClientFromRedisClient(rdb),
		inspector:  asynq.NewInspectorFromRedisClient(rdb),
		store:      store,
		templates:  BuiltinTemplates{},
		log:        slog.Default(),
		imageHosts: map[string]bool{},
		queue:      tasks.DefaultQueue,
		retention:  24 * time.Hour,
		timeout:    2 * time.Minute,
		maxRetry:   5,
		maxWait:    30 * time.Second,
		sessionTTL: 72 * time.Hour,
		scenes:     scene.NewStore(rdb),
		pacing:     pacing.New(rdb),
		hub:        newWaiters(rdb),
		memo:       newRequestMemo(0),

		shareMaxAge:  24 * time.Hour,
		loginPerAddr: 20,
		loginPerApp:  3000,
	}
	for _, o := range opts {
		o(s)
	}
	if s.finishedCache == nil {
		s.finishedCache = finished.NewCache(finished.New(rdb), 0, 0)
	}
	s.made = finished.NewChecker(s.finishedCache, s.store, s.log)
	var lctx context.Context
	lctx, s.stopListen = context.WithCancel(context.Background())
	s.finishedCache.Listen(lctx, rdb)
	if len(s.apiKeys) == 0 {
		s.log.Warn("WXPOSTER_API_KEYS is empty: the API is open to anyone who can reach it")
	}
	s.routes()
	return s
}

func (s *Server) routes() {
	m := newRouteMux()
	m.HandleFunc("GET /healthz", s.healthz)
	m.HandleFunc("GET /openapi.json", serveOpenAPI)
	for _, e := range s.extra {
		m.Handle(e.pattern, e.h)
	}
	m.HandleFunc("GET /readyz", s.readyz)
	m.Handle("POST /v1/posters", s.auth(http.HandlerFunc(s.createPoster)))
	m.Handle("GET /v1/posters/{id}", s.auth(http.HandlerFunc(s.getPoster)))
	m.Handle("DELETE /v1/posters/{id}", s.auth(http.HandlerFunc(s.deletePoster)))
	m.Handle("GET /v1/templates", s.auth(http.HandlerFunc(s.listTemplates)))
	m.Handle("PUT /v1/templates/{name}", s.auth(http.HandlerFunc(s.putTemplate)))
	m.Handle("GET /v1/templates/{name}", s.auth(http.HandlerFunc(s.getTemplate)))
	m.Handle("DELETE /v1/templates/{name}", s.auth(http.HandlerFunc(s.deleteTemplate)))
	s.batchRoutes(m)
	s.previewRoutes(m)
	m.HandleFunc("GET /v1/scenes/{scene}", s.getScene)
	// Called by mini-programs and web pages, which hold no API key: WeChat's
	// login code or our session token is the credential.
	m.Handle("POST /v1/wx/login", s.needWeChat(s.login))
	m.Handle("POST /v1/share/group", http.HandlerFunc(s.shareGroup))
	m.Handle("GET /v1/groups/{openGId}/members", http.HandlerFunc(s.groupMembers))
	m.Handle("POST /v1/jssdk/config", s.needWeChat(s.jssdkConfig))
	m.Handle("POST /v1/admin/apps/{app}/token/force-refresh", s.needWeChat(s.forApp(true, s.forceRefreshToken).ServeHTTP))
	m.Handle("GET /v1/admin/apps/{app}/pacing", s.forApp(false, s.pacingState))
	m.Handle("POST /v1/admin/apps/{app}/pacing/resume", s.forApp(true, s.resumePacing))
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such endpoint: "+r.Method+" "+r.URL.Path, "")
	})
	s.mux = m
}

// ServeHTTP serves the API with panic recovery and access logs.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		if v := recover(); v != nil {
			s.log.ErrorContext(r.Context(), "panic in handler", "panic", v, "path", r.URL.Path)
			writeError(rec, http.StatusInternalServerError, "internal", "internal error", "")
		}
		// The ServeMux set r.Pattern as it routed r: no second match.
		took, route := time.Since(start), r.Pattern
		// Checked first: the arguments of a line not logged (every cache
		// hit, at info) would still be built.
		if level := s.accessLogLevel(route, rec.status); s.log.Enabled(r.Context(), level) {
			s.log.Log(r.Context(), level, "http", "method", r.Method, "path", r.URL.Path, "status", rec.status, "took", took)
		}
		if s.observer != nil {
			s.observer.ObserveRequest(route, rec.status, took)
		}
	}()
	s.mux.ServeHTTP(rec, r)
}

// Close releases the asynq client and inspector (not rdb).
func (s *Server) Close() error {
	s.hub.close()
	s.stopListen()
	s.inspector.Close()
	return s.client.Close()
}

func (s *Server) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.hasAPIKey(r) {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="wxposter"`)
		writeError(w, http.StatusUnauthorized, "unauthorized", "missing or unknown API key (Authorization: Bearer <key>)", "")
	})
}

// hasAPIKey reports whether r carries a valid API key (always, when the API
// is open).
func (s *Server) hasAPIKey(r *http.Request) bool {
	if len(s.apiKeys) == 0 {
		return true
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return false
	}
	for _, k := range s.apiKeys {
		if subtle.ConstantTimeCompare([]byte(got), k) == 1 {
			return true
		}
	}
	return false
}

func (s *Server) needWeChat(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.wx == nil {
			writeError(w, http.StatusServiceUnavailable, "unavailable", "no WeChat client is configured", "")
			return
		}
		h(w, r)
	})
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}
