package producer

import (
	"context"
	"net/http"

	"github.com/hibiken/asynq"

	"github.com/wxposter/wxposter/finished"
	"github.com/wxposter/wxposter/tasks"
)

// WithFinished sets the cache of finished posters the producer consults
// before the object store (default: finished.New on the producer's Redis,
// behind a cache of finished.DefaultCacheSize URLs).
func WithFinished(c *finished.Cache) Option { return func(s *Server) { s.finishedCache = c } }

// alreadyMade reports whether job id's poster (object key) is made, by the
// check batch dispatch uses too (finished.Checker: memory, the Redis
// record, then storage, failing open).
func (s *Server) alreadyMade(ctx context.Context, id, key string) bool {
	return s.made.Made(ctx, id, key)
}

// remover is the store's delete, for DELETE /v1/posters/{id}.
type remover interface {
	Remove(ctx context.Context, key string) error
}

// deletePoster removes a poster: its job (so polls and new requests do not
// answer with the old URL), its objects, and its records everywhere. A
// request for it afterwards makes it again. It needs an API key even when
// the rest of the API is open, as the admin endpoints do.
func (s *Server) deletePoster(w http.ResponseWriter, r *http.Request) {
	if len(s.apiKeys) == 0 {
		writeError(w, http.StatusForbidden, "forbidden", "set WXPOSTER_API_KEYS to delete posters", "")
		return
	}
	id := r.PathValue("id")
	if !jobIDRE.MatchString(id) {
		writeError(w, http.StatusNotFound, "not_found", "no such job", "id")
		return
	}
	rm, ok := s.store.(remover)
	if !ok {
		writeError(w, http.StatusNotImplemented, "not_implemented", "this storage cannot delete objects", "")
		return
	}
	ctx := r.Context()
	// The job first: a running job would upload again after the delete.
	info, err := s.inspector.GetTaskInfo(s.queueOf(id), id)
	switch {
	case err == nil && info.State == asynq.TaskStateActive:
		writeError(w, http.StatusConflict, "job_running", "the poster is being made; delete it when the job has ended", "id")
		return
	case err == nil:
		if err := s.inspector.DeleteTask(s.queueOf(id), id); err != nil && !isNotFound(err) {
			s.unavailable(w, r, "delete the job", err)
			return
		}
	case !isNotFound(err):
		s.unavailable(w, r, "read the job", err)
		return
	}
	// Object, then record: a request in between still finds the record
	// and is answered as it would have been a moment earlier; once the
	// tombstone is there, nobody records the poster again except a worker
	// that has made it anew.
	for _, ext := range []string{"jpg", "png"} {
		key := tasks.PosterKey(id, ext)
		if err := rm.Remove(ctx, key); err != nil {
			s.unavailable(w, r, "delete the poster", err)
			return
		}
		url := s.store.URL(key)
		if err := s.finishedCache.Records().Delete(ctx, id, url); err != nil {
			s.unavailable(w, r, "delete the poster's record", err)
			return
		}
		s.finishedCache.Forget(url)
	}
	s.log.InfoContext(ctx, "poster deleted by API", "job", id)
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "deleted": true})
}
