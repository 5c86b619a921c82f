// Package testenv gives integration tests real Redis and real MinIO, the
// ones scripts/devenv.sh starts (`make test` runs it first), isolated per
// test: a fresh bucket, unique appids and queue names.
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

const hint = " (run `make test`, or scripts/devenv.sh to start Redis and MinIO)"

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

// Store returns a Store on a new bucket, emptied and removed after the test.
func Store(tb testing.TB, opts ...storage.Option) *storage.Store {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	bucket := "wxtest-" + ID(8)
	s, err := storage.New(ctx, storage.Config{
		Endpoint: MinIOServer, AccessKey: MinIOKey, SecretKey: MinIOSecret, Bucket: bucket,
	}, opts...)
	if err != nil {
		tb.Fatalf("minio at %s: %v%s", MinIOServer, err, hint)
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
