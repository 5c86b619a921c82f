package producer

import (
	"errors"
	"net/http"

	"github.com/wxposter/wxposter/scene"
)

// getScene resolves a scene to the params it carries, for the mini-program
// page the code opens (docs/scenes.md). It is public: the page has no API
// key, and a scene is already public in the code image.
func (s *Server) getScene(w http.ResponseWriter, r *http.Request) {
	sc := r.PathValue("scene")
	params, err := s.scenes.Resolve(r.Context(), sc)
	switch {
	case errors.Is(err, scene.ErrNotFound), errors.Is(err, scene.ErrNotParams):
		writeError(w, http.StatusNotFound, "not_found", "this scene carries no params wxposter knows", "scene")
	case err != nil:
		s.unavailable(w, r, "resolve the scene", err)
	default:
		w.Header().Set("Cache-Control", "public, max-age=86400") // scenes never change
		writeJSON(w, http.StatusOK, map[string]any{"scene": sc, "params": params})
	}
}
