package batchclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const testKey = "test-key-0123456789abcdef"

// fakeAPI answers the batch routes as docs/batches.md specifies them.
type fakeAPI struct {
	mu       sync.Mutex
	got      map[string]any // the last POST /v1/batches body
	items    int
	idem     map[string]string
	waits    []string
	polls    atomic.Int32
	doneAt   int32 // the batch ends on this poll
	failures int   // 502s to answer before the next success
	calls    []string
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.calls = append(f.calls, r.Method+" "+r.URL.Path)
	if f.failures > 0 {
		f.failures--
		f.mu.Unlock()
		http.Error(w, "bad gateway", http.StatusBadGateway)
		return
	}
	f.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+testKey {
		writeJSON(w, 401, map[string]any{"error": map[string]string{"code": "unauthorized", "message": "missing or unknown API key (Authorization: Bearer <key>)"}})
		return
	}
	switch p := r.URL.Path; {
	case r.Method == "POST" && p == "/v1/batches":
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			writeJSON(w, 400, map[string]any{"error": map[string]string{"code": "invalid_request", "message": "body " + err.Error(), "field": "body"}})
			return
		}
		items, _ := body["items"].([]any)
		var bad []map[string]any
		for i, it := range items {
			m := it.(map[string]any)
			if m["scene"] == nil && m["params"] == nil {
				bad = append(bad, map[string]any{"index": i, "key": m["key"], "field": "scene", "message": "scene is required"})
			}
		}
		if len(bad) > 0 {
			writeJSON(w, 400, map[string]any{"error": map[string]any{"code": "invalid_request", "message": fmt.Sprintf("%d items are invalid", len(bad)), "items": bad}})
			return
		}
		f.mu.Lock()
		f.got, f.items = body, len(items)
		key, _ := body["idempotency_key"].(string)
		id, seen := f.idem[key]
		if !seen {
			id = fmt.Sprintf("b%d", len(f.idem)+1)
			if key != "" {
				f.idem[key] = id
			}
		}
		f.mu.Unlock()
		code := 202
		if seen {
			code = 200
		}
		writeJSON(w, code, map[string]any{"id": id, "status": "running", "total": len(items), "status_url": "/v1/batches/" + id})
	case r.Method == "GET" && p == "/v1/batches/b1":
		f.mu.Lock()
		f.waits = append(f.waits, r.URL.Query().Get("wait"))
		f.mu.Unlock()
		n := f.polls.Add(1)
		b := map[string]any{"id": "b1", "name": "spring", "status": "running", "total": 10, "created_at": "2026-11-26T12:00:00Z",
			"counts": map[string]int{"queued": 10 - int(n), "running": 0, "retrying": 0, "succeeded": int(n) - 1, "failed": 1, "cancelled": 0}, "eta_seconds": 12.5}
		if n >= f.doneAt {
			b["status"], b["finished_at"] = "completed", "2026-11-26T12:01:00Z"
			b["counts"] = map[string]int{"succeeded": 9, "failed": 1}
			delete(b, "eta_seconds")
		}
		writeJSON(w, 200, b)
	case r.Method == "GET" && p == "/v1/batches/b1/items":
		q := r.URL.Query()
		if q.Get("cursor") == "" {
			writeJSON(w, 200, map[string]any{"items": []map[string]any{{"key": "k1", "id": "j1", "status": "succeeded", "url": "http://s/p/j1.jpg"}}, "next_cursor": "c2"})
			return
		}
		writeJSON(w, 200, map[string]any{"items": []map[string]any{{"key": "k2", "id": "j2", "status": q.Get("status"),
			"error": map[string]any{"code": "wechat", "errcode": 41030, "message": "page not published"}}}})
	case r.Method == "GET" && p == "/v1/batches":
		writeJSON(w, 200, map[string]any{"batches": []map[string]any{{"id": "b2", "status": "running", "total": 1, "counts": map[string]int{"queued": 1}}}, "next_cursor": ""})
	case r.Method == "GET" && p == "/v1/batches/b1/manifest":
		if r.URL.Query().Get("format") == "ndjson" {
			io.WriteString(w, `{"key":"k1"}`+"\n")
			return
		}
		io.WriteString(w, "key,id,status,url,error_code,error_message\nk1,j1,succeeded,http://s/p/j1.jpg,,\n")
	case r.Method == "GET" && p == "/v1/batches/b1/archive":
		w.Header().Set("Content-Type", "application/zip")
		w.Write(bytes.Repeat([]byte("z"), 100_000))
	case r.Method == "POST" && (p == "/v1/batches/b1/cancel" || p == "/v1/batches/b1/retry"):
		writeJSON(w, 202, map[string]any{"id": "b1", "status": "running"})
	default:
		writeJSON(w, 404, map[string]any{"error": map[string]string{"code": "not_found", "message": "no such batch"}})
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func newFake(t *testing.T) (*fakeAPI, *Client) {
	t.Helper()
	f := &fakeAPI{idem: map[string]string{}, doneAt: 3}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c, err := New(srv.URL+"/", WithAPIKey(testKey), WithRetries(3, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return f, c
}

func TestCreateStreamsItems(t *testing.T) {
	f, c := newFake(t)
	items := []Item{
		{Key: "k1", Scene: "id:1", Data: map[string]string{"nickname": "小明 <b>"}},
		{Key: "k2", Params: map[string]string{"from": "u2"}, Page: "pages/a/a"},
	}
	req := CreateRequest{Name: "spring", Template: "invite", Page: "pages/index/index",
		Data: map[string]string{"title": "t"}, CallbackURL: "https://hooks.example.com/x"}
	cr, err := c.Create(context.Background(), req, Slice(items))
	if err != nil {
		t.Fatal(err)
	}
	if cr.ID != "b1" || cr.Total != 2 || cr.Status != "running" || cr.StatusURL != "/v1/batches/b1" || cr.Existing {
		t.Fatalf("created %+v", cr)
	}
	want := map[string]any{
		"name": "spring", "template": "invite", "page": "pages/index/index",
		"data": map[string]any{"title": "t"}, "callback_url": "https://hooks.example.com/x",
		"items": []any{
			map[string]any{"key": "k1", "scene": "id:1", "data": map[string]any{"nickname": "小明 <b>"}},
			map[string]any{"key": "k2", "params": map[string]any{"from": "u2"}, "page": "pages/a/a"},
		},
	}
	if !reflect.DeepEqual(f.got, want) {
		t.Fatalf("body\n got %v\nwant %v", f.got, want)
	}
}

func TestCreateEmptyHead(t *testing.T) {
	var b bytes.Buffer
	if err := writeBatch(&b, []byte("{}"), Slice([]Item{{Scene: "a"}})); err != nil {
		t.Fatal(err)
	}
	if got := strings.ReplaceAll(b.String(), "\n", ""); got != `{"items":[{"scene":"a"}]}` {
		t.Fatalf("%s", got)
	}
}

func TestCreateIdempotencyKey(t *testing.T) {
	f, c := newFake(t)
	req := CreateRequest{Template: "invite", IdempotencyKey: "campaign-7"}
	items := Slice([]Item{{Scene: "a"}})
	first, err := c.Create(context.Background(), req, items)
	if err != nil || first.Existing {
		t.Fatalf("%+v %v", first, err)
	}
	// A 502 on the way is retried, since the key makes it safe.
	f.failures = 1
	again, err := c.Create(context.Background(), req, items)
	if err != nil || !again.Existing || again.ID != first.ID {
		t.Fatalf("again %+v %v", again, err)
	}
}

func TestCreateWithoutKeyIsNotRepeated(t *testing.T) {
	f, c := newFake(t)
	f.failures = 1
	_, err := c.Create(context.Background(), CreateRequest{}, Slice([]Item{{Scene: "a"}}))
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 502 || len(f.calls) != 1 {
		t.Fatalf("err %v after %d calls", err, len(f.calls))
	}
}

func TestCreateBadItems(t *testing.T) {
	_, c := newFake(t)
	_, err := c.Create(context.Background(), CreateRequest{}, Slice([]Item{{Scene: "a"}, {Key: "k2"}, {Scene: "c"}, {}}))
	var ae *APIError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v", err)
	}
	want := []BadItem{{Index: 1, Key: "k2", Field: "scene", Message: "scene is required"}, {Index: 3, Field: "scene", Message: "scene is required"}}
	if ae.StatusCode != 400 || !ae.Invalid() || ae.Code != "invalid_request" || !reflect.DeepEqual(ae.Items, want) {
		t.Fatalf("%+v", ae)
	}
	if !strings.Contains(err.Error(), "400 2 items are invalid (bad items listed: 2)") {
		t.Fatalf("message %q", err)
	}
}

// An error from the items abandons the request and is what Create returns.
func TestCreateItemError(t *testing.T) {
	f, c := newFake(t)
	bad := errors.New("line 3: broken")
	var items iter.Seq2[Item, error] = func(yield func(Item, error) bool) {
		if yield(Item{Scene: "a"}, nil) {
			yield(Item{}, bad)
		}
	}
	_, err := c.Create(context.Background(), CreateRequest{}, items)
	if !errors.Is(err, bad) {
		t.Fatalf("err = %v, want the item error", err)
	}
	if f.got != nil {
		t.Fatalf("the API accepted a batch: %v", f.got)
	}
}

func TestGetWaits(t *testing.T) {
	f, c := newFake(t)
	ctx := context.Background()
	b, err := c.Get(ctx, "b1", 0)
	if err != nil {
		t.Fatal(err)
	}
	if b.Ended() || b.Name != "spring" || b.Total != 10 || b.Counts.Failed != 1 || b.Counts.Done() != 1 ||
		b.ETASeconds == nil || *b.ETASeconds != 12.5 || !b.CreatedAt.Equal(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)) {
		t.Fatalf("%+v", b)
	}
	if !json.Valid(b.Raw) || !bytes.Contains(b.Raw, []byte(`"eta_seconds":12.5`)) {
		t.Fatalf("raw %s", b.Raw)
	}
	if _, err := c.Get(ctx, "b1", 90*time.Second); err != nil { // capped at 30
		t.Fatal(err)
	}
	b, err = c.Get(ctx, "b1", 2500*time.Millisecond)
	if err != nil || !b.Ended() || b.Status != StatusCompleted || b.FinishedAt == nil || b.Counts.Done() != 10 {
		t.Fatalf("%+v %v", b, err)
	}
	if want := []string{"", "30", "3"}; !reflect.DeepEqual(f.waits, want) {
		t.Fatalf("wait params %q, want %q", f.waits, want)
	}
}

func TestGetRetriesPassingFailures(t *testing.T) {
	f, c := newFake(t)
	f.failures = 2
	if _, err := c.Get(context.Background(), "b1", 0); err != nil {
		t.Fatal(err)
	}
	f.failures = 4 // more than the 3 retries
	_, err := c.Get(context.Background(), "b1", 0)
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 502 || ae.Message != "bad gateway" {
		t.Fatalf("err = %v", err)
	}
}

func TestNotFoundAndAuth(t *testing.T) {
	_, c := newFake(t)
	_, err := c.Get(context.Background(), "nope", 0)
	var ae *APIError
	if !errors.As(err, &ae) || !ae.NotFound() || ae.Message != "no such batch" {
		t.Fatalf("err = %v", err)
	}
	anon, _ := New(c.base.String())
	_, err = anon.Get(context.Background(), "b1", 0)
	if !errors.As(err, &ae) || ae.StatusCode != 401 || ae.Code != "unauthorized" {
		t.Fatalf("err = %v", err)
	}
}

// The key travels in a header and never shows in an error.
func TestErrorsHoldNoKey(t *testing.T) {
	_, c := newFake(t)
	dead, _ := New("http://127.0.0.1:1", WithAPIKey(testKey), WithRetries(0, 0))
	for _, err := range []error{
		func() error { _, err := dead.Get(context.Background(), "b1", 0); return err }(),
		func() error { _, err := c.Get(context.Background(), "nope", 0); return err }(),
	} {
		if err == nil || strings.Contains(err.Error(), testKey) {
			t.Fatalf("err = %v", err)
		}
	}
}

func TestItemsPages(t *testing.T) {
	_, c := newFake(t)
	p, err := c.Items(context.Background(), "b1", "failed", "", 50)
	if err != nil || len(p.Items) != 1 || p.NextCursor != "c2" || p.Items[0].URL != "http://s/p/j1.jpg" {
		t.Fatalf("%+v %v", p, err)
	}
	p, err = c.Items(context.Background(), "b1", "failed", p.NextCursor, 50)
	if err != nil || p.NextCursor != "" || p.Items[0].Status != "failed" || p.Items[0].Error == nil ||
		p.Items[0].Error.Code != "wechat" || *p.Items[0].Error.Errcode != 41030 {
		t.Fatalf("%+v %v", p, err)
	}
}

func TestListManifestArchiveCancelRetry(t *testing.T) {
	f, c := newFake(t)
	ctx := context.Background()
	l, err := c.List(ctx, "", 0)
	if err != nil || len(l.Batches) != 1 || l.Batches[0].ID != "b2" {
		t.Fatalf("%+v %v", l, err)
	}
	var m bytes.Buffer
	if _, err := c.Manifest(ctx, "b1", "", &m); err != nil || !strings.HasPrefix(m.String(), "key,id,status,url,error_code,error_message\n") {
		t.Fatalf("%q %v", m.String(), err)
	}
	m.Reset()
	if _, err := c.Manifest(ctx, "b1", "ndjson", &m); err != nil || m.String() != `{"key":"k1"}`+"\n" {
		t.Fatalf("%q %v", m.String(), err)
	}
	var z bytes.Buffer
	if n, err := c.Archive(ctx, "b1", &z); err != nil || n != 100_000 || z.Len() != 100_000 {
		t.Fatalf("%d %v", n, err)
	}
	if err := c.Cancel(ctx, "b1"); err != nil {
		t.Fatal(err)
	}
	if err := c.Retry(ctx, "b1"); err != nil {
		t.Fatal(err)
	}
	if err := c.Cancel(ctx, "nope"); err == nil {
		t.Fatal("cancel of an unknown batch succeeded")
	}
	want := []string{"GET /v1/batches", "GET /v1/batches/b1/manifest", "GET /v1/batches/b1/manifest",
		"GET /v1/batches/b1/archive", "POST /v1/batches/b1/cancel", "POST /v1/batches/b1/retry", "POST /v1/batches/nope/cancel"}
	if !reflect.DeepEqual(f.calls, want) {
		t.Fatalf("calls %q", f.calls)
	}
}

func TestNewRejectsBadURL(t *testing.T) {
	for _, u := range []string{"", "127.0.0.1:8080", "ftp://x", "http://"} {
		if _, err := New(u); err == nil {
			t.Errorf("New(%q) succeeded", u)
		}
	}
}

func TestParseErrorNotJSON(t *testing.T) {
	e := parseError(404, []byte("404 page not found\n"))
	if e.Message != "404 page not found" || !e.NotFound() {
		t.Fatalf("%+v", e)
	}
	e = parseError(400, []byte(`{"error":{"code":"invalid_request","message":"bad"},"errors":[{"index":2,"field":"page","message":"m"}]}`))
	if len(e.Items) != 1 || e.Items[0].Index != 2 {
		t.Fatalf("%+v", e)
	}
}
