package producer

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/wxposter/wxposter/internal/testenv"
	"github.com/wxposter/wxposter/tasks"
	"github.com/wxposter/wxposter/wechat"
)

// TestNewJobWakesItsShard: a new job leaves a wake token on the wake list
// of the queue (shard) it went to, which that shard's workers wait on.
func TestNewJobWakesItsShard(t *testing.T) {
	rdb := testenv.Redis(t)
	queue := "wake-" + testenv.ID(4)
	s := New(rdb, testenv.Store(t), WithApps(wechat.App{AppID: testenv.AppID(), Secret: "s"}),
		WithQueue(queue), WithQueueShards(3), WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	t.Cleanup(func() {
		insp := asynq.NewInspectorFromRedisClient(rdb)
		for _, q := range tasks.ShardQueues(queue, 3) {
			_ = insp.DeleteQueue(q, true)
			rdb.Del(ctx, tasks.WakeKey(q))
		}
	})
	r := httptest.NewRequest(http.MethodPost, "/v1/posters",
		strings.NewReader(`{"template":"default","page":"pages/index/index","scene":"w:1"}`))
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	var j jobView
	if err := json.Unmarshal(w.Body.Bytes(), &j); err != nil || w.Code != http.StatusAccepted {
		t.Fatalf("POST = %d %s", w.Code, w.Body)
	}
	shard := tasks.ShardQueue(queue, 3, j.ID)
	if n := rdb.LLen(ctx, tasks.WakeKey(shard)).Val(); n != 1 {
		t.Errorf("wake tokens on the job's shard %s = %d, want 1", shard, n)
	}
}
