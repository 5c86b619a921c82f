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
	"github.com/redis/go-redis/v9"

	"github.com/wxposter/wxposter/internal/testenv"
	"github.com/wxposter/wxposter/tasks"
	"github.com/wxposter/wxposter/wechat"
)

// testServer is a producer on rdb and store with one app and a queue of
// its own (removed afterwards with its shards and wake lists), logging
// nowhere. opts come last, so they can change any of that.
func testServer(tb testing.TB, rdb redis.UniversalClient, store Objects, opts ...Option) *Server {
	tb.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	s := New(rdb, store, append([]Option{WithApps(wechat.App{AppID: testenv.AppID(), Secret: "s"}),
		WithQueue("ptest-" + testenv.ID(6)), WithLogger(quiet)}, opts...)...)
	tb.Cleanup(func() {
		s.Close()
		insp := asynq.NewInspectorFromRedisClient(rdb)
		for _, q := range tasks.ShardQueues(s.queue, s.shards) {
			_ = insp.DeleteQueue(q, true)
			rdb.Del(context.Background(), tasks.WakeKey(q))
		}
	})
	return s
}

// postPoster sends body to s as POST /v1/posters and returns the status
// and the job it answered with (zero if the answer was not a job).
func postPoster(s *Server, body string) (int, jobView) {
	r := httptest.NewRequest(http.MethodPost, "/v1/posters", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	var j jobView
	_ = json.Unmarshal(w.Body.Bytes(), &j)
	return w.Code, j
}
