package producer

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wxposter/wxposter/internal/testenv"
	"github.com/wxposter/wxposter/tasks"
)

// BenchmarkCacheHit is POST /v1/posters for a poster already made, served
// from the in-process cache: the producer's own cost of a hit.
func BenchmarkCacheHit(b *testing.B) {
	rdb := testenv.Redis(b)
	store := testenv.Store(b)
	s := testServer(b, rdb, store)
	body := `{"template":"default","page":"pages/index/index","scene":"b:1","data":{"nickname":"小明","title":"做好的海报"}}`
	// Make it "stored": its key from a first request's id.
	_, first := postPoster(s, body)
	s.finishedCache.Remember(store.URL(tasks.PosterKey(first.ID, "jpg")))
	b.ReportAllocs()
	for b.Loop() { // not postPoster: reading the answer is the client's cost
		r := httptest.NewRequest(http.MethodPost, "/v1/posters", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("hit = %d %s", w.Code, w.Body)
		}
	}
}
