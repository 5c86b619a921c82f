package producer

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wxposter/wxposter/internal/testenv"
	"github.com/wxposter/wxposter/tasks"
	"github.com/wxposter/wxposter/wechat"
)

// BenchmarkCacheHit is POST /v1/posters for a poster already made, served
// from the in-process cache: the producer's own cost of a hit.
func BenchmarkCacheHit(b *testing.B) {
	rdb := testenv.Redis(b)
	store := testenv.Store(b)
	app := wechat.App{AppID: testenv.AppID(), Secret: "s"}
	s := New(rdb, store, WithApps(app), WithQueue("bench-"+testenv.ID(4)),
		WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	b.Cleanup(func() { s.Close() })
	body := `{"template":"default","page":"pages/index/index","scene":"b:1","data":{"nickname":"小明","title":"做好的海报"}}`
	req := func() *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/v1/posters", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		return r
	}
	// Make it "stored": find its key from a first request's id.
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req())
	id := w.Body.String()[7:39]
	s.finishedCache.Remember(store.URL(tasks.PosterKey(id, "jpg")))
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req())
		if w.Code != http.StatusOK {
			b.Fatalf("hit = %d %s", w.Code, w.Body)
		}
	}
}
