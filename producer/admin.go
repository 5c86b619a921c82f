package producer

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/go-redis/redis_rate/v10"

	"github.com/wxposter/wxposter/pacing"
	"github.com/wxposter/wxposter/wechat"
)

// appHandler is an admin handler for the app named in the path.
type appHandler func(w http.ResponseWriter, r *http.Request, app wechat.App)

// forApp resolves {app} (name or appid) for h. Changing admin actions
// (mutating) also need WXPOSTER_API_KEYS to be set: an open API must not
// let anyone invalidate tokens or lift a quota pause.
func (s *Server) forApp(mutating bool, h appHandler) http.Handler {
	return s.auth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if mutating && len(s.apiKeys) == 0 {
			writeError(w, http.StatusForbidden, "forbidden", "set WXPOSTER_API_KEYS to use admin endpoints", "")
			return
		}
		app, ok := s.app(r.PathValue("app"))
		if !ok {
			writeError(w, http.StatusNotFound, "not_found", "no such app", "app")
			return
		}
		h(w, r, app)
	}))
}

// forceRefreshToken is the one guarded path to stable_token's force_refresh,
// for a leaked token: it invalidates the token for every holder, and WeChat
// allows 20 a day, 30 s apart (enforced cluster-wide before WeChat is asked).
// It needs an API key even when the rest of the API is open.
func (s *Server) forceRefreshToken(w http.ResponseWriter, r *http.Request, app wechat.App) {
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

// Pacing is the cluster's pacing of code calls (package pacing).
type Pacing interface {
	State(ctx context.Context, appID string) (pacing.Hold, error)
	Resume(ctx context.Context, appID string) error
	Limit(appID string) redis_rate.Limit
}

// pacingState shows whether an app's code calls are held back (45011
// cooldown, 45009 pause until the daily reset) and its rate.
func (s *Server) pacingState(w http.ResponseWriter, r *http.Request, app wechat.App) {
	h, err := s.pacing.State(r.Context(), app.AppID)
	if err != nil {
		s.unavailable(w, r, "read the pacing state", err)
		return
	}
	l := s.pacing.Limit(app.AppID)
	out := map[string]any{"app": app.AppID, "held": h.Held(), "rate_per_minute": l.Rate + l.Burst}
	if h.Held() {
		out["reason"], out["until"] = h.Reason, h.Until.Format(time.RFC3339)
	}
	writeJSON(w, http.StatusOK, out)
}

// resumePacing lifts a 45009 pause or 45011 cooldown early, after the quota
// was reset with clear_quota, say.
func (s *Server) resumePacing(w http.ResponseWriter, r *http.Request, app wechat.App) {
	if err := s.pacing.Resume(r.Context(), app.AppID); err != nil {
		s.unavailable(w, r, "resume code calls", err)
		return
	}
	s.log.WarnContext(r.Context(), "code calls resumed by API", "app", app.AppID)
	writeJSON(w, http.StatusOK, map[string]any{"app": app.AppID, "held": false})
}
