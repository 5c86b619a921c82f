// Package testenv gives integration tests real Redis and real S3 storage
// (MinIO and versitygw), the ones scripts/devenv.sh starts (`make test` runs
// it first), isolated per test: a fresh bucket, unique appids and queue
// names. The Redis Sentinel and Cluster topologies of `make test` are in
// topologies.go.
package testenv

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wxposter/wxposter/redisconn"
	"github.com/wxposter/wxposter/storage"
)

func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// MinIO credentials default to the ones scripts/devenv.sh starts MinIO with.
var (
	RedisURL    = env("WXPOSTER_REDIS_URL", "redis://127.0.0.1:6379/0")
	MinIOServer = env("WXPOSTER_MINIO_ENDPOINT", "127.0.0.1:9000")
	MinIOKey    = env("WXPOSTER_MINIO_ACCESS_KEY", "wxposter")
	MinIOSecret = env("WXPOSTER_MINIO_SECRET_KEY", "wxposter-dev-secret")
)

const hint = " (run `make test`, or scripts/devenv.sh to start Redis, MinIO and versitygw)"

// Redis returns a client of the test Redis, closed at the end of the test.
func Redis(tb testing.TB) *redis.Client {
	tb.Helper()
	opt, err := redis.ParseURL(RedisURL)
	if err != nil {
		tb.Fatalf("WXPOSTER_REDIS_URL: %v", err)
	}
	rdb := redis.NewClient(opt)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		tb.Fatalf("redis at %s: %v%s", opt.Addr, err, hint)
	}
	tb.Cleanup(func() { rdb.Close() })
	return rdb
}

// RedisAt returns a client of the Redis that url names (any form
// WXPOSTER_REDIS_URL takes: single, Sentinel or Cluster), closed at the end
// of the test.
func RedisAt(tb testing.TB, url string) redis.UniversalClient {
	tb.Helper()
	conn, err := redisconn.Parse(url)
	if err != nil {
		tb.Fatalf("redis url: %v", err)
	}
	rdb := conn.NewClient()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		rdb.Close()
		tb.Fatalf("redis %s: %v%s", conn, err, hint)
	}
	tb.Cleanup(func() { rdb.Close() })
	return rdb
}

// Backend is an S3 server the tests can store on.
type Backend struct {
	Name, Endpoint, AccessKey, SecretKey string
}

// The S3 servers scripts/devenv.sh starts: MinIO (the development default)
// and versitygw (a maintained S3 gateway, on a POSIX directory).
var (
	MinIO   = Backend{"minio", MinIOServer, MinIOKey, MinIOSecret}
	Versity = Backend{"versitygw", env("WXPOSTER_TEST_VERSITYGW_ENDPOINT", "127.0.0.1:7170"),
		env("WXPOSTER_TEST_VERSITYGW_ACCESS_KEY", "wxposter"), env("WXPOSTER_TEST_VERSITYGW_SECRET_KEY", "wxposter-dev-secret")}
)

// Backends are every S3 server storage paths are proven on.
func Backends() []Backend { return []Backend{MinIO, Versity} }

// DefaultBackend is the backend of Store: MinIO, or versitygw with
// WXPOSTER_TEST_S3=versitygw (to run the whole suite on it).
func DefaultBackend() Backend {
	if os.Getenv("WXPOSTER_TEST_S3") == Versity.Name {
		return Versity
	}
	return MinIO
}

// Store returns a Store on a new bucket of DefaultBackend, emptied and
// removed after the test.
func Store(tb testing.TB, opts ...storage.Option) *storage.Store {
	tb.Helper()
	return StoreOn(tb, DefaultBackend(), nil, opts...)
}

// StoreOn is Store on backend b; mod, if not nil, adjusts the storage
// configuration (checksum mode, bucket lookup, ...) first.
func StoreOn(tb testing.TB, b Backend, mod func(*storage.Config), opts ...storage.Option) *storage.Store {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	bucket := "wxtest-" + ID(8)
	cfg := storage.Config{Endpoint: b.Endpoint, AccessKey: b.AccessKey, SecretKey: b.SecretKey, Bucket: bucket}
	if mod != nil {
		mod(&cfg)
	}
	s, err := storage.New(ctx, cfg, opts...)
	if err != nil {
		tb.Fatalf("%s at %s: %v%s", b.Name, b.Endpoint, err, hint)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.RemoveAll(ctx); err != nil {
			tb.Logf("cleanup bucket %s: %v", bucket, err)
		}
	})
	return s
}

// ID is n random bytes in hex.
func ID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// AppID is a fresh WeChat-shaped appid, so tests never share cached tokens.
func AppID() string { return "wx" + ID(8) }

// LogBuffer is a concurrency-safe sink for slog output, for tests that
// assert on logs (for example that no secret is ever logged).
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String is everything logged so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Logger returns a debug-level logger writing to b and, with -v, to the test log.
func (b *LogBuffer) Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// Contains reports whether s was logged.
func (b *LogBuffer) Contains(s string) bool { return s != "" && strings.Contains(b.String(), s) }
