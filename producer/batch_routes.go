package producer

import "net/http"

// batchRoutes adds the /v1/batches routes to m.
func (s *Server) batchRoutes(m *routeMux) {
	m.Handle("POST /v1/batches", s.needBatches(s.createBatch))
	m.Handle("GET /v1/batches", s.needBatches(s.listBatches))
	m.Handle("GET /v1/batches/{id}", s.needBatches(s.getBatch))
	m.Handle("GET /v1/batches/{id}/items", s.needBatches(s.listBatchItems))
	m.Handle("GET /v1/batches/{id}/manifest", s.needBatches(s.batchManifest))
	m.Handle("GET /v1/batches/{id}/archive", s.needBatches(s.batchArchive))
	m.Handle("POST /v1/batches/{id}/cancel", s.needBatches(s.cancelBatch))
	m.Handle("POST /v1/batches/{id}/retry", s.needBatches(s.retryBatch))
}

// Unwrap lets http.ResponseController reach the connection (to flush
// streamed manifests and archives).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
