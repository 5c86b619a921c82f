package producer

import (
	"errors"
	"net/http"

	"github.com/wxposter/wxposter/wechat"
)

// forceRefreshToken is the one guarded path to stable_token's force_refresh,
// for a leaked token: it invalidates the token for every holder, and WeChat
// allows 20 a day, 30 s apart (enforced cluster-wide before WeChat is asked).
// It needs an API key even when the rest of the API is open.
func (s *Server) forceRefreshToken(w http.ResponseWriter, r *http.Request) {
	if len(s.apiKeys) == 0 {
		writeError(w, http.StatusForbidden, "forbidden", "set WXPOSTER_API_KEYS to use admin endpoints", "")
		return
	}
	app, ok := s.app(r.PathValue("app"))
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", "no such app", "app")
		return
	}
	err := s.wx.ForceRefreshToken(r.Context(), app)
	switch {
	case errors.Is(err, wechat.ErrForceRefreshLimited):
		writeError(w, http.StatusTooManyRequests, "force_refresh_limited", err.Error(), "")
	case err != nil:
		s.unavailable(w, r, "force-refresh the token", err)
	default:
		s.log.WarnContext(r.Context(), "access_token force-refreshed by API", "app", app.AppID)
		writeJSON(w, http.StatusOK, map[string]any{"app": app.AppID, "refreshed": true})
	}
}
