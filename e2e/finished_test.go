package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/wxposter/wxposter/producer"
	"github.com/wxposter/wxposter/storage"
	"github.com/wxposter/wxposter/tasks"
)

// countingStore is the real store, counting the producer's existence checks.
type countingStore struct {
	*storage.Store
	exists atomic.Int64
}

func (c *countingStore) Exists(ctx context.Context, key string) (bool, error) {
	c.exists.Add(1)
	return c.Store.Exists(ctx, key)
}

// TestFinishedPosters: a poster already made is answered from its record
// (no object-store round trip); a record lost with Redis falls back to the
// store and is recorded again; a deleted poster is never answered as made,
// and asking for it again makes it again.
func TestFinishedPosters(t *testing.T) {
	const key = "finished-test-key-0123456789"
	var counted *countingStore
	s := start(t, withAPIKeys(key), func(set *settings) {
		set.producerStore = func(st *storage.Store) producer.Objects {
			counted = &countingStore{Store: st}
			return counted
		}
	})
	body := map[string]any{"template": "default", "page": pageIndex, "scene": "fin:1",
		"data": map[string]string{"nickname": "小红", "title": "做好的海报直接返回"}}
	post := func(srv string) (int, job) {
		t.Helper()
		code, b := s.callAsTo(srv, key, http.MethodPost, "/v1/posters", body)
		var j job
		_ = json.Unmarshal(b, &j)
		return code, j
	}

	await := func(id string) job {
		t.Helper()
		for {
			code, b := s.callAs(key, http.MethodGet, "/v1/posters/"+id+"?wait=10", nil)
			var j job
			_ = json.Unmarshal(b, &j)
			if code != http.StatusOK {
				t.Fatalf("GET job = %d %s", code, b)
			}
			if j.Status == "succeeded" || j.Status == "failed" {
				return j
			}
		}
	}

	code, j := post(s.api.URL)
	if code != http.StatusAccepted {
		t.Fatalf("first POST = %d %+v", code, j)
	}
	done := await(j.ID)
	if done.Status != "succeeded" {
		t.Fatalf("job = %+v", done)
	}
	posterKey := tasks.PosterKey(j.ID, "jpg")
	recordKey := tasks.FinishedKey(j.ID)
	if v, _ := s.rdb.Get(ctxT(t), recordKey).Result(); v != done.URL {
		t.Fatalf("record after the upload = %q, want %s", v, done.URL)
	}
	t.Cleanup(func() { s.rdb.Del(context.Background(), recordKey) })

	// Hits: answered from the record, then from memory; storage never asked.
	counted.exists.Store(0)
	for range 20 {
		if code, hit := post(s.api.URL); code != http.StatusOK || hit.Status != "succeeded" || hit.URL != done.URL {
			t.Fatalf("hit = %d %+v, want 200 succeeded with %s", code, hit, done.URL)
		}
	}
	if n := counted.exists.Load(); n != 0 {
		t.Errorf("storage existence checks on hits = %d, want 0", n)
	}

	// The record lost with Redis: a producer that never saw the poster
	// asks the store once and records the answer again.
	s.rdb.Del(ctxT(t), recordKey)
	second := &countingStore{Store: s.store}
	api2 := producer.New(s.rdb, second, producer.WithApps(s.app), producer.WithQueue(s.queue),
		producer.WithAPIKeys(key), producer.WithLogger(s.logs.Logger()))
	t.Cleanup(func() { api2.Close() })
	srv2 := httptest.NewServer(api2)
	t.Cleanup(srv2.Close)
	for range 3 {
		if code, hit := post(srv2.URL); code != http.StatusOK || hit.URL != done.URL {
			t.Fatalf("hit without a record = %d %+v", code, hit)
		}
	}
	if n := second.exists.Load(); n != 1 {
		t.Errorf("storage existence checks without a record = %d, want 1 (then memory)", n)
	}
	if v, _ := s.rdb.Get(ctxT(t), recordKey).Result(); v != done.URL {
		t.Errorf("record after the fallback = %q, want the URL (learned again)", v)
	}

	// Deleting needs an API key even on an open API; here it has one.
	if code, b := s.callAs("", http.MethodDelete, "/v1/posters/"+j.ID, nil); code != http.StatusUnauthorized {
		t.Fatalf("DELETE without key = %d %s", code, b)
	}
	if code, b := s.callAs(key, http.MethodDelete, "/v1/posters/"+j.ID, nil); code != http.StatusOK {
		t.Fatalf("DELETE = %d %s", code, b)
	}
	if ok, err := s.store.Exists(ctxT(t), posterKey); err != nil || ok {
		t.Fatalf("object after DELETE: exists=%v err=%v", ok, err)
	}
	if resp, err := http.Get(done.URL); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Errorf("deleted poster still downloads")
		}
	}
	if code, _ := s.callAs(key, http.MethodGet, "/v1/posters/"+j.ID, nil); code != http.StatusNotFound {
		t.Errorf("GET deleted job = %d, want 404", code)
	}
	// Not served as made, by the producer that deleted it (memory dropped
	// at once) nor by the Redis record (a tombstone): the poster is made
	// again.
	code, again := post(s.api.URL)
	if code != http.StatusAccepted || again.Status != "queued" {
		t.Fatalf("POST after DELETE = %d %+v, want 202 queued", code, again)
	}
	if remade := await(again.ID); remade.Status != "succeeded" {
		t.Fatalf("remade = %+v", remade)
	}
	download(t, done.URL)
	if v, _ := s.rdb.Get(ctxT(t), recordKey).Result(); v != done.URL {
		t.Errorf("record after remaking = %q, want the URL", v)
	}
}

// TestCreateAndWait: POST /v1/posters?wait=N answers with the finished job
// in one request (the poster button's one round trip), a cache hit at once,
// and a bad wait with a 400 naming it.
func TestCreateAndWait(t *testing.T) {
	s := start(t)
	body := map[string]any{"template": "default", "page": pageIndex, "scene": "wait:1",
		"data": map[string]string{"nickname": "小刚", "title": "一次请求拿到海报"}}
	var j job
	code, b := s.call(http.MethodPost, "/v1/posters?wait=20", body)
	if err := json.Unmarshal(b, &j); err != nil || code != http.StatusOK || j.Status != "succeeded" || j.URL == "" {
		t.Fatalf("POST ?wait=20 = %d %s; want 200 succeeded with the URL", code, b)
	}
	resp, err := http.Get(j.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("GET %s = %d %s", j.URL, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// Made: the same request is a hit, answered without waiting.
	var again job
	code, b = s.call(http.MethodPost, "/v1/posters?wait=20", body)
	if err := json.Unmarshal(b, &again); err != nil || code != http.StatusOK || again.URL != j.URL {
		t.Fatalf("second POST ?wait = %d %s; want 200 with %s", code, b, j.URL)
	}
	for _, bad := range []string{"31", "-1", "x"} {
		code, b := s.call(http.MethodPost, "/v1/posters?wait="+bad, body)
		var e apiErr
		if err := json.Unmarshal(b, &e); err != nil || code != http.StatusBadRequest || e.Error.Field != "wait" {
			t.Errorf("POST ?wait=%s = %d %s; want 400 naming wait", bad, code, b)
		}
	}
}

// TestMadeIndexSkipsTheStore: with the index of made posters, a new
// poster is enqueued and made without any existence check in the store
// (the producer's "never made", the worker's first run); a record lost
// with Redis still falls back to the store, and so does every new poster
// while the index itself is lost, until it is built again.
func TestMadeIndexSkipsTheStore(t *testing.T) {
	var counted *countingStore
	s := start(t, func(set *settings) {
		set.madeIndex = 1 << 16
		set.producerStore = func(st *storage.Store) producer.Objects {
			counted = &countingStore{Store: st}
			return counted
		}
	})
	ctx := ctxT(t)
	if _, err := s.records.BuildIndex(ctx, s.store); err != nil {
		t.Fatal(err)
	}
	make := func(scene string, wantCode int) job {
		t.Helper()
		body := map[string]any{"template": "default", "page": pageIndex, "scene": scene,
			"data": map[string]string{"nickname": "小索", "title": "索引里没有就是没做过"}}
		code, b := s.call(http.MethodPost, "/v1/posters?wait=20", body)
		var j job
		if err := json.Unmarshal(b, &j); err != nil || code != wantCode || j.Status != "succeeded" {
			t.Fatalf("POST %s = %d %s; want %d succeeded", scene, code, b, wantCode)
		}
		return j
	}
	j := make("idx:1", http.StatusOK)
	if n := counted.exists.Load(); n != 0 {
		t.Fatalf("a new poster asked the store %d times whether it exists; want 0", n)
	}
	// A poll for a job nobody ever made is a 404 without asking the store.
	if code, b := s.call(http.MethodGet, "/v1/posters/"+strings.Repeat("ab", 16), nil); code != http.StatusNotFound || counted.exists.Load() != 0 {
		t.Fatalf("GET unknown job = %d %s after %d store checks; want 404 after 0", code, b, counted.exists.Load())
	}
	// The record lost with Redis: the index says "maybe", the store "yes".
	if err := s.rdb.Del(ctx, tasks.FinishedKey(j.ID)).Err(); err != nil {
		t.Fatal(err)
	}
	if again := make("idx:1", http.StatusOK); again.URL != j.URL || counted.exists.Load() != 1 {
		t.Fatalf("lost record: %+v after %d store checks; want %s after 1", again, counted.exists.Load(), j.URL)
	}
	// The index lost: new posters are checked in the store until it is
	// built again.
	if err := s.rdb.Del(ctx, s.records.IndexKey()).Err(); err != nil {
		t.Fatal(err)
	}
	make("idx:2", http.StatusOK)
	if n := counted.exists.Load(); n != 2 {
		t.Fatalf("store checks with the index lost: %d, want 2", n)
	}
	if n, err := s.records.BuildIndex(ctx, s.store); err != nil || n != 2 {
		t.Fatalf("rebuild listed %d posters (%v), want 2", n, err)
	}
	make("idx:3", http.StatusOK)
	if n := counted.exists.Load(); n != 2 {
		t.Fatalf("store checks after the rebuild: %d, want still 2", n)
	}
	if calls := s.sim.Total("/wxa/getwxacodeunlimit"); calls != 3 {
		t.Errorf("WeChat code calls: %d, want 3 (one per scene)", calls)
	}
}
