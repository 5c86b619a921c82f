// Command backend is a minimal backend for the share-poster mini-program
// component, in Go (standard library only). It holds the wxposter API key,
// which never goes to the phone, and decides what poster a user may ask for.
//
//	POST /api/poster          body {template, data} → the wxposter job, held until it ends (≤ 10 s)
//	GET  /api/poster/{id}?wait → the job, long-polled (wait ≤ 10 s)
//
// Run: WXPOSTER_URL=http://127.0.0.1:8080 WXPOSTER_API_KEY=... go run ./examples/backend/go
package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

func main() {
	b := &backend{
		wxposter:  strings.TrimRight(env("WXPOSTER_URL", "http://127.0.0.1:8080"), "/"),
		key:       os.Getenv("WXPOSTER_API_KEY"),
		page:      env("POSTER_PAGE", "pages/index/index"),
		templates: strings.Split(env("POSTER_TEMPLATES", "invite"), ","),
		client:    &http.Client{Timeout: 20 * time.Second},
	}
	addr := env("ADDR", "127.0.0.1:3000")
	log.Printf("listening on %s", addr)
	log.Fatal(http.ListenAndServe(addr, b.routes()))
}

func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

type backend struct {
	wxposter, key, page string
	templates           []string
	client              *http.Client
}

func (b *backend) routes() http.Handler {
	m := http.NewServeMux()
	m.HandleFunc("POST /api/poster", b.create)
	m.HandleFunc("GET /api/poster/{id}", b.poll)
	return m
}

var (
	userRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)
	jobRE  = regexp.MustCompile(`^[0-9a-f]{1,64}$`)
)

// userOf is who is asking. Replace it with your own session check (the
// session your wx.login flow issues); here a header stands in for it.
func userOf(r *http.Request) string {
	if u := r.Header.Get("X-User"); userRE.MatchString(u) {
		return u
	}
	return ""
}

func (b *backend) create(w http.ResponseWriter, r *http.Request) {
	user := userOf(r)
	if user == "" {
		reply(w, http.StatusUnauthorized, errBody("unauthorized", "please sign in", ""))
		return
	}
	var ask struct {
		Template string            `json:"template"`
		Data     map[string]string `json:"data"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&ask); err != nil {
		reply(w, http.StatusBadRequest, errBody("invalid_request", "body must be JSON", "body"))
		return
	}
	allowed := false
	for _, t := range b.templates {
		allowed = allowed || t == ask.Template
	}
	if !allowed {
		reply(w, http.StatusBadRequest, errBody("invalid_request", "unknown poster", "template"))
		return
	}
	// The page and the scene are ours to choose: the code opens b.page with
	// the inviting user in the scene.
	body, _ := json.Marshal(map[string]any{"template": ask.Template, "page": b.page, "scene": "from:" + user, "data": ask.Data})
	// ?wait: usually the finished poster comes back in this one request, so
	// the phone makes no second round trip to poll.
	b.forward(w, http.MethodPost, "/v1/posters?wait=10", body)
}

func (b *backend) poll(w http.ResponseWriter, r *http.Request) {
	if userOf(r) == "" {
		reply(w, http.StatusUnauthorized, errBody("unauthorized", "please sign in", ""))
		return
	}
	id := r.PathValue("id")
	if !jobRE.MatchString(id) {
		reply(w, http.StatusNotFound, errBody("not_found", "no such poster", "id"))
		return
	}
	wait, _ := strconv.Atoi(r.URL.Query().Get("wait"))
	wait = min(max(wait, 0), 10)
	b.forward(w, http.MethodGet, "/v1/posters/"+id+"?wait="+strconv.Itoa(wait), nil)
}

// forward calls wxposter with the API key and passes its answer on.
func (b *backend) forward(w http.ResponseWriter, method, path string, body []byte) {
	req, err := http.NewRequest(method, b.wxposter+path, bytes.NewReader(body))
	if err != nil {
		reply(w, http.StatusInternalServerError, errBody("internal", "bad request", ""))
		return
	}
	req.Header.Set("Authorization", "Bearer "+b.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.client.Do(req)
	if err != nil {
		reply(w, http.StatusBadGateway, errBody("unavailable", "the poster service could not be reached", ""))
		return
	}
	defer resp.Body.Close()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, io.LimitReader(resp.Body, 1<<20))
}

func errBody(code, msg, field string) map[string]any {
	return map[string]any{"error": map[string]string{"code": code, "message": msg, "field": field}}
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
