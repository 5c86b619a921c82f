package e2e

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestSlowCodeAnswerPaidOnce: WeChat (here the simulator, which counts the
// call) makes the code, but its answer reaches us only after 11 s, past
// the 10 s every other WeChat call gets (what a loaded machine does to the
// simulator in TestOneTokenForTheCluster). The code call is waited for, not
// abandoned and paid for again on the retry: one code call per poster.
func TestSlowCodeAnswerPaidOnce(t *testing.T) {
	s := start(t, withSimMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !strings.HasSuffix(r.URL.Path, codeAPI) {
				next.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r) // made and counted
			select {
			case <-time.After(11 * time.Second):
			case <-r.Context().Done():
				return // the client gave up: the code is paid for all the same
			}
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
		})
	}))
	s.dumpLogsOnFailure()
	j := s.submit(map[string]any{"page": pageIndex, "scene": "slow:1"})
	deadline := time.Now().Add(40 * time.Second)
	for {
		_, got := s.get(j.ID, 10)
		if got.Status == "succeeded" {
			break
		}
		if got.Status == "failed" || time.Now().After(deadline) {
			t.Fatalf("job %+v", got)
		}
	}
	if n := s.sim.Count(codeAPI, 0); n != 1 {
		t.Errorf("codes made for one poster = %d, want 1", n)
	}
}
