package wxsim

import (
	"context"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Defaults, matching WeChat.
const (
	defaultTokenTTL = 7200 * time.Second
	defaultPage     = "pages/index/index"
)

// Sim simulates api.weixin.qq.com. It is an http.Handler and is safe for
// concurrent use; mount it with httptest.NewServer(sim) or http.ListenAndServe.
type Sim struct {
	log *slog.Logger
	now func() time.Time // replaced by tests to move time without sleeping

	mu        sync.Mutex
	apps      map[string]*app
	pages     map[string]bool
	quota     int
	ratio     float64
	latency   time.Duration
	tokenTTL  time.Duration
	tokens    map[string]*token
	tickets   map[string]time.Time // ticket -> expiry
	usedCodes map[string]bool      // appid|js_code
	sessions  map[string]string    // appid|openid -> latest session_key

	stats stats
}

// Option configures a Sim in New.
type Option func(*Sim)

// WithApp registers a mini-program. It may be given several times; a later
// call for the same appid replaces its secret. Without any app every
// credential call fails with 40013.
func WithApp(appid, secret string) Option {
	return func(s *Sim) { s.apps[appid] = &app{id: appid, secret: secret} }
}

// WithPublishedPages sets the pages of the released version, which
// check_path validates against. Default: "pages/index/index".
func WithPublishedPages(pages ...string) Option {
	return func(s *Sim) { s.pages = pageSet(pages) }
}

// WithQuotaPerMinute limits code calls (the three code endpoints together)
// per app per minute; 0 means unlimited, the default.
func WithQuotaPerMinute(n int) Option {
	return func(s *Sim) { s.quota = max(n, 0) }
}

// WithErrorRatio makes fraction r (0..1) of code calls answer -1 "system
// error", like WeChat does under load. Default 0.
func WithErrorRatio(r float64) Option {
	return func(s *Sim) { s.ratio = clampRatio(r) }
}

// WithLatency delays every API answer by d (admin endpoints are not delayed).
func WithLatency(d time.Duration) Option {
	return func(s *Sim) { s.latency = max(d, 0) }
}

// WithTokenTTL sets the access_token lifetime; default 7200s. Non-positive
// values keep the default.
func WithTokenTTL(d time.Duration) Option {
	return func(s *Sim) {
		if d > 0 {
			s.tokenTTL = d
		}
	}
}

// WithLogger sets the logger; by default nothing is logged.
func WithLogger(l *slog.Logger) Option {
	return func(s *Sim) {
		if l != nil {
			s.log = l
		}
	}
}

// New returns a simulator configured by opts.
func New(opts ...Option) *Sim {
	s := &Sim{
		log:       slog.New(slog.DiscardHandler),
		now:       time.Now,
		apps:      map[string]*app{},
		pages:     pageSet([]string{defaultPage}),
		tokenTTL:  defaultTokenTTL,
		tokens:    map[string]*token{},
		tickets:   map[string]time.Time{},
		usedCodes: map[string]bool{},
		sessions:  map[string]string{},
		stats:     stats{calls: map[string]map[int]int{}},
	}
	for _, o := range opts {
		if o != nil {
			o(s)
		}
	}
	return s
}

// SetPublishedPages replaces the released pages at run time.
func (s *Sim) SetPublishedPages(pages ...string) {
	set := pageSet(pages)
	s.mu.Lock()
	s.pages = set
	s.mu.Unlock()
}

// SetQuotaPerMinute changes the per-app minute quota of code calls; 0 = unlimited.
func (s *Sim) SetQuotaPerMinute(n int) {
	s.mu.Lock()
	s.quota = max(n, 0)
	s.mu.Unlock()
}

// SetErrorRatio changes the fraction of code calls that answer -1.
func (s *Sim) SetErrorRatio(r float64) {
	s.mu.Lock()
	s.ratio = clampRatio(r)
	s.mu.Unlock()
}

// SetLatency changes the delay added to every API answer.
func (s *Sim) SetLatency(d time.Duration) {
	s.mu.Lock()
	s.latency = max(d, 0)
	s.mu.Unlock()
}

// endpoint handles one WeChat API path.
type endpoint func(s *Sim, r *http.Request) reply

// Paths of the simulated API; also the keys of Stats.Calls.
const (
	PathToken           = "/cgi-bin/token"
	PathStableToken     = "/cgi-bin/stable_token"
	PathUnlimitedCode   = "/wxa/getwxacodeunlimit"
	PathCode            = "/wxa/getwxacode"
	PathQRCode          = "/cgi-bin/wxaapp/createwxaqrcode"
	PathTicket          = "/cgi-bin/ticket/getticket"
	PathCode2Session    = "/sns/jscode2session"
	adminPrefix         = "/sim/"
	pathAdminStats      = "/sim/stats"
	pathAdminReset      = "/sim/reset"
	pathAdminInvalidate = "/sim/invalidate-tokens"
)

var routes = map[string]endpoint{
	PathToken:         (*Sim).serveToken,
	PathStableToken:   (*Sim).serveStableToken,
	PathUnlimitedCode: (*Sim).serveUnlimitedCode,
	PathCode:          (*Sim).serveCode,
	PathQRCode:        (*Sim).serveQRCode,
	PathTicket:        (*Sim).serveTicket,
	PathCode2Session:  (*Sim).serveCode2Session,
}

// ServeHTTP routes WeChat API paths and the /sim/ admin endpoints.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if strings.HasPrefix(path, adminPrefix) {
		s.serveAdmin(r).write(w)
		return
	}
	h, ok := routes[path]
	if !ok {
		// Not counted: Stats only holds the simulated endpoints.
		s.log.Warn("wxsim: unknown path", "method", r.Method, "path", path)
		rp := errReply(errNotFound)
		rp.status = http.StatusNotFound
		rp.write(w)
		return
	}
	start := time.Now()
	if !s.wait(r.Context()) {
		// The client gave up during the latency: nothing was answered, so
		// nothing is counted.
		return
	}
	rp := s.call(h, r)
	s.stats.add(path, rp.code)
	s.log.Debug("wxsim: call", "method", r.Method, "path", path, "errcode", rp.code, "took", time.Since(start))
	rp.write(w)
}

// call runs h, turning a panic (a simulator bug) into -1 "system error" so
// one bad input cannot take a test run down.
func (s *Sim) call(h endpoint, r *http.Request) (rp reply) {
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("wxsim: handler panic", "path", r.URL.Path, "panic", v)
			rp = errReply(errSystem)
		}
	}()
	return h(s, r)
}

// wait sleeps for the configured latency, returning false if ctx ends first.
func (s *Sim) wait(ctx context.Context) bool {
	s.mu.Lock()
	d := s.latency
	s.mu.Unlock()
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func pageSet(pages []string) map[string]bool {
	set := make(map[string]bool, len(pages))
	for _, p := range pages {
		set[p] = true
	}
	return set
}

func clampRatio(r float64) float64 {
	if math.IsNaN(r) || r < 0 {
		return 0
	}
	return min(r, 1)
}
