package producer

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wxposter/wxposter/internal/testenv"
	"github.com/wxposter/wxposter/scene"
	"github.com/wxposter/wxposter/tasks"
)

// deadStore is storage during an outage: every call fails.
type deadStore struct{}

var errDown = errors.New("storage: dial tcp 127.0.0.1:9: connection refused")

func (deadStore) Exists(context.Context, string) (bool, error) { return false, errDown }
func (deadStore) URL(key string) string                        { return "http://cdn.invalid/" + key }
func (deadStore) Ping(context.Context) error                   { return errDown }

// faultServer is a producer on the test Redis with storage down, its own
// queue and a named Redis client (to count its connections).
func faultServer(t *testing.T, opts ...Option) (*Server, *httptest.Server, *redis.Client) {
	t.Helper()
	opt, err := redis.ParseURL(testenv.RedisURL)
	if err != nil {
		t.Fatal(err)
	}
	opt.ClientName = "wxp-test-" + testenv.ID(6)
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	s := testServer(t, rdb, deadStore{}, opts...)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts, rdb
}

func do(t *testing.T, method, url, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// issue 9: with storage down every POST /v1/posters was refused (503) and
// /readyz failed. Enqueueing is safe (the job id dedupes), so it fails open.
func TestStorageDownStillAcceptsPosters(t *testing.T) {
	_, ts, _ := faultServer(t)
	code, body := do(t, "POST", ts.URL+"/v1/posters", `{"page":"pages/index/index","scene":"down"}`)
	if code != http.StatusAccepted || body["status"] != "queued" {
		t.Fatalf("POST while storage is down: %d %v; want 202 queued", code, body)
	}
	code, body = do(t, "GET", ts.URL+"/readyz", "")
	if code != http.StatusOK || body["ready"] != true || len(body["degraded"].([]any)) != 1 {
		t.Fatalf("readyz while storage is down: %d %v; want 200, ready, minio degraded", code, body)
	}
}

// issue 9: a 400-rejected poster request stored its scene params forever.
func TestRejectedRequestStoresNoSceneParams(t *testing.T) {
	s, ts, rdb := faultServer(t)
	params := map[string]string{"campaign": strings.Repeat("spring", 8), "uid": testenv.ID(8)}
	sc, err := s.scenes.Peek(params)
	if err != nil || !scene.IsRef(sc) {
		t.Fatalf("scene %q, %v; want a reference (params too long to inline)", sc, err)
	}
	b, _ := json.Marshal(map[string]any{"page": "pages/index/index", "params": params, "width": 99999})
	if code, body := do(t, "POST", ts.URL+"/v1/posters", string(b)); code != http.StatusBadRequest {
		t.Fatalf("%d %v; want 400 for the width", code, body)
	}
	if _, err := s.scenes.Resolve(context.Background(), sc); !errors.Is(err, scene.ErrNotFound) {
		t.Fatalf("Resolve(%s) = %v: the params of a rejected request were stored", sc, err)
	}
	// A valid request stores them.
	b, _ = json.Marshal(map[string]any{"page": "pages/index/index", "params": params})
	if code, body := do(t, "POST", ts.URL+"/v1/posters", string(b)); code != http.StatusAccepted {
		t.Fatalf("%d %v", code, body)
	}
	if got, err := s.scenes.Resolve(context.Background(), sc); err != nil || got["uid"] != params["uid"] {
		t.Fatalf("Resolve after a valid request: %v %v", got, err)
	}
	rdb.Del(context.Background(), "wxposter:scene:"+strings.TrimPrefix(sc, scene.RefPrefix))
}

// issue 9: after a Redis blip a finished job stayed "running" until asynq
// recovered it; the worker's finished record answers for it.
func TestFinishedRecordWinsOverStaleState(t *testing.T) {
	_, ts, rdb := faultServer(t)
	_, body := do(t, "POST", ts.URL+"/v1/posters", `{"page":"pages/index/index","scene":"fin"}`)
	id := body["id"].(string)
	// A record of another store (deployment, replaced bucket) is ignored.
	rdb.Set(context.Background(), tasks.FinishedKey(id), "http://elsewhere.invalid/posters/"+id+".jpg", time.Minute)
	if _, body := do(t, "GET", ts.URL+"/v1/posters/"+id, ""); body["status"] != "queued" {
		t.Fatalf("%v; want a foreign record ignored", body)
	}
	rdb.Set(context.Background(), tasks.FinishedKey(id), "http://cdn.invalid/posters/"+id+".jpg", time.Minute)
	defer rdb.Del(context.Background(), tasks.FinishedKey(id))
	code, body := do(t, "GET", ts.URL+"/v1/posters/"+id, "")
	if code != http.StatusOK || body["status"] != "succeeded" || body["url"] == nil {
		t.Fatalf("%d %v; want succeeded with the recorded URL", code, body)
	}
}

// issue 9: each ?wait opened its own pub/sub connection (2,000 waiters =
// 2,020 Redis clients), and SIGTERM left every waiter unanswered.
func TestWaitersShareOneSubscriptionAndDrain(t *testing.T) {
	s, ts, rdb := faultServer(t)
	const n = 40
	ids := make([]string, n)
	for i := range ids {
		_, body := do(t, "POST", ts.URL+"/v1/posters", `{"page":"pages/index/index","scene":"w`+testenv.ID(3)+`"}`)
		ids[i] = body["id"].(string)
	}
	type answer struct {
		code   int
		status any
	}
	answers := make([]answer, n)
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, body := do(t, "GET", ts.URL+"/v1/posters/"+id+"?wait=30", "")
			answers[i] = answer{code, body["status"]}
		}()
	}
	// Wait until every poll is registered.
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		s.hub.mu.Lock()
		waiting := len(s.hub.m)
		s.hub.mu.Unlock()
		if waiting == n {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("%d of %d polls waiting", waiting, n)
		}
	}
	list, err := rdb.ClientList(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	subscribers := 0
	name := rdb.Options().ClientName
	for _, line := range strings.Split(list, "\n") {
		if strings.Contains(line, "name="+name+" ") && !strings.Contains(line, " psub=0 ") {
			subscribers++
		}
	}
	if subscribers != 1 || s.hub.subs != 1 {
		t.Fatalf("%d subscribed Redis connections (%d subscriptions) for %d waiters; want 1", subscribers, s.hub.subs, n)
	}

	// One job ends: its waiter wakes through the shared subscription.
	rdb.Set(context.Background(), tasks.FinishedKey(ids[0]), "http://cdn.invalid/posters/"+ids[0]+".jpg", time.Minute)
	defer rdb.Del(context.Background(), tasks.FinishedKey(ids[0]))
	rdb.Publish(context.Background(), tasks.DoneChannel(ids[0]), "http://cdn.invalid/x.jpg")

	// Shutdown: every other poll answers now, with the current status.
	s.Drain()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("long polls were not answered on Drain")
	}
	for i, a := range answers {
		want := "queued"
		if i == 0 {
			want = "succeeded"
		}
		if a.code != http.StatusOK || a.status != want {
			t.Errorf("poll %d: %d %v; want 200 %s", i, a.code, a.status, want)
		}
	}
	if code, _ := do(t, "GET", ts.URL+"/readyz", ""); code != http.StatusServiceUnavailable {
		t.Errorf("readyz while draining: %d, want 503", code)
	}
}
