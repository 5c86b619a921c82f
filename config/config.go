// Package config reads wxposter's configuration from WXPOSTER_* environment
// variables and validates it at start-up, naming the variable and the rule
// on any mistake.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"

	"github.com/wxposter/wxposter/redisconn"
)

// Config is the configuration shared by the producer, the worker and dev.
type Config struct {
	Listen         string `env:"WXPOSTER_LISTEN" envDefault:"127.0.0.1:8080"`
	RedisURL       Secret `env:"WXPOSTER_REDIS_URL" envDefault:"redis://127.0.0.1:6379/0"`
	MinIOEndpoint  string `env:"WXPOSTER_MINIO_ENDPOINT" envDefault:"127.0.0.1:9000"`
	MinIOAccessKey string `env:"WXPOSTER_MINIO_ACCESS_KEY"`
	MinIOSecretKey Secret `env:"WXPOSTER_MINIO_SECRET_KEY"`
	MinIOSecure    bool   `env:"WXPOSTER_MINIO_SECURE" envDefault:"false"`
	Bucket         string `env:"WXPOSTER_BUCKET" envDefault:"wxposter"`
	// S3 provider settings (the MINIO_ variables above work for any S3).
	// S3Region is the bucket's region; empty asks the server (MinIO and
	// versitygw: us-east-1).
	S3Region string `env:"WXPOSTER_S3_REGION"`
	// S3BucketLookup is how the bucket is addressed: auto (virtual-host for
	// AWS, Google and Aliyun endpoints, path elsewhere), path or dns
	// (virtual-host: bucket.endpoint; Tencent COS and Aliyun OSS need it).
	S3BucketLookup string `env:"WXPOSTER_S3_BUCKET_LOOKUP" envDefault:"auto"`
	// S3Checksum is how uploads are checksummed: auto (minio-go's default:
	// no x-amz-checksum header; payload signed in aws-chunked form over
	// http), md5 (Content-MD5 and an unsigned single-piece payload, for
	// providers that reject checksum headers or aws-chunked) or crc32c (a
	// trailing x-amz-checksum-crc32c, for AWS S3 and servers that support it).
	S3Checksum string `env:"WXPOSTER_S3_CHECKSUM" envDefault:"auto"`
	// S3ManageBucket creates the bucket when missing and sets its policy
	// (anonymous read of posters/ and codes/ only). false leaves both to
	// you: for providers without bucket policies, or keys without the right.
	S3ManageBucket    bool     `env:"WXPOSTER_S3_MANAGE_BUCKET" envDefault:"true"`
	PublicBaseURL     string   `env:"WXPOSTER_PUBLIC_BASE_URL"`
	WeChatAPIBase     string   `env:"WXPOSTER_WECHAT_API_BASE" envDefault:"https://api.weixin.qq.com"`
	Apps              Apps     `env:"WXPOSTER_APPS"`
	APIKeys           []Secret `env:"WXPOSTER_API_KEYS" envSeparator:","`
	WorkerConcurrency int      `env:"WXPOSTER_WORKER_CONCURRENCY" envDefault:"10"`

	// CodeRatePerMinute caps code calls per app across the cluster, below
	// WeChat's 5000/min quota; an app in the apps file may set its own.
	CodeRatePerMinute int `env:"WXPOSTER_CODE_RATE_PER_MINUTE" envDefault:"4500"`
	// TokenSourceURL takes access_tokens from an existing central control
	// server instead of fetching them (fetching would invalidate its tokens).
	TokenSourceURL Secret `env:"WXPOSTER_TOKEN_SOURCE_URL"`
	// TokenEndpoint is stable (default; /cgi-bin/stable_token) or classic
	// (/cgi-bin/token, which invalidates everyone else's token).
	TokenEndpoint string `env:"WXPOSTER_TOKEN_ENDPOINT" envDefault:"stable"`
	// SessionTTL is how long a mini-program login (and its session_key) is kept.
	SessionTTL time.Duration `env:"WXPOSTER_SESSION_TTL" envDefault:"72h"`
	// TemplateDir holds palettes (*.json) stored as templates at start-up,
	// each under its file's base name; empty loads none.
	TemplateDir string `env:"WXPOSTER_TEMPLATE_DIR"`

	// Tuning, with defaults that suit most deployments.
	Queue string `env:"WXPOSTER_QUEUE" envDefault:"posters"`
	// QueueShards spreads poster jobs over N queues (<queue>-0 … <queue>-N-1),
	// so that on Redis Cluster they live on several masters.
	QueueShards        int           `env:"WXPOSTER_QUEUE_SHARDS" envDefault:"1"`
	WorkerPollInterval time.Duration `env:"WXPOSTER_WORKER_POLL_INTERVAL" envDefault:"100ms"`
	JobRetention       time.Duration `env:"WXPOSTER_JOB_RETENTION" envDefault:"24h"`
	// MadeIndexMB sizes the index of made posters (a Bloom filter in Redis,
	// finished.WithIndex) that lets the producer enqueue a new poster
	// without asking the store whether it exists; 0 turns it off.
	MadeIndexMB int           `env:"WXPOSTER_MADE_INDEX_MB" envDefault:"16"`
	JobTimeout  time.Duration `env:"WXPOSTER_JOB_TIMEOUT" envDefault:"2m"`
	MaxRetry    int           `env:"WXPOSTER_MAX_RETRY" envDefault:"5"`
	ImageHosts  []string      `env:"WXPOSTER_IMAGE_HOSTS" envSeparator:"," envDefault:"thirdwx.qlogo.cn,wx.qlogo.cn"`
	LogLevel    slog.Level    `env:"WXPOSTER_LOG_LEVEL" envDefault:"info"`
	LogFormat   string        `env:"WXPOSTER_LOG_FORMAT" envDefault:"text"`

	// Batches (docs/batches.md): their own queue, served after Queue; the
	// share of each app's code rate they may use; how long their state
	// stays after they end; where and how completion callbacks go.
	BatchQueue     string        `env:"WXPOSTER_BATCH_QUEUE" envDefault:"posters-batch"`
	BatchRateShare float64       `env:"WXPOSTER_BATCH_RATE_SHARE" envDefault:"0.8"`
	BatchRetention time.Duration `env:"WXPOSTER_BATCH_RETENTION" envDefault:"720h"`
	CallbackHosts  []string      `env:"WXPOSTER_CALLBACK_HOSTS" envSeparator:","`
	CallbackSecret Secret        `env:"WXPOSTER_CALLBACK_SECRET"`

	// Faults and hostile input (issue 9).

	// OutageTolerance is how long jobs wait out a backend outage (storage,
	// Redis, WeChat busy or unreachable) before its errors count as failures.
	OutageTolerance time.Duration `env:"WXPOSTER_OUTAGE_TOLERANCE" envDefault:"10m"`
	// IDSecret keys the job ids (and so the poster URLs), so that nobody can
	// find a user's poster by hashing a guessed request. Changing it changes
	// every id: posters already made are made again under new URLs.
	IDSecret Secret `env:"WXPOSTER_ID_SECRET"`
	// ShareMaxAge refuses group-share data WeChat encrypted longer ago.
	ShareMaxAge time.Duration `env:"WXPOSTER_SHARE_MAX_AGE" envDefault:"24h"`

	// PprofListen serves net/http/pprof on a loopback address; empty: off.
	PprofListen string `env:"WXPOSTER_PPROF_LISTEN"`
	// RenderConcurrency bounds a worker's renders at once; 0: GOMAXPROCS.
	RenderConcurrency int `env:"WXPOSTER_RENDER_CONCURRENCY" envDefault:"0"`

	// Operators' surface (docs/operations.md).
	// DashboardKeys are the Basic-auth passwords of /monitoring/; empty
	// means WXPOSTER_API_KEYS.
	DashboardKeys []Secret `env:"WXPOSTER_DASHBOARD_KEYS" envSeparator:","`
	// DashboardOpen serves the dashboard without a password when there are
	// no keys (wxposter dev sets it); otherwise no keys means 404.
	DashboardOpen bool `env:"WXPOSTER_DASHBOARD_OPEN" envDefault:"false"`
	// DashboardReadOnly refuses every change (delete, retry, pause) made
	// through the dashboard.
	DashboardReadOnly bool `env:"WXPOSTER_DASHBOARD_READONLY" envDefault:"true"`
	// DashboardShowData shows the values of a job's data (nicknames,
	// avatars: personal data) on the dashboard.
	DashboardShowData bool `env:"WXPOSTER_DASHBOARD_SHOW_DATA" envDefault:"false"`
	// MetricsListen is where a worker serves /metrics (default
	// DefaultMetricsListen); set empty, it turns worker metrics off.
	// (envDefault cannot tell unset from empty, so LoadFrom reads it.)
	MetricsListen string `env:"-"`

	redis *redisconn.Conn
}

// DefaultMetricsListen is where a worker serves /metrics unless
// WXPOSTER_METRICS_LISTEN says otherwise.
const DefaultMetricsListen = "127.0.0.1:9465"

// DashboardPasswords are the keys that open /monitoring/:
// WXPOSTER_DASHBOARD_KEYS, else WXPOSTER_API_KEYS.
func (c *Config) DashboardPasswords() []string {
	keys := c.DashboardKeys
	if len(keys) == 0 {
		keys = c.APIKeys
	}
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = string(k)
	}
	return out
}

// Redis is the parsed WXPOSTER_REDIS_URL: the connection option shared by
// asynq, asynqmon and every go-redis client.
func (c *Config) Redis() *redisconn.Conn { return c.redis }

// MadeIndexBits is the size of the index of made posters in bits (0: off).
func (c *Config) MadeIndexBits() uint64 { return uint64(c.MadeIndexMB) << 23 }

// SimConfig configures `wxposter sim`, the WeChat API simulator.
type SimConfig struct {
	Listen string `env:"WXPOSTER_SIM_LISTEN" envDefault:"127.0.0.1:9400"`
	// Apps the simulator knows; when empty, WXPOSTER_APPS.
	Apps           Apps          `env:"WXPOSTER_SIM_APPS"`
	Pages          []string      `env:"WXPOSTER_SIM_PAGES" envSeparator:"," envDefault:"pages/index/index,pages/poster/poster,pages/activity/detail"`
	QuotaPerMinute int           `env:"WXPOSTER_SIM_QUOTA_PER_MINUTE" envDefault:"5000"`
	ErrorRatio     float64       `env:"WXPOSTER_SIM_ERROR_RATIO" envDefault:"0"`
	Latency        time.Duration `env:"WXPOSTER_SIM_LATENCY" envDefault:"0s"`
}

// Error is one invalid variable.
type Error struct {
	Var  string
	Rule string
}

func (e *Error) Error() string { return e.Var + ": " + e.Rule }

// Load reads and validates Config from the process environment.
func Load() (*Config, error) { return LoadFrom(nil) }

// LoadFrom reads Config from environ (KEY=VALUE pairs); nil means the process
// environment. Tests use it to avoid mutating the real environment.
func LoadFrom(environ map[string]string) (*Config, error) {
	var c Config
	if err := parse(&c, environ); err != nil {
		return nil, err
	}
	c.MetricsListen = lookupOr(environ, "WXPOSTER_METRICS_LISTEN", DefaultMetricsListen)
	if err := c.validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// LoadSim reads and validates SimConfig; environ as in LoadFrom.
func LoadSim(environ map[string]string) (*SimConfig, error) {
	var c SimConfig
	if err := parse(&c, environ); err != nil {
		return nil, err
	}
	if len(c.Apps) == 0 {
		var base struct {
			Apps Apps `env:"WXPOSTER_APPS"`
		}
		if err := parse(&base, environ); err != nil {
			return nil, err
		}
		c.Apps = base.Apps
	}
	var errs []error
	add := func(v, rule string) { errs = append(errs, &Error{v, rule}) }
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		add("WXPOSTER_SIM_LISTEN", "must be host:port")
	}
	if len(c.Apps) == 0 {
		add("WXPOSTER_SIM_APPS", "at least one appid:secret is required (or set WXPOSTER_APPS)")
	}
	if c.QuotaPerMinute < 0 {
		add("WXPOSTER_SIM_QUOTA_PER_MINUTE", "must be >= 0 (0 means unlimited)")
	}
	if c.ErrorRatio < 0 || c.ErrorRatio > 1 {
		add("WXPOSTER_SIM_ERROR_RATIO", "must be between 0 and 1")
	}
	if c.Latency < 0 {
		add("WXPOSTER_SIM_LATENCY", "must not be negative")
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &c, nil
}

func parse(v any, environ map[string]string) error {
	err := env.ParseWithOptions(v, env.Options{Environment: environ})
	if err == nil {
		return nil
	}
	// Rewrite the library's errors so that each names the variable, not the
	// Go field, and never echoes the offending value (it may be a secret).
	var agg env.AggregateError
	if !errors.As(err, &agg) {
		return fmt.Errorf("config: %w", err)
	}
	vars := envNames(v)
	var out []error
	for _, e := range agg.Errors {
		var pe env.ParseError
		if errors.As(e, &pe) {
			out = append(out, &Error{vars[pe.Name], "cannot be read as " + describe(pe.Type) + ruleOf(pe.Err)})
			continue
		}
		out = append(out, e)
	}
	return errors.Join(out...)
}

// ruleOf surfaces the rule from our own parsers, which never include values.
func ruleOf(err error) string {
	var ce *Error
	if errors.As(err, &ce) {
		return ": " + ce.Rule
	}
	return ""
}

func describe(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[time.Duration]():
		return "a duration (e.g. 250ms, 30s, 24h)"
	case reflect.TypeFor[bool]():
		return "a boolean (true or false)"
	case reflect.TypeFor[int]():
		return "an integer"
	case reflect.TypeFor[float64]():
		return "a number"
	case reflect.TypeFor[slog.Level]():
		return "a log level (debug, info, warn, error)"
	case reflect.TypeFor[Apps]():
		return "a comma-separated list of appid:secret"
	}
	return t.String()
}

func envNames(v any) map[string]string {
	m := map[string]string{}
	t := reflect.TypeOf(v).Elem()
	for i := range t.NumField() {
		f := t.Field(i)
		m[f.Name] = strings.Split(f.Tag.Get("env"), ",")[0]
	}
	return m
}

var regionRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

var bucketRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

func (c *Config) validate() error {
	var errs []error
	add := func(v, rule string) { errs = append(errs, &Error{v, rule}) }

	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		add("WXPOSTER_LISTEN", "must be host:port, e.g. 127.0.0.1:8080")
	}
	if conn, err := redisconn.Parse(string(c.RedisURL)); err != nil {
		add("WXPOSTER_REDIS_URL", err.Error()) // rules only, never the URL (it may hold a password)
	} else {
		c.redis = conn
	}
	switch c.S3BucketLookup {
	case "auto", "path", "dns":
	default:
		add("WXPOSTER_S3_BUCKET_LOOKUP", "must be auto, path or dns")
	}
	switch c.S3Checksum {
	case "auto", "md5", "crc32c":
	default:
		add("WXPOSTER_S3_CHECKSUM", "must be auto, md5 or crc32c")
	}
	if c.S3Region != "" && !regionRE.MatchString(c.S3Region) {
		add("WXPOSTER_S3_REGION", "must be a region name of lowercase letters, digits and hyphens, e.g. ap-shanghai")
	}
	if strings.Contains(c.MinIOEndpoint, "://") || strings.Contains(c.MinIOEndpoint, "/") || c.MinIOEndpoint == "" {
		add("WXPOSTER_MINIO_ENDPOINT", "must be host:port without a scheme, e.g. 127.0.0.1:9000")
	}
	if c.MinIOAccessKey == "" {
		add("WXPOSTER_MINIO_ACCESS_KEY", "is required")
	}
	if c.MinIOSecretKey == "" {
		add("WXPOSTER_MINIO_SECRET_KEY", "is required")
	}
	if !bucketRE.MatchString(c.Bucket) || strings.Contains(c.Bucket, "..") {
		add("WXPOSTER_BUCKET", "must be a valid bucket name: 3-63 lowercase letters, digits, dots and hyphens")
	}
	if c.PublicBaseURL == "" {
		scheme := "http"
		if c.MinIOSecure {
			scheme = "https"
		}
		c.PublicBaseURL = scheme + "://" + c.MinIOEndpoint + "/" + c.Bucket
		if c.S3BucketLookup == "dns" {
			c.PublicBaseURL = scheme + "://" + c.Bucket + "." + c.MinIOEndpoint
		}
	}
	c.PublicBaseURL = strings.TrimRight(c.PublicBaseURL, "/")
	if !isHTTPURL(c.PublicBaseURL) {
		add("WXPOSTER_PUBLIC_BASE_URL", "must be an absolute http(s) URL")
	}
	c.WeChatAPIBase = strings.TrimRight(c.WeChatAPIBase, "/")
	if !isHTTPURL(c.WeChatAPIBase) {
		add("WXPOSTER_WECHAT_API_BASE", "must be an absolute http(s) URL")
	}
	if len(c.Apps) == 0 {
		add("WXPOSTER_APPS", "at least one appid:secret is required")
	}
	for _, k := range c.APIKeys {
		if len(k) < 16 {
			add("WXPOSTER_API_KEYS", "each key must be at least 16 characters")
			break
		}
	}
	if c.CodeRatePerMinute < 1 || c.CodeRatePerMinute > 5000 {
		add("WXPOSTER_CODE_RATE_PER_MINUTE", "must be between 1 and 5000 (WeChat's quota is 5000/min)")
	}
	if c.TokenSourceURL != "" && !isHTTPURL(string(c.TokenSourceURL)) {
		add("WXPOSTER_TOKEN_SOURCE_URL", "must be an absolute http(s) URL")
	}
	switch c.TokenEndpoint {
	case "stable", "classic":
	default:
		add("WXPOSTER_TOKEN_ENDPOINT", "must be stable or classic")
	}
	if c.WorkerConcurrency < 1 || c.WorkerConcurrency > 1000 {
		add("WXPOSTER_WORKER_CONCURRENCY", "must be between 1 and 1000")
	}
	if c.Queue == "" || strings.ContainsAny(c.Queue, " {}:") {
		add("WXPOSTER_QUEUE", "must be a non-empty name without spaces, braces or colons")
	}
	if c.BatchQueue == "" || strings.ContainsAny(c.BatchQueue, " {}:") {
		add("WXPOSTER_BATCH_QUEUE", "must be a non-empty name without spaces, braces or colons")
	} else if c.BatchQueue == c.Queue {
		add("WXPOSTER_BATCH_QUEUE", "must differ from WXPOSTER_QUEUE")
	}
	for _, k := range c.DashboardKeys {
		if len(k) < 16 {
			add("WXPOSTER_DASHBOARD_KEYS", "each key must be at least 16 characters")
			break
		}
	}
	if c.MetricsListen != "" {
		if _, _, err := net.SplitHostPort(c.MetricsListen); err != nil {
			add("WXPOSTER_METRICS_LISTEN", "must be host:port, e.g. 127.0.0.1:9465, or empty to turn worker metrics off")
		}
	}
	if c.QueueShards < 1 || c.QueueShards > 64 {
		add("WXPOSTER_QUEUE_SHARDS", "must be between 1 and 64")
	}
	if c.WorkerPollInterval < 10*time.Millisecond || c.WorkerPollInterval > 10*time.Second {
		add("WXPOSTER_WORKER_POLL_INTERVAL", "must be between 10ms and 10s")
	}
	if c.MadeIndexMB < 0 || c.MadeIndexMB > 512 {
		add("WXPOSTER_MADE_INDEX_MB", "must be between 0 (off) and 512")
	}
	if c.JobRetention < time.Minute {
		add("WXPOSTER_JOB_RETENTION", "must be at least 1m")
	}
	if c.TemplateDir != "" {
		if fi, err := os.Stat(c.TemplateDir); err != nil || !fi.IsDir() {
			add("WXPOSTER_TEMPLATE_DIR", "must be an existing directory")
		}
	}
	if c.SessionTTL < time.Minute {
		add("WXPOSTER_SESSION_TTL", "must be at least 1m")
	}
	if c.JobTimeout < MinJobTimeout {
		add("WXPOSTER_JOB_TIMEOUT", "must be at least "+MinJobTimeout.String()+
			" (a code call, a render and an upload, each with its own time limits, must fit)")
	}
	if c.OutageTolerance < 0 {
		add("WXPOSTER_OUTAGE_TOLERANCE", "must not be negative (0 turns waiting out outages off)")
	}
	if c.ShareMaxAge < time.Minute {
		add("WXPOSTER_SHARE_MAX_AGE", "must be at least 1m")
	}
	if c.IDSecret != "" && len(c.IDSecret) < 16 {
		add("WXPOSTER_ID_SECRET", "must be at least 16 characters")
	}
	if c.MaxRetry < 0 || c.MaxRetry > 50 {
		add("WXPOSTER_MAX_RETRY", "must be between 0 and 50")
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		add("WXPOSTER_LOG_FORMAT", "must be text or json")
	}
	if c.RenderConcurrency < 0 || c.RenderConcurrency > 1000 {
		add("WXPOSTER_RENDER_CONCURRENCY", "must be between 0 (one per CPU) and 1000")
	}
	if c.PprofListen != "" && !isLoopback(c.PprofListen) {
		add("WXPOSTER_PPROF_LISTEN", "must be a loopback host:port, e.g. 127.0.0.1:6060 (profiles are not for the network)")
	}
	c.validateBatches(add)
	return errors.Join(errs...)
}

// MinJobTimeout is the shortest WXPOSTER_JOB_TIMEOUT: below it a job spends
// its whole attempt in per-call limits (5 s storage, the code lock's wait)
// and never finishes.
const MinJobTimeout = 15 * time.Second

// isLoopback reports whether addr is host:port on a loopback address.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// lookupOr is the variable's value, even empty, or def when it is unset;
// environ as in LoadFrom.
func lookupOr(environ map[string]string, key, def string) string {
	v, ok := environ[key]
	if environ == nil {
		v, ok = os.LookupEnv(key)
	}
	if !ok {
		return def
	}
	return v
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// App returns the app whose name or appid is name; "" means the default app.
func (c *Config) App(name string) (App, bool) { return c.Apps.Find(name) }
