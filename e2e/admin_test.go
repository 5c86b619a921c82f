package e2e

import (
	"net/http"
	"testing"

	"github.com/wxposter/wxposter/pacing"
)

func TestAdminEndpoints(t *testing.T) {
	const key = "test-api-key-0123456789"
	s := start(t, withAPIKeys(key))
	ctx := ctxT(t)

	// Closed API: no key, no poster.
	if code, _ := s.call(http.MethodPost, "/v1/posters", map[string]any{"page": pageIndex, "scene": "a"}); code != http.StatusUnauthorized {
		t.Fatalf("POST without key: %d, want 401", code)
	}
	if code, _ := s.callAs(key, http.MethodPost, "/v1/posters", map[string]any{"page": pageIndex, "scene": "a"}); code != http.StatusAccepted {
		t.Fatalf("POST with key: %d, want 202", code)
	}

	// force_refresh: by key only, guarded.
	if code, _ := s.call(http.MethodPost, "/v1/admin/apps/shop/token/force-refresh", nil); code != http.StatusUnauthorized {
		t.Fatalf("force refresh without key: %d", code)
	}
	if code, b := s.callAs(key, http.MethodPost, "/v1/admin/apps/shop/token/force-refresh", nil); code != http.StatusOK {
		t.Fatalf("force refresh: %d %s", code, b)
	}
	if code, b := s.callAs(key, http.MethodPost, "/v1/admin/apps/shop/token/force-refresh", nil); code != http.StatusTooManyRequests {
		t.Fatalf("second force refresh within 30 s: %d %s, want 429", code, b)
	}
	// Clean the guard's keys: appids are per test, but be tidy.
	s.rdb.Del(ctx, "wxposter:wx:"+s.app.AppID+":stable_token:force:spacing")

	// A 45009 pause is visible and can be lifted.
	p := pacing.New(s.rdb)
	if _, err := p.DailyQuotaHit(ctx, s.app.AppID); err != nil {
		t.Fatal(err)
	}
	code, b := s.callAs(key, http.MethodGet, "/v1/admin/apps/"+s.app.AppID+"/pacing", nil)
	st := decode[map[string]any](t, b)
	if code != http.StatusOK || st["held"] != true || st["reason"] != "daily_quota" || st["until"] == nil {
		t.Fatalf("pacing state: %d %s", code, b)
	}
	if code, _ := s.callAs(key, http.MethodPost, "/v1/admin/apps/shop/pacing/resume", nil); code != http.StatusOK {
		t.Fatalf("resume: %d", code)
	}
	if h, _ := p.State(ctx, s.app.AppID); h.Held() {
		t.Fatalf("still held after resume: %+v", h)
	}
	if code, _ := s.callAs(key, http.MethodGet, "/v1/admin/apps/nope/pacing", nil); code != http.StatusNotFound {
		t.Fatalf("unknown app: %d", code)
	}
}
