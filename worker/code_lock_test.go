package worker

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/bsm/redislock"

	"github.com/wxposter/wxposter/internal/testenv"
)

// The code lock outlives its TTL while held (a slow code call), so that no
// other job needing the same code can take it and pay for the code again;
// once released it is gone at once.
func TestCodeLockOutlivesItsTTLWhileHeld(t *testing.T) {
	rdb := testenv.Redis(t)
	h := &Handler{rdb: rdb, codeLock: 300 * time.Millisecond, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx := context.Background()
	key := "test-" + testenv.ID(8) + ":lock"
	lock, err := redislock.Obtain(ctx, rdb, key, h.codeLock, nil)
	if err != nil {
		t.Fatal(err)
	}
	stop := h.holdLock(ctx, lock)
	time.Sleep(3 * h.codeLock) // the call outlasts the TTL
	if _, err := redislock.Obtain(ctx, rdb, key, h.codeLock, nil); err != redislock.ErrNotObtained {
		t.Fatalf("a second job obtained the lock of a call in progress: %v", err)
	}
	stop()
	if err := lock.Release(ctx); err != nil {
		t.Fatalf("release after stop: %v", err)
	}
	if l, err := redislock.Obtain(ctx, rdb, key, h.codeLock, nil); err != nil {
		t.Fatalf("lock after release: %v", err)
	} else {
		l.Release(ctx)
	}
}
