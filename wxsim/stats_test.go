package wxsim

import (
	"encoding/json"
	"net/http"
	"testing"
)

func TestStatsAndAdmin(t *testing.T) {
	s, srv, _ := newTestSim(t, WithQuotaPerMinute(1))
	tok := getToken(t, srv)
	post(t, srv, PathUnlimitedCode, tok, `{"scene":"a"}`)
	post(t, srv, PathUnlimitedCode, tok, `{"scene":"a"}`)
	post(t, srv, PathUnlimitedCode, "", `{"scene":"a"}`)
	post(t, srv, PathUnlimitedCode, "nope", `{"scene":"a"}`)

	want := map[string]map[int]int{
		PathToken:         {0: 1},
		PathUnlimitedCode: {0: 1, 45011: 1, 41001: 1, 40001: 1},
	}
	a := do(t, http.MethodGet, srv.URL+pathAdminStats, "")
	if a.ctype != "application/json" {
		t.Fatalf("content-type %q", a.ctype)
	}
	var st Stats
	if err := json.Unmarshal(a.body, &st); err != nil {
		t.Fatal(err)
	}
	for _, got := range []Stats{st, s.Stats()} {
		if len(got.Calls) != len(want) {
			t.Fatalf("stats %v, want %v", got.Calls, want)
		}
		for path, codes := range want {
			for code, n := range codes {
				if got.Calls[path][code] != n {
					t.Fatalf("stats %v, want %v", got.Calls, want)
				}
			}
		}
	}
	if s.Count(PathUnlimitedCode, 45011) != 1 || s.Total(PathUnlimitedCode) != 4 || s.Total("/nope") != 0 {
		t.Fatalf("Count/Total: %v", s.Stats())
	}

	// Stats is a copy.
	st = s.Stats()
	st.Calls[PathToken][0] = 99
	if s.Count(PathToken, 0) != 1 {
		t.Fatal("Stats exposes internal map")
	}

	// Admin calls are not counted, and method-checked.
	tests := []struct {
		method, path string
		status, code int
	}{
		{http.MethodPost, pathAdminStats, http.StatusMethodNotAllowed, 43001},
		{http.MethodGet, pathAdminReset, http.StatusMethodNotAllowed, 43002},
		{http.MethodGet, pathAdminInvalidate, http.StatusMethodNotAllowed, 43002},
		{http.MethodGet, "/sim/nope", http.StatusNotFound, 404},
	}
	for _, tt := range tests {
		a := do(t, tt.method, srv.URL+tt.path, "")
		if a.status != tt.status || a.errcode(t) != tt.code {
			t.Fatalf("%s %s: %s", tt.method, tt.path, a)
		}
	}

	// POST /sim/reset zeroes the counters and the minute quota.
	if a := do(t, http.MethodPost, srv.URL+pathAdminReset, ""); a.status != http.StatusOK || a.errcode(t) != 0 {
		t.Fatalf("reset: %s", a)
	}
	if n := len(s.Stats().Calls); n != 0 {
		t.Fatalf("after reset: %v", s.Stats())
	}
	if a := post(t, srv, PathUnlimitedCode, tok, `{"scene":"a"}`); a.ctype != "image/jpeg" {
		t.Fatalf("quota not reset: %s", a)
	}
	s.Reset()
	if s.Total(PathUnlimitedCode) != 0 {
		t.Fatal("Reset did not zero")
	}
}
