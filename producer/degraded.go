package producer

import (
	"context"
	"net/http"
	"time"
)

// storageCheckTimeout bounds the producer's own storage calls: a dead store
// must not hold a request for the client's retry loop.
const storageCheckTimeout = time.Second

// readyz says whether the producer can do its job, which needs Redis only:
// with storage down it still accepts posters (finished.Checker fails open) and answers
// status polls from Redis, so it stays ready and lists storage as degraded.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	checks := map[string]string{"redis": "ok", "minio": "ok"}
	degraded := []string{}
	ready := true
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		checks["redis"], ready = err.Error(), false
	}
	sctx, scancel := context.WithTimeout(ctx, storageCheckTimeout)
	defer scancel()
	if err := s.store.Ping(sctx); err != nil {
		checks["minio"] = err.Error()
		degraded = append(degraded, "minio")
	}
	if s.draining() {
		checks["shutdown"], ready = "draining", false
	}
	status := http.StatusOK
	if !ready {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, map[string]any{"ready": ready, "checks": checks, "degraded": degraded})
}
