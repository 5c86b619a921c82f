package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The example forwards with the API key, chooses page and scene itself, and
// refuses anonymous users and unknown templates.
func TestBackend(t *testing.T) {
	var got struct {
		auth string
		body map[string]any
		path string
	}
	wxp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.auth, got.path = r.Header.Get("Authorization"), r.URL.String()
		_ = json.NewDecoder(r.Body).Decode(&got.body)
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, `{"id":"ab12","status":"queued"}`)
	}))
	defer wxp.Close()
	b := &backend{wxposter: wxp.URL, key: "k", page: "pages/index/index", templates: []string{"invite"}, client: wxp.Client()}
	srv := httptest.NewServer(b.routes())
	defer srv.Close()

	do := func(method, path, user, body string) *http.Response {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if user != "" {
			req.Header.Set("X-User", user)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := do("POST", "/api/poster", "u7", `{"template":"invite","data":{"nickname":"小明"}}`); r.StatusCode != http.StatusAccepted {
		t.Fatalf("POST = %d", r.StatusCode)
	}
	if got.auth != "Bearer k" || got.body["scene"] != "from:u7" || got.body["page"] != "pages/index/index" || got.path != "/v1/posters?wait=10" {
		t.Errorf("forwarded %+v", got)
	}
	if r := do("GET", "/api/poster/ab12?wait=99", "u7", ""); r.StatusCode != http.StatusAccepted || got.path != "/v1/posters/ab12?wait=10" {
		t.Errorf("poll = %d to %s", r.StatusCode, got.path)
	}
	for _, tc := range []struct {
		user, body string
		code       int
	}{
		{"", `{"template":"invite"}`, http.StatusUnauthorized},
		{"u7", `{"template":"secret"}`, http.StatusBadRequest},
	} {
		if r := do("POST", "/api/poster", tc.user, tc.body); r.StatusCode != tc.code {
			t.Errorf("%q %s = %d, want %d", tc.user, tc.body, r.StatusCode, tc.code)
		}
	}
}
